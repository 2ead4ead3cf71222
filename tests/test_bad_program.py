"""Malformed and unusual ``.pim`` programs: one ``Error: file:line: field: message`` line and
exit 2, or a correct run; never a traceback. Built-in names never reach the file system."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import pimsim.programs
from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.execute import evaluate
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.parse import (
    MAX_BYTES,
    ProgramError,
    builtin,
    builtin_names,
    is_builtin,
    load,
    parse,
)

LIB = Path(pimsim.programs.__file__).parent / "lib"


def invoke(*args):
    return CliRunner().invoke(cli, ["program", *map(str, args)])


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def error_line(result):
    """The output is exactly one ``Error:`` line (no traceback, no usage text)."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return lines[0]


# -- item 11: a user program named like a built-in ------------------------------------------


def test_user_program_named_like_a_builtin_uses_its_own_reference(tmp_path):
    path = write(tmp_path, "a.pim", "op and\nin A\nout P\nAAP A -> P\n")
    result = invoke(path, "--size", "8KiB", "--json", "-")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["program"] == "and" and doc["reference"] == "host" and doc["correct"] is True
    assert not is_builtin(load(path))


def test_user_program_named_copy_is_not_taken_for_rowclone(tmp_path):
    """A 'copy' of two inputs on the CPU path computes the program, not a row copy."""
    path = write(
        tmp_path,
        "c.pim",
        "op copy\nin A B\nout P\nAAP A -> B0\nAAP B -> B1\nAAP C0 -> B2\nAAP B12 -> P\n",
    )
    program = load(path)
    engine = BulkEngine(Device(load_config("ddr3-1066")))
    a, b, out = (engine.alloc(engine.row_bytes) for _ in range(3))
    other = engine.alloc(engine.row_bytes * len(engine.banks))  # rows in other banks
    src = type(a)((other.rows[1],), engine.row_bytes)
    words = engine.row_bytes // 8
    rng = np.random.default_rng(1)
    va, vb = (rng.integers(0, 2**64, words, dtype=np.uint64) for _ in range(2))
    engine.write(src, va)
    engine.write(b, vb)
    report = engine.bbop(program, out, src, b)
    assert report.cpu_rows + report.staged_rows == 1
    assert np.array_equal(engine.read(out), va & vb)


def test_builtin_is_recognised_by_content_and_evaluates_like_numpy():
    layout = BulkEngine(Device(load_config("ddr3-1066"))).pim.layout
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 2**64, 16, dtype=np.uint64) for _ in range(2))
    for name, want in (("xor", a ^ b), ("nand", ~(a & b)), ("not", ~a), ("one", ~(a ^ a))):
        program = builtin(name)
        assert is_builtin(program)
        got = evaluate(program, layout, (a, b)[: len(program.inputs)], 16)
        assert np.array_equal(got, want), name


# -- built-in names never reach the file system ------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../../../tmp/x/evil", "lib/not", "not.pim", "NOT", " not", "", "x" * 300]
)
def test_builtin_refuses_anything_but_a_shipped_name(name):
    with pytest.raises(ProgramError, match="no built-in µprogram"):
        builtin(name)


def test_a_trace_cannot_load_a_program_by_path(tmp_path, monkeypatch):
    evil = tmp_path / "x" / "evil.pim"
    evil.parent.mkdir()
    evil.write_text("in A\nout P\nAAP A -> P\n")
    rel = os.path.relpath(evil.with_suffix(""), LIB)
    trace = write(tmp_path, "t.trace", f"0 BBOP {rel} 0x80000 0x0 8192\n")
    result = CliRunner().invoke(cli, ["run", str(trace)])
    assert result.exit_code in (1, 2)
    assert "t.trace:1: op:" in error_line(result) and "is not a bulk operation" in result.output


def test_builtin_names_are_the_shipped_files():
    assert set(builtin_names()) == {p.stem for p in LIB.glob("*.pim")}


# -- item 12: scratch rows and outputs -----------------------------------------------------------


