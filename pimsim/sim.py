"""Trace replay: the trace frontend is a SimPy agent of a pimsim.agents.System.

The frontend takes requests in trace order; a request may not enter before its trace cycle,
at most one enters per cycle, and when its queue is full the frontend retries the next cycle.
It feeds the compiled engine (pimsim._replay) whole trace chunks and waits for each to be sent
(System.fed), so the engine's clocked process (pimsim.agents.system) runs the chunk in C,
jumping over idle time (idle refresh intervals are counted in closed form), with one Python
event per chunk or per ``QUANTUM`` engine steps, none per request. BBOP/COPY lines are bulk
operations: in DRAM as a job of the controller, or on the CPU path (the host model). Trace
cycles must lie within the engine's range (MAX_TICK ticks): a later one is a TraceError naming
its line. The run ends when every read has returned its data and every write has been issued;
``cycles`` is the cycle of that last event plus one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimsim.addrmap import AddressError
from pimsim.agents.system import QUANTUM as QUANTUM
from pimsim.agents.system import SimulationError, System
from pimsim.ambit.bulk import BulkEngine, BulkError, BulkPlan, bulk_result
from pimsim.ambit.lowering import lower
from pimsim.ambit.operands import row_addresses
from pimsim.ambit.rowdata import evaluate_operands
from pimsim.baseline import LINE_BYTES, HostOp, op_lines
from pimsim.config import Config
from pimsim.controller import END_OF_TIME, MAX_TICK
from pimsim.errors import TraceError
from pimsim.programs.parse import Program
from pimsim.results.drampower import CommandCsv
from pimsim.results.energy import DEFAULT_PROFILE
from pimsim.results.stats import add_op
from pimsim.tracefile import PimLine, TraceChunk, read_trace


@dataclass(frozen=True)
class _Rows:
    """A bulk line's program and the addresses of its rows (``size`` bytes each): its
    destinations' and its sources', in the program's output and input row order."""

    program: Program
    dsts: tuple[int, ...]
    srcs: tuple[int, ...]


#: With a DRAMPower export every REF is listed, so idle refresh intervals cannot be counted
#: in bulk: a trace may then reach this many refresh intervals at most.
EXPORT_REFRESH_LIMIT = 1 << 20

#: Result lines of a bulk operation on the CPU path the host program holds at a time
#: (bounds its request arrays; the host drains between blocks).
HOST_BLOCK_LINES = 1 << 16

#: The engine cannot go on: an error while simulating (pimsim.agents.SimulationError).
ReplayError = SimulationError


class TraceRangeError(TraceError):
    """A trace line names a cycle beyond what the simulator can count: bad input (exit 2)."""


