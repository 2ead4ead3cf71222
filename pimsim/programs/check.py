"""Reject µprograms real hardware would not run correctly, naming the line that does it.

Checked against a subarray layout (the config's decoder table):

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
from pimsim.programs.parse import Program, ProgramError, Step


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
        f"{name!r} is not an operand, C0, C1 or a reserved address",
    )


def check(program: Program, layout: SubarrayLayout) -> None:
    """Raise ProgramError at the first line that breaks a rule (see the module docstring)."""
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
