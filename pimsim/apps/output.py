"""A workload sweep's CSV rows and its log-scale speedup and energy-reduction figure."""

from __future__ import annotations

import csv
from pathlib import Path

from pimsim.apps.sweep import point_label
from pimsim.outputs import atomic_open
from pimsim.results.report import plot_format, save_figure


def write_csv(doc: dict, path: str | Path) -> None:
    """One row per point and in-DRAM way (its params, both sides' time in ns and energy
    above idle in nJ, speedup, energy reduction, correct), written whole or not at all."""
    params = list(doc["points"][0]["params"]) if doc["points"] else []
    base = doc["baseline"]
    with atomic_open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*params, "way", "pim_time_ns", "cpu_time_ns", "pim_energy_nj",
                      "cpu_energy_nj", "speedup", "energy_reduction", "correct"])  # fmt: skip
        for p in doc["points"]:
            cpu = p["ways"][base]
            for way, speedup in p["speedup"].items():
                mine = p["ways"][way]
                out.writerow([*p["params"].values(), way, mine["time_ns"], cpu["time_ns"],
                              mine["energy_nj"], cpu["energy_nj"], speedup,
                              p["energy_reduction"][way], p["correct"]])  # fmt: skip


def plot(doc: dict, path: str | Path) -> None:
    """Speedup and energy reduction of each in-DRAM way over the sweep's points, log scale,
    in the image format of ``path``'s extension (written whole or not at all)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    fmt = plot_format(path)
    labels = [point_label(p["params"]) for p in doc["points"]]
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 0.9 * len(labels) + 4), 4.5))
    for ax, key, name in zip(axes, ("speedup", "energy_reduction"), ("speedup", "energy reduction"),
                             strict=True):  # fmt: skip
        for way in doc["points"][0][key] if doc["points"] else ():
            ax.plot(labels, [p[key][way] for p in doc["points"]], marker="o", label=way)
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_ylabel(f"{name} over the CPU (x)")
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.grid(which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{doc['workload']}, {doc['config']}, energy profile {doc['energy_profile']}")
    save_figure(fig, path, fmt)
