"""Synthetic request streams: the traces pimsim is cross-checked with other simulators on.

Every stream has 64-byte requests, all with trace cycle 0, drawn from Python's
``random.Random(12345)`` (a fresh generator per stream), request index i = 0..n-1:

- ``seqrd``: reads 64*i
- ``rndrd``: reads 64*rng.randrange(2**24)
- ``mix21``: writes when i % 3 == 2 else reads; address 64*rng.randrange(2**24) every request
- ``copy``: reads 64*(i//2) when i is even, writes 0x20000000 + 64*(i//2) when odd
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

SEED = 12345
KINDS = ("seqrd", "rndrd", "mix21", "copy")


def requests(kind: str, n: int) -> Iterator[tuple[bool, int]]:
    """(is_write, byte address) of each request of stream ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown stream {kind!r} (known: {', '.join(KINDS)})")
    rng = random.Random(SEED)
    for i in range(n):
        if kind == "seqrd":
            yield False, 64 * i
        elif kind == "rndrd":
            yield False, 64 * rng.randrange(2**24)
        elif kind == "mix21":
            yield i % 3 == 2, 64 * rng.randrange(2**24)
        elif i % 2 == 0:
            yield False, 64 * (i // 2)
        else:
            yield True, 0x20000000 + 64 * (i // 2)


def write_trace(path: str | Path, kind: str, n: int) -> Path:
    """Write ``n`` requests of ``kind`` to ``path`` in pimsim's native trace format."""
    path = Path(path)
    with open(path, "w") as fh:
        fh.write(f"# {kind}: {n} requests, random.Random({SEED}); <cycle> R|W <address>\n")
        fh.writelines(f"0 {'W' if w else 'R'} {a:#x}\n" for w, a in requests(kind, n))
    return path