def test_scratch_rows_work_and_stay_out_of_the_allocator(tmp_path):
    path = write(
        tmp_path,
        "s.pim",
        "in A\nout P\nscratch S T\nAAP A -> S\nAAP S -> B5\nAAP B4 -> T\nAAP T -> P\n",
    )
    result = invoke(path, "--config", "ddr3-1066", "--size", "64KiB", "--json", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["correct"] is True
    engine = BulkEngine(Device(load_config("ddr3-1066")))
    bank = engine.banks[0]
    assert bank == (0, 0, 0, 0)  # flat bank index 0
    kept = engine.placement.scratch_rows(np.array([0]), np.array([0]), 2).tolist()
    assert kept == [engine.pim.layout.data_rows - 2, engine.pim.layout.data_rows - 1]
    rows = engine.alloc(engine.row_bytes * len(engine.banks) * engine.subarrays).rows
    assert all(r[4] not in kept for r in rows if r[:4] == bank)


def test_every_output_must_be_written(tmp_path):
    path = write(tmp_path, "o.pim", "in A\nout P\nout Q\nAAP A -> P\n")
    result = invoke(path)
    assert result.exit_code == 2
    assert error_line(result) == f"Error: {path}:0: out: output Q is never written"


def test_scratch_read_before_written_is_refused(tmp_path):
    path = write(tmp_path, "r.pim", "in A\nout P\nscratch S\nAAP S -> P\n")
    result = invoke(path)
    assert result.exit_code == 2
    assert error_line(result) == f"Error: {path}:4: source: S is read before anything wrote it"


# -- item 13: arity ---------------------------------------------------------------------------


@pytest.mark.parametrize("inputs", [0, 1, 3, 4, 6])
def test_any_number_of_inputs_runs_and_matches(tmp_path, inputs):
    names = [f"I{k}" for k in range(inputs)]
    body = "".join(f"AAP {n} -> B0\nAAP B0 -> P\n" for n in names) or "AAP C1 -> P\n"
    path = write(tmp_path, "n.pim", f"in {' '.join(names)}\nout P\n{body}")
    result = invoke(path, "--config", "ddr3-1066", "--size", "32KiB", "--json", "-")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["correct"] is True and doc["in_dram_rows"] == 8


def test_too_many_operands_for_a_subarray_is_one_line(tmp_path):
    names = " ".join(f"R{k}" for k in range(1100))
    path = write(tmp_path, "w.pim", f"in {names}\nout P\nAAP R0 -> P\n")
    result = invoke(path)
    assert result.exit_code == 2
    assert "w.pim:1: operand: 1101 operand rows; a subarray has" in error_line(result)


def test_an_operand_named_like_a_reserved_row_is_refused(tmp_path):
    path = write(tmp_path, "c.pim", "in A\nout C1\nAAP A -> C1\n")
    result = invoke(path)
    assert result.exit_code == 2
    assert "c.pim:2: operand: C1 is a reserved row" in error_line(result)


# -- item 14: the file itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, where, words",
    [
        (b"in A\xff\nout P\n", ":1: text:", "not UTF-8 (byte 0xff at column 5)"),
        (b"in A\nout P\nAAP A\x00 -> P\n", ":3: text:", "NUL byte"),
        (
            b"in A\nout P\nfor i in 0..999\nfor j in 0..1000\nAAP A -> P\nend\nend\n",
            ":5: AAP:",
            "more than 1,000,000 commands after expansion",
        ),
        (b"in A\nout P\nfor i in 0..10**12\nend\n", ":3: for:", "iterations (at most"),
        (b"in A\nout P\nAAP " + b"A" * 100_000 + b" -> P\n", ":3: source:", "'AAAA"),
        (b"in A\nout P\n" + b"x" * 5000 + b" A\n", ":3: command:", "...' is not op"),
        (b"op a\nop b\nin A\nout P\nAAP A -> P\n", ":2: op:", "the name was given on line 1"),
        (b"", ":0: program:", "no AAP or AP command"),
        (b"in A\nout P\nAAP A -> P\nAAP P ->\n", ":4: AAP:", "expected 'AAP SRC -> DST'"),
    ],
)
def test_malformed_files_are_one_line(tmp_path, data, where, words):
    path = write(tmp_path, "bad.pim", data)
    result = invoke(path)
    assert result.exit_code == 2
    line = error_line(result)
    assert f"{path}{where}" in line and words in line
    assert len(line) < 300  # echoed tokens are cut short


