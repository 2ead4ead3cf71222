"""The channel controller against closed-form timing (DDR4-2400 unless said otherwise)."""

import pytest

from pimsim.config import load_config
from pimsim.sim import Replay

# A request enters at its arrival cycle and its first command issues the cycle after:
# Ramulator 2 has the same one-cycle gap between accepting a request and scheduling it.
CONTROLLER_OVERHEAD = 1


def replay(tmp_path, lines, config="ddr4-2400", *overrides):
    trace = tmp_path / "t.trace"
    trace.write_text("".join(f"{line}\n" for line in lines))
    cfg = load_config(config, overrides)
    return Replay(cfg, trace).run(), cfg


def test_lone_read_to_a_closed_bank_takes_nrcd_ncl_nbl(tmp_path):
    doc, cfg = replay(tmp_path, ["0 R 0x0"])
    t = cfg.timing
    expected = t["nRCD"] + t["nCL"] + t["nBL"] + CONTROLLER_OVERHEAD
    assert doc["latency_ns"]["max"] == pytest.approx(expected * cfg.tCK_ns)
    assert doc["cycles"] == expected + 1
    assert doc["row_buffer"] == {"hits": 0, "misses": 1, "conflicts": 0}


def test_reads_to_different_rows_of_one_bank_are_spaced_by_nrc(tmp_path):
    row = 1 << 18  # RoBaRaCoCh: bits 18+ are the row
    doc, cfg = replay(tmp_path, [f"0 R {i * row:#x}" for i in range(4)])
    t = cfg.timing
    # ACT i+1 can follow ACT i only after nRC (nRAS + nRP): reads return nRC apart
    first = t["nRCD"] + t["nCL"] + t["nBL"] + CONTROLLER_OVERHEAD
    assert doc["cycles"] == first + 3 * t["nRC"] + 1
    assert doc["row_buffer"]["conflicts"] == 3


def test_read_of_a_queued_write_is_answered_from_the_write_queue(tmp_path):
    # while reads wait, the controller stays in read mode and the write stays queued
    reads = [f"0 R {(i + 1) << 18:#x}" for i in range(8)]
    doc, _ = replay(tmp_path, [*reads, "0 W 0x40", "0 R 0x40"])
    assert doc["requests"]["forwarded_reads"] == 1
    assert doc["requests"]["reads"] == 9 and doc["requests"]["writes"] == 1
    assert doc["commands"]["RD"] == 8


def test_refresh_runs_every_nrefi_per_rank(tmp_path):
    cfg = load_config("ddr4-2400")
    n = 35 * cfg.timing["nREFI"] // 100
    doc, _ = replay(tmp_path, [f"{10 * i} R {64 * i:#x}" for i in range(n)])
    # the replay lasts 3.5 refresh intervals; each interval ends with one REF per rank
    assert doc["commands"]["REF"] == 3 * cfg.organisation.ranks
