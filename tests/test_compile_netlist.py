"""Netlist readers: ISCAS .bench (c17), BLIF covers, AIGER ASCII and binary (cross-checked
with aigverse's writer and SAT equivalence), and their one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from compile_helpers import LAYOUT, LAYOUTS

from pimsim.compile.compiler import _depth, compile_network
from pimsim.compile.netlist import read_netlist
from pimsim.compile.verify import _network_aig
from pimsim.programs.check import check
from pimsim.programs.errors import ProgramError

#: ISCAS-85 c17: five inputs, six NAND gates, two outputs.
C17 = """\
# ISCAS-85 c17
INPUT(N1)
INPUT(N2)
INPUT(N3)
INPUT(N6)
INPUT(N7)
OUTPUT(N22)
OUTPUT(N23)
N10 = NAND(N1, N3)
N11 = NAND(N3, N6)
N16 = NAND(N2, N11)
N19 = NAND(N11, N7)
N22 = NAND(N10, N16)
N23 = NAND(N16, N19)
"""


def write(tmp_path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return str(path)


def table(net) -> dict[str, list[int]]:
    n = len(net.inputs)
    rows = np.arange(1 << n, dtype=np.uint64)
    values = {name: (rows >> np.uint64(i)) & np.uint64(1) for i, name in enumerate(net.inputs)}
    return {k: [int(x) & 1 for x in v] for k, v in net.evaluate(values).items()}


def test_c17_reads_compiles_and_verifies(tmp_path):
    net = read_netlist(write(tmp_path, "c17.bench", C17))
    assert net.inputs == ["N1", "N2", "N3", "N6", "N7"]
    n22 = table(net)["N22"]
    for k, value in enumerate(n22):
        n1, n2, n3, n6 = k & 1, k >> 1 & 1, k >> 2 & 1, k >> 3 & 1
        n11 = 1 - (n3 & n6)
        assert value == 1 - ((1 - (n1 & n3)) & (1 - (n2 & n11)))
    result = compile_network(net, LAYOUT, "c17")
    for layout in LAYOUTS.values():
        check(result.program, layout)
    report = result.report
    assert report["verification"] == {
        "vectors": 32, "exhaustive": True, "mismatches": [], "equivalence": None, "passed": True
    }  # fmt: skip
    assert report["commands"] < report["naive_commands"]


BLIF = """\
.model fa
.inputs a b \\
 c
