"""From a source (expression or netlist) to a verified ``.pim`` program: read, map to a MIG,
schedule, emit, verify. :func:`compile_network` is the API; the CLI is pimsim.cli.compile."""

from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass

from pimsim.ambit.layout import SubarrayLayout
from pimsim.compile.emit import drop_dead_copies, pim_text
from pimsim.compile.machine import Machine
from pimsim.compile.mig import to_mig
from pimsim.compile.network import MAX_GATES, Network
from pimsim.compile.schedule import Scheduler
from pimsim.compile.verify import EXHAUSTIVE, equivalent, run_program
from pimsim.errors import PimsimError
from pimsim.programs.parse import Program, ProgramError, parse
from pimsim.programs.syntax import NAME

#: Longest check expression written into a program (characters; what `pimsim exec` reads); a
#: longer one is left out.
CHECK_LIMIT = 1_000


#: Deepest nesting of a check expression (syntax-tree levels; `pimsim exec` reads 100).
CHECK_DEPTH = 90


def _depth(node: ast.AST) -> int:
    """Levels of the expression tree under ``node`` (operators and names)."""
    children = list(ast.iter_child_nodes(node))
    kids = [c for c in children if isinstance(c, ast.expr)]
    return 1 + max((_depth(c) for c in kids), default=0)


class VerificationError(PimsimError):
    """A compiled program that does not compute its source (a compiler bug; exit 1)."""


@dataclass
class Compiled:
    text: str  # the .pim program
    program: Program
    report: dict  # what --json writes


