"""Check expressions: the numpy twin of a program's output, parsed and evaluated safely.

A check expression (``check s = (a + b) % 2**n`` in a ``.pim`` file, ``pimsim exec --check``)
is numpy-style arithmetic over the program's input operands (their integer values: unsigned,
or two's complement for operands declared ``signed``), its params and integer literals:
``+ - * // % ** & | ^ ~ << >>``, unary ``-``/``+``, comparisons (``a > b`` is 1 or 0; a chain
``a < b < c`` is both), ``np.minimum``, ``np.maximum``, ``np.where``, ``abs``, ``np.abs`` and
``np.bitwise_count`` (the ones of ``abs(x)``, as numpy and Python's ``int.bit_count`` count).
The expected value of an output of width w is the expression's value modulo 2**w.

The text is parsed with :mod:`ast` and only the nodes above are accepted (never ``eval``).
The value is exact, as with Python's integers, for every width up to 64 and beyond:
``2**64``, a 64-bit sum or product, a shift past 63 bits are not cut to 64 bits. An
interval bound of every subexpression, from the operands' widths, decides how: when all of
them fit in int64 the expression runs on int64 arrays, else on arrays of Python integers
(a chunk of elements at a time). ``//`` and ``%`` floor as in Python; a division by zero
does not fail: ``x // 0`` is -1 (all ones) and ``x % 0`` is x, as a restoring divider and
RISC-V give. A negative exponent or shift count, or one above ``MAX_SHIFT``, is an error, and
so is a subexpression whose bound passes ``MAX_BITS`` bits (``(9**1024)**1024`` would take
the host minutes per element).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from pimsim.errors import PimsimError, cut

#: Longest check expression accepted (characters), its deepest nesting, and the largest
#: exponent or shift count.
MAX_TEXT = 1000
MAX_DEPTH = 100
MAX_SHIFT = 1024
#: Largest bit length a subexpression's value may reach (twice the widest operand, 4096 bits).
MAX_BITS = 1 << 14
#: Elements evaluated at a time on arrays of Python integers (bounds host memory).
CHUNK = 1 << 16

_INT64 = (-(2**63), 2**63 - 1)

_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
#: Functions by how they are written, and their number of arguments.
_FUNCTIONS = {
    "np.minimum": 2,
    "np.maximum": 2,
    "np.where": 3,
    "np.abs": 1,
    "abs": 1,
    "np.bitwise_count": 1,
}
_REFUSED = {
    ast.Div: "'/' is true division: write '//' for an integer quotient",
    ast.MatMult: "'@' is not an integer operation",
    ast.BoolOp: "'and'/'or' are not supported: use '&' and '|' on comparisons",
    ast.Not: "'not' is not supported: use '1 - (...)' or '==' 0",
    ast.IfExp: "'x if c else y' is not supported: use np.where(c, x, y)",
}


class CheckError(PimsimError):
    """A check expression that cannot be used (``where`` names the option or line)."""

    def __init__(self, where: str, message: str):
        self.where, self.message = where, message
        super().__init__(where, message)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Operand:
    """What a check knows of an input operand: its width (bits) and its integer meaning."""

    width: int
    signed: bool = False

    @property
    def bounds(self) -> tuple[int, int]:
        if self.signed:
            return -(2 ** (self.width - 1)), 2 ** (self.width - 1) - 1
        return 0, 2**self.width - 1


@dataclass(frozen=True)
class Check:
    """A parsed, whitelisted check expression (see the module docstring)."""

    text: str
    where: str
    tree: ast.expr
    names: frozenset[str]  # the operand and param names it reads

    def expected(
        self,
        values: Mapping[str, np.ndarray],
        operands: Mapping[str, Operand],
        params: Mapping[str, int],
        width: int,
        elements: int,
    ) -> np.ndarray:
        """The expected output (uint64, ``elements`` values): the expression over the
        operands' integer ``values`` (uint64 arrays, int64 for signed ones) and the
        ``params``, modulo 2**``width``. CheckError for a negative or too large exponent
        or shift count."""
        env: dict[str, tuple[int, int]] = {}
        for name in self.names:
            if name in operands:
                env[name] = operands[name].bounds
            else:
                env[name] = (params[name], params[name])
        bounds: list[tuple[int, int]] = []
        self._bounds(self.tree, env, bounds)
        exact = all(_INT64[0] <= lo and hi <= _INT64[1] for lo, hi in bounds)
        mask = (1 << width) - 1
        out = np.empty(elements, dtype=np.uint64)
        step = elements if exact else CHUNK
        for first in range(0, elements, max(step, 1)):
            last = min(first + step, elements)
            arrays: dict[str, object] = {}
            for name in self.names:
                if name in operands:
                    chunk = np.asarray(values[name])[first:last]
                    arrays[name] = chunk.astype(np.int64 if exact else object)
                else:
                    arrays[name] = int(params[name])
            value = self._eval(self.tree, arrays, exact)
            if exact:
                got = np.broadcast_to(np.asarray(value, dtype=np.int64), (last - first,))
                out[first:last] = got.view(np.uint64) & np.uint64(mask)
            else:
                got = np.broadcast_to(np.asarray(value, dtype=object), (last - first,))
                out[first:last] = (got % (mask + 1)).astype(np.uint64)
        return out

    # -- interval bounds (every subexpression's, into ``out``) --------------------------------

    def _bounds(self, node: ast.expr, env: dict, out: list) -> tuple[int, int]:
        b = self._bound(node, env, out)
        self._size(max(abs(b[0]), abs(b[1])).bit_length())
        out.append(b)
        return b

    def _size(self, bits: int) -> None:
        """CheckError if a value of ``bits`` bits is more than MAX_BITS."""
        if bits > MAX_BITS:
            raise CheckError(self.where, f"a value may reach {bits:,} bits; at most {MAX_BITS:,}")

    def _bound(self, node: ast.expr, env: dict, out: list) -> tuple[int, int]:
        if isinstance(node, ast.Constant):
            return int(node.value), int(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            lo, hi = self._bounds(node.operand, env, out)
            if isinstance(node.op, ast.USub):
                return -hi, -lo
            if isinstance(node.op, ast.Invert):
                return -hi - 1, -lo - 1
            return lo, hi
        if isinstance(node, ast.Compare):
            for child in (node.left, *node.comparators):
                self._bounds(child, env, out)
            return 0, 1
        if isinstance(node, ast.Call):
            args = [self._bounds(a, env, out) for a in node.args]
            return _call_bounds(_function(node), args)
        x = self._bounds(node.left, env, out)
        y = self._bounds(node.right, env, out)
        return self._binary_bounds(node.op, x, y)

    def _binary_bounds(self, op: ast.operator, x, y) -> tuple[int, int]:
        (a, b), (c, d) = x, y
        if isinstance(op, ast.Add):
            return a + c, b + d
        if isinstance(op, ast.Sub):
            return a - d, b - c
        if isinstance(op, ast.Mult):
            corners = (a * c, a * d, b * c, b * d)
            return min(corners), max(corners)
        if isinstance(op, ast.FloorDiv | ast.Mod):
            return _divide_bounds(isinstance(op, ast.FloorDiv), x, y)
        if isinstance(op, ast.Pow):
            count = self._count(c, d, "exponent")
            self._size(max(abs(a), abs(b)).bit_length() * count)  # before the power is taken
            if a >= 0:  # x**e grows with x >= 0 and with e (0**0 is 1)
                return (0 if a == 0 else a**c), max(b**count, 1)
            top = max(abs(a), abs(b)) ** count
            return -top, top
        if isinstance(op, ast.LShift):
            count = self._count(c, d, "shift count")
            self._size(max(abs(a), abs(b)).bit_length() + count)
            return min(a << c, a << count), max(b << c, b << count)
        if isinstance(op, ast.RShift):
            self._count(c, d, "shift count")
            return min(a, 0), max(b, 0)
        big = max(abs(a), abs(b), abs(c), abs(d), 1)
        bits = max(big.bit_length(), 1)  # & | ^ stay within the operands' bit lengths
        return -(1 << bits), (1 << bits) - 1

    def _count(self, lo: int, hi: int, what: str) -> int:
        """The largest exponent or shift count a range allows (CheckError if it may be
        negative or above MAX_SHIFT)."""
        if lo < 0:
            raise CheckError(self.where, f"{what} may be negative ({lo}): not an integer result")
        if hi > MAX_SHIFT:
            raise CheckError(self.where, f"{what} may reach {hi:,}; at most {MAX_SHIFT}")
        return hi

    # -- evaluation ----------------------------------------------------------------------------

    def _eval(self, node: ast.expr, env: dict, exact: bool):
        if isinstance(node, ast.Constant):
            return int(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            x = self._eval(node.operand, env, exact)
            if isinstance(node.op, ast.USub):
                return -x
            return ~x if isinstance(node.op, ast.Invert) else x
        if isinstance(node, ast.Compare):
            return self._compare(node, env, exact)
        if isinstance(node, ast.Call):
            args = [self._eval(a, env, exact) for a in node.args]
            return _call(_function(node), args, exact)
        x = self._eval(node.left, env, exact)
        y = self._eval(node.right, env, exact)
        return _binary(node.op, x, y, exact)

    def _compare(self, node: ast.Compare, env: dict, exact: bool):
        left = self._eval(node.left, env, exact)
        result = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self._eval(right_node, env, exact)
            value = _ints(_COMPARE_FN[type(op)](left, right), exact)
            result = value if result is None else result & value
            left = right
        return result


def _ints(value, exact: bool):
    """A comparison's booleans as 1/0 of the evaluation's kind."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    return value.astype(np.int64) if exact else value.astype(np.int64).astype(object)


