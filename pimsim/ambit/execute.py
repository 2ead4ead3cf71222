"""Run µprograms on the device: real ACT/AACT/PRE commands, and bit-exact row contents.

``AAP src -> dst`` is ACT src, AACT dst, PRE; ``AP addr`` is ACT addr, PRE. Each command is
issued at the earliest tick the device's timing tables allow (the AACT after ``nAAP``: tWLOV
with the split row decoder, tRAS without; PRE tRAS after the last ACT; the next ACT tRP after
PRE; tRRD, tFAW and the command bus across banks). Row contents follow the activation:
raising one row senses its value, raising three senses their bitwise majority and rewrites
all three with it, an n-wordline reads and writes the complement; the AACT's rows receive the
sensed value. Programs on different banks run interleaved (:func:`run_streams`), each bank in
order, so bank parallelism is limited exactly as the standard limits it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from pimsim.ambit.layout import C0, C1, SubarrayLayout, Wordline
from pimsim.device import Device
from pimsim.programs.check import check
from pimsim.programs.parse import Program

Bank = tuple[int, int, int, int]  # channel, rank, bankgroup, bank
ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class Command:
    """One DRAM command of a stream, with what it does to row data when it issues."""

    name: str  # ACT, AACT, PRE, RD or WR
    bank: Bank
    row: int  # row address sent with it (0 for PRE)
    action: Callable[[], None] | None = None
    raised: tuple[int, ...] = ()  # physical rows an ACT/AACT raises (its wordlines)
    column: int = 0  # RD/WR


@dataclass
class ActivityCounters:
    """What in-DRAM work did to the rows: kept by :func:`run_streams` when given one.

    ``rows_raised`` counts every raised wordline; ``activations`` counts activations per
    (bank, physical row) -- the most any row got is its RowHammer exposure;
    ``busy_ticks`` per bank is the time from each ACT to its PRE plus tRP.
    """

    rows_raised: int = 0
    activations: dict[tuple[Bank, int], int] = field(default_factory=dict)
    busy_ticks: dict[Bank, int] = field(default_factory=dict)
    opened_at: dict[Bank, int] = field(default_factory=dict)

    def record(self, cmd: Command, tick: int, nrp: int) -> None:
        if cmd.name in ("ACT", "AACT"):
            self.rows_raised += len(cmd.raised)
            for row in cmd.raised:
                key = (cmd.bank, row)
                self.activations[key] = self.activations.get(key, 0) + 1
            if cmd.name == "ACT":
                self.opened_at[cmd.bank] = tick
        elif cmd.name == "PRE":
            start = self.opened_at.pop(cmd.bank, tick)
            self.busy_ticks[cmd.bank] = self.busy_ticks.get(cmd.bank, 0) + tick + nrp - start

    @property
    def max_row_activations(self) -> int:
        return max(self.activations.values(), default=0)


@dataclass(frozen=True)
class Span:
    """Ticks of the first command and of the end of the last one (its PRE plus tRP)."""

    first_tick: int
    end_tick: int


class Subarray:
    """Row data of one subarray as Ambit sees it: sensing, and writing through wordlines."""

    def __init__(self, device: Device, layout: SubarrayLayout, bank: Bank, index: int):
        self.device, self.layout, self.bank = device, layout, bank
        self.base = index * layout.rows_per_subarray
        self.sensed: np.ndarray | None = None
        c1 = self.base + layout.constant_slot(C1)
        if not (device.read_row(*bank, c1) == ALL_ONES).all():
            device.write_row(*bank, c1, np.full(device.config.organisation.columns, ALL_ONES))

    def _read(self, wl: Wordline) -> np.ndarray:
        row = self.device.read_row(*self.bank, self.base + wl.slot)
        return ~row if wl.negated else row

    def _write(self, wl: Wordline, value: np.ndarray) -> None:
        self.device.write_row(*self.bank, self.base + wl.slot, ~value if wl.negated else value)

    def activate(self, wordlines: tuple[Wordline, ...]) -> None:
        """First activation: sense one row, or the majority of three (written back to all)."""
        values = [self._read(wl) for wl in wordlines]
        if len(values) == 1:
            self.sensed = values[0]
            return
        a, b, c = values
        self.sensed = (a & b) | (b & c) | (a & c)
        for wl in wordlines:
            self._write(wl, self.sensed)

    def receive(self, wordlines: tuple[Wordline, ...]) -> None:
        """Second activation: the raised rows take the sensed value."""
        for wl in wordlines:
            self._write(wl, self.sensed)


def _check_aliases(program: Program, rows: Mapping[str, int]) -> None:
    """An output bound to an input's row must not be written before that input's last read."""
    for out in program.outputs:
        for inp in program.inputs:
            if rows[out] != rows[inp]:
                continue
            reads = [s.line for s in program.steps if s.src == inp]
            writes = [s.line for s in program.steps if s.dst == out]
            if reads and writes and min(writes) < max(reads):
                raise ValueError(
                    f"{program.name}: output {out} shares a row with input {inp}, "
                    f"and line {min(writes)} overwrites it before line "
                    f"{max(reads)} reads it"
                )


def _check_staged(program: Program, layout: SubarrayLayout, name: str, address: str) -> None:
    """An input staged in a compute row (bound to the address that raises it alone) must not
    be overwritten before the program's last read of that input."""
    raised = layout.wordlines(address) if address in layout.decoder else ()
    if len(raised) != 1 or raised[0].negated:
        raise ValueError(f"{program.name}: {address} does not raise one compute row alone")
    slot = raised[0].slot
    reads = [s.line for s in program.steps if s.src == name]
    writes = [s.line for s in program.steps if slot in layout.writes(s.src, s.dst)]
    if reads and writes and min(writes) < max(reads):
        raise ValueError(
            f"{program.name}: input {name} staged in {address}, which line {min(writes)} "
            f"overwrites before line {max(reads)} reads it"
        )


