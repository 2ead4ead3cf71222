"""``pimsim exec``: run a program over multi-bit operands in DRAM and check its result."""

from __future__ import annotations

import logging
import os
import re
import sys

import click
import numpy as np

from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.operands import (
    OperandRows,
    WideOperand,
    bounds,
    input_values,
    operands_of,
    program_checks,
    verdict,
)
from pimsim.cli.options import (
    INTERRUPTED,
    IntRange,
    banks_option,
    config_options,
    distinct_files,
    energy_profile_option,
    json_option,
    load_config_or_fail,
    ranks_option,
    reported_errors,
    verbosity_options,
    write_outputs,
)
from pimsim.cli.program import MAX_SEED, _so_far
from pimsim.config import Config
from pimsim.device import Device
from pimsim.errors import cut
from pimsim.programs.parse import Program, ProgramError, builtin, builtin_names, echo, load
from pimsim.programs.twin import Check, CheckError, compile_check
from pimsim.results.energy import energy_of

logger = logging.getLogger("pimsim")

#: Most elements one run takes (host memory: 8 bytes per element per operand, the bit rows
#: and the check: about 1 GB and 20 s for a 64-bit add at the limit).
MAX_ELEMENTS = 1 << 23
#: Widest operand exec binds and checks (elements are 64-bit integers on the host).
MAX_WIDTH = 64

_INT = re.compile(r"[+-]?(0[xX][0-9a-fA-F]{1,17}|0[bB][01]{1,65}|[0-9]{1,21})", re.ASCII)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


@click.command("exec")
@click.argument("program", metavar="NAME|FILE.pim")
@click.option(
    "--width",
    type=IntRange(1, 4096),
    metavar="N",
    help="Bind the program's param n (its operands' width in bits).",
)
@click.option(
    "--bind",
    "binds",
    multiple=True,
    metavar="NAME=SPEC",
    help="An input's values: random (the default), zeros, ones (all bits set), an integer "
    "for every element (decimal, 0x.., 0b..), or PATH.npy (one integer per element). "
    "Repeatable.",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    metavar="EXPR|OUT=EXPR",
    help="Expected value of an output: a numpy expression over the inputs and params "
    "(+ - * // % ** & | ^ ~ << >>, comparisons, np.minimum/maximum/where, abs), taken "
    "modulo 2**width of the output. Repeatable (OUT=EXPR, one per output); replaces the "
    "program's own check lines.",
)
@click.option(
    "--elements",
    type=IntRange(1, MAX_ELEMENTS),
    metavar="N",
    help="Elements per operand (default: one row of elements per bank in use, or the "
    "length of the bound .npy arrays).",
)
@config_options
@banks_option("the row groups stripe over")
@ranks_option("")
@click.option(
    "--seed",
    type=IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help="Seed of the random inputs.",
)
@energy_profile_option
@click.option(
    "--no-data",
    is_flag=True,
    help="Timing only: the same commands, times and energy without row data (no check).",
)
@json_option
@verbosity_options
def exec_command(
    program: str,
    width: int | None,
    binds: tuple[str, ...],
    checks: tuple[str, ...],
    elements: int | None,
    config: str | None,
    params: tuple[str, ...],
    banks: int | None,
    ranks: int | None,
    seed: int,
    energy_profile: str,
    no_data: bool,
    json_path: str | None,
) -> None:
    """Run a program over multi-bit operands in DRAM, check it and report its cost.

    PROGRAM is a library operation by name or a .pim file. Each n-bit operand is n rows in
    vertical layout (bit i of every element in row i); the elements fill whole rows, one
    row group per bank at a time, and every bank runs the program on its groups in
    parallel. Inputs are random unless bound. Each output is checked against --check, else
    against the program's own check lines (a library operation checks itself); without
    either the result is reported unchecked. A mismatch exits 1 naming the first differing
    element. -p KEY=VALUE with a dotted key overrides the configuration
    (-p timing.nRCD=20); with a plain name it binds a program param (-p k=3). Ctrl-C
    stops the run and reports what was issued so far.

    \b
    Examples:
      pimsim exec xor --check 'Di ^ Dj' --config ddr3-1600 --banks 8
      pimsim exec add --width 16 --elements 65536 --json -
      pimsim exec examples/programs/adder.pim --width 8 --bind b=1 --check '(a + b) % 2**8'
    """
    distinct_files({"PROGRAM": _file_of(program), "--config": config}, {"--json": json_path})
    overrides, program_params = _split_params(params, width)
    if ranks:
        overrides = (*overrides, ("--ranks", f"organisation.ranks={ranks}"))
    cfg = load_config_or_fail(config, overrides)
    with reported_errors():
        prog = _program(program, program_params)
    inputs, outputs = operands_of(prog, "in"), operands_of(prog, "out")
    _check_widths(prog, (*inputs, *outputs))
    check_exprs, check_source = _checks(prog, checks, inputs, outputs)
    sources = _binds(binds, inputs)
    with reported_errors():
        engine = BulkEngine(Device(cfg), banks, with_data=not no_data)
        count = _elements(elements, sources, engine)
        rows = OperandRows(engine, prog, count)
        doc = _document(cfg, prog, rows, inputs, outputs, sources, check_exprs, check_source)
        try:
            logger.info("running %s on %d elements (%s)", prog.name, count, cfg.name)
            values = input_values(inputs, sources, count, seed) if engine.with_data else {}
            rows.write(values)
            report = rows.run()
            doc.update(_costs(engine, cfg, prog, report, count, energy_profile))
            if engine.with_data:
                got = rows.read(outputs)
                doc.update(verdict(prog, check_exprs, values, got, count))
        except KeyboardInterrupt:
            doc.update(_so_far(engine))
    write_outputs(doc, _summary(doc), json_path)
    if doc.get("interrupted"):
        sys.exit(INTERRUPTED)
    if doc.get("correct") is False:
        raise click.ClickException(_mismatch_text(doc["program"], doc["mismatch"]))


