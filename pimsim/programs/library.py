"""The shipped µprograms (pimsim/programs/lib/*.pim): their names, texts and units.

The library is data like any user program: Ambit's operations (not, and, ...), RowClone's
copy/zero/one and the SIMDRAM operations (add, mul, gt, ...) with their numpy twins in their
``check`` lines. A name is looked up exactly; other text never reaches the file system.
"""

from __future__ import annotations

import functools
from importlib import resources

from pimsim.programs.errors import ProgramError, echo
from pimsim.programs.source import Unit, read
from pimsim.programs.syntax import Where

#: Where library programs are shown in errors.
SHOWN = "pimsim/programs/lib"


@functools.cache
def names() -> tuple[str, ...]:
    """Names of the library µprograms."""
    lib = resources.files("pimsim.programs") / "lib"
    return tuple(sorted(p.name[:-4] for p in lib.iterdir() if p.name.endswith(".pim")))


def require(name: str, where: Where | None = None) -> None:
    """ProgramError unless ``name`` is a library program."""
    if name not in names():
        where = where or Where(SHOWN, 0)
        raise ProgramError(
            where.source,
            where.line,
            "call" if where.line else "op",
            f"no built-in µprogram {echo(name)} (known: {', '.join(names())})",
        )


def shown(name: str) -> str:
    return f"{SHOWN}/{name}.pim"


@functools.cache
def text(name: str) -> str:
    """The text of library program ``name`` (already required)."""
    entry = resources.files("pimsim.programs") / "lib" / f"{name}.pim"
    return entry.read_text(encoding="utf-8")


@functools.cache
def _unit(name: str) -> Unit:
    return read(text(name), shown(name), name)


def unit(name: str, where: Where | None = None) -> Unit:
    """The read (not expanded) library program ``name``, for a call at ``where``."""
    require(name, where)
    return _unit(name)
