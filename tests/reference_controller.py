"""A slow, plain-Python twin of the trace-replay engine (pimsim._replay), for tests.

It implements the semantics stated in the engine's module docstring in the most direct way:
one Python loop over *every* memory cycle (no idle-cycle skipping: that is what it checks),
lists for the queues, and :class:`pimsim.device.Device` for every DRAM timing and bank-state
question (``earliest``, ``issue``, ``open_row``). It never touches pimsim._replay.

Per cycle, in this order:

1. every channel controller steps (:meth:`ChannelController.step`):

   a. the read at the head of the pending FIFO leaves if its data is back (``depart <=
      cycle``); at most one per cycle, and only the head (a forwarded read waits behind an
      older read still in flight);
   b. at cycle nREFI, 2 nREFI, ... one all-bank refresh request per rank enters the priority
      queue (dropped if the queue already holds 2 x ranks); it may issue in that same cycle;
   c. one request is chosen: from the active buffer (requests whose row this controller
      opened) by the scheduler; if none is ready, from the priority queue (its head only) if
      it is non-empty, and then nothing else is considered; otherwise from the write queue in
      write mode, else the read queue, by the scheduler. Write mode is entered when the write
      queue holds more than ``high_watermark * write_queue`` writes or no read waits, and left
      when it holds fewer than ``low_watermark * write_queue`` (or none) and a read waits
      (updated only
      when the read/write queues are reached). A chosen PRE/PREA that would close a row an
      active request still needs (same rank; same bank for PRE) is held back: nothing issues;
   d. the chosen request's next command issues. It is the one the bank state requires (ACT,
      PRE, then RD/WR; PREA, then REF for a refresh), and may not issue before the cycle after
      the request arrived. Under the closed row policy a RD/WR becomes RDA/WRA when no other
      request in the active, read or write queue wants the same row of that bank, or when the
      bank already served ``row_cap - 1`` column commands since its ACT;

2. the frontend offers the next trace request, at most one, not before its trace cycle: a read
   whose 64-byte line has a write in the write queue is answered from it (pending, departing
   the next cycle, no queue slot used); otherwise it enters its queue if there is room, or
   waits for the next cycle.

The row-buffer outcome of a request is counted at its first command (column: hit, ACT: miss,
PRE: conflict). A read's latency is ``depart - arrive`` with ``depart`` = RD issue cycle + nCL
+ nBL. The run ends at the first cycle where the whole trace is sent and every channel has
empty read, write and active queues and no pending read; ``cycles`` is one more than the last
cycle at which a read returned or a write issued, over all channels.

Should a change of rules ever deadlock (as FCFS with the closed row policy once did: see
tests/test_replay_vs_reference.py::test_fcfs_closed_row_never_deadlocks), the reference
raises :class:`Stalled` instead of looping for ever.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from pimsim.addrmap import AddressMapper
from pimsim.config import Config, ControllerParams
from pimsim.device import Device

READ, WRITE, REFRESH = 0, 1, 2
COLUMN_COMMAND = {READ: "RD", WRITE: "WR"}
AUTO_PRECHARGE = {"RD": "RDA", "WR": "WRA"}
LINE_BYTES = 64


class Stalled(RuntimeError):
    """The reference made no progress for a long stretch: the semantics deadlock."""


@dataclass(eq=False)  # identity, not field equality: two requests may look alike
class Request:
    """One request inside a controller (cycles are memory cycles)."""

    kind: int  # READ, WRITE or REFRESH
    address: int  # byte address (-1 for a refresh)
    rank: int
    bankgroup: int = 0
    bank: int = 0
    row: int = 0
    column: int = 0
    arrive: int = 0
    depart: int = -1
    command: str = ""  # the next command, as last computed by ready_at
    counted: bool = False  # row-buffer outcome already recorded

    @property
    def bank_key(self) -> tuple[int, int, int]:
        return (self.rank, self.bankgroup, self.bank)


@dataclass
class ChannelStats:
    """Counters of one channel, named as in the engine's ``channel_stats``."""

    reads: int = 0
    writes: int = 0
    forwarded_reads: int = 0
    row_hits: int = 0
    row_misses: int = 0
    row_conflicts: int = 0
    refreshes: int = 0
    last_event: int = 0
    latencies: Counter = field(default_factory=Counter)

    def histogram(self) -> np.ndarray:
        """Read latencies as counts per cycle, trailing zeros trimmed (as the engine)."""
        if not self.latencies:
            return np.zeros(0, dtype=np.int64)
        hist = np.zeros(max(self.latencies) + 1, dtype=np.int64)
        for latency, count in self.latencies.items():
            hist[latency] = count
        return hist

    def as_dict(self) -> dict:
        return {
            "reads": self.reads,
            "writes": self.writes,
            "forwarded_reads": self.forwarded_reads,
            "row_hits": self.row_hits,
            "row_misses": self.row_misses,
            "row_conflicts": self.row_conflicts,
            "refreshes": self.refreshes,
            "last_event": self.last_event,
            "latency_histogram": self.histogram(),
        }


