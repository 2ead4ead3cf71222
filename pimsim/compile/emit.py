"""Write a schedule as a ``.pim`` v2 program (flat commands, compute rows by name) and
parse it back into the Program the checker and the host run take."""

from __future__ import annotations

from pimsim.ambit.layout import SubarrayLayout
from pimsim.programs.parse import Program, parse


def drop_dead_copies(
    commands: list[tuple[str, str | None]], layout: SubarrayLayout
) -> list[tuple[str, str | None]]:
    """``commands`` without copies nothing reads: an AAP whose destination is compute rows
    overwritten before any command reads them becomes an AP when its source is a triple
    activation (the majority stays in the three rows, one ACT fewer) and is dropped when
    its source is one row. Liveness runs backwards over the compute rows' cells."""

    def cells(name: str | None) -> tuple[str, ...]:
        address = layout.address(name) if name else None
        return tuple(w.lstrip("~") for w in layout.decoder[address]) if address else ()

    live: set[str] = set()
    kept: list[tuple[str, str | None]] = []
    for src, dst in reversed(commands):
        read, wrote = cells(src), cells(dst)
        if dst is not None and wrote and not live.intersection(wrote):
            if len(read) != 3:
                continue  # a copy of one row nobody reads
            dst, wrote = None, ()
        written = set(wrote) | (set(read) if len(read) == 3 else set())
        live = (live - written) | set(read)
        kept.append((src, dst))
    return kept[::-1]


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
