"""A DRAM system driven by SimPy agents: the compiled engine as one clocked SimPy process.

SimPy's clock counts the core's ticks (pimsim.device: ``tick`` of them make a memory-clock
cycle). Agents are SimPy processes (generators) that yield the events of :meth:`System.read`,
:meth:`System.write`, :meth:`System.bbop` and :meth:`System.timeout`; trace replay
(pimsim.sim) is one such agent. The engine (pimsim._replay: the channel controllers, the
in-DRAM job, the host model) is one more process, the clock: it runs the engine up to the
earlier of the next agent wake-up (``env.peek()``) and its own next event, moves SimPy's
clock to where the engine stopped, and fires the events of what completed there (a read whose
data returned, a write that issued, a bulk job's last command, a trace chunk all sent). Agents
woken at a tick act before the engine steps on, so a request made at tick t enters the
controller at t, as a trace request of cycle t would. The engine stops at most every
``QUANTUM`` steps (cycles simulated or jumps over idle time) so Ctrl-C is seen.

A request of an agent costs one Python event; the engine issues the DRAM commands in C.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from pimsim.addrmap import AddressMapper
from pimsim.ambit.bulk import BulkEngine, BulkError, OpReport
from pimsim.ambit.operands import row_addresses
from pimsim.config import Config
from pimsim.controller import (
    COMPLETED,
    DONE,
    END_OF_TIME,
    JOB_DONE,
    JOBS_AT_ONCE,
    LATENCY_TAIL_HIGH,
    NEED_INPUT,
    REACHED,
    engine_of,
)
from pimsim.device import Device
from pimsim.errors import PimsimError
from pimsim.results.energy import DEFAULT_PROFILE, energy_of, energy_table, get_profile
from pimsim.results.stats import Latencies, add_op, add_pim, build_stats, pim_summary

#: Most steps (cycles simulated, or jumps over idle time) the engine takes before SimPy's
#: clock catches up: bounds the work between two checks for Ctrl-C.
QUANTUM = 1 << 16

#: Requests in flight the engine can tell apart (their tags are nonzero int32, reused).
TAGS = 2**31 - 1

Agent = Generator[simpy.Event, Any, Any]


class SimulationError(PimsimError):
    """The engine cannot go on (an internal inconsistency, or agents waiting for events that
    never come): an error while simulating."""


class System:
    """One DRAM system under ``config`` and the SimPy environment its agents run in.

    ``with_data=False`` simulates timing only (rows keep no contents); otherwise every
    write stores its burst (each 8-byte word holds its own byte address). Energy is reported
    under ``energy_profile``; ``label`` names the run in errors and in the stats document
    (its ``trace`` key). Times given to and returned by the API are memory-clock cycles.

    Example::

        sim = System(load_config("ddr4-2400"))

        def chain(sim, n):
            for i in range(n):
                yield sim.read(i * (1 << 20))  # resumes when the data is back
            yield sim.timeout(100)

        sim.process(chain(sim, 100))
        doc = sim.run()  # the stats document, as pimsim.sim.Replay gives
    """

    def __init__(
        self,
        config: Config,
        with_data: bool = True,
        energy_profile: str = DEFAULT_PROFILE,
        label: str = "agents",
    ):
        self.config = config
        self.label = label
        self.energy_profile = get_profile(energy_profile).name
        energy_table(config, self.energy_profile)  # a datasheet it refuses fails before the run
        self.device = Device(config)
        self.mapper = AddressMapper.for_config(config)
        self.clock = self.device.clock
        self.with_data = with_data
        self.engine = engine_of(self.device, with_data)
        self.env = simpy.Environment()
        self.pim = pim_summary([])  # totals of the bulk operations done so far
        self.interrupted = False
        #: Called after every run of the engine (e.g. to write out the commands it issued).
        self.on_advance: Callable[[], None] | None = None
        #: Called when the engine's job issued its last command (default: finish a bbop).
        self.on_job_done: Callable[[], None] = self._finish_bbop
        self._bulk: BulkEngine | None = None
        self._job_slots = simpy.Resource(self.env, capacity=JOBS_AT_ONCE)
        self._bbops: dict[int, tuple[Any, simpy.Event]] = {}  # engine job -> plan, event
        self._waiting: dict[int, simpy.Event] = {}  # request tag -> its event
        self._next_tag = 1
        self._agents = 0  # agent processes not finished
        self._fed: simpy.Event | None = None  # fires when the loaded chunk is all sent
        self._drained: list[simpy.Event] = []  # fire when every request is served
        self._stepped: list[simpy.Event] = []  # fire after the next run of the engine

    # -- the agents' API --------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The current time, in memory-clock cycles."""
        return self.clock.ticks_in_cycles(self.env.now)

    def process(self, agent: Agent) -> simpy.Process:
        """Start ``agent`` (a generator yielding this system's events) now; the run lasts
        until every agent has returned and the memory has served every request."""
        return self.env.process(self._agent(agent))

    def _agent(self, agent: Agent) -> Agent:
        """Run ``agent``, counted among those the run waits for."""
        self._agents += 1
        try:
            return (yield from agent)
        finally:
            self._agents -= 1

    def timeout(self, cycles: int) -> simpy.Event:
        """An event ``cycles`` memory-clock cycles from now."""
        return self.env.timeout(round(self.clock.cycles_to_ticks(cycles)))

    def read(self, addr: int) -> simpy.Event:
        """Read the 64-byte burst at byte address ``addr``: the event fires, with the cycle
        it did, when the data is back at the controller."""
        return self._request(addr, False)

    def write(self, addr: int) -> simpy.Event:
        """Write the burst at ``addr``: the event fires, with the cycle it did, when the
        write command issues."""
        return self._request(addr, True)

    def _request(self, addr: int, write: bool) -> simpy.Event:
        tag, self._next_tag = self._next_tag, self._next_tag % TAGS + 1
        if tag in self._waiting:
            raise SimulationError(f"{self.label}: more than {TAGS:,} requests in flight")
        self.engine.submit(tag, addr & ~63, *self.mapper.decode(addr), write)
        event = self._waiting[tag] = self.env.event()
        return event

    def bbop(self, op: str, dst: int, *sources: int, size: int) -> simpy.Process:
        """``dst = op(*sources)`` over ``size`` bytes in DRAM (Ambit, RowClone), as a job of
        the controller that shares banks and command bus with the agents' requests: in its
        banks the requests and bbops made before it go first and later ones wait for it;
        elsewhere they are served while it runs, so bbops on disjoint banks overlap (up to
        pimsim.controller.JOBS_AT_ONCE; more wait for a slot). The event fires, with the
        pimsim.ambit.bulk.OpReport, when the job's last command issued. Operands must be
        whole rows of one vector layout (see BulkEngine.vectors_at), else a BulkError names
        the reason. ``op`` may be a library operation with its width (``add16``: ``dst``
        and the sources are its operands, destinations first; bit i of each at its address
        + i * size)."""
        return self.env.process(self._agent(self._bulk_issuer(op, dst, sources, size)))

    def _bulk_issuer(self, op: str, dst: int, sources: tuple[int, ...], size: int) -> Agent:
        program, dsts, srcs = row_addresses(op, (dst, *sources), size)
        vectors, reason = self.bulk.vectors_at(self.mapper, (*dsts, *srcs), size, program)
        if not vectors:
            raise BulkError(f"bbop {op} at {dst:#x}: not an in-DRAM operation: {reason}")
        with self._job_slots.request() as slot:
            yield slot
            plan = self.bulk.plan_rows(
                program, vectors[: len(dsts)], vectors[len(dsts) :], not_before=self.engine.now
            )
            done = self.env.event()
            plan.job.submit(self.engine)
            self._bbops[self.engine.last_job] = (plan, done)
            report = yield done
        if plan.host is not None:  # fallback rows: the host model once the memory is idle
            host = yield from self.bulk.host.run(plan, self._served)
            report = self.bulk.report(plan, plan.span, host)
            add_op(self.pim, report.to_dict())
        return report

    def _served(self) -> Agent:
        yield self.drained()

    def _finish_bbop(self) -> None:
        plan, done = self._bbops.pop(self.engine.finished_job)
        plan.span = plan.job.finish(self.engine)
        report: OpReport | None = None
        if plan.host is None:
            report = self.bulk.report(plan, plan.span)
            add_op(self.pim, report.to_dict())
        done.succeed(report)

    @property
    def bulk(self) -> BulkEngine:
        """The bulk-operation engine of the device (made on first use)."""
        if self._bulk is None:
            self._bulk = BulkEngine(self.device)
        return self._bulk

    # -- feeding the engine in bulk (trace chunks, host programs) -------------------------------

    def fed(self) -> simpy.Event:
        """An event that fires when the chunk just loaded into the engine (Engine.load or
        load_host) has all entered the controller."""
        self._fed = self.env.event()
        return self._fed

    def drained(self) -> simpy.Event:
        """An event that fires when the memory has served every request made so far and
        the job is done."""
        event = self.env.event()
        self._drained.append(event)
        return event

    def stepped(self) -> simpy.Event:
        """An event that fires after the engine's next run (at most ``QUANTUM`` steps)."""
        event = self.env.event()
        self._stepped.append(event)
        return event

    # -- the clock ------------------------------------------------------------------------------

    def advance(self) -> int:
        """Run the engine up to the next agent wake-up, an event it reports, or ``QUANTUM``
        steps; returns the engine's result code (pimsim.controller)."""
        feeding, draining = self._fed is not None, bool(self._drained) or not self._agents
        wake = self.env.peek()
        until = END_OF_TIME if wake == math.inf else math.ceil(wake)
        try:
            result = self.engine.run(until, not feeding, not (feeding or draining), QUANTUM)
        except RuntimeError as exc:
            raise SimulationError(f"{self.label}: {exc}") from None
        if result == REACHED and self.engine.now >= END_OF_TIME:
            raise SimulationError(
                f"{self.label}: the engine waits for nothing (stalled): agents wait for "
                "events that never come"
            )
        if self.on_advance:
            self.on_advance()
        return result

    def _clock(self) -> Agent:
        env, engine = self.env, self.engine
        while True:
            if env.peek() <= env.now:  # agents act at this tick before the engine steps on
                yield env.timeout(0)
                continue
            result = self.advance()
            if engine.now > env.now:
                yield env.timeout(engine.now - env.now)
            cycle = self.clock.ticks_in_cycles(env.now)
            if result == COMPLETED:
                for tag in engine.completions().tolist():
                    self._waiting.pop(tag).succeed(cycle)
            elif result == JOB_DONE:
                self.on_job_done()
            elif result == NEED_INPUT and self._fed is not None:
                fed, self._fed = self._fed, None
                fed.succeed(cycle)
            elif result == DONE:
                if not self._agents and not self._drained:
                    return
                drained, self._drained = self._drained, []
                for event in drained:
                    event.succeed(cycle)
            stepped, self._stepped = self._stepped, []
            for event in stepped:
                event.succeed(cycle)

    def run(self) -> dict:
        """Run every agent to its end and the memory until it has served every request
        (Ctrl-C stops early); return the stats document (see :meth:`stats`)."""
        self.simulate()
        return self.stats()

    def simulate(self) -> None:
        """Run every agent to its end and the memory until it has served every request;
        Ctrl-C stops early (``interrupted``)."""
        self.env.process(self._clock())
        try:
            self.env.run()
        except KeyboardInterrupt:
            self.interrupted = True

    # -- results --------------------------------------------------------------------------------

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
        """The stats document of what ran so far: ``cycles`` is the cycle of the last read
        returned or write issued plus one (with bulk operations, at least the engine's
        time). Stats and energy come from one counters snapshot taken here."""
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
            trace=self.label,
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
