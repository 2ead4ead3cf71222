"""Reject µprograms real hardware would not run correctly, naming the line that does it.

Checked against a subarray layout (the config's decoder table):

- no operand is named like a reserved row (C0, C1, B0..B15), and the operands fit in the
  data rows of one subarray (every input, the output and the scratch rows meet there);
- every row name is an operand, C0/C1, a reserved address or compute rows one raises
  (``T0``, ``~DCC0``, ``T0,T1,T2``);
- nothing writes C0 or C1 (an AAP destination, or a multi-row activation that includes one);
- a source that raises exactly two rows is refused (two cells on a bitline settle to no
  defined value), and an AP must raise three rows (with one it computes nothing);
- no compute row is read before something wrote it;
- an input is not overwritten (destroyed) while a later command still reads it;
- an output is written by the end.

Index errors (a row outside an operand's width) and undefined operand names are found when
the program is expanded (pimsim.programs.expand). A message about an expanded step names
its line and, in parentheses, the loop variables and calls that made it (``i=3``).
"""

from __future__ import annotations

from pimsim.ambit.layout import C0, C1, SubarrayLayout
from pimsim.programs.parse import Program, ProgramError, Step, echo


def _fail(program: Program, step: Step, field: str, message: str) -> ProgramError:
    """The error at ``step``'s line, with the context that expanded it."""
    where = f" ({step.context})" if step.context else ""
    return ProgramError(program.source, step.line, field, message + where)


def _raised(
    layout: SubarrayLayout, program: Program, operands: set, step: Step, name: str, field: str
) -> tuple[str, ...]:
    """The physical rows (compute rows, C0/C1 or operand names) a name raises."""
    if name in operands or name in (C0, C1):
        return (name,)
    address = layout.address(name)
    if address is not None:
        return tuple(w.lstrip("~") for w in layout.decoder[address])
    raise _fail(
        program,
        step,
        field,
        f"{echo(name)} is not an operand, C0, C1 or a reserved address (B0.., or the "
        "compute rows one raises: T0, ~DCC0, T0,T1,T2 ...)",
    )


def _check_operands(program: Program, layout: SubarrayLayout) -> None:
    """Operand names are not reserved names, and the operands fit in one subarray's data
    rows (one is kept for RowClone's temporary row)."""
    for name in program.operands:
        if layout.is_reserved(name):
            raise ProgramError(
                program.source,
                program.declared.get(name, 0),
                "operand",
                f"{name} is a reserved row of the subarray, not an operand name",
            )
    room = layout.data_rows - 1
    if len(program.operands) > room:
        last = program.operands[room]
        raise ProgramError(
            program.source,
            program.declared.get(last, 0),
            "operand",
            f"{len(program.operands)} operand rows; a subarray has {room} data rows for them",
        )


def check(program: Program, layout: SubarrayLayout) -> None:
    """Raise ProgramError at the first line that breaks a rule (see the module docstring)."""
    _check_operands(program, layout)
    operands = set(program.operands)
    inputs = set(program.inputs)
    written = set(program.inputs)  # rows holding a defined value
    last_read: dict[str, int] = {}  # input row -> index of the last step that reads it
    for k, step in enumerate(program.steps):
        if step.src in inputs:
            last_read[step.src] = k
    for k, step in enumerate(program.steps):
        field = "source" if step.kind == "AAP" else "address"
        src_rows = _raised(layout, program, operands, step, step.src, field)
        if len(src_rows) == 2:
            raise _fail(
                program,
                step,
                field,
                f"{step.src} raises two rows at once: the sensed value is "
                "undefined (raise one row or three)",
            )
        if step.kind == "AP" and len(src_rows) != 3:
            raise _fail(
                program,
                step,
                field,
                f"AP {step.src} raises one row: an AP computes only with three rows raised "
                "(copy a row with AAP)",
            )
        for row in src_rows:
            if row not in written and row not in (C0, C1):
                raise _fail(program, step, field, f"{row} is read before anything wrote it")
        if len(src_rows) == 3 and (C0 in src_rows or C1 in src_rows):
            raise _fail(program, step, field, "a triple activation would overwrite a constant row")
        dst_rows = (
            _raised(layout, program, operands, step, step.dst, "destination") if step.dst else ()
        )
        for row in (*dst_rows, *(src_rows if len(src_rows) == 3 else ())):
            if row in (C0, C1):
                raise _fail(program, step, "destination", f"writes the constant row {row}")
            if row in inputs and last_read.get(row, -1) > k:
                later = program.steps[last_read[row]]
                raise _fail(
                    program,
                    step,
                    "destination",
                    f"overwrites input {row}, which line {later.line} still reads",
                )
            written.add(row)
    for row in program.outputs:
        if row not in written:
            raise ProgramError(program.source, 0, "out", f"output {row} is never written")