class ChannelController:
    """The memory controller of one channel of ``device``."""

    def __init__(self, device: Device, channel: int, params: ControllerParams):
        self.device = device
        self.channel = channel
        self.params = params
        org, timing = device.config.organisation, device.config.timing
        self.ranks = org.ranks
        self.banks_per_rank = [
            (g, b) for g in range(org.bankgroups) for b in range(org.banks_per_group)
        ]
        self.read_latency = timing["nCL"] + timing["nBL"]
        self.refresh_interval = timing["nREFI"] if params.refresh else 0
        self.next_refresh = self.refresh_interval if params.refresh else -1
        self.priority_cap = 2 * org.ranks
        self.read_q: list[Request] = []
        self.write_q: list[Request] = []
        self.active: list[Request] = []
        self.priority: list[Request] = []
        self.pending: deque[Request] = deque()
        self.write_mode = False
        self.row_accesses: dict[tuple[int, int, int], int] = {}  # column commands since ACT
        self.stats = ChannelStats()

    # -- requests in --------------------------------------------------------------------------

    def send(self, req: Request, cycle: int) -> bool:
        """Offer a read or write at ``cycle``; False when its queue is full."""
        req.arrive = cycle
        if req.kind == READ and any(
            w.address // LINE_BYTES == req.address // LINE_BYTES for w in self.write_q
        ):
            req.depart = cycle + 1
            self.pending.append(req)
            self.stats.forwarded_reads += 1
            return True
        queue = self.read_q if req.kind == READ else self.write_q
        limit = self.params.read_queue if req.kind == READ else self.params.write_queue
        if len(queue) >= limit:
            return False
        queue.append(req)
        return True

    def idle(self) -> bool:
        """No read or write queued, opened or waiting for its data (refreshes do not count)."""
        return not (self.read_q or self.write_q or self.active or self.pending)

    # -- one cycle ------------------------------------------------------------------------------

    def step(self, cycle: int) -> bool:
        """Run cycle ``cycle``; True if a read returned or a command issued."""
        acted = False
        if self.pending and self.pending[0].depart <= cycle:
            req = self.pending.popleft()
            self.stats.latencies[req.depart - req.arrive] += 1
            self.stats.reads += 1
            self.stats.last_event = cycle
            acted = True
        if cycle == self.next_refresh:
            self.next_refresh += self.refresh_interval
            for rank in range(self.ranks):
                if len(self.priority) < self.priority_cap:
                    # arrives "the cycle before", so that it may issue in this one
                    self.priority.append(Request(REFRESH, -1, rank, arrive=cycle - 1))
        found = self._choose(cycle)
        if found is not None:
            self._issue(*found, cycle)
            acted = True
        return acted

    # -- scheduling -------------------------------------------------------------------------------

    def _prerequisite(self, req: Request) -> str:
        """The command the request needs next, from the bank state."""
        dev, ch = self.device, self.channel
        if req.kind == REFRESH:
            if any(dev.open_row(ch, req.rank, g, b) is not None for g, b in self.banks_per_rank):
                return "PREA"
            return "REF"
        row = dev.open_row(ch, req.rank, req.bankgroup, req.bank)
        if row is None:
            return "ACT"
        return COLUMN_COMMAND[req.kind] if row == req.row else "PRE"

    def _ready_at(self, req: Request) -> int:
        """Cycle the request's next command may issue; never the cycle it arrived in."""
        req.command = self._prerequisite(req)
        when = self.device.earliest(
            req.command, self.channel, req.rank, req.bankgroup, req.bank, req.row, req.column
        )
        return max(when, req.arrive + 1)

    def _pick(self, queue: list[Request], cycle: int, scheduler: str) -> Request | None:
        """FR-FCFS: the oldest request ready now (queues are in age order); FCFS: the oldest
        request if it is ready now, else none."""
        candidates = queue if scheduler == "frfcfs" else queue[:1]
        for req in candidates:
            if self._ready_at(req) <= cycle:
                return req
        return None

    def _update_write_mode(self) -> None:
        writes, cap = len(self.write_q), self.params.write_queue
        if not self.write_mode:
            if writes > self.params.high_watermark * cap or not self.read_q:
                self.write_mode = True
        elif (writes < self.params.low_watermark * cap or not writes) and self.read_q:
            self.write_mode = False

    def _choose(self, cycle: int) -> tuple[Request, list[Request]] | None:
        scheduler = self.params.scheduler
        req = self._pick(self.active, cycle, scheduler)
        if req is not None:
            found = (req, self.active)
        elif self.priority:
            req = self._pick(self.priority, cycle, "fcfs")
            if req is None:
                return None
            found = (req, self.priority)
        else:
            self._update_write_mode()
            queue = self.write_q if self.write_mode else self.read_q
            req = self._pick(queue, cycle, scheduler)
            if req is None:
                return None
            found = (req, queue)
        if req.command in ("PRE", "PREA"):
            for other in self.active:
                if other.rank == req.rank and (
                    req.command == "PREA" or other.bank_key == req.bank_key
                ):
                    return None  # would close a row an active request still needs
        return found

    def _wants_row(self, req: Request, queues=None) -> bool:
        """Another request of ``queues`` (default: active, read and write) targets req's row
        in req's bank."""
        return any(
            other is not req and other.bank_key == req.bank_key and other.row == req.row
            for queue in (queues or (self.active, self.read_q, self.write_q))
            for other in queue
        )

    def _closes_row(self, req: Request) -> bool:
        """Closed row policy: auto-precharge this column command?"""
        if self.params.row_policy == "open":
            return False
        if self._wants_row(req, (self.active,)):
            return False  # an active request opened this row and still needs it
        if self.row_accesses[req.bank_key] + 1 >= self.params.row_cap:
            return True
        return not self._wants_row(req)

    def _issue(self, req: Request, queue: list[Request], cycle: int) -> None:
        cmd = req.command
        column = cmd in ("RD", "WR")
        if req.kind != REFRESH and not req.counted:
            req.counted = True
            if column:
                self.stats.row_hits += 1
            elif cmd == "ACT":
                self.stats.row_misses += 1
            else:
                self.stats.row_conflicts += 1
        if column and self._closes_row(req):
            cmd = AUTO_PRECHARGE[cmd]
        self.device.issue(
            cmd, cycle, self.channel, req.rank, req.bankgroup, req.bank, req.row, req.column
        )
        if cmd == "ACT":
            self.row_accesses[req.bank_key] = 0
        elif column:
            self.row_accesses[req.bank_key] += 1
        if column:
            queue.remove(req)
            if req.kind == READ:
                req.depart = cycle + self.read_latency
                self.pending.append(req)
            else:
                self.stats.writes += 1
                self.stats.last_event = cycle
        elif cmd == "REF":
            queue.remove(req)
            self.stats.refreshes += 1
        elif cmd == "ACT" and queue is not self.active:
            queue.remove(req)
            index = len(self.active)  # keep the active buffer in arrival order
            while index > 0 and self.active[index - 1].arrive > req.arrive:
                index -= 1
            self.active.insert(index, req)


