#!/usr/bin/env python3
"""Write the synthetic cross-check traces (see pimsim/workloads.py) in pimsim's format.

python scripts/make_traces.py OUTDIR [--requests N] [--kinds seqrd,rndrd,mix21,copy]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pimsim.workloads import KINDS, write_trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    for kind in args.kinds.split(","):
        print(write_trace(args.outdir / f"{kind}.trace", kind, args.requests))


if __name__ == "__main__":
    main()
