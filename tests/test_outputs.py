"""CLI options, output files and Ctrl-C: bad values are one line (exit 2) before any work,
files are written whole or not at all, and Ctrl-C keeps the work done (exit 130)."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from signals import restore_sigint

from pimsim.cli.main import cli
from pimsim.outputs import OutputError, atomic_open, atomic_write, check_output_path

PIMSIM = Path(sys.executable).with_name("pimsim")
TRACES = Path(__file__).parents[1] / "traces"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error(result, code):
    """Exit ``code`` and a single ``Error:`` line last on the output, no traceback."""
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "Traceback" not in result.output, result.output
    return last


# -- pimsim.outputs ------------------------------------------------------------------------------


def test_atomic_write_replaces_only_when_complete(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as fh:
        fh.write("half")
        raise RuntimeError("stopped")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["out.json"]
    atomic_write(path, lambda fh: fh.write("new"))
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["out.json"]


def test_devices_are_written_in_place():
    atomic_write("/dev/null", lambda fh: fh.write("x"))
    assert Path("/dev/null").is_char_device()
    with pytest.raises(OutputError, match="/dev/full: cannot write: No space left on device"):
        atomic_write("/dev/full", lambda fh: fh.write("x" * 10000))
    assert Path("/dev/full").is_char_device()


@pytest.mark.parametrize(
    "path, words",
    [
        ("", "an empty path names no file"),
        ("  ", "an empty path names no file"),
        ("/", "is a directory"),
        ("/no/such/dir/x.json", "no such directory '/no/such/dir'"),
        ("/tmp/" + "x" * 300, "(?i)file name too long"),
    ],
)
def test_check_output_path_refuses(path, words):
    with pytest.raises(OutputError, match=words):
        check_output_path(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_check_output_path_refuses_a_read_only_directory(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            check_output_path(tmp_path / "x.json")
    finally:
        tmp_path.chmod(0o700)


# -- output options of the commands (item 15, item 17) ------------------------------------------


def test_json_to_a_full_device_reports_after_the_summary():
    result = invoke("program", "not", "--size", "8KiB", "--json", "/dev/full")
    line = one_error(result, 1)
    assert line == "Error: /dev/full: cannot write: No space left on device"
    assert "not on 8,192 bytes" in result.output  # the work is reported first


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--json", "", "an empty path names no file"),
        ("--json", "{tmp}", "is a directory"),
        ("--json", "{tmp}/missing/x.json", "no such directory"),
        ("--csv", "", "an empty path names no file"),
        ("--csv", "{tmp}", "is a directory"),
        ("--plot", "", "an empty path names no file"),
        ("--plot", "{tmp}", "is a directory"),
        ("--plot", "x.xyz", "the extension must name an image format (avif, eps"),
        ("--plot", "{tmp}/plot", "the extension must name an image format"),
    ],
)
def test_bad_output_paths_are_refused_before_the_work(tmp_path, option, value, words):
    value = value.format(tmp=tmp_path)
    result = invoke("compare", "--ops", "not", "--size", "8KiB", option, value)
    line = one_error(result, 2)
    assert line.startswith(f"Error: Invalid value for '{option}'") and words in line
    assert len(result.output.strip().splitlines()) == 1  # nothing ran
    assert sorted(os.listdir(tmp_path)) == []


def test_program_and_run_check_their_outputs_first(tmp_path):
    for args in (
        ("program", "not", "--json", tmp_path),
        ("run", TRACES / "sample.trace", "--json", ""),
    ):
        result = invoke(*args)
        assert one_error(result, 2).startswith("Error: Invalid value for")
        assert len(result.output.strip().splitlines()) == 1
    # the command trace must also be a regular file (DRAMPower reads it whole)
    result = invoke("run", TRACES / "sample.trace", "--drampower", tmp_path)
    assert "'--drampower'" in one_error(result, 2) and "is a directory, not a file" in result.output


def test_compare_writes_every_file_whole(tmp_path):
    files = {"--json": "c.json", "--csv": "c.csv", "--plot": "c.svg"}
    args = [a for option, name in files.items() for a in (option, tmp_path / name)]
    result = invoke("compare", "--ops", "not,copy", "--size", "8KiB", *args)
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == ["c.csv", "c.json", "c.svg"]
    assert json.loads((tmp_path / "c.json").read_text())["summary"]["all_correct"] is True
    assert (tmp_path / "c.csv").read_text().count("\n") == 3
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")


# -- option values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["８KiB", "-8KiB", "0", "0KiB", "1" + "0" * 30, "8.5KiB", "8 QiB", "8KiBB", "", "٨KiB"]
)
def test_bad_sizes_are_one_line(value):
    for command in ("program", "compare"):
        args = [command, "not"] if command == "program" else [command, "--ops", "not"]
        result = invoke(*args, "--size", value)
        line = one_error(result, 2)
        assert line.startswith("Error: Invalid value for '--size'"), line


def test_sizes_that_do_not_fit_are_one_line():
    line = one_error(invoke("program", "xor", "--size", "1TiB"), 2)
    assert "GiB of host memory to simulate" in line
    line = one_error(invoke("program", "xor", "--size", "8000"), 2)
    assert "'--size'" in line and "8,000 bytes is not a multiple of the 8,192-byte row" in line
    line = one_error(invoke("compare", "--ops", "xor", "--size", "1TiB"), 2)
    assert "--size: xor needs 3 vectors" in line


@pytest.mark.parametrize(
    "args, words",
    [
        (("compare", "--ranks", "1048576"), "'--ranks': 1048576 is not in the range 1<=x<=16"),
        (("compare", "--ranks", "0"), "'--ranks': 0 is not in the range"),
        (("compare", "--banks", "10" * 20), "'--banks'"),
        (("compare", "--banks", "-1"), "'--banks': -1 is not in the range"),
        (("compare", "--banks", "17", "--size", "8KiB"), "--banks: ddr4-2400 has 1..16 banks"),
        (("compare", "--ops", "not,mul"), "--ops: unknown operation 'mul'"),
        (("compare", "--ops", "not,,and"), "--ops: an empty name"),
        (("compare", "--ops", ""), "--ops: an empty name"),
        (("compare", "--ops", "x" * 500), "..."),
        (("compare", "--ops", "../../lib/not"), "unknown operation"),
        (("program", "not", "--seed", "-1"), "'--seed': -1 is not in the range 0<=x<=4294967295"),
        (("program", "not", "--seed", str(2**32)), "'--seed'"),
        (("program", "not", "--seed", "１"), "'--seed'"),
    ],
)
def test_bad_option_values_are_one_line(args, words):
    line = one_error(invoke(*args), 2)
    assert words in line and len(line) < 300, line


def test_duplicate_ops_run_once():
    result = invoke("compare", "--ops", "not,not", "--size", "8KiB", "--json", "-")
    assert result.exit_code == 0 and list(json.loads(result.stdout)["ops"]) == ["not"]


@pytest.mark.parametrize(
    "args",
    [
        ("run", TRACES / "sample.trace", "-q"),
        ("program", "not", "--size", "8KiB", "-q"),
        ("compare", "--ops", "not", "--size", "8KiB", "-v"),
        ("configs", "-q"),
        ("configs", "show", "ddr3-1600", "-q"),
    ],
)
def test_verbosity_options_work_after_the_subcommand(args):
    assert invoke(*args).exit_code == 0


def test_verbose_after_the_subcommand_logs():
    result = invoke("program", "not", "--size", "8KiB", "-v")
    assert "pimsim: INFO: running not on 8192 bytes" in result.output


# -- Ctrl-C ----------------------------------------------------------------------------------------


def interrupt(args, wait_for, tmp_path, timeout=120):
    """Run pimsim with ``-v``, send SIGINT once stderr shows ``wait_for`` (None: after 2 s);
    (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [str(PIMSIM), "-v", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=restore_sigint,
        cwd=tmp_path,
    )
    err = []
    if wait_for is None:
        time.sleep(2.0)  # the command logs nothing: let it get going
    else:
        for line in proc.stderr:
            err.append(line)
            if wait_for in line:
                break
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=timeout)
    return proc.returncode, out, "".join(err) + rest


