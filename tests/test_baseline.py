"""The CPU baseline: a host core through the controller, with misses in flight, a store
buffer and a compute rate (pimsim.baseline, the engine's host mode). Each test reads the
issued commands back from the core's log."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.addrmap import AddressMapper
from pimsim.baseline import (
    LINE_BYTES,
    HostOp,
    host_program,
    read_lines,
    row_lines,
    run_host_op,
    write_lines,
)
from pimsim.config import load_config
from pimsim.controller import DONE, make_engine
from pimsim.device import Device
from pimsim.standards import COMMANDS

RD, WR = COMMANDS.index("RD"), COMMANDS.index("WR")


def host_run(preset, size, sources=1, *overrides):
    """(device, mapper, dst, source bases, end tick, command log) of one host op."""
    config = load_config(preset, list(overrides))
    device, mapper = Device(config), AddressMapper.for_config(config)
    device.start_command_log()
    bases = [k * (1 << 22) + k * config.organisation.row_bytes for k in range(sources + 1)]
    *srcs, dst = bases
    end = run_host_op(device, mapper, dst, srcs, size)
    return device, mapper, dst, srcs, end, device.command_log()


def line_key(mapper, address):
    ch, rk, bg, ba, row, col = mapper.decode(address)
    return (ch, rk, bg, ba, row, col)


def issue_ticks(log, mapper, code, base, lines):
    """Issue tick of the RD/WR of each line of the array at ``base``."""
    where = {tuple(r[2:8]): r[0] for r in log.tolist() if r[1] == code}
    return np.array([where[line_key(mapper, base + LINE_BYTES * k)] for k in range(lines)])


def test_one_miss_in_flight_serialises_the_reads():
    dev, mapper, dst, (src,), end, log = host_run("ddr3-1600", 4096, 1, "host.misses_in_flight=1")
    t = dev.timing_ticks
    reads = np.sort(issue_ticks(log, mapper, RD, src, 64))
    assert (np.diff(reads) >= t["nCL"] + t["nBL"]).all()  # the next miss waits for the data


def test_more_misses_in_flight_overlap_reads_and_finish_sooner():
    *_, end_one, log_one = host_run("ddr3-1600", 8192, 1, "host.misses_in_flight=1")
    dev, mapper, dst, (src,), end_ten, log = host_run("ddr3-1600", 8192, 1)
    t = dev.timing_ticks
    reads = np.sort(issue_ticks(log, mapper, RD, src, 128))
    assert (np.diff(reads) < t["nCL"] + t["nBL"]).any()
    assert end_ten < 0.6 * end_one


def test_a_write_waits_for_its_reads_and_the_compute():
    # 0.64 GB/s: 100 ns to compute one line
    dev, mapper, dst, srcs, end, log = host_run("ddr3-1600", 2048, 2, "host.compute_gbps=0.64")
    t, tick_ns = dev.timing_ticks, dev.config.tCK_ns / dev.clock.ticks_per_cycle
    back = np.maximum(*(issue_ticks(log, mapper, RD, s, 32) for s in srcs)) + t["nCL"] + t["nBL"]
    writes = issue_ticks(log, mapper, WR, dst, 32)
    assert (writes >= back + 100 / tick_ns).all()
    assert end * tick_ns >= 32 * 100  # one line at a time


def test_a_slow_core_is_compute_bound():
    dev, *_, end, _ = host_run("ddr3-1600", 64 * 50, 1, "host.compute_gbps=0.064")  # 1 us/line
    ns = end * dev.config.tCK_ns / dev.clock.ticks_per_cycle
    assert 50_000 <= ns <= 50_000 * 1.02


def test_zeroing_only_writes():
    dev, mapper, dst, srcs, end, log = host_run("ddr3-1066", 4096, 0)
    counts = dev.command_counts()
    assert counts["RD"] == 0 and counts["WR"] == 64
    assert srcs == []


def test_rowclone_baseline_copy_of_4kib_on_ddr3_1066():
    """RowClone's baseline: 4 KB over the channel in 1046 ns (REFERENCE.md); within 15%."""
    dev, *_, end, _ = host_run("ddr3-1066", 4096, 1)
    ns = end * dev.config.tCK_ns / dev.clock.ticks_per_cycle
    assert ns == pytest.approx(1046, rel=0.15)


