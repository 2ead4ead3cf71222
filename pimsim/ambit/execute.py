"""The slow per-command twin of the bulk path: µprograms and copies one Python object per
DRAM command, for tests to check the lowered tables and vectorized data against.

``AAP src -> dst`` is ACT src, AACT dst, PRE; ``AP addr`` is ACT addr, PRE. Row contents
follow the activation: raising one row senses its value, raising three senses their bitwise
majority and rewrites all three with it, an n-wordline reads and writes the complement; the
AACT's rows receive the sensed value. :class:`Binding` yields a program's commands on one
subarray with their data actions, :func:`copy_commands` a RowClone PSM / PSM-twice /
LISA-RISC copy's, :func:`run_streams` runs such streams as one controller job. The product
path (pimsim.ambit.bulk) builds the same commands from templates (pimsim.ambit.lowering) and
applies the data with numpy (pimsim.ambit.rowdata).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pimsim.ambit.jobs import Job, Part, Span, run_job
from pimsim.ambit.layout import C0, C1, SubarrayLayout, Wordline
from pimsim.ambit.lowering import JOB_FIELDS
from pimsim.ambit.lowering import PimDevice as _Checked
from pimsim.ambit.staging import check_aliases, check_staged
from pimsim.ambit.vectors import RowAddress
from pimsim.device import Device
from pimsim.programs.parse import Program
from pimsim.standards import CMD

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
    """The (first) output of a checked ``program`` on input rows ``sources`` (``words``
    uint64 each), computed on the host by running its commands on a :class:`HostSubarray`:
    a user's program's own reference, and its CPU path."""
    return evaluate_outputs(program, layout, sources, words)[0]


def evaluate_outputs(
    program: Program, layout: SubarrayLayout, sources: Sequence[np.ndarray], words: int
) -> list[np.ndarray]:
    """Every output row of ``program`` after its commands ran on input rows ``sources``
    (see :func:`evaluate`), in ``program.outputs`` order."""
    sub = HostSubarray(layout, words)
    rows = {name: k for k, name in enumerate(program.operands)}
    for name, values in zip(program.inputs, sources, strict=True):
        sub.rows[rows[name]] = np.asarray(values, dtype=np.uint64)
    for cmd in Binding(program, sub, rows).commands():
        if cmd.action is not None:
            cmd.action()
    return [sub._read(Wordline(rows[out], False)) for out in program.outputs]


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
                check_staged(program, layout, name, offset)
                continue
            if not 0 <= offset < layout.data_rows:
                raise ValueError(
                    f"{program.name}: operand {name} at offset {offset} is not a "
                    f"data row (0..{layout.data_rows - 1})"
                )
        self.program, self.subarray, self.rows = program, subarray, dict(rows)
        check_aliases(program, self.rows)

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


def command_part(device: Device, streams: Iterable[Iterable[Command]]) -> Part:
    """A job part from streams of :class:`Command` objects; its data actions run in issue
    order."""
    commands, rows, stream_end, activated = [], [], [], []
    for stream in streams:
        for cmd in stream:
            commands.append(cmd)
            rows.append((CMD[cmd.name], *cmd.bank, cmd.row, cmd.column, len(cmd.raised) or 1))
            if cmd.name in ("ACT", "AACT"):
                activated += [(*cmd.bank, r) for r in cmd.raised]
        stream_end.append(len(commands))
    table = np.array(rows, dtype=np.int32).reshape(-1, JOB_FIELDS)
    ids = device.row_ids(*np.array(activated, dtype=np.int64).reshape(-1, 5).T)

    def apply(order: np.ndarray) -> None:
        for i in order.tolist():
            action = commands[i].action
            if action is not None:
                action()

    return Part(
        table, np.array(stream_end, dtype=np.int64), apply, ids, np.ones(len(ids), np.int64)
    )


def run_streams(device: Device, streams: Iterable[Iterable[Command]], not_before: int = 0) -> Span:
    """Run command streams as one job (pimsim.ambit.jobs); returns the span from the first
    command to the last PRE plus tRP."""
    return run_job(device, Job(device, [command_part(device, streams)], not_before))


def copy_commands(
    device: Device, src: RowAddress, dst: RowAddress, dst_address: int | None = None
) -> Iterator[Command]:
    """Copy row ``src`` to physical row ``dst`` of the same rank without the channel
    (``dst_address``: the row address to activate when it is not ``dst``'s own): PSM to
    another bank, else LISA-RISC (``pim.lisa``) or PSM twice through the temporary row of
    the next bank (pimsim.ambit.copies)."""
    if dst_address is None:
        dst_address = dst[4]
    if src[:4] != dst[:4]:
        yield from _transfer(device, src, dst, dst_address)
        return
    org, layout = device.config.organisation, SubarrayLayout.from_params(device.config.pim)
    if device.config.pim.lisa:
        yield from _lisa(device, layout, src, dst, dst_address)
        return
    ch, rk, bg, ba = src[:4]
    ba_tmp, bg_tmp = (ba + 1) % org.banks_per_group, bg
    if org.banks_per_group == 1:
        bg_tmp = (bg + 1) % org.bankgroups
    sub = src[4] // layout.physical_rows
    tmp = (ch, rk, bg_tmp, ba_tmp, sub * layout.physical_rows + layout.temp_slot)
    yield from _transfer(device, src, tmp, tmp[4])
    yield from _transfer(device, tmp, dst, dst_address)


def _lisa(device, layout, src, dst, dst_address) -> Iterator[Command]:
    """ACT the source; per half (even words, then odd) RBM hop by hop and AACT the
    destination, PREE between the halves; PRE."""
    pim = device.config.pim
    hops = abs(dst[4] // layout.physical_rows - src[4] // layout.physical_rows)
    bank = src[:4]

    def store_half(half: int) -> None:
        row = device.read_row(*dst)
        row[half::2] = device.read_row(*src)[half::2]
        device.write_row(*dst, row)

    yield Command("ACT", bank, src[4], raised=(src[4],))
    for half in (0, 1):
        if half:
            yield Command("PREE", bank, src[4])
        for _ in range(-(-hops // pim.rbm_subarrays)):
            yield Command("RBM", bank, dst_address)
        yield Command("AACT", bank, dst_address, lambda h=half: store_half(h), (dst[4],))
    yield Command("PRE", bank, 0)


def _transfer(device, src, dst, dst_address) -> Iterator[Command]:
    """RowClone PSM from ``src`` to ``dst`` (another bank of the rank)."""
    org = device.config.organisation
    yield Command("ACT", src[:4], src[4], raised=(src[4],))
    yield Command("ACT", dst[:4], dst_address, raised=(dst[4],))
    bursts = org.columns // org.burst_length
    for k in range(bursts):
        last = k == bursts - 1
        yield Command(
            "TRANSFER",
            (*src[:2], 0, 0),
            0,
            (lambda: device.write_row(*dst, device.read_row(*src))) if last else None,
        )
    yield Command("PRE", src[:4], 0)
    yield Command("PRE", dst[:4], 0)


class PimDevice(_Checked):
    """Runs µprograms on a :class:`~pimsim.device.Device` one command object at a time."""

    def __init__(self, device: Device):
        super().__init__(device)
        self._subarrays: dict[tuple[Bank, int], Subarray] = {}

    def subarray(self, bank: Bank, index: int) -> Subarray:
        key = (bank, index)
        if key not in self._subarrays:
            self._subarrays[key] = Subarray(self.device, self.layout, bank, index)
        return self._subarrays[key]

    def bind(
        self, program: Program, bank: Bank, subarray: int, rows: Mapping[str, int | str]
    ) -> Binding:
        """Check ``program`` (once) and bind it to data rows (offsets within the subarray)
        or, for inputs, staging addresses."""
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
