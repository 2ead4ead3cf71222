"""Library operations of a width (``add32``, ``mul8``) done in DRAM and on the CPU.

In DRAM, the n-bit operands are in vertical layout over row groups striped across the banks
(pimsim.ambit.operands) and the library program runs on every group; the outputs are checked
against the program's own check lines. On the CPU (pimsim.baseline), each operand is an
array of C integers -- 1, 2, 4 or 8 bytes per element, the smallest that holds its width (a
1-bit result is a byte, as numpy's bool) -- one after another in memory; the host streams
the inputs in and writes the outputs, a step of 64 bytes of the narrowest operand at a time,
through the same controller. ``--size`` is the bytes of one n-bit operand packed: the
operation runs on size * 8 / n elements.
"""

from __future__ import annotations

import numpy as np

from pimsim.addrmap import AddressMapper
from pimsim.ambit.bulk import BulkEngine, OpReport
from pimsim.ambit.operands import (
    OperandRows,
    input_values,
    operands_of,
    program_checks,
    verdict,
)
from pimsim.baseline import LINE_BYTES, run_host_lines
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.parse import Program

#: Most elements one in-DRAM side makes and checks with row data (host memory).
MAX_ELEMENTS = 1 << 26


def elements_of(program: Program, size: int) -> int:
    """Elements of an operation over ``size`` bytes of one packed n-bit operand."""
    return size * 8 // program.params["n"]


def run_in_dram(
    config: Config,
    program: Program,
    elements: int,
    banks: int | None,
    seed: int = 0,
    with_data: bool = True,
) -> tuple[Device, OpReport, dict | None]:
    """``program`` over ``elements`` random elements in DRAM: (the device, its report, the
    verdict against its check lines: None without data)."""
    device = Device(config)
    engine = BulkEngine(device, banks, with_data)
    rows = OperandRows(engine, program, elements)
    inputs = operands_of(program, "in")
    values = input_values(inputs, {}, elements, seed) if with_data else {}
    rows.write(values)
    report = rows.run()
    found = None
    if with_data:
        got = rows.read(operands_of(program, "out"))
        found = verdict(program, program_checks(program), values, got, elements)
    return device, report, found


def element_bytes(width: int) -> int:
    """Bytes of the smallest C integer type that holds ``width`` bits (1, 2, 4 or 8)."""
    return next(b for b in (1, 2, 4, 8) if width <= 8 * b)


def run_on_cpu(
    config: Config, program: Program, elements: int, bases: list[int], mapper: AddressMapper
) -> tuple[Device, int]:
    """``program``'s operation over ``elements`` elements done by the host through the
    controller (timing only), its operands as arrays of C integers at ``bases`` (inputs,
    then outputs): (the device, the tick its last request was served)."""
    device = Device(config)
    ops = [*operands_of(program, "in"), *operands_of(program, "out")]
    sizes = [element_bytes(op.width) for op in ops]
    narrow = min(sizes)
    per_step = [s // narrow for s in sizes]  # lines of each operand per step
    slots = [
        (np.uint64(base), np.uint64(r), np.uint64(j))
        for base, r in zip(bases, per_step, strict=True)
        for j in range(r)
    ]
    writes = sum(per_step[len(operands_of(program, "in")) :])
    steps = -(-elements // (LINE_BYTES // narrow))

    def lines(first: int, last: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        step = np.arange(first, last, dtype=np.uint64)
        addresses = [b + np.uint64(LINE_BYTES) * (r * step + j) for b, r, j in slots]
        return [mapper.decode_array(a) for a in addresses], addresses

    return device, run_host_lines(device, steps, lines, writes)


def operand_bytes(program: Program, elements: int) -> list[int]:
    """Bytes of each operand's array on the CPU (inputs, then outputs)."""
    ops = [*operands_of(program, "in"), *operands_of(program, "out")]
    return [element_bytes(op.width) * elements for op in ops]
