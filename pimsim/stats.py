"""The stats document: one schema for every run (see DESIGN.md, "Contracts").

Keys carry their units: ``cycles`` (memory cycles), ``time_ns``, ``latency_ns``,
``bandwidth_gbps`` (GB/s = 1e9 bytes per second, of data moved over the channels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.config import Config
from pimsim.standards import COMMANDS


def latency_summary(histogram: np.ndarray, tck_ns: float) -> dict:
    """Mean, median, 99th percentile and maximum, in ns, of a latency histogram.

    ``histogram[c]`` counts reads that took ``c`` cycles; percentiles are exact (the
    smallest latency whose cumulative count reaches the fraction), no interpolation.
    """
    counts = np.asarray(histogram, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return {"mean": 0.0, "p50": 0.0, "p99": 0.0, "max": 0.0}
    cycles = np.arange(len(counts))
    cumulative = np.cumsum(counts)

    def pick(fraction: float) -> float:
        return float(np.searchsorted(cumulative, fraction * total)) * tck_ns

    return {
        "mean": round(float((cycles * counts).sum()) / total * tck_ns, 3),
        "p50": round(pick(0.5), 3),
        "p99": round(pick(0.99), 3),
        "max": round(float(cycles[counts > 0][-1]) * tck_ns, 3),
    }


def _merge_histograms(histograms: Sequence[np.ndarray]) -> np.ndarray:
    out = np.zeros(max((len(h) for h in histograms), default=0), dtype=np.int64)
    for h in histograms:
        out[: len(h)] += h
    return out


def _section(counts: np.ndarray, chans: Sequence[dict], cycles: int, config: Config) -> dict:
    """The per-run keys, summed over the channels given (engine channel_stats dicts)."""

    def total(key: str) -> int:
        return int(sum(c[key] for c in chans))

    time_ns = cycles * config.tCK_ns
    moved = (total("reads") + total("writes")) * config.organisation.burst_bytes
    commands = {name: int(counts[..., code].sum()) for code, name in enumerate(COMMANDS)}
    return {
        "requests": {
            "reads": total("reads"),
            "writes": total("writes"),
            "forwarded_reads": total("forwarded_reads"),
        },
        "commands": commands,
        "rows_raised": commands["ACT"],
        "row_buffer": {
            "hits": total("row_hits"),
            "misses": total("row_misses"),
            "conflicts": total("row_conflicts"),
        },
        "latency_ns": latency_summary(
            _merge_histograms([c["latency_histogram"] for c in chans]), config.tCK_ns
        ),
        "bandwidth_gbps": round(moved / time_ns, 4) if time_ns else 0.0,
    }


def build_stats(
    config: Config,
    counts_per_channel: np.ndarray,
    channel_stats: Sequence[dict],
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