# -- the program and its params ----------------------------------------------------------------


def _file_of(name: str) -> str | None:
    return None if name in builtin_names() else name


def _split_params(
    params: tuple[str, ...], width: int | None
) -> tuple[tuple[str, ...], dict[str, int]]:
    """-p values with a dotted key (configuration overrides) apart from those with a plain
    name (program params, integers); --width is param n."""
    overrides: list[str] = []
    program_params: dict[str, int] = {} if width is None else {"n": width}
    for text in params:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or "." in key or not _IDENT.fullmatch(key):
            overrides.append(text)
            continue
        if not _INT.fullmatch(value.strip()):
            raise click.BadParameter(
                f"program param {key}: {echo(value)} is not an integer", param_hint="'-p'"
            )
        if key == "n" and width is not None:
            raise click.UsageError("-p n=... and --width both bind param n: give one")
        program_params[key] = int(value.strip(), 0)
    return tuple(overrides), program_params


def _program(name: str, params: dict[str, int]) -> Program:
    """A library operation by its exact name, else the ``.pim`` file at that path, with
    ``params`` bound (the parser refuses a param the program does not declare, or a value
    outside its range)."""
    if name in builtin_names():
        return builtin(name, params=params)
    if not os.path.exists(name) and not name.endswith(".pim") and "/" not in name:
        raise ProgramError(
            echo(name)[1:-1],
            0,
            "program",
            f"neither a library operation ({', '.join(builtin_names())}) nor a file",
        )
    return load(name, params=params)


def _check_widths(prog: Program, operands: tuple[WideOperand, ...]) -> None:
    for op in operands:
        if op.width > MAX_WIDTH:
            raise click.UsageError(
                f"{prog.name}: operand {op.name} is {op.width} bits wide; exec binds and "
                f"checks operands of at most {MAX_WIDTH} bits"
            )


# -- checks and bindings ------------------------------------------------------------------------


def _checks(
    prog: Program,
    given: tuple[str, ...],
    inputs: tuple[WideOperand, ...],
    outputs: tuple[WideOperand, ...],
) -> tuple[dict[str, Check], str | None]:
    """Output name -> compiled check: the --check options, else the program's own check
    lines; and where they came from ("--check", "program" or None)."""
    names = [op.name for op in inputs]
    params = list(prog.params)
    out_names = [op.name for op in outputs]
    found: dict[str, Check] = {}
    try:
        if given:
            for text in given:
                out, expr = _target(text, out_names)
                if out in found:
                    raise click.UsageError(f"--check: output {out} is checked twice")
                found[out] = compile_check(expr, names, params, f"--check {out}")
            return found, "--check"
        found = program_checks(prog)
    except CheckError as error:
        raise click.UsageError(str(error)) from None
    return found, ("program" if found else None)


