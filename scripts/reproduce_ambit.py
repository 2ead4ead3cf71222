#!/usr/bin/env python3
"""pimsim's figures next to the published Ambit and RowClone ones (REFERENCE.md), as markdown.

    python scripts/reproduce_ambit.py              # the table on stdout
    python scripts/reproduce_ambit.py --out FILE   # and into FILE

Every pimsim number is simulated here (pimsim.compare, pimsim.ambit), never copied: the
published column is REFERENCE.md's, the ratio is pimsim / published.

- Ambit: ddr3-1600, 8 banks of one rank, 32 MiB per operation, energy profile
  ``ambit-micro17``; single-row latencies on one bank; NOT's bank-parallel throughput with
  tFAW enforced.
- RowClone: ddr3-1066, 4 KiB (one row), one bank, the default ``datasheet`` profile; PSM and
  inter-subarray copies place the destination in another bank / another subarray.
- Ambit's applications (end to end, ``pimsim workload``): ddr3-1600, 8 banks, the default
  ``datasheet`` profile, timing only (--no-data: the same commands and times). Bitmap index:
  8M..64M users, k = 2..4, the count on the CPU (Ambit's split), harmonic mean. BitWeaving:
  8M values, b = 4, 8, ..., 32, mean, lowest and highest speedup. Sets: union, intersection
  and difference of two sets of 64K ids from 8M, against sorted arrays of ids (Ambit's
  baseline was a red-black tree).
- LISA: ddr3-1600 at LISA's 11-11-11 timings, 8 KiB (one row), refresh off, copies from
  subarray 0 of a bank to subarray 1, 7, 15, 63 of it; energy is the datasheet total.
"""

from __future__ import annotations

import argparse
import sys

from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.layout import SubarrayLayout
from pimsim.apps import WORKLOADS
from pimsim.apps.sweep import sweep
from pimsim.compare import BITWISE_OPS, SideResult, compare, run_on_cpu
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.results.energy import energy_of

AMBIT_ENERGY = {"not": 59.5, "and": 43.9, "or": 43.9, "nand": 35.1, "nor": 35.1}
AMBIT_ENERGY |= {"xor": 25.1, "xnor": 25.1}
AMBIT_PIM_NJ_PER_KB = {"not": 1.6, "and": 3.2, "nand": 4.0, "xor": 5.5}
AMBIT_CPU_NJ_PER_KB = {"not": 93.7, "and": 137.9}
AMBIT_LATENCY_NS = {"not": 98, "and": 196, "nand": 245, "xor": 335}


def ambit_rows() -> list[tuple[str, float, float, str]]:
    config = load_config("ddr3-1600")
    doc = compare(config, BITWISE_OPS, 32 << 20, 8, "ambit-micro17")
    ops = doc["ops"]
    rows = [(f"{op} energy reduction", v, ops[op]["energy_reduction"], "x") for op, v in
            AMBIT_ENERGY.items()]  # fmt: skip
    rows.append(("energy reduction, harmonic mean", 35.0,
                 doc["summary"]["energy_reduction_hmean"], "x"))  # fmt: skip
    rows += [(f"{op} in DRAM, nJ/KB", v, ops[op]["pim"]["energy_nj_per_kb"], "") for op, v in
             AMBIT_PIM_NJ_PER_KB.items()]  # fmt: skip
    rows += [(f"{op} on the CPU, nJ/KB", v, ops[op]["cpu"]["energy_nj_per_kb"], "") for op, v in
             AMBIT_CPU_NJ_PER_KB.items()]  # fmt: skip
    rows.append(("speedup, harmonic mean (vs Skylake)", 44.9, doc["summary"]["speedup_hmean"],
                 "x"))  # fmt: skip
    no_refresh = load_config("ddr3-1600", ["controller.refresh=false"])
    capped = compare(no_refresh, ("not",), 32 << 20, 8)["ops"]["not"]["pim"]["throughput_gbps"]
    rows.append(("NOT, 8 banks, tFAW cap (refresh off), GB/s", 273.0, capped, ""))
    one_row = compare(config, tuple(AMBIT_LATENCY_NS), config.organisation.row_bytes, 1)
    rows += [(f"{op}, one row, ns", v, one_row["ops"][op]["pim"]["time_ns"], "") for op, v in
             AMBIT_LATENCY_NS.items()]  # fmt: skip
    return rows


def application_rows() -> list[tuple[str, float, float, str]]:
    config = load_config("ddr3-1600")
    users = [m << 20 for m in (8, 16, 32, 64)]
    bitmap = sweep(WORKLOADS["bitmap-index"], config,
                   [{"users": u, "weeks": k} for u in users for k in (2, 3, 4)], 8,
                   with_data=False)  # fmt: skip
    scans = sweep(WORKLOADS["bitweaving"], config,
                  [{"values": 8 << 20, "bits": b} for b in range(4, 33, 4)], 8,
                  with_data=False)  # fmt: skip
    speedups = [p["speedup"]["dram-range+cpu-count"] for p in scans["points"]]
    sets = sweep(WORKLOADS["sets"], config, [{"universe": 8 << 20, "elements": 64 << 10}], 8,
                 with_data=False)["points"][0]  # fmt: skip
    return [
        ("bitmap index, speedup (AND in DRAM, count on the CPU)", 6.0,
         bitmap["summary"]["speedup_hmean"]["dram-and+cpu-count"], "x"),
        ("BitWeaving scan, mean speedup", 7.0, sum(speedups) / len(speedups), "x"),
        ("BitWeaving scan, lowest speedup", 1.8, min(speedups), "x"),
        ("BitWeaving scan, highest speedup", 11.8, max(speedups), "x"),
        ("sets, speedup vs sorted arrays (Ambit: red-black tree)", 3.0,
         sets["speedup_vs_sorted"], "x"),
    ]  # fmt: skip


