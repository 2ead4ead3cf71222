"""Cycle counts against Ramulator 2.0 and DRAMSim3 on the four synthetic 100k-request traces.

Published by the issue that asked for this check (ddr4-2400, 2 ranks, RoBaRaCoCh, FR-FCFS, open
row, 32/32 queues, watermarks 0.8/0.2, all-bank refresh, nRFC 420, nREFI 9360). pimsim must be
within 3% of Ramulator 2.0; DRAMSim3 (per-bank queues of its own) is shown for reference.
"""

import pytest

from pimsim.config import load_config
from pimsim.sim import Replay
from pimsim.workloads import write_trace

RAMULATOR2 = {"seqrd": 630_789, "rndrd": 457_982, "mix21": 490_175, "copy": 841_471}
DRAMSIM3 = {"seqrd": 562_626, "rndrd": 456_469, "mix21": 486_387, "copy": 704_069}


@pytest.mark.parametrize("kind", list(RAMULATOR2))
def test_cycles_within_3_percent_of_ramulator2(tmp_path, kind):
    trace = write_trace(tmp_path / f"{kind}.trace", kind, 100_000)
    doc = Replay(load_config("ddr4-2400"), trace, with_data=False).run()
    assert doc["requests"]["reads"] + doc["requests"]["writes"] == 100_000
    ratio = doc["cycles"] / RAMULATOR2[kind]
    print(
        f"{kind}: pimsim {doc['cycles']:,} cycles, Ramulator 2 {RAMULATOR2[kind]:,} "
        f"({ratio - 1:+.3%}), DRAMSim3 {DRAMSIM3[kind]:,} "
        f"({doc['cycles'] / DRAMSIM3[kind] - 1:+.3%})"
    )
    assert abs(ratio - 1) < 0.03