class Replay:
    """One replay of one trace on one configuration.

    ``with_data=False`` replays timing only (rows keep no contents); otherwise every write
    stores its burst (each 8-byte word holds its own byte address). ``on_progress`` is
    called with the number of requests sent after each trace chunk. Energy is reported
    under ``energy_profile``; ``drampower`` names a CSV file that receives every command
    issued (pimsim.results.drampower). ``bulk_in_dram=False`` sends every BBOP/COPY line down the
    CPU path (the baseline ``pimsim compare --trace`` sets against the in-DRAM run).
    The system it runs on is ``self.sim`` (pimsim.agents.System): other agents may join.
    """

    def __init__(
        self,
        config: Config,
        trace: str | Path,
        fmt: str = "auto",
        limit: int | None = None,
        with_data: bool = True,
        on_progress: Callable[[int], None] | None = None,
        energy_profile: str = DEFAULT_PROFILE,
        drampower: str | Path | None = None,
        bulk_in_dram: bool = True,
    ):
        self.config = config
        self.trace = Path(trace)
        self.fmt, self.limit = fmt, limit
        self.sim = System(config, with_data, energy_profile, label=str(self.trace))
        self.sim.on_job_done = self._finish_bulk
        self.device, self.mapper, self.engine = self.sim.device, self.sim.mapper, self.sim.engine
        self.env, self.clock, self.with_data = self.sim.env, self.sim.clock, with_data
        self.export: CommandCsv | None = None
        if drampower is not None:
            self.export = CommandCsv(drampower, config, self.clock)
            self.device.start_command_log()
            self.sim.on_advance = self._export_commands
        self._plan: BulkPlan | None = None  # the bulk operation the controller is running
        self.pim = self.sim.pim  # totals of the bulk operations done so far
        self.bulk_in_dram = bulk_in_dram
        self.bulk_results: list[tuple[int, int]] = []  # (dst, size) of every BBOP/COPY line
        self.on_progress = on_progress
        self.sent = 0

    @property
    def interrupted(self) -> bool:
        """Ctrl-C stopped the run early."""
        return self.sim.interrupted

    def _export_commands(self) -> None:
        self.export.write(self.device.command_log())

    def _decode(self, chunk: TraceChunk) -> np.ndarray:
        """Address fields of a chunk; an address outside the memory names its trace line."""
        try:
            return self.mapper.decode_array(chunk.address)
        except AddressError as exc:
            bad = int(np.argmax(chunk.address >= np.uint64(self.mapper.capacity_bytes)))
            raise TraceError(
                str(self.trace), int(chunk.first_line[bad]), "address", str(exc)
            ) from None

    def _ticks(self, chunk: TraceChunk) -> None:
        """Check that every request's cycle, in ticks, is one the engine can count."""
        if len(chunk) and int(chunk.cycle.max()) > self.last_cycle:
            bad = int(np.argmax(chunk.cycle > self.last_cycle))
            self._tick_of(int(chunk.cycle[bad]), int(chunk.first_line[bad]))

    def _tick_of(self, cycle: int, line: int) -> int:
        """Tick of trace cycle ``cycle`` (of trace line ``line``); a TraceError beyond the
        engine's range, or past the refreshes the DRAMPower export can list one by one
        (without it idle refresh intervals are counted in bulk)."""
        if cycle > self.last_cycle:
            raise TraceRangeError(
                str(self.trace),
                line,
                "cycle",
                f"{cycle} is beyond the last cycle pimsim can simulate"
                + (" with --drampower, which lists every REF" if self.export else "")
                + f" ({self.last_cycle:,})",
            )
        return self.clock.cycles_to_ticks(cycle)

    @property
    def last_cycle(self) -> int:
        """The latest trace cycle a request may enter at."""
        last = self.clock.cycle_at(MAX_TICK)
        refresh = self.device.timing_ticks["nREFI"] if self.config.controller.refresh else 0
        if self.export and refresh:
            last = min(last, self.clock.cycle_at(EXPORT_REFRESH_LIMIT * refresh))
        return last

    def _advance(self, final: bool, until: int = END_OF_TIME):
        """Let the engine's process run on (used by the bulk operations): up to tick
        ``until`` if given, else for one more run of the engine. ``final`` (the memory may
        drain) is the clock's to decide: the engine drains when this agent waits."""
        if until < END_OF_TIME:
            if until > self.env.now:
                yield self.env.timeout(until - self.env.now)
        else:
            yield self.sim.stepped()

    def _frontend(self):
        for chunk in read_trace(self.trace, self.fmt, self.limit):
            if isinstance(chunk, PimLine):
                yield from self._pim(chunk)
                continue
            self._ticks(chunk)
            self.engine.load(
                chunk.cycle, chunk.is_write.view(np.uint8), self._decode(chunk), chunk.address
            )
            yield self.sim.fed()
            self.sent += len(chunk)
            if self.on_progress:
                self.on_progress(self.sent)
        yield from self._drain()

    def _drain(self):
        """Let every request sent so far finish."""
        yield self.sim.drained()

    def _pim(self, line: PimLine):
        """A BBOP/COPY line: in DRAM where the operands allow, as a job of the controller
        that shares banks and command bus with the requests (in its banks the requests
        before it go first, those after it wait for it; one job at a time), else on the CPU
        path through the controller after the requests before it."""
        while self._plan is not None:  # the previous bulk operation finishes first
            yield from self._advance(final=True)
        tick = self._tick_of(line.cycle, line.line)
        rows = _rows_of(line)
        self._check_extent(line, rows)
        while self.engine.now < tick:  # the line enters at its cycle, as a request would
            yield from self._advance(final=True, until=tick)
        self.bulk_results.extend((d, line.size) for d in rows.dsts)
        vectors, reason = [], "bulk operations on the CPU (the baseline run)"
        outputs = len(rows.dsts)
        if _partial_overlap(rows, line.size):
            reason = "destination overlaps a source"
        elif self.bulk_in_dram:
            with self._named(line):  # too big to simulate: said before mapping its rows
                vectors, reason = self.bulk.vectors_at(
                    self.mapper, (*rows.dsts, *rows.srcs), line.size, rows.program
                )
            if vectors and outputs > 1:  # runs in DRAM only in place (BulkEngine.plan_rows)
                apart = self.bulk.not_in_place(vectors[:outputs], vectors[outputs:])
                if apart:
                    vectors, reason = [], f"{apart} (several output rows run only in place)"
        if vectors:
            with self._named(line):
                plan = self.bulk.plan_rows(
                    rows.program, vectors[:outputs], vectors[outputs:], not_before=self.engine.now
                )
            self._plan = plan
            plan.job.submit(self.engine)
            if plan.host is not None:  # fallback rows: the host model once the job is done
                host = yield from self.bulk.host.run(plan, self._drain)
                add_op(self.pim, self.bulk.report(plan, plan.span, host).to_dict())
        else:
            yield from self._drain()
            yield from self._pim_on_cpu(line, rows, self.engine.now, reason)
        if self.engine.now > self.env.now:
            yield self.env.timeout(self.engine.now - self.env.now)

    @contextmanager
    def _named(self, line: PimLine) -> Iterator[None]:
        """A BulkError raised inside the block names the trace line (e.g. too big to
        simulate)."""
        try:
            yield
        except BulkError as error:
            raise BulkError(f"{self.trace}:{line.line}: size: {error}") from None

    def _check_extent(self, line: PimLine, rows: _Rows) -> None:
        """Every operand of a bulk line lies inside the memory, else a TraceError naming it."""
        end = max((*rows.dsts, *rows.srcs)) + line.size
        if end > self.mapper.capacity_bytes:
            raise TraceError(
                str(self.trace),
                line.line,
                "size",
                f"{line.op} reaches {end:#x}, beyond the memory "
                f"[0, {self.mapper.capacity_bytes:#x})",
            )

    def _pim_on_cpu(self, line: PimLine, rows: _Rows, tick: int, reason: str):
        """The host's way (pimsim.baseline.HostOp): read the source lines, write the
        destination lines, through the controller, ``HOST_BLOCK_LINES`` result lines at a
        time. The result is computed on the host with the op's numpy twin (a library
        operation of a width: its program run on the host over its rows) from the sources
        as they are before a block's requests and stored when they are done; with a
        destination that partly overlaps a source every source line is read before any
        destination line is written (as through a temporary buffer)."""
        before = self.device.command_counts()
        start = self.engine.now
        compute = self._host_compute(line, rows) if self.with_data else None
        work = HostOp(
            self.device,
            line.size // LINE_BYTES,
            op_lines(self.mapper, rows.dsts, rows.srcs),
            compute,
            HOST_BLOCK_LINES,
            buffered=_partial_overlap(rows, line.size),
            writes=len(rows.dsts),
        )
        for _ in work.blocks(self.engine, tick):
            yield from self._drain()
        after = self.device.command_counts()
        add_op(
            self.pim,
            {
                "op": line.op,
                "rows": 0,
                "in_dram_rows": 0,
                "cpu_bytes": line.size * len(rows.dsts),
                "cpu_ops": 1,
                "fallback_reasons": {reason: 1},
                "time_ns": round(self.clock.ticks_to_ns(self.engine.now - start), 3),
                "commands": {c: after[c] - before[c] for c in after if after[c] - before[c]},
            },
        )

    def _host_compute(self, line: PimLine, rows: _Rows):
        """The host's result of a bulk line: the numpy twin of a bitwise operation, else
        every output row of the program run on host arrays."""
        if not line.width:
            return lambda values, shape: bulk_result(line.op, values, shape)
        layout = self.bulk.pim.layout
        self.bulk.pim.check(rows.program)
        low = lower(rows.program, layout)
        n_in = len(rows.program.inputs)
        outputs = range(n_in, n_in + len(rows.dsts))
        return lambda values, shape: evaluate_operands(low, layout, values, outputs, shape)

    def _finish_bulk(self) -> None:
        """The controller ran the bulk operation's last command: its data and counters, and
        its report unless its fallback rows are still to run (see _pim)."""
        plan, self._plan = self._plan, None
        plan.span = plan.job.finish(self.engine)
        if plan.host is None:
            add_op(self.pim, self.bulk.report(plan, plan.span).to_dict())

    @property
    def bulk(self) -> BulkEngine:
        """The bulk-operation engine of the device (made on the first BBOP/COPY line)."""
        return self.sim.bulk

    def run(self) -> dict:
        """Replay the whole trace (Ctrl-C stops early) and return the stats document. The
        command trace is completed with the stats, or dropped if the run fails."""
        self.sim.process(self._frontend())
        try:
            self.sim.simulate()
            doc = self.stats()
            if self.export:
                self.export.write(self.device.command_log())
                self.export.finish(doc["cycles"], self.interrupted)
        except BaseException:
            if self.export:
                self.export.abort()
            raise
        return doc

    def stats(self) -> dict:
        """The stats document of what ran so far."""
        return self.sim.stats()


def _rows_of(line: PimLine) -> _Rows:
    """A bulk line's program and the addresses of its rows (pimsim.ambit.operands)."""
    return _Rows(*row_addresses(line.op, (line.dst, *line.sources), line.size))


def _partial_overlap(rows: _Rows, size: int) -> bool:
    """A destination shares bytes with a source it does not coincide with (an in-place
    operation, ``dst`` = a source, is not partial), or with another destination."""
    dsts = rows.dsts
    return any(s != d and abs(s - d) < size for d in dsts for s in rows.srcs) or any(
        abs(a - b) < size for k, a in enumerate(dsts) for b in dsts[k + 1 :]
    )
