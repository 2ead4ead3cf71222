"""SimPy agents over the compiled engine (pimsim.agents): closed-loop timing, interleaving,
bulk operations beside requests, and the engine's tagged-request interface."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pimsim.agents import SimulationError, System
from pimsim.ambit.bulk import BulkError
from pimsim.config import load_config
from pimsim.controller import COMPLETED, END_OF_TIME
from pimsim.sim import Replay

try:
    from test_replay_vs_reference import scenarios, write_trace
except ModuleNotFoundError:  # tests/ is not on sys.path (e.g. --import-mode=importlib)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_replay_vs_reference import scenarios, write_trace

EXAMPLES = Path(__file__).parent.parent / "examples" / "agents"

#: Closed rows, and a bank that recovers (tRC, and RDA's tRTP + tRP) before a dependent read
#: can arrive: every read of a chain finds its bank precharged.
RECOVERING = ["controller.row_policy=closed", "timing.nRAS=20", "timing.nRC=36", "timing.nRTP=4"]


def addr(sim: System, bank: int, row: int, bankgroup: int = 0, column: int = 0) -> int:
    """The byte address of a burst in channel 0, rank 0."""
    return sim.mapper.encode(0, 0, bankgroup, bank, row, column)


def chain(sim: System, addresses, done: list):
    """A dependent load chain: each read is made when the one before it returned."""
    for a in addresses:
        start = sim.now
        end = yield sim.read(a)
        done.append((start, end))


def test_dependent_chain_of_row_misses_takes_n_row_miss_latencies():
    config = load_config("ddr4-2400", RECOVERING)
    t = config.timing
    # a read enters the controller in the cycle it is made, its ACT issues the next cycle
    # (never in the arrival cycle), its RD nRCD later, its data is back nCL + nBL after that
    row_miss = 1 + t["nRCD"] + t["nCL"] + t["nBL"]
    assert t["nRC"] <= row_miss and t["nRCD"] + t["nRTP"] + t["nRP"] <= row_miss
    sim = System(config, with_data=False)
    n, done = 100, []
    sim.process(chain(sim, [addr(sim, 0, 3 * i + 1) for i in range(n)], done))
    doc = sim.run()
    assert sim.now == n * row_miss
    assert [end - start for start, end in done] == [row_miss] * n
    assert doc["cycles"] == n * row_miss + 1  # the last event's cycle plus one
    assert doc["row_buffer"] == {"hits": 0, "misses": n, "conflicts": 0}
    assert doc["commands"]["ACT"] == doc["commands"]["RDA"] == n


def test_dependent_chain_on_open_rows_pays_a_conflict_bounded_by_tras():
    config = load_config("ddr4-2400")
    t = config.timing
    # open rows: the first read is a miss; each later one finds the previous row open and
    # precharges it once tRAS (from its ACT) and tRTP (from its RD) allow and it has
    # arrived, so ACTs follow each other every max(arrival + 1, nRAS, nRCD + nRTP) + nRP
    first = 1 + t["nRCD"] + t["nCL"] + t["nBL"]
    period = max(first, t["nRAS"], t["nRCD"] + t["nRTP"]) + t["nRP"]
    sim = System(config, with_data=False)
    n, done = 50, []
    sim.process(chain(sim, [addr(sim, 2, 5 * i + 7) for i in range(n)], done))
    doc = sim.run()
    assert sim.now == first + (n - 1) * period
    assert doc["row_buffer"] == {"hits": 0, "misses": 1, "conflicts": n - 1}


def test_two_agents_on_one_channel_interleave():
    sim = System(load_config("ddr4-2400", RECOVERING), with_data=False)
    n, a_done, b_done = 40, [], []
    sim.process(chain(sim, [addr(sim, 0, 2 * i + 1) for i in range(n)], a_done))
    sim.process(chain(sim, [addr(sim, 1, 2 * i + 1) for i in range(n)], b_done))
    doc = sim.run()
    alone = System(load_config("ddr4-2400", RECOVERING), with_data=False)
    solo: list = []
    alone.process(chain(alone, [addr(alone, 0, 2 * i + 1) for i in range(n)], solo))
    alone.run()
    # completions alternate A, B, A, B, ... and the two chains overlap in time: together
    # they take barely longer than one alone (not twice as long)
    owners = [o for _, o in sorted([(e, "A") for _, e in a_done] + [(e, "B") for _, e in b_done])]
    assert owners == ["A", "B"] * n
    assert all(a[0] < b[1] and b[0] < a[1] for a, b in zip(a_done, b_done, strict=True))
    assert sim.now < 1.1 * alone.now
    assert doc["requests"]["reads"] == 2 * n


def test_a_read_to_another_bank_is_served_during_a_bulk_operation():
    sim = System(load_config("ddr4-2400"), with_data=False)
    row = sim.bulk.row_bytes
    dst, src = 0x80000, 0x0
    vectors, reason = sim.bulk.vectors_at(sim.mapper, (dst, src), 4 * row)
    assert not reason
    busy = {r[:4] for v in vectors for r in v.rows}
    free_bank = next(
        (0, 0, bg, ba) for bg in range(4) for ba in range(4) if (0, 0, bg, ba) not in busy
    )
    used_bank = sorted(busy)[0]
    times = {}

    def cpu(sim):
        job = sim.bbop("not", dst, src, size=4 * row)
        other = sim.read(sim.mapper.encode(*free_bank, 9, 0))
        same = sim.read(sim.mapper.encode(*used_bank, 9, 0))  # made after the job: waits
        times["other"] = yield other
        times["same"] = yield same
        report = yield job
        times["job"] = sim.now
        times["report"] = report

    sim.process(cpu(sim))
    doc = sim.run()
    assert times["report"].op == "not" and times["report"].in_dram_rows == 4
    assert times["other"] < times["job"] <= times["same"]
    assert doc["pim"]["ops"]["not"] == 1 and doc["requests"]["reads"] == 2


def bulk_run(ops, serial: bool, with_data: bool = True):
    """Run bulk operations (op, dst, sources) of 4 rows each, all at once or one after the
    other; returns the system, the reports and the source data written."""
    sim = System(load_config("ddr4-2400"), with_data=with_data)
    size = 4 * sim.bulk.row_bytes
    rng = np.random.default_rng(5)
    data = {}
    for _, _, sources in ops:
        for a in sources:
            (vector,), _ = sim.bulk.vectors_at(sim.mapper, (a,), size)
            data[a] = rng.integers(0, 2**63, size // 8, dtype=np.uint64)
            sim.bulk.write(vector, data[a])
    reports = {}

    def issuer(sim, op, dst, sources):
        reports[dst] = yield sim.bbop(op, dst, *sources, size=size)

    def one_by_one(sim):
        for op, dst, sources in ops:
            yield from issuer(sim, op, dst, sources)

    if serial:
        sim.process(one_by_one(sim))
    else:
        for op, dst, sources in ops:
            sim.process(issuer(sim, op, dst, sources))
    sim.run()
    return sim, [reports[dst] for _, dst, _ in ops], data


#: two operations on disjoint banks (rank-wide rows stripe over ranks, then bank groups: 4
#: rows from 0x0 take bank groups 0-1, 4 rows from 0x8000 bank groups 2-3; sources lie in
#: rows 2 and 4 of the same banks, the same subarrays)
DISJOINT = [("not", 0x0, (0x80000,)), ("and", 0x8000, (0x88000, 0x108000))]


def test_bbops_on_disjoint_banks_run_at_once_and_stay_bit_exact():
    sim, (a, b), data = bulk_run(DISJOINT, serial=False)
    serial, (sa, sb), _ = bulk_run(DISJOINT, serial=True)
    # in flight together: the second starts before the first ends, and both take the time
    # they take alone (the banks differ; only the command bus and tFAW are shared)
    assert b.span.first_tick < a.span.end_tick
    assert a.in_dram_rows == b.in_dram_rows == 4
    assert sim.now < 0.75 * serial.now
    assert {a.time_ns, b.time_ns} == {sa.time_ns, sb.time_ns}
    size = 4 * sim.bulk.row_bytes
    for (op, dst, _), ref in zip(
        DISJOINT, (~data[0x80000], data[0x88000] & data[0x108000]), strict=True
    ):
        (vector,), _ = sim.bulk.vectors_at(sim.mapper, (dst,), size)
        np.testing.assert_array_equal(sim.bulk.read(vector), ref, err_msg=op)


def test_bbops_on_shared_banks_take_them_in_order():
    # the second writes rows of the first's banks and reads its result: it waits for it
    ops = [("not", 0x0, (0x80000,)), ("not", 0x100000, (0x0,))]
    sim, (a, b), data = bulk_run(ops, serial=False)
    last_pre = a.span.end_tick - sim.device.timing_ticks["nRP"]
    assert b.span.first_tick > last_pre  # after the first's last command
    (vector,), _ = sim.bulk.vectors_at(sim.mapper, (0x100000,), 4 * sim.bulk.row_bytes)
    np.testing.assert_array_equal(sim.bulk.read(vector), data[0x80000])
    doc = sim.stats()
    assert doc["pim"]["ops"] == {"not": 2}


def test_a_bbop_the_dram_cannot_do_says_why():
    sim = System(load_config("ddr4-2400"), with_data=False)

    def agent(sim):
        yield sim.bbop("not", 0x40, 0x0, size=8192)

    sim.process(agent(sim))
    with pytest.raises(BulkError, match="not row-aligned"):
        sim.run()


def test_writes_complete_when_issued_and_store_their_burst():
    sim = System(load_config("ddr4-2400"), with_data=True)
    a = addr(sim, 3, 11, column=8)
    times = []

    def agent(sim):
        times.append((yield sim.write(a)))
        times.append((yield sim.read(a)))

    sim.process(agent(sim))
    doc = sim.run()
    t = sim.config.timing
    assert times[0] == 1 + t["nRCD"]  # ACT at 1, WR nRCD later
    words = sim.device.read_burst(*sim.mapper.decode(a))
    assert list(words) == [a + 8 * k for k in range(sim.config.organisation.burst_length)]
    assert doc["requests"] == {"reads": 1, "writes": 1, "forwarded_reads": 0}


def test_timeouts_are_memory_cycles_and_idle_time_costs_nothing():
    sim = System(load_config("ddr4-2400"), with_data=False)
    seen = []

    def agent(sim):
        yield sim.timeout(1_000_000)
        seen.append(sim.now)
        seen.append((yield sim.read(0)))

    sim.process(agent(sim))
    doc = sim.run()
    t = sim.config.timing
    assert seen == [1_000_000, 1_000_000 + 1 + t["nRCD"] + t["nCL"] + t["nBL"]]
    assert doc["commands"]["REF"] >= 1_000_000 // t["nREFI"]


def test_an_agent_waiting_for_nothing_is_a_simulation_error():
    sim = System(load_config("ddr4-2400"), with_data=False)

    def stuck(sim):
        yield sim.env.event()  # nobody fires it

    sim.process(stuck(sim))
    with pytest.raises(SimulationError, match="stalled"):
        sim.run()


def test_engine_reports_tags_once_per_completion_cycle():
    # the C interface under the agents: tags come back in the cycle their request completes
    sim = System(load_config("ddr4-2400"), with_data=False)
    engine, tick = sim.engine, sim.clock.ticks_per_cycle
    for tag, bank in ((7, 0), (9, 1)):
        engine.submit(tag, addr(sim, bank, 1), *sim.mapper.decode(addr(sim, bank, 1)), False)
    seen = []
    while len(seen) < 2:
        assert engine.run(END_OF_TIME, True, True, 1000) == COMPLETED
        seen += [(int(t), engine.now // tick) for t in engine.completions()]
    t = sim.config.timing
    first = 1 + t["nRCD"] + t["nCL"] + t["nBL"]
    # the second enters a cycle later, and its ACT (same bank group) waits nRRD_L after the
    # first's
    assert seen == [(7, first), (9, first + t["nRRD_L"])]
    with pytest.raises(ValueError, match="nonzero tag"):
        engine.submit(0, 0, 0, 0, 0, 0, 0, 0, False)


@pytest.mark.parametrize("with_data", [False, True])
def test_example_pointer_chaser_vs_streamer(with_data, capsys):
    result = runpy.run_path(str(EXAMPLES / "two_cores.py"), run_name="example")
    summary = result["main"](with_data=with_data)
    out = capsys.readouterr().out
    assert "pointer chaser" in out and "streamer" in out
    chaser, streamer = summary["chaser"], summary["streamer"]
    t = load_config("ddr4-2400").timing
    # a dependent chain cannot beat one unloaded row miss per read; the streamer's window
    # of misses in flight gives it several times the chaser's bandwidth
    assert chaser["mean_latency_cycles"] >= 1 + t["nRCD"] + t["nCL"] + t["nBL"]
    assert streamer["reads_per_kcycle"] > 3 * chaser["reads_per_kcycle"]
    assert summary["doc"]["requests"]["reads"] == chaser["reads"] + streamer["reads"]
    assert np.isfinite(summary["doc"]["energy_nj"]["total"])


def open_loop(sim: System, trace):
    """Make each request of ``trace`` at its cycle without waiting for it (a trace's way)."""
    for cycle, is_write, a in trace:
        if cycle > sim.now:
            yield sim.timeout(cycle - sim.now)
        (sim.write if is_write else sim.read)(a)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenarios(), st.booleans())
def test_an_open_loop_agent_gives_the_trace_replays_document(tmp_path, scenario, with_data):
    # the agents' path (tagged requests through the inbox, the SimPy clock) against the trace
    # path (chunks sent from C), which tests/test_replay_vs_reference.py checks against the
    # plain-Python reference controller: the same requests give the same document
    preset, overrides, trace = scenario
    config = load_config(preset, overrides)
    want = Replay(config, write_trace(tmp_path / "t.trace", trace), with_data=with_data).run()
    sim = System(config, with_data=with_data, label=want["trace"])
    sim.process(open_loop(sim, trace))
    assert sim.run() == want


def test_bbops_nobody_waits_for_still_run_to_their_end():
    # more than the engine's job slots, issued and forgotten by an agent that returns at once
    sim = System(load_config("ddr4-2400"), with_data=False)
    row = sim.bulk.row_bytes

    def fire_and_forget(sim):
        for k in range(10):
            sim.bbop("copy", 0x4000000 + k * row, 0x0, size=row)
        yield sim.timeout(1)

    sim.process(fire_and_forget(sim))
    doc = sim.run()
    assert doc["pim"]["ops"] == {"copy": 10}
