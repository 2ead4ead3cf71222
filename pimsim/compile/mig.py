"""The majority-inverter graph (MIG) a network maps to, and the algebra that keeps it small.

Every gate is MAJ(x, y, z) over literals (``2 * node + complemented``; literal 0 is false,
1 true): AND = MAJ(x, y, 0), OR = MAJ(x, y, 1). :meth:`Mig.maj` applies the majority
axioms as it builds (MAJ(x, x, y) = x, MAJ(x, ~x, y) = y, so constants fold), shares
identical gates (structural hashing) and stores a gate with at most one complemented fanin
(MAJ(~x, ~y, z) = ~MAJ(x, y, ~z), self-duality), so equal functions meet in one node.

:func:`to_mig` maps a :class:`~pimsim.compile.network.Network`: n-ary AND/OR as balanced
trees, a 3-input XOR as MAJ(~MAJ(x, y, z), MAJ(x, y, ~z), z) (three gates, the first one
shared with a carry MAJ(x, y, z)), a 2-input XOR as MAJ(MAJ(x, ~y, 0), MAJ(~x, y, 0), 1).
With ``naive=True`` it maps gate by gate (2-input XORs only, no sharing) as the baseline
the optimizer is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pimsim.compile.network import Network


@dataclass
class Mig:
    """Inputs are nodes 1..inputs; gates follow in topological order."""

    inputs: int
    fanins: list[tuple[int, int, int]] = field(default_factory=list)  # per gate node
    share: bool = True
    _table: dict[tuple[int, int, int], int] = field(default_factory=dict)

    def node_fanins(self, node: int) -> tuple[int, int, int]:
        return self.fanins[node - self.inputs - 1]

    def maj(self, a: int, b: int, c: int) -> int:
        """The literal of MAJ(a, b, c), simplified and shared."""
        a, b, c = sorted((a, b, c))
        if a == b or b == c:
            return b
        if a ^ 1 == b:
            return c
        if b ^ 1 == c:
            return a
        if not self.share:
            return self._new(a, b, c)
        if (a & 1) + (b & 1) + (c & 1) >= 2:
            return self.maj(a ^ 1, b ^ 1, c ^ 1) ^ 1
        key = (a, b, c)
        if key not in self._table:
            self._table[key] = self._new(a, b, c)
        return self._table[key]

    def _new(self, a: int, b: int, c: int) -> int:
        self.fanins.append((a, b, c))
        return 2 * (self.inputs + len(self.fanins))

    def evaluate(self, words: list, ones) -> list:
        """Word arrays of every node (``words``: constant 0 then the inputs, numpy)."""
        values = list(words)

        def lit(literal):
            value = values[literal >> 1]
            return value ^ ones if literal & 1 else value

        for a, b, c in self.fanins:
            x, y, z = lit(a), lit(b), lit(c)
            values.append((x & y) | (x & z) | (y & z))
        return values

    def cone(self, roots: list[int]) -> int:
        """Gates ``roots`` (literals) depend on (the others are left over by mapping)."""
        seen, stack = set(), [r >> 1 for r in roots]
        while stack:
            node = stack.pop()
            if node > self.inputs and node not in seen:
                seen.add(node)
                stack.extend(f >> 1 for f in self.node_fanins(node))
        return len(seen)

    def depth(self, roots: list[int]) -> int:
        """Gates on the longest path from an input to one of ``roots`` (literals)."""
        level = [0] * (self.inputs + 1)
        for fanins in self.fanins:
            level.append(1 + max(level[f >> 1] for f in fanins))
        return max((level[r >> 1] for r in roots), default=0)


def _and(mig: Mig, lits: list[int], const: int) -> int:
    """Balanced tree of MAJ(x, y, const): AND for const 0, OR for const 1."""
    while len(lits) > 1:
        lits = [mig.maj(lits[i], lits[i + 1], const) for i in range(0, len(lits) - 1, 2)] + (
            [lits[-1]] if len(lits) % 2 else []
        )
    return lits[0]


def xor2(mig: Mig, x: int, y: int) -> int:
    return mig.maj(mig.maj(x, y ^ 1, 0), mig.maj(x ^ 1, y, 0), 1)


def xor3(mig: Mig, x: int, y: int, z: int) -> int:
    return mig.maj(mig.maj(x, y, z) ^ 1, mig.maj(x, y, z ^ 1), z)


def _xor(mig: Mig, lits: list[int], naive: bool, rotate: int) -> int:
    """Parity of ``lits``: three at a time with :func:`xor3` (its fanins rotated by
    ``rotate``: which one it complements), a last pair with :func:`xor2`."""
    lits = list(lits)
    while len(lits) > 1:
        if len(lits) == 2 or naive:
            lits = [xor2(mig, lits[0], lits[1])] + lits[2:]
        else:
            three = lits[:3]
            lits = lits[3:] + [xor3(mig, *three[rotate:], *three[:rotate])]
    return lits[0]


def _as_xor(net: Network, fanins: tuple[int, ...]) -> tuple[str, tuple[int, int]] | None:
    """("xor", (u, v)) when AND(fanins) is NOT AND(u, v) AND NOT AND(NOT u, NOT v) -- how
    an AIG writes u XOR v -- else None."""
    if len(fanins) != 2 or not fanins[0] & fanins[1] & 1:
        return None
    p, q = (net.nodes[f >> 1] for f in fanins)
    if p[0] != "and" or q[0] != "and" or len(p[1]) != 2 or len(q[1]) != 2:
        return None
    u, v = p[1]
    if u >> 1 != v >> 1 and sorted(q[1]) == sorted((u ^ 1, v ^ 1)):
        return "xor", (u, v)
    return None


def to_mig(net: Network, naive: bool = False, rotate: int = 0) -> tuple[Mig, list[int]]:
    """The MIG of ``net`` and the literal of each output (in ``net.outputs`` order);
    ``rotate`` (0..2) picks which fanin of each 3-input XOR is complemented."""
    mig = Mig(len(net.inputs), share=not naive)
    lits = list(range(0, 2 * len(net.inputs) + 2, 2))  # node -> MIG literal

    def m(literal: int) -> int:
        return lits[literal >> 1] ^ (literal & 1)

    xor_fanins: dict[int, tuple[list[int], int]] = {}  # xor node -> (flat fanins, parity)
    uses = [0] * len(net.nodes)
    for _, fanins in net.nodes:
        for f in fanins:
            uses[f >> 1] += 1
    for _, literal in net.outputs:
        uses[literal >> 1] += 1
    for node, (kind, fanins) in enumerate(net.nodes[len(net.inputs) + 1 :], len(net.inputs) + 1):
        if not naive and kind == "and" and all(uses[f >> 1] == 1 for f in fanins):
            kind, fanins = _as_xor(net, fanins) or (kind, fanins)  # its two ANDs not shared
        ins = [m(f) for f in fanins]
        if kind == "maj":
            lits.append(mig.maj(*ins))
        elif kind in ("and", "or"):
            lits.append(_and(mig, ins, 0 if kind == "and" else 1))
        else:
            flat: list[int] = []
            parity = 0
            for f, lit in zip(fanins, ins, strict=True):
                inner = net.nodes[f >> 1]
                if not naive and inner[0] == "xor" and uses[f >> 1] == 1:
                    child, child_parity = xor_fanins[f >> 1]  # single-use XOR feeding this
                    flat += child
                    parity ^= child_parity ^ (f & 1)
                else:
                    flat.append(lit)
            xor_fanins[node] = (flat, parity)
            lits.append(_xor(mig, flat, naive, rotate) ^ parity)
    return mig, [m(literal) for _, literal in net.outputs]
