"""The stats document: one schema for every run (see DESIGN.md, "Contracts").

Keys carry their units: ``cycles`` (memory cycles), ``time_ns``, ``latency_ns``,
``bandwidth_gbps`` (GB/s = 1e9 bytes per second, of data moved over the channels). The
document is a pure function of the run's counters snapshot (pimsim.results.counters), the
controllers' per-channel stats and the config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pimsim.clock import Clock
from pimsim.config import Config
from pimsim.results.counters import Counters
from pimsim.results.energy import BREAKDOWN


@dataclass(frozen=True)
class Latencies:
    """Read latencies in cycles, in memory that does not grow with them: ``exact[c]`` counts
    reads that took ``c`` cycles; longer ones are counted per log-spaced bucket (the
    engine's: each at most 1/64 of its lower edge wide), ``tail_count[i]`` reads of at most
    ``tail_high[i]`` cycles (ascending, every edge past the exact range). ``maximum`` and
    ``total`` (the sum, cycles) are exact."""

    exact: np.ndarray
    tail_high: np.ndarray
    tail_count: np.ndarray
    maximum: int
    total: float

    @classmethod
    def of_histogram(cls, histogram: np.ndarray) -> Latencies:
        """Latencies all counted exactly: ``histogram[c]`` reads took ``c`` cycles."""
        counts = np.asarray(histogram, dtype=np.int64)
        used = np.nonzero(counts)[0]
        return cls(
            exact=counts,
            tail_high=np.zeros(0, dtype=np.int64),
            tail_count=np.zeros(0, dtype=np.int64),
            maximum=int(used[-1]) if len(used) else 0,
            total=float((np.arange(len(counts)) * counts).sum()),
        )

    @classmethod
    def merge(cls, parts: Sequence[Latencies]) -> Latencies:
        """The latencies of several channels together."""
        exact = np.zeros(max((len(p.exact) for p in parts), default=0), dtype=np.int64)
        for p in parts:
            exact[: len(p.exact)] += p.exact
        high = np.concatenate([np.zeros(0, dtype=np.int64), *(p.tail_high for p in parts)])
        count = np.concatenate([np.zeros(0, dtype=np.int64), *(p.tail_count for p in parts)])
        edges, where = np.unique(high, return_inverse=True)
        merged = np.zeros(len(edges), dtype=np.int64)
        np.add.at(merged, where, count)
        return cls(
            exact=exact,
            tail_high=edges,
            tail_count=merged,
            maximum=max((p.maximum for p in parts), default=0),
            total=float(sum(p.total for p in parts)),
        )

    def summary(self, clock: Clock) -> dict:
        """Mean, median, 99th percentile and maximum, in ns.

        A percentile is the smallest latency whose cumulative count reaches the fraction
        (no interpolation): exact within the exact range; one that falls in a bucket is the
        bucket's upper edge, capped at the maximum (at most 1/64 above the true value).
        """
        used = np.nonzero(self.exact)[0]
        values = np.concatenate([used, np.minimum(self.tail_high, self.maximum)])
        counts = np.concatenate([self.exact[used], self.tail_count])
        total = int(counts.sum())
        if total == 0:
            return {"mean": 0.0, "p50": 0.0, "p99": 0.0, "max": 0.0}
        cumulative = np.cumsum(counts)

        def pick(fraction: float) -> float:
            return clock.cycles_to_ns(float(values[np.searchsorted(cumulative, fraction * total)]))

        return {
            "mean": round(clock.cycles_to_ns(self.total / total), 3),
            "p50": round(pick(0.5), 3),
            "p99": round(pick(0.99), 3),
            "max": round(clock.cycles_to_ns(float(self.maximum)), 3),
        }


def latency_summary(histogram: np.ndarray, clock: Clock) -> dict:
    """Mean, median, 99th percentile and maximum, in ns, of a latency histogram
    (``histogram[c]`` counts reads that took ``c`` cycles); see Latencies.summary."""
    return Latencies.of_histogram(histogram).summary(clock)


def _section(
    counters: Counters,
    channel: int | None,
    chans: Sequence[dict],
    cycles: int,
    config: Config,
) -> dict:
    """The per-run keys of one channel of ``counters`` (None: all), with the controllers'
    stats of the channels given (engine channel_stats dicts, in cycles, with their read
    latencies as a ``latency`` Latencies)."""

    def total(key: str) -> int:
        return int(sum(c[key] for c in chans))

    clock = counters.clock
    time_ns = clock.cycles_to_ns(cycles)
    moved = (total("reads") + total("writes")) * config.organisation.burst_bytes
    raised = counters.rows_raised if channel is None else counters.rows_raised[channel]
    return {
        "requests": {
            "reads": total("reads"),
            "writes": total("writes"),
            "forwarded_reads": total("forwarded_reads"),
        },
        "commands": counters.command_counts(channel),
        "rows_raised": int(raised.sum()),
        "row_buffer": {
            "hits": total("row_hits"),
            "misses": total("row_misses"),
            "conflicts": total("row_conflicts"),
        },
        "latency_ns": Latencies.merge([c["latency"] for c in chans]).summary(clock),
        "bandwidth_gbps": round(moved / time_ns, 4) if time_ns else 0.0,
    }


def build_stats(
    config: Config,
    counters: Counters,
    channel_stats: Sequence[dict],
    cycles: int,
    **extra,
) -> dict:
    """The stats document of a run of ``cycles`` cycles from its counters and the controllers'
    stats per channel; ``extra`` keys (trace, interrupted, ...) go on top."""
    doc = {
        "config": {"name": config.name, "differences": config.differences()},
        **extra,
        "cycles": cycles,
        "time_ns": round(counters.clock.cycles_to_ns(cycles), 3),
        **_section(counters, None, channel_stats, cycles, config),
    }
    doc["channels"] = [
        {"channel": ch, **_section(counters, ch, [s], cycles, config)}
        for ch, s in enumerate(channel_stats)
    ]
    doc["max_row_activations"] = counters.max_row_activations
    return doc


def pim_summary(ops: Sequence[dict]) -> dict:
    """Totals over the bulk operations of a run (each an OpReport.to_dict() or CPU-path dict).

    The CPU path's ``cpu_bytes`` are results computed on the host (``cpu_rows`` rows of
    in-DRAM operations, plus ``cpu_ops`` operations that took it whole); ``cpu_reads`` and
    ``cpu_writes`` count the RD/WR (RDA/WRA) commands issued for them, ``cpu_lines`` both:
    no in-DRAM work issues a column command."""
    out = {
        "ops": {},
        "in_dram_rows": 0,
        "cpu_rows": 0,
        "cpu_bytes": 0,
        "cpu_ops": 0,
        "cpu_lines": 0,
        "cpu_reads": 0,
        "cpu_writes": 0,
        "fallback_reasons": {},
        "AAP": 0,
        "AP": 0,
        "rows_raised": 0,
        "max_row_activations": 0,
        "time_ns": 0.0,
        "commands": {},
        "bank_busy_ns": {},
        "psm_rows": 0,
        "staged_rows": 0,
        "lisa_moves": 0,
    }
    for op in ops:
        add_op(out, op)
    return out


def add_op(out: dict, op: dict) -> None:
    """Add one bulk operation's report to a pim_summary (a run keeps a running total, not
    every report)."""
    out["ops"][op["op"]] = out["ops"].get(op["op"], 0) + 1
    for bank, ns in op.get("bank_busy_ns", {}).items():
        out["bank_busy_ns"][bank] = round(out["bank_busy_ns"].get(bank, 0.0) + ns, 3)
    for key in (
        "in_dram_rows",
        "cpu_rows",
        "cpu_bytes",
        "cpu_ops",
        "rows_raised",
        "psm_rows",
        "staged_rows",
        "lisa_moves",
    ):
        out[key] += op.get(key, 0)
    for key in ("AAP", "AP"):
        out[key] += op["commands"].get(key, 0)
    for key, names in (("cpu_reads", ("RD", "RDA")), ("cpu_writes", ("WR", "WRA"))):
        out[key] += sum(op["commands"].get(name, 0) for name in names)
    out["cpu_lines"] = out["cpu_reads"] + out["cpu_writes"]
    for reason, n in op["fallback_reasons"].items():
        out["fallback_reasons"][reason] = out["fallback_reasons"].get(reason, 0) + n
    for name, n in op["commands"].items():
        if name not in ("AAP", "AP"):
            out["commands"][name] = out["commands"].get(name, 0) + n
    out["max_row_activations"] = max(out["max_row_activations"], op.get("max_row_activations", 0))
    out["time_ns"] = round(out["time_ns"] + op["time_ns"], 3)


def add_pim(doc: dict, pim: dict) -> None:
    """Fold a run's bulk operations into its stats document (``pim`` section, AAP/AP)."""
    doc["pim"] = pim
    doc["commands"]["AAP"], doc["commands"]["AP"] = pim["AAP"], pim["AP"]


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
    if "energy_nj" in doc:
        energy = doc["energy_nj"]
        parts = ", ".join(f"{k} {energy[k]:,.1f}" for k in BREAKDOWN if energy.get(k))
        lines.append(
            f"energy      {energy['total']:,.1f} nJ ({doc['energy_profile']} profile): {parts}"
        )
    if "pim" in doc:
        pim = doc["pim"]
        ops = ", ".join(f"{name} x{n}" for name, n in pim["ops"].items())
        lines.append(
            f"bulk ops    {ops}: {pim['in_dram_rows']:,} rows in DRAM "
            f"({pim['AAP']:,} AAP, {pim['AP']:,} AP), {pim['time_ns']:,.1f} ns; "
            f"most activations of one row: {pim['max_row_activations']}"
        )
        if pim["fallback_reasons"]:
            why = "; ".join(f"{r} ({n})" for r, n in pim["fallback_reasons"].items())
            lines.append(
                f"CPU path    {pim['cpu_bytes']:,} bytes ({pim['cpu_rows']:,} rows,"
                f" {pim['cpu_ops']:,} whole operations), {pim['cpu_reads']:,} lines read,"
                f" {pim['cpu_writes']:,} written: {why}"
            )
    return "\n".join(lines)
