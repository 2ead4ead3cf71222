"""The ``.pim`` µprogram format: parse text into a :class:`Program`.

A µprogram names its operands and lists commands, one per line (``#`` starts a comment)::

    op xor              # the operation's name (default: the file name)
    in Di Dj            # input operands: data rows, read and kept
    out Dk              # output operands: data rows, written
    scratch Dt          # optional extra data rows the program may use freely
    AAP Di -> B8        # ACTIVATE Di, ACTIVATE B8, PRECHARGE: B8's rows receive Di
    AP B14              # ACTIVATE B14, PRECHARGE: majority of B14's three rows, in place

Row names are the operands, the constant rows ``C0``/``C1`` and the reserved addresses of the
config's ``pim.decoder`` (B0..B15). Errors name the file, line and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pimsim.errors import PimsimError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


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
    for lineno, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        head = words[0]
        if head == "op":
            if len(words) != 2 or not _NAME.match(words[1]):
                raise ProgramError(source, lineno, "op", "expected 'op NAME'")
            op = words[1]
        elif head in ("in", "out", "scratch"):
            for word in words[1:]:
                if not _NAME.match(word):
                    raise ProgramError(source, lineno, head, f"{word!r} is not a row name")
                if word in declared:
                    raise ProgramError(
                        source, lineno, head, f"{word} already declared on line {declared[word]}"
                    )
                declared[word] = lineno
            {"in": inputs, "out": outputs, "scratch": scratch}[head].extend(words[1:])
        elif head == "AAP":
            if len(words) != 4 or words[2] != "->":
                raise ProgramError(source, lineno, "AAP", "expected 'AAP SRC -> DST'")
            steps.append(Step("AAP", words[1], words[3], lineno))
        elif head == "AP":
            if len(words) != 2:
                raise ProgramError(source, lineno, "AP", "expected 'AP ADDR'")
            steps.append(Step("AP", words[1], None, lineno))
        else:
            raise ProgramError(
                source, lineno, "command", f"{head!r} is not op, in, out, scratch, AAP or AP"
            )
    if not steps:
        raise ProgramError(source, 0, "program", "no AAP or AP command")
    if not outputs:
        raise ProgramError(source, 0, "out", "the program declares no output row")
    return Program(
        op or "program", tuple(inputs), tuple(outputs), tuple(scratch), tuple(steps), source
    )


def load(path: str | Path) -> Program:
    """Parse a ``.pim`` file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProgramError(str(path), 0, "file", exc.strerror or "cannot read") from None
    return parse(text, str(path), name=path.stem)


def builtin_names() -> list[str]:
    """Names of the built-in µprograms (pimsim/programs/lib/*.pim)."""
    lib = resources.files("pimsim.programs") / "lib"
    return sorted(p.name[:-4] for p in lib.iterdir() if p.name.endswith(".pim"))


def builtin(name: str) -> Program:
    """A built-in µprogram by name (not, and, or, nand, nor, xor, xnor, copy, zero, one)."""
    lib = resources.files("pimsim.programs") / "lib"
    entry = lib / f"{name}.pim"
    if not entry.is_file():
        raise ProgramError(
            f"{name}.pim",
            0,
            "op",
            f"no built-in µprogram {name!r} (known: {', '.join(builtin_names())})",
        )
    return parse(entry.read_text(), f"pimsim/programs/lib/{name}.pim", name=name)
