"""Cycle counts against Ramulator 2.0 and DRAMSim3 on the four synthetic 100k-request traces.

The published counts and the setting are in scripts/crosscheck.py (which prints the README's
table); pimsim must be within 3% of Ramulator 2.0, DRAMSim3 (per-bank queues of its own) is
shown for reference.
"""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "crosscheck.py"
_spec = importlib.util.spec_from_file_location("crosscheck", SCRIPT)
crosscheck = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crosscheck)


@pytest.mark.parametrize("kind", list(crosscheck.RAMULATOR2))
def test_cycles_within_3_percent_of_ramulator2(tmp_path, kind):
    cycles = crosscheck.pimsim_cycles(kind, tmp_path)
    ratio = cycles / crosscheck.RAMULATOR2[kind]
    print(f"{kind}: pimsim {cycles:,} cycles, Ramulator 2 {crosscheck.RAMULATOR2[kind]:,}")
    assert abs(ratio - 1) < 0.03
