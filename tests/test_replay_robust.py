"""Replay engine robustness: every bulk operation bit-exact whatever its operands, idle time
jumped in O(1) with refresh counted in closed form, bounded memory for long latencies, CPU-path
counters that match the commands issued, Ctrl-C keeping the work done."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from signals import restore_sigint

from pimsim.addrmap import AddressMapper
from pimsim.ambit.bulk import NUMPY_OPS
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.errors import TraceError
from pimsim.sim import Replay

SAMPLE_PIM = Path(__file__).parent.parent / "traces" / "sample-pim.trace"
PIMSIM = str(Path(sys.executable).with_name("pimsim"))
ROW = 8192  # ddr4-2400: one rank-wide row
BLOCK = 32 * ROW  # one row in each of its 32 banks
SOURCES = {"zero": 0, "one": 0, "copy": 1, "not": 1}
SOURCES.update(dict.fromkeys(("and", "or", "nand", "nor", "xor", "xnor"), 2))

#: (destination, the two sources, size): in-DRAM, staged, fallbacks and overlaps
LAYOUTS = {
    "aligned": (0x80000, (0x0, 0x40000), BLOCK),
    "in_place": (0x0, (0x0, 0x40000), BLOCK),
    "same_sources": (0x80000, (0x0, 0x0), BLOCK),
    "overlap_rows_forward": (0x2000, (0x0, 0x40000), 2 * ROW),
    "overlap_rows_backward": (0x0, (0x2000, 0x40000), 2 * ROW),
    "overlap_lines_forward": (0x40, (0x0, 0x1000), 4096),
    "overlap_lines_backward": (0x0, (0x40, 0x1000), 4096),
    "misaligned": (0x100040, (0x40, 0x40040), ROW),
    "cross_rank": (0x400000, (0x0, 0x2000), ROW),
    "other_subarray": (0xFA00000, (0x0, 0x40000), BLOCK),
}
FAST_LAYOUTS = ("in_place", "overlap_rows_forward", "overlap_lines_backward", "cross_rank")


def write_trace(tmp_path: Path, lines: list[str], name: str = "t.trace") -> Path:
    trace = tmp_path / name
    trace.write_text("".join(f"{line}\n" for line in lines))
    return trace


def expected_memory(op: str, dst: int, sources: tuple[int, ...], size: int, writes: list[int]):
    """What memory holds after the writes (each word its own address) and the operation,
    its sources read before its destination is written: line address -> 8 words."""
    mem = {a: np.arange(a, a + 64, 8, dtype=np.uint64) for a in writes}
    zero = np.zeros(8, dtype=np.uint64)
    values = [np.concatenate([mem.get(s + o, zero) for o in range(0, size, 64)]) for s in sources]
    if op in ("zero", "one"):
        result = np.full(size // 8, 0 if op == "zero" else ~np.uint64(0), dtype=np.uint64)
    else:
        result = NUMPY_OPS[op](*values)
    for k, o in enumerate(range(0, size, 64)):
        mem[dst + o] = result[8 * k : 8 * k + 8]
    return mem


def check_bulk_line(tmp_path, op, layout, params=(), in_dram=True):
    dst, sources, size = LAYOUTS[layout]
    sources = sources[: SOURCES[op]]
    writes = sorted({a for base in (dst, *sources) for a in range(base, base + size, 64)})
    line = " ".join([f"5 BBOP {op} {dst:#x}", *(f"{s:#x}" for s in sources), str(size)])
    trace = write_trace(tmp_path, [*(f"0 W {a:#x}" for a in writes), line, f"6 R {dst:#x}"])
    config = load_config("ddr4-2400", list(params))
    run = Replay(config, trace, bulk_in_dram=in_dram)
    doc = run.run()
    mapper = AddressMapper.for_config(config)
    want = expected_memory(op, dst, sources, size, writes)
    held = {a: run.device.read_burst(*mapper.decode(a)) for a in want}
    wrong = [hex(a) for a, words in want.items() if (held[a] != words).any()]
    assert not wrong, f"{op} {layout}: lines {wrong[:4]} differ from numpy"
    assert doc["pim"]["ops"] == {op: 1}
    return doc


@pytest.mark.parametrize("layout", FAST_LAYOUTS)
@pytest.mark.parametrize("op", SOURCES)
def test_bulk_lines_are_bit_exact(tmp_path, op, layout):
    check_bulk_line(tmp_path, op, layout)


@pytest.mark.slow
@pytest.mark.parametrize(
    "setup",
    [((), True), ((), False), (("organisation.channels=2",), True)],
    ids=["in_dram", "cpu_baseline", "two_channels"],
)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", SOURCES)
def test_bulk_lines_are_bit_exact_everywhere(tmp_path, op, layout, setup):
    check_bulk_line(tmp_path, op, layout, *setup)


def test_partial_overlap_takes_the_cpu_path_and_says_why(tmp_path):
    doc = check_bulk_line(tmp_path, "not", "overlap_rows_forward")
    assert doc["pim"]["fallback_reasons"] == {"destination overlaps a source": 1}
    assert doc["pim"]["in_dram_rows"] == 0 and doc["pim"]["cpu_ops"] == 1


@pytest.mark.parametrize("op", ["zero", "one"])
def test_zero_and_one_lines_run_from_the_cli(tmp_path, op):
    """The issue's reproducer: a documented line that crashed (no source operand)."""
    trace = write_trace(tmp_path, [f"0 BBOP {op} 0x0 8192"])
    result = CliRunner().invoke(cli, ["run", str(trace)])
    assert result.exit_code == 0, result.output
    assert f"bulk ops    {op} x1: 1 rows in DRAM" in result.output
    out = tmp_path / "compare.json"
    result = CliRunner().invoke(cli, ["compare", "--trace", str(trace), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["summary"]["all_correct"]  # both ways, same bytes


@pytest.mark.parametrize(
    "line",
    ["1 BBOP and 0x3f8000000 0x0 0x3d0000000 0x10000000", "1 BBOP zero 0x400000000 64"],
)
def test_bulk_operands_beyond_the_memory_name_the_line(tmp_path, line):
    trace = write_trace(tmp_path, ["0 R 0x0", line])
    result = CliRunner().invoke(cli, ["run", str(trace)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:2: size: ")
    assert "beyond the memory" in result.output and len(result.output.splitlines()) == 1


# -- idle time -----------------------------------------------------------------------------


def test_a_cycle_of_10_to_the_18_replays_at_once(tmp_path):
    config = load_config()
    trace = write_trace(tmp_path, ["0 R 0x0", "999999999999999999 R 0x40"])
    start = time.monotonic()
    doc = Replay(config, trace).run()
    assert time.monotonic() - start < 5
    latency = round(doc["latency_ns"]["max"] / config.tCK_ns)
    assert doc["cycles"] == 999999999999999999 + latency + 1  # the second read ends the run
    slots = doc["cycles"] // config.timing["nREFI"]
    ranks = config.organisation.ranks
    assert ranks * (slots - 1) <= doc["commands"]["REF"] <= ranks * slots  # ~2 x 10^14
    assert np.isfinite(doc["energy_nj"]["total"]) and doc["energy_nj"]["ref"] > 0
    assert doc["time_ns"] == round(doc["cycles"] * config.tCK_ns, 3)


@pytest.mark.parametrize("params", [[], ["controller.row_policy=closed"], ["organisation.ranks=1"]])
def test_refresh_counted_in_bulk_equals_refresh_simulated(tmp_path, params):
    """With the command log on every REF is simulated; without, idle intervals are counted
    in closed form: the stats documents (energy included) must be identical."""
    lines = [
        "0 W 0x0",
        "3 R 0x40000",
        "5000000 R 0x40",
        "5000001 BBOP not 0x80000 0x0 8192",
        "9000000 BBOP zero 0x100000 8192",
        "9100000 W 0x2000",
    ]
    trace = write_trace(tmp_path, lines)
    docs = []
    for logged in (False, True):
        run = Replay(load_config("ddr4-2400", params), trace)
        if logged:
            run.device.start_command_log()
        docs.append(run.run())
    assert docs[0] == docs[1]
    assert docs[0]["commands"]["REF"] > 900


#: tWLOV of 1/16 cycle: 16 ticks per cycle, so a cycle past 2**63 / 16 overflows int64 ticks
SIXTEEN_TICKS = ["-p", "pim.tWLOV=0.0520625"]


@pytest.mark.parametrize(
    ("line", "options"),
    [
        ("999999999999999999 R 0x40", SIXTEEN_TICKS),
        ("999999999999999999 BBOP zero 0x0 64", SIXTEEN_TICKS),
    ],
)
def test_a_cycle_beyond_the_engine_range_is_an_error(tmp_path, line, options):
    trace = write_trace(tmp_path, ["0 R 0x0", line])
    with pytest.raises(TraceError):
        Replay(load_config("ddr4-2400", options[1:]), trace).run()
    result = CliRunner().invoke(cli, ["run", str(trace), *options])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {trace}:2: cycle: {line.split()[0]} is beyond")
    assert len(result.output.splitlines()) == 1


def test_a_cycle_of_more_than_18_digits_is_a_malformed_line(tmp_path):
    trace = write_trace(tmp_path, ["0 R 0x0", "99999999999999999999999 BBOP one 0x0 64"])
    result = CliRunner().invoke(cli, ["run", str(trace)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:2: cycle: ")
    assert "more than 18 digits" in result.output and len(result.output.splitlines()) == 1


def test_drampower_export_bounds_the_refreshes_it_lists(tmp_path):
    trace = write_trace(tmp_path, ["0 R 0x0", "100000000000 R 0x40"])
    result = CliRunner().invoke(cli, ["run", str(trace), "--drampower", str(tmp_path / "c.csv")])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {trace}:2: cycle: 100000000000 is beyond")
    assert "--drampower" in result.output


# -- memory ------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_longest_latency_is_exact_in_bounded_memory(tmp_path):
    config = load_config("ddr4-2400", ["timing.nRCD=65536"])
    trace = write_trace(tmp_path, ["0 R 0x0"])
    doc = Replay(config, trace).run()
    latency = doc["latency_ns"]
    assert latency["max"] == round((doc["cycles"] - 1) * config.tCK_ns, 3)  # exact
    assert latency["p50"] == latency["p99"] == latency["max"] == latency["mean"]
    # the peak RSS of this process image (VmHWM; ru_maxrss would include the forked parent's)
    code = (
        "import sys; from pimsim.cli.main import cli; "
        "sys.argv = ['pimsim', 'run', sys.argv[1], '-p', 'timing.nRCD=65536'];"
        "\ntry: cli()\nexcept SystemExit: pass\n"
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    )
    trace = write_trace(tmp_path, ["0 R 0x0", "1 R 0x40", "2 W 0x80", "3 R 0x2000"], "m.trace")
    out = subprocess.run(
        [sys.executable, "-c", code, str(trace)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.splitlines()[-1]) < 300_000  # KiB


def test_latency_percentiles_past_the_exact_range_stay_within_a_bucket(tmp_path):
    config = load_config("ddr4-2400", ["timing.nRCD=60000"])  # past 2^14 exact cycles
    trace = write_trace(tmp_path, ["0 R 0x0", "0 R 0x2000", "300000 R 0x4000"])
    doc = Replay(config, trace).run()
    latency, tck = doc["latency_ns"], config.tCK_ns
    first = 60000 + config.timing["nCL"]  # ACT at 1, RD nRCD later, data nCL + nBL after
    assert first * tck <= latency["p50"] <= first * tck * (1 + 1 / 64)
    assert latency["p99"] == latency["max"]


# -- counters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_cpu_path_counts_are_the_column_commands_bulk_work_issued(policy):
    """Every RD/WR beyond the trace's own requests was issued for bulk work on the CPU
    path (a row in another rank, a half-row operation): the summary must count them all."""
    doc = Replay(load_config("ddr4-2400", [f"controller.row_policy={policy}"]), SAMPLE_PIM).run()
    text = SAMPLE_PIM.read_text().splitlines()
    host_reads = sum(1 for t in text if t.split()[1:2] == ["R"])
    host_writes = sum(1 for t in text if t.split()[1:2] == ["W"])
    cmd, pim = doc["commands"], doc["pim"]
    assert cmd["RD"] + cmd["RDA"] - host_reads == pim["cpu_reads"] == 2 * 128 + 2 * 64
    assert cmd["WR"] + cmd["WRA"] - host_writes == pim["cpu_writes"] == 128 + 64
    assert pim["cpu_lines"] == pim["cpu_reads"] + pim["cpu_writes"]
    assert pim["cpu_bytes"] == ROW + 4096 and pim["cpu_rows"] == 1 and pim["cpu_ops"] == 1


def test_cpu_path_summary_line_shows_the_counts():
    result = CliRunner().invoke(cli, ["run", str(SAMPLE_PIM)])
    assert result.exit_code == 0
    assert "CPU path    12,288 bytes (1 rows, 1 whole operations), 384 lines read, 192 written" in (
        result.output
    )


# -- Ctrl-C ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_keeps_the_work_done_and_exits_130(tmp_path):
    lines = []
    for k in range(200_000):  # far more than a few seconds of work, however fast the machine
        lines += [f"{10 * k} W {64 * k % (1 << 20):#x}", f"{10 * k + 5} BBOP not 0x80000 0x0 8192"]
    trace = write_trace(tmp_path, lines)
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [PIMSIM, "run", str(trace), "--no-data", "--json", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=restore_sigint,
    )
    time.sleep(4)
    assert proc.poll() is None, "the replay ended before Ctrl-C"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "[interrupted]" in stdout
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True
    assert 0 < doc["pim"]["ops"]["not"] < 200_000 and doc["requests"]["writes"] > 0
