"""``pimsim workload NAME``: an application end to end in DRAM against the CPU over the bus."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from itertools import product

import click

from pimsim.apps import WORKLOADS
from pimsim.apps.bnn_model import DATASETS
from pimsim.apps.output import plot, write_csv
from pimsim.apps.sweep import Point, Workload, format_table, point_label, sweep
from pimsim.cli.options import (
    INTERRUPTED,
    banks_option,
    config_options,
    distinct_files,
    energy_profile_option,
    json_option,
    load_config_or_fail,
    output_option,
    ranks_option,
    reported_errors,
    verbosity_options,
    write_outputs,
)
from pimsim.programs.parse import echo
from pimsim.results.report import plot_format

#: Multipliers of a count (binary: 8M users = 8 * 2**20).
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_COUNT = re.compile(r"([0-9]{1,12})([KMG]?)", re.ASCII | re.IGNORECASE)


def count_list(low: int, high: int) -> Callable:
    """Click callback: a comma-separated list of counts in low..high (``8M`` = 8 * 2**20),
    each once, in the order given."""

    def parse(_ctx: click.Context, _param: click.Parameter, text: str) -> tuple[int, ...]:
        values = []
        for item in text.split(","):
            match = _COUNT.fullmatch(item.strip())
            if not match:
                raise click.BadParameter(f"{echo(item)} is not a count like 4, 64K or 8M")
            value = int(match.group(1)) * _UNITS[match.group(2).upper()]
            if not low <= value <= high:
                raise click.BadParameter(f"{echo(item.strip())} is outside {low:,}..{high:,}")
            values.append(value)
        return tuple(dict.fromkeys(values))

    return parse


def common_options(func: Callable) -> Callable:
    """The options every workload takes: configuration, banks, ranks, energy profile,
    outputs, --no-data and verbosity."""
    for option in reversed((
        config_options,
        banks_option("the in-DRAM data stripes over"),
        ranks_option(" for every way"),
        energy_profile_option,
        json_option,
        output_option("--csv", "csv_path", help="Write one CSV row per point and way."),
        output_option("--plot", "plot_path", metavar="PATH.png", check=plot_format,
                      help="Plot speedup and energy reduction over the sweep (log scale)."),
        click.option("--no-data", is_flag=True,
                     help="Timing only: the same commands, times and energy without row data "
                     "(nothing is checked)."),
        verbosity_options,
    )):  # fmt: skip
        func = option(func)
    return func


def run_workload(workload: Workload, points: list[Point], options: dict) -> None:
    """Check every point, sweep with progress, write the outputs; exit 1 if a result
    differs from numpy's, 130 after Ctrl-C (the finished points reported)."""
    distinct_files(
        {"--config": options["config"]},
        {"--json": options["json_path"], "--csv": options["csv_path"],
         "--plot": options["plot_path"]},
    )  # fmt: skip
    params = options["params"]
    if options["ranks"]:
        params = (*params, ("--ranks", f"organisation.ranks={options['ranks']}"))
    cfg = load_config_or_fail(options["config"], params)
    from tqdm import tqdm  # loaded when a command uses it: start-up stays short

    with (
        reported_errors(),
        tqdm(total=len(points), unit=" point", delay=1.0, file=sys.stderr, disable=None,
             desc=workload.name) as bar,
    ):  # fmt: skip

        def advance(point: Point) -> None:
            bar.set_postfix_str(point_label(point), refresh=False)
            bar.update(1)

        doc = sweep(workload, cfg, points, options["banks"], options["energy_profile"],
                    not options["no_data"], advance)  # fmt: skip
    write_outputs(doc, format_table(doc), options["json_path"])
    with reported_errors():
        if options["csv_path"]:
            write_csv(doc, options["csv_path"])
        if options["plot_path"] and doc["points"]:
            plot(doc, options["plot_path"])
    wrong = [point_label(p["params"]) for p in doc["points"] if p["correct"] is False]
    if wrong:
        raise click.ClickException(f"{', '.join(wrong)}: the in-DRAM result differs from numpy's")
    if doc.get("interrupted"):
        raise SystemExit(INTERRUPTED)


_SHAPE = re.compile(r"([0-9]{1,7})[xX]([0-9]{1,7})", re.ASCII)


def shape_list(
    _ctx: click.Context, _param: click.Parameter, text: str
) -> tuple[tuple[int, int], ...]:
    """Click callback: a comma-separated list of matrix shapes ROWSxCOLS, each once."""
    shapes = []
    for item in text.split(","):
        match = _SHAPE.fullmatch(item.strip())
        if not match or not all(1 <= int(v) <= 1 << 20 for v in match.groups()):
            raise click.BadParameter(f"{echo(item)} is not a shape like 4096x4096 (1..1048576)")
        shapes.append((int(match.group(1)), int(match.group(2))))
    return tuple(dict.fromkeys(shapes))


def list_option(name: str, default: str, callback, help: str):
    """A comma-separated list option of a workload's sweep (``--users 8M,64M``)."""
    return click.option(
        name, default=default, show_default=True, metavar="LIST", callback=callback, help=help
    )


@click.group("workload")
def workload() -> None:
    """Run an application end to end in DRAM and on the CPU over the bus, over a sweep of
    sizes, and compare time and energy (same controller, timing and energy model).

    \b
    Examples:
      pimsim workload bitmap-index
      pimsim workload bitmap-index --config ddr3-1600 --banks 8 --users 8M --weeks 2,4
      pimsim workload bnn --dataset digits --samples 64K,8M
    """


