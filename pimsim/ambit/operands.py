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

import re
from collections.abc import Mapping, Sequence

import numpy as np

from pimsim.ambit.bulk import BulkEngine, BulkError
from pimsim.ambit.report import OpReport
from pimsim.programs.expand import Operand as WideOperand
from pimsim.programs.parse import Program, builtin, builtin_names
from pimsim.programs.twin import Check, Operand, compile_check
from pimsim.programs.vertical import from_rows, to_rows


def bounds(op: WideOperand) -> tuple[int, int]:
    """Smallest and largest value of an operand's integer meaning."""
    return Operand(op.width, op.signed).bounds


def integer_of(op: WideOperand, bits: int) -> int:
    """A stored bit pattern as the operand's integer (two's complement if signed)."""
    return bits - (1 << op.width) if op.signed and bits >> (op.width - 1) else bits


#: A library operation written with its width: NAME then n in decimal (add32, and_reduce16).
_WIDE = re.compile(r"([a-z][a-z_]*?)([0-9]{1,3})", re.ASCII)


def wide_op(name: str) -> tuple[str, int] | None:
    """(library program, width) of an operation written NAMEn, or None."""
    match = _WIDE.fullmatch(name)
    if match is None or match.group(1) not in builtin_names():
        return None
    return match.group(1), int(match.group(2))


def wide_program(name: str) -> Program:
    """The library program of ``name`` (NAMEn, see :func:`wide_op`) expanded for n
    (ProgramError if n is outside its range)."""
    found = wide_op(name)
    if found is None:
        raise ValueError(f"{name} is not a library operation with its width")
    return builtin(found[0], {"n": found[1]})


def row_addresses(
    op: str, addresses: Sequence[int], size: int
) -> tuple[Program, tuple[int, ...], tuple[int, ...]]:
    """The program of bulk operation ``op`` (a built-in, or a library operation of a width
    such as add16) and the byte addresses of its destination rows and source rows, from its
    operands' addresses (destinations first, as in a trace's BBOP line): one row per
    operand of a built-in; bit i of a library operand at its address + i * ``size``.
    BulkError if the addresses do not match the operands."""
    if wide_op(op) is None:
        return builtin(op), (addresses[0],), tuple(addresses[1:])
    program = wide_program(op)
    ops = (*operands_of(program, "out"), *operands_of(program, "in"))
    outputs = len(operands_of(program, "out"))
    if len(addresses) != len(ops):
        raise BulkError(
            f"{op} takes {outputs} destination(s) and {len(ops) - outputs} source(s), "
            f"not {len(addresses)} addresses"
        )
    rows = [b + i * size for o, b in zip(ops, addresses, strict=True) for i in range(o.width)]
    split = sum(o.width for o in ops[:outputs])
    return program, tuple(rows[:split]), tuple(rows[split:])


def operands_of(program: Program, role: str) -> tuple[WideOperand, ...]:
    """``program``'s operands of ``role`` in declaration order (from ``program.wide``)."""
    return tuple(op for op in program.wide if op.role == role)


def program_checks(program: Program) -> dict[str, Check]:
    """The program's own check lines, compiled (CheckError names the program and output)."""
    names = [op.name for op in operands_of(program, "in")]
    return {
        out: compile_check(expr, names, list(program.params), f"{program.source}: check {out}")
        for out, expr in program.checks.items()
    }


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


#: What an input holds: "random", "zeros", "ones" (every bit set), one integer for every
#: element, or an array of one value per element (int64 if signed, else uint64).
Spec = str | int | np.ndarray


def input_values(
    inputs: tuple[WideOperand, ...], specs: Mapping[str, Spec], count: int, seed: int
) -> dict[WideOperand, np.ndarray]:
    """Each input's ``count`` values (int64 if signed, else uint64) by its spec (random by
    default): input k's random values are the stream (seed, k), so binding one input
    leaves the others' values as they were."""
    values = {}
    for k, op in enumerate(inputs):
        spec = specs.get(op.name, "random")
        dtype = np.int64 if op.signed else np.uint64
        lo, hi = bounds(op)
        if isinstance(spec, np.ndarray):
            values[op] = spec
        elif spec == "random":
            rng = np.random.default_rng((seed, k))
            values[op] = rng.integers(lo, hi, count, dtype=dtype, endpoint=True)
        else:
            fill = {"zeros": 0, "ones": -1 if op.signed else hi}.get(spec, spec)
            values[op] = np.full(count, fill, dtype=dtype)
    return values


def verdict(
    program: Program,
    checks: Mapping[str, Check],
    values: Mapping[WideOperand, np.ndarray],
    got: Mapping[str, np.ndarray],
    count: int,
) -> dict:
    """Whether every checked output holds its expected values (``correct``: None when no
    output is checked), the outputs left ``unchecked``, and the first ``mismatch`` (lowest
    element index; outputs in declaration order): its index, the inputs there, expected
    and got as the operand's integers."""
    inputs, outputs = operands_of(program, "in"), operands_of(program, "out")
    by_name = {op.name: values[op] for op in inputs}
    meaning = {op.name: Operand(op.width, op.signed) for op in inputs}
    first = None
    for op in outputs:
        if op.name not in checks:
            continue
        want = checks[op.name].expected(by_name, meaning, program.params, op.width, count)
        wrong = np.flatnonzero(want != got[op.name])
        if len(wrong) and (first is None or wrong[0] < first[1]):
            first = (op, int(wrong[0]), want)
    doc: dict = {
        "correct": None if not checks else first is None,
        "unchecked": [op.name for op in outputs if op.name not in checks],
    }
    if first is not None:
        op, e, want = first
        doc["mismatch"] = {
            "output": op.name,
            "index": e,
            "inputs": {name: int(v[e]) for name, v in by_name.items()},
            "expected": integer_of(op, int(want[e])),
            "got": integer_of(op, int(got[op.name][e])),
        }
    return doc