def _copy_to(config, dst_row) -> SideResult:
    """A row copied in DRAM from bank 0 row 0 to ``dst_row`` (RowClone FPM, PSM or LISA)."""
    device = Device(config)
    engine = BulkEngine(device)
    src = Vector(((0, 0, 0, 0, 0),), engine.row_bytes)
    report = engine.bbop("copy", Vector((dst_row,), engine.row_bytes), src)
    energy = energy_of(device.snapshot(report.span.end_tick), config)
    return SideResult(report.time_ns, energy, {}, 0)


def rowclone_rows() -> list[tuple[str, float, float, str]]:
    config = load_config("ddr3-1066")
    doc = compare(config, ("copy", "zero"), 4096, 1)
    copy, zero = doc["ops"]["copy"], doc["ops"]["zero"]
    cpu = run_on_cpu(config, "copy", 4096, "datasheet")
    rows = [
        ("FPM copy, ns", 90.0, copy["pim"]["time_ns"], ""),
        ("baseline copy over the channel, ns", 1046.0, copy["cpu"]["time_ns"], ""),
        ("FPM copy latency reduction", 11.6, copy["speedup"], "x"),
        ("FPM copy energy reduction", 74.4, copy["energy_reduction"], "x"),
        ("zeroing latency reduction", 6.0, zero["speedup"], "x"),
        ("zeroing energy reduction", 41.5, zero["energy_reduction"], "x"),
    ]
    subarray_rows = SubarrayLayout.from_params(config.pim).physical_rows  # subarray 1's row 0
    for name, dst, latency, energy in (
        ("PSM copy (another bank)", (0, 0, 0, 1, 0), 1.9, 3.2),
        ("inter-subarray copy (PSM twice)", (0, 0, 0, 0, subarray_rows), 1.0, 1.5),
    ):
        side = _copy_to(config, dst)
        rows.append((f"{name} latency reduction", latency, cpu.time_ns / side.time_ns, "x"))
        rows.append(
            (
                f"{name} energy reduction",
                energy,
                cpu.energy["above_idle"] / side.energy["above_idle"],
                "x",
            )
        )
    return rows


LISA_TIMINGS = ["timing.nRP=11", "timing.nRCD=11", "timing.nRC=39", "controller.refresh=false"]
LISA_HOPS_NS = {1: 148.5, 7: 196.5, 15: 260.5, 63: 644.5}


def lisa_rows() -> list[tuple[str, float, float, str]]:
    rowclone_config = load_config("ddr3-1600", LISA_TIMINGS)
    lisa_config = load_config("ddr3-1600", [*LISA_TIMINGS, "pim.lisa=true"])
    subarray_rows = SubarrayLayout.from_params(lisa_config.pim).physical_rows
    rows = [
        (f"LISA-RISC copy, {hops} hop(s), ns", ns,
         _copy_to(lisa_config, (0, 0, 0, 0, hops * subarray_rows)).time_ns, "")
        for hops, ns in LISA_HOPS_NS.items()
    ]  # fmt: skip
    lisa = _copy_to(lisa_config, (0, 0, 0, 0, subarray_rows))
    rowclone = _copy_to(rowclone_config, (0, 0, 0, 0, subarray_rows))
    rows += [
        ("RowClone inter-subarray copy, ns", 1363.75, rowclone.time_ns, ""),
        ("LISA-RISC latency reduction over it", 9.2, rowclone.time_ns / lisa.time_ns, "x"),
        ("LISA-RISC copy (1 hop), nJ", 90.0, lisa.energy["total"], ""),
        ("RowClone inter-subarray copy, nJ", 4330.0, rowclone.energy["total"], ""),
    ]
    return rows


def markdown(title: str, rows: list[tuple[str, float, float, str]]) -> str:
    lines = [f"**{title}**", "", "| figure | published | pimsim | pimsim / published |"]
    lines.append("|---|---:|---:|---:|")
    for name, published, ours, unit in rows:
        lines.append(
            f"| {name} | {published:,.4g}{unit} | {ours:,.4g}{unit} | {ours / published:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the markdown to this file")
    args = parser.parse_args(argv)
    text = "\n\n".join(
        [
            markdown(
                "Ambit (MICRO 2017): ddr3-1600, 8 banks, 32 MiB, ambit-micro17 profile",
                ambit_rows(),
            ),
            markdown(
                "Ambit's applications, end to end: ddr3-1600, 8 banks, datasheet profile",
                application_rows(),
            ),
            markdown(
                "RowClone (MICRO 2013): ddr3-1066, 4 KiB, 1 bank, datasheet profile",
                rowclone_rows(),
            ),
            markdown(
                "LISA (HPCA 2016): ddr3-1600 11-11-11, 8 KiB, 1 bank, datasheet profile",
                lisa_rows(),
            ),
        ]
    )
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
