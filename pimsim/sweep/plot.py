"""``pimsim sweep --plot``: one figure drawn from the sweep's table.

``--plot "x=KEY y=KEY [hue=KEY] [col=KEY]"`` names table columns (``banks`` finds
``param.banks``): y against x, one line per hue value, one panel per col value. Only finished
points with a number in y are drawn; points that share x, hue and col but differ in another
swept parameter are averaged, and :func:`plot_table` says which parameters those were.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pimsim.errors import PimsimError, cut

#: The names a --plot item may give, in the order messages list them.
NAMES = ("x", "y", "hue", "col")
#: Most panels (distinct col values) one figure gets side by side.
MAX_PANELS = 12
_USAGE = 'e.g. --plot "x=banks y=ops.and.speedup hue=config"'


class PlotError(PimsimError):
    """A --plot request is malformed or names nothing the sweep's table can draw."""


@dataclass(frozen=True)
class PlotRequest:
    """The table columns (as the user wrote them) to draw: y against x, a line per hue
    value, a panel per col value."""

    x: str
    y: str
    hue: str | None = None
    col: str | None = None


def parse_plot(items: tuple[str, ...]) -> PlotRequest:
    """The request of the --plot option's values: NAME=KEY pieces separated by whitespace or
    commas, in one value or many; PlotError on anything malformed."""
    given: dict[str, str] = {}
    for piece in (p for item in items for p in re.split(r"[\s,]+", item) if p):
        name, equals, key = piece.partition("=")
        name = name.lower()
        if not equals:
            raise PlotError(f"--plot: {cut(piece)!r}: items are NAME=KEY ({_USAGE})")
        if name not in NAMES:
            raise PlotError(f"--plot: {cut(piece)!r}: names are {', '.join(NAMES)}")
        if not key:
            raise PlotError(f"--plot: {cut(piece)!r}: the column KEY is empty")
        if name in given:
            raise PlotError(f"--plot: {cut(piece)!r}: {name} is given twice")
        given[name] = key
    for name in ("x", "y"):
        if name not in given:
            raise PlotError(f"--plot: {name}=KEY is required ({_USAGE})")
    return PlotRequest(**given)


def resolve(columns: Sequence[str], key: str) -> str:
    """The column ``key`` names: itself, else ``param.KEY``; PlotError with close matches."""
    for name in (key, f"param.{key}"):
        if name in columns:
            return name
    short = {c.removeprefix("param."): c for c in columns} | {c: c for c in columns}
    close = difflib.get_close_matches(key, list(short), n=5)
    hint = (
        f"close: {', '.join(cut(c, 60) for c in close)}"
        if close
        else "columns are swept keys (banks, timing.nFAW) and stats paths (ops.and.speedup)"
    )
    raise PlotError(f"--plot: {cut(key)!r} is not a column of the sweep's table; {hint}")


