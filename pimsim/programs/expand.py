"""Expansion: a :class:`~pimsim.programs.source.Unit` with its params bound becomes the flat
list of AAP/AP steps every later layer runs (check, lowering, data, timing).

Operand ``a`` of width w becomes the rows ``a[0]`` .. ``a[w-1]`` (bit 0 the least
significant; an operand declared without a width keeps its plain name), loops and ifs are
unrolled, calls are inlined with the callee's operands bound to the caller's rows and its
scratch operands kept as rows ``callee.name[i]`` of the caller. Every step keeps the line it
came from and the loop variables of that moment, for error messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pimsim.programs.errors import echo
from pimsim.programs.source import Call, Cmd, For, If, Unit
from pimsim.programs.syntax import COMPARISONS, RowItem, RowRef, Where

#: Most AAP/AP commands one program may expand to.
MAX_STEPS = 1_000_000
#: Deepest chain of calls (a program calling one that calls another ...).
MAX_CALL_DEPTH = 16
#: Widest operand (rows).
MAX_WIDTH = 4096


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a µprogram: ``AAP src -> dst`` or ``AP src`` (dst is None), from
    ``line`` of the file (``context``: the loop variables and calls that made it)."""

    kind: str  # "AAP" or "AP"
    src: str
    dst: str | None
    line: int
    context: str = ""


@dataclass(frozen=True)
class Operand:
    """A declared operand after expansion: its rows, least significant bit first."""

    name: str
    role: str  # "in", "out" or "scratch"
    width: int
    rows: tuple[str, ...]
    signed: bool = False


@dataclass(frozen=True)
class Expanded:
    """What expansion gives: the operands (the file's, then its callees' scratch), the
    steps, the bound params and the checks of the outputs."""

    operands: tuple[Operand, ...]
    steps: tuple[Step, ...]
    params: dict[str, int]
    checks: dict[str, str]
    declared: dict[str, int]  # row -> line of its declaration


@dataclass
class _Frame:
    """One unit being expanded: its env (params, loop variables), its operands' rows, and
    how its lines and context show in errors."""

    unit: Unit
    env: dict[str, int]
    rows: dict[str, tuple[str, ...]]
    line_of: Callable[[int], int]  # a line of the unit -> the line errors give
    context: str  # e.g. "fa called at line 9"
    defs: dict[str, Unit]  # the defs of the unit's file
    loops: frozenset[str] = frozenset()  # the loop variables in env


def expand(unit: Unit, params: dict[str, int], library: Callable[[str, Where], Unit]) -> Expanded:
    """Expand ``unit`` with ``params`` (each a declared param); ``library(name, where)`` gives
    the Unit of a library program a call names (ProgramError at ``where`` if there is none)."""
    where = Where(unit.source, 0)
    declared = {p.name for p in unit.params}
    for name in params:
        if name not in declared:
            raise where.error("param", f"{unit.name or 'the program'} takes no param {name}")
    env = _bind(unit, dict(params), Where(unit.source, 0), "")
    state = _State(unit.source, library)
    operands, rows = [], {}
    for decl in unit.decls:
        width = _width(decl, env, Where(unit.source, decl.line))
        names = _row_names(decl.name, width, decl.width is None)
        rows[decl.name] = names
        operands.append(Operand(decl.name, decl.role, width, names, decl.name in unit.signed))
        for row in names:
            state.declared[row] = decl.line
    for name, line in unit.signed.items():
        if _role(unit, name) not in ("in", "out"):
            raise Where(unit.source, line).error("signed", f"{name} is not an input or output")
    checks = {}
    for out, (text, line) in unit.checks.items():
        if _role(unit, out) != "out":
            raise Where(unit.source, line).error("check", f"{out} is not an output")
        checks[out] = text
    frame = _Frame(unit, env, rows, lambda line: line, "", unit.defs)
    state.run(frame, unit.body, depth=0)
    for name, names in state.scratch.items():
        operands.append(Operand(name, "scratch", len(names), tuple(names)))
    return Expanded(tuple(operands), tuple(state.steps), env, checks, state.declared)


def _role(unit: Unit, name: str) -> str | None:
    return next((d.role for d in unit.decls if d.name == name), None)


def _row_names(name: str, width: int, plain: bool) -> tuple[str, ...]:
    return (name,) if plain else tuple(f"{name}[{i}]" for i in range(width))


