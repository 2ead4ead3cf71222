"""The ``.pim`` v2 grammar: lines into tokens, integer expressions and row references.

A line is split into tokens (names, decimal integers, ``->``, ``..``, operators, brackets);
:class:`Tokens` reads them left to right and raises ProgramError naming the file, line and
field of the first thing it cannot read. Integer expressions (widths, indices, loop bounds,
``if`` conditions) are parsed once into :class:`Expr` trees and evaluated later, at expansion,
against the params and loop variables in scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pimsim.programs.errors import ProgramError, echo

#: One token: an arrow, a range, a two-character operator, a name, an integer or one character.
_TOKEN = re.compile(r"\s*(?:(->|\.\.|\*\*|//|==|!=|<=|>=)|([A-Za-z_][A-Za-z0-9_]*)|([0-9]+)|(\S))")
#: A name: an identifier of at most 40 characters (errors quote it whole).
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
#: Longest integer literal accepted (digits); indices and widths are far smaller.
_MAX_DIGITS = 18
#: Largest magnitude an expression may reach while it is evaluated.
MAX_VALUE = 1 << 40

_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "**": lambda a, b: a**b,
}
#: Binding power of each binary operator (``**`` binds right to left).
_POWER = {"+": 1, "-": 1, "*": 2, "//": 2, "%": 2, "**": 3}
COMPARISONS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Where:
    """Where a token stands: the file (as shown) and line, for errors."""

    source: str
    line: int

    def error(self, field: str, message: str) -> ProgramError:
        return ProgramError(self.source, self.line, field, message)


@dataclass(frozen=True)
class Expr:
    """An integer expression: ``op`` is "int", "name", "neg" or a binary operator."""

    op: str
    args: tuple
    text: str

    def value(self, env: dict[str, int], where: Where, field: str) -> int:
        """The expression's value with ``env`` (params and loop variables)."""
        if self.op == "int":
            return self.args[0]
        if self.op == "name":
            name = self.args[0]
            if name not in env:
                raise where.error(field, f"{name} is not a param or loop variable here")
            return env[name]
        if self.op == "neg":
            return -self.args[0].value(env, where, field)
        a = self.args[0].value(env, where, field)
        b = self.args[1].value(env, where, field)
        if self.op in ("//", "%") and b == 0:
            raise where.error(field, f"{self.text}: division by zero")
        if self.op == "**" and (b < 0 or b > 64):
            raise where.error(field, f"{self.text}: exponent {b} outside 0..64")
        result = _BINARY[self.op](a, b)
        if abs(result) > MAX_VALUE:
            raise where.error(field, f"{self.text}: value {result} is out of range")
        return result


@dataclass(frozen=True)
class RowItem:
    """One wordline name of a row reference: an operand (with an index or a slice), a
    constant, a raw decoder address or a compute row, possibly its n-wordline (``~``)."""

    name: str
    index: Expr | None = None
    last: Expr | None = None  # end of a slice a[lo..hi] (call arguments only)
    negated: bool = False


@dataclass(frozen=True)
class RowRef:
    """A row reference as written: one item, or a comma-joined set of compute rows."""

    items: tuple[RowItem, ...]
    text: str


class Tokens:
    """The tokens of one line, read left to right."""

    def __init__(self, text: str, where: Where, field: str):
        self.where, self.field = where, field
        self.items: list[str] = []
        self.starts: list[int] = []  # offset of each token in ``text``
        self.text = text = text.rstrip()
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:  # only trailing blanks are left
                break
            self.items.append(match.group(match.lastindex))
            self.starts.append(match.start(match.lastindex))
            pos = match.end()
        self.pos = 0

    def peek(self, ahead: int = 0) -> str | None:
        k = self.pos + ahead
        return self.items[k] if k < len(self.items) else None

    def next(self, what: str) -> str:
        token = self.peek()
        if token is None:
            raise self.error(f"expected {what} at the end of the line")
        self.pos += 1
        return token

    def take(self, token: str) -> bool:
        """Consume ``token`` if it comes next."""
        if self.peek() == token:
            self.pos += 1
            return True
        return False

    def expect(self, token: str, what: str | None = None) -> None:
        got = self.next(repr(token))
        if got != token:
            raise self.error(f"expected {what or repr(token)}, found {echo(got)}")

    def name(self, what: str = "a name") -> str:
        token = self.next(what)
        if not NAME.fullmatch(token):
            raise self.error(f"{echo(token)} is not {what} (an identifier, at most 40)")
        return token

    def done(self) -> bool:
        return self.pos >= len(self.items)

    def end(self) -> None:
        if not self.done():
            raise self.error(f"unexpected {echo(self.peek())}")

    def error(self, message: str) -> ProgramError:
        return self.where.error(self.field, message)

    def rest(self) -> str:
        """The text from the next token on, as written."""
        return self.text[self.starts[self.pos] :] if not self.done() else ""

    # -- expressions ---------------------------------------------------------------------------

    def expr(self, power: int = 0) -> Expr:
        """An integer expression (precedence climbing)."""
        start = self.pos
        left = self._atom()
        while True:
            op = self.peek()
            if op not in _POWER or _POWER[op] < power:
                break
            self.pos += 1
            right = self.expr(_POWER[op] if op == "**" else _POWER[op] + 1)
            left = Expr(op, (left, right), self._text(start))
        return (
            left if left.text == self._text(start) else Expr(left.op, left.args, self._text(start))
        )

    def _atom(self) -> Expr:
        start = self.pos
        token = self.next("a number or name")
        if token == "(":
            inner = self.expr()
            self.expect(")", "')'")
            return Expr(inner.op, inner.args, self._text(start))
        if token == "-":
            return Expr("neg", (self.expr(_POWER["**"]),), self._text(start))  # -2**2 is -4
        if token.isdigit():
            if len(token) > _MAX_DIGITS:
                raise self.error(f"{echo(token)}: number too large")
            return Expr("int", (int(token),), token)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token):
            if not NAME.fullmatch(token):
                raise self.error(f"{echo(token)} is not a name (an identifier, at most 40)")
            return Expr("name", (token,), token)
        raise self.error(f"expected a number or name, found {echo(token)}")

    def _text(self, start: int) -> str:
        return "".join(self.items[start : self.pos])

    # -- rows ----------------------------------------------------------------------------------

    def row(self, slices: bool = False) -> RowRef:
        """A row reference: ``a``, ``a[EXPR]``, ``~DCC0``, ``T0,T1,T2``; with ``slices`` also
        ``a[LO..HI]`` (call arguments)."""
        start = self.pos
        items = [self._row_item(slices)]
        while self.take(","):
            items.append(self._row_item(slices))
        return RowRef(tuple(items), self._text(start))

    def _row_item(self, slices: bool) -> RowItem:
        negated = self.take("~")
        name = self.name("a row name")
        index = last = None
        if self.take("["):
            index = self.expr()
            if slices and self.take(".."):
                last = self.expr()
            self.expect("]", "']'")
        return RowItem(name, index, last, negated)
