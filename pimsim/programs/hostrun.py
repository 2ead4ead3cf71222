"""A µprogram run on the host: Ambit's semantics over integer operands in vertical layout,
vectorized (the reference a library program is tested against, and a user's quick check)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pimsim.ambit.layout import SubarrayLayout
from pimsim.ambit.lowering import lower
from pimsim.ambit.rowdata import evaluate_operands
from pimsim.programs.check import check
from pimsim.programs.parse import Program
from pimsim.programs.vertical import from_rows, to_rows


def host_run(
    program: Program,
    layout: SubarrayLayout,
    inputs: Mapping[str, np.ndarray],
    elements: int | None = None,
) -> dict[str, np.ndarray]:
    """Each output operand of ``program`` (checked against ``layout``) after it ran on the
    integer arrays ``inputs`` (one per input operand, all of one length, or ``elements``
    when there is no input): int64 for signed outputs, else uint64."""
    check(program, layout)
    ins = [op for op in program.wide if op.role == "in"]
    missing = [op.name for op in ins if op.name not in inputs]
    if missing:
        raise ValueError(f"{program.name}: no values for input {', '.join(missing)}")
    lengths = {len(np.asarray(inputs[op.name]).reshape(-1)) for op in ins}
    if elements is not None:
        lengths.add(elements)
    if len(lengths) != 1:
        raise ValueError(f"{program.name}: inputs differ in length ({sorted(lengths)})")
    count = lengths.pop()
    sources = []
    for op in ins:
        sources.extend(to_rows(inputs[op.name], op.width))
    index = {row: k for k, row in enumerate(program.operands)}
    outs = [op for op in program.wide if op.role == "out"]
    wanted = [index[row] for op in outs for row in op.rows]
    words = -(-count // 64)
    values = evaluate_operands(lower(program, layout), layout, sources, wanted, (words,))
    result, k = {}, 0
    for op in outs:
        rows = np.stack(values[k : k + op.width]) if op.width else np.zeros((0, words))
        result[op.name] = from_rows(rows, count, op.signed)
        k += op.width
    return result
