"""Rows of a bulk operation done by the CPU: the host model of pimsim.baseline over whole rows.

A fallback row (a source in another rank, no place to stage a source in) is read and written
by the host model -- misses in flight, store buffer, compute rate -- through the controller,
as any host program: its lines get addresses that name each uniquely (the controller only
compares them), the requests go out whole rows per block. It runs after the operation's
in-DRAM job: :meth:`HostRows.run` waits until the memory is idle (the engine takes one host
program at a time, after every earlier request and job), so a fallback row sees the results
of every in-DRAM row of its operation. Fallback rows run in row order: a row whose
destination is a later row's source is computed before that row reads it (one row at a
time then; else a block at once).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import numpy as np

from pimsim.ambit.report import BulkPlan, HostWork
from pimsim.baseline import HostOp, row_lines
from pimsim.controller import DONE, END_OF_TIME, engine_of
from pimsim.device import Device

#: Result lines the host model of a fallback holds at a time (whole rows are taken).
HOST_BLOCK_LINES = 1 << 16


def host_rows(
    device: Device,
    out: np.ndarray,
    sources: Sequence[np.ndarray],
    compute: Callable[[list[np.ndarray], tuple[int, int]], np.ndarray] | None,
) -> HostOp:
    """``out`` (n, 5) rows := compute(source rows (n, 5) each) by the host model (see the
    module docstring; ``compute`` None: timing only)."""
    org = device.config.organisation
    per_row = org.columns // org.burst_length
    out_ids = device.row_ids(*out.T)
    crossed = any(
        (np.isin(ids, out_ids) & (ids != out_ids)).any()
        for ids in (device.row_ids(*s.T) for s in sources)
    )

    def lines(first: int, last: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        rows = slice(first // per_row, -(-last // per_row))
        pairs = [row_lines(device, f[rows]) for f in (*sources, out)]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    return HostOp(
        device,
        len(out) * per_row,
        lines,
        compute,
        max(HOST_BLOCK_LINES // per_row, 1) * per_row,
        sequential=per_row if crossed else 0,
    )


class HostRows:
    """Runs bulk operations' fallback rows on a device's host model, one at a time."""

    def __init__(self, device: Device):
        self.device = device
        self.busy = False

    def run(
        self, plan: BulkPlan, served: Callable[[], Iterator]
    ) -> Generator[Any, Any, HostWork | None]:
        """Run ``plan``'s fallback rows after its job: ``served()`` waits (a generator, as
        a SimPy agent does) until the memory has served every request loaded and no job is
        left. Returns what the host issued (None: no fallback rows)."""
        if plan.host is None:
            return None
        engine = engine_of(self.device)
        yield from served()  # load_host needs an idle engine
        while self.busy:  # another operation's fallback rows go first
            yield from served()
        self.busy = True
        try:
            before = self.device.command_counts()
            for _ in plan.host.blocks(engine, engine.now):
                yield from served()
        finally:
            self.busy = False
        after = self.device.command_counts()
        done = {c: after[c] - before.get(c, 0) for c in after if c != "REF"}
        return HostWork({c: n for c, n in done.items() if n}, engine.now)

    def run_now(self, plan: BulkPlan) -> HostWork | None:
        """:meth:`run` on an engine nothing else drives (its job done), to the end."""
        engine = engine_of(self.device)

        def served() -> Iterator[None]:
            while engine.run(END_OF_TIME, True) != DONE:
                pass
            yield from ()

        runs = self.run(plan, served)
        try:
            while True:
                next(runs)
        except StopIteration as stop:
            return stop.value
