"""`pimsim compare --ops add32,mul8`: library operations of a width, in DRAM and on the CPU."""

import pytest
from click.testing import CliRunner

from pimsim.ambit.operands import wide_op
from pimsim.cli.main import cli
from pimsim.compare import CompareError, compare, parse_ops
from pimsim.compare_lib import element_bytes
from pimsim.config import load_config
from pimsim.programs.parse import builtin_names

pytestmark = pytest.mark.skipif(
    not {"add", "gt", "div"} <= set(builtin_names()), reason="the SIMDRAM library is not here"
)
CONFIG = load_config("ddr3-1600")


def test_names_with_a_width_are_library_operations():
    assert parse_ops("add32,mul8,and,add32") == ("add32", "mul8", "and")
    assert wide_op("and_reduce16") == ("and_reduce", 16) and wide_op("and") is None
    assert [element_bytes(w) for w in (1, 8, 9, 16, 17, 33, 64)] == [1, 1, 2, 2, 4, 8, 8]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("add99", "--ops: add99: n = 99 is outside 2..64"),
        ("foo32", "--ops: unknown operation 'foo32'"),
        ("add", "--ops: unknown operation 'add'"),
    ],
)
def test_bad_names_are_one_error(text, message):
    with pytest.raises(CompareError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_ops(text)


@pytest.mark.parametrize(
    ("op", "elements", "reads", "writes"),
    [
        # 64 KiB of one n-bit operand; the CPU reads each input's array, writes the outputs'
        ("add8", 65536, 2 * 65536 // 64, 65536 // 64),
        ("gt16", 32768, 2 * 2 * 32768 // 64, 32768 // 64),  # a 1-bit result is a byte
        ("div8", 65536, 2 * 65536 // 64, 2 * 65536 // 64),  # quotient and remainder
    ],
)
def test_both_ways_with_elements_per_second_and_energy_per_element(op, elements, reads, writes):
    doc = compare(CONFIG, [op], 64 << 10)
    entry = doc["ops"][op]
    assert entry["correct"] is True and entry["elements"] == elements
    assert entry["cpu"]["commands"]["RD"] == reads and entry["cpu"]["commands"]["WR"] == writes
    groups = -(-elements // 65536)
    program_steps = entry["pim"]["commands"]["AAP"] + entry["pim"]["commands"]["AP"]
    assert program_steps % groups == 0
    for side in ("pim", "cpu"):
        e = entry[side]
        assert e["elements_per_second"] == pytest.approx(elements / e["time_ns"] * 1e9, 1e-3)
        assert e["energy_pj_per_element"] == pytest.approx(1000 * e["energy_nj"] / elements, 1e-3)
    assert entry["speedup"] == pytest.approx(
        entry["cpu"]["time_ns"] / entry["pim"]["time_ns"], 1e-3
    )


def test_no_data_keeps_the_timing():
    with_data = compare(CONFIG, ["add8"], 64 << 10)["ops"]["add8"]
    without = compare(CONFIG, ["add8"], 64 << 10, with_data=False)["ops"]["add8"]
    assert without["correct"] is None
    assert without["pim"]["time_ns"] == with_data["pim"]["time_ns"]


def test_cli_table_has_elements_per_second():
    result = CliRunner().invoke(
        cli, ["compare", "--ops", "add8,xor", "--size", "64KiB", "--config", "ddr3-1600"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "in-DRAM Gelem/s" in lines[1] and "CPU pJ/elem" in lines[1]
    assert lines[2].startswith("add8") and lines[2].rstrip().endswith("yes")
    result = CliRunner().invoke(cli, ["compare", "--ops", "add8", "--size", "1GiB"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: --size: add8 over 1,073,741,824 bytes is 1,073,741,824 elements; give "
        "1..67,108,864 (more with --no-data)"
    )


def test_the_default_size_fits_a_narrow_operation(monkeypatch):
    # `pimsim compare --ops add2` failed on the default --size (32 MiB: 134M elements)
    import pimsim.compare_lib as compare_lib

    monkeypatch.setattr(compare_lib, "MAX_ELEMENTS", 1 << 15)  # add2: at most 8 KiB
    with pytest.raises(CompareError, match="add2 over 16,384 bytes is 65,536 elements"):
        compare(CONFIG, ["add2"], 16384, banks=1)
    entry = compare(CONFIG, ["add2"], 16384, banks=1, fit_size=True)["ops"]["add2"]
    assert (entry["elements"], entry["size_bytes"], entry["correct"]) == (1 << 15, 8192, True)
