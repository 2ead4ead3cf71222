"""The stats document: one schema for every run (see DESIGN.md, "Contracts").

Keys carry their units: ``cycles`` (memory cycles), ``time_ns``, ``latency_ns``,
``bandwidth_gbps`` (GB/s = 1e9 bytes per second, of data moved over the channels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.config import Config
from pimsim.controller import ChannelStats
from pimsim.standards import COMMANDS


def latency_summary(latencies_cycles: Sequence[int] | np.ndarray, tck_ns: float) -> dict:
    """Mean, median, 99th percentile and maximum of read latencies, in ns."""
    lat = np.asarray(latencies_cycles, dtype=np.float64) * tck_ns
    if lat.size == 0:
        return {"mean": 0.0, "p50": 0.0, "p99": 0.0, "max": 0.0}
    return {
        "mean": round(float(lat.mean()), 3),
        "p50": round(float(np.percentile(lat, 50)), 3),
        "p99": round(float(np.percentile(lat, 99)), 3),
        "max": round(float(lat.max()), 3),
    }


def _section(
    counts: np.ndarray, stats: Sequence[ChannelStats], cycles: int, config: Config
) -> dict:
    """The per-run keys, summed over the channels given."""
    tck = config.tCK_ns
    reads = sum(s.reads for s in stats)
    writes = sum(s.writes for s in stats)
    time_ns = cycles * tck
    moved = (reads + writes) * config.organisation.burst_bytes
    commands = {name: int(counts[..., code].sum()) for code, name in enumerate(COMMANDS)}
    return {
        "requests": {
            "reads": reads,
            "writes": writes,
            "forwarded_reads": sum(s.forwarded_reads for s in stats),
        },
        "commands": commands,
        "rows_raised": commands["ACT"],
        "row_buffer": {
            "hits": sum(s.row_hits for s in stats),
            "misses": sum(s.row_misses for s in stats),
            "conflicts": sum(s.row_conflicts for s in stats),
        },
        "latency_ns": latency_summary(
            np.concatenate([np.asarray(s.read_latencies, dtype=np.int64) for s in stats])
            if stats
            else [],
            tck,
        ),
        "bandwidth_gbps": round(moved / time_ns, 4) if time_ns else 0.0,
    }


def build_stats(
    config: Config,
    counts_per_channel: np.ndarray,
    channel_stats: Sequence[ChannelStats],
    cycles: int,
    **extra,
) -> dict:
    """The stats document of a run; ``extra`` keys (trace, interrupted, ...) go on top."""
    doc = {
        "config": {"name": config.name, "differences": config.differences()},
        **extra,
        "cycles": cycles,
        "time_ns": round(cycles * config.tCK_ns, 3),
        **_section(counts_per_channel, channel_stats, cycles, config),
    }
    doc["channels"] = [
        {"channel": ch, **_section(counts_per_channel[ch], [s], cycles, config)}
        for ch, s in enumerate(channel_stats)
    ]
    return doc


def format_summary(doc: dict) -> str:
    """A readable summary of a stats document (what `pimsim run` prints)."""
    req, rb, lat, cmd = doc["requests"], doc["row_buffer"], doc["latency_ns"], doc["commands"]
    lines = [
        f"config      {doc['config']['name']}"
        + "".join(f" {k}={v}" for k, v in doc["config"]["differences"].items()),
        f"cycles      {doc['cycles']:,} ({doc['time_ns']:,.1f} ns)"
        + ("  [interrupted]" if doc.get("interrupted") else ""),
        f"requests    {req['reads']:,} reads, {req['writes']:,} writes"
        f" ({req['forwarded_reads']:,} reads served from the write queue)",
        f"bandwidth   {doc['bandwidth_gbps']:.2f} GB/s",
        f"latency     mean {lat['mean']:.1f} ns, p50 {lat['p50']:.1f}, p99 {lat['p99']:.1f},"
        f" max {lat['max']:.1f}",
        f"row buffer  {rb['hits']:,} hits, {rb['misses']:,} misses, {rb['conflicts']:,} conflicts",
        "commands    " + ", ".join(f"{k} {v:,}" for k, v in cmd.items() if v),
        f"activations {doc['rows_raised']:,} rows raised",
    ]
    return "\n".join(lines)