.outputs s co
.names a b c s
100 1
010 1
001 1
111 1
.names a b c co
11- 1
1-1 1
-11 1
.end
"""


def test_blif_reads_on_and_off_set_covers_and_constants(tmp_path):
    text = BLIF.replace(".end", ".names a b nab\n11 0\n.names one\n1\n.names zero\n.end")
    text = text.replace(".outputs s co", ".outputs s co nab one zero")
    tables = table(read_netlist(write(tmp_path, "fa.blif", text)))
    assert tables["s"] == [0, 1, 1, 0, 1, 0, 0, 1]
    assert tables["co"] == [0, 0, 0, 1, 0, 1, 1, 1]
    assert tables["nab"] == [1, 1, 1, 0] * 2
    assert tables["one"] == [1] * 8 and tables["zero"] == [0] * 8


AAG = """\
aag 5 2 0 2 3
2
4
10
11
6 2 4
8 3 5
10 7 9
i0 x
i1 y
o0 xor
o1 xnor
c
a comment
"""


def test_ascii_aiger_with_symbols(tmp_path):
    net = read_netlist(write(tmp_path, "x.aag", AAG))
    assert net.inputs == ["x", "y"]
    tables = table(net)
    assert tables["xnor"] == [1, 0, 0, 1] and tables["xor"] == [0, 1, 1, 0]


def test_binary_aiger_written_by_aigverse_reads_equivalent(tmp_path):
    from aigverse.algorithms import equivalence_checking
    from aigverse.generators import ripple_carry_adder
    from aigverse.io import write_aiger

    aig = ripple_carry_adder(3)
    path = str(tmp_path / "rca3.aig")
    write_aiger(aig, path)
    net = read_netlist(path)
    assert (len(net.inputs), len(net.outputs)) == (6, 4)
    assert equivalence_checking(aig, _network_aig(net)) is True
    result = compile_network(net, LAYOUT, "rca3")
    assert result.report["verification"]["passed"]


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("a.bench", "INPUT(a)\nOUTPUT(y)\ny = FOO(a, a)\n",
         "a.bench:3: gate: 'FOO' is not one of AND, NAND, OR, NOR, XOR, XNOR, NOT, BUF, "
         "BUFF, MAJ"),
        ("b.bench", "INPUT(a)\nOUTPUT(y)\ny = AND(a, z)\n",
         "b.bench:3: gate: 'z' is no input and no gate"),
        ("c.bench", "INPUT(a)\nOUTPUT(y)\ny = AND(a, w)\nw = OR(y, a)\n",
         "c.bench:4: gate: 'y' depends on itself (a loop)"),
        ("d.bench", "INPUT(a)\nOUTPUT(y)\ny = DFF(a)\n",
         "d.bench:3: gate: DFF: a latch; only combinational netlists compile"),
        ("e.bench", "INPUT(a)\nOUTPUT(y)\ny = NOT(a, a)\n",
         "e.bench:3: gate: NOT takes 1 to 1 fanins, got 2"),
        ("f.blif", ".model m\n.inputs a\n.outputs y\n.names a y\n2 1\n",
         "f.blif:5: cover: expected 1 of 0/1/- and an output 0 or 1, found '2 1'"),
        ("g.blif", ".model m\n.inputs a\n.outputs y\n.latch a y\n",
         "g.blif:4: latch: .latch is not supported: only one flat combinational .model of "
         ".names covers compiles"),
        ("h.aag", "aag 1 1 1 0 0\n",
         "h.aag:1: header: latches or other sequential parts: only combinational AIGER "
         "compiles"),
        ("i.aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2\n",
         "i.aag:5: and: expected 'lhs rhs0 rhs1', lhs even"),
        ("l.aag", "aag 4 1 0 1 1\n2\n9\n6 2 3\n",  # the message read '\x004'
         "l.aag:3: gate: variable 4 is no input and no gate"),
        ("m.blif", ".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.names a y\n0 1\n",
         "m.blif:6: gate: 'y' is defined twice"),  # read 'y\x000'
        ("n.aig", "aig 1000000000 1000000000 0 1 0\n2\n",  # was a MemoryError
         "n.aig:1: header: M=1000000000 must be at least I+A, and I, O and A at most 20,000"),
        ("j.aag", "hello\n", "j.aag:1: header: expected 'aag M I L O A' or 'aig M I L O A'"),
        ("k.bench", "INPUT(a)\n", "k.bench:0: output: the netlist has no output"),
    ],
)  # fmt: skip
def test_netlist_errors_are_one_line(tmp_path, name, text, message):
    with pytest.raises(ProgramError) as caught:
        read_netlist(write(tmp_path, name, text))
    assert str(caught.value) == message.replace(name, str(tmp_path / name))


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ProgramError, match="No such file"):
        read_netlist(str(tmp_path / "none.bench"))


def test_names_become_operands(tmp_path):
    text = "INPUT(a[3])\nINPUT(T0)\nOUTPUT(1y)\nOUTPUT(T0)\nOUTPUT(1y)\n1y = XOR(a[3], T0)\n"
    result = compile_network(read_netlist(write(tmp_path, "r.bench", text)), LAYOUT, "r")
    assert result.report["renamed"] == {"a[3]": "a_3_", "T0": "T0_1"}
    renamed = [["1y", "n1y"], ["T0", "T0_out1"], ["1y", "n1y_out1"]]
    assert result.report["renamed_outputs"] == renamed
    assert result.program.inputs == ("a_3_", "T0_1")
    assert result.program.outputs == ("n1y", "T0_out1", "n1y_out1")


def test_python_keywords_are_renamed_so_the_check_lines_parse(tmp_path):
    # 'in', 'for', 'None' were kept and the check line 'n = (in^out)' crashed ast.parse
    text = "INPUT(in)\nINPUT(None)\nOUTPUT(for)\nfor = AND(in, None)\n"
    result = compile_network(read_netlist(write(tmp_path, "k.bench", text)), LAYOUT, "k")
    assert result.report["renamed"] == {"in": "in_1", "None": "None_1"}
    assert result.report["renamed_outputs"] == [["for", "for_1"]]
    assert "check for_1 = (in_1&None_1)" in result.text


def test_aiger_xor_of_two_unshared_ands_maps_like_the_xor_operation(tmp_path):
    # 14 = NOT(x AND y) AND NOT(NOT x AND NOT y) = x XOR y: 3 MAJ gates, 7 commands
    text = "aag 7 2 0 1 3\n2\n4\n14\n10 2 4\n12 3 5\n14 11 13\n"
    report = compile_network(read_netlist(write(tmp_path, "x.aag", text)), LAYOUT, "x").report
    assert (report["mig_gates"], report["commands"]) == (3, 7)


def test_check_lines_stay_within_what_exec_reads(tmp_path):
    import ast

    from aigverse.generators import ripple_carry_multiplier
    from aigverse.io import write_aiger

    path = str(tmp_path / "mul3.aig")
    write_aiger(ripple_carry_multiplier(3), path)
    result = compile_network(read_netlist(path), LAYOUT, "mul3")
    checks = result.program.checks
    assert set(checks) | set(result.report["checks_omitted"]) == set(result.program.outputs)
    assert checks and result.report["checks_omitted"]  # the low bits fit, the high ones not
    for text in checks.values():
        assert len(text) <= 1000 and _depth(ast.parse(text, mode="eval").body) <= 90
