"""A ``.pim`` file read into a :class:`Unit`: declarations and a tree of statements.

One line is one declaration (``op``, ``param``, ``in``, ``out``, ``scratch``, ``signed``,
``check``), one command (``AAP``, ``AP``, ``call``) or one block line (``for``, ``if``,
``else``, ``def``, ``end``). Nothing is evaluated here: widths, indices and bounds stay
expressions until pimsim.programs.expand binds the params (docs/pim-language.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pimsim.programs.errors import ProgramError, echo
from pimsim.programs.syntax import COMPARISONS, Expr, RowRef, Tokens, Where

#: Roles of operand declarations, in the order a call binds them (scratch is never bound).
ROLES = ("in", "out", "scratch")
#: Words that start a line.
HEADS = ("op", "param", "in", "out", "scratch", "signed", "check", "AAP", "AP", "for", "if",
         "else", "end", "call", "def")  # fmt: skip


@dataclass(frozen=True)
class Param:
    name: str
    default: Expr | None
    low: Expr | None
    high: Expr | None
    line: int


@dataclass(frozen=True)
class Decl:
    """An operand declaration: ``role name[:width]``."""

    role: str
    name: str
    width: Expr | None
    line: int


@dataclass(frozen=True)
class Cmd:
    kind: str  # "AAP" or "AP"
    src: RowRef
    dst: RowRef | None
    line: int


@dataclass
class For:
    var: str
    low: Expr
    high: Expr
    step: Expr | None
    line: int
    body: list = field(default_factory=list)


@dataclass
class If:
    left: Expr
    cmp: str
    right: Expr
    line: int
    then: list = field(default_factory=list)
    other: list = field(default_factory=list)
    in_else: bool = False


@dataclass(frozen=True)
class Call:
    name: str
    params: tuple[tuple[str, Expr], ...]
    args: tuple[RowRef, ...]
    line: int


@dataclass
class Unit:
    """One program of a file: the file itself, or a ``def`` inside it."""

    name: str | None
    source: str
    line: int = 0  # line of the def (0 for the file)
    name_line: int = 0  # line of ``op NAME``
    params: list[Param] = field(default_factory=list)
    decls: list[Decl] = field(default_factory=list)
    signed: dict[str, int] = field(default_factory=dict)  # operand -> line
    checks: dict[str, tuple[str, int]] = field(default_factory=dict)  # output -> (expr, line)
    body: list = field(default_factory=list)
    defs: dict[str, Unit] = field(default_factory=dict)

    def declared(self) -> dict[str, int]:
        """Every name the unit declares (operands and params) with its line."""
        names = {p.name: p.line for p in self.params}
        names.update({d.name: d.line for d in self.decls})
        return names


def read(text: str, source: str, name: str | None) -> Unit:
    """Read the lines of ``text`` into a Unit (ProgramError at the first bad line)."""
    top = Unit(name, source)
    units = [top]  # the file, then the def being read
    blocks: list = []  # open for/if blocks of the current unit
    for lineno, raw in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        words = raw.split("#", 1)[0].split(None, 1)
        if not words:
            continue
        head = words[0]
        where = Where(source, lineno)
        unit = units[-1]
        if head not in HEADS:
            raise where.error(
                "command", f"{echo(head)} is not {', '.join(HEADS[:-1])} or {HEADS[-1]}"
            )
        tokens = Tokens(words[1] if len(words) > 1 else "", where, head)
        body = _body(unit, blocks)
        if head == "end":
            tokens.end()
            if blocks:
                blocks.pop()
            elif len(units) > 1:
                units.pop()
            else:
                raise where.error("end", "no for, if or def block is open")
        elif head == "else":
            tokens.end()
            if not blocks or not isinstance(blocks[-1], If) or blocks[-1].in_else:
                raise where.error("else", "no if block is open")
            blocks[-1].in_else = True
        elif head == "for":
            block = _for(tokens, lineno)
            body.append(block)
            blocks.append(block)
        elif head == "if":
            block = _if(tokens, lineno)
            body.append(block)
            blocks.append(block)
        elif head == "def":
            if blocks or len(units) > 1:
                raise where.error("def", "a def is written at the top level of the file")
            sub = Unit(tokens.name("the name of the def"), source, lineno)
            tokens.end()
            if sub.name in top.defs:
                raise where.error("def", f"{sub.name} defined on line {top.defs[sub.name].line}")
            top.defs[sub.name] = sub
            units.append(sub)
        elif head in ("AAP", "AP"):
            body.append(_command(head, tokens, lineno))
        elif head == "call":
            body.append(_call(tokens, lineno))
        else:
            if blocks:
                raise where.error(head, "a declaration is not allowed inside a for or if block")
            _declaration(unit, head, tokens, lineno)
    if blocks or len(units) > 1:
        open_line = blocks[-1].line if blocks else units[-1].line
        raise ProgramError(source, open_line, "end", "this block is never closed with 'end'")
    return top


def _body(unit: Unit, blocks: list) -> list:
    """Where the next statement goes: the innermost open block, else the unit's body."""
    if not blocks:
        return unit.body
    block = blocks[-1]
    if isinstance(block, If):
        return block.other if block.in_else else block.then
    return block.body


