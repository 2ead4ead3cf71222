"""``pimsim sweep --plot``: parsing the request, resolving keys to table columns, and drawing
(lines per hue, panels per col, averaging, categorical x, image formats) from hand-made rows."""

import pytest

import pimsim.results.report
from pimsim.errors import PimsimError
from pimsim.sweep.plot import PlotError, PlotRequest, parse_plot, plot_table, resolve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def row(point: str, status: str = "ok", **values) -> dict:
    """A table row: meta columns, then ``values`` with ``__`` standing for ``.``."""
    base = {"point": point, "status": status, "error": None if status == "ok" else "boom"}
    return base | {name.replace("__", "."): value for name, value in values.items()}


def grid(seeds=(1,), configs=("ddr3", "ddr4")) -> list[dict]:
    """Rows over banks x config x split_decoder (x seed): speedup grows with banks."""
    rows = []
    for banks in (1, 2, 4, 8, 16, 32, 64):
        for config in configs:
            for split in (0, 1):
                for seed in seeds:
                    speedup = banks * (2 if config == "ddr4" else 1) + split + seed
                    params = dict(param__banks=banks, param__config=config,
                                  param__pim__split_decoder=split, param__seed=seed)  # fmt: skip
                    stats = dict(ops__and__speedup=float(speedup), cycles=100 * banks)
                    rows.append(row(f"p{len(rows)}", **params, **stats))
    return rows


# parse_plot


@pytest.mark.parametrize(
    "items",
    [
        ("x=banks y=ops.and.speedup hue=config col=pim.split_decoder",),
        ("x=banks", "y=ops.and.speedup", "hue=config", "col=pim.split_decoder"),
        ("x=banks,y=ops.and.speedup", " hue=config ,  col=pim.split_decoder "),
    ],
)
def test_parse_plot_accepts_one_string_repeated_and_comma_forms(items):
    assert parse_plot(items) == PlotRequest("banks", "ops.and.speedup", "config",
                                            "pim.split_decoder")  # fmt: skip


def test_parse_plot_leaves_hue_and_col_unset_when_not_given():
    assert parse_plot(("y=cycles x=banks",)) == PlotRequest("banks", "cycles", None, None)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (("x=banks y=cycles z=foo",), "--plot: 'z=foo': names are x, y, hue, col"),
        (("x=banks y=cycles x=config",), "'x=config': x is given twice"),
        (("x=banks",), "y=KEY is required"),
        (("y=cycles",), "x=KEY is required"),
        ((), "x=KEY is required"),
        (("x= y=cycles",), "'x=': the column KEY is empty"),
        (("x=banks y=cycles hue",), "'hue': items are NAME=KEY"),
    ],
)
def test_parse_plot_rejects_malformed_items(items, message):
    with pytest.raises(PlotError) as error:
        parse_plot(items)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert isinstance(error.value, PimsimError)


def test_parse_plot_error_cuts_a_long_key():
    with pytest.raises(PlotError) as error:
        parse_plot((f"w={'k' * 500}",))
    assert len(str(error.value)) < 120


# resolve

COLUMNS = ["point", "status", "param.banks", "param.timing.nFAW", "ops.and.speedup", "cycles"]


def test_resolve_finds_exact_columns_then_param_columns():
    assert resolve(COLUMNS, "cycles") == "cycles"
    assert resolve(COLUMNS, "param.banks") == "param.banks"
    assert resolve(COLUMNS, "banks") == "param.banks"
    assert resolve(COLUMNS, "timing.nFAW") == "param.timing.nFAW"


def test_resolve_prefers_an_exact_column_over_a_param_one():
    assert resolve(["param.cycles", "cycles"], "cycles") == "cycles"


def test_resolve_suggests_close_matches():
    with pytest.raises(PlotError) as error:
        resolve(COLUMNS, "bank")
    message = str(error.value)
    assert "'bank' is not a column" in message
    assert "close: banks" in message
    with pytest.raises(PlotError, match="ops.and.speedup"):
        resolve(COLUMNS, "ops.and.speedp")


