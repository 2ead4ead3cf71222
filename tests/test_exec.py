"""`pimsim exec`: run a program over multi-bit operands, check it, report its cost."""

import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pimsim.ambit.operands import OperandRows
from pimsim.cli.main import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def run_json(*args):
    result = invoke("exec", *args, "--json", "-")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


XOR = ("xor", "--config", "ddr3-1600")


def test_a_checked_run_reports_cost_time_and_energy():
    doc, text = run_json(*XOR, "--check", "Di ^ Dj", "--banks", "8")
    assert doc["correct"] is True and doc["check_source"] == "--check"
    assert doc["elements"] == 8 * 65536 and doc["row_groups"] == 8 and doc["banks"] == 8
    assert (doc["aap_per_op"], doc["ap_per_op"]) == (5, 2)
    assert doc["commands"]["AAP"] == 5 * 8 and doc["commands"]["AP"] == 2 * 8
    assert doc["elements_per_second"] == pytest.approx(doc["elements"] / doc["time_ns"] * 1e9)
    assert doc["energy_nj"]["total"] > doc["energy_nj"]["above_idle"] > 0
    assert doc["energy_nj_per_element"] == pytest.approx(
        doc["energy_nj"]["above_idle"] / doc["elements"], rel=1e-3
    )
    assert "result: correct (Dk = Di ^ Dj, from --check)" in text


def test_one_group_on_one_bank_takes_aap_taap_plus_ap_tap():
    doc, _ = run_json(*XOR, "--banks", "1", "--elements", "1000", "--check", "Di ^ Dj")
    assert doc["row_groups"] == 1 and doc["time_ns"] == 5 * 49 + 2 * 45


def test_a_mismatch_exits_1_naming_the_first_differing_element():
    result = invoke("exec", *XOR, "--check", "Dk=Di | Dj", "--bind", "Di=1", "--bind", "Dj=ones")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last == "Error: xor: output Dk differs at element 0 (Di=1, Dj=1): expected 1, got 0"


def test_the_mismatch_is_in_the_json(tmp_path):
    path = tmp_path / "out.json"
    args = ("--bind", "Dj=zeros", "--check", "0", "--seed", "3", "--elements", "64")
    result = invoke("exec", *XOR, *args, "--json", str(path))
    doc = json.loads(path.read_text())
    assert result.exit_code == 1 and doc["correct"] is False
    # input k's random values are the stream (seed, k): Di is input 0
    di = np.random.default_rng((3, 0)).integers(0, 1, 64, dtype=np.uint64, endpoint=True)
    first = int(np.argmax(di == 1))
    want = {"output": "Dk", "index": first, "inputs": {"Di": 1, "Dj": 0}, "expected": 0, "got": 1}
    assert doc["mismatch"] == want


def test_without_a_check_the_result_is_unchecked():
    doc, text = run_json("and", "--config", "ddr3-1600", "--elements", "100")
    assert doc["correct"] is None and doc["check_source"] is None
    assert "unchecked" in text


def test_no_data_keeps_the_timing():
    with_data, _ = run_json(*XOR, "--check", "Di ^ Dj")
    without, text = run_json(*XOR, "--check", "Di ^ Dj", "--no-data")
    assert without["correct"] is None and "not checked" in text
    for key in ("time_ns", "commands", "rows_raised", "energy_nj"):
        assert without[key] == with_data[key]


def test_bindings_zeros_ones_integers_and_npy(tmp_path):
    npy = tmp_path / "a.npy"
    np.save(npy, np.array([0, 1, 1, 0, 1], dtype=np.uint8))
    doc, _ = run_json(*XOR, "--bind", f"Di={npy}", "--bind", "Dj=0b1", "--check", "1 - Di")
    assert doc["correct"] is True and doc["elements"] == 5 and doc["row_groups"] == 1
    assert doc["operands"]["Di"]["bind"] == "array (.npy)" and doc["operands"]["Dj"]["bind"] == 1
    doc, _ = run_json(*XOR, "--bind", "Di=ones", "--bind", "Dj=zeros", "--check", "1")
    assert doc["correct"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bind", "x=1"], "Invalid value for '--bind': 'x' is not an input (inputs: Di, Dj)"),
        (["--bind", "Di=2"], "Di=2: outside the 1-bit unsigned range 0..1"),
        (["--bind", "Di=abc"], "Di='abc': not random, zeros, ones, an integer or a .npy file"),
        (["--bind", "Di"], "'Di' is not NAME=SPEC"),
        (["--bind", "Di=1", "--bind", "Di=0"], "Di is bound twice"),
        (["--bind", "Di=missing.npy"], "cannot read it as a .npy array (No such file"),
        (["--elements", "0"], "0 is not in the range"),
        (["--elements", "999999999999"], "is not in the range"),
        (["--check", "Di / Dj"], "--check Dk: '/' is true division"),
        (["--check", "Q=Di"], "--check: 'Q' is not an output (outputs: Dk)"),
        (["--check", "Dk=Di", "--check", "Dk=Dj"], "--check: output Dk is checked twice"),
        (["--check", "Di + q"], "unknown name 'q' (inputs and params: Di, Dj)"),
        (["-p", "k=x"], "program param k: 'x' is not an integer"),
        (["--width", "8"], "xor.pim:0: param: xor takes no param n"),
        (["--json", "/nonexistent-dir/x.json"], "--json"),
        (["-p", "timing.nRCD=-3"], "timing.nRCD"),
    ],
)
def test_bad_input_is_one_error_line_exit_2(args, message):
    result = invoke("exec", *XOR, *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 3), dtype=np.uint8), "not uint8 of shape (2, 3)"),
        (np.zeros(4, dtype=np.float64), "not float64 of shape (4,)"),
        (np.array([0, 1, 2]), "value 2 outside the 1-bit unsigned range 0..1"),
        (np.zeros(0, dtype=np.int64), "not int64 of shape (0,)"),
    ],
)
def test_ill_shaped_npy_is_refused(tmp_path, array, message):
    path = tmp_path / "v.npy"
    np.save(path, array)
    result = invoke("exec", *XOR, "--bind", f"Di={path}")
    assert result.exit_code == 2 and message in result.output


