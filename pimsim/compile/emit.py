"""Write a schedule as a ``.pim`` v2 program (flat commands, compute rows by name) and
parse it back into the Program the checker and the host run take."""

from __future__ import annotations

from pimsim.programs.parse import Program, parse


def pim_text(
    name: str,
    inputs: list[str],
    outputs: list[str],
    scratch: tuple[str, int],
    checks: dict[str, str],
    commands: list[tuple[str, str | None]],
    header: list[str],
) -> str:
    """The program's text: ``header`` comment lines, declarations, checks, commands."""
    lines = [f"# {line}" for line in header]
    lines.append(f"op {name}")
    if inputs:
        lines.append("in " + " ".join(inputs))
    lines.append("out " + " ".join(outputs))
    if scratch[1]:
        lines.append(f"scratch {scratch[0]}:{scratch[1]}")
    lines += [f"check {out} = {text}" for out, text in checks.items()]
    for src, dst in commands:
        lines.append(f"AP {src}" if dst is None else f"AAP {src} -> {dst}")
    return "\n".join(lines) + "\n"


def to_program(text: str, source: str) -> Program:
    """The expanded Program of ``text`` (a ProgramError here is a compiler bug)."""
    return parse(text, source=source)
