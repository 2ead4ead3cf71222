"""The compiled replay engine (pimsim.sim.Replay) against the plain-Python reference controller.

tests/reference_controller.py steps every channel controller in *every* cycle and asks a
pimsim.device.Device for all timing; the engine skips idle cycles and talks to the core in C.
For the same trace and configuration both must agree exactly on: ``cycles``, every per-channel
counter (reads, writes, forwarded reads, row hits/misses/conflicts, refreshes, last event), the
read-latency histogram of every channel and the command counts of every channel.

Traces are drawn from a handful of rows, columns, banks and ranks so that row hits, conflicts,
same-line write->read forwarding, full queues, write drains, closed-row caps and refreshes (a
short nREFI) all happen in a short run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pimsim.addrmap import AddressMapper
from pimsim.config import load_config
from pimsim.sim import Replay

try:
    from reference_controller import ReferenceReplay, Stalled
except ModuleNotFoundError:  # tests/ is not on sys.path (e.g. --import-mode=importlib)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference_controller import ReferenceReplay, Stalled

COUNTERS = (
    "reads",
    "writes",
    "forwarded_reads",
    "row_hits",
    "row_misses",
    "row_conflicts",
    "refreshes",
    "last_event",
)


class BoundedReplay(Replay):
    """Replay that gives up (instead of spinning forever) past ``max_cycles``."""

    max_cycles = 1 << 62

    def _advance(self, final):
        result = yield from super()._advance(final)
        if self.engine.now > self.max_cycles:
            raise RuntimeError(f"the engine is still running at cycle {self.engine.now}")
        return result


def write_trace(path: Path, trace: list[tuple[int, bool, int]]) -> Path:
    path.write_text("".join(f"{c} {'W' if w else 'R'} {a:#x}\n" for c, w, a in trace))
    return path


def compare(tmp_path: Path, preset: str, overrides: list[str], trace, with_data=False) -> dict:
    """Run both on ``trace``; assert they agree; return the engine's stats document."""
    config = load_config(preset, overrides)
    try:
        ref = ReferenceReplay(config, trace).run()
    except Stalled as exc:
        pytest.fail(f"the reference deadlocks ({exc}); trace {trace}, overrides {overrides}")
    replay = BoundedReplay(config, write_trace(tmp_path / "t.trace", trace), with_data=with_data)
    replay.max_cycles = 2 * ref.cycles + (1 << 16)
    doc = replay.run()
    assert doc["cycles"] == ref.cycles
    np.testing.assert_array_equal(replay.device.command_counts_per_channel(), ref.command_counts)
    for ch, want in enumerate(ref.channels):
        got = replay.engine.channel_stats(ch)
        assert {k: got[k] for k in COUNTERS} == {k: want[k] for k in COUNTERS}, f"channel {ch}"
        np.testing.assert_array_equal(
            got["latency_histogram"], want["latency_histogram"], err_msg=f"channel {ch}"
        )
    # every request was served exactly once
    reads = sum(1 for _, w, _ in trace if not w)
    assert doc["requests"]["reads"] == reads
    assert doc["requests"]["writes"] == len(trace) - reads
    return doc


# -- hypothesis --------------------------------------------------------------------------------

PRESETS = {"ddr4-2400": dict(ranks=2, bankgroups=2), "ddr3-1600": dict(ranks=1, bankgroups=1)}


