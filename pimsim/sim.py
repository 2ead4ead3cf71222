"""Trace replay on SimPy: one process streams the trace through the replay engine.

SimPy's clock counts the core's ticks (pimsim.device; one per cycle unless a PIM timing needs
finer ones). The frontend takes requests in trace order; a request may
not enter before its trace cycle, at most one enters per cycle, and when its queue is full the
frontend retries the next cycle. The controllers (one per channel) and the frontend run inside
the compiled engine (pimsim._replay), which skips idle cycles; the SimPy process hands it one
trace chunk at a time and advances SimPy's clock in steps of at most ``QUANTUM`` cycles, so
other agents can interleave without a Python event per DRAM command. The run ends when every
read has returned its data and every write has been issued; ``cycles`` is the cycle of that
last event plus one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import simpy

from pimsim.addrmap import AddressError, AddressMapper
from pimsim.ambit.bulk import BulkEngine, BulkPlan, bulk_result
from pimsim.baseline import LINE_BYTES, load_host_op
from pimsim.config import Config
from pimsim.controller import DONE, JOB_DONE, NEED_INPUT, engine_of
from pimsim.device import Device
from pimsim.drampower import CommandCsv
from pimsim.energy import DEFAULT_PROFILE, device_energy, energy_table, get_profile
from pimsim.errors import TraceError
from pimsim.stats import add_pim, build_stats, pim_summary
from pimsim.tracefile import PimLine, TraceChunk, read_trace

#: Longest stretch of cycles the engine runs before SimPy's clock catches up (a multiple of
#: the tick keeps the engine on cycle boundaries).
QUANTUM = 1 << 16


class Replay:
    """One replay of one trace on one configuration.

    ``with_data=False`` replays timing only (rows keep no contents); otherwise every write
    stores its burst (each 8-byte word holds its own byte address). ``on_progress`` is
    called with the number of requests sent after each trace chunk. Energy is reported
    under ``energy_profile``; ``drampower`` names a CSV file that receives every command
    issued (pimsim.drampower). ``bulk_in_dram=False`` sends every BBOP/COPY line down the
    CPU path (the baseline ``pimsim compare --trace`` sets against the in-DRAM run).
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
        self.tick = self.device.ticks_per_cycle
        self.engine = engine_of(self.device, with_data)
        self.export: CommandCsv | None = None
        if drampower is not None:
            self.export = CommandCsv(drampower, config, self.tick)
            self.device.start_command_log()
        self.env = simpy.Environment()
        self._bulk: BulkEngine | None = None
        self._plan: BulkPlan | None = None  # the bulk operation the controller is running
        self.pim_ops: list[dict] = []
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

    def _advance(self, final: bool):
        """Run the engine one quantum and move SimPy's clock to where it stopped."""
        result = self.engine.run(self.env.now + QUANTUM * self.tick, final)
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
            self.engine.load(
                chunk.cycle, chunk.is_write.view(np.uint8), self._decode(chunk), chunk.address
            )
            while (yield from self._advance(final=False)) != NEED_INPUT:
                pass
            self.sent += len(chunk)
            if self.on_progress:
                self.on_progress(self.sent)
        while (yield from self._advance(final=True)) != DONE:
            pass

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
        tick = max(self.engine.now, line.cycle * self.tick)
        bulk = self.bulk
        end = max(line.dst, *line.sources) + line.size
        if end > self.mapper.capacity_bytes:
            raise TraceError(
                str(self.trace),
                line.line,
                "size",
                f"{line.op} reaches {end:#x}, beyond the memory "
                f"[0, {self.mapper.capacity_bytes:#x})",
            )
        self.bulk_results.append((line.dst, line.size))
        vectors, reason = [], "bulk operations on the CPU (the baseline run)"
        if self.bulk_in_dram:
            vectors, reason = bulk.vectors_at(self.mapper, (line.dst, *line.sources), line.size)
        if vectors:
            self._plan = bulk.plan(line.op, vectors[0], *vectors[1:], not_before=tick)
            self._plan.job.submit(self.engine)
        else:
            yield from self._drain()
            yield from self._pim_on_cpu(line, max(self.engine.now, tick), reason)
        if self.engine.now > self.env.now:
            yield self.env.timeout(self.engine.now - self.env.now)

    def _pim_on_cpu(self, line: PimLine, tick: int, reason: str):
        """The host's way (pimsim.baseline): read the source lines, write the destination
        lines, through the controller; the result is computed on the host and stored when
        the writes are done."""
        lines = line.size // LINE_BYTES
        before = self.device.command_counts()
        start = self.engine.now
        load_host_op(self.engine, self.device, self.mapper, line.dst, line.sources, line.size, tick)
        yield from self._drain()
        for k in range(lines):
            words = [
                self.device.read_burst(*self.mapper.decode(int(a) + LINE_BYTES * k))
                for a in line.sources
            ]
            result = bulk_result(line.op, words, self.device.config.organisation.burst_length)
            self.device.write_burst(*self.mapper.decode(line.dst + LINE_BYTES * k), result)
        after = self.device.command_counts()
        self.pim_ops.append(
            {
                "op": line.op,
                "rows": 0,
                "in_dram_rows": 0,
                "cpu_lines": lines,
                "fallback_reasons": {reason: 1},
                "time_ns": round((self.engine.now - start) * self.config.tCK_ns / self.tick, 3),
                "commands": {c: after[c] - before[c] for c in after if after[c] - before[c]},
            }
        )

    def _finish_bulk(self) -> None:
        """The controller ran the bulk operation's last command: its data and report."""
        plan, self._plan = self._plan, None
        self.pim_ops.append(self.bulk.report(plan, plan.job.finish(self.engine)).to_dict())

    @property
    def bulk(self) -> BulkEngine:
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
        """Channel stats with ticks turned into cycles (rounded up)."""
        k = self.tick
        hist = chan["latency_histogram"]
        cycles_hist = np.zeros(-(-len(hist) // k) + 1, dtype=np.int64)
        np.add.at(cycles_hist, -(-np.arange(len(hist)) // k), hist)
        return {**chan, "last_event": -(-chan["last_event"] // k), "latency_histogram": cycles_hist}

    def stats(self) -> dict:
        """The stats document of what ran so far."""
        chans = [
            self._in_cycles(self.engine.channel_stats(ch))
            for ch in range(self.config.organisation.channels)
        ]
        cycles = max(c["last_event"] for c in chans) + 1
        if self.pim_ops:
            cycles = max(cycles, -(-self.engine.now // self.tick))
        end_tick = max(cycles * self.tick, self.engine.now)
        activity = self.device.activity(end_tick)
        doc = build_stats(
            self.config,
            self.device.command_counts_per_channel(),
            chans,
            activity["rows_raised"],
            cycles,
            trace=str(self.trace),
            interrupted=self.interrupted,
        )
        doc["max_row_activations"] = self.device.max_row_activations()
        if self.pim_ops:
            add_pim(doc, pim_summary(self.pim_ops))
            doc["max_row_activations"] = max(
                doc["max_row_activations"], doc["pim"]["max_row_activations"]
            )
        doc["energy_profile"] = self.energy_profile
        doc["energy_nj"] = {
            k: round(v, 3)
            for k, v in device_energy(self.device, end_tick, self.energy_profile).items()
        }
        return doc