def test_resolve_gives_a_hint_when_nothing_is_close():
    with pytest.raises(PlotError, match="not a column.*stats paths"):
        resolve(COLUMNS, "zzzzzzzz")


# plot_table


@pytest.fixture
def figures(monkeypatch):
    """The figures plot_table saves (still written by the real save_figure)."""
    saved = []
    real = pimsim.results.report.save_figure

    def keep(fig, path, fmt):
        saved.append(fig)
        real(fig, path, fmt)

    monkeypatch.setattr(pimsim.results.report, "save_figure", keep)
    return saved


def legend_of(ax) -> tuple[str, list[str]]:
    legend = ax.get_legend()
    return legend.get_title().get_text(), [t.get_text() for t in legend.get_texts()]


def test_numeric_x_with_hue_and_col_writes_a_png(tmp_path, figures):
    path = tmp_path / "speedup.png"
    request = parse_plot(("x=banks y=ops.and.speedup hue=config col=pim.split_decoder",))
    note = plot_table(grid(), request, str(path))
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert note == ""  # every (x, hue, col) is one point: nothing averaged
    (fig,) = figures
    left, right = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["pim.split_decoder = 0", "pim.split_decoder = 1"]
    assert fig.get_suptitle() == "ops.and.speedup"
    assert left.get_xlabel() == "banks" and left.get_ylabel() == "ops.and.speedup"
    assert left.get_xscale() == "log" and left.xaxis.get_transform().base == 2  # 1..64 banks
    assert left.get_yscale() == "linear"  # speedups 2..130: under 100x apart
    assert left.get_shared_y_axes().joined(left, right)
    assert legend_of(right) == ("config", ["ddr3", "ddr4"])
    ddr3, ddr4 = right.get_lines()
    assert list(ddr3.get_xdata()) == [1, 2, 4, 8, 16, 32, 64]
    assert list(ddr4.get_ydata()) == [2 * b + 1 + 1 for b in (1, 2, 4, 8, 16, 32, 64)]


def test_hue_values_sort_numerically_and_keep_one_color_in_every_panel(tmp_path, figures):
    rows = [
        row("a", param__banks=1, param__ranks=16, param__cfg="b", cycles=5),
        row("b", param__banks=2, param__ranks=16, param__cfg="b", cycles=6),
        row("c", param__banks=1, param__ranks=2, param__cfg="a", cycles=7),
        row("d", param__banks=1, param__ranks=16, param__cfg="a", cycles=8),
    ]
    plot_table(rows, parse_plot(("x=banks y=cycles hue=ranks col=cfg",)), str(tmp_path / "h.png"))
    (fig,) = figures
    first, second = fig.axes
    assert first.get_title() == "cfg = b" and second.get_title() == "cfg = a"  # first-seen
    assert legend_of(second) == ("ranks", ["2", "16"])
    (only,) = first.get_lines()  # ranks=16 alone in panel b
    two, sixteen = second.get_lines()
    assert only.get_color() == sixteen.get_color() != two.get_color()
    assert first.get_xscale() == "linear"  # banks 1..2: under 8x apart


def test_points_differing_in_another_param_are_averaged_and_named(tmp_path, figures):
    path = tmp_path / "avg.png"
    note = plot_table(grid(seeds=(1, 2, 3)), parse_plot(("x=banks y=ops.and.speedup hue=config",)),
                      str(path))  # fmt: skip
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert "param.seed" in note and "param.pim.split_decoder" in note
    assert "param.banks" not in note and "param.config" not in note  # x and hue do not vary
    assert "up to 6 points" in note  # 3 seeds x 2 split_decoder values per plotted point
    assert "\n" not in note
    ddr3 = figures[0].axes[0].get_lines()[0]
    assert ddr3.get_ydata()[0] == pytest.approx(1 + 0.5 + 2)  # banks 1: mean over split, seed


