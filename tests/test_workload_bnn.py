"""bnn: the in-DRAM predictions equal the numpy model's (ties included), the model, the
costs' shape, and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.operands import OperandRows
from pimsim.apps import bnn_model
from pimsim.apps.bnn import make_workload, program_text
from pimsim.apps.sweep import WorkloadError, sweep
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.parse import parse


@pytest.fixture(scope="module")
def ddr3():
    return load_config("ddr3-1600", ())


@pytest.fixture(scope="module")
def workloads():
    return {d: make_workload(d) for d in bnn_model.DATASETS}


def _in_dram(config, weights: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The generated program's predictions of ``bits`` on one bank."""
    program = parse(program_text(weights))
    rows = OperandRows(BulkEngine(Device(config), 1, True), program, len(bits))
    rows.write({program.operand("x"): bnn_model.pack(bits)})
    rows.run()
    return rows.read((program.operand("idx"),))["idx"].astype(np.int64)


@pytest.mark.parametrize("dataset", bnn_model.DATASETS)
def test_predictions_equal_numpys_on_every_dataset(ddr3, workloads, dataset):
    model = bnn_model.train(dataset)
    test = len(model.test_labels)
    point = sweep(workloads[dataset], ddr3, [{"samples": test}], banks=8)["points"][0]
    assert point["correct"] is True
    want = bnn_model.predict(model.weights, model.test_bits)
    assert point["accuracy"] == round(float(np.mean(want == model.test_labels)), 4)
    # better than guessing the most common class
    assert point["accuracy"] > np.bincount(model.test_labels).max() / test
    assert (point["features"], point["classes"]) == model.weights.T.shape


def test_argmax_ties_go_to_the_first_class_as_numpys(ddr3):
    rng = np.random.default_rng(7)
    weights = rng.integers(0, 2, (6, 3)).astype(bool)  # 3 features, 6 classes: many ties
    bits = rng.integers(0, 2, (2000, 3)).astype(bool)
    scores = bnn_model.scores(weights, bits)
    tied = (scores == scores.max(axis=1, keepdims=True)).sum(axis=1) > 1
    assert tied.mean() > 0.5
    assert np.array_equal(_in_dram(ddr3, weights, bits), np.argmax(scores, axis=1))


def test_every_class_can_win(ddr3):
    weights = np.eye(5, 8, dtype=bool) | np.eye(5, 8, 3, dtype=bool)
    bits = np.vstack([weights, ~weights, np.zeros((1, 8), bool), np.ones((1, 8), bool)])
    got = _in_dram(ddr3, weights, bits)
    assert np.array_equal(got, bnn_model.predict(weights, bits))
    assert set(got[:5]) == set(range(5))


def test_training_is_deterministic():
    one, two = bnn_model.train("wine"), bnn_model.train("wine")
    assert np.array_equal(one.weights, two.weights)
    assert np.array_equal(one.test_bits, two.test_bits)
    assert one.train_samples + len(one.test_labels) == 178  # the wine set's samples


def test_samples_repeat_the_held_out_split():
    model = bnn_model.train("iris")
    test = len(model.test_bits)
    got = bnn_model.samples(model, 2 * test + 3)
    assert np.array_equal(got[test : 2 * test], model.test_bits)
    assert np.array_equal(got[-3:], model.test_bits[:3])
    assert bnn_model.pack(np.array([[True, False, True, True]])).tolist() == [0b1101]


def test_the_costs_scale_and_the_cpu_pays_per_byte(ddr3, workloads):
    points = [{"samples": 1 << 16}, {"samples": 1 << 19}]
    small, big = sweep(workloads["digits"], ddr3, points, banks=8, with_data=False)["points"]
    # 8x the samples: the CPU streams 8x the bytes (within 2%)
    ratio = big["ways"]["cpu"]["time_ns"] / small["ways"]["cpu"]["time_ns"]
    assert ratio == pytest.approx(8.0, rel=0.02)
    # the in-DRAM side runs one row group per bank at a time: 1 group, then 1 per bank
    assert (small["row_groups"], big["row_groups"]) == (1, 8)
    # 8 banks in parallel (tFAW-bound): 8x the samples in about 2.6x the time
    assert big["speedup"]["dram"] > 2.5 * small["speedup"]["dram"]
    assert big["correct"] is None


def test_a_point_that_does_not_fit_is_refused_before_any_work(ddr3, workloads):
    ran = []
    with pytest.raises(WorkloadError, match="--samples"):
        sweep(workloads["iris"], ddr3, [{"samples": 100}, {"samples": 1 << 34}], banks=1,
              on_point=ran.append)  # fmt: skip
    assert ran == []


def test_command_prints_the_table_and_json(tmp_path):
    out = tmp_path / "bnn.json"
    result = CliRunner().invoke(
        cli, ["workload", "bnn", "--dataset", "breast_cancer", "--config", "ddr3-1600",
              "--banks", "8", "--samples", "143,64K", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "samples=64K" in result.output and "on the CPU:" in result.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["all_correct"] is True
    assert [p["dataset"] for p in doc["points"]] == ["breast_cancer"] * 2
    accuracy = doc["points"][0]["accuracy"]  # of the in-DRAM predictions, held-out split
    assert f"held out: {accuracy:.2%}" in doc["about"] and doc["about"] in result.output


def test_unknown_dataset_is_one_error_line():
    result = CliRunner().invoke(cli, ["workload", "bnn", "--dataset", "mnist"])
    assert result.exit_code == 2
    assert "mnist" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("dataset", bnn_model.DATASETS)
def test_predictions_equal_numpys_at_scale(workloads, dataset):
    config = load_config("ddr4-2400", ())
    points = [{"samples": n} for n in (1 << 20, 3 << 20)]
    doc = sweep(workloads[dataset], config, points)
    assert doc["summary"]["all_correct"] is True
    assert doc["points"][1]["speedup"]["dram"] > 1.0
