"""The outputs of ``pimsim compare``: a text table, CSV rows and a log-scale plot."""

from __future__ import annotations

import csv
from pathlib import Path

from pimsim.errors import cut
from pimsim.outputs import atomic_open

#: CSV columns: (header, path into an op's entry).
_CSV_COLUMNS = (
    ("op", ()),
    ("pim_time_ns", ("pim", "time_ns")),
    ("cpu_time_ns", ("cpu", "time_ns")),
    ("pim_throughput_gbps", ("pim", "throughput_gbps")),
    ("cpu_throughput_gbps", ("cpu", "throughput_gbps")),
    ("pim_energy_nj", ("pim", "energy_nj")),
    ("cpu_energy_nj", ("cpu", "energy_nj")),
    ("pim_energy_nj_per_kb", ("pim", "energy_nj_per_kb")),
    ("cpu_energy_nj_per_kb", ("cpu", "energy_nj_per_kb")),
    ("pim_elements_per_second", ("pim", "elements_per_second")),
    ("cpu_elements_per_second", ("cpu", "elements_per_second")),
    ("pim_energy_pj_per_element", ("pim", "energy_pj_per_element")),
    ("cpu_energy_pj_per_element", ("cpu", "energy_pj_per_element")),
    ("speedup", ("speedup",)),
    ("energy_reduction", ("energy_reduction",)),
    ("correct", ("correct",)),
)


def _size_text(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} B"


def format_table(doc: dict) -> str:
    """The comparison as an aligned text table with harmonic means."""
    measured = any("host_measured" in e for e in doc["ops"].values())
    head = [
        "op",
        "in-DRAM ns",
        "CPU ns",
        "in-DRAM GB/s",
        "CPU GB/s",
        "in-DRAM nJ/KB",
        "CPU nJ/KB",
        "in-DRAM Gelem/s",
        "CPU Gelem/s",
        "in-DRAM pJ/elem",
        "CPU pJ/elem",
        "speedup",
        "energy",
        "correct",
    ] + (["numpy here GB/s"] if measured else [])
    rows = []
    for op, e in doc["ops"].items():
        pim, cpu = e["pim"], e["cpu"]
        row = [
            op,
            f"{pim['time_ns']:,.1f}",
            f"{cpu['time_ns']:,.1f}",
            f"{pim['throughput_gbps']:.2f}",
            f"{cpu['throughput_gbps']:.2f}",
            f"{pim['energy_nj_per_kb']:.2f}",
            f"{cpu['energy_nj_per_kb']:.2f}",
            f"{pim['elements_per_second'] / 1e9:,.2f}",
            f"{cpu['elements_per_second'] / 1e9:,.2f}",
            f"{pim['energy_pj_per_element']:,.3f}",
            f"{cpu['energy_pj_per_element']:,.3f}",
            f"{e['speedup']:.1f}x",
            f"{e['energy_reduction']:.1f}x",
            "-" if e["correct"] is None else "yes" if e["correct"] else "NO",
        ]
        if measured:
            host = e.get("host_measured")  # none for a library operation of a width
            row.append(f"{host['throughput_gbps']:.2f}" if host else "-")
        rows.append(row)
    summary = doc["summary"]
    rows.append(
        ["hmean", *[""] * 10]
        + [f"{summary['speedup_hmean']:.1f}x", f"{summary['energy_reduction_hmean']:.1f}x", ""]
        + ([""] if measured else [])
    )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join(
            [first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]
        ).rstrip()

    banks = f"{doc['banks_per_rank']} bank(s) x {doc['ranks']} rank(s)"
    overrides = "".join(f" {k}={v}" for k, v in doc.get("overrides", {}).items())
    profile = f"energy profile {doc['energy_profile']} (nJ above idle)"
    if "trace" in doc:
        title = (
            f"{doc['config']}{overrides}: {doc['trace']} replayed with its bulk operations "
            f"({_size_text(doc['size_bytes'])} of results) in DRAM, then on the CPU; {profile}"
        )
    else:
        title = (
            f"{doc['config']}{overrides}: {_size_text(doc['size_bytes'])} of result per op "
            f"(per n-bit operand for a library op, e.g. add32), in-DRAM on {banks}; {profile}"
        )
    if doc.get("interrupted"):
        title += " [interrupted]"
    partial = [
        f"{side} replay{' until interrupted' if p['interrupted'] else ''}: "
        f"{p['time_ns']:,.1f} ns, {p['energy_nj']:,.1f} nJ above idle"
        for side, p in doc.get("partial", {}).items()
    ]
    return "\n".join([title, line(head), *(line(r) for r in rows), *partial])


def write_csv(doc: dict, path: str | Path) -> None:
    """One CSV row per operation (header first), written whole or not at all."""
    with atomic_open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([name for name, _ in _CSV_COLUMNS])
        for op, entry in doc["ops"].items():
            row = []
            for name, keys in _CSV_COLUMNS:
                value = entry
                for k in keys:
                    value = value[k]
                row.append(op if name == "op" else value)
            out.writerow(row)


def plot_formats() -> dict[str, str]:
    """Image formats :func:`plot` writes, by file extension (matplotlib's list)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return FigureCanvasBase.get_supported_filetypes()


def plot_format(path: str | Path) -> str:
    """The image format of ``path`` from its extension; ValueError naming the known ones."""
    fmt = Path(path).suffix[1:].lower()
    formats = plot_formats()
    if fmt not in formats:
        known = ", ".join(sorted(formats))
        raise ValueError(f"{cut(str(path))}: the extension must name an image format ({known})")
    return fmt


def plot(doc: dict, path: str | Path) -> None:
    """Per-op throughput (GB/s) and energy (nJ/KB) of both ways, side by side, log scale,
    in the image format of ``path``'s extension (written whole or not at all)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt
    import numpy as np

    fmt = plot_format(path)
    ops = list(doc["ops"])
    x = np.arange(len(ops))
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(ops) + 4), 4))
    panels = (
        (left, "throughput_gbps", "throughput (GB/s of result)"),
        (right, "energy_nj_per_kb", "energy (nJ per KB of result)"),
    )
    for ax, key, label in panels:
        for k, (side, name) in enumerate((("pim", "in-DRAM"), ("cpu", "CPU"))):
            values = [doc["ops"][op][side][key] for op in ops]
            ax.bar(x + (k - 0.5) * 0.4, values, 0.4, label=name)
        ax.set_yscale("log")
        ax.set_xticks(x, ops)
        ax.set_ylabel(label)
        ax.grid(axis="y", which="both", alpha=0.3)
    left.legend()
    fig.suptitle(
        f"{doc['config']}, {_size_text(doc['size_bytes'])} per op, "
        f"energy profile {doc['energy_profile']}"
    )
    save_figure(fig, path, fmt)


def save_figure(fig, path: str | Path, fmt: str) -> None:
    """Lay out ``fig`` and write it atomically to ``path`` in format ``fmt``, then close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=120)
    finally:
        plt.close(fig)
