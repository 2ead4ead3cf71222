#!/usr/bin/env python3
"""Generate the synthetic traces pimsim is checked with (pimsim native format).

    python scripts/make_traces.py OUTDIR [--requests N] [--kinds seqrd,rndrd,mix21,copy]

Every trace has 64-byte requests, all with trace cycle 0, drawn from Python's
``random.Random(12345)`` (a fresh generator per trace), request index i = 0..N-1:

- ``seqrd``: reads 64*i
- ``rndrd``: reads 64*rng.randrange(2**24)
- ``mix21``: writes when i % 3 == 2 else reads; address 64*rng.randrange(2**24) for every request
- ``copy``: reads 64*(i//2) when i is even, writes 0x20000000 + 64*(i//2) when odd

These are the traces the Ramulator 2 / DRAMSim3 cross-check uses (see tests/test_crosscheck.py).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path

SEED = 12345


def requests(kind: str, n: int) -> Iterator[tuple[bool, int]]:
    """(is_write, address) of each request of trace ``kind``."""
    rng = random.Random(SEED)
    for i in range(n):
        if kind == "seqrd":
            yield False, 64 * i
        elif kind == "rndrd":
            yield False, 64 * rng.randrange(2**24)
        elif kind == "mix21":
            yield i % 3 == 2, 64 * rng.randrange(2**24)
        elif kind == "copy":
            yield (False, 64 * (i // 2)) if i % 2 == 0 else (True, 0x20000000 + 64 * (i // 2))
        else:
            raise ValueError(f"unknown trace kind {kind!r}")


KINDS = ("seqrd", "rndrd", "mix21", "copy")


def write_trace(path: Path, kind: str, n: int) -> None:
    """Write ``n`` requests of ``kind`` to ``path`` in pimsim's native format."""
    with open(path, "w") as fh:
        fh.write(f"# {kind}: {n} requests, random.Random({SEED}); <cycle> R|W <address>\n")
        fh.writelines(f"0 {'W' if w else 'R'} {a:#x}\n" for w, a in requests(kind, n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    for kind in args.kinds.split(","):
        write_trace(args.outdir / f"{kind}.trace", kind, args.requests)
        print(args.outdir / f"{kind}.trace")


if __name__ == "__main__":
    main()