def test_a_text_file_named_npy_and_arrays_of_other_lengths_are_refused(tmp_path):
    fake = tmp_path / "fake.npy"
    fake.write_text("not numpy\n")
    result = invoke("exec", *XOR, "--bind", f"Di={fake}")
    assert result.exit_code == 2 and "cannot read it as a .npy array" in result.output
    good = tmp_path / "g.npy"
    np.save(good, np.ones(10, dtype=np.uint8))
    result = invoke("exec", *XOR, "--bind", f"Di={good}", "--elements", "11")
    assert result.exit_code == 2 and "Di: 10 values, but --elements give(s) 11" in result.output


def test_groups_share_subarrays_and_a_program_too_big_for_one_is_one_error(tmp_path):
    # 3 rows per group; 65 groups on one bank of 64 subarrays: two groups in one subarray
    doc, _ = run_json(*XOR, "--banks", "1", "--elements", str(65 * 65536), "--check", "Di ^ Dj")
    assert doc["row_groups"] == 65 and doc["correct"] is True
    path = tmp_path / "wide.pim"
    inputs = " ".join(f"i{k}" for k in range(8))
    path.write_text(f"in {inputs}\nout o\nAAP i0 -> o\n")
    result = invoke("exec", str(path), "-p", "pim.rows_per_subarray=8")
    assert result.exit_code == 2
    assert result.output.strip().endswith("9 operand rows; a subarray has 7 data rows for them")


def test_ctrl_c_reports_what_was_done(monkeypatch):
    def interrupted(self, not_before=0):
        raise KeyboardInterrupt

    monkeypatch.setattr(OperandRows, "run", interrupted)
    result = invoke("exec", *XOR)
    assert result.exit_code == 130
    assert "interrupted at" in result.output


def test_every_help_example_works_when_pasted(monkeypatch):
    """Each example line of --help, run from the repository root (where a fresh clone is)."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    result = invoke("exec", "--help")
    assert result.exit_code == 0
    examples = result.output.split("Examples:")[1].split("Options:")[0]
    lines = [line for line in examples.splitlines() if line.strip()]
    assert len(lines) >= 3
    for line in lines:
        words = shlex.split(line)
        assert words[:2] == ["pimsim", "exec"]
        ran = invoke(*words[1:])
        assert ran.exit_code == 0, (line, ran.output)
        assert "result: correct" in ran.output or '"correct": true' in ran.output


# -- .pim v2: multi-bit operands, several outputs, signed values ---------------------------------

MY_ADD = """\
# s = (a + b) mod 2^n, ripple carry: the carry lives in T0 and T3 from one bit to the next.
op my_add
param n in 2..64
in a:n b:n
out s:n
AAP C0 -> T0,T3            # carry in = 0
for i in 0..n-1
  AAP a[i] -> ~DCC1,T1     # T1 = a, DCC1 = NOT a
  AAP DCC1 -> T2           # T2 = NOT a
  AAP b[i] -> T1           # T1 = b
  AP T1,T2,T3              # T1 = T2 = T3 = MAJ(b, NOT a, c)
  AAP a[i] -> T2,T3        # T2 = T3 = a
  AAP b[i] -> DCC1         # DCC1 = b
  AAP DCC1,T0,T3 -> ~DCC0  # carry out = MAJ(b, c, a) in DCC1, T0, T3; DCC0 = NOT it
  AAP DCC0,T1,T2 -> s[i]   # s = MAJ(NOT cout, MAJ(b, NOT a, c), a)
