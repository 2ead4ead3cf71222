"""Energy: the core's activity counters and the energy formulas on short command patterns,
each expected value computed by hand from the preset's currents with DRAMPower 5.x's DDR4
equations (REFERENCE.md's DDR3-1600 MT41J512M8 figures: IDD0 75, IDD2N 50, IDD3N 57, IDD4R 187,
IDD4W 165, IDD5 220 mA, 1.5 V; eight x8 devices per rank; tCK 1.25 ns, tRAS 35 ns, tRP 10 ns,
nBL 4; DDR4-2400 MT40A512M8: IDD0 64, IDD2N 50, IDD3N 67 mA, 1.2 V, VPP 2.5 V, IPP0 4,
IPP2N = IPP3N 3 mA, tCK 0.833 ns, nRAS 39, nRP 16, nRFC 420, two ranks)."""

from __future__ import annotations

import pytest
from timing_helpers import make_device

from pimsim.config import load_config
from pimsim.errors import ConfigError
from pimsim.results.energy import (
    EnergyProfileError,
    activation_nj,
    energy_of,
    energy_table,
)

DEVICES = 8
TCK = 1.25
# DRAMPower's split: ACT (IDD0 - IDD3N) * tRAS, PRE (IDD0 - IDD2N) * tRP, times VDD (pJ)
ACT_NJ = (75 - 57) * 35 * 1.5 * DEVICES / 1000  # 7.56
PRE_NJ = (75 - 50) * 10 * 1.5 * DEVICES / 1000  # 3.0
ACT_PRE_NJ = (75 * 45 - 57 * 35 - 50 * 10) * 1.5 * DEVICES / 1000  # 10.56, the pair
# what a row raised beyond the first costs: 22% of the pair's tRAS share
EXTRA_ROW_NJ = 0.22 * ACT_PRE_NJ * 35 / 45
ACTIVE_W = 57 * 1.5 * DEVICES / 1000  # 0.684 W = nJ/ns
PRECHARGED_W = 50 * 1.5 * DEVICES / 1000  # 0.6


@pytest.fixture
def dev():
    return make_device("ddr3-1600")


def energy_at(dev, cycle, profile="datasheet"):
    return energy_of(dev.snapshot(cycle * dev.clock.ticks_per_cycle), dev.config, profile)


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
    counters = dev.snapshot(200 * dev.clock.ticks_per_cycle)
    assert counters.banks_precharged.tolist() == [2]
    assert counters.open_ticks.tolist() == [[60 * dev.clock.ticks_per_cycle]]
    e = energy_at(dev, 200)
    assert e["pre"] == pytest.approx(2 * PRE_NJ)
    assert e["background"] == pytest.approx(ACTIVE_W * 60 * TCK + PRECHARGED_W * 140 * TCK)


def test_open_time_is_per_rank_while_any_bank_is_open():
    dev = make_device("ddr3-1600", "organisation.ranks=2")
    tick = dev.clock.ticks_per_cycle
    dev.issue("ACT", 0, rank=0, bank=0, row=1)
    dev.issue("ACT", 10, rank=0, bank=1, row=1)
    dev.issue("PRE", 30, rank=0, bank=0)  # bank 1 still open: the rank stays open
    dev.issue("PRE", 50, rank=0, bank=1)
    dev.issue("ACT", 60, rank=1, bank=2, row=3)
    assert dev.snapshot(100 * tick).open_ticks.tolist() == [[50 * tick, 40 * tick]]


def test_auto_precharge_counts_as_a_precharge(dev):
    dev.issue("ACT", 0, row=7)
    dev.issue("RDA", 10, row=7, column=0)
    assert dev.snapshot(100 * dev.clock.ticks_per_cycle).banks_precharged.tolist() == [1]


def test_triple_row_activation_costs_the_surcharge_per_extra_row(dev):
    dev.core.set_activation_rows(3)
    dev.issue("ACT", 0, row=7)
    dev.core.set_activation_rows(1)
    assert dev.snapshot(0).rows_raised.tolist() == [3]
    e = energy_at(dev, 28)
    assert e["act"] == pytest.approx(ACT_NJ + 2 * EXTRA_ROW_NJ)
    table = energy_table(dev.config)
    assert activation_nj(table, 3) == pytest.approx(e["act"])


def test_surcharge_factor_comes_from_the_config():
    dev = make_device("ddr3-1600", "pim.extra_row_energy_factor=0.5")
    dev.core.set_activation_rows(2)
    dev.issue("ACT", 0, row=7)
    assert energy_at(dev, 28)["act"] == pytest.approx(ACT_NJ + EXTRA_ROW_NJ / 0.22 * 0.5)


def test_ddr4_adds_the_vpp_rail_split_as_drampower_does():
    config = load_config("ddr4-2400")
    t, tck = config.timing, config.tCK_ns
    ras, rp = t["nRAS"] * tck, t["nRP"] * tck
    table = energy_table(config)
    # ACT: (IDD0 - IDD3N) * tRAS * VDD + (IPP0 - IPP3N) * tRAS * VPP, negative on this part
    assert table.act_nj == pytest.approx(((64 - 67) * 1.2 + (4 - 3) * 2.5) * ras * 8 / 1000)
    assert table.act_nj < 0
    # PRE: (IDD0 - IDD2N) * tRP * VDD + (IPP0 - IPP2N) * tRP * VPP
    assert table.pre_nj == pytest.approx(((64 - 50) * 1.2 + (4 - 3) * 2.5) * rp * 8 / 1000)
    assert table.active_standby_w == pytest.approx((67 * 1.2 + 3 * 2.5) * 8 / 1000)
    assert table.precharge_standby_w == pytest.approx((50 * 1.2 + 3 * 2.5) * 8 / 1000)


