"""Energy: the core's activity counters and the energy formulas on short command patterns,
each expected value computed by hand from the preset's currents (REFERENCE.md's DDR3-1600
MT41J512M8 figures: IDD0 75, IDD2N 50, IDD3N 57, IDD4R 187, IDD4W 165, IDD5 220 mA, 1.5 V;
eight x8 devices per rank; tCK 1.25 ns, tRAS 35 ns, tRP 10 ns, nBL 4)."""

from __future__ import annotations

import pytest
from timing_helpers import make_device

from pimsim.config import load_config
from pimsim.energy import (
    EnergyProfileError,
    activation_nj,
    device_energy,
    energy_table,
)
from pimsim.errors import ConfigError

DEVICES = 8
TCK = 1.25
# one ACT+PRE per device: IDD0*tRC - IDD3N*tRAS - IDD2N*tRP, times VDD (pJ)
ACT_PRE_NJ = (75 * 45 - 57 * 35 - 50 * 10) * 1.5 * DEVICES / 1000  # 10.56
ACT_NJ, PRE_NJ = ACT_PRE_NJ * 35 / 45, ACT_PRE_NJ * 10 / 45
ACTIVE_W = 57 * 1.5 * DEVICES / 1000  # 0.684 W = nJ/ns
PRECHARGED_W = 50 * 1.5 * DEVICES / 1000  # 0.6


@pytest.fixture
def dev():
    return make_device("ddr3-1600")


def energy_at(dev, cycle, profile="datasheet"):
    return device_energy(dev, cycle * dev.ticks_per_cycle, profile)


def test_one_activation_and_precharge(dev):
    dev.issue("ACT", 0, row=7)
    dev.issue("PRE", 28, row=7)  # tRAS = 28 cycles = 35 ns
    e = energy_at(dev, 36)  # 45 ns: PRE + tRP
    assert e["act"] == pytest.approx(ACT_NJ)
    assert e["pre"] == pytest.approx(PRE_NJ)
    assert e["act"] + e["pre"] == pytest.approx(10.56)
    assert e["background"] == pytest.approx(ACTIVE_W * 35 + PRECHARGED_W * 10)
    assert e["total"] == pytest.approx(10.56 + 23.94 + 6.0)
    assert e["above_idle"] == pytest.approx(e["total"] - PRECHARGED_W * 45)
    assert e["rd"] == e["wr"] == e["io"] == e["ref"] == 0


def test_read_and_write_bursts_with_channel_io(dev):
    dev.issue("ACT", 0, row=7)
    dev.issue("RD", 10, row=7, column=0)
    dev.issue("WR", 40, row=7, column=8)
    e = energy_at(dev, 100)
    burst_ns = 4 * TCK
    assert e["rd"] == pytest.approx((187 - 57) * burst_ns * 1.5 * DEVICES / 1000)  # 7.8 nJ
    assert e["wr"] == pytest.approx((165 - 57) * burst_ns * 1.5 * DEVICES / 1000)  # 6.48 nJ
    assert e["io"] == pytest.approx(512 * (2.9 + 13.3) / 1000)  # the preset's pJ per bit
    # still open at the end: active standby all the way
    assert e["background"] == pytest.approx(ACTIVE_W * 100 * TCK)


def test_refresh_costs_idd5_over_trfc(dev):
    nrfc = dev.config.timing["nRFC"]
    dev.issue("REF", 0)
    e = energy_at(dev, nrfc)
    assert e["ref"] == pytest.approx((220 - 57) * nrfc * TCK * 1.5 * DEVICES / 1000)
    assert e["above_idle"] == pytest.approx(0.0)  # refresh is what an idle memory does too


def test_prea_precharges_every_open_bank_and_ends_the_open_time(dev):
    dev.issue("ACT", 0, bank=0, row=1)
    dev.issue("ACT", 10, bank=1, row=1)
    dev.issue("PREA", 60)
    act = dev.activity(200 * dev.ticks_per_cycle)
    assert act["banks_precharged"].tolist() == [2]
    assert act["open_ticks"].tolist() == [[60 * dev.ticks_per_cycle]]
    e = energy_at(dev, 200)
    assert e["pre"] == pytest.approx(2 * PRE_NJ)
    assert e["background"] == pytest.approx(ACTIVE_W * 60 * TCK + PRECHARGED_W * 140 * TCK)


