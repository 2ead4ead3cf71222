"""Bulk operations on vectors striped over banks: bit-exact, bank-parallel, honest fallback."""

import itertools

import numpy as np
import pytest

from pimsim.ambit.bulk import NUMPY_OPS, BulkEngine, BulkError, Vector
from pimsim.ambit.execute import PimDevice, run_streams
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.parse import builtin
from pimsim.standards import COMMANDS

OPS = ["not", "and", "or", "nand", "nor", "xor", "xnor", "copy", "zero", "one"]


def setup(config, rows_per_bank=2, seed=0):
    eng = BulkEngine(Device(config))
    size = rows_per_bank * len(eng.banks) * eng.row_bytes
    rng = np.random.default_rng(seed)
    a, b = (rng.integers(0, 2**64, size // 8, dtype=np.uint64) for _ in range(2))
    va, vb, vk = eng.alloc(size), eng.alloc(size), eng.alloc(size)
    eng.write(va, a)
    eng.write(vb, b)
    return eng, va, vb, vk, a, b


def expected(op, a, b):
    if op == "zero":
        return np.zeros_like(a)
    if op == "one":
        return ~np.zeros_like(a)
    n = len(builtin(op).inputs)
    return NUMPY_OPS[op](*(a, b)[:n])


@pytest.mark.parametrize("preset", ["ddr3-1600", "ddr4-2400"])
@pytest.mark.parametrize("op", OPS)
def test_vector_op_is_bit_exact_on_every_bank(preset, op):
    eng, va, vb, vk, a, b = setup(load_config(preset))
    n = len(builtin(op).inputs)
    report = eng.bbop(op, vk, *(va, vb)[:n])
    assert (eng.read(vk) == expected(op, a, b)).all()
    assert (eng.read(va) == a).all() and (eng.read(vb) == b).all()
    assert report.in_dram_rows == len(vk.rows) and report.cpu_rows == 0
    counts = builtin(op).counts()
    assert (report.aap, report.ap) == (counts["AAP"] * report.rows, counts["AP"] * report.rows)
    assert report.commands["AACT"] == report.aap
    assert len({row[:4] for row in vk.rows}) == len(eng.banks)  # striped over every bank


def test_ddr4_vectors_stripe_over_both_ranks():
    eng = BulkEngine(Device(load_config("ddr4-2400")))
    v = eng.alloc(len(eng.banks) * eng.row_bytes)
    assert {row[1] for row in v.rows} == {0, 1} and len(eng.banks) == 32


def not_throughput(overrides, size=4 << 20):
    # refresh off: these tests isolate tFAW and tRRD (refresh costs about nRFC/nREFI more)
    eng = BulkEngine(Device(load_config("ddr3-1600", ["controller.refresh=false", *overrides])))
    src, dst = eng.alloc(size), eng.alloc(size)
    return eng.bbop("not", dst, src).throughput_gbps


def test_tfaw_is_what_limits_not_over_eight_banks():
    # 4 activations per 30 ns per rank, and a NOT has 4 (2 AAPs of ACT + AACT): one 8 KiB
    # row of result per nFAW window, about 273 GB/s (REFERENCE.md)
    limited = not_throughput([])
    assert limited == pytest.approx(8192 / 30.0, rel=0.02)
    relaxed = not_throughput(["timing.nFAW=0"])
    assert relaxed > 1.15 * limited
    # without tFAW, tRRD (5 cycles = 6.25 ns between activations) is the limit
    assert relaxed == pytest.approx(8192 / (4 * 6.25), rel=0.02)


def test_operands_in_other_banks_of_the_rank_are_staged_in_by_psm():
    eng, va, vb, vk, a, b = setup(load_config("ddr3-1600"), rows_per_bank=1)
    shifted = Vector(vk.rows[1:] + vk.rows[:1], vk.row_bytes)  # row i lands in another bank
    report = eng.bbop("and", shifted, va, vb)
    assert report.staged_rows == len(vk.rows) and report.cpu_rows == 0
    assert report.commands["TRANSFER"] == 2 * len(vk.rows) * 128  # both sources, every row
    assert (eng.read(shifted) == (a & b)).all()
    assert (eng.read(va) == a).all() and (eng.read(vb) == b).all()


def test_operands_in_another_rank_fall_back_to_the_cpu_with_the_reason():
    eng, va, vb, vk, a, b = setup(load_config("ddr4-2400"), rows_per_bank=1)  # 2 ranks
    # banks alternate ranks in the stripe: row i + 1 is in the other rank of row i's
    shifted = Vector(vk.rows[1:] + vk.rows[:1], vk.row_bytes)
    assert all(s[1] != r[1] for s, r in zip(shifted.rows, va.rows, strict=True))
    report = eng.bbop("and", shifted, va, vb)
    assert report.cpu_rows == len(vk.rows) and report.in_dram_rows == 0
    assert report.fallback_reasons == {"operands in different banks": len(vk.rows)}
    assert (eng.read(shifted) == (a & b)).all()
    assert report.commands["RD"] == 2 * len(vk.rows) * 128  # two source rows of 128 bursts


def test_counters_report_raised_rows_and_row_activations():
    eng, va, vb, vk, *_ = setup(load_config("ddr3-1600"), rows_per_bank=1)
    report = eng.bbop("xor", vk, va, vb)
    # xor raises Di, B8 (2), Dj, B9 (2), C0, B10 (2), B14 (3), B15 (3), C1, B2, B12 (3), Dk
    assert report.rows_raised == 21 * report.rows
    assert report.max_row_activations == 4  # T2: raised by B10, B14, B2 and B12
    assert len(report.bank_busy_ns) == 8


def test_bad_vectors_are_refused():
    eng = BulkEngine(Device(load_config("ddr3-1600")))
    with pytest.raises(BulkError, match="whole number of 8192-byte rows"):
        eng.alloc(1000)
    a, b = eng.alloc(8192 * 8), eng.alloc(8192 * 16)
    with pytest.raises(BulkError, match="differ in length"):
        eng.bbop("not", b, a)
    with pytest.raises(BulkError, match="takes 2 source"):
        eng.bbop("and", a, a)


def test_a_user_program_runs_like_a_builtin(tmp_path):
    # the README's example: Dk = Di AND NOT Dj from five AAPs
    path = tmp_path / "andnot.pim"
    path.write_text(
        "in Di Dj\nout Dk\nAAP Dj -> B5\nAAP Di -> B0\nAAP B4 -> B1\nAAP C0 -> B2\nAAP B12 -> Dk\n"
    )
    from pimsim.programs.parse import load

    eng, va, vb, vk, a, b = setup(load_config("ddr3-1600"))
    report = eng.bbop(load(path), vk, va, vb)
    assert (eng.read(vk) == (a & ~b)).all() and report.aap == 5 * report.rows


def test_tfaw_can_count_raised_rows_instead_of_activations():
    # xor raises pairs and triples of rows; counting each row in the four-activate window
    # leaves less room for other banks, so xor over 8 banks slows down; not (one row per
    # activation) does not change
    def rate(op, *overrides):
        eng = BulkEngine(Device(load_config("ddr3-1600", list(overrides))))
        size = 2 << 20
        srcs = [eng.alloc(size) for _ in builtin(op).inputs]
        return eng.bbop(op, eng.alloc(size), *srcs).throughput_gbps

    rows = "pim.faw_counts_raised_rows=true"
    assert rate("xor", rows) < 0.9 * rate("xor")
    assert rate("not", rows) == pytest.approx(rate("not"))


def test_a_triple_activation_takes_three_of_the_four_tfaw_slots():
    dev = Device(load_config("ddr3-1600", ["pim.faw_counts_raised_rows=true"]))
    k, nfaw, nrrd = dev.clock.ticks_per_cycle, dev.timing_ticks["nFAW"], dev.timing_ticks["nRRD"]
    dev.core.set_activation_rows(3, True)
    dev.issue_tick("ACT", 0, bank=0, row=1)  # e.g. B12: T0, T1, T2
    dev.core.set_activation_rows(1)
    dev.issue_tick("ACT", nrrd, bank=1, row=1)  # the fourth slot
    assert dev.earliest_tick("ACT", bank=2, row=1) == nfaw  # the fifth waits a full window
    assert k == 5


def test_refresh_interleaves_with_a_long_bulk_op():
    """One REF per rank every nREFI, each as soon as the rank's banks close after its slot."""
    dev = Device(load_config("ddr3-1600"))
    dev.start_command_log()
    eng = BulkEngine(dev, banks_per_rank=1)
    src, dst = eng.alloc(480 * eng.row_bytes), eng.alloc(480 * eng.row_bytes)
    eng.write(src, np.arange(480 * eng.row_bytes // 8, dtype=np.uint64))
    report = eng.bbop("not", dst, src)
    assert (eng.read(dst) == ~np.arange(480 * eng.row_bytes // 8, dtype=np.uint64)).all()
    log = dev.command_log()
    refs = log[log[:, 1] == COMMANDS.index("REF"), 0]
    interval = dev.timing_ticks["nREFI"]
    assert len(refs) == report.span.end_tick // interval >= 5
    slots = interval * np.arange(1, len(refs) + 1)
    late = refs - slots
    assert (late >= 0).all() and (late < 300 * dev.clock.ticks_per_cycle).all()  # < 375 ns late
    # nothing activates the rank between a slot and its REF
    acts = log[log[:, 1] == COMMANDS.index("ACT"), 0]
    for slot, ref in zip(slots, refs, strict=True):
        assert not ((acts > slot) & (acts < ref)).any()


def test_refresh_covers_ranks_without_work_and_can_be_off():
    for refresh in (True, False):
        config = load_config(
            "ddr3-1600", ["organisation.ranks=2", f"controller.refresh={str(refresh).lower()}"]
        )
        dev = Device(config)
        dev.start_command_log()
        pim = PimDevice(dev)
        nots = (
            pim.bind(builtin("not"), (0, 0, 0, 0), 0, {"Di": k, "Dk": k + 1}).commands()
            for k in range(0, 400, 2)
        )
        end = run_streams(dev, [itertools.chain.from_iterable(nots)]).end_tick
        log = dev.command_log()
        refs = log[log[:, 1] == COMMANDS.index("REF")]
        per_rank = [int((refs[:, 3] == rank).sum()) for rank in (0, 1)]
        slots = end // dev.timing_ticks["nREFI"]
        assert slots >= 2
        assert per_rank == ([slots, slots] if refresh else [0, 0])