@dataclass
class ReferenceResult:
    cycles: int
    channels: list[dict]  # ChannelStats.as_dict() per channel
    command_counts: np.ndarray  # (channels x commands), COMMANDS order


class ReferenceReplay:
    """Replays ``trace`` (a list of (cycle, is_write, address)) on a fresh Device."""

    def __init__(self, config: Config, trace: list[tuple[int, bool, int]], stall_limit: int = 0):
        self.config = config
        self.device = Device(config)
        self.mapper = AddressMapper(config.organisation, config.address_scheme)
        self.controllers = [
            ChannelController(self.device, ch, config.controller)
            for ch in range(config.organisation.channels)
        ]
        self.trace = trace
        # cycles without a request sent, a read returned or a write issued before giving up
        self.stall_limit = stall_limit or 4 * config.timing["nREFI"] + 20_000

    def _request(self, is_write: bool, address: int) -> tuple[int, Request]:
        ch, rank, bankgroup, bank, row, column = self.mapper.decode(address)
        kind = WRITE if is_write else READ
        return ch, Request(kind, address, rank, bankgroup, bank, row, column)

    def run(self) -> ReferenceResult:
        cycle, sent, done, progress = 0, 0, 0, 0
        offer = self._request(*self.trace[0][1:]) if self.trace else None
        while True:
            for ctl in self.controllers:
                ctl.step(cycle)
            if sent < len(self.trace):
                if self.trace[sent][0] <= cycle:
                    ch, req = offer
                    if self.controllers[ch].send(req, cycle):
                        sent += 1
                        if sent < len(self.trace):
                            offer = self._request(*self.trace[sent][1:])
                else:
                    progress = cycle  # waiting for the trace is not a stall
            elif all(ctl.idle() for ctl in self.controllers):
                break
            served = sent + sum(c.stats.reads + c.stats.writes for c in self.controllers)
            if served != done:
                done, progress = served, cycle
            elif cycle - progress > self.stall_limit:
                raise Stalled(
                    f"no request sent or served since cycle {progress} (now {cycle}); "
                    f"{sent} of {len(self.trace)} sent"
                )
            cycle += 1
        stats = [ctl.stats for ctl in self.controllers]
        return ReferenceResult(
            cycles=max(s.last_event for s in stats) + 1,
            channels=[s.as_dict() for s in stats],
            command_counts=self.device.snapshot(0).commands.copy(),
        )