def test_open_time_is_per_rank_while_any_bank_is_open():
    dev = make_device("ddr3-1600", "organisation.ranks=2")
    tick = dev.ticks_per_cycle
    dev.issue("ACT", 0, rank=0, bank=0, row=1)
    dev.issue("ACT", 10, rank=0, bank=1, row=1)
    dev.issue("PRE", 30, rank=0, bank=0)  # bank 1 still open: the rank stays open
    dev.issue("PRE", 50, rank=0, bank=1)
    dev.issue("ACT", 60, rank=1, bank=2, row=3)
    act = dev.activity(100 * tick)
    assert act["open_ticks"].tolist() == [[50 * tick, 40 * tick]]


def test_auto_precharge_counts_as_a_precharge(dev):
    dev.issue("ACT", 0, row=7)
    dev.issue("RDA", 10, row=7, column=0)
    assert dev.activity(100 * dev.ticks_per_cycle)["banks_precharged"].tolist() == [1]


def test_triple_row_activation_costs_the_surcharge_per_extra_row(dev):
    dev.core.set_activation_rows(3)
    dev.issue("ACT", 0, row=7)
    dev.core.set_activation_rows(1)
    assert dev.activity(0)["rows_raised"].tolist() == [3]
    e = energy_at(dev, 28)
    assert e["act"] == pytest.approx(ACT_NJ * (1 + 0.22 * 2))
    table = energy_table(dev.config)
    assert activation_nj(table, 3) == pytest.approx(e["act"])


def test_surcharge_factor_comes_from_the_config():
    dev = make_device("ddr3-1600", "pim.extra_row_energy_factor=0.5")
    dev.core.set_activation_rows(2)
    dev.issue("ACT", 0, row=7)
    assert energy_at(dev, 28)["act"] == pytest.approx(ACT_NJ * 1.5)


def test_ddr4_adds_the_vpp_rail():
    config = load_config("ddr4-2400")
    t, tck = config.timing, config.tCK_ns
    ras, rp = t["nRAS"] * tck, t["nRP"] * tck
    table = energy_table(config)
    vdd = (64 * (ras + rp) - 67 * ras - 50 * rp) * 1.2
    vpp = (4 - 3) * (ras + rp) * 2.5
    assert table.act_nj + table.pre_nj == pytest.approx((vdd + vpp) * 8 / 1000)
    assert table.active_standby_w == pytest.approx((67 * 1.2 + 3 * 2.5) * 8 / 1000)
    assert table.precharge_standby_w == pytest.approx((50 * 1.2 + 3 * 2.5) * 8 / 1000)


def test_ambit_profile_uses_its_constants_and_no_background(dev):
    dev.issue("ACT", 0, row=7)
    dev.issue("RD", 10, row=7, column=0)
    dev.issue("PRE", 28, row=7)
    e = energy_at(dev, 1000, "ambit-micro17")
    row_kib = 8  # 1 KiB page per x8 device, 8 devices
    assert e["act"] == pytest.approx(0.26 * row_kib)
    assert e["pre"] == pytest.approx(0.26 * row_kib)
    assert e["rd"] == pytest.approx(3.3 * 512 / 1000)
    assert e["io"] == pytest.approx(2.25 * 512 / 1000)
    assert e["background"] == 0
    assert e["above_idle"] == pytest.approx(e["total"])


def test_a_datasheet_with_no_activation_energy_is_refused():
    with pytest.raises(ConfigError, match="power.IDD0.*must be positive"):
        load_config("ddr3-1600", ["power.IDD0=40"])  # load_config builds the energy table


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(EnergyProfileError, match="datasheet, ambit-micro17"):
        energy_table(load_config("ddr3-1600"), "micro99")


def test_io_energy_is_a_config_value():
    config = load_config("ddr3-1600", ["power.io_rd_pj_per_bit=10", "power.io_wr_pj_per_bit=0"])
    table = energy_table(config)
    assert table.io_rd_nj_per_bit == pytest.approx(0.010)
    assert table.io_wr_nj_per_bit == 0
