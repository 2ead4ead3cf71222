"""Sweep specifications: grids expand to the right points, and every bad spec is one error
naming the file, line and key, before any work."""

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pimsim.errors import SweepSpecError
from pimsim.sweep.spec import MAX_POINTS, load_sweep

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "traces" / "sample.trace"


def spec(tmp_path, text: str) -> str:
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return str(path)


def failure(tmp_path, text: str) -> str:
    with pytest.raises(SweepSpecError) as caught:
        load_sweep(spec(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_mapping_grid_is_the_product_of_its_axes(tmp_path):
    sweep = load_sweep(
        spec(
            tmp_path,
            "command: compare\nfixed: {ops: and, size: 64KiB}\n"
            "grid:\n  banks: [1, 2, 4]\n  timing.nFAW: [20, 40]\n",
        )
    )
    assert sweep.command == ("compare",) and sweep.axes == ("banks", "timing.nFAW")
    got = [(p.params["banks"], p.params["timing.nFAW"]) for p in sweep.points]
    assert got == list(itertools.product([1, 2, 4], [20, 40]))
    first = sweep.points[0]
    assert first.argv == ("--ops", "and", "--size", "64KiB", "--banks", "1", "-p", "timing.nFAW=20")
    assert len({p.key for p in sweep.points}) == 6
    # nFAW changes the resolved configuration, banks does not
    assert len({p.config_hash for p in sweep.points}) == 2


def test_keys_of_one_list_entry_vary_together(tmp_path):
    sweep = load_sweep(
        spec(
            tmp_path,
            "command: compare\nfixed: {ops: xor, size: 8KiB}\ngrid:\n"
            "  - banks: [1, 8]\n"
            "  - config: [ddr3-1600, ddr4-2400]\n    timing.nRCD: [11, 17]\n",
        )
    )
    got = [(p.params["banks"], p.params["config"], p.params["timing.nRCD"]) for p in sweep.points]
    assert got == [
        (1, "ddr3-1600", 11),
        (1, "ddr4-2400", 17),
        (8, "ddr3-1600", 11),
        (8, "ddr4-2400", 17),
    ]


def test_flags_lists_nulls_and_workload_subcommands(tmp_path):
    sweep = load_sweep(
        spec(
            tmp_path,
            "command: workload sets\nfixed: {universe: 64K, elements: 1K}\n"
            "grid:\n  no-data: [true, false]\n  banks: [null, 2]\n",
        )
    )
    argvs = [p.argv for p in sweep.points]
    assert argvs[0] == ("--universe", "64K", "--elements", "1K", "--no-data")
    assert argvs[1] == ("--universe", "64K", "--elements", "1K", "--no-data", "--banks", "2")
    assert argvs[2] == ("--universe", "64K", "--elements", "1K")
    exec_sweep = load_sweep(
        spec(
            tmp_path,
            "command: exec\nfixed: {program: add, width: 8, check: ['s == (a + b) % 256']}\n"
            "grid: {seed: [1, 2]}\n",
        )
    )
    assert exec_sweep.points[0].argv[:5] == ("add", "--width", "8", "--check", "s == (a + b) % 256")


def test_existing_files_are_passed_as_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    sweep = load_sweep(spec(tmp_path, "command: run\ngrid: {trace: [traces/sample.trace]}\n"))
    assert sweep.points[0].argv == (str(SAMPLE),)
    assert sweep.points[0].params == {"trace": "traces/sample.trace"}


def test_string_config_values_are_passed_plain(tmp_path):
    sweep = load_sweep(
        spec(tmp_path, f"command: run\nfixed: {{trace: {SAMPLE}}}\n"
             "grid: {controller.scheduler: [fcfs, frfcfs], pim.split_decoder: [true]}\n")
    )  # fmt: skip
    assert "controller.scheduler=fcfs" in sweep.points[0].argv
    assert "pim.split_decoder=true" in sweep.points[0].argv


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("command: compare\ngrid: {banks: [1]}\nextra: 1\n", "grid.yaml:3: extra", "unknown key"),
        ("grid: {banks: [1]}\n", "command", "name the command"),
        ("command: compile\ngrid: {banks: [1]}\n", "command", "not one of"),
        ("command: workload\ngrid: {banks: [1]}\n", "command", "say which workload"),
        ("command: workload gem\ngrid: {banks: [1]}\n", "command", "'gem' is not a workload"),
        ("command: run extra\ngrid: {banks: [1]}\n", "command", "takes no subcommand"),
        ("command: compare\n", "grid", "a mapping of key"),
        ("command: compare\ngrid:\n  banks: 4\n", "grid.yaml:3: grid.banks", "non-empty list"),
        ("command: compare\ngrid:\n  banks: []\n", "grid.banks", "non-empty list"),
        ("command: compare\ngrid:\n  banks: [1, 2, 1]\n", "grid.banks", "appears twice"),
        ("command: compare\ngrid:\n  bankz: [1]\n", "grid.yaml:3: grid.bankz", "not an option"),
        ("command: compare\ngrid:\n  json: [a.json]\n", "grid.json", "not taken by a sweep"),
        ("command: compare\ngrid:\n  verbose: [1]\n", "grid.verbose", "not taken by a sweep"),
        ("command: compare\ngrid:\n  param: [x=1]\n", "grid.param", "configuration keys"),
        ("command: compare\nfixed: {banks: 2}\ngrid:\n  banks: [1]\n", "grid.banks", "fixed"),
        ("command: compare\ngrid:\n  - banks: [1, 2]\n    ranks: [1]\n", "grid[0]", "one length"),
        ("command: compare\ngrid:\n  - [1, 2]\n", "grid[0]", "an entry is a mapping"),
        ("command: compare\nfixed: [1]\ngrid: {banks: [1]}\n", "fixed", "a mapping"),
        ("command: compare\ngrid:\n  banks: [0]\n", "grid.banks", "point 1: banks=0"),
        ("command: compare\ngrid:\n  no-data: [yes please]\n", "grid.no-data", "true or false"),
        ("command: compare\ngrid:\n  banks: [[1, 2]]\n", "grid.banks", "not a list"),
        ("command: compare\ngrid:\n  ops: [{a: 1}]\n", "grid.ops", "not a value"),
        ("command: compare\ngrid:\n  ops: [and, nope]\n", "grid.ops", "point 2"),
        ("command: compare\ngrid:\n  timing.nFAW: [-1]\n", "grid.timing.nFAW", "non-negative"),
        ("command: compare\ngrid:\n  timing.nBOGUS: [1]\n", "grid.timing.nBOGUS", "nBOGUS"),
        ("command: compare\ngrid:\n  config: [ddr9]\n", "grid.config", "ddr9"),
        ("command: run\ngrid:\n  trace: [/no/such/file]\n", "grid.trace", "no such file"),
        ("command: compare\ngrid: {banks: [1]\n", "grid.yaml:", "YAML syntax"),
        ("- 1\n", "command", "a sweep is a mapping"),
    ],
)
def test_bad_specs_are_one_line_naming_file_line_and_key(tmp_path, text, where, says):
    message = failure(tmp_path, text)
    assert where in message and says in message, message


