"""RowClone: FPM inside a subarray, PSM across banks, PSM twice across subarrays."""

import numpy as np
import pytest

from pimsim.ambit.bulk import BulkEngine, BulkError, Vector
from pimsim.config import load_config
from pimsim.device import Device


def engine(preset="ddr3-1066", *overrides):
    return BulkEngine(Device(load_config(preset, list(overrides))))


def one_row(eng, row, seed=0):
    data = np.random.default_rng(seed).integers(0, 2**64, eng.row_bytes // 8, dtype=np.uint64)
    eng.device.write_row(*row, data)
    return Vector((row,), eng.row_bytes), data


def test_psm_copy_across_banks_is_exact_and_about_twice_as_fast_as_the_channel():
    eng = engine()  # RowClone's DDR3-1066 with 4 KiB rows: 64 TRANSFERs of 64 bytes
    src, data = one_row(eng, (0, 0, 0, 0, 5))
    dst = Vector(((0, 0, 0, 3, 9),), eng.row_bytes)
    report = eng.bbop("copy", dst, src)
    assert (eng.device.read_row(0, 0, 0, 3, 9) == data).all()
    assert report.psm_rows == 1 and report.cpu_rows == 0
    assert report.commands["TRANSFER"] == 64 and report.commands["ACT"] == 2
    # ACT, ACT (+tRRD 4), 64 TRANSFERs from tRCD (8) at one per 4 cycles, write recovery
    # (18), the two PREs a cycle apart, tRP (8): 4 + 8 + 63*4 + 18 + 1 + 8 = 291 cycles of
    # 1.875 ns. RowClone reports PSM 1.9x faster than a 1046 ns copy over the channel.
    assert report.time_ns == pytest.approx(291 * 1.875)
    assert 1046 / report.time_ns == pytest.approx(1.9, abs=0.1)


def test_copy_to_another_subarray_of_the_same_bank_goes_through_a_temporary_row():
    eng = engine()
    src, data = one_row(eng, (0, 0, 0, 2, 1))
    row = eng.pim.layout.physical_rows + 7  # subarray 1 of the same bank
    across = eng.bbop("copy", Vector(((0, 0, 0, 2, row),), eng.row_bytes), src)
    assert (eng.device.read_row(0, 0, 0, 2, row) == data).all()
    assert across.psm_rows == 1 and across.commands["TRANSFER"] == 128
    single = engine().bbop("copy", Vector(((0, 0, 0, 3, 9),), eng.row_bytes), src)
    assert across.time_ns == pytest.approx(2 * single.time_ns, rel=0.05)


def test_fpm_copy_in_a_subarray_is_one_aap():
    eng = engine()
    src, data = one_row(eng, (0, 0, 0, 1, 3))
    report = eng.bbop("copy", Vector(((0, 0, 0, 1, 4),), eng.row_bytes), src)
    assert report.aap == 1 and report.psm_rows == 0 and report.time_ns == pytest.approx(90.0)
    assert (eng.device.read_row(0, 0, 0, 1, 4) == data).all()


def test_copy_across_ranks_has_no_internal_bus_and_takes_the_cpu_path():
    eng = engine("ddr4-2400")
    src, data = one_row(eng, (0, 0, 0, 0, 3))
    report = eng.bbop("copy", Vector(((0, 1, 0, 0, 3),), eng.row_bytes), src)
    assert report.cpu_rows == 1 and report.fallback_reasons == {"operands in different banks": 1}
    assert (eng.device.read_row(0, 1, 0, 0, 3) == data).all()


def test_the_temporary_rows_are_extra_wordlines_never_allocated():
    eng = engine()
    layout = eng.pim.layout
    rows = layout.data_rows * eng.subarrays * len(eng.banks)
    vec = eng.alloc(rows * eng.row_bytes)  # every data row of the banks
    assert all(r[4] % layout.physical_rows < layout.data_rows for r in vec.rows)
    assert eng.temp_row(3) == 3 * (1024 + 19) + 1042  # the last of 19 extra wordlines
    with pytest.raises(BulkError, match="no free data row"):
        eng.alloc(eng.row_bytes)


def test_a_source_outside_the_subarray_is_first_copied_in_by_psm():
    eng = engine("ddr3-1600")  # 8 KiB rows: 128 TRANSFERs per row
    a, da = one_row(eng, (0, 0, 0, 0, 3), seed=1)
    b, db = one_row(eng, (0, 0, 0, 5, 3), seed=2)  # another bank of the rank
    out = Vector(((0, 0, 0, 0, 9),), eng.row_bytes)
    report = eng.bbop("and", out, a, b)
    assert report.staged_rows == 1 and report.cpu_rows == 0 and report.in_dram_rows == 1
    assert report.commands["TRANSFER"] == 128 and report.aap == 4
    assert (eng.device.read_row(0, 0, 0, 0, 9) == (da & db)).all()
    assert (eng.device.read_row(0, 0, 0, 5, 3) == db).all()  # the source is untouched


def test_two_sources_away_are_both_staged_one_in_the_output_row_one_in_a_compute_row():
    eng = engine("ddr3-1600")
    a, da = one_row(eng, (0, 0, 0, 1, 3), seed=1)
    b, db = one_row(eng, (0, 0, 0, 5, 3), seed=2)
    report = eng.bbop("or", Vector(((0, 0, 0, 0, 9),), eng.row_bytes), a, b)
    assert report.staged_rows == 1 and report.cpu_rows == 0 and report.in_dram_rows == 1
    assert report.commands["TRANSFER"] == 2 * 128 and report.aap == 4
    assert (eng.device.read_row(0, 0, 0, 0, 9) == (da | db)).all()
    assert (eng.device.read_row(0, 0, 0, 1, 3) == da).all()
    assert (eng.device.read_row(0, 0, 0, 5, 3) == db).all()


def test_an_in_place_op_stages_the_other_source_in_a_compute_row():
    eng = engine("ddr3-1600")
    a, da = one_row(eng, (0, 0, 0, 0, 3), seed=1)
    b, db = one_row(eng, (0, 0, 0, 2, 7), seed=2)
    for op in ("and", "xor", "nand"):
        before = eng.device.read_row(0, 0, 0, 0, 3)
        report = eng.bbop(op, a, a, b)  # a = op(a, b): the output row is not free
        assert report.staged_rows == 1 and report.cpu_rows == 0, op
        expected = {"and": before & db, "xor": before ^ db, "nand": ~(before & db)}[op]
        assert (eng.device.read_row(0, 0, 0, 0, 3) == expected).all(), op
    assert (eng.device.read_row(0, 0, 0, 2, 7) == db).all()


def test_a_source_in_another_rank_takes_the_cpu_path_with_its_reason():
    eng = engine("ddr4-2400")
    a, da = one_row(eng, (0, 0, 0, 0, 3), seed=1)
    b, db = one_row(eng, (0, 1, 0, 0, 3), seed=2)  # rank 1: no internal bus to rank 0
    report = eng.bbop("xor", Vector(((0, 0, 0, 0, 9),), eng.row_bytes), a, b)
    assert report.cpu_rows == 1 and report.fallback_reasons == {"operands in different banks": 1}
    assert (eng.device.read_row(0, 0, 0, 0, 9) == (da ^ db)).all()


def test_staging_refuses_a_compute_row_the_program_overwrites_before_reading_it():
    from pimsim.ambit.execute import Binding, PimDevice
    from pimsim.programs.parse import builtin

    eng = engine("ddr3-1600")
    sub = PimDevice(eng.device).subarray((0, 0, 0, 0), 0)
    # and: "AAP Di -> B0" writes T0 on line 1 of the program, before "AAP Dj -> B1" reads Dj
    with pytest.raises(ValueError, match="staged in B0, which line"):
        Binding(builtin("and"), sub, {"Di": 3, "Dj": "B0", "Dk": 9})
    Binding(builtin("and"), sub, {"Di": 3, "Dj": "B3", "Dk": 9})  # T3 is never written
    with pytest.raises(ValueError, match="does not raise one compute row alone"):
        Binding(builtin("and"), sub, {"Di": 3, "Dj": "B12", "Dk": 9})
