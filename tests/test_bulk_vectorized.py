"""The vectorized bulk path against its slow twins: command tables, row data, counters."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.execute import PimDevice, evaluate
from pimsim.ambit.lowering import lower, program_template
from pimsim.ambit.rowdata import evaluate_host
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.check import check
from pimsim.programs.parse import ProgramError, builtin, parse

CONFIG = load_config("ddr3-1600")
DECODER = [f"B{k}" for k in range(16)]


def _device() -> Device:
    return Device(CONFIG)


@st.composite
def programs(draw):
    """Random µprograms over two inputs, an output and a scratch row (checker-valid)."""
    names = ["Di", "Dj", "Dk", "Ds", "C0", "C1", *DECODER]
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        src = draw(st.sampled_from(names))
        if draw(st.booleans()):
            steps.append(f"AP {src}")
        else:
            dst = draw(st.sampled_from(["Dk", "Ds", *DECODER]))
            steps.append(f"AAP {src} -> {dst}")
    steps.append(f"AAP {draw(st.sampled_from(['Di', 'Dj', 'Ds', *DECODER]))} -> Dk")
    text = "op rnd\nin Di Dj\nout Dk\nscratch Ds\n" + "\n".join(steps) + "\n"
    program = parse(text, "rnd.pim")
    try:
        check(program, Device(CONFIG).layout)
    except ProgramError:
        assume(False)
    return program


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(programs(), st.integers(0, 2**32 - 1))
def test_vectorized_data_matches_the_per_row_twin(program, seed):
    layout = _device().layout
    rng = np.random.default_rng(seed)
    sources = [rng.integers(0, 2**64, (5, 16), dtype=np.uint64) for _ in program.inputs]
    got = evaluate_host(lower(program, layout), layout, sources, 2, (5, 16))
    for r in range(5):
        want = evaluate(program, layout, [s[r] for s in sources], 16)
        assert np.array_equal(got[r], want)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(programs(), st.integers(0, 2**32 - 1))
def test_a_bulk_op_of_a_random_program_matches_the_twin_row_by_row(program, seed):
    engine = BulkEngine(_device())
    rows = 3 * len(engine.banks)  # several rows per bank and subarray
    a, b, out = (engine.alloc(rows * engine.row_bytes) for _ in range(3))
    rng = np.random.default_rng(seed)
    values = [rng.integers(0, 2**64, rows * engine.row_bytes // 8, dtype=np.uint64) for _ in "ab"]
    engine.write(a, values[0])
    engine.write(b, values[1])
    engine.bbop(program, out, a, b)
    want = evaluate(program, engine.pim.layout, values, len(values[0]))
    assert np.array_equal(engine.read(out), want)


@pytest.mark.parametrize("op", ["not", "and", "xor", "nand", "zero"])
def test_the_command_table_is_the_bindings_command_stream(op):
    """Row by row, the lowered table is what Binding.commands() yields (codes, banks, rows,
    wordlines raised)."""
    device = _device()
    program = builtin(op)
    engine = BulkEngine(device)
    layout = engine.pim.layout
    offsets = np.array([[3, 5, 9, 1][: len(program.operands)]], dtype=np.int64)
    bank = np.array([[0, 0, 0, 2]])
    base = 2 * layout.physical_rows
    ends = np.array([[[*bank[0], base + r] for r in [0, *offsets[0].tolist()]]])
    table = program_template(lower(program, layout), layout).table(ends).reshape(-1, 8)
    binding = dict(zip(program.operands, offsets[0].tolist(), strict=True))
    commands = list(PimDevice(device).bind(program, (0, 0, 0, 2), 2, binding).commands())
    from pimsim.standards import CMD

    want = [(CMD[c.name], *c.bank, c.row, c.column, len(c.raised) or 1) for c in commands]
    assert [tuple(r) for r in table.tolist()] == want


def test_gather_and_scatter_rows_match_row_reads_and_writes():
    device = _device()
    columns = CONFIG.organisation.columns
    fields = np.array([[0, 0, 0, 1, 7], [0, 0, 0, 5, 100], [0, 0, 0, 1, 7]])
    ids = device.row_ids(*fields.T)
    assert ids.tolist() == [device.row_id(*f) for f in fields.tolist()]
    data = np.arange(3 * columns, dtype=np.uint64).reshape(3, columns)
    device.scatter_rows(ids, data)
    assert np.array_equal(device.read_row(0, 0, 0, 1, 7), data[2])  # the last write wins
    assert np.array_equal(device.gather_rows(ids)[1], data[1])
    assert not device.gather_rows(device.row_ids(0, 0, 0, 6, 1).reshape(1)).any()


@pytest.mark.parametrize("op", ["and", "xor", "copy"])
def test_no_data_gives_the_same_commands_times_and_counters(op):
    reports = []
    for with_data in (True, False):
        engine = BulkEngine(_device(), with_data=with_data)
        program = builtin(op)
        vecs = [engine.alloc(64 * engine.row_bytes) for _ in program.operands]
        reports.append(engine.bbop(program, vecs[-1], *vecs[:-1]).to_dict())
    with_data, without = reports
    assert without.pop("data_simulated") is False and with_data.pop("data_simulated") is True
    assert with_data == without
    assert with_data["commands"]["ACT"] > 0


def test_rows_that_overwrite_a_later_rows_input_run_in_row_order():
    """dst row 0 is src row 1 and dst row 1 is src row 0 (one bank and subarray): as the
    bank runs them in order, row 1 sees what row 0 wrote."""
    engine = BulkEngine(_device())
    r0, r1 = (0, 0, 0, 0, 0), (0, 0, 0, 0, 1)
    src, dst = Vector([r0, r1], engine.row_bytes), Vector([r1, r0], engine.row_bytes)
    words = engine.row_bytes // 8
    first = np.arange(words, dtype=np.uint64)
    engine.write(src, np.concatenate([first, first + np.uint64(1)]))
    engine.bbop("not", dst, src)
    # row 0: r1 := ~r0; row 1: r0 := ~r1 (its new value) = the old r0
    assert np.array_equal(engine.read(src), np.concatenate([first, ~first]))


def test_max_activations_and_busy_time_per_bank():
    engine = BulkEngine(_device())
    rows = 2 * len(engine.banks) * engine.subarrays  # two runs in every subarray
    a, b, out = (engine.alloc(rows * engine.row_bytes) for _ in range(3))
    report = engine.bbop("and", out, a, b)
    # T0, T1, T2 are raised twice per run (as a destination, then by B12): 4 per subarray
    assert report.max_row_activations == 4
    assert report.rows_raised == rows * (1 + 1 + 1 + 1 + 1 + 1 + 3 + 1)
    assert len(report.bank_busy_ns) == len(engine.banks)
    assert all(v > 0 for v in report.bank_busy_ns.values())
    assert set(itertools.chain(report.commands)) >= {"ACT", "AACT", "PRE"}