def _target(text: str, outputs: list[str]) -> tuple[str, str]:
    """(output, expression) of a --check value: ``OUT=EXPR``, or EXPR for the only
    output."""
    head, sep, rest = text.partition("=")
    if sep and _IDENT.fullmatch(head.strip()) and not rest.startswith("="):
        if head.strip() not in outputs:
            raise click.UsageError(
                f"--check: {echo(head.strip())} is not an output (outputs: {', '.join(outputs)})"
            )
        return head.strip(), rest
    if len(outputs) != 1:
        raise click.UsageError(
            f"--check: the program has {len(outputs)} outputs ({', '.join(outputs)}): "
            "name one, as OUT=EXPR"
        )
    return outputs[0], text


def _binds(binds: tuple[str, ...], inputs: tuple[WideOperand, ...]) -> dict[str, object]:
    """Input name -> "random" | "zeros" | "ones" | an int | an int64/uint64 array, checked
    against the operand's width."""
    by_name = {op.name: op for op in inputs}
    found: dict[str, object] = {}
    for text in binds:
        name, sep, spec = (part.strip() for part in text.partition("="))
        if not sep or not name:
            _bad_bind(f"{echo(text)} is not NAME=SPEC")
        if name not in by_name:
            shown = ", ".join(by_name) or "none"
            _bad_bind(f"{echo(name)} is not an input (inputs: {shown})")
        if name in found:
            _bad_bind(f"{name} is bound twice")
        found[name] = _spec(by_name[name], spec)
    return found


def _bad_bind(message: str):
    raise click.BadParameter(message, param_hint="'--bind'")


