#!/usr/bin/env python3
"""Benchmarks of pimsim (a benchmark, not a test: numbers go in notes, not assertions).

    python scripts/bench.py                 # everything, default config (ddr4-2400)
    python scripts/bench.py --only core     # DRAM core alone, commands/s
    python scripts/bench.py --only kernels  # row kernels, GB/s
    python scripts/bench.py --only replay   # `pimsim run` on 1M-request traces, requests/s
    python scripts/bench.py --only memory   # a 10M-request replay: peak RSS
    python scripts/bench.py --only compare  # one 32 MiB op both ways: requests/s, commands/s
    python scripts/bench.py --only jobs     # the engine's in-DRAM job path alone, commands/s
    python scripts/bench.py --only sweep    # 200 compare points: pimsim sweep vs one by one
    python scripts/bench.py --json out.json

``core`` drives the Cython core from its own C loop (Core.issue_batch) with a legal random
stream of ACT, a few RD/WR, PRE over every bank, and reports commands per second.
``kernels`` runs the row kernels (majority of three rows, complement, copy) over rank-wide
rows and reports GB/s of row data read by the kernel.
``replay`` times whole `pimsim run` processes (start-up, parsing, simulation, report) on
1,000,000-request ``rndrd`` and ``seqrd`` traces, timing-only and with data, and reports
requests/s, simulated GB/s and peak RSS. ``memory`` replays a 10,000,000-request trace and
reports peak RSS, to show memory stays flat whatever the trace length. ``compare`` runs
one NOT over 32 MiB as `pimsim compare` does: the CPU baseline (1M requests through the
controller's host mode) and the in-DRAM side (µprograms on every bank). ``jobs`` times the
controller alone on the job of a bulk AND over prepared vectors (lowered beforehand,
untimed): from load_job to its last command, as scheduled (each stream's tick read from the
core's timing, the rest worked out again only when it may have changed) and with every
stream worked out afresh at every step (``exhaustive_jobs``, the same ticks), in commands
per second of the thread's CPU time. ``sweep`` runs :data:`SWEEP_SPEC`'s 200 compare points
with `pimsim sweep` on a local cluster (every core), then the same points one after another in
one process (the sweep's own task function) and as 200 `pimsim compare` processes, as a shell
loop would, and reports the wall time of each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.inputs import fill
from pimsim.compare import run_in_dram, run_on_cpu
from pimsim.config import load_config
from pimsim.controller import END_OF_TIME, JOB_DONE, engine_of
from pimsim.device import Device
from pimsim.standards import CMD
from pimsim.workloads import write_trace


def _best_of(repeats: int, func) -> float:
    """Fastest wall time of ``repeats`` runs of ``func`` (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def command_stream(config, groups: int, accesses: int, seed: int = 1):
    """A legal stream: per group, ACT a random row of a random bank, RD/WR it, PRE."""
    org = config.organisation
    rng = np.random.default_rng(seed)
    per_group = accesses + 2
    n = groups * per_group
    cmds = np.empty(n, dtype=object)
    addrs = np.zeros((n, 6), dtype=np.int32)
    bank = np.stack(
        [
            rng.integers(0, org.channels, groups),
            rng.integers(0, org.ranks, groups),
            rng.integers(0, org.bankgroups, groups),
            rng.integers(0, org.banks_per_group, groups),
            rng.integers(0, org.rows, groups),
        ],
        axis=1,
    )
    for k in range(per_group):
        idx = np.arange(groups) * per_group + k
        addrs[idx, :5] = bank
        if k == 0:
            cmds[idx] = "ACT"
        elif k == per_group - 1:
            cmds[idx] = "PRE"
        else:
            cmds[idx] = np.where(rng.random(groups) < 0.7, "RD", "WR")
            addrs[idx, 5] = (
                rng.integers(0, org.columns // org.burst_length, groups) * org.burst_length
            )
    return list(cmds), addrs


def bench_core(config_name: str, commands: int) -> dict:
    config = load_config(config_name)
    cmds, addrs = command_stream(config, groups=commands // 6, accesses=4)
    codes = np.array([CMD[c] for c in cmds], dtype=np.int32)
    best = float("inf")
    for _ in range(3):
        core = Device(config).core
        cycles = np.zeros(len(codes), dtype=np.int64)
        start = time.perf_counter()
        done, status = core.issue_batch(codes, addrs, cycles)
        best = min(best, time.perf_counter() - start)
        if status:
            raise RuntimeError(f"benchmark stream refused at command {done}: status {status}")
    return {
        "commands": len(codes),
        "seconds": best,
        "commands_per_s": len(codes) / best,
        "simulated_cycles": int(cycles[-1]) + 1,
    }


def bench_kernels(config_name: str, rows: int) -> dict:
    config = load_config(config_name)
    dev = Device(config)
    core = dev.core
    row_bytes = config.organisation.row_bytes
    rng = np.random.default_rng(2)
    ids = [dev.row_id(0, 0, 0, 0, r) for r in range(3 * rows)]
    for rid in ids:
        core.write_row(rid, rng.integers(0, 2**63, config.organisation.columns, dtype=np.uint64))
    triples = [tuple(ids[3 * i : 3 * i + 3]) for i in range(rows)]
    dsts = np.array(ids[rows : 2 * rows], dtype=np.int64)

    def maj():
        for a, b, c in triples:
            core.majority3(a, b, c)

    def comp():
        for i in range(rows):
            core.complement(ids[i], ids[rows + i])

    def copy():
        for i in range(rows):
            core.copy_rows(ids[i], dsts[i : i + 1])

    out = {}
    for name, func, rows_read in (
        ("majority3", maj, 3),
        ("complement", comp, 1),
        ("copy", copy, 1),
    ):
        seconds = _best_of(5, func)
        out[name] = {
            "rows": rows,
            "seconds": seconds,
            "gb_per_s": rows * rows_read * row_bytes / seconds / 1e9,
        }
    return out


# Peak RSS is read from /proc (VmHWM, this process image only): ru_maxrss would carry the
# parent's high-water mark over fork and exec.
_CHILD = (
    "import sys\n"
    "from pimsim.cli.main import cli\n"
    "try:\n"
    "    cli(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    "    print('PEAK_RSS_KB', hwm.split()[1], file=sys.stderr)\n"
)


def run_cli(args: list[str]) -> dict:
    """Run `pimsim ARGS` in a fresh process: wall seconds, peak RSS and its JSON stats."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args, "--json", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    peak_kb = int(proc.stderr.split("PEAK_RSS_KB")[-1].split()[0])
    return {"seconds": seconds, "peak_rss_mb": peak_kb / 1024, "stats": json.loads(proc.stdout)}


def bench_replay(config_name: str, requests: int, workdir: Path) -> dict:
    out = {}
    for kind in ("rndrd", "seqrd"):
        trace = workdir / f"{kind}-{requests}.trace"
        if not trace.exists():
            write_trace(trace, kind, requests)
        for data in (False, True):
            args = ["run", str(trace), "--config", config_name] + ([] if data else ["--no-data"])
            r = run_cli(args)
            stats = r.pop("stats")
            name = f"{kind}{'' if data else ' --no-data'}"
            out[name] = {
                **r,
                "requests": requests,
                "requests_per_s": requests / r["seconds"],
                "cycles": stats["cycles"],
                "simulated_gbps": stats["bandwidth_gbps"],
            }
    return out


def bench_compare(config_name: str, size: int) -> dict:
    """One `not` over ``size`` bytes both ways: the CPU baseline's requests/s through the
    engine's host mode, and the in-DRAM side's commands/s (scheduled in C as a controller job)."""
    config = load_config(config_name)
    out = {}
    start = time.perf_counter()
    cpu = run_on_cpu(config, "not", size, "datasheet")
    seconds = time.perf_counter() - start
    requests = 2 * size // 64
    out["cpu"] = {
        "seconds": seconds,
        "requests": requests,
        "requests_per_s": requests / seconds,
        "simulated_gbps": size / cpu.time_ns,
    }
    start = time.perf_counter()
    pim, _ = run_in_dram(config, "not", size, None, "datasheet")
    seconds = time.perf_counter() - start
    commands = sum(v for k, v in pim.commands.items() if k not in ("AAP", "AP"))
    out["pim"] = {
        "seconds": seconds,
        "commands": commands,
        "commands_per_s": commands / seconds,
        "simulated_gbps": size / pim.time_ns,
    }
    return out


def bench_bulk(config_name: str, size: int, with_data: bool, repeats: int = 3) -> dict:
    """``and`` over prepared vectors of ``size`` bytes (allocated and filled beforehand,
    untimed), on a fresh device each of ``repeats`` times: the fastest run's GB of result
    simulated per wall second and DRAM commands per second, and the peak RSS."""
    seconds = float("inf")
    for _ in range(repeats):
        device = Device(load_config(config_name))
        engine = BulkEngine(device, with_data=with_data)
        sources = [engine.alloc(size) for _ in range(2)]
        if with_data:
            fill(device, sources, seed=0)
        out = engine.alloc(size)
        start = time.perf_counter()
        report = engine.bbop("and", out, *sources)
        seconds = min(seconds, time.perf_counter() - start)
        del device, engine, sources, out
    commands = sum(report.commands.values())
    return {
        "seconds": seconds,
        "result_gb_per_s": size / seconds / 1e9,
        "commands": commands,
        "commands_per_s": commands / seconds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def bench_jobs(config_name: str, size: int) -> dict:
    """The engine on the job of ``and`` over prepared ``size``-byte vectors (--no-data):
    CPU seconds from load_job to JOB_DONE and commands per second, as scheduled and with
    ``exhaustive_jobs``; best of three each."""
    out = {}
    for name, exhaustive in (("as scheduled", False), ("exhaustive", True)):
        best, commands = float("inf"), 0
        for _ in range(3):
            device = Device(load_config(config_name))
            bulk = BulkEngine(device, with_data=False)
            vectors = [bulk.alloc(size) for _ in range(3)]
            plan = bulk.plan("and", *vectors)
            engine = engine_of(device, with_data=False)
            engine.exhaustive_jobs = exhaustive
            start = time.thread_time()
            plan.job.submit(engine)
            while engine.run(END_OF_TIME, True) != JOB_DONE:
                pass
            best = min(best, time.thread_time() - start)
            commands = len(plan.job.table)
        out[name] = {"commands": commands, "seconds": best, "commands_per_s": commands / best}
    return out


def _peak_rss_mb() -> float:
    """This process's peak resident set so far (MB)."""
    with open("/proc/self/status") as fh:
        hwm = next(line for line in fh if line.startswith("VmHWM"))
    return int(hwm.split()[1]) / 1024


def bench_program(config_name: str, size: str) -> dict:
    """Whole `pimsim program and --size SIZE` processes, with data and with --no-data:
    wall seconds, MB of result per wall second, peak RSS."""
    out = {}
    for data in (True, False):
        args = ["program", "and", "--config", config_name, "--size", size]
        r = run_cli(args + ([] if data else ["--no-data"]))
        stats = r.pop("stats")
        out["with data" if data else "--no-data"] = {
            **r,
            "result_mb_per_s": stats["size_bytes"] / r["seconds"] / 1e6,
        }
    return out


#: The sweep benchmark's grid: 5 ops x 5 bank counts x 4 nFAW x split decoder = 200 points.
SWEEP_SPEC = """command: compare
fixed: {config: ddr4-2400, size: 1MiB}
grid:
  ops: [and, xor, add8, add16, mul8]
  banks: [1, 2, 4, 8, 16]
  timing.nFAW: [16, 24, 32, 48]
  pim.split_decoder: [true, false]
"""


def bench_sweep(workdir: Path, workers: int | None) -> dict:
    """Wall seconds of SWEEP_SPEC as one `pimsim sweep` process, one by one in one process,
    and one by one as `pimsim compare` processes."""
    from pimsim.sweep.point import run_point
    from pimsim.sweep.spec import load_sweep

    spec = workdir / "bench-sweep.yaml"
    spec.write_text(SWEEP_SPEC)
    out = workdir / "bench-sweep.out"
    if out.exists():
        for path in out.iterdir():
            path.unlink()
    command = [sys.executable, "-m", "pimsim", "sweep", str(spec), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command + (["--workers", str(workers)] if workers else []), check=True)
    swept = time.perf_counter() - start
    sweep = load_sweep(str(spec))
    start = time.perf_counter()
    for point in sweep.points:
        assert run_point(sweep.command, point.argv)["status"] == "ok"
    in_process = time.perf_counter() - start
    start = time.perf_counter()
    for point in sweep.points:
        subprocess.run([sys.executable, "-m", "pimsim", *sweep.command, *point.argv],
                       check=True, capture_output=True)  # fmt: skip
    processes = time.perf_counter() - start
    return {"points": len(sweep.points), "sweep_s": swept, "one_process_s": in_process,
            "processes_s": processes}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="ddr4-2400")
    parser.add_argument(
        "--only",
        choices=[
            "core",
            "kernels",
            "replay",
            "memory",
            "compare",
            "bulk",
            "program",
            "jobs",
            "sweep",
        ],  # fmt: skip
        action="append",
    )
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests per replay trace")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "pimsim-bench",
        help="where generated traces are kept between runs",
    )
    parser.add_argument("--commands", type=int, default=1_200_000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--bulk-size", type=int, default=256 << 20, help="bytes per vector")
    parser.add_argument("--program-size", default="1GiB", help="--size of `pimsim program`")
    parser.add_argument("--workers", type=int, help="--only sweep: local workers (default: cores)")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    parts = args.only or ["core", "kernels", "replay", "compare"]
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {"config": args.config}
    if "core" in parts:
        r = results["core"] = bench_core(args.config, args.commands)
        print(
            f"core: {r['commands']:,} commands in {r['seconds']:.3f} s = "
            f"{r['commands_per_s'] / 1e6:.2f} M commands/s"
        )
    if "kernels" in parts:
        results["kernels"] = bench_kernels(args.config, args.rows)
        for name, r in results["kernels"].items():
            print(
                f"kernel {name}: {r['rows']} rows in {r['seconds'] * 1e3:.2f} ms = "
                f"{r['gb_per_s']:.1f} GB/s"
            )
    if "replay" in parts:
        results["replay"] = bench_replay(args.config, args.requests, args.workdir)
        for name, r in results["replay"].items():
            print(
                f"replay {name}: {r['requests']:,} requests in {r['seconds']:.2f} s = "
                f"{r['requests_per_s'] / 1e3:.0f}k requests/s (whole process), "
                f"simulated {r['simulated_gbps']:.2f} GB/s, peak RSS {r['peak_rss_mb']:.0f} MB"
            )
    if "compare" in parts:
        r = results["compare"] = bench_compare(args.config, 32 << 20)
        print(
            f"compare not 32 MiB, CPU baseline: {r['cpu']['requests']:,} requests in "
            f"{r['cpu']['seconds']:.2f} s = {r['cpu']['requests_per_s'] / 1e3:.0f}k requests/s, "
            f"simulated {r['cpu']['simulated_gbps']:.2f} GB/s of result"
        )
        print(
            f"compare not 32 MiB, in DRAM (incl. writing and checking the data): "
            f"{r['pim']['commands']:,} commands in {r['pim']['seconds']:.2f} s = "
            f"{r['pim']['commands_per_s'] / 1e3:.0f}k commands/s, "
            f"simulated {r['pim']['simulated_gbps']:.1f} GB/s of result"
        )
    if "bulk" in parts:
        for data in (True, False):
            name = "with data" if data else "--no-data"
            r = results.setdefault("bulk", {})[name] = bench_bulk(args.config, args.bulk_size, data)
            print(
                f"bulk and over prepared {args.bulk_size >> 20} MiB vectors ({name}, best of 3): "
                f"{r['seconds']:.3f} s = {r['result_gb_per_s']:.2f} GB of result/s, "
                f"{r['commands_per_s'] / 1e6:.2f} M commands/s, peak RSS {r['peak_rss_mb']:.0f} MB"
            )
        bulk = results["bulk"]
        print(
            f"bulk and: the data part (with data minus --no-data) "
            f"{bulk['with data']['seconds'] - bulk['--no-data']['seconds']:.3f} s"
        )
    if "sweep" in parts:
        r = results["sweep"] = bench_sweep(args.workdir, args.workers)
        print(
            f"sweep of {r['points']} compare points: pimsim sweep {r['sweep_s']:.1f} s "
            f"(cluster start-up included); one after another in one process "
            f"{r['one_process_s']:.1f} s, as {r['points']} pimsim compare processes "
            f"{r['processes_s']:.1f} s"
        )
    if "jobs" in parts:
        results["jobs"] = bench_jobs(args.config, args.bulk_size)
        for name, r in results["jobs"].items():
            print(
                f"job of and over {args.bulk_size >> 20} MiB vectors, engine alone ({name}): "
                f"{r['commands']:,} commands in {r['seconds']:.3f} s CPU = "
                f"{r['commands_per_s'] / 1e6:.2f} M commands/s"
            )
    if "program" in parts:
        results["program"] = bench_program(args.config, args.program_size)
        for name, r in results["program"].items():
            print(
                f"pimsim program and --size {args.program_size} ({name}): {r['seconds']:.2f} s "
                f"= {r['result_mb_per_s']:.0f} MB of result/s (whole process), "
                f"peak RSS {r['peak_rss_mb']:.0f} MB"
            )
    if "memory" in parts:
        results["memory"] = bench_replay(args.config, 10 * args.requests, args.workdir)
        for name, r in results["memory"].items():
            print(
                f"memory {name}: {r['requests']:,} requests, peak RSS "
                f"{r['peak_rss_mb']:.0f} MB, {r['requests_per_s'] / 1e3:.0f}k requests/s"
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
