"""The data effect of a program run over many rows: a row program run by the core, and the
same semantics vectorized over host arrays.

A lowered program's steps (pimsim.ambit.lowering) act on rows: one row raised -- its value is
sensed; three -- their bitwise majority is sensed and written back to all three; an
n-wordline reads and stores the complement; the second activation's rows receive the sensed
value. :func:`row_program` turns the steps, once, into a short list of register operations
(load an operand's row, NOT, AND, OR, majority, store an operand's row) in which the compute
rows (T0..T3, DCC0/1) and the constants C0, C1 are registers, never rows of the device: a
compute row holding a constant stays that constant, so that a majority with a constant is one
AND or OR and a copy is no operation at all. The core runs it over every row of a bulk
operation in row order (Device.run_row_program: one 8 KiB row at a time, in the CPU's
cache), so a row whose output is another row's input sees what that row wrote.
:func:`evaluate_host` is the same semantics over whole numpy arrays (a user program's
reference and CPU result); pimsim.ambit.execute.Subarray is the per-row reference of both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.ambit.layout import C0, C1, SubarrayLayout
from pimsim.ambit.lowering import Lowered, Ref
from pimsim.device import Device

ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
ZERO = np.uint64(0)

#: Codes of a row program's operations (pimsim._core.run_rows): each is (code, r, a, b, c).
LOAD, STORE, NOT, AND, OR, MAJ = range(6)

Value = np.ndarray | np.uint64  # a block of rows, or a constant for every row


def _not(value: Value) -> Value:
    return ONES ^ value if isinstance(value, np.uint64) else np.invert(value)


def _majority(a: Value, b: Value, c: Value) -> Value:
    """Bitwise majority of three values; with a constant among them one AND or OR."""
    arrays = [v for v in (a, b, c) if not isinstance(v, np.uint64)]
    consts = [v for v in (a, b, c) if isinstance(v, np.uint64)]
    if not arrays:
        return (a & b) | (b & c) | (a & c)
    if len(consts) >= 2:
        if consts[0] == consts[1]:
            return consts[0]
        return arrays[0]
    if consts:
        x, y = arrays
        return x & y if consts[0] == ZERO else x | y
    out = a & b
    either = a | b
    either &= c
    out |= either
    return out


def run_steps(steps, values: dict, default: Value = ZERO) -> dict[tuple[str, int], int]:
    """Apply lowered ``steps`` to ``values`` (row key -> block value) in place; returns the
    keys written, each with the index of the last step that wrote it."""
    written: dict[tuple[str, int], int] = {}

    def store(ref: Ref, value: Value, k: int) -> None:
        key, negated = ref
        values[key] = _not(value) if negated else value
        written[key] = k

    for k, (read, dst) in enumerate(steps):
        got = [_read(values, ref, default) for ref in read]
        if len(got) == 1:
            sensed = got[0]
        else:
            sensed = _majority(*got)
            for ref in read:
                store(ref, sensed, k)
        for ref in dst:
            store(ref, sensed, k)
    return written


def _read(values: dict, ref: Ref, default: Value) -> Value:
    key, negated = ref
    value = values.get(key, default)
    return _not(value) if negated else value


def constants(layout: SubarrayLayout) -> dict:
    """The constant rows as block values."""
    return {("slot", layout.constant_slot(C0)): ZERO, ("slot", layout.constant_slot(C1)): ONES}


def row_program(low: Lowered, layout: SubarrayLayout) -> tuple[np.ndarray, int]:
    """``low``'s data effect on one row as register operations: ((n, 5) int32 ops, registers
    used). Registers 0 and 1 are zeros and ones. An operand is loaded where first read; the
    operands written are stored at the end, in the order of their last write. Registers are
    reused once their value is dead (:func:`_allocate`), so a program of thousands of steps
    needs only as many row buffers as values live at once."""
    ops: list[tuple[int, int, int, int, int]] = []
    held = {key: int(value == ONES) for key, value in constants(layout).items()}
    written: dict[tuple[str, int], int] = {}

    def emit(code: int, a: int = 0, b: int = 0, c: int = 0) -> int:
        ops.append((code, len(ops) + 2, a, b, c))
        return len(ops) + 1

    def negated(r: int) -> int:
        return 1 - r if r < 2 else emit(NOT, r)

    def read(ref: Ref) -> int:
        key, negate = ref
        if key not in held:  # an unwritten compute row is never read (the checker's rule)
            held[key] = emit(LOAD, key[1]) if key[0] == "op" else 0
        return negated(held[key]) if negate else held[key]

    def store(ref: Ref, r: int, k: int) -> None:
        key, negate = ref
        held[key] = negated(r) if negate else r
        written[key] = k

    for k, (reads, dst) in enumerate(low.steps):
        got = [read(ref) for ref in reads]
        sensed = got[0] if len(got) == 1 else _majority_of(got, emit)
        for ref in (reads if len(got) > 1 else ()) + dst:
            store(ref, sensed, k)
    for key, _ in sorted(written.items(), key=lambda item: item[1]):
        if key[0] == "op":
            ops.append((STORE, held[key], key[1], 0, 0))
    return _allocate(ops)


def _reads(op: tuple[int, int, int, int, int]) -> tuple[int, ...]:
    """The registers an operation reads."""
    code, r, a, b, c = op
    if code == LOAD:
        return ()
    if code == STORE:
        return (r,)
    return {NOT: (a,), AND: (a, b), OR: (a, b), MAJ: (a, b, c)}[code]


def _allocate(ops: list[tuple[int, int, int, int, int]]) -> tuple[np.ndarray, int]:
    """``ops`` (each value in its own register) with registers reused after their last read:
    (the ops, registers used). An operation may write the register one of its inputs dies
    in (the core computes word by word, reading before it writes)."""
    last: dict[int, int] = {}
    for j, op in enumerate(ops):
        for reg in _reads(op):
            last[reg] = j
    free: list[int] = []
    where = {0: 0, 1: 1}
    used = 2
    out = np.zeros((len(ops), 5), dtype=np.int32)
    for j, op in enumerate(ops):
        code, r, a, b, c = op
        reads = _reads(op)
        mapped = [where[x] for x in reads]
        for reg in set(reads):
            if reg >= 2 and last[reg] == j:
                free.append(where.pop(reg))
        if code == STORE:
            out[j] = (code, mapped[0], a, 0, 0)
            continue
        if free:
            dest = free.pop()
        else:
            dest, used = used, used + 1
        where[r] = dest
        if r not in last:  # never read: its register is free again at once
            free.append(where.pop(r))
        args = mapped + [0] * (3 - len(mapped)) if code != LOAD else [a, 0, 0]
        out[j] = (code, dest, *args)
    return out, used


def _majority_of(regs: list[int], emit) -> int:
    """The register of the majority of three registers; with a constant among them one AND
    or OR, with two a constant or a register as it is."""
    consts = [r for r in regs if r < 2]
    rows = [r for r in regs if r >= 2]
    if len(consts) == 3:
        return int(sum(consts) >= 2)
    if len(consts) == 2:
        return consts[0] if consts[0] == consts[1] else rows[0]
    if consts:
        return emit(AND if consts[0] == 0 else OR, *rows)
    return emit(MAJ, *rows)


def apply_rows(device: Device, low: Lowered, layout: SubarrayLayout, ids: np.ndarray) -> None:
    """Run ``low`` over rows whose operands have flat row ids ``ids`` (n, operands), in row
    order."""
    if len(ids):
        device.run_row_program(ids, *row_program(low, layout))


def evaluate_host(
    low: Lowered,
    layout: SubarrayLayout,
    sources: Sequence[np.ndarray],
    output: int,
    shape: tuple[int, ...],
) -> np.ndarray:
    """The value of operand ``output`` after ``low`` ran on input arrays ``sources`` (of
    ``shape``, uint64): a user program's reference and CPU result, vectorized."""
    return evaluate_operands(low, layout, sources, [output], shape)[0]


def evaluate_operands(
    low: Lowered,
    layout: SubarrayLayout,
    sources: Sequence[np.ndarray],
    operands: Sequence[int],
    shape: tuple[int, ...],
) -> list[np.ndarray]:
    """The values of ``operands`` (indices among the program's rows) after ``low`` ran on
    input arrays ``sources`` (of ``shape``, uint64), vectorized."""
    values = constants(layout)
    for k, src in enumerate(sources):
        values[("op", k)] = np.asarray(src, dtype=np.uint64)
    run_steps(low.steps, values)
    out = []
    for k in operands:
        value = values.get(("op", k), ZERO)
        out.append(
            np.full(shape, value, dtype=np.uint64) if isinstance(value, np.uint64) else value
        )
    return out