def _number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (SQLite keeps true/false as 1/0)."""
    return type(value) in (int, float) and math.isfinite(value)


def _ordered(values: list) -> list:
    """Distinct ``values``: sorted if all numbers, else in first-seen order."""
    distinct = list(dict.fromkeys(values))
    return sorted(distinct) if all(map(_number, distinct)) else distinct


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def plot_table(rows: list[dict], request: PlotRequest, path: str) -> str:
    """Draw ``request`` from the table ``rows`` into ``path`` (image format from its
    extension, written whole or not at all). Returns a one-line note naming the ``param.*``
    columns that varied among points averaged (mean) into one plotted point, or ""."""
    from pimsim.results.report import plot_format, save_figure

    try:
        fmt = plot_format(path)
    except ValueError as error:
        raise PlotError(f"--plot: {error}") from None
    if not rows:
        raise PlotError("--plot: the sweep's table has no rows")
    columns = list(dict.fromkeys(name for row in rows for name in row))
    x, y = resolve(columns, request.x), resolve(columns, request.y)
    hue = resolve(columns, request.hue) if request.hue else None
    col = resolve(columns, request.col) if request.col else None
    kept = [r for r in rows if r.get("status") == "ok" and _number(r.get(y))]
    if not kept:
        raise PlotError(f"--plot: no finished point has a number in column {cut(y)}")
    kept = [r for r in kept if r.get(x) is not None]
    if not kept:
        raise PlotError(f"--plot: no finished point with a number in {cut(y)} has a {cut(x)}")

    groups: dict[tuple, list[dict]] = {}
    for row in kept:
        key = (row.get(col) if col else None, row.get(hue) if hue else None, row[x])
        groups.setdefault(key, []).append(row)
    means = {key: sum(r[y] for r in group) / len(group) for key, group in groups.items()}
    numeric_x = all(_number(key[2]) for key in groups)
    if numeric_x:
        xs = _ordered([key[2] for key in groups])
    else:  # categories in first-seen order
        xs = list(dict.fromkeys(_label(key[2]) for key in groups))
    panels = _ordered([key[0] for key in groups])
    lines = _ordered([key[1] for key in groups])
    if len(panels) > MAX_PANELS:
        raise PlotError(
            f"--plot: col={cut(request.col or '')} has {len(panels)} values; "
            f"at most {MAX_PANELS} panels fit side by side (try hue= instead)"
        )

    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    fig, axes = plt.subplots(
        1, len(panels), figsize=(max(6.0, 4.0 * len(panels)), 4.5), sharey=True, squeeze=False
    )
    values = list(means.values())
    log_y = min(values) > 0 and max(values) / min(values) >= 100
    log_x = numeric_x and min(xs) > 0 and max(xs) / min(xs) >= 8
    handles = {}  # hue value -> its first line, for the legend
    for ax, panel in zip(axes[0], panels, strict=True):
        for number, line in enumerate(lines):
            points = sorted(
                (k[2] if numeric_x else xs.index(_label(k[2])), v)
                for k, v in means.items()
                if k[0] == panel and k[1] == line
            )
            if not points:
                continue
            px = [p[0] for p in points]
            color = f"C{number % 10}"  # the same hue value has one color in every panel
            (drawn,) = ax.plot(px, [p[1] for p in points], marker="o", color=color)
            handles.setdefault(line, drawn)
        if log_x:
            ax.set_xscale("log", base=2)
            ax.xaxis.set_minor_locator(NullLocator())
        if not numeric_x:
            turn = len(xs) > 6 or max(map(len, xs)) > 8  # long labels slanted, not overlapping
            ax.set_xticks(
                range(len(xs)), xs, rotation=30 if turn else 0, ha="right" if turn else "center"
            )
        elif len(xs) <= 12:
            ax.set_xticks(xs, [_label(v) for v in xs])
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel(request.x)
        ax.grid(which="both", alpha=0.3)
        if col:
            ax.set_title(f"{request.col} = {_label(panel)}")
    axes[0][0].set_ylabel(request.y)
    if hue:
        shown = [line for line in lines if line in handles]
        axes[0][-1].legend(
            [handles[v] for v in shown], [_label(v) for v in shown], title=request.hue
        )
    fig.suptitle(request.y)
    save_figure(fig, path, fmt)
    return _note(groups, {c for c in (x, hue, col) if c})


def _note(groups: dict[tuple, list[dict]], used: set[str]) -> str:
    """Which other param.* columns varied among the rows averaged into one point."""
    merged = [group for group in groups.values() if len(group) > 1]
    if not merged:
        return ""
    params = dict.fromkeys(
        name for g in merged for r in g for name in r if name.startswith("param.")
    )
    varied = [
        name
        for name in params
        if name not in used and any(len({r.get(name) for r in g}) > 1 for g in merged)
    ]
    most = max(len(g) for g in merged)
    if not varied:
        return f"averaged up to {most} points sharing x, hue and col per plotted point"
    shown = ", ".join(cut(name) for name in varied[:5])
    more = f" and {len(varied) - 5} more" if len(varied) > 5 else ""
    return f"averaged up to {most} points per plotted point over differing {shown}{more}"