def test_directory_missing_huge_and_endless_files(tmp_path):
    huge = write(tmp_path, "huge.pim", b"# x\n" * (MAX_BYTES // 4 + 1))
    cases = [
        (tmp_path, "is a directory"),
        (tmp_path / "gone.pim", "No such file or directory"),
        ("gone", "neither a built-in operation"),
        (huge, "larger than 1,048,576 bytes"),
        ("/dev/zero", "larger than 1,048,576 bytes"),
    ]
    for path, words in cases:
        result = invoke(path)
        assert result.exit_code == 2 and words in error_line(result), (path, result.output)


def test_crlf_bom_and_unicode_comments_are_fine(tmp_path):
    text = "\ufeff# não é nada\r\nin A\r\nout P\r\nAAP A -> B5\r\nAAP B4 -> P  # ¬A\r\n"
    path = write(tmp_path, "crlf.pim", text)
    result = invoke(path, "--size", "8KiB")
    assert result.exit_code == 0, result.output
    assert "matches the program run on the host" in result.output


def test_line_numbers_count_newlines_only():
    """A form feed or line separator inside a line does not shift the line numbers."""
    program = parse("in A\x0cB\nout P\u2028# x\nAAP A -> Q\nAP B\n", "p.pim")
    assert [step.line for step in program.steps] == [3, 4]


# -- fuzz -----------------------------------------------------------------------------------------

TOKENS = [
    "AAP", "AP", "->", "in", "out", "scratch", "op", "C0", "C1", "B0", "B4", "B5", "B8", "B12",
    "B14", "B15", "B16", "B99", "Di", "Dj", "Dk", "T0", "DCC0", "9" * 40, "-1", "0x10", "é",
    "Dé", "#", "x" * 3000, "\u2028", "\x0b", "~B4", "S", "scratch S", "out Q", "in Z",
]  # fmt: skip


def mutate(rng: random.Random, text: str) -> bytes:
    """A shipped program with a few random edits (lines swapped, dropped, doubled; words
    replaced; lines of random tokens), sometimes with bytes that are not UTF-8 or CRLF ends."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        kind = rng.randrange(5)
        if kind == 0:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 1 and len(lines) > 1:
            del lines[i]
        elif kind == 2:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 3 and lines[i].split():
            words = lines[i].split()
            words[rng.randrange(len(words))] = rng.choice(TOKENS)
            lines[i] = " ".join(words)
        else:
            lines.insert(i, " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 4))))
    data = "\n".join(lines).encode()
    roll = rng.random()
    if roll < 0.05:
        k = rng.randrange(len(data) + 1)
        data = data[:k] + bytes([rng.choice([0x00, 0xFF, 0xC3, 0x80])]) + data[k:]
    elif roll < 0.1:
        data = data.replace(b"\n", b"\r\n")
    return data


def fuzz_cases(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    sources = [p.read_text() for p in sorted(LIB.glob("*.pim"))]
    return [mutate(rng, rng.choice(sources)) for _ in range(count)]


def check_outcome(exit_code: int, output: str, label: str) -> None:
    """No traceback; exit 0 only with a result that matches its reference; else one line."""
    assert "Traceback" not in output, (label, output)
    assert exit_code in (0, 2), (label, exit_code, output)
    if exit_code == 0:
        assert "result matches" in output, (label, output)
    else:
        lines = output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (label, output)
        assert len(lines[0]) < 400, (label, lines[0][:500])


def test_fuzzed_programs(tmp_path):
    """200 seeded mutations of the shipped programs through ``pimsim program``."""
    outcomes = {0: 0, 2: 0}
    for k, data in enumerate(fuzz_cases(seed=10, count=200)):
        path = write(tmp_path, f"f{k}.pim", data)
        result = CliRunner().invoke(
            cli, ["program", str(path), "--config", "ddr3-1066", "--size", "8KiB"]
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise AssertionError((data, result.output)) from result.exception
        check_outcome(result.exit_code, result.output, repr(data[:200]))
        outcomes[result.exit_code] += 1
    assert outcomes[0] > 10 and outcomes[2] > 100  # both kinds were exercised


@pytest.mark.slow
@pytest.mark.parametrize("part", range(3))  # in three parts, spread over the cores by xdist
def test_fuzzed_programs_in_processes_with_a_memory_cap(tmp_path, part):
    """300 mutations, each in its own process under a 4 GB address-space cap and 60 s."""
    pimsim = Path(sys.executable).with_name("pimsim")
    for k, data in list(enumerate(fuzz_cases(seed=11, count=300)))[part::3]:
        path = write(tmp_path, f"f{k}.pim", data)
        proc = subprocess.run(
            f"ulimit -v 4000000; exec {pimsim} program {path} --size 8KiB",
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        check_outcome(proc.returncode, proc.stdout + proc.stderr, repr(data[:200]))


def test_a_name_longer_than_40_characters_is_refused_short(tmp_path):
    """Names are quoted whole in later errors, so a long one is refused where it is declared."""
    long = "a" * 5000
    path = tmp_path / "l.pim"
    path.write_text(f"op x\nin {long}\nin {long}\nout D\nAAP {long} -> D\n")
    result = CliRunner().invoke(cli, ["program", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}:2: in: 'aaaa")
    assert "is not a row name (an identifier, at most 40)" in result.output
    assert len(result.output) < 200


def test_a_program_of_several_output_rows_is_sent_to_exec(tmp_path):
    path = write(tmp_path, "m.pim", "in a b\nout s cout\nAAP a -> s\nAAP b -> cout\n")
    result = invoke(path, "--size", "8KiB")
    assert result.exit_code == 2
    assert error_line(result) == (
        f"Error: {path}:2: out: 2 output rows; pimsim program runs one-row programs over "
        "vectors: run this one with pimsim exec"
    )
