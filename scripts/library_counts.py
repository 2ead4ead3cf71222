#!/usr/bin/env python3
"""Print the library's command counts (AAP + AP per n-bit operation) as a markdown table,
next to MIMDRAM's published figure (pimsim.programs.bounds); README.md shows its output.

    python scripts/library_counts.py [--widths 8,16,32,64]
"""

from __future__ import annotations

import argparse

from pimsim.programs import bounds, library
from pimsim.programs.parse import ProgramError, builtin


def counts_table(widths: list[int]) -> str:
    """The markdown table: one row per library operation with a width param ``n``."""
    head = ["op", *(f"n={n}" for n in widths), "MIMDRAM (AAP+AP)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in library.names():
        unit = library.unit(name)
        if not any(p.name == "n" for p in unit.params):
            continue
        cells = [name + (" (signed)" if unit.signed else "")]
        for n in widths:
            try:
                c = builtin(name, {"n": n}).counts()
                cells.append(f"{c['AAP'] + c['AP']:,} ({c['AAP']:,} + {c['AP']:,})")
            except ProgramError:  # a width outside the program's range
                cells.append("-")
        published = bounds.MIMDRAM.get(name)
        if published:
            values = "/".join(f"{bounds.bound(name, n):,}" for n in widths)
            cells.append(f"{published[0]}: {values}")
        else:
            cells.append("none public")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="8,16,32,64", help="comma-separated widths")
    args = parser.parse_args()
    print(counts_table([int(w) for w in args.widths.split(",")]), end="")


if __name__ == "__main__":
    main()