def test_too_many_points_are_refused_before_expansion(tmp_path):
    side = int(MAX_POINTS**0.5) + 1
    axis = list(range(1, side + 1))
    message = failure(tmp_path, f"command: compare\ngrid:\n  banks: {axis}\n  ranks: {axis}\n")
    assert f"at most {MAX_POINTS:,}" in message


def test_unreadable_and_oversized_files(tmp_path):
    with pytest.raises(SweepSpecError, match="file"):
        load_sweep(str(tmp_path / "missing.yaml"))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (2 << 20))
    with pytest.raises(SweepSpecError, match="larger than"):
        load_sweep(str(big))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SweepSpecError, match="UTF-8"):
        load_sweep(str(binary))
    with pytest.raises(SweepSpecError):
        load_sweep(str(tmp_path))  # a directory


def test_point_keys_are_stable_and_name_the_configuration(tmp_path):
    text = "command: compare\nfixed: {ops: and}\ngrid: {banks: [1, 2]}\n"
    first = [p.key for p in load_sweep(spec(tmp_path, text)).points]
    again = [p.key for p in load_sweep(spec(tmp_path, "# a comment\n" + text)).points]
    assert first == again
    other = load_sweep(spec(tmp_path, text.replace("fixed: {", "fixed: {config: ddr3-1600, ")))
    assert not set(first) & {p.key for p in other.points}


def test_the_example_specs_load(monkeypatch):
    monkeypatch.chdir(ROOT)
    counts = {
        path.name: len(load_sweep(str(path)).points)
        for path in sorted((ROOT / "examples" / "sweeps").glob("*.yaml"))
    }
    assert counts == {
        "add-width-zip.yaml": 6,
        "ambit-banks-faw-split.yaml": 32,
        "replay-queue-scheduler.yaml": 20,
    }


COMMANDS = ["run", "compare", "program", "exec", "workload sets", "workload", "x", "", "[a]", "7"]
KEYS = ["banks", "ops", "size", "no-data", "config", "trace", "timing.nFAW", "pim.split_decoder",
        "controller.scheduler", "width", "bind", "check", "program", "seed", "1", "null", "json",
        "p", "a.b.c", "ranks", "limit", "energy-profile", "users", "--banks", "x y"]  # fmt: skip
VALUES = ["1", "0", "-1", "8", "1.5", "1e400", ".nan", "true", "null", "and", "add32", "64KiB",
          "2024-01-01", "[1, 2]", "{a: 1}", "traces/sample.trace", "/dev/zero", "ddr3-1600",
          "'a=b'", "99999999999999999999999", "!!binary aGVsbG8=", "~", "''",
          "!!set {a}"]  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_specs_load_or_fail_with_one_line(tmp_path, monkeypatch, data):
    monkeypatch.chdir(ROOT)
    pick = data.draw
    axis = st.lists(st.sampled_from(VALUES), max_size=3).map(lambda v: f"[{', '.join(v)}]")
    lines = [f"command: {pick(st.sampled_from(COMMANDS))}"]
    fixed = pick(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=3))
    if fixed:
        lines += ["fixed:", *(f"  {k}: {v}" for k, v in fixed)]
    entries = pick(st.lists(st.lists(st.tuples(st.sampled_from(KEYS), axis), min_size=1,
                                     max_size=2), max_size=3))  # fmt: skip
    if pick(st.booleans()):
        lines += ["grid:", *(f"  {k}: {v}" for entry in entries for k, v in entry[:1])]
    else:
        lines.append("grid:")
        for entry in entries:
            lines += [f"  - {entry[0][0]}: {entry[0][1]}", *(f"    {k}: {v}" for k, v in entry[1:])]
    try:
        load_sweep(spec(tmp_path, "\n".join(lines) + "\n"))
    except SweepSpecError as error:
        assert "\n" not in str(error) and len(str(error)) < 1000
