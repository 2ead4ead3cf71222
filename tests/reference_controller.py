"""A memory controller for one channel: request queues, FR-FCFS, open-row, refresh.

The controller follows the per-cycle semantics of Ramulator 2's generic DRAM controller, so
that cycle counts are comparable:

1. a read whose data has come back leaves (at most one per cycle);
2. every nREFI cycles an all-bank refresh request per rank enters the priority queue;
3. one command is chosen and issued: first the requests that already opened their row (the
   active buffer), then the priority (refresh) queue, then the read or the write queue (write
   mode is entered above the high watermark or when no read waits, left below the low one);
   within a queue FR-FCFS picks the oldest request whose next command is ready;
   a command that would close a row some active request still needs is held back.

Each request's next command is the one its bank state requires: ACT on a closed bank, PRE on
a bank open at another row, the RD/WR itself on a row hit (PREA, then REF, for a refresh).
``step(cycle)`` does one cycle; ``next_event(cycle)`` tells the first later cycle at which a
step can change anything, so the SimPy process skips the idle cycles in between.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from pimsim.device import Device
from pimsim.errors import IllegalCommandError

READ, WRITE, REFRESH = 0, 1, 2
FINAL_COMMAND = {READ: "RD", WRITE: "WR", REFRESH: "REF"}


@dataclass
class Request:
    """One memory request inside the controller (times in memory cycles)."""

    kind: int  # READ, WRITE or REFRESH
    address: int  # byte address (-1 for a refresh)
    rank: int
    bankgroup: int = 0
    bank: int = 0
    row: int = 0
    column: int = 0
    arrive: int = 0
    depart: int = -1
    command: str = ""
    counted: bool = False  # row-buffer outcome already recorded


@dataclass
class ControllerParams:
    """Controller settings; sizes in requests, watermarks as fractions of the write queue."""

    read_queue: int = 32
    write_queue: int = 32
    high_watermark: float = 0.8
    low_watermark: float = 0.2
    refresh: bool = True


@dataclass
class ChannelStats:
    """Counters of one channel; latencies of reads in cycles."""

    reads: int = 0
    writes: int = 0
    forwarded_reads: int = 0
    row_hits: int = 0
    row_misses: int = 0
    row_conflicts: int = 0
    refreshes: int = 0
    read_latencies: list[int] = field(default_factory=list)
    last_event: int = 0


class ChannelController:
    """The controller of one channel of ``device``."""

    def __init__(
        self, device: Device, channel: int, params: ControllerParams, with_data: bool = True
    ):
        self.device = device
        self.channel = channel
        self.params = params
        self.with_data = with_data
        timing = device.config.timing
        self.read_latency = timing["nCL"] + timing["nBL"]
        self.refresh_interval = timing["nREFI"]
        self.next_refresh = self.refresh_interval if params.refresh else -1
        self.read_q: list[Request] = []
        self.write_q: list[Request] = []
        self.active: list[Request] = []
        self.priority: list[Request] = []
        self.pending: deque[Request] = deque()
        self.write_mode = False
        self.stats = ChannelStats()

    # -- requests in --------------------------------------------------------------------------

    def send(self, req: Request, cycle: int) -> bool:
        """Offer a read or write at ``cycle``; False when its queue is full."""
        if req.kind == READ and any(w.address == req.address for w in self.write_q):
            req.arrive, req.depart = cycle, cycle + 1
            self.pending.append(req)
            self.stats.forwarded_reads += 1
            return True
        queue = self.read_q if req.kind == READ else self.write_q
        limit = self.params.read_queue if req.kind == READ else self.params.write_queue
        if len(queue) >= limit:
            return False
        req.arrive = cycle
        queue.append(req)
        return True

    def idle(self) -> bool:
        """No request queued, opened or waiting for its data."""
        return not (self.read_q or self.write_q or self.active or self.pending)

    # -- one cycle ------------------------------------------------------------------------------

    def step(self, cycle: int) -> bool:
        """Run cycle ``cycle``; True if a command issued or a read completed."""
        acted = False
        if self.pending and self.pending[0].depart <= cycle:
            req = self.pending.popleft()
            self.stats.read_latencies.append(req.depart - req.arrive)
            self.stats.reads += 1
            self.stats.last_event = max(self.stats.last_event, cycle)
            acted = True
        if cycle == self.next_refresh:
            self.next_refresh += self.refresh_interval
            for rank in range(self.device.config.organisation.ranks):
                self.priority.append(Request(REFRESH, -1, rank, arrive=cycle))
        found = self._schedule(cycle)
        if found is not None:
            req, queue = found
            self._issue(req, queue, cycle)
            acted = True
        return acted

    def next_event(self, cycle: int) -> int:
        """The first cycle after ``cycle`` at which :meth:`step` can do anything."""
        candidates = []
        if self.pending:
            candidates.append(self.pending[0].depart)
        if self.next_refresh > cycle:
            candidates.append(self.next_refresh)
        self._update_write_mode()
        queue = self.write_q if self.write_mode else self.read_q
        for buffer in (self.active, self.priority[:1], queue):
            for req in buffer:
                candidates.append(self._ready_at(req))
        return max(cycle + 1, min(candidates)) if candidates else -1

    # -- scheduling -------------------------------------------------------------------------------

    def _prerequisite(self, req: Request) -> str:
        dev, ch = self.device, self.channel
        if req.kind == REFRESH:
            org = dev.config.organisation
            open_any = any(
                dev.open_row(ch, req.rank, g, b) is not None
                for g in range(org.bankgroups)
                for b in range(org.banks_per_group)
            )
            return "PREA" if open_any else "REF"
        row = dev.open_row(ch, req.rank, req.bankgroup, req.bank)
        if row is None:
            return "ACT"
        return FINAL_COMMAND[req.kind] if row == req.row else "PRE"

    def _ready_at(self, req: Request) -> int:
        """Cycle the request's next command may issue; never the cycle it arrived in."""
        req.command = self._prerequisite(req)
        when = self.device.earliest(
            req.command, self.channel, req.rank, req.bankgroup, req.bank, req.row, req.column
        )
        return max(when, req.arrive + 1)

    def _best(self, queue: list[Request], cycle: int) -> Request | None:
        """FR-FCFS: the oldest request whose next command is ready (queues are in age order)."""
        for req in queue:
            if self._ready_at(req) <= cycle:
                return req
        return None

    def _update_write_mode(self) -> None:
        size, cap = len(self.write_q), self.params.write_queue
        if not self.write_mode:
            if size > self.params.high_watermark * cap or not self.read_q:
                self.write_mode = True
        elif size < self.params.low_watermark * cap and self.read_q:
            self.write_mode = False

    def _schedule(self, cycle: int) -> tuple[Request, list[Request]] | None:
        found = None
        req = self._best(self.active, cycle)
        if req is not None:
            found = (req, self.active)
        elif self.priority:
            head = self.priority[0]
            if self._ready_at(head) > cycle:
                return None
            found = (head, self.priority)
        else:
            self._update_write_mode()
            queue = self.write_q if self.write_mode else self.read_q
            req = self._best(queue, cycle)
            if req is not None:
                found = (req, queue)
        if found is not None and found[0].command in ("PRE", "PREA"):
            victim = found[0]
            for other in self.active:
                if other.rank == victim.rank and (
                    victim.command == "PREA"
                    or (other.bankgroup, other.bank) == (victim.bankgroup, victim.bank)
                ):
                    return None
        return found

    def _issue(self, req: Request, queue: list[Request], cycle: int) -> None:
        cmd = req.command
        if not req.counted and req.kind != REFRESH:
            req.counted = True
            if cmd == FINAL_COMMAND[req.kind]:
                self.stats.row_hits += 1
            elif cmd == "ACT":
                self.stats.row_misses += 1
            else:
                self.stats.row_conflicts += 1
        try:
            self.device.issue(
                cmd, cycle, self.channel, req.rank, req.bankgroup, req.bank, req.row, req.column
            )
        except IllegalCommandError as exc:  # a controller bug, never bad input
            raise RuntimeError(f"controller issued an illegal command: {exc}") from exc
        if cmd == FINAL_COMMAND[req.kind]:
            queue.remove(req)
            if req.kind == READ:
                req.depart = cycle + self.read_latency
                self.pending.append(req)
                if self.with_data:
                    self.device.read_burst(
                        self.channel, req.rank, req.bankgroup, req.bank, req.row, req.column
                    )
            elif req.kind == WRITE:
                self.stats.writes += 1
                self.stats.last_event = max(self.stats.last_event, cycle)
                if self.with_data:
                    self.device.write_burst(
                        self.channel,
                        req.rank,
                        req.bankgroup,
                        req.bank,
                        req.row,
                        req.column,
                        _pattern(req.address),
                    )
            else:
                self.stats.refreshes += 1
        elif cmd == "ACT" and queue is not self.active:
            queue.remove(req)
            self.active.append(req)
            self.active.sort(key=lambda r: r.arrive)


def _pattern(address: int) -> np.ndarray:
    """The data a trace write stores: each 8-byte word holds its own byte address."""
    return np.arange(address, address + 64, 8, dtype=np.uint64)
