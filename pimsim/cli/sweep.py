"""``pimsim sweep``: a grid of points of one command, run on a Dask cluster into one table."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from pimsim.cli.options import (
    INTERRUPTED,
    IntRange,
    given_path,
    reported_errors,
    verbosity_options,
)
from pimsim.outputs import atomic_open

#: A --plot item given unquoted after the first (``--plot x=banks y=cycles``).
_PLOT_ITEM = re.compile(r"(x|y|hue|col)=\S+")
#: Most local worker processes --workers starts.
MAX_WORKERS = 256


@click.command("sweep")
@click.argument("spec", type=click.Path(), callback=given_path)
@click.argument("plot_rest", nargs=-1, metavar="")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask cluster (tcp://HOST:PORT of its scheduler) instead of a "
    "local one.",
)
@click.option(
    "--workers",
    type=IntRange(1, MAX_WORKERS),
    metavar="N",
    help="Worker processes of the local cluster (default: the cores).",
)
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    help="Directory of the results table (default: SPEC's name + '.sweep', here).",
)
@click.option("--resume", is_flag=True, help="Continue the table in DIR: run only missing points.")
@click.option(
    "--retry-failed", is_flag=True, help="With --resume: also run again the points that failed."
)
@click.option(
    "--plot",
    "plot_items",
    multiple=True,
    metavar="'x=KEY y=KEY [hue=KEY] [col=KEY]'",
    help="Then draw y against x from the table (KEY: a column, or a swept key such as banks).",
)
@click.option(
    "--plot-file",
    metavar="PATH",
    help="Where --plot writes (the extension picks the format; default DIR/plot.png).",
)
@click.option("--dry-run", is_flag=True, help="Check SPEC and list its points; run nothing.")
@verbosity_options
def sweep(
    spec: str,
    plot_rest: tuple[str, ...],
    scheduler: str | None,
    workers: int | None,
    out_dir: str | None,
    resume: bool,
    retry_failed: bool,
    plot_items: tuple[str, ...],
    plot_file: str | None,
    dry_run: bool,
) -> None:
    """Run every point of the grid in SPEC (a YAML file) and store one row per point.

    SPEC names a command (run, compare, program, exec or "workload NAME") and a grid of its
    options and configuration keys; see docs/sweeps.md. Points run as tasks on a local Dask
    cluster, or on --scheduler's. Each finished point is committed to DIR/results.sqlite at
    once: Ctrl-C (exit 130) keeps them, and --resume runs only what is missing. A point that
    fails is stored with its error line and the sweep goes on; the exit status is then 1.

    \b
    Examples:
      pimsim sweep examples/sweeps/ambit-banks-faw-split.yaml
      pimsim sweep examples/sweeps/ambit-banks-faw-split.yaml --resume \\
          --plot x=banks y=ops.and.speedup hue=timing.nFAW col=pim.split_decoder
      pimsim sweep big.yaml --scheduler tcp://10.0.0.5:8786 --out /shared/big
    """
    from pimsim.sweep.spec import load_sweep
    from pimsim.sweep.store import Store, StoreError

    if plot_rest:  # --plot x=KEY y=KEY ...: the items after the first come as arguments
        if not plot_items or not all(_PLOT_ITEM.fullmatch(item) for item in plot_rest):
            raise click.UsageError(f"unexpected argument {plot_rest[0]!r} (one SPEC per sweep)")
        plot_items = (*plot_items, *plot_rest)
    if scheduler and workers:
        raise click.UsageError("--workers starts a local cluster; with --scheduler, the "
                               "cluster's workers run the points")  # fmt: skip
    if retry_failed and not resume:
        raise click.UsageError("--retry-failed continues a table: add --resume")
    request = _plot_request(plot_items) if plot_items else None
    from tqdm import tqdm

    with (
        reported_errors(),
        tqdm(unit=" point", file=sys.stderr, disable=None, delay=1.0, desc="checking") as bar,
    ):

        def checked(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        sweep_spec = load_sweep(spec, checked)
    directory = Path(out_dir or Path(spec).name.rsplit(".", 1)[0] + ".sweep")
    plot_path = plot_file or str(directory / "plot.png")
    try:
        existing = (directory / "results.sqlite").exists()
        if existing and not resume and not dry_run:
            raise click.UsageError(f"{directory} already holds a sweep's table: add --resume to "
                                   "continue it, or choose another --out")  # fmt: skip
        store = None if dry_run and not existing else Store(directory)
    except StoreError as error:
        raise click.UsageError(str(error)) from None
    if request and store:
        _check_plot_file(plot_path, bool(plot_file))
    stored = store.stored() if store else {}
    todo = [p for p in sweep_spec.points
            if p.key not in stored or (retry_failed and stored[p.key] != "ok")]  # fmt: skip
    skipped = len(sweep_spec.points) - len(todo)
    if dry_run:
        _list_points(sweep_spec, todo, skipped)
        return
    with reported_errors():
        with atomic_open(directory / "spec.yaml") as fh:  # the grid the table came from
            fh.write(sweep_spec.text)
        tally = _run(sweep_spec.command, todo, store, scheduler, workers) if todo else None
    total = len(store.stored())
    click.echo(_summary(len(sweep_spec.points), skipped, tally, store.path, total))
    store_rows = store.rows()
    store.close()
    if tally and tally.interrupted:
        sys.exit(INTERRUPTED)
    if request:
        from pimsim.sweep.plot import plot_table

        with reported_errors():
            note = plot_table(store_rows, request, plot_path)
        click.echo(f"plot: {plot_path}" + (f" ({note})" if note else ""))
    if tally and tally.lost:
        where = f"the scheduler at {scheduler}" if scheduler else "the local cluster"
        raise click.ClickException(f"lost {where}: {tally.lost} points were not run (add "
                                   "--resume to run them)")  # fmt: skip
    if tally and tally.failed:
        raise click.ClickException(f"{tally.failed} of {tally.ran} points failed (their error "
                                   f"lines are in the error column of {store.path})")  # fmt: skip


def _run(words, todo, store, scheduler, workers):
    """Run ``todo`` on the cluster with a progress bar on stderr."""
    from tqdm import tqdm

    from pimsim.sweep.cluster import dask_client, default_workers, run_sweep

    count = min(workers or default_workers(), len(todo))
    with (
        dask_client(scheduler, count) as client,
        tqdm(total=len(todo), unit=" point", file=sys.stderr, disable=None, desc="sweep") as bar,
    ):
        failed = 0

        def advance(result: dict) -> None:
            nonlocal failed
            failed += result["status"] != "ok"
            bar.set_postfix_str(f"failed={failed}", refresh=False)
            bar.update(1)

        return run_sweep(client, words, todo, store, advance)


def _summary(points: int, skipped: int, tally, path: Path, total: int) -> str:
    """One line: what ran, how fast, and where the table is."""
    if tally is None:
        ran = "nothing to run"
    else:
        rate = tally.ran / tally.seconds if tally.seconds else 0.0
        ran = (f"{tally.ran} run ({tally.ok} ok, {tally.failed} failed) in {tally.seconds:.1f} s"
               f" = {rate:.2f} points/s on {tally.workers} workers")  # fmt: skip
        if tally.lost:
            ran += f", {tally.lost} lost with the cluster"
        if tally.interrupted:
            ran += f", interrupted with {points - skipped - tally.ran} not run"
    return f"sweep: {points} points: {ran}; {skipped} already stored; {path}: {total} rows"


def _list_points(sweep_spec, todo, skipped: int) -> None:
    """--dry-run: each point still to run as its command line."""
    import shlex

    click.echo(f"{len(sweep_spec.points)} points, {skipped} already stored, {len(todo)} to run:")
    for point in todo:
        click.echo(shlex.join(("pimsim", *sweep_spec.command, *point.argv)))


def _plot_request(items: tuple[str, ...]):
    """The parsed --plot items (a usage error if malformed)."""
    from pimsim.sweep.plot import PlotError, parse_plot

    try:
        return parse_plot(items)
    except PlotError as error:
        raise click.UsageError(str(error)) from None


def _check_plot_file(path: str, given: bool) -> None:
    """Refuse a --plot-file matplotlib cannot write or this process cannot create, before
    any work."""
    from pimsim.outputs import OutputError, check_output_path
    from pimsim.results.report import plot_format

    try:
        plot_format(path)
        check_output_path(path, regular=True)
    except (ValueError, OutputError) as error:
        raise click.UsageError(f"{'--plot-file' if given else '--plot'}: {error}") from None
