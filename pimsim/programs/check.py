"""Reject µprograms real hardware would not run correctly, naming the line that does it.

Checked against a subarray layout (the config's decoder table):

- no operand is named like a reserved row (C0, C1, B0..B15), and the operands fit in the
  data rows of one subarray (every input, the output and the scratch rows meet there);
- every row name is an operand, C0/C1 or a reserved address;
- nothing writes C0 or C1 (an AAP destination, or a multi-row activation that includes one);
- a source that raises exactly two rows is refused (two cells on a bitline settle to no
  defined value);
- no compute row is read before something wrote it;
- an input is not overwritten while a later command still reads it;
- an output is written by the end.
"""

from __future__ import annotations

from pimsim.ambit.layout import C0, C1, SubarrayLayout
from pimsim.programs.parse import Program, ProgramError, Step, echo


def _raised(
    layout: SubarrayLayout, program: Program, step: Step, name: str, field: str
) -> tuple[str, ...]:
    """The physical rows (compute rows, C0/C1 or operand names) a name raises."""
    if name in program.operands:
        return (name,)
    if name in (C0, C1):
        return (name,)
    if name in layout.decoder:
        return tuple(w.lstrip("~") for w in layout.decoder[name])
    raise ProgramError(
        program.source,
        step.line,
        field,
        f"{echo(name)} is not an operand, C0, C1 or a reserved address",
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
    written = set(program.inputs)  # rows holding a defined value
    last_read = {}
    for step in program.steps:
        for name in _raised(layout, program, step, step.src, "source"):
            last_read[name] = step.line
    for step in program.steps:
        field = "source" if step.kind == "AAP" else "address"
        src_rows = _raised(layout, program, step, step.src, field)
        if len(src_rows) == 2:
            raise ProgramError(
                program.source,
                step.line,
                field,
                f"{step.src} raises two rows at once: the sensed value is "
                "undefined (raise one row or three)",
            )
        for row in src_rows:
            if row not in written and row not in (C0, C1):
                raise ProgramError(
                    program.source, step.line, field, f"{row} is read before anything wrote it"
                )
        if len(src_rows) == 3 and (C0 in src_rows or C1 in src_rows):
            raise ProgramError(
                program.source,
                step.line,
                field,
                "a triple activation would overwrite a constant row",
            )
        dst_rows = _raised(layout, program, step, step.dst, "destination") if step.dst else ()
        for row in (*dst_rows, *(src_rows if len(src_rows) == 3 else ())):
            if row in (C0, C1):
                raise ProgramError(
                    program.source, step.line, "destination", f"writes the constant row {row}"
                )
            if row in program.inputs and last_read.get(row, 0) > step.line:
                raise ProgramError(
                    program.source,
                    step.line,
                    "destination",
                    f"overwrites input {row}, which line {last_read[row]} still reads",
                )
            written.add(row)
    for row in program.outputs:
        if row not in written:
            raise ProgramError(program.source, 0, "out", f"output {row} is never written")