def test_ctrl_c_in_program_reports_and_exits_130(tmp_path):
    code, out, err = interrupt(
        ["program", "xor", "--size", "64MiB", "--json", "p.json"], "running xor", tmp_path
    )
    assert code == 130, (out, err)
    assert "Traceback" not in err and "Aborted" not in err
    assert "xor on 67,108,864 bytes (ddr4-2400): interrupted at" in out
    assert json.loads((tmp_path / "p.json").read_text())["interrupted"] is True


def big_trace(path: Path, lines: int) -> Path:
    rng = random.Random(1)
    with open(path, "w") as fh:
        fh.write("0 BBOP xor 0x0 0x100000 0x200000 65536\n")
        for i in range(lines):
            fh.write(f"{4 * i} {'RW'[i % 3 == 0]} {rng.randrange(1 << 24) * 64:#x}\n")
    return path


@pytest.mark.slow
def test_ctrl_c_in_compare_trace_keeps_the_replays_and_exits_130(tmp_path):
    trace = big_trace(tmp_path / "big.trace", 2_000_000)
    code, out, err = interrupt(
        ["compare", "--trace", trace, "--json", "c.json"], "on the CPU", tmp_path
    )
    assert code == 130, (out, err)
    assert "Traceback" not in err and "Aborted" not in err
    # the in-DRAM replay is kept whole; the CPU one, if Ctrl-C reached it once it ran
    assert "[interrupted]" in out and "pim replay: " in out
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["interrupted"] is True and doc["partial"]["pim"]["interrupted"] is False
    assert set(doc["partial"]) <= {"pim", "cpu"}


