"""The channel controller against closed-form timing (DDR4-2400 unless said otherwise)."""

import numpy as np
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


def test_row_hit_stream_over_bank_groups_reaches_peak_bandwidth(tmp_path):
    # RoCoRaBaCh puts consecutive lines in different bank groups, each in its open row, so
    # reads follow each other at nCCD_S = nBL: the data bus is never idle. (Within a single
    # DDR4 row, JEDEC's nCCD_L = 6 > nBL = 4 caps a stream at 4/6 of the peak.)
    lines = [f"0 R {64 * i:#x}" for i in range(4096)]
    doc, cfg = replay(tmp_path, lines, "ddr4-2400", "address_mapping.scheme=RoCoRaBaCh")
    peak = cfg.organisation.burst_bytes / (cfg.timing["nBL"] * cfg.tCK_ns)  # GB/s
    assert doc["bandwidth_gbps"] >= 0.9 * peak


def test_single_row_stream_on_ddr3_reaches_peak_bandwidth(tmp_path):
    lines = [f"0 R {64 * (i % 128):#x}" for i in range(4096)]  # one 8 KiB row, re-read
    doc, cfg = replay(tmp_path, lines, "ddr3-1600")
    peak = cfg.organisation.burst_bytes / (cfg.timing["nBL"] * cfg.tCK_ns)
    assert doc["row_buffer"]["misses"] == 1 + doc["commands"]["REF"]  # refresh closes it
    assert doc["bandwidth_gbps"] >= 0.9 * peak


def test_no_four_activates_to_a_rank_fall_inside_nfaw(tmp_path):
    from pimsim.workloads import write_trace

    cfg = load_config("ddr4-2400")
    trace = write_trace(tmp_path / "rndrd.trace", "rndrd", 20_000)
    run = Replay(cfg, trace, with_data=False)
    run.device.start_command_log()
    run.run()
    log = run.device.command_log()
    acts = log[log[:, 1] == 0]
    nfaw, gaps = cfg.timing["nFAW"] * run.device.clock.ticks_per_cycle, []  # the log is in ticks
    for rank in range(cfg.organisation.ranks):
        t = acts[acts[:, 3] == rank, 0]
        gaps.append(t[4:] - t[:-4])
    gaps = np.concatenate(gaps)
    assert gaps.min() >= nfaw
    assert (gaps == nfaw).sum() > 100  # and the window really binds on random reads


def test_refresh_costs_about_nrfc_over_nrefi_of_the_time(tmp_path):
    from pimsim.workloads import write_trace

    trace = write_trace(tmp_path / "rndrd.trace", "rndrd", 30_000)
    on = Replay(load_config("ddr4-2400"), trace, with_data=False).run()
    off = Replay(
        load_config("ddr4-2400", ["controller.refresh=false"]), trace, with_data=False
    ).run()
    t = load_config("ddr4-2400").timing
    lost = 1 - off["cycles"] / on["cycles"]
    assert lost == pytest.approx(t["nRFC"] / t["nREFI"], abs=0.01)
    assert off["commands"]["REF"] == 0


def test_closed_row_policy_precharges_after_the_last_queued_hit(tmp_path):
    lines = ["0 R 0x0", "0 R 0x40", "400 R 0x80"]  # one row; the third comes much later
    opened, _ = replay(tmp_path, lines, "ddr4-2400")
    closed, _ = replay(tmp_path, lines, "ddr4-2400", "controller.row_policy=closed")
    assert opened["row_buffer"] == {"hits": 2, "misses": 1, "conflicts": 0}
    assert closed["row_buffer"] == {"hits": 1, "misses": 2, "conflicts": 0}
    assert closed["commands"]["RDA"] == 2 and closed["commands"]["RD"] == 1


def test_closed_row_cap_limits_hits_to_one_row(tmp_path):
    lines = [f"0 R {64 * i:#x}" for i in range(8)]
    doc, _ = replay(
        tmp_path, lines, "ddr4-2400", "controller.row_policy=closed", "controller.row_cap=3"
    )
    assert doc["commands"]["RDA"] == 3 and doc["commands"]["ACT"] == 3


def test_fcfs_waits_for_the_oldest_request(tmp_path):
    # a conflict to bank 0 is oldest; FR-FCFS serves the younger hit first, FCFS may not
    lines = ["0 R 0x0", "10 R 0x40000", "11 R 0x40"]
    fr, _ = replay(tmp_path, lines, "ddr4-2400")
    fc, _ = replay(tmp_path, lines, "ddr4-2400", "controller.scheduler=fcfs")
    assert fr["row_buffer"]["hits"] == 1 and fc["row_buffer"]["hits"] == 0
    assert fc["cycles"] > fr["cycles"]


def test_max_row_activations_counts_a_hammered_row(tmp_path):
    row = 1 << 18  # RoBaRaCoCh: the next row of the same bank
    lines = [f"{200 * i} R {(i % 2) * row:#x}" for i in range(100)]  # rows 0, 1, 0, 1, ...
    doc, _ = replay(tmp_path, lines, "ddr4-2400", "controller.refresh=false")
    assert doc["commands"]["ACT"] == 100
    assert doc["max_row_activations"] == 50
