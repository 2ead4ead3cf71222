"""``pimsim program``: check a µprogram and run it over vectors on every bank."""

from __future__ import annotations

import json
import re

import click
import numpy as np

from pimsim.ambit.bulk import NUMPY_OPS, BulkEngine, bulk_result
from pimsim.cli.options import config_options, load_config_or_fail, reported_errors
from pimsim.device import Device
from pimsim.programs.check import check
from pimsim.programs.parse import builtin, builtin_names, load

_UNITS = {
    "": 1,
    "B": 1,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}


def parse_size(text: str) -> int:
    """Bytes in a size such as ``32MiB``, ``4KiB`` or ``8192``."""
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _UNITS:
        raise click.BadParameter(f"{text!r} is not a size like 8192, 4KiB or 32MiB")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


@click.command()
@click.argument("program", metavar="NAME|FILE.pim")
@config_options
@click.option(
    "--size",
    default="1MiB",
    show_default=True,
    metavar="SIZE",
    help="Bytes per vector (whole rows), e.g. 32MiB.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the random input data.")
@click.option("--json", "json_path", metavar="PATH|-", help="Write the report as JSON.")
def program(
    program: str,
    config: str | None,
    params: tuple[str, ...],
    size: str,
    seed: int,
    json_path: str | None,
) -> None:
    """Check a µprogram and run it on random vectors striped over every bank.

    NAME is a built-in operation (not, and, or, nand, nor, xor, xnor, copy, zero, one);
    its result is checked against numpy. FILE.pim is your own µprogram (see
    pimsim/programs/lib/ for the format); it is checked for what hardware would not do,
    and its cost is reported.

    \b
    Examples:
      pimsim program xor --config ddr3-1600 --size 32MiB
      pimsim program my-op.pim -p pim.split_decoder=false --json -
    """
    cfg = load_config_or_fail(config, params)
    nbytes = parse_size(size)
    with reported_errors():
        prog = builtin(program) if program in builtin_names() else load(program)
        engine = BulkEngine(Device(cfg))
        check(prog, engine.pim.layout)
        inputs, values = engine.alloc_random(len(prog.inputs), nbytes, np.random.default_rng(seed))
        out = engine.alloc(nbytes)
        report = engine.bbop(prog, out, *inputs)
    doc = {"config": cfg.name, "program": prog.name, "size_bytes": nbytes, **report.to_dict()}
    if prog.name in NUMPY_OPS or prog.name in ("zero", "one"):
        want = bulk_result(prog.name, values, nbytes // 8)
        doc["correct"] = bool((engine.read(out) == want).all())
    summary = (
        f"{prog.name} on {nbytes:,} bytes ({cfg.name}): {doc['time_ns']:,.1f} ns, "
        f"{doc['throughput_gbps']:.1f} GB/s; {report.in_dram_rows} rows in DRAM, "
        f"{report.cpu_rows} on the CPU path; commands "
        + ", ".join(f"{k} {v:,}" for k, v in doc["commands"].items())
        + f"; {doc['rows_raised']:,} rows raised, most activations of one row "
        f"{doc['max_row_activations']}"
        + (
            ""
            if "correct" not in doc
            else f"; result {'matches numpy' if doc['correct'] else 'DIFFERS from numpy'}"
        )
    )
    if json_path == "-":
        click.echo(summary, err=True)
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(summary)
        if json_path:
            with open(json_path, "w") as fh:
                json.dump(doc, fh, indent=2)
    if doc.get("correct") is False:
        raise SystemExit(1)