def _command(head: str, tokens: Tokens, lineno: int) -> Cmd:
    items = tokens.items
    if head == "AAP":
        if items.count("->") != 1 or items[0] == "->" or items[-1] == "->":
            raise tokens.error("expected 'AAP SRC -> DST'")
        tokens.field = "source"
        src = tokens.row()
        tokens.expect("->", "'->' (AAP SRC -> DST)")
        tokens.field = "destination"
        dst = tokens.row()
        tokens.end()
        return Cmd("AAP", src, dst, lineno)
    if not items:
        raise tokens.error("expected 'AP ADDR'")
    tokens.field = "address"
    src = tokens.row()
    tokens.end()
    return Cmd("AP", src, None, lineno)


def _for(tokens: Tokens, lineno: int) -> For:
    var = tokens.name("the loop variable")
    tokens.expect("in", "'in' (for VAR in LO..HI)")
    low = tokens.expr()
    tokens.expect("..", "'..' (for VAR in LO..HI)")
    high = tokens.expr()
    step = None
    if tokens.take("by"):
        step = tokens.expr()
    tokens.end()
    return For(var, low, high, step, lineno)


def _if(tokens: Tokens, lineno: int) -> If:
    left = tokens.expr()
    cmp = tokens.next("a comparison (== != < <= > >=)")
    if cmp not in COMPARISONS:
        raise tokens.error(f"expected a comparison (== != < <= > >=), found {echo(cmp)}")
    right = tokens.expr()
    tokens.end()
    return If(left, cmp, right, lineno)


def _call(tokens: Tokens, lineno: int) -> Call:
    name = tokens.name("the name of the program called")
    params: list[tuple[str, Expr]] = []
    while tokens.peek(1) == "=":
        key = tokens.name("a param name")
        tokens.expect("=")
        params.append((key, tokens.expr()))
    args = []
    while not tokens.done():
        args.append(tokens.row(slices=True))
    return Call(name, tuple(params), tuple(args), lineno)


def _declaration(unit: Unit, head: str, tokens: Tokens, lineno: int) -> None:
    where = tokens.where
    if head == "op":
        if unit.line:
            raise where.error("op", "a def is named on its def line")
        name = tokens.name("'op NAME'")
        tokens.end()
        if unit.name_line:
            raise where.error("op", f"the name was given on line {unit.name_line}")
        unit.name, unit.name_line = name, lineno
    elif head == "param":
        _param(unit, tokens, lineno)
    elif head in ROLES:
        while not tokens.done():
            name = tokens.name("a row name")
            width = tokens.expr() if tokens.take(":") else None
            _claim(unit, name, where, head)
            unit.decls.append(Decl(head, name, width, lineno))
    elif head == "signed":
        if tokens.done():
            raise where.error("signed", "expected 'signed NAME ...'")
        while not tokens.done():
            unit.signed[tokens.name("an operand name")] = lineno
    else:  # check OUT = EXPR
        out = tokens.name("'check OUT = EXPR'")
        tokens.expect("=", "'=' (check OUT = EXPR)")
        if tokens.done():
            raise where.error("check", "expected an expression after '='")
        if out in unit.checks:
            raise where.error("check", f"{out} has a check on line {unit.checks[out][1]}")
        unit.checks[out] = (tokens.rest(), lineno)


def _param(unit: Unit, tokens: Tokens, lineno: int) -> None:
    name = tokens.name("a param name")
    _claim(unit, name, tokens.where, "param")
    default = low = high = None
    if tokens.take("="):
        default = tokens.expr()
    if tokens.take("in"):
        low = tokens.expr()
        tokens.expect("..", "'..' (param NAME in LO..HI)")
        high = tokens.expr()
    tokens.end()
    unit.params.append(Param(name, default, low, high, lineno))


def _claim(unit: Unit, name: str, where: Where, field: str) -> None:
    declared = unit.declared()
    if name in declared:
        raise where.error(field, f"{name} already declared on line {declared[name]}")