def _spec(op: WideOperand, spec: str) -> object:
    if spec in ("random", "zeros", "ones"):
        return spec
    lo, hi = bounds(op)
    if _INT.fullmatch(spec):
        value = int(spec, 0)
        if not lo <= value <= hi:
            _bad_bind(f"{op.name}={spec}: outside the {_meaning(op)} range {lo}..{hi}")
        return value
    if not spec.endswith(".npy"):
        _bad_bind(f"{op.name}={echo(spec)}: not random, zeros, ones, an integer or a .npy file")
    try:
        array = np.load(spec, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        reason = getattr(error, "strerror", None) or cut(str(error).splitlines()[0] or "unreadable")
        _bad_bind(f"{op.name}={echo(spec)}: cannot read it as a .npy array ({reason})")
    if array.ndim != 1 or not len(array) or array.dtype.kind not in "iub":
        _bad_bind(
            f"{op.name}={echo(spec)}: a .npy of one integer per element is needed, not "
            f"{array.dtype} of shape {array.shape}"
        )
    low, high = int(array.min()), int(array.max())
    if low < lo or high > hi:
        bad = low if low < lo else high
        _bad_bind(
            f"{op.name}={echo(spec)}: value {bad} outside the {_meaning(op)} range {lo}..{hi}"
        )
    return array.astype(np.int64 if op.signed else np.uint64)


def _meaning(op: WideOperand) -> str:
    return f"{op.width}-bit {'signed' if op.signed else 'unsigned'}"


def _elements(elements: int | None, sources: dict[str, object], engine: BulkEngine) -> int:
    """The element count: --elements, else the bound arrays' length, else one row of
    elements per bank in use; bound arrays must all have it."""
    lengths = {name: len(v) for name, v in sources.items() if isinstance(v, np.ndarray)}
    count = elements or next(iter(lengths.values()), engine.row_bytes * 8 * len(engine.banks))
    for name, n in lengths.items():
        if n != count:
            why = "--elements" if elements else "the other bound arrays"
            _bad_bind(f"{name}: {n:,} values, but {why} give(s) {count:,} elements")
    return count


# -- running, checking, reporting ----------------------------------------------------------------


def _document(cfg: Config, prog, rows, inputs, outputs, sources, checks, source) -> dict:
    return {
        "config": cfg.name,
        "overrides": dict(cfg.overrides),
        "program": prog.name,
        "source": prog.source,
        "params": dict(prog.params),
        "elements": rows.elements,
        "row_groups": rows.groups,
        "banks": len(rows.engine.banks),
        "operands": {
            op.name: {
                "role": op.role,
                "width": op.width,
                "signed": op.signed,
                **({"bind": _bind_text(sources.get(op.name, "random"))} if op.role == "in" else {}),
            }
            for op in (*inputs, *outputs)
        },
        "checks": {out: check.text for out, check in checks.items()},
        "check_source": source,
        "data_simulated": rows.engine.with_data,
        "correct": None,
    }


def _bind_text(spec: object) -> str | int:
    return "array (.npy)" if isinstance(spec, np.ndarray) else spec  # type: ignore[return-value]


def _costs(engine: BulkEngine, cfg: Config, prog: Program, report, count: int, profile: str):
    """Time, commands and energy of the run (the energy from the device's counters, as
    pimsim compare computes it)."""
    counters = engine.device.snapshot(report.span.end_tick)
    energy = energy_of(counters, cfg, profile)
    per_op = prog.counts()
    seconds = report.time_ns * 1e-9
    return {
        "time_ns": round(report.time_ns, 3),
        "commands": {**report.commands, "AAP": report.aap, "AP": report.ap},
        "aap_per_op": per_op["AAP"],
        "ap_per_op": per_op["AP"],
        "rows_raised": report.rows_raised,
        "max_row_activations": report.max_row_activations,
        "elements_per_second": round(count / seconds, 1) if seconds else 0.0,
        "energy_profile": profile,
        "energy_nj": {k: round(v, 3) for k, v in energy.items()},
        "energy_nj_per_element": round(energy["above_idle"] / count, 6),
    }


def _mismatch_text(program: str, m: dict) -> str:
    inputs = ", ".join(f"{k}={v}" for k, v in m["inputs"].items())
    return (
        f"{program}: output {m['output']} differs at element {m['index']:,} "
        f"({inputs or 'no inputs'}): expected {m['expected']}, got {m['got']}"
    )


def _summary(doc: dict) -> str:
    """The readable report of a run."""
    params = ", ".join(f"{k}={v}" for k, v in doc["params"].items())
    head = (
        f"{doc['program']}{f' ({params})' if params else ''} on {doc['elements']:,} elements, "
        f"{doc['row_groups']:,} row group(s) on {min(doc['row_groups'], doc['banks'])} "
        f"bank(s) in parallel ({doc['config']})"
    )
    if doc.get("interrupted"):
        commands = ", ".join(f"{k} {v:,}" for k, v in doc["commands"].items())
        return f"{head}: interrupted at {doc['time_ns']:,.1f} ns; commands so far {commands}"
    lines = [head, "  result: " + _check_text(doc)]
    commands = ", ".join(f"{k} {v:,}" for k, v in doc["commands"].items())
    lines.append(
        f"  {doc['aap_per_op']:,} AAP + {doc['ap_per_op']:,} AP per operation; "
        f"{doc['time_ns']:,.1f} ns, {doc['elements_per_second'] / 1e9:,.3f} G elements/s"
    )
    lines.append(f"  commands {commands}; {doc['rows_raised']:,} rows raised")
    lines.append(
        f"  energy {doc['energy_nj']['above_idle']:,.1f} nJ above idle "
        f"({doc['energy_nj_per_element'] * 1000:,.3f} pJ per element; "
        f"{doc['energy_profile']} profile)"
    )
    return "\n".join(lines)


def _check_text(doc: dict) -> str:
    if not doc["data_simulated"]:
        return "data not simulated (--no-data): not checked"
    if doc["correct"] is None:
        return "unchecked (no --check and no check line in the program)"
    where = "--check" if doc["check_source"] == "--check" else "the program's check lines"
    checked = "; ".join(f"{k} = {v}" for k, v in doc["checks"].items())
    rest = f"; unchecked: {', '.join(doc['unchecked'])}" if doc["unchecked"] else ""
    if doc["correct"]:
        return f"correct ({checked}, from {where}){rest}"
    return f"WRONG: {_mismatch_text(doc['program'], doc['mismatch'])}{rest}"
