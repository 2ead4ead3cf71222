"""A checked µprogram lowered once to arrays: the command template of one row's run.

``AAP src -> dst`` is ACT src, AACT dst, PRE; ``AP addr`` is ACT addr, PRE
(pimsim.ambit.execute.Binding gives the same commands one Python object at a time; it stays
as the slow twin). Per command of the template: its code, where its row address comes from
(an operand's data row offset, or a fixed slot of the subarray: C0, C1, a reserved
address; PRE sends row 0), the wordlines it raises, and per step the wordlines read and
written, for the data evaluation (pimsim.ambit.rowdata). :func:`command_table` broadcasts
the template over the rows of a bulk operation: one numpy expression per field, the rows
ordered per bank (one stream per bank, banks in the order their first row comes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.ambit.layout import C0, C1, SubarrayLayout
from pimsim.programs.parse import Program
from pimsim.standards import CMD

#: Fields of one row of a job's command table (pimsim._replay Engine.load_job).
JOB_FIELDS = 8

#: A row reference of a lowered step: ("op", operand index) or ("slot", offset in the
#: subarray), with whether the wordline is a negated one.
Ref = tuple[tuple[str, int], bool]


@dataclass(frozen=True)
class Lowered:
    """One row's run of a program as arrays (``c`` commands)."""

    code: np.ndarray  # [c] int32: command code (ACT, AACT, PRE)
    operand: np.ndarray  # [c] int32: operand whose data row is the address, else -1
    fixed: np.ndarray  # [c] int64: slot of the address in the subarray (when operand is -1)
    relative: np.ndarray  # [c] int64: 1 if the address is relative to the subarray base
    raised: np.ndarray  # [c] int32: wordlines raised (1 for PRE, as the engine counts it)
    operand_hits: np.ndarray  # [operands] int64: activations of each operand's row per run
    slot_hits: dict[int, int]  # fixed slot -> activations of that row per run
    steps: tuple[tuple[tuple[Ref, ...], tuple[Ref, ...]], ...]  # (read, written) per step
    operands: int  # inputs, output and scratch rows

    @property
    def commands(self) -> int:
        return len(self.code)


_CACHE: dict[tuple[int, int], tuple[Program, SubarrayLayout, Lowered]] = {}


def lower(program: Program, layout: SubarrayLayout) -> Lowered:
    """``program`` (already checked against ``layout``) as arrays; lowered once per
    (program, layout) object pair."""
    key = (id(program), id(layout))
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not program or hit[1] is not layout:
        hit = (program, layout, _lower(program, layout))
        _CACHE[key] = hit
    return hit[2]


def _lower(program: Program, layout: SubarrayLayout) -> Lowered:
    index = {name: k for k, name in enumerate(program.operands)}

    def refs(name: str) -> tuple[Ref, ...]:
        if name in index:
            return ((("op", index[name]), False),)
        return tuple((("slot", wl.slot), wl.negated) for wl in layout.wordlines(name))

    def address(name: str) -> tuple[int, int]:
        if name in index:
            return index[name], 0
        if name in (C0, C1):
            return -1, layout.constant_slot(name)
        return -1, layout.address_slot(name)

    code, operand, fixed, relative, raised, steps = [], [], [], [], [], []
    operand_hits = np.zeros(len(index), dtype=np.int64)
    slot_hits: dict[int, int] = {}
    for step in program.steps:
        read = refs(step.src)
        written = refs(step.dst) if step.dst is not None else ()
        steps.append((read, written))
        for cmd, name, wordlines in (("ACT", step.src, read), ("AACT", step.dst, written)):
            if name is None:
                continue
            op, slot = address(name)
            code.append(CMD[cmd])
            operand.append(op)
            fixed.append(slot)
            relative.append(1)
            raised.append(len(wordlines))
            for (kind, where), _ in wordlines:
                if kind == "op":
                    operand_hits[where] += 1
                else:
                    slot_hits[where] = slot_hits.get(where, 0) + 1
        code.append(CMD["PRE"])
        operand.append(-1)
        fixed.append(0)
        relative.append(0)
        raised.append(1)
    return Lowered(
        code=np.array(code, dtype=np.int32),
        operand=np.array(operand, dtype=np.int32),
        fixed=np.array(fixed, dtype=np.int64),
        relative=np.array(relative, dtype=np.int64),
        raised=np.array(raised, dtype=np.int32),
        operand_hits=operand_hits,
        slot_hits=slot_hits,
        steps=tuple(steps),
        operands=len(index),
    )


def stream_order(bank_flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped into one stream per bank, banks in the order of their first row, rows
    in their order within a bank: (permutation of the rows, rows per stream)."""
    if not len(bank_flat):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    banks, first, inverse = np.unique(bank_flat, return_index=True, return_inverse=True)
    rank = np.empty(len(banks), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(banks))
    stream = rank[inverse]
    return np.argsort(stream, kind="stable"), np.bincount(stream, minlength=len(banks))


def command_table(
    low: Lowered, banks: np.ndarray, base: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """The job table of ``low`` run on rows already in stream order: ``banks`` (n, 4)
    channel, rank, bankgroup, bank; ``base`` (n,) the physical row of each row's subarray
    start; ``offsets`` (n, operands) each operand's data row offset. Returns the (n * c, 8)
    int32 table: the commands of the first row, then of the next."""
    n, c = len(base), low.commands
    table = np.empty((n, c, JOB_FIELDS), dtype=np.int32)
    table[:, :, 0] = low.code
    table[:, :, 1:5] = banks[:, None, :]
    rows = low.fixed[None, :] + low.relative[None, :] * base[:, None]
    uses = low.operand >= 0
    if uses.any():
        rows[:, uses] += offsets[:, low.operand[uses]]
    table[:, :, 5] = rows
    table[:, :, 6] = 0
    table[:, :, 7] = low.raised
    return table.reshape(n * c, JOB_FIELDS)
