"""BBOP and COPY lines in traces: parsed, run in DRAM where possible, bit-exact, reported."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pimsim.addrmap import AddressMapper
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.errors import TraceError
from pimsim.sim import Replay
from pimsim.standards import CMD
from pimsim.tracefile import read_trace

SAMPLE = Path(__file__).parent.parent / "traces" / "sample-pim.trace"
BLOCK = 256 * 1024  # one 8 KiB row in each of ddr4-2400's 32 banks


def test_sample_pim_trace_runs_and_reports_each_path():
    doc = Replay(load_config(), SAMPLE).run()
    pim = doc["pim"]
    assert pim["ops"] == {"and": 2, "not": 1, "copy": 1, "or": 1, "xor": 1}
    assert pim["in_dram_rows"] == 4 * 32 and pim["cpu_rows"] == 1 and pim["cpu_ops"] == 1
    # the row in the other rank: 2 source rows read, 1 written; the half row: 2 x 64 + 64
    assert pim["cpu_reads"] == 2 * 128 + 2 * 64 and pim["cpu_writes"] == 128 + 64
    assert pim["staged_rows"] == 32  # the or: both sources copied into its subarray
    assert pim["fallback_reasons"] == {
        "operands in different banks": 1,  # the other rank
        "size is not a multiple of the row size": 1,
    }
    assert doc["commands"]["AAP"] == 32 * (4 + 2 + 1 + 4) and doc["commands"]["AACT"] == 352
    assert doc["commands"]["TRANSFER"] == 32 * 2 * 2 * 128  # 2 sources, each PSM twice
    assert doc["rows_raised"] > doc["commands"]["ACT"]


def replay_lines(tmp_path, lines):
    trace = tmp_path / "t.trace"
    trace.write_text("".join(f"{line}\n" for line in lines))
    run = Replay(load_config(), trace)
    return run, run.run()


def block(run, base, size=BLOCK):
    m = AddressMapper.for_config(run.config)
    return np.concatenate(
        [run.device.read_burst(*m.decode(base + off)) for off in range(0, size, 64)]
    )


def pattern(base, size=BLOCK):
    """What trace writes store: each 8-byte word holds its own byte address."""
    return np.arange(base, base + size, 8, dtype=np.uint64)


@pytest.mark.parametrize("op", ["and", "or", "xor", "nand"])
def test_bbop_results_are_bit_exact_after_host_writes(tmp_path, op):
    writes = [f"0 W {a:#x}" for base in (0x0, 0x40000) for a in range(base, base + BLOCK, 64)]
    run, doc = replay_lines(tmp_path, [*writes, f"0 BBOP {op} 0x80000 0x0 0x40000 {BLOCK}"])
    a, b = pattern(0x0), pattern(0x40000)
    want = {"and": a & b, "or": a | b, "xor": a ^ b, "nand": ~(a & b)}[op]
    assert (block(run, 0x80000) == want).all()
    assert (block(run, 0x0) == a).all() and (block(run, 0x40000) == b).all()
    assert doc["pim"]["in_dram_rows"] == 32 and doc["pim"]["cpu_rows"] == 0


def test_unaligned_bbop_runs_on_the_cpu_path_and_is_exact(tmp_path):
    writes = [f"0 W {a:#x}" for a in range(0x40, 0x40 + 8192, 64)]
    run, doc = replay_lines(tmp_path, [*writes, "5 BBOP not 0x100040 0x40 8192"])
    assert (block(run, 0x100040, 8192) == ~pattern(0x40, 8192)).all()
    assert doc["pim"]["fallback_reasons"] == {"address not row-aligned": 1}
    assert doc["pim"]["cpu_lines"] == 2 * 128 and doc["pim"]["in_dram_rows"] == 0


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("5 BBOP frob 0x0 0x0 64", ":1: op: 'frob' is not a bulk operation"),
        ("5 BBOP and 0x0 0x0 64", ":1: line: and takes a destination, 2 source(s) and a size"),
        ("5 BBOP not 0x0 0xZZ 64", ":1: src1: '0xZZ' is not a hexadecimal integer"),
        ("5 COPY 0x0 0x40 100", ":1: size: 100 is not a positive multiple of 64 bytes"),
        ("5 COPY 0x8 0x40 64", ":1: dst: 0x8 is not 64-byte aligned"),
    ],
)
def test_malformed_pim_lines_name_the_field(tmp_path, line, where):
    trace = tmp_path / "bad.trace"
    trace.write_text(line + "\n")
    with pytest.raises(TraceError) as info:
        list(read_trace(trace))
    assert str(info.value).startswith(f"{trace}{where}")
    result = CliRunner().invoke(cli, ["run", str(trace)])
    assert result.exit_code == 1 and result.output.startswith(f"Error: {trace}{where}")


def test_bulk_operation_beyond_the_memory_names_the_line(tmp_path):
    trace = tmp_path / "far.trace"
    trace.write_text("0 R 0x0\n1 BBOP not 0x3ffff0000 0x0 0x20000\n")
    result = CliRunner().invoke(cli, ["run", str(trace)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:2: size: not reaches 0x400010000, beyond")


def test_refresh_keeps_its_rate_across_bulk_operations():
    """The bulk engine refreshes on the controller's nREFI grid during in-DRAM work and the
    controller skips the slots it covered: one REF per rank per nREFI over the whole run."""
    config = load_config("ddr4-2400")
    stats = Replay(config, SAMPLE).run()
    slots = stats["cycles"] // config.timing["nREFI"]
    ranks = config.organisation.ranks
    assert slots >= 4
    assert ranks * (slots - 1) <= stats["commands"]["REF"] <= ranks * slots


def replay_logged(tmp_path, lines):
    """Replay ``lines`` with the command log on: (run, stats, log rows)."""
    trace = tmp_path / "t.trace"
    trace.write_text("".join(f"{line}\n" for line in lines))
    run = Replay(load_config(), trace)
    run.device.start_command_log()
    doc = run.run()
    return run, doc, run.device.command_log()


def test_host_requests_to_other_banks_run_while_a_bulk_operation_runs(tmp_path):
    # one 8 KiB row: the NOT runs in bank 0 of rank 0 only; the reads go to banks 1..3,
    # one every 4 cycles for 160 cycles
    reads = [f"{6 + 4 * k} R {0x4000 * (k % 3 + 1) + 64 * k:#x}" for k in range(40)]
    run, doc, log = replay_logged(tmp_path, ["0 W 0x0", "5 BBOP not 0x80000 0x0 8192", *reads])
    aact = log[log[:, 1] == CMD["AACT"]]
    first, last = int(aact[:, 0].min()), int(aact[:, 0].max())
    host_rd = log[(log[:, 1] == CMD["RD"])]
    assert len(host_rd) == 40 and not (host_rd[:, 2:6] == (0, 0, 0, 0)).all(axis=1).any()
    during = (host_rd[:, 0] > first) & (host_rd[:, 0] < last)
    assert during.sum() >= 10  # no barrier: the host's reads go on during the NOT
    assert (block(run, 0x80000, 64) == ~pattern(0x0, 64)).all()


def test_a_bulk_operation_keeps_program_order_in_its_banks(tmp_path):
    lines = [
        "0 W 0x0",  # before: the NOT sees it
        "5 BBOP not 0x80000 0x0 8192",
        "6 W 0x40",  # after, to a source: the NOT must not see it
        "7 R 0x80000",  # after, of the destination: waits for the NOT's result
    ]
    run, doc, log = replay_logged(tmp_path, lines)
    result = block(run, 0x80000, 8192)
    assert (result[:8] == ~pattern(0x0, 64)).all()
    assert (result[8:16] == ~np.zeros(8, dtype=np.uint64)).all()  # not ~pattern(0x40)
    assert (block(run, 0x40, 64) == pattern(0x40, 64)).all()  # the write did happen, later
    job = log[np.isin(log[:, 1], [CMD["AACT"]])]
    bank0 = (log[:, 2:6] == (0, 0, 0, 0)).all(axis=1)
    writes = log[(log[:, 1] == CMD["WR"]) & bank0]
    reads = log[(log[:, 1] == CMD["RD"]) & bank0]
    assert writes[0, 0] < job[0, 0] < job[-1, 0] < writes[1, 0]
    assert reads[0, 0] > job[-1, 0]
    assert doc["pim"]["in_dram_rows"] == 1
