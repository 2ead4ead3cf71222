#!/usr/bin/env python3
"""pimsim's cycle counts next to Ramulator 2.0's and DRAMSim3's, as a markdown table.

    python scripts/crosscheck.py

The four synthetic 100k-request traces come from pimsim.workloads (``scripts/make_traces.py``
writes them to files). The other simulators' counts were published by the issue that asked
for this check (ddr4-2400, 2 ranks, RoBaRaCoCh, FR-FCFS, open row, 32/32 queues, watermarks
0.8/0.2, all-bank refresh, nRFC 420, nREFI 9360); pimsim's column is simulated here.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pimsim.config import load_config
from pimsim.sim import Replay
from pimsim.workloads import KINDS, write_trace

REQUESTS = 100_000
RAMULATOR2 = {"seqrd": 630_789, "rndrd": 457_982, "mix21": 490_175, "copy": 841_471}
DRAMSIM3 = {"seqrd": 562_626, "rndrd": 456_469, "mix21": 486_387, "copy": 704_069}


def pimsim_cycles(kind: str, folder: Path) -> int:
    """Cycles pimsim takes to replay stream ``kind`` (REQUESTS requests) on ddr4-2400."""
    trace = write_trace(folder / f"{kind}.trace", kind, REQUESTS)
    doc = Replay(load_config("ddr4-2400"), trace, with_data=False).run()
    return doc["cycles"]


def table() -> str:
    lines = [
        f"| trace ({REQUESTS // 1000}k requests) | pimsim | Ramulator 2.0 | DRAMSim3 |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for kind in KINDS:
            ours = pimsim_cycles(kind, Path(folder))
            lines.append(
                f"| {kind} | {ours:,} | {RAMULATOR2[kind]:,} ({ours / RAMULATOR2[kind] - 1:+.2%}) "
                f"| {DRAMSIM3[kind]:,} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
    sys.exit(0)
