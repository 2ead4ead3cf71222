"""`pimsim compile`: the program file, the JSON, one-line errors and exit codes, and no
file when verification fails."""

from __future__ import annotations

import json

from click.testing import CliRunner
from compile_helpers import LAYOUT

import pimsim.compile.compiler as compiler
from pimsim.cli.main import cli
from pimsim.programs.parse import load


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_expression_to_file_with_json(tmp_path):
    out = tmp_path / "fa.pim"
    result = invoke("compile", "s = a ^ b ^ c; co = maj(a, b, c)", "--name", "fa", "-o", str(out),
                    "--json", "-")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    program = load(str(out))
    assert program.name == "fa" and program.inputs == ("a", "b", "c")
    assert program.outputs == ("s", "co")
    assert doc["AAP"] + doc["AP"] == doc["commands"] == len(program.steps)
    assert doc["verification"]["passed"] and doc["verification"]["vectors"] == 8
    assert doc["program"] == str(out) and doc["config"] == "ddr4-2400"
    assert program.checks == {"s": "((a^b)^c)", "co": "((a&b)|(a&c)|(b&c))"}
    assert result.stderr.startswith("fa: ")


def test_program_to_stdout_summary_to_stderr():
    result = invoke("compile", "~(a & b)")
    assert result.exit_code == 0, result.output
    assert "op expr\nin a b\nout out\n" in result.stdout
    assert "verified exhaustively on 4 vectors" in result.stderr


def test_json_file_is_written_when_the_program_goes_to_stdout(tmp_path):
    doc = tmp_path / "c.json"  # --json PATH without -o was silently not written
    result = invoke("compile", "y = a | b", "--json", str(doc))
    assert result.exit_code == 0 and result.stdout.startswith("# compiled by pimsim compile")
    assert json.loads(doc.read_text())["commands"] == 4


def test_netlist_file_name_becomes_the_op(tmp_path):
    path = tmp_path / "dec-2to4.bench"
    path.write_text(
        "INPUT(s0)\nINPUT(s1)\nOUTPUT(y0)\nOUTPUT(y3)\ny0 = NOR(s0, s1)\ny3 = AND(s0, s1)\n"
    )
    out = tmp_path / "dec.pim"
    result = invoke("compile", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert load(str(out)).name == "dec_2to4"


def test_bad_expression_is_one_line_exit_2(tmp_path):
    out = tmp_path / "x.pim"
    result = invoke("compile", "a &", "-o", str(out))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: expression:1: column 4: expected a name, 0, 1, '~', '(' or maj(...), "
        "found the end of the statement"
    )
    assert not out.exists()


def test_output_paths_checked_first(tmp_path):
    src = tmp_path / "c.bench"
    src.write_text("INPUT(a)\nOUTPUT(y)\ny = NOT(a)\n")
    same = invoke("compile", str(src), "-o", str(src))
    assert same.exit_code == 2 and "would overwrite the input" in same.output
    missing_dir = invoke("compile", "a", "-o", str(tmp_path / "no" / "x.pim"))
    assert missing_dir.exit_code == 2 and "Error:" in missing_dir.output
    stdout_twice = invoke("compile", "a", "--json", "-")
    assert stdout_twice.exit_code == 2 and "give the program a file with -o" in stdout_twice.output
    bad_name = invoke("compile", "a", "--name", "1x")
    assert bad_name.exit_code == 2 and "--name" in bad_name.output


def _sabotage(monkeypatch, change):
    """Make the compiler emit ``change(commands)`` instead of its schedule."""
    real = compiler.schedule

    def wrong(*args, **kwargs):
        mig, roots, state, scratch = real(*args, **kwargs)
        steps = None
        for step in change(state.commands()):
            steps = (steps, step)
        state.steps = steps
        return mig, roots, state, scratch

    monkeypatch.setattr(compiler, "schedule", wrong)


def test_wrong_program_exits_1_and_writes_nothing(tmp_path, monkeypatch):
    # AND with C1 in the third row computes OR: the host run finds it
    _sabotage(monkeypatch, lambda cmds: [("C1" if s == "C0" else s, d) for s, d in cmds])
    out, doc = tmp_path / "x.pim", tmp_path / "x.json"
    result = invoke("compile", "y = a & b", "-o", str(out), "--json", str(doc))
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: expression: the compiled program does not compute y (4 vectors): not written\n"
    )
    assert not out.exists() and not doc.exists()


def test_program_the_checker_refuses_exits_1(tmp_path, monkeypatch):
    # the output is never written
    _sabotage(monkeypatch, lambda cmds: [*cmds[:-1], ("T0,T1,T2", None)])
    out = tmp_path / "x.pim"
    result = invoke("compile", "y = a & b", "-o", str(out))
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: expression: the compiled program fails: expr.pim:0: out: output y is never "
        "written\n"
    )
    assert not out.exists()


def test_too_many_operands_for_a_subarray_is_bad_input():
    names = " ^ ".join(f"x{i}" for i in range(1100))
    result = invoke("compile", f"p = {names}")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: expression:0: operands: 1100 inputs and 1 outputs; a subarray has "
        f"{LAYOUT.data_rows - 1} data rows for them\n"
    )


def test_expression_file_and_unreadable_sources(tmp_path):
    expr = tmp_path / "maj.txt"
    expr.write_text("# a comment\ny = maj(a, b, c)\n")
    result = invoke("compile", str(expr))
    assert result.exit_code == 0, result.output
    assert "op maj\nin a b c\nout y\n" in result.stdout
    folder = invoke("compile", str(tmp_path))
    assert folder.exit_code == 2 and folder.output == f"Error: {tmp_path}:0: file: Is a directory\n"
    missing = invoke("compile", str(tmp_path / "none.blif"))
    assert missing.exit_code == 2
    assert missing.output == f"Error: {tmp_path / 'none.blif'}:0: file: No such file or directory\n"
