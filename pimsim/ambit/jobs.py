"""In-DRAM jobs: command tables handed to the controller, their data and their counters.

A job is a list of parts, run one after the other (``Engine.load_job``'s phases): each part
is an int32 command table cut into streams, each stream issued in order, every command as
soon as the timing allows -- greedy list scheduling in C, the stream whose next command can
issue first going next, which is what a controller with one queue per bank does. Requests of
the host share the banks and the command bus with it; refresh keeps the controller's nREFI
grid. When the controller reports the job done (:meth:`Job.finish`) each part applies its
data effect (parts in order: a part starts after the one before has ended) and the counters
are taken: commands per kind, rows raised and per-bank busy time (each ACT to its PRE plus
tRP) as the controller counted them while issuing, the most activations of one row from the
parts' activated rows with numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pimsim.ambit.lowering import JOB_FIELDS
from pimsim.controller import END_OF_TIME, JOB_DONE, engine_of
from pimsim.device import Device
from pimsim.standards import CMD, COMMANDS

Bank = tuple[int, int, int, int]  # channel, rank, bankgroup, bank


@dataclass(frozen=True)
class Span:
    """Ticks of the first command and of the end of the last one (its PRE plus tRP)."""

    first_tick: int
    end_tick: int


@dataclass
class Part:
    """One phase of a job: its commands, streams, data effect and activated rows."""

    table: np.ndarray  # (n, 8) int32: command, channel, rank, bankgroup, bank, row, column, raised
    stream_end: np.ndarray  # (streams,) int64: end of each stream in the table (cumulative)
    apply: Callable[[np.ndarray], None] | None = None  # data, given the part's issue order
    activated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per id


def empty_part() -> Part:
    return Part(np.zeros((0, JOB_FIELDS), dtype=np.int32), np.zeros(0, dtype=np.int64))


@dataclass
class JobCounters:
    """What a finished job did (ticks for times)."""

    issued: dict[str, int]  # commands per kind (PREs closing the host's rows included)
    rows_raised: int  # wordlines raised by ACT/AACT
    max_row_activations: int  # the most activations any one row got (RowHammer exposure)
    busy_ticks: dict[Bank, int]  # per bank: from each ACT to its PRE plus tRP


class Job:
    """Parts given to the device's controller as one in-DRAM job (see the module
    docstring); ``with_data=False`` keeps the timing and counters and skips the data."""

    def __init__(
        self, device: Device, parts: Sequence[Part], not_before: int = 0, with_data: bool = True
    ):
        self.device, self.not_before, self.with_data = device, not_before, with_data
        self.parts = list(parts)
        tables = [p.table for p in self.parts]
        filled = [t for t in tables if len(t)]
        if len(filled) == 1:  # one part has commands: its table is the job's, not copied
            self.table = np.ascontiguousarray(filled[0])
        else:
            self.table = np.ascontiguousarray(
                np.concatenate(tables) if tables else np.zeros((0, JOB_FIELDS), dtype=np.int32)
            )
        starts = np.cumsum([0] + [len(t) for t in tables])
        self.starts = starts
        for part, a, b in zip(self.parts, starts[:-1], starts[1:], strict=True):
            part.table = self.table[a:b]  # a view: the parts' own tables are freed
        ends = [p.stream_end + s for p, s in zip(self.parts, starts, strict=False)]
        self.stream_end = np.concatenate(ends).astype(np.int32) if ends else np.zeros(0, np.int32)
        self.phase_end = np.cumsum([len(p.stream_end) for p in self.parts] or [0]).astype(np.int32)
        self.counters: JobCounters | None = None

    @property
    def issued(self) -> dict[str, int]:
        return self.counters.issued if self.counters else {}

    def submit(self, engine) -> None:
        """Hand the streams to the controller (it schedules them from its next step)."""
        engine.load_job(
            self.table,
            self.stream_end,
            self.phase_end,
            self.not_before,
            self.device.timing_ticks["nRP"],
            self.device.config.pim.faw_counts_raised_rows,
        )

    def finish(self, engine) -> Span:
        """After JOB_DONE: apply the data, take the counters, return the span."""
        first, last_pre, closes = engine.job_span()
        nrp = self.device.timing_ticks["nRP"]
        if self.with_data:
            order = engine.job_log()[0]
            for part, start in zip(self.parts, self.starts, strict=False):
                if part.apply is None or not len(part.table):
                    continue
                if len(part.table) == len(self.table):  # the only part: the whole log
                    part.apply(order)
                    continue
                mine = order[(order >= start) & (order < start + len(part.table))]
                part.apply(mine - start)
        self.counters = self._count(engine, closes)
        if first < 0:
            return Span(self.not_before, self.not_before)
        return Span(int(first), int(last_pre) + nrp if last_pre >= 0 else int(first))

    def _count(self, engine, closes: int) -> JobCounters:
        """The counters, as the controller counted the job's commands (Engine.job_counters)."""
        per_kind, raised, banks, sums = engine.job_counters()
        per_kind[CMD["PRE"]] += closes
        issued = {name: int(per_kind[c]) for c, name in enumerate(COMMANDS) if per_kind[c]}
        org = self.device.config.organisation
        shape = (org.channels, org.ranks, org.bankgroups, org.banks_per_group)
        keys = np.stack(np.unravel_index(banks, shape), axis=1).tolist()
        return JobCounters(
            issued=issued,
            rows_raised=int(raised),
            max_row_activations=self._most_activations(),
            busy_ticks={tuple(k): int(s) for k, s in zip(keys, sums.tolist(), strict=True)},
        )

    def _most_activations(self) -> int:
        """The most activations of one row: a count per row id over the ids' span when it is
        not much wider than the ids (no sort; int32 counts: a job has fewer than 2**31
        commands), else per distinct id."""
        ids = np.concatenate([p.activated for p in self.parts])
        if not len(ids):
            return 0
        weights = np.concatenate([p.weights for p in self.parts])
        low = int(ids.min())
        if int(ids.max()) - low < 16 * len(ids) + (1 << 22):
            counts = np.zeros(int(ids.max()) - low + 1, dtype=np.int32)
            np.add.at(counts, ids - low, weights.astype(np.int32))
            return int(counts.max())
        _, inverse = np.unique(ids, return_inverse=True)
        counts = np.zeros(int(inverse.max()) + 1, dtype=np.int64)
        np.add.at(counts, inverse.reshape(-1), weights)
        return int(counts.max())


def run_job(device: Device, job: Job) -> Span:
    """Run ``job`` on the device's controller to its end (refreshes due by then included)."""
    engine = engine_of(device)
    job.submit(engine)
    while engine.run(END_OF_TIME, True) != JOB_DONE:
        pass
    span = job.finish(engine)
    engine.run(span.end_tick + 1, True, True)
    return span
