"""Make a µprogram from Python: the same :class:`~pimsim.programs.parse.Program` a ``.pim``
file gives, checked and run the same way.

::

    b = Builder("add2")
    a, x = b.input("a", 2), b.input("b", 2)
    s = b.output("s", 2)
    ...
    b.aap(a[0], "T0")           # AAP a[0] -> T0
    b.ap("T0,T1,T2")            # AP B12
    b.call(builtin("xor"), a[1], x[1], s[1])   # another program inline
    program = b.build()

A row is a string: an operand's row as :meth:`input`/:meth:`output`/:meth:`scratch` return
it (``"a[0]"``), ``C0``/``C1``, a decoder address or compute rows (``T0``, ``~DCC0``,
``T0,T1,T2``). The steps' line numbers count the commands (1, 2, ...).
"""

from __future__ import annotations

from pimsim.programs.errors import ProgramError
from pimsim.programs.expand import Operand, Step
from pimsim.programs.parse import Program
from pimsim.programs.source import ROLES
from pimsim.programs.syntax import NAME


class Builder:
    """Collects operands and commands; :meth:`build` returns the Program."""

    def __init__(self, name: str):
        if not NAME.fullmatch(name):
            raise ProgramError(f"<builder {name!r}>", 0, "op", "not an identifier of at most 40")
        self.name = name
        self.source = f"<builder {name}>"
        self.operands: list[Operand] = []
        self.steps: list[Step] = []
        self.checks: dict[str, str] = {}

    def _declare(self, role: str, name: str, width: int | None, signed: bool) -> tuple[str, ...]:
        if not NAME.fullmatch(name) or any(op.name == name for op in self.operands):
            raise ProgramError(self.source, 0, role, f"{name!r}: not a new identifier")
        if width is not None and not 1 <= width <= 4096:
            raise ProgramError(self.source, 0, role, f"{name}: width {width} outside 1..4096")
        rows = (name,) if width is None else tuple(f"{name}[{i}]" for i in range(width))
        self.operands.append(Operand(name, role, len(rows), rows, signed))
        return rows

    def input(self, name: str, width: int | None = None, signed: bool = False):
        """Declare an input; its rows (a tuple), or its one row's name without a width."""
        rows = self._declare("in", name, width, signed)
        return rows if width is not None else rows[0]

    def output(self, name: str, width: int | None = None, signed: bool = False):
        rows = self._declare("out", name, width, signed)
        return rows if width is not None else rows[0]

    def scratch(self, name: str, width: int | None = None):
        rows = self._declare("scratch", name, width, False)
        return rows if width is not None else rows[0]

    def aap(self, src: str, dst: str) -> None:
        """``AAP src -> dst``."""
        self.steps.append(Step("AAP", src, dst, len(self.steps) + 1))

    def ap(self, address: str) -> None:
        """``AP address``."""
        self.steps.append(Step("AP", address, None, len(self.steps) + 1))

    def check(self, output: str, expression: str) -> None:
        """The numpy twin of ``output`` (a check expression, docs/pim-language.md)."""
        self.checks[output] = expression

    def call(self, program: Program, *rows: str) -> None:
        """Run ``program`` inline: its input rows and then its output rows bound to ``rows``
        (flat, in order); its scratch rows become this program's, named ``NAME.row``."""
        bound = program.inputs + program.outputs
        if len(rows) != len(bound):
            raise ProgramError(
                self.source, len(self.steps) + 1, "call",
                f"{program.name} takes {len(bound)} rows, got {len(rows)}",
            )  # fmt: skip
        names = dict(zip(bound, rows, strict=True))
        for op in program.wide:
            if op.role == "scratch" and not any(
                o.name == f"{program.name}.{op.name}" for o in self.operands
            ):
                scratch = tuple(f"{program.name}.{row}" for row in op.rows)
                self.operands.append(
                    Operand(f"{program.name}.{op.name}", "scratch", op.width, scratch)
                )
        for row in program.scratch:
            names[row] = f"{program.name}.{row}"
        for step in program.steps:
            src = names.get(step.src, step.src)
            dst = names.get(step.dst, step.dst) if step.dst else None
            self.steps.append(Step(step.kind, src, dst, len(self.steps) + 1))

    def build(self) -> Program:
        """The Program (ProgramError if it has no command or no output)."""
        if not self.steps:
            raise ProgramError(self.source, 0, "program", "no AAP or AP command")
        rows = {
            role: [r for op in self.operands if op.role == role for r in op.rows] for role in ROLES
        }
        if not rows["out"]:
            raise ProgramError(self.source, 0, "out", "the program declares no output row")
        return Program(
            self.name,
            tuple(rows["in"]),
            tuple(rows["out"]),
            tuple(rows["scratch"]),
            tuple(self.steps),
            self.source,
            {},
            tuple(self.operands),
            dict(self.checks),
            {},
        )
