"""``pimsim compare``: bulk operations in DRAM against the CPU over the bus."""

from __future__ import annotations

import sys

import click

from pimsim.cli.options import (
    INTERRUPTED,
    banks_option,
    config_options,
    distinct_files,
    energy_profile_option,
    given_path,
    json_option,
    load_config_or_fail,
    output_option,
    ranks_option,
    reported_errors,
    size_option,
    verbosity_options,
    write_outputs,
)
from pimsim.compare import compare as run_compare
from pimsim.compare import compare_trace, parse_ops
from pimsim.results.report import format_table, plot, plot_format, write_csv


def _ops(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    """--ops: checked names, before any work."""
    with reported_errors():
        return parse_ops(value)


@click.command()
@config_options
@click.option(
    "--ops",
    default="all",
    show_default=True,
    metavar="LIST|all",
    callback=_ops,
    help="Comma-separated operations (not, and, or, nand, nor, xor, xnor, copy, zero, one), "
    "or library operations with their width (add32, mul8, gt16: --size is then the bytes of "
    "one n-bit operand, size*8/n elements, by default at most 2**26); all = the seven "
    "bitwise ones.",
)
@size_option("32MiB", "Bytes of result per operation (whole rows), e.g. 4KiB, 32MiB.")
@banks_option("the in-DRAM vectors stripe over")
@ranks_option(" for both ways")
@energy_profile_option
@json_option
@output_option("--csv", "csv_path", help="Write one CSV row per operation.")
@output_option(
    "--plot",
    "plot_path",
    metavar="PATH.png",
    check=plot_format,
    help="Plot throughput and energy (the extension picks the format: png, pdf, svg, ...).",
)
@click.option(
    "--no-data",
    is_flag=True,
    help="Timing only: the in-DRAM side without row data (same commands, times, energy; "
    "the result is not checked).",
)
@click.option(
    "--measure-host", is_flag=True, help="Also time each operation with numpy on this machine."
)
@click.option(
    "--trace",
    type=click.Path(),
    callback=given_path,
    metavar="PATH",
    help="Instead: replay a pimsim trace with its BBOP/COPY lines in DRAM, then with them on "
    "the CPU, and compare the two replays.",
)
@verbosity_options
def compare(
    config: str | None,
    params: tuple[str, ...],
    ops: tuple[str, ...],
    size: int,
    banks: int | None,
    ranks: int | None,
    energy_profile: str,
    json_path: str | None,
    csv_path: str | None,
    plot_path: str | None,
    no_data: bool,
    measure_host: bool,
    trace: str | None,
) -> None:
    """Run bulk operations in DRAM and on the CPU, and compare time and energy.

    Each operation runs in DRAM on random vectors (checked bit-exactly against numpy, or a
    library operation against its check lines) and the conventional way: a CPU core streams
    the sources over the channel through the same controller and writes the result back
    (a library operation's operands as arrays of 1-, 2-, 4- or 8-byte integers). Energy is
    what each way costs above an idle memory, under the chosen profile.

    \b
    Examples:
      pimsim compare --config ddr3-1600 --banks 8 --energy-profile ambit-micro17
      pimsim compare --config ddr3-1066 --ops copy,zero --size 4KiB --banks 1
      pimsim compare --ops xor --size 8MiB --json - --plot xor.png
      pimsim compare --ops add32,mul16 --config ddr4-2400 --banks 16
      pimsim compare --ops all --size 1GiB --no-data
      pimsim compare --trace traces/sample-pim.trace
    """
    distinct_files(
        {"--trace": trace, "--config": config},
        {"--json": json_path, "--csv": csv_path, "--plot": plot_path},
    )
    overrides = (*params, ("--ranks", f"organisation.ranks={ranks}")) if ranks else params
    cfg = load_config_or_fail(config, overrides)
    if trace:
        _only_with_ops(("ops", "size", "banks", "no_data", "measure_host", "csv_path", "plot_path"))
        with reported_errors():
            doc = compare_trace(cfg, trace, energy_profile)
        write_outputs(doc, format_table(doc), json_path)
        _exit_status(doc)
        return
    from tqdm import tqdm  # loaded when a command uses it: start-up stays short

    with (
        reported_errors(),
        tqdm(
            total=len(ops), unit=" op", delay=1.0, file=sys.stderr, disable=None, desc="comparing"
        ) as bar,
    ):

        def advance(op: str) -> None:
            bar.set_postfix_str(op, refresh=False)
            bar.update(1)

        default = click.get_current_context().get_parameter_source("size")
        doc = run_compare(
            cfg, ops, size, banks, energy_profile, measure_host, advance, not no_data,
            fit_size=default is click.core.ParameterSource.DEFAULT,
        )  # fmt: skip
    write_outputs(doc, format_table(doc), json_path)
    with reported_errors():
        if csv_path:
            write_csv(doc, csv_path)
        if plot_path and doc["ops"]:
            plot(doc, plot_path)
    _exit_status(doc)


def _only_with_ops(names: tuple[str, ...]) -> None:
    """Refuse options of the operation comparison given together with --trace."""
    ctx = click.get_current_context()
    for name in names:
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            option = "--" + name.removesuffix("_path").replace("_", "-")
            raise click.UsageError(f"{option} compares operations; it does not apply to --trace")


def _exit_status(doc: dict) -> None:
    """1 if a result differs from its reference, 130 if Ctrl-C cut the comparison short."""
    wrong = [name for name, entry in doc["ops"].items() if entry["correct"] is False]
    if wrong:  # ClickException: one "Error:" line, exit 1
        raise click.ClickException(
            f"{', '.join(wrong)}: the in-DRAM result differs from its reference (correct: NO)"
        )
    if doc.get("interrupted"):
        raise SystemExit(INTERRUPTED)
