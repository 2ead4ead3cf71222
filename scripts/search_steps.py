#!/usr/bin/env python3
"""Shortest AAP/AP sequences for a small Boolean step, by breadth-first search over the compute
rows' contents (a tool for writing library µprograms, not part of the simulator).

Each compute row holds a truth table over a few variables (or nothing yet). A command reads a
data row (one of the variables), a constant row or a decoder address, and writes a decoder
address, with Ambit's semantics taken from the config's decoder table: three rows raised settle
to their majority, an n-wordline stores (and reads) the complement. Triple activations of
two equal rows are skipped (they only copy). The search stops at the first depth where the
goal holds, so the sequence printed is a shortest one under the limits given.

    # y = sel ? a : b, reading each operand once and one constant: 7 commands
    python scripts/search_steps.py --vars s,a,b --load s,a,b --sense "(s & a) | (~s & b)"
    # xor_reduce's and bitcount's full-adder step: r kept as ~r in T1 and r in DCC1, the
    # carry sensed into a data row on the way: 6 commands
    python scripts/search_steps.py --vars r,a,b --load a,b:2 --constants 0 \\
        --start "T1=~r,DCC1=r" --end "T1=~(a^b^r),DCC1=a^b^r" --store "(a&b)|(a&r)|(b&r)"

Output: the commands in .pim syntax (operand rows by variable name, data row ``out`` for
``--store``, ``y`` for ``--sense``), or "none within N commands".
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from pimsim.config import load_config

UNSET = -1


@dataclass(frozen=True)
class Address:
    name: str  # as written in .pim (T0, ~DCC0,T0, DCC0,T1,T2)
    lines: tuple[tuple[int, bool], ...]  # (compute row index, negated)


class Machine:
    """The compute rows of one subarray over truth tables of ``nvars`` variables."""

    def __init__(self, config: str, nvars: int):
        pim = load_config(config).pim
        self.rows = list(pim.compute_rows)
        self.mask = (1 << (1 << nvars)) - 1
        self.addresses = [
            Address(
                ",".join(wls),
                tuple((self.rows.index(w.lstrip("~")), w.startswith("~")) for w in wls),
            )
            for wls in pim.decoder.values()
        ]
        self.sources = [a for a in self.addresses if len(a.lines) in (1, 3)]

    def sense(self, cells: tuple, addr: Address):
        """(value sensed, cells after) when ``addr`` is activated first, or None."""
        vals = []
        for row, neg in addr.lines:
            if cells[row] == UNSET:
                return None
            vals.append(cells[row] ^ (self.mask if neg else 0))
        if len(vals) == 1:
            return vals[0], cells
        x, y, z = vals
        if x in (y, z) or y == z:
            return None
        m = (x & y) | (x & z) | (y & z)
        return m, self.write(cells, addr, m)

    def write(self, cells: tuple, addr: Address, value: int) -> tuple:
        out = list(cells)
        for row, neg in addr.lines:
            out[row] = value ^ (self.mask if neg else 0)
        return tuple(out)


def truth_table(expr: str, names: list[str], mask: int) -> int:
    """The truth table of a Python bitwise expression over ``names``."""
    env = {
        name: sum(1 << r for r in range(mask.bit_length()) if r >> k & 1)
        for k, name in enumerate(names)
    }
    return eval(expr, {"__builtins__": {}}, env) & mask  # noqa: S307 (a developer's tool)


def assignments(text: str, names, mask, rows) -> dict[int, int]:
    """``T1=~r,DCC1=r`` -> {row index: truth table}."""
    out = {}
    for part in filter(None, text.split(",")):
        row, _, expr = part.partition("=")
        out[rows.index(row.strip())] = truth_table(expr, names, mask)
    return out


def search(machine, loads, constants, start, goal_sense, goal_end, store, depth, copies):
    """Breadth-first search; the shortest command list, or None."""
    key0 = (start, tuple(0 for _ in loads), 0, store is None)
    parent = {key0: None}
    frontier = [key0]
    for level in range(depth + 1):
        for key in frontier:
            cells, _, _, stored = key
            if not stored:
                continue
            if goal_sense is None and _holds(goal_end, cells):
                return _path(parent, key)
            if goal_sense is not None and level < depth:
                for src in machine.sources:
                    got = machine.sense(cells, src)
                    if got and got[0] == goal_sense and _holds(goal_end, got[1]):
                        return _path(parent, key) + [f"AAP {src.name} -> y"]
        if level == depth:
            return None
        nxt = []
        for key in frontier:
            for new, step in _moves(machine, key, loads, constants, store, copies):
                if new not in parent:
                    parent[new] = (key, step)
                    nxt.append(new)
        frontier = nxt
    return None


def _holds(goal_end, cells) -> bool:
    return goal_end is None or all(cells[r] == v for r, v in goal_end.items())


def _moves(machine, key, loads, constants, store, copies):
    """Every (state after, command) one command leads to from state ``key``."""
    cells, used, nconst, stored = key
    for k, (name, value, most) in enumerate(loads):
        if used[k] < most:
            count = used[:k] + (used[k] + 1,) + used[k + 1 :]
            for dst in machine.addresses:
                yield (
                    (machine.write(cells, dst, value), count, nconst, stored),
                    f"AAP {name} -> {dst.name}",
                )
    if nconst < constants:
        for name, value in (("C0", 0), ("C1", machine.mask)):
            for dst in machine.addresses:
                new = (machine.write(cells, dst, value), used, nconst + 1, stored)
                yield new, f"AAP {name} -> {dst.name}"
    for src in machine.sources:
        got = machine.sense(cells, src)
        if got is None:
            continue
        value, after = got
        if not stored and value == store:
            yield (after, used, nconst, True), f"AAP {src.name} -> out"
        if len(src.lines) == 1 and not copies:
            continue
        if len(src.lines) == 3:
            yield (after, used, nconst, stored), f"AP {src.name}"
        for dst in machine.addresses:
            yield (
                (machine.write(after, dst, value), used, nconst, stored),
                f"AAP {src.name} -> {dst.name}",
            )


def _path(parent, key) -> list[str]:
    steps = []
    while parent[key] is not None:
        key, step = parent[key]
        steps.append(step)
    return steps[::-1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vars", required=True, help="variable names, comma-separated (<= 4)")
    ap.add_argument("--load", default="", help="data rows that may be read: NAME[:TIMES],...")
    ap.add_argument("--constants", type=int, default=1, help="reads of C0/C1 allowed")
    ap.add_argument("--start", default="", help="compute rows at the start: ROW=EXPR,...")
    ap.add_argument("--sense", help="goal: the last command senses EXPR into a data row")
    ap.add_argument("--end", help="goal: these compute rows then hold these values: ROW=EXPR,...")
    ap.add_argument("--store", help="and on the way, EXPR is sensed into a data row")
    ap.add_argument("--depth", type=int, default=7, help="most commands (default 7)")
    ap.add_argument("--copies", action="store_true", help="allow compute-row to row copies")
    ap.add_argument("--config", default="ddr3-1600")
    args = ap.parse_args(argv)
    names = args.vars.split(",")
    machine = Machine(args.config, len(names))
    mask = machine.mask
    loads = []
    for part in filter(None, args.load.split(",")):
        name, _, times = part.partition(":")
        loads.append((name, truth_table(name, names, mask), int(times or 1)))
    start = [UNSET] * len(machine.rows)
    for row, value in assignments(args.start, names, mask, machine.rows).items():
        start[row] = value
    if args.sense is None and args.end is None:
        ap.error("give a goal: --sense, --end or both")
    sense = truth_table(args.sense, names, mask) if args.sense else None
    end = assignments(args.end, names, mask, machine.rows) if args.end else None
    store = truth_table(args.store, names, mask) if args.store else None
    found = search(
        machine, loads, args.constants, tuple(start), sense, end, store, args.depth, args.copies
    )
    if found is None:
        print(f"none within {args.depth} commands")
        return 1
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