def _width(decl, env: dict[str, int], where: Where) -> int:
    if decl.width is None:
        return 1
    width = decl.width.value(env, where, decl.role)
    if not 1 <= width <= MAX_WIDTH:
        raise where.error(decl.role, f"{decl.name}: width {width} outside 1..{MAX_WIDTH}")
    return width


def _bind(unit: Unit, given: dict[str, int], call_site: Where, who: str) -> dict[str, int]:
    """The params of ``unit``: given values, else defaults; each within its range."""
    env: dict[str, int] = {}
    for p in unit.params:
        where = Where(unit.source, p.line)
        if p.name in given:
            env[p.name] = given[p.name]
        elif p.default is not None:
            env[p.name] = p.default.value(env, where, "param")
        else:
            hint = " (pimsim exec --width N binds n)" if p.name == "n" and not who else ""
            raise call_site.error("param", f"{who}param {p.name} has no value{hint}")
        if p.low is not None:
            low = p.low.value(env, where, "param")
            high = p.high.value(env, where, "param")
            if not low <= env[p.name] <= high:
                raise call_site.error(
                    "param", f"{who}{p.name} = {env[p.name]} is outside {low}..{high}"
                )
    return env


class _State:
    """The steps expanded so far, and the scratch rows callees add."""

    def __init__(self, source: str, library: Callable[[str, Where], Unit]):
        self.source, self.library = source, library
        self.steps: list[Step] = []
        self.scratch: dict[str, list[str]] = {}
        self.declared: dict[str, int] = {}
        self.calls: list[str] = []

    def run(self, frame: _Frame, body: list, depth: int) -> None:
        for stmt in body:
            if isinstance(stmt, Cmd):
                self._command(frame, stmt)
            elif isinstance(stmt, For):
                self._loop(frame, stmt, depth)
            elif isinstance(stmt, If):
                where = self._where(frame, stmt.line)
                left = stmt.left.value(frame.env, where, "if")
                right = stmt.right.value(frame.env, where, "if")
                taken = COMPARISONS[stmt.cmp](left, right)
                self.run(frame, stmt.then if taken else stmt.other, depth)
            else:
                self._call(frame, stmt, depth)

    def _where(self, frame: _Frame, line: int) -> Where:
        return Where(self.source, frame.line_of(line))

    def _context(self, frame: _Frame) -> str:
        loops = ", ".join(f"{k}={v}" for k, v in frame.env.items() if k in frame.loops)
        return "; ".join(x for x in (loops, frame.context) if x)

    def _command(self, frame: _Frame, cmd: Cmd) -> None:
        where = self._where(frame, cmd.line)
        src = self._row(frame, cmd.src, where, "source" if cmd.dst else "address")
        dst = self._row(frame, cmd.dst, where, "destination") if cmd.dst else None
        if len(self.steps) >= MAX_STEPS:
            raise where.error(cmd.kind, f"more than {MAX_STEPS:,} commands after expansion")
        self.steps.append(Step(cmd.kind, src, dst, where.line, self._context(frame)))

    def _loop(self, frame: _Frame, loop: For, depth: int) -> None:
        where = self._where(frame, loop.line)
        if loop.var in frame.env or loop.var in frame.rows:
            raise where.error("for", f"{loop.var} is already a name here")
        low = loop.low.value(frame.env, where, "for")
        high = loop.high.value(frame.env, where, "for")
        step = 1 if loop.step is None else loop.step.value(frame.env, where, "for")
        if step == 0:
            raise where.error("for", "the step ('by') is 0")
        values = range(low, high + (1 if step > 0 else -1), step)
        if len(values) > MAX_STEPS:
            raise where.error("for", f"{len(values):,} iterations (at most {MAX_STEPS:,})")
        frame.loops = frame.loops | {loop.var}
        for value in values:
            frame.env[loop.var] = value
            self.run(frame, loop.body, depth)
        frame.env.pop(loop.var, None)
        frame.loops = frame.loops - {loop.var}

    def _row(self, frame: _Frame, ref: RowRef, where: Where, field: str) -> str:
        """The flat name of a row reference: an operand's row, or the reserved names as
        written (C0, C1, B12, T0, ~DCC0, T0,T1,T2), resolved against the decoder by the
        checker."""
        parts = []
        for item in ref.items:
            rows = self._rows(frame, item, where, field)
            if len(rows) != 1:
                raise where.error(
                    field, f"{item.name} has {len(rows)} rows: name one, {item.name}[i]"
                )
            parts.append(rows[0])
        if len(parts) > 1 and any(
            p in frame.rows.get(i.name, ()) for p, i in zip(parts, ref.items, strict=True)
        ):
            raise where.error(field, f"{ref.text}: a set of rows names compute rows only")
        return ",".join(parts)

    def _rows(self, frame: _Frame, item: RowItem, where: Where, field: str) -> tuple[str, ...]:
        """The rows one item names: an operand's row, slice or all rows; a reserved name."""
        if item.name in frame.env:
            raise where.error(field, f"{item.name} is a number here, not a row")
        rows = frame.rows.get(item.name)
        if rows is None:
            if item.index is not None:
                raise where.error(field, f"{item.name} is not an operand: it takes no index")
            return (("~" if item.negated else "") + item.name,)
        if item.negated:
            raise where.error(field, f"~{item.name}: only a dual-contact row has an n-wordline")
        if item.index is None:
            return rows
        first = self._index(frame, item, item.index, rows, where, field)
        if item.last is None:
            return (rows[first],)
        last = self._index(frame, item, item.last, rows, where, field)
        if last < first:
            raise where.error(field, f"{item.name}[{first}..{last}]: an empty slice")
        return rows[first : last + 1]

    def _index(self, frame, item: RowItem, expr, rows, where: Where, field: str) -> int:
        k = expr.value(frame.env, where, field)
        if not 0 <= k < len(rows):
            raise where.error(
                field,
                f"{item.name}[{expr.text}] is row {k}, outside {item.name}'s {len(rows)} "
                f"row{'s' if len(rows) > 1 else ''} (0..{len(rows) - 1})",
            )
        return k

    def _call(self, frame: _Frame, call: Call, depth: int) -> None:
        where = self._where(frame, call.line)
        callee, defs = frame.defs.get(call.name), frame.defs
        if callee is None:
            callee = self.library(call.name, where)
            defs = callee.defs
        if call.name in self.calls or depth >= MAX_CALL_DEPTH:
            chain = " -> ".join([*self.calls, call.name])
            raise where.error("call", f"calls nest too deep or in a circle: {chain}")
        who = f"{call.name}: "
        given = {k: e.value(frame.env, where, "call") for k, e in call.params}
        for key in given:
            if key not in {p.name for p in callee.params}:
                raise where.error("call", f"{call.name} takes no param {key}")
        env = _bind(callee, given, where, who)
        bound = [d for d in callee.decls if d.role != "scratch"]
        if len(call.args) != len(bound):
            names = " ".join(d.name for d in bound)
            raise where.error(
                "call",
                f"{call.name} takes {len(bound)} rows or operands ({names}), got {len(call.args)}",
            )
        rows: dict[str, tuple[str, ...]] = {}
        for decl, arg in zip(bound, call.args, strict=True):
            width = _width(decl, env, where)
            got = self._argument(frame, arg, where)
            if len(got) != width:
                raise where.error(
                    "call",
                    f"{call.name}'s {decl.name} is {width} row{'s' if width > 1 else ''} wide; "
                    f"{echo(arg.text)} gives {len(got)}",
                )
            rows[decl.name] = got
        for decl in callee.decls:
            if decl.role == "scratch":
                width = _width(decl, env, where)
                names = _row_names(f"{call.name}.{decl.name}", width, decl.width is None)
                kept = self.scratch.setdefault(f"{call.name}.{decl.name}", [])
                kept.extend(n for n in names[len(kept) :])
                for row in names:
                    self.declared.setdefault(row, call.line)
                rows[decl.name] = names
        same_file = callee.source == self.source
        line_of = (lambda line: line) if same_file else (lambda _line, at=where.line: at)
        context = "; ".join(
            x for x in (f"{call.name} called at line {where.line}", self._context(frame)) if x
        )
        inner = _Frame(callee, env, rows, line_of, context, defs)
        self.calls.append(call.name)
        self.run(inner, callee.body, depth + 1)
        self.calls.pop()

    def _argument(self, frame: _Frame, arg: RowRef, where: Where) -> tuple[str, ...]:
        if len(arg.items) > 1:
            return (self._row(frame, arg, where, "call"),)
        return self._rows(frame, arg.items[0], where, "call")
