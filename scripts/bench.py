#!/usr/bin/env python3
"""Benchmarks of pimsim (a benchmark, not a test: numbers go in notes, not assertions).

    python scripts/bench.py                 # everything, default config (ddr4-2400)
    python scripts/bench.py --only core     # DRAM core alone, commands/s
    python scripts/bench.py --only kernels  # row kernels, GB/s
    python scripts/bench.py --json out.json

``core`` drives the Cython core from its own C loop (Core.issue_batch) with a legal random
stream of ACT, a few RD/WR, PRE over every bank, and reports commands per second.
``kernels`` runs the row kernels (majority of three rows, complement, copy) over rank-wide
rows and reports GB/s of row data read by the kernel.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from pimsim.config import load_config
from pimsim.device import Device
from pimsim.standards import CMD


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="ddr4-2400")
    parser.add_argument("--only", choices=["core", "kernels"], action="append")
    parser.add_argument("--commands", type=int, default=1_200_000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    parts = args.only or ["core", "kernels"]
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
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
