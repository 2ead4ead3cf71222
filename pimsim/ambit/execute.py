"""Run µprograms on the device: real ACT/AACT/PRE commands, and bit-exact row contents.

``AAP src -> dst`` is ACT src, AACT dst, PRE; ``AP addr`` is ACT addr, PRE. Each command is
issued at the earliest tick the device's timing tables allow (the AACT after ``nAAP``: tWLOV
with the split row decoder, tRAS without; PRE tRAS after the last ACT; the next ACT tRP after
PRE; tRRD, tFAW and the command bus across banks). Row contents follow the activation:
raising one row senses its value, raising three senses their bitwise majority and rewrites
all three with it, an n-wordline reads and writes the complement; the AACT's rows receive the
sensed value. Programs on different banks run interleaved (:class:`Job`, scheduled by the
memory controller), each bank in order, so bank parallelism is limited exactly as the
standard limits it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pimsim.ambit.jobs import Job, Span, command_part
from pimsim.ambit.layout import C0, C1, SubarrayLayout, Wordline
from pimsim.controller import END_OF_TIME, JOB_DONE, engine_of
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


class Subarray:
    """Row data of one subarray as Ambit sees it: sensing, and writing through wordlines."""

    def __init__(self, device: Device, layout: SubarrayLayout, bank: Bank, index: int):
        self.device, self.layout, self.bank = device, layout, bank
        self.base = index * layout.physical_rows
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


class HostSubarray(Subarray):
    """A subarray whose rows are host arrays of ``words`` uint64 words (untouched rows read
    as zero, C1 as ones): the µprogram semantics of :class:`Subarray` without a device."""

    def __init__(self, layout: SubarrayLayout, words: int):
        self.layout, self.words, self.sensed = layout, words, None
        self.bank, self.base = (0, 0, 0, 0), 0  # where Binding's commands say they go
        self.rows: dict[int, np.ndarray] = {
            layout.constant_slot(C1): np.full(words, ALL_ONES, dtype=np.uint64)
        }

    def _read(self, wl: Wordline) -> np.ndarray:
        row = self.rows.get(wl.slot)
        if row is None:
            row = np.zeros(self.words, dtype=np.uint64)
        return ~row if wl.negated else row

    def _write(self, wl: Wordline, value: np.ndarray) -> None:
        self.rows[wl.slot] = ~value if wl.negated else value


def evaluate(
    program: Program, layout: SubarrayLayout, sources: Sequence[np.ndarray], words: int
) -> np.ndarray:
    """The output of a checked ``program`` on input rows ``sources`` (``words`` uint64
    each), computed on the host by running its commands on a :class:`HostSubarray`: a
    user's program's own reference, and its CPU path."""
    sub = HostSubarray(layout, words)
    rows = {name: k for k, name in enumerate(program.operands)}
    for name, values in zip(program.inputs, sources, strict=True):
        sub.rows[rows[name]] = np.asarray(values, dtype=np.uint64)
    for cmd in Binding(program, sub, rows).commands():
        if cmd.action is not None:
            cmd.action()
    return sub._read(Wordline(rows[program.outputs[0]], False))


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


def run_job(device: Device, job: Job) -> Span:
    """Run ``job`` on the device's controller to its end (refreshes due by then included)."""
    engine = engine_of(device)
    job.submit(engine)
    while engine.run(END_OF_TIME, True) != JOB_DONE:
        pass
    span = job.finish(engine)
    engine.run(span.end_tick + 1, True, True)
    return span


def run_streams(device: Device, streams: Iterable[Iterable[Command]], not_before: int = 0) -> Span:
    """Run command streams as one job (pimsim.ambit.jobs); returns the span from the first
    command to the last PRE plus tRP."""
    return run_job(device, Job(device, [command_part(device, streams)], not_before))


class PimDevice:
    """Runs µprograms on a :class:`~pimsim.device.Device` (one per simulated system)."""

    def __init__(self, device: Device):
        self.device = device
        self.layout = SubarrayLayout.from_params(device.config.pim)
        self._subarrays: dict[tuple[Bank, int], Subarray] = {}
        self._checked: dict[int, Program] = {}  # kept alive so that ids stay unique

    def subarray(self, bank: Bank, index: int) -> Subarray:
        key = (bank, index)
        if key not in self._subarrays:
            self._subarrays[key] = Subarray(self.device, self.layout, bank, index)
        return self._subarrays[key]

    def check(self, program: Program) -> None:
        """Check ``program`` against this device's layout (once per program object)."""
        if id(program) not in self._checked:
            check(program, self.layout)
            self._checked[id(program)] = program

    def bind(self, program: Program, bank: Bank, subarray: int, rows: Mapping[str, int]) -> Binding:
        """Check ``program`` (once) and bind it to data rows (offsets within the subarray)."""
        self.check(program)
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