def test_host_program_reads_each_source_then_writes():
    config = load_config("ddr3-1600")
    mapper = AddressMapper.for_config(config)
    cycles, is_write, fields, addresses, deps = host_program(mapper, 1 << 20, [0, 1 << 21], 128, 5)
    assert is_write.tolist() == [0, 0, 1, 0, 0, 1]
    assert deps.tolist() == [0, 0, 2, 0, 0, 2]
    assert addresses.tolist() == [0, 1 << 21, 1 << 20, 64, (1 << 21) + 64, (1 << 20) + 64]
    assert (cycles == 5).all() and fields.shape == (6, 6)


def test_load_host_refuses_bad_dependencies_and_a_busy_engine():
    config = load_config("ddr3-1600")
    device, mapper = Device(config), AddressMapper.for_config(config)
    engine = make_engine(device, with_data=False)
    cycles, is_write, fields, addresses, deps = host_program(mapper, 4096, [0], 128, 0)
    bad = deps.copy()
    bad[0] = 1  # a read that depends on something
    with pytest.raises(ValueError, match="deps"):
        engine.load_host(cycles, is_write, fields, addresses, bad, 4, 0.0)
    engine.load(cycles, is_write, fields, addresses)
    engine.run(1, False)
    with pytest.raises(RuntimeError, match="every earlier request"):
        engine.load_host(cycles, is_write, fields, addresses, deps, 4, 0.0)


def test_read_and_write_lines_are_the_bursts_one_at_a_time():
    """read_lines/write_lines (vectorized, through whole rows) against read_burst/write_burst,
    on lines of a few rows, some rows holding bursts only."""
    config = load_config("ddr4-2400")
    device = Device(config)
    rng = np.random.default_rng(4)
    burst, cols = config.organisation.burst_length, config.organisation.columns
    fields = np.array(
        [(0, int(r % 2), 0, 3, int(r), int(c)) for r, c in rng.integers(0, 4, (20, 2)) * [1, 8]],
        dtype=np.int32,
    )
    fields[:, 5] = rng.integers(0, cols // burst, len(fields)) * burst
    fields = np.unique(fields, axis=0)
    data = rng.integers(0, 2**64, (len(fields), burst), dtype=np.uint64)
    device.write_burst(0, 0, 0, 3, 1, 0, np.arange(burst, dtype=np.uint64))  # a burst-only row
    write_lines(device, fields, data)
    for f, words in zip(fields.tolist(), data, strict=True):
        assert np.array_equal(device.read_burst(*f), words)
    assert np.array_equal(read_lines(device, fields), data)


def test_a_host_op_stores_its_result_after_its_requests():
    """HostOp on a 1-row not: the engine's host mode serves its reads and writes, then the
    result (computed before them) is in the destination line by line."""
    config = load_config("ddr3-1600")
    device = Device(config)
    engine = make_engine(device)
    rows = np.array([[0, 0, 0, 1, 7]]), np.array([[0, 0, 0, 2, 9]])
    src = np.random.default_rng(5).integers(0, 2**64, config.organisation.columns, np.uint64)
    device.write_row(*rows[0][0], src)

    def lines(first, last):
        pairs = [row_lines(device, r) for r in rows]
        return [p[0][first:last] for p in pairs], [p[1][first:last] for p in pairs]

    op = HostOp(device, 128, lines, lambda values, shape: ~values[0], block=64)
    for _ in op.blocks(engine, 0):
        while engine.run(1 << 40, True) != DONE:
            pass
    assert np.array_equal(device.read_row(*rows[1][0]), ~src)
    assert engine.channel_stats(0)["reads"] == 128 and engine.channel_stats(0)["writes"] == 128