def test_precharge_standby_on_vpp_uses_ipp2n():
    table = energy_table(load_config("ddr4-2400", ["power.IPP2N=1"]))
    assert table.precharge_standby_w == pytest.approx((50 * 1.2 + 1 * 2.5) * 8 / 1000)
    assert table.active_standby_w == pytest.approx((67 * 1.2 + 3 * 2.5) * 8 / 1000)
    rp = 16 * 0.833
    assert table.pre_nj == pytest.approx(((64 - 50) * 1.2 + (4 - 1) * 2.5) * rp * 8 / 1000)


def test_ipp2n_defaults_to_ipp3n():
    config = load_config("ddr4-2400")
    assert config.power["IPP2N"] == config.power["IPP3N"] == 3
    assert energy_table(config) == energy_table(load_config("ddr4-2400", ["power.IPP2N=3"]))


@pytest.mark.parametrize("keys", [["IPP2N"], ["IPP3N"], ["IPP0", "IPP2N", "IPP3N"]])
def test_a_vpp_current_of_zero_is_accepted(keys):
    config = load_config("ddr4-2400", [f"power.{key}=0" for key in keys])
    assert [config.power[key] for key in keys] == [0] * len(keys)
    assert energy_table(config).act_nj + energy_table(config).pre_nj > 0


def test_a_vpp_rail_that_makes_the_pair_free_is_refused():
    # IPP3N stays 3: below standby; blamed on the override, when the config is loaded
    match = "power.IPP0: an ACT.PRE must cost energy: .*IPPs on VPP. = -"
    with pytest.raises(ConfigError, match=match):
        load_config("ddr4-2400", ["power.IPP0=0"])


def test_ipp2n_without_the_vpp_rail_is_refused():
    with pytest.raises(ConfigError, match="power.IPP2N: IPP2N needs VPP, IPP0 and IPP3N"):
        load_config("ddr3-1600", ["power.IPP2N=3"])


def test_a_negative_vpp_current_is_refused():
    with pytest.raises(ConfigError, match="power.IPP3N: must be non-negative"):
        load_config("ddr4-2400", ["power.IPP3N=-1"])


def test_refresh_keeps_the_rank_in_active_standby(dev):
    nrfc = dev.config.timing["nRFC"]
    dev.issue("REF", 0)
    e = energy_at(dev, nrfc + 100)
    assert e["background"] == pytest.approx(ACTIVE_W * nrfc * TCK + PRECHARGED_W * 100 * TCK)
    assert e["above_idle"] == pytest.approx(0.0)


def test_ddr4_refresh_costs_active_standby_over_trfc():
    dev = make_device("ddr4-2400")
    trfc = 420 * 0.833
    dev.issue("REF", 0)
    quiet = energy_at(dev, 2000)
    # against precharge standby: (IDD3N - IDD2N) * tRFC * VDD (IPP2N = IPP3N), 8 devices
    extra = (67 - 50) * 1.2 * trfc * 8 / 1000  # 57.1 nJ
    assert extra == pytest.approx(57.09, abs=0.01)
    precharged = (50 * 1.2 + 3 * 2.5) * 8 / 1000
    assert quiet["background"] == pytest.approx(precharged * 2 * 2000 * 0.833 + extra)


def test_extra_rows_cost_energy_where_the_act_term_is_negative():
    dev = make_device("ddr4-2400")
    dev.core.set_activation_rows(3)
    dev.issue("ACT", 0, row=7)
    table = energy_table(dev.config)
    pair = table.act_nj + table.pre_nj
    assert energy_at(dev, 40)["act"] == pytest.approx(table.act_nj + 2 * 0.22 * pair * 39 / 55)
    assert activation_nj(table, 3) > activation_nj(table, 1)


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
    with pytest.raises(ConfigError, match="power.IDD0: an ACT.PRE must cost energy"):
        load_config("ddr3-1600", ["power.IDD0=40"])  # load_config builds the energy table


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(EnergyProfileError, match="datasheet, ambit-micro17"):
        energy_table(load_config("ddr3-1600"), "micro99")


def test_io_energy_is_a_config_value():
    config = load_config("ddr3-1600", ["power.io_rd_pj_per_bit=10", "power.io_wr_pj_per_bit=0"])
    table = energy_table(config)
    assert table.io_rd_nj_per_bit == pytest.approx(0.010)
    assert table.io_wr_nj_per_bit == 0


def test_a_free_activation_fails_the_run_before_it_starts(tmp_path):
    from pathlib import Path

    from click.testing import CliRunner

    from pimsim.cli.main import cli

    trace = Path(__file__).parent.parent / "traces" / "sample.trace"
    out = tmp_path / "cmds.csv"
    args = ["run", str(trace), "-p", "power.IDD0=40", "--drampower", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and len(result.output.splitlines()) == 1
    assert "power.IDD0: an ACT+PRE must cost energy" in result.output
    assert list(tmp_path.iterdir()) == []