_COMPARE_FN = {
    ast.Lt: lambda x, y: x < y,
    ast.LtE: lambda x, y: x <= y,
    ast.Gt: lambda x, y: x > y,
    ast.GtE: lambda x, y: x >= y,
    ast.Eq: lambda x, y: x == y,
    ast.NotEq: lambda x, y: x != y,
}


def _binary(op: ast.operator, x, y, exact: bool):
    if isinstance(op, ast.Add):
        return x + y
    if isinstance(op, ast.Sub):
        return x - y
    if isinstance(op, ast.Mult):
        return x * y
    if isinstance(op, ast.FloorDiv | ast.Mod):
        return _divide(op, *_lifted([x, y], exact))
    if isinstance(op, ast.Pow):
        return x**y
    if isinstance(op, ast.BitAnd):
        return x & y
    if isinstance(op, ast.BitOr):
        return x | y
    if isinstance(op, ast.BitXor):
        return x ^ y
    if isinstance(op, ast.LShift):
        return x << y
    # >>: int64 shifts of 64 or more are undefined in C; 63 gives Python's answer there
    return x >> (np.minimum(y, 63) if exact else y)


def _divide(op: ast.operator, x, y):
    """``x // y`` or ``x % y`` floored as in Python; where y is 0, -1 and x."""
    zero = np.asarray(y == 0)
    if not zero.any():
        return x // y if isinstance(op, ast.FloorDiv) else x % y
    safe = np.where(zero, 1, y)
    if isinstance(op, ast.FloorDiv):
        return np.where(zero, -1, x // safe)
    return np.where(zero, x, x % safe)


def _divide_bounds(floor: bool, x: tuple[int, int], y: tuple[int, int]) -> tuple[int, int]:
    """Bounds of ``x // y`` (``floor``) or ``x % y`` over the intervals ``x`` and ``y``, as
    :func:`_divide` computes them (x // 0 is -1, x % 0 is x): the union over y's negative
    part, its positive part and 0. On a part of one sign x / y is monotone in x and in y, so
    the quotient's extremes are at the corners."""
    (a, b), (c, d) = x, y
    parts: list[tuple[int, int]] = []
    if c <= 0 <= d:
        parts.append((-1, -1) if floor else (a, b))
    for p, q in ((c, min(d, -1)), (max(c, 1), d)):
        if p > q:
            continue
        if floor:
            corners = (a // p, a // q, b // p, b // q)
            parts.append((min(corners), max(corners)))
        elif p > 0:  # 0 <= x % y < y, and x % y <= x when x >= 0
            parts.append((0, q - 1 if a < 0 else min(q - 1, b)))
        else:  # y < x % y <= 0, and x % y >= x when x <= 0
            parts.append((p + 1 if b > 0 else max(p + 1, a), 0))
    return min(lo for lo, _ in parts), max(hi for _, hi in parts)


def _function(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return f"np.{func.attr}"  # type: ignore[attr-defined]  # checked by _check_node


def _lifted(args: list, exact: bool) -> list:
    """Arguments for a numpy function: on Python integers, each as an object array (numpy
    would convert a Python integer beyond int64 to C long and fail)."""
    if exact:
        return args
    return [a if isinstance(a, np.ndarray) else np.array(a, dtype=object) for a in args]


_BIT_COUNT = np.frompyfunc(int.bit_count, 1, 1)


def _call(name: str, args: list, exact: bool):
    args = _lifted(args, exact)
    if name in ("abs", "np.abs"):
        return np.abs(args[0])
    if name == "np.where":
        cond, x, y = args
        return np.where(np.asarray(cond) != 0, x, y)
    if name == "np.bitwise_count":
        if exact:
            return np.bitwise_count(np.asarray(args[0], dtype=np.int64)).astype(np.int64)
        return _BIT_COUNT(args[0])
    fn = np.minimum if name == "np.minimum" else np.maximum
    return fn(*args)


def _call_bounds(name: str, args: list[tuple[int, int]]) -> tuple[int, int]:
    if name in ("abs", "np.abs"):
        lo, hi = args[0]
        low = 0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
        return low, max(abs(lo), abs(hi))
    if name == "np.where":
        (_, _), (a, b), (c, d) = args
        return min(a, c), max(b, d)
    if name == "np.bitwise_count":
        lo, hi = args[0]
        return 0, max(abs(lo).bit_length(), abs(hi).bit_length())
    (a, b), (c, d) = args
    if name == "np.minimum":
        return min(a, c), min(b, d)
    return max(a, c), max(b, d)


def compile_check(text: str, inputs: Iterable[str], params: Iterable[str], where: str) -> Check:
    """Parse check expression ``text`` over operand names ``inputs`` and param names
    ``params``; CheckError (naming ``where``, e.g. ``--check`` or ``add.pim:7: check``) for
    anything but the whitelisted arithmetic of the module docstring."""
    if not text.strip():
        raise CheckError(where, "an empty expression")
    if len(text) > MAX_TEXT:
        raise CheckError(where, f"longer than {MAX_TEXT:,} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        column = f" at column {error.offset}" if error.offset else ""
        raise CheckError(where, f"not an expression{column}: {cut(text)!r}") from None
    except (ValueError, RecursionError, MemoryError):
        raise CheckError(where, f"cannot be parsed: {cut(text)!r}") from None
    known = set(inputs) | set(params)
    names: set[str] = set()
    try:
        _check_tree(tree, known, names, where)
    except RecursionError:
        raise CheckError(where, f"nested more than {MAX_DEPTH} deep") from None
    return Check(text.strip(), where, tree, frozenset(names))


def _check_tree(
    node: ast.AST, known: set[str], names: set[str], where: str, depth: int = 0
) -> None:
    """CheckError unless every node of ``node`` is allowed and nested at most MAX_DEPTH
    deep; collects the names read."""
    if depth > MAX_DEPTH:
        raise RecursionError
    depth += 1
    for kind, why in _REFUSED.items():
        if isinstance(node, kind) or isinstance(getattr(node, "op", None), kind):
            raise CheckError(where, why)
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, int):
            raise CheckError(where, f"{node.value!r} is not an integer")
        return
    if isinstance(node, ast.Name):
        if node.id not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise CheckError(where, f"unknown name {cut(node.id)!r} (inputs and params: {shown})")
        names.add(node.id)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check_tree(node.operand, known, names, where, depth)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check_tree(node.left, known, names, where, depth)
        _check_tree(node.right, known, names, where, depth)
        return
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        for child in (node.left, *node.comparators):
            _check_tree(child, known, names, where, depth)
        return
    if isinstance(node, ast.Call):
        name = _call_name(node, where)
        if len(node.args) != _FUNCTIONS[name] or node.keywords:
            raise CheckError(where, f"{name} takes {_FUNCTIONS[name]} argument(s), by position")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise CheckError(where, f"{name}: '*' arguments are not supported")
            _check_tree(arg, known, names, where, depth)
        return
    raise CheckError(where, f"{_shown(node)} is not allowed in a check expression")


def _call_name(node: ast.Call, where: str) -> str:
    func = node.func
    if isinstance(func, ast.Name) and func.id in _FUNCTIONS:
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "np"
        and f"np.{func.attr}" in _FUNCTIONS
    ):
        return f"np.{func.attr}"
    allowed = ", ".join(_FUNCTIONS)
    raise CheckError(where, f"{_shown(func)} is not a function a check may call ({allowed})")


def _shown(node: ast.AST) -> str:
    """How an error quotes a node: its source text, cut."""
    try:
        return repr(cut(ast.unparse(node)))
    except Exception:  # noqa: BLE001  (unparse of a strange node: name its kind instead)
        return type(node).__name__
