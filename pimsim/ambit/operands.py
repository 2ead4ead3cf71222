"""A program's multi-bit operands on the bulk engine: vertical layout over row groups.

E elements of an n-bit operand are n bit rows (bit i of element e in row i, column e): with
``row_bits`` columns per row they take G = ceil(E / row_bits) row groups, element e in group
e // row_bits at column e % row_bits. Each flat row of the program (``a[0]``.. after
expansion) is one vector of G rows, allocated by :meth:`BulkEngine.alloc_program` so that
group g of every row of every operand lies in one subarray (the groups stripe over the banks
and run in parallel). Values go in and come out with pimsim.programs.vertical; one scatter
writes every input row, one gather reads every output row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pimsim.ambit.bulk import BulkEngine, BulkError
from pimsim.ambit.report import OpReport
from pimsim.programs.parse import Program
from pimsim.programs.twin import Operand
from pimsim.programs.vertical import from_rows, to_rows


@dataclass(frozen=True)
class WideOperand:
    """An operand as a check sees it: its name, role, bit rows (flat names) and meaning."""

    name: str
    role: str  # "in", "out" or "scratch"
    width: int
    rows: tuple[str, ...]
    signed: bool = False

    @property
    def bounds(self) -> tuple[int, int]:
        """Smallest and largest value of its integer meaning."""
        return Operand(self.width, self.signed).bounds


def operands_of(program: Program, role: str) -> tuple[WideOperand, ...]:
    """``program``'s operands of ``role`` in declaration order (from ``program.wide``)."""
    return tuple(
        WideOperand(op.name, op.role, op.width, tuple(op.rows), bool(op.signed))
        for op in program.wide
        if op.role == role
    )


def groups_of(elements: int, row_bytes: int) -> int:
    """Row groups that hold ``elements`` elements (one bit per column of a row)."""
    return -(-elements // (row_bytes * 8))


class OperandRows:
    """A program's input and output rows for ``elements`` elements on ``engine``."""

    def __init__(self, engine: BulkEngine, program: Program, elements: int):
        if elements <= 0:
            raise BulkError(f"{program.name}: {elements} elements: give at least one")
        self.engine, self.program, self.elements = engine, program, elements
        self.groups = groups_of(elements, engine.row_bytes)
        engine.check_program(program)
        engine.check_footprint(program, self.groups)
        self.inputs, self.outputs = engine.alloc_program(program, self.groups)
        self._index = {name: k for k, name in enumerate((*program.inputs, *program.outputs))}

    def _vectors(self, operand: WideOperand):
        flat = (*self.inputs, *self.outputs)
        return [flat[self._index[row]] for row in operand.rows]

    def write(self, values: Mapping[WideOperand, np.ndarray]) -> None:
        """Store each input operand's integer values (``elements`` each; int64 for a
        signed operand, uint64 otherwise), bit i in row i: one scatter for all rows."""
        if not values:
            return
        words = self.engine.row_bytes // 8
        vectors, blocks = [], []
        for operand, data in values.items():
            bits = to_rows(np.asarray(data).view(np.uint64), operand.width)
            block = np.zeros((operand.width, self.groups * words), dtype=np.uint64)
            block[:, : bits.shape[1]] = bits
            vectors += self._vectors(operand)
            blocks.append(block)
        self.engine.write_rows(vectors, np.concatenate(blocks))

    def read(self, operands: tuple[WideOperand, ...]) -> dict[str, np.ndarray]:
        """Each operand's values as stored (uint64 bit patterns, ``elements`` each): one
        gather for all their rows."""
        vectors = [v for op in operands for v in self._vectors(op)]
        if not vectors:
            return {}
        rows = self.engine.read_rows(vectors).reshape(len(vectors), -1)
        out, first = {}, 0
        for op in operands:
            out[op.name] = from_rows(rows[first : first + op.width], self.elements, False)
            first += op.width
        return out

    def run(self, not_before: int = 0) -> OpReport:
        """The program over every row group, to its end."""
        return self.engine.run(self.program, self.outputs, self.inputs, not_before=not_before)
