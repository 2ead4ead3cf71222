"""A finished job's counters (pimsim.ambit.jobs.Job.finish) against a slow per-command
twin over its table and log: per-bank busy ticks, rows raised, commands per kind and the
most activations of one row, on random placements (rows in place, staged and copied)."""

import numpy as np
import pytest

from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.jobs import run_job
from pimsim.config import load_config
from pimsim.controller import engine_of
from pimsim.device import Device
from pimsim.standards import CMD, COMMANDS
from tests.test_bulk_copies import random_rows


def twin_counters(job, log, nrp):
    """The counters one command at a time, from the table and the log."""
    _order, when, _first, _last_pre, closes = log
    busy, issued, raised = {}, {}, 0
    for i, row in enumerate(job.table.tolist()):
        code, bank = row[0], tuple(row[1:5])
        issued[COMMANDS[code]] = issued.get(COMMANDS[code], 0) + 1
        if code in (CMD["ACT"], CMD["AACT"]):
            raised += row[7]
        if code == CMD["ACT"]:
            busy[bank] = busy.get(bank, 0) - int(when[i])
        elif code == CMD["PRE"]:
            busy[bank] = busy.get(bank, 0) + int(when[i]) + nrp
    if closes:
        issued["PRE"] = issued.get("PRE", 0) + closes
    hits: dict[int, int] = {}
    for part in job.parts:
        for r, w in zip(part.activated.tolist(), part.weights.tolist(), strict=True):
            hits[r] = hits.get(r, 0) + w
    return busy, issued, raised, max(hits.values(), default=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("op", ["and", "xor", "copy"])
def test_job_counters_match_the_per_command_twin(op, seed):
    device = Device(load_config("ddr4-2400"))
    eng = BulkEngine(device, with_data=False)
    operands = 2 if op == "copy" else 3
    rows = random_rows(eng.pim.layout, np.random.default_rng(seed), 12, operands, banks=3)
    dst, *sources = (Vector(r, eng.row_bytes) for r in rows)
    plan = eng.plan(op, dst, *sources)
    run_job(device, plan.job)
    log = engine_of(device).job_log(engine_of(device).last_job)
    busy, issued, raised, most = twin_counters(plan.job, log, device.timing_ticks["nRP"])
    counters = plan.job.counters
    assert counters.busy_ticks == busy and list(counters.busy_ticks) == sorted(busy)
    assert counters.issued == issued
    assert counters.rows_raised == raised
    assert counters.max_row_activations == most > 0