def test_only_finished_points_with_numeric_y_are_plotted(tmp_path, figures):
    rows = [
        row("a", param__banks=1, ops__and__speedup=2.0),
        row("b", status="failed", param__banks=1, ops__and__speedup=None),
        row("c", param__banks=2, ops__and__speedup="n/a"),  # text: not drawn
        row("d", status="failed", param__banks=2, param__seed=7, ops__and__speedup=9.0),
    ]
    # the failed 'd' row differs in param.seed but is left out, so nothing is averaged
    path = tmp_path / "a.png"
    assert plot_table(rows, parse_plot(("x=banks y=ops.and.speedup",)), str(path)) == ""
    assert path.read_bytes().startswith(PNG_MAGIC)
    (line,) = figures[0].axes[0].get_lines()
    assert list(line.get_xdata()) == [1] and list(line.get_ydata()) == [2.0]


def test_no_numeric_y_is_an_error(tmp_path):
    rows = [
        row("a", param__banks=1, ops__and__speedup="fast"),
        row("b", status="failed", param__banks=2, ops__and__speedup=None),
        row("c", status="failed", param__banks=4, ops__and__speedup=3.0),
    ]
    path = tmp_path / "none.png"
    with pytest.raises(PlotError) as error:
        plot_table(rows, parse_plot(("x=banks y=ops.and.speedup",)), str(path))
    assert str(error.value) == "--plot: no finished point has a number in column ops.and.speedup"
    assert not path.exists()


def test_an_unknown_key_is_an_error_naming_close_columns(tmp_path):
    with pytest.raises(PlotError, match="'bank' is not a column.*banks"):
        plot_table(grid(), parse_plot(("x=bank y=cycles",)), str(tmp_path / "p.png"))


def test_categorical_x_and_wide_log_y_are_drawn(tmp_path, figures):
    rows = [
        row(f"p{i}", param__size=size, param__op=op, ops__x__time_ns=t)
        for i, (size, op, t) in enumerate(
            [("8MiB", "and", 10.0), ("1KiB", "and", 0.5), ("64MiB", "and", 900.0),
             ("8MiB", "or", 11.0), ("1KiB", "or", 0.6)]
        )
    ]  # fmt: skip
    path = tmp_path / "sizes.png"
    assert plot_table(rows, parse_plot(("x=size y=ops.x.time_ns hue=op",)), str(path)) == ""
    assert path.read_bytes().startswith(PNG_MAGIC)
    (ax,) = figures[0].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8MiB", "1KiB", "64MiB"]
    assert ax.get_yscale() == "log"  # 0.5 .. 900 ns: over 100x apart, all positive
    and_line, or_line = ax.get_lines()
    assert list(and_line.get_xdata()) == [0, 1, 2] and list(or_line.get_xdata()) == [0, 1]
    assert list(and_line.get_ydata()) == [10.0, 0.5, 900.0]


def test_non_positive_y_with_a_wide_range_stays_linear(tmp_path, figures):
    rows = [row(f"p{b}", param__banks=b, delta=float(d))
            for b, d in ((1, -5), (2, 0), (4, 1000))]  # fmt: skip
    path = tmp_path / "d.png"
    assert plot_table(rows, parse_plot(("x=banks y=delta",)), str(path)) == ""
    assert path.read_bytes().startswith(PNG_MAGIC)
    (ax,) = figures[0].axes
    assert ax.get_yscale() == "linear" and ax.get_legend() is None


def test_an_svg_path_writes_svg(tmp_path):
    path = tmp_path / "speedup.svg"
    plot_table(grid(), parse_plot(("x=banks y=cycles col=config",)), str(path))
    text = path.read_text()
    assert "<svg" in text and not text.startswith("\x89PNG")


def test_an_unknown_image_extension_is_a_plot_error(tmp_path):
    with pytest.raises(PlotError, match="extension"):
        plot_table(grid(), parse_plot(("x=banks y=cycles",)), str(tmp_path / "p.notanimage"))
