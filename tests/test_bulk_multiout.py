"""Programs with several output rows (multi-bit operands after expansion) on the bulk path:
bit-exact against the per-command twin, one op = AAP x tAAP + AP x tAP, banks in parallel."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pimsim.ambit.bulk import BulkEngine, BulkError, Vector
from pimsim.ambit.execute import evaluate_outputs
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.check import check
from pimsim.programs.parse import Program, ProgramError, Step

CONFIG = load_config("ddr3-1600")
DECODER = [f"B{k}" for k in range(16)]

# s = a XOR b, c = a AND b: Ambit's and (4 AAP) then xor (5 AAP, 2 AP)
HALF_ADDER = [
    ("AAP", "a", "B0"),
    ("AAP", "b", "B1"),
    ("AAP", "C0", "B2"),
    ("AAP", "B12", "c"),
    ("AAP", "a", "B8"),
    ("AAP", "b", "B9"),
    ("AAP", "C0", "B10"),
    ("AP", "B14", None),
    ("AP", "B15", None),
    ("AAP", "C1", "B2"),
    ("AAP", "B12", "s"),
]


def flat(name, inputs, outputs, steps, scratch=()):
    """A flat multi-output Program, as the v2 expander makes them."""
    return Program(
        name,
        tuple(inputs),
        tuple(outputs),
        tuple(scratch),
        tuple(Step(kind, src, dst, k + 1) for k, (kind, src, dst) in enumerate(steps)),
        f"{name}.pim",
    )


def twin(program, layout, sources, words):
    """Every output of ``program`` by the per-command twin (pimsim.ambit.execute)."""
    return evaluate_outputs(program, layout, sources, words)


def run(engine, program, groups, seed=0):
    inputs, outputs = engine.alloc_program(program, groups)
    rng = np.random.default_rng(seed)
    words = engine.row_bytes // 8
    data = rng.integers(0, 2**64, (len(inputs), groups, words), dtype=np.uint64)
    engine.write_rows(inputs, data)
    report = engine.run(program, outputs, inputs)
    return report, data, engine.read_rows(outputs)


def test_half_adder_writes_both_outputs_on_every_bank():
    engine = BulkEngine(Device(CONFIG))
    program = flat("ha", "ab", "sc", HALF_ADDER)
    report, (a, b), (s, c) = run(engine, program, 3 * len(engine.banks))
    assert np.array_equal(s, a ^ b) and np.array_equal(c, a & b)
    assert report.in_dram_rows == report.rows == 24 and report.cpu_rows == 0
    assert (report.aap, report.ap) == (9 * 24, 2 * 24)


def test_one_op_on_one_subarray_takes_aap_taap_plus_ap_tap():
    """ddr3-1600 with the split decoder: AAP 49 ns, AP 45 ns (REFERENCE.md)."""
    engine = BulkEngine(Device(CONFIG), banks_per_rank=1)
    report, *_ = run(engine, flat("ha", "ab", "sc", HALF_ADDER), 1)
    assert report.time_ns == pytest.approx(9 * 49 + 2 * 45)


def test_banks_run_in_parallel():
    one, *_ = run(
        BulkEngine(Device(CONFIG), banks_per_rank=1), flat("ha", "ab", "sc", HALF_ADDER), 1
    )
    engine = BulkEngine(Device(CONFIG))
    eight, *_ = run(engine, flat("ha", "ab", "sc", HALF_ADDER), len(engine.banks))
    assert len(engine.banks) == 8 and eight.commands["ACT"] == 8 * one.commands["ACT"]
    # tFAW (four activations per window) staggers them: 8 banks take 1293.5 ns, not 8 x 531
    assert one.time_ns < eight.time_ns < 8 * one.time_ns / 3
    assert len(eight.bank_busy_ns) == 8
    assert min(eight.bank_busy_ns.values()) >= one.time_ns


def test_scratch_rows_of_a_multi_output_program():
    # s = NOT a via scratch t, c = a: t := a, ~DCC0 := t, s := DCC0... (copy through a row)
    steps = [("AAP", "a", "t"), ("AAP", "t", "B5"), ("AAP", "B4", "s"), ("AAP", "t", "c")]
    program = flat("nt", "a", "sc", steps, scratch=("t",))
    engine = BulkEngine(Device(CONFIG))
    _, (a,), (s, c) = run(engine, program, 2 * len(engine.banks))
    assert np.array_equal(s, ~a) and np.array_equal(c, a)
    assert engine.placement.scratch.max() == 1


def test_rows_apart_are_refused_with_the_reason():
    engine = BulkEngine(Device(CONFIG))
    program = flat("ha", "ab", "sc", HALF_ADDER)
    inputs, outputs = engine.alloc_program(program, 4)
    shifted = Vector(np.roll(inputs[0].fields, 1, axis=0), engine.row_bytes)
    with pytest.raises(
        BulkError, match="row 0 of its operands cannot run in place .operands in different banks"
    ):
        engine.run(program, outputs, [shifted, inputs[1]])


def test_an_output_sharing_an_operand_row_is_refused():
    engine = BulkEngine(Device(CONFIG))
    program = flat("ha", "ab", "sc", HALF_ADDER)
    inputs, outputs = engine.alloc_program(program, 4)
    with pytest.raises(BulkError, match="output c shares a row with b "):
        engine.run(program, [outputs[0], inputs[1]], inputs)


def test_wrong_vector_counts_are_refused():
    engine = BulkEngine(Device(CONFIG))
    program = flat("ha", "ab", "sc", HALF_ADDER)
    inputs, outputs = engine.alloc_program(program, 4)
    with pytest.raises(BulkError, match="writes 2 output row vector.s., got 1"):
        engine.run(program, outputs[:1], inputs)
    with pytest.raises(BulkError, match="vectors differ in length"):
        engine.run(program, outputs, [inputs[0], engine.alloc(engine.row_bytes)])


def test_operands_that_do_not_fit_a_subarray_are_one_error():
    engine = BulkEngine(Device(CONFIG), banks_per_rank=1)
    program = flat("ha", "ab", "sc", HALF_ADDER)
    per_bank = engine.subarrays * 300  # 300 groups per subarray x 4 rows > 1024 data rows
    with pytest.raises(BulkError, match=r"4 operand rows x 300 row group\(s\) per subarray"):
        engine.alloc_program(program, per_bank)
    assert engine.placement.next_free.max() == 0  # nothing taken


def test_single_output_programs_keep_the_v1_path():
    engine = BulkEngine(Device(CONFIG))
    program = flat("and1", "ab", "c", HALF_ADDER[:4])
    inputs, outputs = engine.alloc_program(program, 8)
    report = engine.run(program, outputs, inputs)
    assert report.aap == 4 * 8 and report.cpu_rows == 0


@st.composite
def programs(draw):
    """Random checker-valid programs: inputs a b, outputs s c, scratch t."""
    names = ["a", "b", "s", "c", "t", "C0", "C1", *DECODER]
    steps = []
    for _ in range(draw(st.integers(1, 10))):
        src = draw(st.sampled_from(names))
        if draw(st.booleans()):
            steps.append(("AP", src, None))
        else:
            steps.append(("AAP", src, draw(st.sampled_from(["s", "c", "t", *DECODER]))))
    for out in ("s", "c"):
        steps.append(("AAP", draw(st.sampled_from(["a", "b", "t", *DECODER])), out))
    program = flat("rnd", "ab", "sc", steps, scratch=("t",))
    try:
        check(program, Device(CONFIG).layout)
    except ProgramError:
        assume(False)
    return program


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_multi_output_programs_match_the_per_command_twin(program, seed):
    engine = BulkEngine(Device(CONFIG))
    groups = 2 * len(engine.banks) + 3
    _, data, got = run(engine, program, groups, seed)
    words = engine.row_bytes // 8
    want = twin(program, engine.pim.layout, [d.reshape(-1) for d in data], groups * words)
    for k, out in enumerate(want):
        assert np.array_equal(got[k].reshape(-1), out), program.outputs[k]


def test_a_single_output_program_over_many_input_rows():
    """40 input rows and one output (a v2 reduction's shape): aliasing is checked per
    pattern found, not over all 2**40 patterns."""
    names = [f"a[{i}]" for i in range(40)]
    program = flat("last", names, ["y"], [("AAP", names[-1], "y")])
    engine = BulkEngine(Device(CONFIG))
    report, data, (y,) = run(engine, program, 2 * len(engine.banks))
    assert np.array_equal(y, data[-1]) and report.cpu_rows == 0