class Binding:
    """A µprogram bound to a subarray of a bank and to data rows for its operands (an input
    may instead be staged in a compute row: bound to the reserved address that raises it)."""

    def __init__(self, program: Program, subarray: Subarray, rows: Mapping[str, int | str]):
        missing = set(program.operands) - set(rows)
        if missing:
            raise ValueError(f"{program.name}: no data row given for {', '.join(sorted(missing))}")
        layout = subarray.layout
        for name, offset in rows.items():
            if isinstance(offset, str) and name in program.inputs:
                _check_staged(program, layout, name, offset)
                continue
            if not 0 <= offset < layout.data_rows:
                raise ValueError(
                    f"{program.name}: operand {name} at offset {offset} is not a "
                    f"data row (0..{layout.data_rows - 1})"
                )
        self.program, self.subarray, self.rows = program, subarray, dict(rows)
        _check_aliases(program, self.rows)

    def _wordlines(self, name: str) -> tuple[Wordline, ...]:
        bound = self.rows.get(name, name)
        if isinstance(bound, int):
            return (Wordline(bound, False),)
        return self.subarray.layout.wordlines(bound)

    def _address(self, name: str) -> int:
        layout = self.subarray.layout
        name = self.rows.get(name, name)
        if isinstance(name, int):
            offset = name
        elif name in (C0, C1):
            offset = layout.constant_slot(name)
        else:
            offset = layout.address_slot(name)
        return self.subarray.base + offset

    def commands(self) -> Iterator[Command]:
        """The program's DRAM commands in order, each with its data action."""
        sub, bank = self.subarray, self.subarray.bank
        for step in self.program.steps:
            src = self._wordlines(step.src)
            yield Command(
                "ACT",
                bank,
                self._address(step.src),
                lambda src=src: sub.activate(src),
                self._physical(src),
            )
            if step.dst is not None:
                dst = self._wordlines(step.dst)
                yield Command(
                    "AACT",
                    bank,
                    self._address(step.dst),
                    lambda dst=dst: sub.receive(dst),
                    self._physical(dst),
                )
            yield Command("PRE", bank, 0)

    def _physical(self, wordlines: tuple[Wordline, ...]) -> tuple[int, ...]:
        """Physical rows of the bank that these wordlines raise."""
        return tuple(self.subarray.base + wl.slot for wl in wordlines)


def run_streams(
    device: Device,
    streams: Iterable[Iterable[Command]],
    not_before: int = 0,
    counters: ActivityCounters | None = None,
) -> Span:
    """Issue several command streams interleaved, each in order, each command as early as
    the device allows; returns the span from the first ACT to the last PRE plus tRP.

    Greedy list scheduling: the stream whose next command can issue first goes next (ties by
    stream order), which is what a controller with one queue per bank would do.

    Refresh (``controller.refresh``) keeps the controller's schedule, one all-bank REF per
    rank every nREFI from tick 0: once a rank's refresh is due, its streams start no new
    activation (a stream that holds a bank open finishes with it), the REF issues as soon
    as the rank's banks are closed, and the held streams go on after it. Ranks without work
    here, and slots that fall due after the last activation, are refreshed at the end
    (those REFs do not lengthen the span).
    """
    by_rows = device.config.pim.faw_counts_raised_rows
    refresh = _Refresh(device, not_before)
    its = [iter(s) for s in streams]
    heads: list[Command | None] = [next(it, None) for it in its]
    holding = [0] * len(its)  # banks each stream has open
    heap = [(not_before, i) for i, h in enumerate(heads) if h is not None]
    heapq.heapify(heap)
    first, last_pre = None, not_before
    while heap:
        _, i = heapq.heappop(heap)
        cmd = heads[i]
        if cmd.raised:
            device.core.set_activation_rows(len(cmd.raised), by_rows)
        when = max(not_before, device.earliest_tick(cmd.name, *cmd.bank, cmd.row, cmd.column))
        if heap and when > heap[0][0]:
            device.core.set_activation_rows(1)
            heapq.heappush(heap, (when, i))  # another stream may go first: look again
            continue
        if cmd.name == "ACT" and not holding[i] and refresh.due(cmd.bank[:2], when):
            device.core.set_activation_rows(1)
            for resumed in refresh.hold(cmd.bank[:2], i):
                heapq.heappush(heap, resumed)
            continue
        device.issue_tick(cmd.name, when, *cmd.bank, cmd.row, cmd.column)
        device.core.set_activation_rows(1)
        if cmd.action is not None:
            cmd.action()
        if counters is not None:
            counters.record(cmd, when, device.timing_ticks["nRP"])
        first = when if first is None else min(first, when)
        if cmd.name == "ACT":
            holding[i] += 1
        elif cmd.name == "PRE":
            holding[i] -= 1
            last_pre = max(last_pre, when)
            for resumed in refresh.closed(cmd.bank[:2]):
                heapq.heappush(heap, resumed)
        heads[i] = next(its[i], None)
        if heads[i] is not None:
            heapq.heappush(heap, (when, i))
    end = not_before if first is None else last_pre + device.timing_ticks["nRP"]
    refresh.catch_up(end)
    return Span(end if first is None else first, end)