@st.composite
def scenarios(draw, max_requests=150):
    """(preset, overrides, trace): a small configuration and a trace that stresses it."""
    preset = draw(st.sampled_from(sorted(PRESETS)))
    high = draw(st.sampled_from([0.25, 0.5, 0.75, 0.8, 1.0]))
    low = draw(st.sampled_from([w for w in (0.01, 0.2, 0.25, 0.5, 0.75) if w < high]))
    overrides = [
        f"controller.read_queue={draw(st.integers(2, 8))}",
        f"controller.write_queue={draw(st.integers(2, 8))}",
        f"controller.scheduler={draw(st.sampled_from(['frfcfs', 'fcfs']))}",
        f"controller.row_policy={draw(st.sampled_from(['open', 'closed']))}",
        f"controller.row_cap={draw(st.integers(1, 4))}",
        f"controller.high_watermark={high}",
        f"controller.low_watermark={low}",
    ]
    if draw(st.booleans()):
        nrefi = draw(st.integers(300, 2000))
        nrfc = draw(st.integers(10, 120))
        overrides += ["controller.refresh=true", f"timing.nREFI={nrefi}", f"timing.nRFC={nrfc}"]
    else:
        overrides.append("controller.refresh=false")
    channels = draw(st.sampled_from([1, 1, 2]))
    overrides.append(f"organisation.channels={channels}")
    org = load_config(preset, overrides).organisation
    mapper = AddressMapper(org)
    shape = PRESETS[preset]
    # lines from few rows per bank (hits and conflicts), few columns (same-line forwarding),
    # a few banks in one or two bank groups and ranks; each trace uses a pool of 1..40 of them
    line = st.builds(
        mapper.encode,
        st.integers(0, channels - 1),
        st.integers(0, shape["ranks"] - 1),
        st.integers(0, shape["bankgroups"] - 1),
        st.integers(0, 1),
        st.integers(0, 2),
        st.sampled_from([0, org.burst_length, 5 * org.burst_length]),
    )
    pool = draw(st.lists(line, min_size=1, max_size=draw(st.sampled_from([4, 12, 40]))))
    address = st.tuples(st.sampled_from(pool), st.sampled_from([0, 8, 63])).map(sum)
    requests = draw(
        st.lists(
            st.tuples(st.sampled_from([0, 0, 0, 1, 2, 5, 20, 60, 200]), st.booleans(), address),
            min_size=10,
            max_size=max_requests,
        )
    )
    trace, cycle = [], draw(st.integers(0, 20))
    for gap, is_write, addr in requests:
        cycle += gap
        trace.append((cycle, is_write, addr))
    return preset, overrides, trace


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=60, **COMMON)
@given(scenarios(), st.booleans())
def test_engine_matches_reference(tmp_path, scenario, with_data):
    preset, overrides, trace = scenario
    compare(tmp_path, preset, overrides, trace, with_data=with_data)


@pytest.mark.slow
@settings(max_examples=400, **COMMON)
@given(scenarios(), st.booleans())
def test_engine_matches_reference_many(tmp_path, scenario, with_data):
    preset, overrides, trace = scenario
    compare(tmp_path, preset, overrides, trace, with_data=with_data)


# -- examples ------------------------------------------------------------------------------------

ROW = 1 << 18  # ddr4-2400, RoBaRaCoCh: row bits start at 18 (8 KiB rows x 16 banks x 2 ranks)


def test_row_hits_conflicts_and_forwarding(tmp_path):
    trace = [
        (0, False, 0x0),  # miss
        (0, False, 0x40),  # hit on the same row
        (1, False, ROW),  # conflict (same bank, other row)
        (1, True, 0x80),  # write ...
        (2, False, 0x80 + 8),  # ... and a read of the same line: forwarded
        (3, False, 0x80),
    ]
    doc = compare(tmp_path, "ddr4-2400", ["controller.refresh=false"], trace)
    assert doc["requests"]["forwarded_reads"] >= 1
    assert doc["row_buffer"]["conflicts"] >= 1 and doc["row_buffer"]["hits"] >= 1


def test_full_queues_and_write_drain(tmp_path):
    trace = [(0, i % 3 == 0, (i % 5) * ROW + (i % 4) * 0x40) for i in range(60)]
    overrides = [
        "controller.read_queue=2",
        "controller.write_queue=2",
        "controller.high_watermark=0.5",
        "controller.low_watermark=0.25",
        "controller.refresh=false",
    ]
    compare(tmp_path, "ddr4-2400", overrides, trace)


def test_refresh_closed_rows_and_two_channels(tmp_path):
    # a short nREFI: several refreshes (PREA + REF per rank) land among the requests
    trace = [
        (7 * i, i % 4 == 1, (i % 3) * ROW + (i % 7) * 0x40 + 0x2000 * (i % 2)) for i in range(80)
    ]
    overrides = [
        "controller.row_policy=closed",
        "controller.row_cap=2",
        "controller.refresh=true",
        "timing.nREFI=300",
        "timing.nRFC=40",
        "organisation.channels=2",
    ]
    doc = compare(tmp_path, "ddr4-2400", overrides, trace)
    assert doc["commands"]["REF"] > 0 and doc["commands"]["RDA"] + doc["commands"]["WRA"] > 0
