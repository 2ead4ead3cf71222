"""A review of issue 10's fixes by cases nobody had tried: each test is a bug found by hand
or by a small script (a traceback, a wrong exit code, a silent wrong answer), fixed as a
class."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli

PIM_TRACE = str(Path(__file__).resolve().parent.parent / "traces" / "sample-pim.trace")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def one_error_line(result, exit_code: int, *words: str) -> str:
    """Assert a one-line ``Error:`` with ``exit_code`` holding ``words``; the line."""
    assert result.exit_code == exit_code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def trace(tmp_path: Path, text: str, name: str = "t.trace") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- in-place bulk operations on the CPU path ---------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "0 COPY 0x0 0x0 8192",  # onto itself
        "0 BBOP not 0x0 0x0 262144",  # in place
        "0 BBOP and 0x40000 0x40000 0x0 262144",  # the destination is the first source
    ],
)
def test_in_place_bulk_ops_give_the_same_bytes_on_both_paths(tmp_path, line):
    """The host's writes of a CPU-path operation used to store their address pattern before
    the result was computed from the sources they had overwritten: compare --trace said NO."""
    path = trace(tmp_path, f"0 W 0x0\n1 W 0x40040\n{line}\n")
    result = invoke("compare", "--trace", path, "--json", "-")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["all_correct"] is True


# -- configurations that `configs show` passes must run -----------------------------------------


@pytest.mark.parametrize("rows", ["1", "2"])
def test_a_subarray_too_small_for_the_built_ins_is_a_config_error(rows):
    """pim.rows_per_subarray=1 or 2 passed `configs show`, then a BBOP line failed in
    and.pim, a file the user never wrote."""
    override = f"pim.rows_per_subarray={rows}"
    one_error_line(invoke("configs", "show", "-p", override), 2, "pim.rows_per_subarray", "4..")
    result = invoke("run", PIM_TRACE, "-p", override)
    one_error_line(result, 2, "-p: pim.rows_per_subarray: must be in 4..")


def test_the_smallest_subarray_runs_every_built_in():
    result = invoke("compare", "--trace", PIM_TRACE, "-p", "pim.rows_per_subarray=4")
    assert result.exit_code == 0, result.output


# -- program names ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".pim"])
def test_a_program_name_too_long_for_the_file_system(suffix):
    """Path.exists() raised OSError (File name too long): a traceback; the path is also
    shortened in the error line."""
    name = "x" * 3000 + suffix
    line = one_error_line(invoke("program", name), 2)
    assert len(line) < 300 and ("File name too long" in line or "nor a file" in line), line


def test_an_empty_program_name_is_no_file():
    """'' was taken as the current directory."""
    one_error_line(invoke("program", ""), 2, "program: neither a built-in", "nor a file")


# -- numbers in configuration text ------------------------------------------------------------


@pytest.mark.parametrize("value", ["016", "1:0", "0b10100", "1_6", "0x1_4"])
def test_yaml_1_1_number_forms_are_not_silently_converted(tmp_path, value):
    """`-p timing.nRCD=016` was octal 14 and `1:0` sexagesimal 60, silently; in a file too."""
    result = invoke("configs", "show", "-p", f"timing.nRCD={value}")
    one_error_line(result, 2, "-p: timing.nRCD: integer expected", value)
    path = tmp_path / "c.yaml"
    path.write_text(f"preset: ddr4-2400\ntiming:\n  nRCD: {value}\n")
    result = invoke("run", PIM_TRACE, "--config", str(path))
    one_error_line(result, 2, "c.yaml:3: timing.nRCD: integer expected", value)


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("timing.nRCD", "0x14", "nRCD: 20"),
        ("timing.nRCD", "+16", "nRCD: 16"),
        ("timing.tCK", ".833", "tCK: 0.833"),
        ("timing.tCK", "8.33e-1", "tCK: 0.833"),
    ],
)
def test_plain_numbers_still_read(key, value, shown):
    result = invoke("configs", "show", "-p", f"{key}={value}")
    assert result.exit_code == 0 and shown in result.output, result.output


# -- outputs that name an input or each other ---------------------------------------------------


def test_json_onto_the_trace_is_refused_and_the_trace_kept(tmp_path):
    """`pimsim run t.trace --json t.trace` replaced the trace with the stats."""
    path = trace(tmp_path, "0 R 0x0\n1 W 0x40\n")
    for same in (path, str(Path(path).parent / "." / "t.trace")):
        result = invoke("run", path, "--json", same)
        one_error_line(result, 2, "--json and TRACE name the same file", "overwrite the input")
    assert Path(path).read_text() == "0 R 0x0\n1 W 0x40\n"


@pytest.mark.parametrize(
    "args",
    [
        ("run", PIM_TRACE, "--json", "{out}", "--drampower", "{out}"),
        ("compare", "--ops", "not", "--size", "8KiB", "--json", "{out}", "--csv", "{out}"),
        ("compare", "--trace", PIM_TRACE, "--json", "{cfg}", "--config", "{cfg}"),
        ("program", "{pim}", "--json", "{pim}"),
    ],
)
def test_outputs_naming_the_same_file_are_refused(tmp_path, args):
    """Two outputs on one path: one silently replaced the other, exit 0; an output onto the
    --config file or the .pim program overwrote it."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: ddr4-2400\n")
    pim = tmp_path / "p.pim"
    pim.write_text("op p\nin A\nout D\nAAP A -> D\n")
    out = tmp_path / "o.out"
    names = {"out": str(out), "cfg": str(cfg), "pim": str(pim)}
    full = [a.format(**names) for a in args]
    one_error_line(invoke(*full), 2, "name the same file")
    assert not out.exists() and cfg.read_text() == "preset: ddr4-2400\n" and pim.stat().st_size


