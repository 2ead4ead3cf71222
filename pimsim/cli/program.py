"""``pimsim program``: check a µprogram and run it over vectors on every bank."""

from __future__ import annotations

import logging
import os
import sys

import click

from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.inputs import check, fill
from pimsim.cli.options import (
    INTERRUPTED,
    IntRange,
    config_options,
    distinct_files,
    json_option,
    load_config_or_fail,
    reported_errors,
    size_option,
    verbosity_options,
    write_outputs,
)
from pimsim.controller import engine_of
from pimsim.device import Device
from pimsim.programs import library
from pimsim.programs.parse import (
    Program,
    ProgramError,
    builtin,
    builtin_names,
    echo,
    is_builtin,
    load,
)

#: Seeds numpy's generator takes from the command line (unsigned 32-bit).
MAX_SEED = 2**32 - 1

logger = logging.getLogger("pimsim")


@click.command()
@click.argument("program", metavar="NAME|FILE.pim")
@config_options
@size_option("1MiB", "Bytes per vector (whole rows), e.g. 32MiB.")
@click.option(
    "--seed",
    type=IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help=f"Seed of the random input data (0..{MAX_SEED}).",
)
@click.option(
    "--no-data",
    is_flag=True,
    help="Timing only: the same commands, times and counts without row data (no check).",
)
@json_option
@verbosity_options
def program(
    program: str,
    config: str | None,
    params: tuple[str, ...],
    size: int,
    seed: int,
    no_data: bool,
    json_path: str | None,
) -> None:
    """Check a µprogram and run it on random vectors striped over every bank.

    NAME is a built-in operation (not, and, or, nand, nor, xor, xnor, copy, zero, one);
    its result is checked against numpy. FILE.pim is your own µprogram (see
    pimsim/programs/lib/ for the format): it is checked for what hardware would not do,
    its result is checked against the program run on the host, and its cost is reported.
    Ctrl-C stops the run and reports what was issued so far, marked interrupted.

    \b
    Examples:
      pimsim program xor --config ddr3-1600 --size 32MiB
      pimsim program my-op.pim -p pim.split_decoder=false --json -
      pimsim program and --size 1GiB --no-data
    """
    source = None if program in builtin_names() else program
    distinct_files({"FILE.pim": source, "--config": config}, {"--json": json_path})
    cfg = load_config_or_fail(config, params)
    with reported_errors():
        prog = _program(program)
        engine = BulkEngine(Device(cfg), with_data=not no_data)
        if size % engine.row_bytes:
            raise click.BadParameter(
                f"vectors are whole rows: {size:,} bytes is not a multiple of the "
                f"{engine.row_bytes:,}-byte row of {cfg.name}",
                param_hint="'--size'",
            )
        engine.check_program(prog)
        if len(prog.outputs) > 1:
            raise ProgramError(
                prog.source,
                prog.declared.get(prog.outputs[1], 0),
                "out",
                f"{len(prog.outputs)} output rows; pimsim program runs one-row programs over "
                "vectors: run this one with pimsim exec",
            )
        engine.check_footprint(prog, -(-size // engine.row_bytes))
        doc = {"config": cfg.name, "program": prog.name, "size_bytes": size}
        try:
            logger.info("running %s on %d bytes (%s)", prog.name, size, cfg.name)
            doc.update(_run(engine, prog, size, seed))
        except KeyboardInterrupt:
            doc.update(_so_far(engine))
    write_outputs(doc, _summary(doc), json_path)
    if doc.get("interrupted"):
        sys.exit(INTERRUPTED)
    if doc.get("correct") is False:
        raise click.ClickException(
            f"{doc['program']}: the in-DRAM result differs from the {doc['reference']} reference"
        )


def _program(name: str) -> Program:
    """A built-in by its exact name, else the ``.pim`` file at that path."""
    if name in builtin_names():
        return builtin(name)
    if not os.path.exists(name) and not name.endswith(".pim") and "/" not in name:
        raise ProgramError(
            echo(name)[1:-1],
            0,
            "program",
            f"neither a built-in operation ({', '.join(library.plain())}; the n-bit library "
            "runs with pimsim exec) nor a file",
        )
    return load(name)


def _run(engine: BulkEngine, prog: Program, size: int, seed: int) -> dict:
    """Run ``prog`` over random vectors of ``size`` bytes; its report and whether the result
    matches the reference (numpy for a built-in, the program run on the host otherwise).
    The inputs are made, and the result checked, a chunk of rows at a time
    (pimsim.ambit.inputs)."""
    inputs = [engine.alloc(size) for _ in prog.inputs]
    out = engine.alloc(size)
    if engine.with_data:
        fill(engine.device, inputs, seed)
    report = engine.bbop(prog, out, *inputs)
    doc = report.to_dict()
    if not engine.with_data:
        return {**doc, "reference": None, "correct": None}
    correct = check(
        engine.device, out, len(inputs), seed, lambda words, n: engine.host_result(prog, words, n)
    )
    return {**doc, "reference": "numpy" if is_builtin(prog) else "host", "correct": correct}


def _so_far(engine: BulkEngine) -> dict:
    """After Ctrl-C: the simulated time reached (ns) and the commands issued until then."""
    counts = engine.device.command_counts()
    return {
        "interrupted": True,
        "time_ns": round(engine.device.clock.ticks_to_ns(engine_of(engine.device).now), 3),
        "commands": {name: int(n) for name, n in counts.items() if n},
    }


def _summary(doc: dict) -> str:
    """The one-paragraph report of a run."""
    head = f"{doc['program']} on {doc['size_bytes']:,} bytes ({doc['config']})"
    commands = ", ".join(f"{k} {v:,}" for k, v in doc["commands"].items())
    if doc.get("interrupted"):
        return f"{head}: interrupted at {doc['time_ns']:,.1f} ns; commands so far {commands}"
    if doc["correct"] is None:
        check = "data not simulated (--no-data): result not checked"
    else:
        reference = "numpy" if doc["reference"] == "numpy" else "the program run on the host"
        check = f"result {'matches' if doc['correct'] else 'DIFFERS from'} {reference}"
    return (
        f"{head}: {doc['time_ns']:,.1f} ns, {doc['throughput_gbps']:.1f} GB/s; "
        f"{doc['in_dram_rows']} rows in DRAM, {doc['cpu_rows']} on the CPU path; commands "
        f"{commands}; {doc['rows_raised']:,} rows raised, most activations of one row "
        f"{doc['max_row_activations']}; {check}"
    )
