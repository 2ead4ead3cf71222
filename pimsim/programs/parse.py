"""The ``.pim`` µprogram format: parse text into a :class:`Program`.

A µprogram names its operands and lists commands, one per line (``#`` starts a comment)::

    op xor              # the operation's name (default: the file name)
    in Di Dj            # input operands: data rows, read and kept (any number, or none)
    out Dk              # the output operand (one): a data row, written
    scratch Dt          # optional extra data rows the program may use freely: each
                        # subarray it runs in keeps that many rows for it
    AAP Di -> B8        # ACTIVATE Di, ACTIVATE B8, PRECHARGE: B8's rows receive Di
    AP B14              # ACTIVATE B14, PRECHARGE: majority of B14's three rows, in place

Row names are the operands, the constant rows ``C0``/``C1`` and the reserved addresses of the
config's ``pim.decoder`` (B0..B15). Errors name the file, line and field. A file is UTF-8
text (a byte-order mark, CRLF line ends accepted) of at most ``MAX_BYTES`` bytes and
``MAX_STEPS`` commands.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pimsim.config.schema import shown_path
from pimsim.errors import PimsimError, cut

#: A program or operand name: an identifier of at most 40 characters (errors quote it whole).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}\Z")

#: Largest ``.pim`` file read (bytes), and most AAP/AP commands in one program.
MAX_BYTES = 1 << 20
MAX_STEPS = 10_000


def echo(token: str) -> str:
    """``repr(token)``, cut to about 40 characters: how errors quote what the user wrote."""
    return repr(cut(token))


class ProgramError(PimsimError):
    """A µprogram that cannot be parsed or would not work on real hardware."""

    def __init__(self, source: str, line: int, field: str, message: str):
        self.source, self.line, self.field, self.message = source, line, field, message
        super().__init__(source, line, field, message)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Step:
    """One command of a µprogram: ``AAP src -> dst`` or ``AP src`` (dst is None)."""

    kind: str  # "AAP" or "AP"
    src: str
    dst: str | None
    line: int


@dataclass(frozen=True)
class Program:
    """A parsed µprogram: operand names and steps, with where it came from."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    scratch: tuple[str, ...]
    steps: tuple[Step, ...]
    source: str
    declared: dict[str, int] = field(default_factory=dict, compare=False)  # operand: line

    @property
    def operands(self) -> tuple[str, ...]:
        return self.inputs + self.outputs + self.scratch

    def counts(self) -> dict[str, int]:
        """AAP and AP commands in the program."""
        aap = sum(s.kind == "AAP" for s in self.steps)
        return {"AAP": aap, "AP": len(self.steps) - aap}


def parse(text: str, source: str = "<program>", name: str | None = None) -> Program:
    """Parse µprogram text; ProgramError names the line and field of a mistake."""
    op, inputs, outputs, scratch, steps = name, [], [], [], []
    declared: dict[str, int] = {}
    op_line = 0
    for lineno, raw in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        head = words[0]
        if head == "op":
            if len(words) != 2 or not _NAME.match(words[1]):
                raise ProgramError(
                    source,
                    lineno,
                    "op",
                    "expected 'op NAME' (an identifier, at most 40)",
                )
            if op_line:
                raise ProgramError(source, lineno, "op", f"the name was given on line {op_line}")
            op, op_line = words[1], lineno
        elif head in ("in", "out", "scratch"):
            _declare(source, lineno, head, words[1:], declared)
            {"in": inputs, "out": outputs, "scratch": scratch}[head].extend(words[1:])
            if len(outputs) > 1:
                raise ProgramError(
                    source, lineno, "out", f"a program has one output row; {outputs[1]} is a second"
                )
        elif head in ("AAP", "AP"):
            steps.append(_step(source, lineno, words))
            if len(steps) > MAX_STEPS:
                raise ProgramError(
                    source, lineno, head, f"more than {MAX_STEPS:,} commands in one program"
                )
        else:
            raise ProgramError(
                source, lineno, "command", f"{echo(head)} is not op, in, out, scratch, AAP or AP"
            )
    if not steps:
        raise ProgramError(source, 0, "program", "no AAP or AP command")
    if not outputs:
        raise ProgramError(source, 0, "out", "the program declares no output row")
    return Program(
        op or "program",
        tuple(inputs),
        tuple(outputs),
        tuple(scratch),
        tuple(steps),
        source,
        declared,
    )


def _declare(source: str, lineno: int, head: str, names: list[str], declared: dict) -> None:
    """Record operand ``names`` declared on a line; a bad or repeated name is an error."""
    for word in names:
        if not _NAME.match(word):
            raise ProgramError(
                source, lineno, head, f"{echo(word)} is not a row name (an identifier, at most 40)"
            )
        if word in declared:
            raise ProgramError(
                source, lineno, head, f"{word} already declared on line {declared[word]}"
            )
        declared[word] = lineno


def _step(source: str, lineno: int, words: list[str]) -> Step:
    """An ``AAP SRC -> DST`` or ``AP ADDR`` line."""
    if words[0] == "AAP":
        if len(words) != 4 or words[2] != "->":
            raise ProgramError(source, lineno, "AAP", "expected 'AAP SRC -> DST'")
        return Step("AAP", words[1], words[3], lineno)
    if len(words) != 2:
        raise ProgramError(source, lineno, "AP", "expected 'AP ADDR'")
    return Step("AP", words[1], None, lineno)


def load(path: str | Path) -> Program:
    """Parse a ``.pim`` file (read up to MAX_BYTES; errors name the file)."""
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
    return parse(decode(data, source), source, name=path.stem)


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


@functools.cache
def builtin_names() -> tuple[str, ...]:
    """Names of the built-in µprograms (pimsim/programs/lib/*.pim)."""
    lib = resources.files("pimsim.programs") / "lib"
    return tuple(sorted(p.name[:-4] for p in lib.iterdir() if p.name.endswith(".pim")))


@functools.cache
def builtin(name: str) -> Program:
    """A built-in µprogram by its exact name (not, and, or, nand, nor, xor, xnor, copy, zero,
    one); any other text is refused without touching the file system."""
    if name not in builtin_names():
        raise ProgramError(
            "pimsim/programs/lib",
            0,
            "op",
            f"no built-in µprogram {echo(name)} (known: {', '.join(builtin_names())})",
        )
    entry = resources.files("pimsim.programs") / "lib" / f"{name}.pim"
    return parse(entry.read_text(encoding="utf-8"), f"pimsim/programs/lib/{name}.pim", name=name)


def is_builtin(program: Program) -> bool:
    """Whether ``program`` is a shipped one (same name, operands and commands), so that its
    numpy twin applies; a user's program is never taken for one by its name alone."""
    return program.name in builtin_names() and program == builtin(program.name)
