"""Timing within one bank, and from it to refresh, proven tight on every preset (refused
at t-1, accepted at t).

The numbers come from each preset's own timing table (their values are checked against the
datasheets in test_timing_ddr3.py and test_timing_ddr4.py).
"""

from __future__ import annotations

import pytest
from timing_helpers import assert_tight, make_device

T = 1000  # when the command under test's predecessor issues; the device is idle before


@pytest.fixture(params=["ddr3-1600", "ddr3-1066", "ddr4-2400"])
def dev(request):
    return make_device(request.param)


@pytest.fixture
def t(dev):
    return dev.config.timing


def test_act_to_rd_respects_nrcd(dev, t):
    dev.issue("ACT", T, row=5)
    assert_tight(dev, "RD", T + t["nRCD"], row=5)


def test_act_to_wr_respects_nrcd(dev, t):
    dev.issue("ACT", T, row=5)
    assert_tight(dev, "WR", T + t["nRCD"], row=5)


def test_act_to_act_same_bank_respects_nrc(dev, t):
    # Closed by RDA as early as possible: RDA->ACT (nRCD + nRTP + nRP) is shorter than nRC,
    # which a PRE at nRAS would tie (nRAS + nRP = nRC).
    assert t["nRCD"] + t["nRTP"] + t["nRP"] < t["nRC"]
    dev.issue("ACT", T, row=5)
    dev.issue("RDA", T + t["nRCD"], row=5)
    assert_tight(dev, "ACT", T + t["nRC"], row=6)


def test_act_to_pre_respects_nras(dev, t):
    dev.issue("ACT", T, row=5)
    assert_tight(dev, "PRE", T + t["nRAS"])


def test_pre_to_act_respects_nrp(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("PRE", T)
    assert_tight(dev, "ACT", T + t["nRP"], row=6)


def test_rd_to_pre_respects_nrtp(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("RD", T, row=5)
    assert_tight(dev, "PRE", T + t["nRTP"])


def test_wr_to_pre_respects_write_recovery(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("WR", T, row=5)
    assert_tight(dev, "PRE", T + t["nCWL"] + t["nBL"] + t["nWR"])


def test_rda_to_act(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("RDA", T, row=5)
    assert dev.open_row(0, 0, 0, 0) is None
    assert_tight(dev, "ACT", T + t["nRTP"] + t["nRP"], row=6)


def test_wra_to_act(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("WRA", T, row=5)
    assert dev.open_row(0, 0, 0, 0) is None
    assert_tight(dev, "ACT", T + t["nCWL"] + t["nBL"] + t["nWR"] + t["nRP"], row=6)


# --- from a bank to the rank's refresh -----------------------------------------------------


def test_pre_to_ref_respects_nrp(dev, t):
    dev.issue("ACT", T - 500, bank=1)
    dev.issue("PRE", T, bank=1)
    assert_tight(dev, "REF", T + t["nRP"])


def test_prea_to_ref_respects_nrp(dev, t):
    dev.issue("ACT", T - 500, bank=1)
    dev.issue("PREA", T)
    assert_tight(dev, "REF", T + t["nRP"])


def test_act_to_ref_respects_nrc(dev, t):
    # Closed by RDA as early as possible: RDA->REF (nRCD + nRTP + nRP) is shorter than nRC.
    dev.issue("ACT", T, row=5)
    dev.issue("RDA", T + t["nRCD"], row=5)
    assert_tight(dev, "REF", T + t["nRC"])


def test_rda_to_ref(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("RDA", T, row=5)
    assert_tight(dev, "REF", T + t["nRP"] + t["nRTP"])


def test_wra_to_ref(dev, t):
    dev.issue("ACT", T - 500, row=5)
    dev.issue("WRA", T, row=5)
    assert_tight(dev, "REF", T + t["nCWL"] + t["nBL"] + t["nWR"] + t["nRP"])
