"""``pimsim compare``: bulk operations in DRAM against the CPU over the bus."""

from __future__ import annotations

import sys

import click
from tqdm import tqdm

from pimsim.cli.options import (
    config_options,
    energy_profile_option,
    load_config_or_fail,
    reported_errors,
    write_outputs,
)
from pimsim.cli.program import parse_size
from pimsim.compare import compare as run_compare
from pimsim.compare import compare_trace, parse_ops
from pimsim.report import format_table, plot, write_csv


@click.command()
@config_options
@click.option(
    "--ops",
    default="all",
    show_default=True,
    metavar="LIST|all",
    help="Comma-separated operations (not, and, or, nand, nor, xor, xnor, copy, zero, one); "
    "all = the seven bitwise ones.",
)
@click.option(
    "--size",
    default="32MiB",
    show_default=True,
    metavar="SIZE",
    help="Bytes of result per operation (whole rows), e.g. 4KiB, 32MiB.",
)
@click.option(
    "--banks",
    type=click.IntRange(min=1),
    metavar="N",
    help="Banks per rank the in-DRAM vectors stripe over (default: all).",
)
@click.option(
    "--ranks",
    type=click.IntRange(min=1),
    metavar="N",
    help="Ranks per channel (sets organisation.ranks for both ways).",
)
@energy_profile_option
@click.option("--json", "json_path", metavar="PATH|-", help="Write the results as JSON.")
@click.option("--csv", "csv_path", metavar="PATH", help="Write one CSV row per operation.")
@click.option("--plot", "plot_path", metavar="PATH.png", help="Plot throughput and energy.")
@click.option(
    "--measure-host", is_flag=True, help="Also time each operation with numpy on this machine."
)
@click.option(
    "--trace",
    type=click.Path(exists=True, dir_okay=False),
    metavar="PATH",
    help="Instead: replay a pimsim trace with its BBOP/COPY lines in DRAM, then with them on "
    "the CPU, and compare the two replays.",
)
def compare(
    config: str | None,
    params: tuple[str, ...],
    ops: str,
    size: str,
    banks: int | None,
    ranks: int | None,
    energy_profile: str,
    json_path: str | None,
    csv_path: str | None,
    plot_path: str | None,
    measure_host: bool,
    trace: str | None,
) -> None:
    """Run bulk operations in DRAM and on the CPU, and compare time and energy.

    Each operation runs in DRAM on random vectors (checked bit-exactly against numpy) and
    the conventional way: a CPU core streams the sources over the channel through the same
    controller and writes the result back. Energy is what each way costs above an idle
    memory, under the chosen profile.

    \b
    Examples:
      pimsim compare --config ddr3-1600 --banks 8 --energy-profile ambit-micro17
      pimsim compare --config ddr3-1066 --ops copy,zero --size 4KiB --banks 1
      pimsim compare --ops xor --size 8MiB --json - --plot xor.png
      pimsim compare --trace traces/sample-pim.trace
    """
    overrides = (*params, ("--ranks", f"organisation.ranks={ranks}")) if ranks else params
    cfg = load_config_or_fail(config, overrides)
    nbytes = parse_size(size)
    if trace:
        _only_with_ops(("ops", "size", "banks", "measure_host"))
        with reported_errors():
            doc = compare_trace(cfg, trace, energy_profile)
        write_outputs(doc, format_table(doc), json_path)
        _exit_status(doc)
        return
    with reported_errors():
        names = parse_ops(ops)
        with tqdm(
            total=len(names), unit=" op", delay=1.0, file=sys.stderr, disable=None, desc="comparing"
        ) as bar:

            def advance(op: str) -> None:
                bar.set_postfix_str(op, refresh=False)
                bar.update(1)

            doc = run_compare(cfg, names, nbytes, banks, energy_profile, measure_host, advance)
        if csv_path:
            write_csv(doc, csv_path)
        if plot_path:
            plot(doc, plot_path)
    write_outputs(doc, format_table(doc), json_path)
    _exit_status(doc)


def _only_with_ops(names: tuple[str, ...]) -> None:
    """Refuse options of the operation comparison given together with --trace."""
    ctx = click.get_current_context()
    for name in names:
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} compares operations; it does not apply to --trace")


def _exit_status(doc: dict) -> None:
    """1 if a result differs from its reference, 130 if Ctrl-C cut the comparison short."""
    if not doc["summary"]["all_correct"]:
        raise SystemExit(1)
    if doc.get("interrupted"):
        raise SystemExit(130)
