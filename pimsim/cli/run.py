"""``pimsim run``: replay a memory trace and report cycles, bandwidth, latency, commands."""

from __future__ import annotations

import sys

import click

from pimsim.cli.options import (
    INTERRUPTED,
    IntRange,
    config_options,
    distinct_files,
    energy_profile_option,
    given_path,
    json_option,
    load_config_or_fail,
    output_option,
    reported_errors,
    verbosity_options,
    write_outputs,
)
from pimsim.outputs import check_output_path
from pimsim.results.stats import format_summary
from pimsim.sim import Replay
from pimsim.tracefile import FORMATS, resolve_format


@click.command()
@click.argument("trace", type=click.Path(), callback=given_path)
@config_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", *FORMATS)),
    default="auto",
    show_default=True,
    help="Trace format (auto-detected from the first line).",
)
@json_option
@click.option("--no-data", is_flag=True, help="Timing only: do not keep row contents.")
@click.option(
    "--limit", type=IntRange(min=1), metavar="N", help="Replay only the first N requests."
)
@energy_profile_option
@output_option(
    "--drampower",
    help="Write every issued command to PATH as a DRAMPower 5.x command trace (CSV).",
    check=lambda path: check_output_path(path, regular=True),
)
@verbosity_options
def run(
    trace: str,
    config: str | None,
    params: tuple[str, ...],
    fmt: str,
    json_path: str | None,
    no_data: bool,
    limit: int | None,
    energy_profile: str,
    drampower: str | None,
) -> None:
    """Replay TRACE through the memory controller and print its statistics.

    TRACE is a pimsim, DRAMSim3 or Ramulator 2 trace (see traces/README.md), plain or
    gzip, a regular file; pimsim traces may also hold BBOP/COPY lines, bulk operations
    run in DRAM. A file that is not a readable trace exits 2; a malformed line exits 1.
    Ctrl-C stops the replay and still reports what ran, marked interrupted.

    \b
    Examples:
      pimsim run traces/sample.trace
      pimsim run traces/sample.trace --config ddr3-1600 -p organisation.ranks=2
      pimsim run big.trace.gz --no-data --json - > stats.json
      pimsim run traces/sample.trace --energy-profile ambit-micro17 --drampower cmds.csv
    """
    distinct_files(
        {"TRACE": trace, "--config": config}, {"--json": json_path, "--drampower": drampower}
    )
    cfg = load_config_or_fail(config, params)
    with reported_errors():
        fmt = resolve_format(trace, fmt)  # a bad trace file is refused before any output
    from tqdm import tqdm  # loaded when a command uses it: start-up stays short

    # shown on stderr only on a terminal, and only for runs longer than a second
    with (
        reported_errors(),
        tqdm(
            unit=" req", unit_scale=True, delay=1.0, file=sys.stderr, disable=None, desc="replaying"
        ) as bar,
    ):
        replay = Replay(
            cfg,
            trace,
            fmt=fmt,
            limit=limit,
            with_data=not no_data,
            on_progress=lambda sent: bar.update(sent - bar.n),
            energy_profile=energy_profile,
            drampower=drampower,
        )
        doc = replay.run()
    write_outputs(doc, format_summary(doc), json_path)
    if doc.get("interrupted"):
        sys.exit(INTERRUPTED)  # the shell's code for "stopped by Ctrl-C", after the stats are out
