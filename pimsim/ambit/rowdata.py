"""The data effect of a program run over many rows, one numpy operation per step.

Rows are taken in blocks of about ``BLOCK_BYTES`` per operand: the inputs are gathered from
the device, every step of the lowered program (pimsim.ambit.lowering) is applied to the
whole block -- one row raised: its value is sensed; three: their bitwise majority is sensed
and written back to all three; an n-wordline reads and stores the complement; the second
activation's rows receive the sensed value -- and the operands the program wrote are
scattered back. The compute rows (T0..T3, DCC0/1) and the constants exist only as block
values while the operation runs: C0 and C1 are the scalars 0 and all ones, and a compute row
holding a constant stays a scalar, so that a majority with a constant is one AND or OR.
pimsim.ambit.execute.Subarray is the per-row reference of the same semantics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.ambit.layout import C0, C1, SubarrayLayout
from pimsim.ambit.lowering import Lowered, Ref
from pimsim.device import Device

#: Bytes of one operand's rows evaluated at a time (bounds the host memory of a bulk op).
BLOCK_BYTES = 1 << 20
ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
ZERO = np.uint64(0)

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


def apply_rows(
    device: Device,
    low: Lowered,
    layout: SubarrayLayout,
    inputs: int,
    ids: np.ndarray,
    block_rows: int | None = None,
) -> None:
    """Run ``low`` over rows whose operands have flat row ids ``ids`` (n, operands; the
    first ``inputs`` columns are the inputs), block by block in row order."""
    n = len(ids)
    if not n:
        return
    columns = device.config.organisation.columns
    if block_rows is None:
        block_rows = 1 if _crossed(ids, inputs) else max(1, BLOCK_BYTES // (columns * 8))
    for first in range(0, n, block_rows):
        block = ids[first : first + block_rows]
        values = constants(layout)
        for k in range(inputs):
            values[("op", k)] = device.gather_rows(block[:, k])
        written = run_steps(low.steps, values)
        for key, _ in sorted(written.items(), key=lambda item: item[1]):
            if key[0] == "op":
                data = values[key]
                if isinstance(data, np.uint64):
                    data = np.full((len(block), columns), data, dtype=np.uint64)
                device.scatter_rows(block[:, key[1]], data)


def _crossed(ids: np.ndarray, inputs: int) -> bool:
    """Some row's output (or written operand) is another row's input: then rows run one at
    a time, in order, as the banks run them (a row sees what the rows before it wrote)."""
    reads = ids[:, :inputs]
    writes = ids[:, inputs:]
    if not reads.size or not writes.size:
        return False
    common = np.intersect1d(reads, writes)
    if not len(common):
        return False
    rows = np.arange(len(ids))
    pairs = np.concatenate(
        [
            np.stack([reads.ravel(), np.repeat(rows, reads.shape[1])], axis=1),
            np.stack([writes.ravel(), np.repeat(rows, writes.shape[1])], axis=1),
        ]
    )
    pairs = pairs[np.isin(pairs[:, 0], common)]
    _, inverse = np.unique(pairs[:, 0], return_inverse=True)
    lo = np.full(len(common), len(ids), dtype=np.int64)
    hi = np.full(len(common), -1, dtype=np.int64)
    np.minimum.at(lo, inverse, pairs[:, 1])
    np.maximum.at(hi, inverse, pairs[:, 1])
    return bool((lo != hi).any())


def evaluate_host(
    low: Lowered,
    layout: SubarrayLayout,
    sources: Sequence[np.ndarray],
    output: int,
    shape: tuple[int, ...],
) -> np.ndarray:
    """The value of operand ``output`` after ``low`` ran on input arrays ``sources`` (of
    ``shape``, uint64): a user program's reference and CPU result, vectorized."""
    values = constants(layout)
    for k, src in enumerate(sources):
        values[("op", k)] = np.asarray(src, dtype=np.uint64)
    run_steps(low.steps, values)
    value = values.get(("op", output), ZERO)
    if isinstance(value, np.uint64):
        return np.full(shape, value, dtype=np.uint64)
    return value
