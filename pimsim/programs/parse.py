"""The ``.pim`` µprogram format: parse text into a :class:`Program`.

A µprogram names its operands and lists commands, one per line (``#`` starts a comment)::

    op xor              # the operation's name (default: the file name)
    in Di Dj            # input operands: data rows, read and kept (any number, or none)
    out Dk              # the output operand(s): data rows, written
    scratch Dt          # optional extra data rows the program may use freely: each
                        # subarray it runs in keeps that many rows for it
    AAP Di -> B8        # ACTIVATE Di, ACTIVATE B8, PRECHARGE: B8's rows receive Di
    AP B14              # ACTIVATE B14, PRECHARGE: majority of B14's three rows, in place

Version 2 (docs/pim-language.md) adds operands with widths (``in a:n``), params, bit rows
``a[i]``, ``for`` loops, ``if``, compute rows by name (``T0``, ``~DCC0``, ``T0,T1,T2``),
``call`` of another program or a ``def``, and ``signed``/``check`` lines (the numpy twin).
pimsim.programs.source reads the lines, pimsim.programs.expand unrolls them for given params
into the flat :class:`Program` every later layer runs. Row names are operands' rows, the
constant rows ``C0``/``C1``, the reserved addresses of the config's ``pim.decoder`` (B0..B15)
and the compute rows. Errors name the file, line and field. A file is UTF-8 text (a
byte-order mark, CRLF line ends accepted) of at most ``MAX_BYTES`` bytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from pimsim.config.schema import shown_path
from pimsim.programs import library
from pimsim.programs.errors import ProgramError, echo
from pimsim.programs.expand import MAX_STEPS, Operand, Step, expand
from pimsim.programs.source import read

__all__ = ["MAX_BYTES", "MAX_STEPS", "Operand", "Program", "ProgramError", "Step", "echo"]

#: Largest ``.pim`` file read (bytes).
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Program:
    """An expanded µprogram: its rows (inputs, outputs, scratch: flat row names such as
    ``a[3]``), its steps, and where it came from; ``wide`` groups the rows into the declared
    operands, ``checks`` holds the outputs' numpy twins, ``params`` the bound params."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    scratch: tuple[str, ...]
    steps: tuple[Step, ...]
    source: str
    declared: dict[str, int] = field(default_factory=dict, compare=False)  # row: line
    wide: tuple[Operand, ...] = ()
    checks: dict[str, str] = field(default_factory=dict)
    params: dict[str, int] = field(default_factory=dict)

    @property
    def operands(self) -> tuple[str, ...]:
        return self.inputs + self.outputs + self.scratch

    def operand(self, name: str) -> Operand:
        """The declared operand ``name`` (KeyError if none)."""
        for op in self.wide:
            if op.name == name:
                return op
        raise KeyError(name)

    def counts(self) -> dict[str, int]:
        """AAP and AP commands in the program."""
        aap = sum(s.kind == "AAP" for s in self.steps)
        return {"AAP": aap, "AP": len(self.steps) - aap}


def parse(
    text: str,
    source: str = "<program>",
    name: str | None = None,
    params: dict[str, int] | None = None,
) -> Program:
    """Parse µprogram text and expand it with ``params``; ProgramError names the line and
    field of a mistake."""
    unit = read(text, source, name)
    done = expand(unit, dict(params or {}), library.unit)
    if not done.steps:
        raise ProgramError(source, 0, "program", "no AAP or AP command")
    rows = {role: [] for role in ("in", "out", "scratch")}
    for op in done.operands:
        rows[op.role].extend(op.rows)
    if not rows["out"]:
        raise ProgramError(source, 0, "out", "the program declares no output row")
    return Program(
        unit.name or "program",
        tuple(rows["in"]),
        tuple(rows["out"]),
        tuple(rows["scratch"]),
        done.steps,
        source,
        done.declared,
        done.operands,
        done.checks,
        done.params,
    )


def load(path: str | Path, params: dict[str, int] | None = None) -> Program:
    """Parse a ``.pim`` file and expand it with ``params`` (read up to MAX_BYTES; errors
    name the file)."""
    path = Path(path)
    source = shown_path(str(path))
    try:
        if path.is_dir():
            raise ProgramError(source, 0, "file", "is a directory, not a .pim file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ProgramError(source, 0, "file", exc.strerror or "cannot read") from None
    if len(data) > MAX_BYTES:
        raise ProgramError(source, 0, "file", f"larger than {MAX_BYTES:,} bytes")
    return parse(decode(data, source), source, name=path.stem, params=params)


def decode(data: bytes, source: str) -> str:
    """``data`` as text: UTF-8 without NUL bytes, else ProgramError at the offending line."""
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ProgramError(source, line, "text", "NUL byte: not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProgramError(
            source, line, "text", f"not UTF-8 (byte {data[exc.start]:#04x} at column {column})"
        ) from None


def builtin_names() -> tuple[str, ...]:
    """Names of the library µprograms (pimsim/programs/lib/*.pim)."""
    return library.names()


@functools.cache
def _builtin(name: str, params: tuple[tuple[str, int], ...]) -> Program:
    return parse(library.text(name), library.shown(name), name=name, params=dict(params))


def builtin(name: str, params: dict[str, int] | None = None) -> Program:
    """A library µprogram by its exact name (not, and, ..., add, mul ...), expanded with
    ``params``; any other text is refused without touching the file system."""
    library.require(name)
    return _builtin(name, tuple(sorted((params or {}).items())))


def is_builtin(program: Program) -> bool:
    """Whether ``program`` is a shipped one (same name, operands and commands), so that its
    numpy twin applies; a user's program is never taken for one by its name alone."""
    if program.name not in library.names():
        return False
    try:
        return program == builtin(program.name, program.params)
    except ProgramError:
        return False
