"""MIMDRAM's published command counts (HPCA 2024, its public µprograms as run on an exact
Ambit interpreter; REFERENCE.md): AAP + AP per n-bit operation, the figures the library's
programs must not exceed. abs, min, max, if-else (select) and bitcount have no trustworthy
public figure (MIMDRAM's programs for them do not compute what their names say)."""

from __future__ import annotations

import math
from collections.abc import Callable

#: Library operation -> (formula as published, AAP + AP for width n).
MIMDRAM: dict[str, tuple[str, Callable[[int], int]]] = {
    "add": ("8n+1", lambda n: 8 * n + 1),
    "sub": ("8n+1", lambda n: 8 * n + 1),
    "mul": ("11n²-5n-1", lambda n: 11 * n * n - 5 * n - 1),
    "div": ("8.25n²+12n", lambda n: math.ceil(8.25 * n * n + 12 * n)),
    "gt": ("3n+2", lambda n: 3 * n + 2),
    "ge": ("3n+2", lambda n: 3 * n + 2),
    "eq": ("4n+3", lambda n: 4 * n + 3),
    "relu": ("3n+1", lambda n: 3 * n + 1),
    "xor_reduce": ("3n+2", lambda n: 3 * n + 2),
    "and_reduce": ("2.5n+2", lambda n: math.ceil(2.5 * n + 2)),
    "or_reduce": ("2.5n+2", lambda n: math.ceil(2.5 * n + 2)),
}


def bound(op: str, n: int) -> int | None:
    """MIMDRAM's AAP + AP for ``op`` at width ``n``, or None if none is published."""
    entry = MIMDRAM.get(op)
    return entry[1](n) if entry else None