class _Refresh:
    """Refresh bookkeeping of :func:`run_streams`: each rank's next due tick on the
    controller's nREFI grid, and the streams held until the rank's REF."""

    def __init__(self, device: Device, not_before: int):
        self.device = device
        org = device.config.organisation
        self.interval = device.timing_ticks["nREFI"] if device.config.controller.refresh else 0
        slot = (not_before // self.interval + 1) * self.interval if self.interval else 0
        self.next_due = {(c, r): slot for c in range(org.channels) for r in range(org.ranks)}
        self.held: dict[tuple[int, int], list[int]] = {}

    def due(self, rank: tuple[int, int], when: int) -> bool:
        """A new activation in ``rank`` at ``when`` must wait for the rank's refresh."""
        return bool(self.interval) and (rank in self.held or when >= self.next_due[rank])

    def hold(self, rank: tuple[int, int], stream: int) -> list[tuple[int, int]]:
        """Hold ``stream``; refresh at once if the rank is closed (streams to resume)."""
        self.held.setdefault(rank, []).append(stream)
        return self.closed(rank)

    def closed(self, rank: tuple[int, int]) -> list[tuple[int, int]]:
        """After a PRE: if the rank waits for its refresh and is now closed, issue the REF
        and return the held streams, to resume from the REF's tick."""
        if rank not in self.held or self.device.core.open_banks_in_rank(*rank):
            return []
        tick = self._ref(rank)
        return [(tick, i) for i in self.held.pop(rank)]

    def _ref(self, rank: tuple[int, int]) -> int:
        tick = max(self.next_due[rank], self.device.earliest_tick("REF", *rank))
        self.device.issue_tick("REF", tick, *rank)
        self.next_due[rank] += self.interval
        return tick

    def catch_up(self, end: int) -> None:
        """Refresh every slot that fell due up to ``end`` (the banks are closed by then)."""
        if not self.interval:
            return
        for rank in self.next_due:
            while self.next_due[rank] <= end:
                self._ref(rank)


class PimDevice:
    """Runs µprograms on a :class:`~pimsim.device.Device` (one per simulated system)."""

    def __init__(self, device: Device):
        self.device = device
        self.layout = SubarrayLayout.from_params(device.config.pim)
        self._subarrays: dict[tuple[Bank, int], Subarray] = {}
        self._checked: set[int] = set()

    def subarray(self, bank: Bank, index: int) -> Subarray:
        key = (bank, index)
        if key not in self._subarrays:
            self._subarrays[key] = Subarray(self.device, self.layout, bank, index)
        return self._subarrays[key]

    def bind(self, program: Program, bank: Bank, subarray: int, rows: Mapping[str, int]) -> Binding:
        """Check ``program`` (once) and bind it to data rows (offsets within the subarray)."""
        if id(program) not in self._checked:
            check(program, self.layout)
            self._checked.add(id(program))
        return Binding(program, self.subarray(bank, subarray), rows)

    def run(
        self,
        program: Program,
        bank: Bank,
        subarray: int,
        rows: Mapping[str, int],
        not_before: int = 0,
    ) -> Span:
        """Run one µprogram on one subarray; returns its span in ticks."""
        return run_streams(
            self.device, [self.bind(program, bank, subarray, rows).commands()], not_before
        )

    def ns(self, ticks: int) -> float:
        """Nanoseconds of a number of ticks."""
        return ticks * self.device.config.tCK_ns / self.device.ticks_per_cycle
