"""The source logic graph every reader produces: named inputs, AND/OR/XOR/MAJ gates over
literals (a node with an optional complement), named outputs; evaluated bitwise on the host.

A literal is ``2 * node + complemented``; node 0 is the constant 0, so literal 0 is false and
literal 1 is true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

#: Gate kinds: n-ary ``and``, ``or``, ``xor`` (two or more fanins) and ``maj`` (exactly three).
KINDS = ("and", "or", "xor", "maj")

FALSE, TRUE = 0, 1

#: Gates a source may have: scheduling takes about 10 ms a gate (about 3 minutes at this).
MAX_GATES = 20_000


@dataclass
class Network:
    """A combinational circuit; nodes are appended in topological order."""

    source: str
    inputs: list[str] = field(default_factory=list)  # names, node i + 1 is inputs[i]
    nodes: list[tuple[str, tuple[int, ...]]] = field(default_factory=lambda: [("const", ())])
    outputs: list[tuple[str, int]] = field(default_factory=list)  # (name, literal)

    def add_input(self, name: str) -> int:
        """A new input node; its literal."""
        if len(self.nodes) != len(self.inputs) + 1:
            raise ValueError("inputs come before gates")
        self.inputs.append(name)
        self.nodes.append(("in", ()))
        return 2 * (len(self.nodes) - 1)

    def add(self, kind: str, fanins: tuple[int, ...]) -> int:
        """A new gate over existing literals; its literal."""
        assert kind in KINDS and all(f >> 1 < len(self.nodes) for f in fanins)
        self.nodes.append((kind, tuple(fanins)))
        return 2 * (len(self.nodes) - 1)

    @property
    def gates(self) -> int:
        return len(self.nodes) - len(self.inputs) - 1

    def evaluate(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each output's value, bitwise over uint64 words (``values``: input name -> words
        of one shape)."""
        shape = np.asarray(values[self.inputs[0]]).shape if self.inputs else (1,)
        ones = np.full(shape, np.uint64(2**64 - 1), dtype=np.uint64)
        words = [np.zeros(shape, dtype=np.uint64)]
        words += [np.asarray(values[name], dtype=np.uint64) for name in self.inputs]

        def lit(literal: int) -> np.ndarray:
            value = words[literal >> 1]
            return value ^ ones if literal & 1 else value

        for kind, fanins in self.nodes[len(self.inputs) + 1 :]:
            ins = [lit(f) for f in fanins]
            if kind == "maj":
                a, b, c = ins
                words.append((a & b) | (a & c) | (b & c))
                continue
            acc = ins[0].copy()
            for value in ins[1:]:
                if kind == "and":
                    acc &= value
                elif kind == "or":
                    acc |= value
                else:
                    acc ^= value
            words.append(acc)
        return {name: lit(literal) for name, literal in self.outputs}

    def expression(self, literal: int, names: Mapping[str, str], limit: int) -> str | None:
        """The literal as a numpy check expression over ``names`` (input -> operand name),
        or None when it would be longer than ``limit`` characters (shared logic is
        written out once per use)."""
        memo: dict[int, str] = {}
        op = {"and": "&", "or": "|", "xor": "^"}

        def text(lit: int) -> str:
            node = lit >> 1
            if node not in memo:
                kind, fanins = self.nodes[node]
                if kind == "const":
                    memo[node] = "0"
                elif kind == "in":
                    memo[node] = names[self.inputs[node - 1]]
                elif kind == "maj":
                    a, b, c = (text(f) for f in fanins)
                    memo[node] = f"(({a}&{b})|({a}&{c})|({b}&{c}))"
                else:  # balanced, so a long XOR nests log2(n) deep, not n
                    memo[node] = _balanced(op[kind], [text(f) for f in fanins])
                if len(memo[node]) > limit:
                    raise OverflowError
            body = memo[node]
            if lit & 1:
                return "1" if body == "0" else f"~{body}"
            return body

        try:
            return text(literal)
        except OverflowError:
            return None


def _balanced(symbol: str, terms: list[str]) -> str:
    """``terms`` joined by ``symbol`` in a balanced tree of parentheses."""
    while len(terms) > 1:
        pairs = [f"({a}{symbol}{b})" for a, b in zip(terms[::2], terms[1::2], strict=False)]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]