end
"""

HALF_ADDER = """\
in a b
out s c
check s = a ^ b
check c = a & b
AAP a -> B0
AAP b -> B1
AAP C0 -> B2
AAP B12 -> c
AAP a -> B8
AAP b -> B9
AAP C0 -> B10
AP B14
AP B15
AAP C1 -> B2
AAP B12 -> s
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_hand_written_8_bit_ripple_carry_adder_is_bit_exact(tmp_path):
    path = write(tmp_path, "my_add.pim", MY_ADD)
    doc, _ = run_json(path, "--width", "8", "--check", "(a+b)%2**8", "--elements", "100000")
    assert doc["correct"] is True and doc["params"] == {"n": 8}
    assert doc["aap_per_op"] + doc["ap_per_op"] <= 8 * 8 + 1
    assert doc["operands"]["s"] == {"role": "out", "width": 8, "signed": False}


def test_one_adder_on_one_subarray_takes_aap_taap_plus_ap_tap(tmp_path):
    path = write(tmp_path, "my_add.pim", MY_ADD)
    args = ("--config", "ddr3-1600", "--banks", "1", "--elements", "64")
    doc, _ = run_json(path, "--width", "16", *args, "-p", "controller.refresh=false")
    assert (doc["aap_per_op"], doc["ap_per_op"]) == (7 * 16 + 1, 16)
    assert doc["time_ns"] == (7 * 16 + 1) * 49 + 16 * 45


def test_edge_values_of_a_64_bit_adder(tmp_path):
    path = write(tmp_path, "my_add.pim", MY_ADD)
    edges = np.array([0, 1, 2**63, 2**64 - 1, 2**64 - 2], dtype=np.uint64)
    np.save(tmp_path / "a.npy", edges)
    np.save(tmp_path / "b.npy", edges[::-1].copy())
    binds = ("--bind", f"a={tmp_path / 'a.npy'}", "--bind", f"b={tmp_path / 'b.npy'}")
    doc, _ = run_json(path, "--width", "64", *binds, "--check", "(a + b) % 2**64")
    assert doc["correct"] is True and doc["elements"] == 5


def test_a_program_with_two_outputs_checks_itself(tmp_path):
    path = write(tmp_path, "ha.pim", HALF_ADDER)
    doc, text = run_json(path, "--elements", "5000")
    assert doc["correct"] is True and doc["check_source"] == "program"
    assert doc["checks"] == {"s": "a ^ b", "c": "a & b"}
    assert "correct (s = a ^ b; c = a & b, from the program's check lines)" in text
    doc, text = run_json(path, "--check", "c=a&b")  # --check replaces the program's lines
    assert doc["correct"] is True and doc["unchecked"] == ["s"] and "unchecked: s" in text
    result = invoke("exec", path, "--check", "a & b")
    assert result.exit_code == 2
    assert "the program has 2 outputs (s, c): name one, as OUT=EXPR" in result.output


def test_a_bad_check_line_in_the_program_names_it(tmp_path):
    path = write(tmp_path, "ha.pim", HALF_ADDER.replace("check c = a & b", "check c = a & q"))
    result = invoke("exec", path)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: {path}: check c: unknown name 'q' (inputs and params: a, b)"
    )


def test_signed_values_are_shown_as_twos_complement(tmp_path):
    text = "param n\nin a:n\nout s:n\nsigned a s\nfor i in 0..n-1\n  AAP a[i] -> s[i]\nend\n"
    path = write(tmp_path, "copy.pim", text)
    doc, _ = run_json(path, "--width", "8", "--bind", "a=-5", "--check", "a", "--elements", "9")
    assert doc["correct"] is True and doc["operands"]["a"]["signed"] is True
    result = invoke("exec", path, "--width", "8", "--bind", "a=-5", "--check", "-a")
    assert result.exit_code == 1
    assert "output s differs at element 0 (a=-5): expected 5, got -5" in result.output
    result = invoke("exec", path, "--width", "8", "--bind", "a=128")
    assert (
        result.exit_code == 2 and "a=128: outside the 8-bit signed range -128..127" in result.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--width", "65"], "my_add.pim:0: param: n = 65 is outside 2..64"),
        ([], "param n has no value (pimsim exec --width N binds n)"),
        (["--width", "8", "-p", "n=8"], "-p n=... and --width both bind param n"),
    ],
)
def test_width_errors(tmp_path, args, message):
    path = write(tmp_path, "my_add.pim", MY_ADD)
    result = invoke("exec", path, *args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_plain_p_binds_a_program_param_and_ranks_set_the_organisation(tmp_path):
    path = write(tmp_path, "my_add.pim", MY_ADD)
    doc, _ = run_json(path, "-p", "n=4", "--ranks", "1", "--check", "(a + b) % 16")
    assert doc["params"] == {"n": 4} and doc["correct"] is True
    assert doc["banks"] == 16 and doc["overrides"] == {"organisation.ranks": 1}
