"""Read a Boolean expression: ``s = a ^ b ^ c; co = maj(a, b, c)``.

Statements are separated by ``;`` or new lines; ``NAME = EXPR`` names an output (an
unnamed one is ``out``, ``out1``, ...), ``NAME := EXPR`` an intermediate value that is no
output; a later statement may use an earlier name. Operators, loosest first as in Python:
``|``, ``^``, ``&``, then unary ``~``; ``maj(x, y, z)``, the constants ``0`` and ``1``,
parentheses. Every other name is an input, in order of first use. An error names the line
and column: ``expression:1: column 7: ...``.
"""

from __future__ import annotations

import re

from pimsim.compile.network import FALSE, TRUE, Network
from pimsim.programs.errors import ProgramError, echo

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|([01])\b|(\S))", re.ASCII)
_BINARY = (("|", "or"), ("^", "xor"), ("&", "and"))
#: Nesting deeper than this is refused (one line, not Python's RecursionError).
MAX_DEPTH = 100


class _Reader:
    def __init__(self, text: str, source: str, line: int, net: Network, defined: dict):
        self.source, self.line, self.net, self.defined = source, line, net, defined
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, column)
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:  # only spaces left
                break
            col = match.start(match.lastindex) + 1
            kind = ("name", "const", "sym")[match.lastindex - 1]
            self.tokens.append((kind, match.group(match.lastindex), col))
            pos = match.end()
        self.tokens.append(("end", "", len(text.rstrip()) + 1))
        self.pos = 0
        self.depth = 0

    def fail(self, message: str, column: int | None = None) -> ProgramError:
        col = self.tokens[self.pos][2] if column is None else column
        return ProgramError(self.source, self.line, f"column {col}", message)

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.pos]

    def take(self, text: str, what: str) -> None:
        if self.peek()[1] != text or self.peek()[0] != "sym":
            raise self.fail(f"expected {what}, found {self._found()}")
        self.pos += 1

    def _found(self) -> str:
        kind, text, _ = self.peek()
        return "the end of the statement" if kind == "end" else echo(text)

    def statement(self, index: int) -> tuple[str, int, bool]:
        """One ``[NAME =] EXPR`` or ``NAME := EXPR``: the name, its literal and whether it
        is an output."""
        name, output = None, True
        following = [t[1] for t in self.tokens[self.pos + 1 : self.pos + 3]]
        if self.peek()[0] == "name" and (following[:1] == ["="] or following == [":", "="]):
            name, col = self.peek()[1], self.peek()[2]
            if name == "maj" or name in self.defined or name in self.net.inputs:
                raise self.fail(f"{name} is already an input, a name or maj", col)
            output = following[0] == "="
            self.pos += 2 if output else 3
        literal = self.binary(0)
        if self.peek()[0] != "end":
            raise self.fail(f"expected an operator or the end, found {self._found()}")
        return name or ("out" if index == 0 else f"out{index}"), literal, output

    def binary(self, level: int) -> int:
        if level == len(_BINARY):
            return self.unary()
        symbol, kind = _BINARY[level]
        fanins = [self.binary(level + 1)]
        while self.peek()[1] == symbol and self.peek()[0] == "sym":
            self.pos += 1
            fanins.append(self.binary(level + 1))
        return fanins[0] if len(fanins) == 1 else self.net.add(kind, tuple(fanins))

    def unary(self) -> int:
        negate = 0
        while self.peek()[:2] == ("sym", "~"):
            self.pos += 1
            negate ^= 1
        kind, text, col = self.peek()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")
        try:
            return self.atom(kind, text, col) ^ negate
        finally:
            self.depth -= 1

    def atom(self, kind: str, text: str, col: int) -> int:
        if kind == "const":
            self.pos += 1
            return TRUE if text == "1" else FALSE
        if kind == "sym" and text == "(":
            self.pos += 1
            literal = self.binary(0)
            self.take(")", "')'")
            return literal
        if kind == "name" and text == "maj" and self.tokens[self.pos + 1][1] == "(":
            self.pos += 2
            args = [self.binary(0)]
            for _ in range(2):
                self.take(",", "',' (maj takes three arguments)")
                args.append(self.binary(0))
            self.take(")", "')' (maj takes three arguments)")
            return self.net.add("maj", tuple(args))
        if kind == "name":
            self.pos += 1
            if text in self.defined:
                return self.defined[text]
            if text not in self.net.inputs:
                if self.net.gates:  # inputs are numbered before gates: renumber later
                    self.net.inputs.append(text)
                    return -1 - len(self.net.inputs)
                return self.net.add_input(text)
            return 2 * (self.net.inputs.index(text) + 1)
        raise self.fail(f"expected a name, 0, 1, '~', '(' or maj(...), found {self._found()}")


def read_expression(text: str, source: str = "expression") -> Network:
    """The network of the statements in ``text`` (ProgramError with line and column)."""
    # Two passes: the first finds every input (in order of use), the second builds gates
    # after all inputs, since a Network numbers its inputs first.
    names: list[str] = []
    for _ in range(2):
        net = Network(source)
        for name in names:
            net.add_input(name)
        defined: dict[str, int] = {}
        index = 0
        for lineno, line in enumerate(text.splitlines() or [""], 1):
            line = line.split("#", 1)[0]
            offset = 0
            for part in line.split(";"):
                if part.strip():
                    reader = _Reader(" " * offset + part, source, lineno, net, defined)
                    name, literal, output = reader.statement(index)
                    defined[name] = literal
                    if output:
                        net.outputs.append((name, literal))
                        index += 1
                offset += len(part) + 1
        if net.inputs == names:
            break
        names = list(net.inputs)
    if not net.outputs:
        raise ProgramError(source, 1, "column 1", "no expression")
    return net
