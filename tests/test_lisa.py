"""LISA (Chang et al., HPCA 2016): inter-subarray copies by row-buffer movement (RBM)."""

import numpy as np
import pytest

from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.execute import copy_commands
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.errors import IllegalCommandError
from pimsim.results.energy import energy_table

#: LISA's DDR3-1600 (11-11-11: tRCD = tRP = 13.75 ns, tRAS 35 ns) with its links on.
LISA_DDR3 = ("timing.nRP=11", "timing.nRCD=11", "timing.nRC=39", "pim.lisa=true")


def engine(*overrides, preset="ddr3-1600"):
    return BulkEngine(Device(load_config(preset, list(overrides))))


def copy_across(eng, hops, src_row=5, dst_offset=9, seed=0):
    """Copy one row from subarray 0 of bank 0 to subarray ``hops`` of the same bank."""
    rps = eng.pim.layout.physical_rows
    src = (0, 0, 0, 0, src_row)
    data = np.random.default_rng(seed).integers(0, 2**64, eng.row_bytes // 8, dtype=np.uint64)
    eng.device.write_row(*src, data)
    dst = (0, 0, 0, 0, hops * rps + dst_offset)
    report = eng.bbop("copy", Vector((dst,), eng.row_bytes), Vector((src,), eng.row_bytes))
    return report, src, dst, data


@pytest.mark.parametrize("hops, ns", [(1, 148.5), (7, 196.5), (15, 260.5), (63, 644.5)])
def test_lisa_risc_latency_is_lisas_table(hops, ns):
    """LISA's Tables 1 and 4: 3 tRAS + 2 tRP + 2 ceil(hops / 2) tRBM, exactly."""
    report, src, dst, data = copy_across(engine(*LISA_DDR3), hops)
    assert report.time_ns == pytest.approx(ns)
    assert report.lisa_moves == 1 and report.psm_rows == 1 and report.cpu_rows == 0


def test_lisa_copy_is_bit_exact_and_leaves_the_source():
    eng = engine(*LISA_DDR3)
    report, src, dst, data = copy_across(eng, 3)
    assert (eng.device.read_row(*dst) == data).all()
    assert (eng.device.read_row(*src) == data).all()
    moves = 2 * 2  # two halves, ceil(3 / 2) RBMs each
    assert report.commands == {"ACT": 1, "RBM": moves, "AACT": 2, "PREE": 1, "PRE": 1}
    assert report.rows_raised == 3  # the source, and the destination twice (one per half)


def test_each_half_of_the_row_arrives_with_its_own_activation():
    eng = engine(*LISA_DDR3)
    rps = eng.pim.layout.physical_rows
    src, dst = (0, 0, 0, 0, 5), (0, 0, 0, 0, rps + 9)
    data = np.arange(eng.row_bytes // 8, dtype=np.uint64)
    eng.device.write_row(*src, data)
    stream = copy_commands(eng.device, src, dst)  # the slow twin, one command at a time
    seen = []
    for cmd in stream:
        if cmd.action is not None:
            cmd.action()
            seen.append(eng.device.read_row(*dst).copy())
    assert len(seen) == 2
    assert (seen[0][0::2] == data[0::2]).all() and not (seen[0][1::2] == data[1::2]).all()
    assert (seen[1] == data).all()


def test_rbm_gap_is_the_config_trbm():
    slow = copy_across(engine(*LISA_DDR3, "pim.tRBM=16"), 1)[0]
    fast = copy_across(engine(*LISA_DDR3), 1)[0]
    assert slow.time_ns - fast.time_ns == pytest.approx(2 * 8.0)  # two RBMs, 8 ns longer each
    reach = copy_across(engine(*LISA_DDR3, "pim.rbm_subarrays=1"), 7)[0]
    assert reach.commands["RBM"] == 2 * 7 and reach.time_ns == pytest.approx(132.5 + 14 * 8)


def test_lisa_is_about_nine_times_faster_than_rowclone_across_subarrays():
    """LISA reports 9.2x over RowClone's inter-subarray copy (148.5 vs 1363.75 ns)."""
    rowclone = copy_across(engine(*LISA_DDR3[:3]), 1)[0]
    lisa = copy_across(engine(*LISA_DDR3), 1)[0]
    assert rowclone.lisa_moves == 0 and rowclone.commands["TRANSFER"] == 256
    assert rowclone.time_ns / lisa.time_ns == pytest.approx(9.2, rel=0.25)


def test_rbm_energy_is_counted_under_transfer():
    eng = engine(*LISA_DDR3)
    table = energy_table(eng.device.config)
    assert table.rbm_nj == pytest.approx(5.7)  # 8 KiB rows: the config value as is
    small = energy_table(load_config("ddr3-1066", ["pim.lisa=true"]))
    assert small.rbm_nj == pytest.approx(5.7 / 2)  # 4 KiB rows


def test_a_source_in_another_subarray_of_the_bank_is_staged_by_lisa():
    eng = engine(*LISA_DDR3)
    rps = eng.pim.layout.physical_rows
    rng = np.random.default_rng(3)
    a, b = (0, 0, 0, 2, 4), (0, 0, 0, 2, 5 * rps + 4)  # same bank, subarrays 0 and 5
    da, db = (rng.integers(0, 2**64, eng.row_bytes // 8, dtype=np.uint64) for _ in "ab")
    eng.device.write_row(*a, da)
    eng.device.write_row(*b, db)
    out = Vector(((0, 0, 0, 2, 11),), eng.row_bytes)
    report = eng.bbop("xor", out, Vector((a,), eng.row_bytes), Vector((b,), eng.row_bytes))
    assert report.staged_rows == 1 and report.lisa_moves == 1 and "TRANSFER" not in report.commands
    assert (eng.device.read_row(0, 0, 0, 2, 11) == (da ^ db)).all()
    assert (eng.device.read_row(*b) == db).all()


@pytest.mark.parametrize("cmd", ["RBM", "PREE"])
def test_rbm_and_pree_need_an_open_bank(cmd):
    dev = Device(load_config("ddr3-1600", ["pim.lisa=true"]))
    with pytest.raises(IllegalCommandError, match="closed"):
        dev.issue(cmd, 0, 0, 0, 0, 0, 7)
    dev.issue("ACT", 0, 0, 0, 0, 0, 7)
    assert dev.earliest(cmd, 0, 0, 0, 0, 7) > 0


def test_pree_counts_as_a_precharge_and_keeps_the_bank_open():
    dev = Device(load_config("ddr3-1600", ["pim.lisa=true"]))
    dev.issue("ACT", 0, 0, 0, 0, 0, 7)
    t = dev.earliest("PREE", 0, 0, 0, 0, 7)
    dev.issue("PREE", t, 0, 0, 0, 0, 7)
    assert dev.open_row(0, 0, 0, 0) == 7
    assert int(dev.snapshot(t * dev.clock.ticks_per_cycle + 1).banks_precharged.sum()) == 1