@pytest.mark.slow
def test_ctrl_c_in_compare_and_run_exits_130(tmp_path):
    code, out, err = interrupt(["compare", "--size", "16MiB"], "comparing and", tmp_path)
    assert code == 130 and "[interrupted]" in out and out.count("\n") >= 3, (out, err)
    trace = big_trace(tmp_path / "big.trace", 2_000_000)
    code, out, err = interrupt(["run", trace, "--json", "r.json"], None, tmp_path)
    assert code == 130 and "Traceback" not in err, (out, err)
    assert json.loads((tmp_path / "r.json").read_text())["interrupted"] is True


# -- fuzz of the options --------------------------------------------------------------------------

VALUES = {
    "--size": ["8KiB", "16KiB", "0", "-1", "8kib", "８KiB", "1e3", "8 KiB", "1TiB", "x", "", "64"],
    "--banks": ["1", "2", "16", "17", "0", "-3", "1e2", "99999999999999999999", "x"],
    "--ranks": ["1", "2", "16", "17", "0", "4294967296", "-1"],
    "--seed": ["0", "1", "4294967295", "4294967296", "-1", "0x10", "1.5"],
    "--ops": ["not", "and,or", "xor,xor", "copy", ",", "not,", "mul", "ALL", "all", "zero,one"],
    "--json": ["-", "", "/", "/dev/null", "/dev/full", "/nonexistent/x.json", "{tmp}/o.json"],
    "--csv": ["", "/", "{tmp}/o.csv", "/dev/null"],
    "--plot": ["", "/", "x.xyz", "{tmp}/noext", "{tmp}/p.gif"],
    "--energy-profile": ["datasheet", "ambit-micro17", "nope", ""],
    "--config": ["ddr3-1066", "ddr3-1600", "nope", "", "/"],
}
OPTIONS = {
    "program": ["--size", "--seed", "--json", "--config"],
    "compare": [
        "--size", "--banks", "--ranks", "--ops", "--json", "--csv", "--plot",
        "--energy-profile", "--config",
    ],
    "configs": [],
}  # fmt: skip


def random_args(rng: random.Random, tmp: Path) -> list[str]:
    command = rng.choice(list(OPTIONS))
    if command == "configs":
        return ["configs", *rng.choice([[], ["show"], ["show", "ddr3-1600", "--json"]])] + (
            rng.choice([[], ["-q"], ["-v"], ["--bogus"]])
        )
    args = [command] + (
        [rng.choice(["not", "xor", "copy", "one", "nope", ""])] * (command == "program")
    )
    args += ["--size", "8KiB"]  # keeps each case small unless replaced below
    for option in rng.sample(OPTIONS[command], rng.randint(1, 3)):
        args += [option, rng.choice(VALUES[option]).format(tmp=tmp)]
    return args


def test_fuzzed_options(tmp_path):
    """100 seeded random option sets: exit 0, 1 (a write that fails at the end) or 2 with one
    error line; never a traceback."""
    rng = random.Random(7)
    seen = set()
    for _ in range(100):
        args = random_args(rng, tmp_path)
        result = CliRunner().invoke(cli, args)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise AssertionError((args, result.output)) from result.exception
        assert result.exit_code in (0, 1, 2), (args, result.output)
        if result.exit_code:
            one_error(result, result.exit_code)
        if result.exit_code == 1:
            assert "/dev/full" in args, (args, result.output)
        seen.add(result.exit_code)
    assert seen >= {0, 2}