# -- Ctrl-C before a command runs ----------------------------------------------------------------


def test_ctrl_c_while_the_command_line_loads_exits_130(monkeypatch, capsys):
    """Ctrl-C in the first ~0.3 s (importing numpy, SimPy, the core) printed a traceback
    and the shell's -2."""
    import builtins

    import pimsim.cli

    real_import = builtins.__import__

    def interrupted_import(name, *args, **kwargs):
        if name == "pimsim.cli.main":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    with pytest.raises(SystemExit) as exit_:
        pimsim.cli.entry_point()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "Interrupted.\n"


def test_ctrl_c_while_the_arguments_are_read_exits_130(monkeypatch):
    """Outside a command, click turned Ctrl-C into "Aborted!" and exit 1."""
    import click

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "parse_args", interrupted)
    result = invoke("run", PIM_TRACE)
    assert result.exit_code == 130 and "Interrupted." in result.output, result.output
    assert "Aborted" not in result.output


# -- format detection over long runs of blank and comment lines ---------------------------------


def test_blank_and_comment_lines_are_skipped_quickly(tmp_path):
    """300 MB of newlines (a 290 KB .gz) took 38 s to be reported as having no requests:
    detection looked at every blank line in Python (~130 ns each)."""
    import gzip
    import time

    path = tmp_path / "blank.trace.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        for _ in range(50):
            fh.write(b"\n" * 1_000_000 + b"# a comment\n" * 100_000)
    start = time.monotonic()
    result = invoke("run", str(path))
    one_error_line(result, 2, "blank.trace.gz: file: the trace has no requests")
    assert time.monotonic() - start < 5  # 55 M lines; line by line took ~7 s

    path.write_bytes(gzip.compress(b"\n# c\n  \t# c\n 5 R 0x40 # c\n6 W 0x80\n"))
    result = invoke("run", str(path), "--json", "-")
    assert result.exit_code == 0 and json.loads(result.stdout)["requests"]["reads"] == 1


def test_a_bulk_line_too_big_to_simulate_names_its_line(tmp_path):
    """The host-memory bound of a bulk operation said neither file nor line."""
    path = trace(tmp_path, "0 R 0x0\n# 4 GiB at once\n5 BBOP not 0x100000000 0x0 0x100000000\n")
    for command in (("run", path), ("compare", "--trace", path)):
        one_error_line(invoke(*command), 2, "t.trace:3: size: not over", "use fewer bytes")


def test_a_huge_bulk_line_is_refused_before_its_rows_are_mapped(tmp_path):
    """An 8 GiB line used to spend seconds mapping a million rows before the refusal."""
    path = trace(tmp_path, "0 BBOP not 0x0 0x200000000 0x200000000\n")
    started = time.monotonic()
    one_error_line(invoke("run", path, "--no-data"), 2, "t.trace:1: size: not over 1,048,576")
    assert time.monotonic() - started < 2


# -- a wrong result is an error line ------------------------------------------------------------


def test_a_wrong_result_exits_1_with_one_error_line(monkeypatch):
    """compare and program exited 1 on a wrong result with no Error line at all."""
    import numpy as np

    import pimsim.ambit.bulk
    import pimsim.compare

    monkeypatch.setattr(pimsim.compare, "_same_results", lambda a, b: False)
    result = invoke("compare", "--trace", PIM_TRACE)
    one_error_line(result, 1, "sample-pim.trace: the in-DRAM result differs")

    wrong = lambda self, program, values, words: np.ones(words, dtype=np.uint64)  # noqa: E731
    monkeypatch.setattr(pimsim.ambit.bulk.BulkEngine, "host_result", wrong)
    one_error_line(invoke("program", "not", "--size", "8KiB"), 1, "not: the in-DRAM result")
    monkeypatch.setattr(
        pimsim.compare, "bulk_result", lambda op, values, words: wrong(0, 0, 0, words)
    )
    result = invoke("compare", "--ops", "not,xor", "--size", "8KiB")
    one_error_line(result, 1, "not, xor: the in-DRAM result differs")


# -- a decoder that breaks a built-in -----------------------------------------------------------


@pytest.mark.parametrize(
    ("decoder", "words"),
    [
        ("pim.decoder.B12=T0 T1 T3", "and.pim:8: source: T3 is read before"),
        ("pim.decoder.B4=~DCC0", "computes something other than not"),
    ],
)
def test_a_decoder_that_breaks_a_built_in_is_a_config_error(decoder, words):
    """A decoder entry the built-ins rely on, changed: a BBOP line failed in and.pim (a file
    the user never wrote), or `run` gave wrong bytes silently (compare said NO). A user's own
    program may still use such a decoder."""
    for command in (("run", PIM_TRACE), ("compare", "--ops", "and,not", "--size", "8KiB")):
        result = invoke(*command, "-p", decoder)
        one_error_line(result, 2, "pim.decoder: the built-in", "does not work", words)
    mine = str(Path(PIM_TRACE).parent.parent / "pimsim" / "programs" / "lib" / "copy.pim")
    assert invoke("program", mine, "--size", "8KiB", "-p", decoder).exit_code == 0


def test_program_size_not_whole_rows_names_the_option():
    result = invoke("program", "not", "--size", "100")
    one_error_line(result, 2, "'--size'", "100 bytes is not a multiple of the 8,192-byte row")
