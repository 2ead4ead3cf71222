"""Trace replay on SimPy: one process streams the trace through the replay engine.

SimPy's clock counts the core's ticks (pimsim.device; one per cycle unless a PIM timing needs
finer ones). The frontend takes requests in trace order; a request may
not enter before its trace cycle, at most one enters per cycle, and when its queue is full the
frontend retries the next cycle. The controllers (one per channel) and the frontend run inside
the compiled engine (pimsim._replay), which jumps over idle time (idle refresh intervals are
counted in closed form); the SimPy process hands it one trace chunk at a time and moves
SimPy's clock after at most ``QUANTUM`` engine steps, so other agents can interleave without
a Python event per DRAM command. Trace cycles must lie within the engine's range (MAX_TICK
ticks): a later one is a TraceError naming its line. The run ends when every
read has returned its data and every write has been issued; ``cycles`` is the cycle of that
last event plus one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from pimsim.addrmap import AddressError, AddressMapper
from pimsim.ambit.bulk import BulkEngine, BulkError, BulkPlan, bulk_result
from pimsim.baseline import LINE_BYTES, load_host_op
from pimsim.config import Config
from pimsim.controller import (
    DONE,
    END_OF_TIME,
    JOB_DONE,
    LATENCY_TAIL_HIGH,
    MAX_TICK,
    NEED_INPUT,
    REACHED,
    engine_of,
)
from pimsim.device import Device
from pimsim.errors import PimsimError, TraceError
from pimsim.programs.parse import builtin
from pimsim.results.drampower import CommandCsv
from pimsim.results.energy import DEFAULT_PROFILE, energy_of, energy_table, get_profile
from pimsim.results.stats import Latencies, add_op, add_pim, build_stats, pim_summary
from pimsim.tracefile import PimLine, TraceChunk, read_trace

#: Most steps (cycles simulated, or jumps over idle time) the engine takes before SimPy's
#: clock catches up: bounds the work between two checks for Ctrl-C.
QUANTUM = 1 << 16

#: With a DRAMPower export every REF is listed, so idle refresh intervals cannot be counted
#: in bulk: a trace may then reach this many refresh intervals at most.
EXPORT_REFRESH_LIMIT = 1 << 20

#: Result lines of a bulk operation on the CPU path the host program holds at a time
#: (bounds its request arrays; the host drains between blocks).
HOST_BLOCK_LINES = 1 << 16


class ReplayError(PimsimError):
    """The replay engine cannot go on (an internal inconsistency): an error while simulating."""


class TraceRangeError(TraceError):
    """A trace line names a cycle beyond what the simulator can count: bad input (exit 2)."""


class Replay:
    """One replay of one trace on one configuration.

    ``with_data=False`` replays timing only (rows keep no contents); otherwise every write
    stores its burst (each 8-byte word holds its own byte address). ``on_progress`` is
    called with the number of requests sent after each trace chunk. Energy is reported
    under ``energy_profile``; ``drampower`` names a CSV file that receives every command
    issued (pimsim.results.drampower). ``bulk_in_dram=False`` sends every BBOP/COPY line down
    the CPU path (the baseline ``pimsim compare --trace`` sets against the in-DRAM run).
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
        self.energy_profile = get_profile(energy_profile).name
        energy_table(config, self.energy_profile)  # a datasheet it refuses fails before the run
        self.device = Device(config)
        self.mapper = AddressMapper.for_config(config)
        self.clock = self.device.clock
        self.with_data = with_data
        self.engine = engine_of(self.device, with_data)
        self.export: CommandCsv | None = None
        if drampower is not None:
            self.export = CommandCsv(drampower, config, self.clock)
            self.device.start_command_log()
        import simpy  # loaded by a replay only: it pulls importlib.metadata (slow start-up)

        self.env = simpy.Environment()
        self._bulk: BulkEngine | None = None
        self._plan: BulkPlan | None = None  # the bulk operation the controller is running
        self.pim = pim_summary([])  # totals of the bulk operations done so far
        self.bulk_in_dram = bulk_in_dram
        self.bulk_results: list[tuple[int, int]] = []  # (dst, size) of every BBOP/COPY line
        self.on_progress = on_progress
        self.sent = 0
        self.interrupted = False

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
        """Run the engine for at most ``QUANTUM`` steps and move SimPy's clock to where it
        stopped (idle time is one step, however long). With ``until`` it runs what was sent
        (and refreshes) up to that tick and no further."""
        try:
            result = self.engine.run(until, final, until < END_OF_TIME, QUANTUM)
        except RuntimeError as exc:
            raise ReplayError(f"{self.trace}: {exc}") from None
        if result == REACHED and self.engine.now >= END_OF_TIME:
            raise ReplayError(f"{self.trace}: the replay engine waits for nothing (stalled)")
        if result == JOB_DONE:
            self._finish_bulk()
        if self.export:
            self.export.write(self.device.command_log())
        if self.engine.now > self.env.now:
            yield self.env.timeout(self.engine.now - self.env.now)
        return result

    def _frontend(self):
        for chunk in read_trace(self.trace, self.fmt, self.limit):
            if isinstance(chunk, PimLine):
                yield from self._pim(chunk)
                continue
            self._ticks(chunk)
            self.engine.load(
                chunk.cycle, chunk.is_write.view(np.uint8), self._decode(chunk), chunk.address
            )
            while (yield from self._advance(final=False)) != NEED_INPUT:
                pass
            self.sent += len(chunk)
            if self.on_progress:
                self.on_progress(self.sent)
        yield from self._drain()

    def _drain(self):
        """Let every request sent so far finish (the engine reports DONE)."""
        while (yield from self._advance(final=True)) != DONE:
            pass

    def _pim(self, line: PimLine):
        """A BBOP/COPY line: in DRAM where the operands allow, as a job of the controller
        that shares banks and command bus with the requests (in its banks the requests
        before it go first, those after it wait for it; one job at a time), else on the CPU
        path through the controller after the requests before it."""
        while self._plan is not None:  # the previous bulk operation finishes first
            yield from self._advance(final=True)
        tick = self._tick_of(line.cycle, line.line)
        self._check_extent(line)
        while self.engine.now < tick:  # the line enters at its cycle, as a request would
            yield from self._advance(final=True, until=tick)
        self.bulk_results.append((line.dst, line.size))
        vectors, reason = [], "bulk operations on the CPU (the baseline run)"
        if _partial_overlap(line):
            reason = "destination overlaps a source"
        elif self.bulk_in_dram:
            with self._named(line):  # too big to simulate: said before mapping its rows
                vectors, reason = self.bulk.vectors_at(
                    self.mapper, (line.dst, *line.sources), line.size, builtin(line.op)
                )
        if vectors:
            with self._named(line):
                self._plan = self.bulk.plan(
                    line.op, vectors[0], *vectors[1:], not_before=self.engine.now
                )
            self._plan.job.submit(self.engine)
        else:
            yield from self._drain()
            yield from self._pim_on_cpu(line, self.engine.now, reason)
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

    def _check_extent(self, line: PimLine) -> None:
        """Every operand of a bulk line lies inside the memory, else a TraceError naming it."""
        end = max((line.dst, *line.sources)) + line.size
        if end > self.mapper.capacity_bytes:
            raise TraceError(
                str(self.trace),
                line.line,
                "size",
                f"{line.op} reaches {end:#x}, beyond the memory "
                f"[0, {self.mapper.capacity_bytes:#x})",
            )

    def _pim_on_cpu(self, line: PimLine, tick: int, reason: str):
        """The host's way (pimsim.baseline): read the source lines, write the destination
        lines, through the controller, ``HOST_BLOCK_LINES`` result lines at a time; the
        result is computed on the host and stored when the writes are done."""
        lines = line.size // LINE_BYTES
        before = self.device.command_counts()
        start = self.engine.now
        for first in range(0, lines, HOST_BLOCK_LINES):
            offset = first * LINE_BYTES
            size = min(lines - first, HOST_BLOCK_LINES) * LINE_BYTES
            load_host_op(
                self.engine,
                self.device,
                self.mapper,
                line.dst + offset,
                [a + offset for a in line.sources],
                size,
                max(tick, self.engine.now),
            )
            yield from self._drain()
        if self.with_data:
            self._store_cpu_result(line)
        after = self.device.command_counts()
        add_op(
            self.pim,
            {
                "op": line.op,
                "rows": 0,
                "in_dram_rows": 0,
                "cpu_bytes": line.size,
                "cpu_ops": 1,
                "fallback_reasons": {reason: 1},
                "time_ns": round(self.clock.ticks_to_ns(self.engine.now - start), 3),
                "commands": {c: after[c] - before[c] for c in after if after[c] - before[c]},
            },
        )

    def _store_cpu_result(self, line: PimLine) -> None:
        """Compute ``dst = op(sources)`` on the host and store it. Every source line is read
        before a destination line it overlaps is written (as through a temporary buffer), so
        overlapping operands give the operation of the values they held before it."""
        lines = line.size // LINE_BYTES
        block = lines if _partial_overlap(line) else HOST_BLOCK_LINES
        burst = self.config.organisation.burst_length
        for first in range(0, lines, block):
            offsets = range(first * LINE_BYTES, min(first + block, lines) * LINE_BYTES, LINE_BYTES)
            values = [
                [self.device.read_burst(*self.mapper.decode(a + o)) for a in line.sources]
                for o in offsets
            ]
            for o, words in zip(offsets, values, strict=True):
                result = bulk_result(line.op, words, burst)
                self.device.write_burst(*self.mapper.decode(line.dst + o), result)

    def _finish_bulk(self) -> None:
        """The controller ran the bulk operation's last command: its data and report."""
        plan, self._plan = self._plan, None
        add_op(self.pim, self.bulk.report(plan, plan.job.finish(self.engine)).to_dict())

    @property
    def bulk(self) -> BulkEngine:
        """The bulk-operation engine of the device (made on the first BBOP/COPY line)."""
        if self._bulk is None:
            self._bulk = BulkEngine(self.device)
        return self._bulk

    def run(self) -> dict:
        """Replay the whole trace (Ctrl-C stops early) and return the stats document. The
        command trace is completed with the stats, or dropped if the run fails."""
        self.env.process(self._frontend())
        try:
            try:
                self.env.run()
            except KeyboardInterrupt:
                self.interrupted = True
            doc = self.stats()
            if self.export:
                self.export.write(self.device.command_log())
                self.export.finish(doc["cycles"], self.interrupted)
        except BaseException:
            if self.export:
                self.export.abort()
            raise
        return doc

    def _in_cycles(self, chan: dict) -> dict:
        """Channel stats with ticks turned into cycles (rounded up); the read latencies as
        one pimsim.results.stats.Latencies."""
        cycles = self.clock.ticks_to_cycles
        hist = chan["latency_histogram"]
        cycles_hist = np.zeros(cycles(len(hist)) + 1, dtype=np.int64)
        np.add.at(cycles_hist, cycles(np.arange(len(hist))), hist)
        tail = chan["latency_tail"]
        used = np.nonzero(tail)[0]
        latencies = Latencies(
            exact=cycles_hist,
            tail_high=cycles(LATENCY_TAIL_HIGH[used]),
            tail_count=tail[used],
            maximum=cycles(chan["latency_max"]),
            total=chan["latency_sum"],
        )
        return {**chan, "last_event": cycles(chan["last_event"]), "latency": latencies}

    def stats(self) -> dict:
        """The stats document of what ran so far."""
        chans = [
            self._in_cycles(self.engine.channel_stats(ch))
            for ch in range(self.config.organisation.channels)
        ]
        cycles = max(c["last_event"] for c in chans) + 1
        if self.pim["ops"]:
            cycles = max(cycles, self.clock.ticks_to_cycles(self.engine.now))
        end_tick = max(self.clock.cycles_to_ticks(cycles), self.engine.now)
        counters = self.device.snapshot(end_tick)
        doc = build_stats(
            self.config,
            counters,
            chans,
            cycles,
            trace=str(self.trace),
            interrupted=self.interrupted,
        )
        if self.pim["ops"]:
            add_pim(doc, copy.deepcopy(self.pim))
            doc["max_row_activations"] = max(
                doc["max_row_activations"], doc["pim"]["max_row_activations"]
            )
        doc["energy_profile"] = self.energy_profile
        doc["energy_nj"] = {
            k: round(v, 3) for k, v in energy_of(counters, self.config, self.energy_profile).items()
        }
        return doc


def _partial_overlap(line: PimLine) -> bool:
    """The destination shares bytes with a source it does not coincide with (an in-place
    operation, ``dst`` = a source, is not partial)."""
    return any(s != line.dst and abs(s - line.dst) < line.size for s in line.sources)