def operand_names(net: Network, layout: SubarrayLayout) -> dict[str, str]:
    """Each input and output name of ``net`` as a distinct operand name the language takes
    (an identifier of at most 40 characters, no reserved row name such as T0 or B3 and no
    Python keyword such as ``in``, which a check expression could not name)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for name in [*net.inputs, *(out for out, _ in net.outputs)]:
        if name in names:
            continue
        base = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in name)
        base = base[:36] or "x"
        if base[0].isdigit():
            base = "n" + base[:35]
        candidate, k = base, 1
        while (
            candidate in taken
            or layout.is_reserved(candidate)
            or candidate == "maj"
            or keyword.iskeyword(candidate)
        ):
            candidate, k = f"{base}_{k}", k + 1
        assert NAME.fullmatch(candidate)
        names[name] = candidate
        taken.add(candidate)
    return names


def _check_size(net: Network, layout: SubarrayLayout) -> None:
    """ProgramError (bad input) for a source too big to compile or to fit in a subarray."""
    room = layout.data_rows - 1  # one row is RowClone's (pimsim.programs.check)
    if net.gates > MAX_GATES:
        raise ProgramError(net.source, 0, "gates", f"{net.gates:,} gates; at most {MAX_GATES:,}")
    if len(net.inputs) + len(net.outputs) > room:
        raise ProgramError(
            net.source, 0, "operands",
            f"{len(net.inputs)} inputs and {len(net.outputs)} outputs; a subarray has {room} "
            "data rows for them",
        )  # fmt: skip


def _distinct_outputs(net: Network) -> Network:
    """``net`` with each output named apart from the inputs and the other outputs (an
    output that passes an input through, or one listed twice, gets a suffix)."""
    taken, outputs = set(net.inputs), []
    for name, literal in net.outputs:
        new, k = name, 1
        while new in taken:
            new, k = f"{name}_out{k}", k + 1
        taken.add(new)
        outputs.append((new, literal))
    if outputs == net.outputs:
        return net
    return Network(net.source, net.inputs, net.nodes, outputs)


def _scratch_name(taken) -> str:
    name = "tmp"
    while any(t == name for t in taken):
        name = "_" + name
    return name


#: Gates up to which every variant (XOR form x gate order) is tried, the cheapest kept.
VARIANTS_UP_TO = 200
#: States kept per gate when variants are compared; the best two then get the full beam.
QUICK_WIDTH = 4


def schedule(net: Network, layout: SubarrayLayout, names, naive: bool = False):
    """(MIG, roots, final scheduler state, scratch name) for ``net``: the cheapest of the
    variants tried (each 3-input XOR complementing each of its fanins, gates in either
    depth-first order), or with ``naive`` the gate-by-gate baseline."""
    scratch = _scratch_name(names.values())
    inputs = [names[n] for n in net.inputs]
    outputs = [names[n] for n, _ in net.outputs]
    machine = Machine.from_layout(layout)
    if naive:
        mig, roots = to_mig(net, naive=True)
        scheduler = Scheduler(machine, mig, inputs, roots, outputs, scratch, naive=True)
        return mig, roots, scheduler.run(1), scratch
    variants, seen = [], []
    for rotate in (0, 1, 2):
        mig, roots = to_mig(net, rotate=rotate)
        if (mig.fanins, roots) in seen:
            continue  # no 3-input XOR to rotate
        seen.append((mig.fanins, roots))
        for flip in (False, True):
            variants.append(Scheduler(machine, mig, inputs, roots, outputs, scratch, flip=flip))
    if len(variants[0].order) > VARIANTS_UP_TO:
        variants = variants[:1]
    elif len(variants) > 2:
        variants = sorted(variants, key=lambda v: v.run(QUICK_WIDTH).cost)[:2]
    runs = [(v.run(), v) for v in variants]
    state, best = min(runs, key=lambda run: run[0].cost)
    return best.mig, best.roots, state, scratch


def compile_network(
    net: Network, layout: SubarrayLayout, name: str, naive_counts: bool = True
) -> Compiled:
    """The verified program computing ``net`` (VerificationError if it does not)."""
    _check_size(net, layout)
    given = [name for name, _ in net.outputs]
    net = _distinct_outputs(net)
    names = operand_names(net, layout)
    mig, roots, state, scratch = schedule(net, layout, names)
    commands = drop_dead_copies(state.commands(), layout)
    checks = {}
    for out, literal in net.outputs:
        text = net.expression(literal, names, CHECK_LIMIT)
        if text is not None and _depth(ast.parse(text, mode="eval").body) <= CHECK_DEPTH:
            checks[names[out]] = text
    text = pim_text(
        name,
        [names[n] for n in net.inputs],
        list(dict.fromkeys(names[n] for n, _ in net.outputs)),
        (scratch, state.scratch),
        checks,
        commands,
        [f"compiled by pimsim compile from {net.source}"],
    )
    try:
        program = parse(text, source=f"{name}.pim")
        result = run_program(program, layout, net, names)
    except ProgramError as error:  # the checker refused what the compiler emitted
        raise VerificationError(f"{net.source}: the compiled program fails: {error}") from None
    proof = None  # exhaustive runs need no proof
    if len(net.inputs) > EXHAUSTIVE:
        proof = {True: "proven", False: "failed", None: "undecided"}[equivalent(net, mig, roots)]
    counts = program.counts()
    report = {
        "name": name,
        "source": net.source,
        "inputs": len(net.inputs),
        "outputs": len(net.outputs),
        "source_gates": net.gates,
        "mig_gates": mig.cone(roots),
        "depth": mig.depth(roots),
        "AAP": counts["AAP"],
        "AP": counts["AP"],
        "commands": counts["AAP"] + counts["AP"],
        "compute_rows": sorted(_compute_rows(commands, layout)),
        "scratch_rows": state.scratch,
        "renamed": {k: names[k] for k in net.inputs if k != names[k]},
        "renamed_outputs": [
            [old, names[new]]
            for old, (new, _) in zip(given, net.outputs, strict=True)
            if old != names[new]
        ],
        "checks_omitted": sorted(set(names[n] for n, _ in net.outputs) - set(checks)),
        "verification": {
            **result,
            "equivalence": proof,
            "passed": not result["mismatches"] and proof != "failed",
        },
    }
    if naive_counts:
        _, _, naive, _ = schedule(net, layout, names, naive=True)
        report["naive_commands"] = naive.cost
    if not report["verification"]["passed"]:
        what = ", ".join(result["mismatches"]) or "the mapped graph"
        raise VerificationError(
            f"{net.source}: the compiled program does not compute {what} "
            f"({result['vectors']} vectors): not written"
        )
    return Compiled(text, program, report)


def _compute_rows(commands, layout: SubarrayLayout) -> set[str]:
    rows = set()
    for src, dst in commands:
        for name in (src, dst):
            if name and layout.is_reserved(name) and name not in ("C0", "C1"):
                rows.update(w.lstrip("~") for w in name.split(","))
    return rows