@workload.command("bitmap-index")
@list_option(
    "--users",
    "8M,16M,32M,64M",
    count_list(1, 1 << 34),
    "Users (bits per bitmap), comma-separated; K, M, G = 2**10, 2**20, 2**30.",
)
@list_option(
    "--weeks",
    "2,3,4",
    count_list(2, 64),
    "Weeks k (bitmaps ANDed), comma-separated.",
)
@common_options
def bitmap_index(users: tuple[int, ...], weeks: tuple[int, ...], **options) -> None:
    """Users active in every one of the last k weeks: AND of k bitmaps, then a count.

    In DRAM, the ANDs run as Ambit bulk operations; the count is done by the CPU reading the
    result (as Ambit did), or reduced in DRAM by the library's bitcount first. The CPU
    baseline streams the k bitmaps over the bus. Every count is checked against numpy's.

    \b
    Examples:
      pimsim workload bitmap-index --users 8M,64M --weeks 2,4 --json -
      pimsim workload bitmap-index --config ddr3-1600 --banks 8 --plot bitmap.png
    """
    points = [{"users": u, "weeks": k} for u, k in product(users, weeks)]
    run_workload(WORKLOADS["bitmap-index"], points, options)


@workload.command("bitweaving")
@list_option(
    "--values",
    "8M,32M",
    count_list(1, 1 << 34),
    "Values n in the column, comma-separated; K, M, G = 2**10, 2**20, 2**30.",
)
@list_option(
    "--bits",
    "4,8,16,32",
    count_list(2, 64),
    "Column width b in bits, comma-separated.",
)
@common_options
def bitweaving(values: tuple[int, ...], bits: tuple[int, ...], **options) -> None:
    """select count(*) where c1 <= v <= c2 over a b-bit column in vertical layout.

    In DRAM, a range program specialised to c1 and c2 (the middle half of the range) marks
    the values in range; the CPU counts the marks (as Ambit did). The CPU baseline streams
    the b bit vectors over the bus. Every count is checked against numpy's.

    \b
    Examples:
      pimsim workload bitweaving --values 8M --bits 4,32
      pimsim workload bitweaving --config ddr3-1600 --banks 8 --json -
    """
    points = [{"values": n, "bits": b} for n, b in product(values, bits)]
    run_workload(WORKLOADS["bitweaving"], points, options)


@workload.command("sets")
@list_option(
    "--universe",
    "8M,32M",
    count_list(64, 1 << 32),
    "Ids in the universe (bits per set), comma-separated; K, M, G = 2**10, 2**20, 2**30.",
)
@list_option(
    "--elements",
    "64K,1M",
    count_list(1, 1 << 32),
    "Expected elements per set, comma-separated.",
)
@common_options
def sets(universe: tuple[int, ...], elements: tuple[int, ...], **options) -> None:
    """Union, intersection and difference of two sets as bit vectors.

    In DRAM: bulk OR, AND and AND-NOT. The baseline is the CPU on the same bit vectors; the
    document also has the CPU on sorted arrays of 4-byte ids (speedup_vs_sorted). Every
    result is checked against numpy's.

    \b
    Examples:
      pimsim workload sets --universe 8M --elements 64K,1M
      pimsim workload sets --config ddr3-1600 --banks 8 --json -
    """
    points = [{"universe": u, "elements": e} for u, e in product(universe, elements)]
    run_workload(WORKLOADS["sets"], points, options)


@workload.command("bnn")
@click.option(
    "--dataset",
    type=click.Choice(DATASETS),
    default="digits",
    show_default=True,
    help="scikit-learn's bundled classification set (no download).",
)
@list_option(
    "--samples",
    "64K,1M,8M",
    count_list(1, 1 << 24),
    "Samples classified (the held-out split repeated), comma-separated; K, M = 2**10, 2**20.",
)
@common_options
def bnn(dataset: str, samples: tuple[int, ...], **options) -> None:
    """Binarized classifier inference: XNOR, popcount and argmax, all in DRAM.

    The model is trained with numpy when the command starts (features binarized by their
    training median, least-squares weights binarized to +-1 per class); in DRAM the samples
    are elements in vertical layout and one generated program computes every class's
    popcount(XNOR(x, w)) with the library's bitcount and the argmax with gt and select. The
    CPU baseline streams the binarized samples over the bus. Every prediction is checked
    against the numpy model's; the accuracy on the held-out split is reported.

    \b
    Examples:
      pimsim workload bnn --samples 450,2M
      pimsim workload bnn --dataset iris --samples 64K --json -
    """
    from pimsim.apps.bnn import make_workload

    points = [{"samples": n} for n in samples]
    run_workload(make_workload(dataset), points, options)


@workload.command("gemv")
@list_option(
    "--shape",
    "1024x1024,2048x2048,4096x4096",
    shape_list,
    "Weight matrices ROWSxCOLS (outputs x inputs), comma-separated.",
)
@list_option(
    "--bits",
    "4",
    count_list(2, 8),
    "Weight widths (2, 4 or 8), comma-separated.",
)
@common_options
def gemv(shape: tuple[tuple[int, int], ...], bits: tuple[int, ...], **options) -> None:
    """y = W x, the decode step of a quantized LM: signed int2/int4/int8 W in DRAM, int8 x.

    In DRAM, the host writes a program specialized to the token's x: each weight column is
    added, shifted by each set bit of |x_j|, into a per-bank accumulator by the library's
    full-adder step; the host reads the accumulators and sums the banks. The CPU streams W
    and x over the bus. y is checked against numpy's W @ x.

    \b
    Examples:
      pimsim workload gemv --shape 64x64,256x128 --bits 2,4,8
      pimsim workload gemv --shape 4096x4096 --bits 4 --no-data --json -
    """
    points = [{"rows": m, "cols": n, "bits": q} for (m, n), q in product(shape, bits)]
    run_workload(WORKLOADS["gemv"], points, options)
