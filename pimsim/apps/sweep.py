"""A workload's sweep over its sizes: every point done in DRAM (one or more ways) and by the
CPU, the stats document and its text table.

A point is one setting of the workload's parameters (``{"users": 8388608, "weeks": 2}``).
Every point is checked to fit the memory before any is run (a WorkloadError, one line);
Ctrl-C during the sweep keeps the points finished so far and marks the document
``interrupted``. Speedup and energy reduction of a way are the CPU's time and energy above
idle over the way's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pimsim.compare import CompareError, SideResult, hmean
from pimsim.config import Config
from pimsim.results.energy import get_profile

logger = logging.getLogger("pimsim")


class WorkloadError(CompareError):
    """A workload cannot be set up (a size that does not fit, a bad parameter): exit 2."""


#: A point's parameters, by name.
Point = dict[str, int]


@dataclass(frozen=True)
class Workload:
    """One workload: its in-DRAM ways and CPU baseline, and how to check and run a point.

    ``check(config, banks, point)`` raises WorkloadError if the point does not fit;
    ``run(config, banks, profile, point, with_data)`` returns each way's SideResult by
    name (the in-DRAM ways and ``baseline``), whether the results equal their numpy twin
    (``correct``: None without data) and what else the point found (``result``).
    ``about``: what the sweep runs on, a line under the table's title (none if empty)."""

    name: str
    summary: str
    ways: tuple[str, ...]
    baseline: str
    on_cpu: dict[str, str]  # per way (and the baseline): what the CPU does, and why
    check: Callable[[Config, int | None, Point], None]
    run: Callable[[Config, int | None, str, Point, bool], dict]
    about: str = ""


def side_dict(side: SideResult) -> dict:
    """A way's entry: time (ns), energy above idle (nJ) and its breakdown, commands."""
    return {
        "time_ns": round(side.time_ns, 3),
        "energy_nj": round(side.energy["above_idle"], 3),
        "commands": side.commands,
        "rows_raised": side.rows_raised,
        "energy_breakdown_nj": {k: round(v, 3) for k, v in side.energy.items()},
    }


def sweep(
    workload: Workload,
    config: Config,
    points: Sequence[Point],
    banks: int | None = None,
    profile: str = "datasheet",
    with_data: bool = True,
    on_point: Callable[[Point], None] | None = None,
) -> dict:
    """Run every point (all checked first); the workload's document. ``on_point`` is called
    with each point when it is done."""
    get_profile(profile)
    per_rank = config.organisation.banks_per_rank
    if banks is not None and not 1 <= banks <= per_rank:
        raise WorkloadError(f"--banks: {config.name} has 1..{per_rank} banks per rank, not {banks}")
    for point in points:
        workload.check(config, banks, point)
    doc: dict = {
        "workload": workload.name,
        "config": config.name,
        "overrides": dict(config.overrides),
        "energy_profile": profile,
        "energy_accounting": "above_idle",
        "banks_per_rank": banks or per_rank,
        "ranks": config.organisation.ranks,
        "data_simulated": with_data,
        "baseline": workload.baseline,
        "on_cpu": dict(workload.on_cpu),
        **({"about": workload.about} if workload.about else {}),
        "points": [],
    }
    try:
        for point in points:
            logger.info("%s: running %s", workload.name, point)
            doc["points"].append(_entry(workload, config, banks, profile, point, with_data))
            if on_point:
                on_point(point)
    except KeyboardInterrupt:
        doc["interrupted"] = True
    doc["summary"] = _summary(workload, doc["points"])
    return doc


def _entry(
    workload: Workload,
    config: Config,
    banks: int | None,
    profile: str,
    point: Point,
    with_data: bool,
) -> dict:
    found = workload.run(config, banks, profile, point, with_data)
    sides: dict[str, SideResult] = found["ways"]
    cpu = sides[workload.baseline]
    return {
        "params": dict(point),
        "ways": {name: side_dict(side) for name, side in sides.items()},
        "speedup": {w: round(cpu.time_ns / sides[w].time_ns, 4) for w in workload.ways},
        "energy_reduction": {
            w: round(cpu.energy["above_idle"] / sides[w].energy["above_idle"], 4)
            for w in workload.ways
        },
        "correct": found["correct"],
        **found.get("result", {}),
    }


def _summary(workload: Workload, points: list[dict]) -> dict:
    """Harmonic means over the points of each way's speedup and energy reduction."""
    correct = [p["correct"] for p in points]
    return {
        "speedup_hmean": {
            w: round(hmean([p["speedup"][w] for p in points]), 4) for w in workload.ways
        },
        "energy_reduction_hmean": {
            w: round(hmean([p["energy_reduction"][w] for p in points]), 4) for w in workload.ways
        },
        "all_correct": None if None in correct else all(correct),
    }


def format_table(doc: dict) -> str:
    """The sweep as an aligned text table (one line per point and in-DRAM way), then what
    stayed on the CPU in each way and why."""
    head = ["point", "way", "in-DRAM ns", "CPU ns", "in-DRAM nJ", "CPU nJ", "speedup", "energy",
            "correct"]  # fmt: skip
    rows = []
    base = doc["baseline"]
    for p in doc["points"]:
        label = point_label(p["params"])
        for way, speedup in p["speedup"].items():
            mine, cpu = p["ways"][way], p["ways"][base]
            rows.append([
                label, way,
                f"{mine['time_ns']:,.0f}", f"{cpu['time_ns']:,.0f}",
                f"{mine['energy_nj']:,.0f}", f"{cpu['energy_nj']:,.0f}",
                f"{speedup:.2f}x", f"{p['energy_reduction'][way]:.2f}x",
                "-" if p["correct"] is None else "yes" if p["correct"] else "NO",
            ])  # fmt: skip
    summary = doc["summary"]
    for way, speedup in summary["speedup_hmean"].items():
        energy = summary["energy_reduction_hmean"][way]
        rows.append(["hmean", way, "", "", "", "", f"{speedup:.2f}x", f"{energy:.2f}x", ""])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        left = [c.ljust(w) for c, w in zip(cells[:2], widths[:2], strict=True)]
        right = [c.rjust(w) for c, w in zip(cells[2:], widths[2:], strict=True)]
        return "  ".join(left + right).rstrip()

    overrides = "".join(f" {k}={v}" for k, v in doc.get("overrides", {}).items())
    title = (
        f"{doc['workload']} on {doc['config']}{overrides}, in-DRAM on "
        f"{doc['banks_per_rank']} bank(s) x {doc['ranks']} rank(s); CPU = {base}; energy "
        f"profile {doc['energy_profile']} (nJ above idle)"
    )
    if doc.get("interrupted"):
        title += " [interrupted]"
    notes = [f"  {way}: {why}" for way, why in doc["on_cpu"].items()]
    about = [doc["about"]] if doc.get("about") else []
    return "\n".join([title, *about, line(head), *(line(r) for r in rows), "on the CPU:", *notes])


def point_label(params: Point) -> str:
    """A point's parameters as ``users=8M weeks=2``."""
    return " ".join(f"{k}={count_text(v)}" for k, v in params.items())


def count_text(value: int) -> str:
    """A count in binary multiples when it is one (8M = 8 * 2**20)."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if value >= scale and value % scale == 0:
            return f"{value // scale}{unit}"
    return str(value)
