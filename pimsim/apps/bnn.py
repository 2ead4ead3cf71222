"""bnn: a binarized classifier's inference (XNOR, popcount, argmax), all in DRAM.

The model (pimsim.apps.bnn_model) is trained with numpy when the workload starts. In DRAM
the samples are elements in vertical layout: feature f of every sample is bit row x[f]. One
generated program does the whole inference per row group:

- NOT of every feature some class weighs -1 (2 AAP each, once): XNOR with a constant weight
  bit is the feature (+1) or its complement (-1), so no XNOR command is needed;
- per class c: the F XNOR rows copied into one operand (an AAP each) and the library's
  ``bitcount`` over them (about 6F commands), the score;
- argmax by a running maximum: ``gt`` (score_c > best, strict so that a tie keeps the
  earlier class, as numpy's argmax does), ``select`` of the new best, and the class index
  bits updated from the gt row (4 AAP per index bit).

The host then reads the index rows (ceil(log2 C) per row group) through the controller.
The CPU baseline streams the binarized samples (F bits each, packed) through the same
controller and computes in registers. Every in-DRAM prediction is checked against the numpy
model's; the accuracy is that of the in-DRAM predictions on the held-out split.
"""

from __future__ import annotations

import numpy as np

from pimsim.ambit.bulk import BulkEngine, BulkError
from pimsim.ambit.operands import OperandRows
from pimsim.apps import bnn_model
from pimsim.apps.sides import fits_host, host_reads_arrays, host_reads_rows, side_of
from pimsim.apps.sweep import Point, Workload, WorkloadError
from pimsim.baseline import LINE_BYTES
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.parse import Program, parse


def score_width(features: int) -> int:
    """Bits of a score (0..features), as the library's bitcount leaves it."""
    return features.bit_length()


def index_width(classes: int) -> int:
    """Bits of a class index (0..classes-1)."""
    return max(1, (classes - 1).bit_length())


def program_text(weights: np.ndarray) -> str:
    """The inference program of ``weights`` (classes, features; True = +1) as .pim text:
    input x (the feature bits), output idx (the predicted class)."""
    classes, features = weights.shape
    sw, iw = score_width(features), index_width(classes)
    lines = ["op bnn", f"in x:{features}", f"out idx:{iw}",
             f"scratch nx:{features} z:{features} best:{sw} s:{sw} g"]  # fmt: skip
    for f in np.flatnonzero(~weights.all(axis=0)):
        lines += [f"AAP x[{f}] -> ~DCC0", f"AAP DCC0 -> nx[{f}]"]
    for c in range(classes):
        lines += [f"AAP {'x' if w else 'nx'}[{f}] -> z[{f}]" for f, w in enumerate(weights[c])]
        lines.append(f"call bitcount n={features} z {'best' if c == 0 else 's'}")
        if c == 0:
            lines += [f"AAP C0 -> idx[{i}]" for i in range(iw)]
            continue
        lines += [f"call gt n={sw} s best g", f"call select n={sw} g s best best"]
        for i in range(iw):  # idx[i] = g ? bit i of c : idx[i]
            if c >> i & 1:  # g OR idx[i] = MAJ(g, idx[i], 1)
                lines += ["AAP g -> T0", f"AAP idx[{i}] -> T1", "AAP C1 -> T2",
                          f"AAP T0,T1,T2 -> idx[{i}]"]  # fmt: skip
            else:  # NOT g AND idx[i] = MAJ(NOT g, idx[i], 0)
                lines += ["AAP g -> ~DCC0", f"AAP idx[{i}] -> T1", "AAP C0 -> T2",
                          f"AAP DCC0,T1,T2 -> idx[{i}]"]  # fmt: skip
    return "\n".join(lines) + "\n"


def inference_program(model: bnn_model.Model) -> Program:
    """The model's inference program, expanded and checked."""
    return parse(program_text(model.weights), f"<bnn {model.dataset}>")


def _rows(config: Config, banks: int | None, program: Program, samples: int, with_data: bool):
    engine = BulkEngine(Device(config), banks, with_data)
    try:
        return OperandRows(engine, program, samples)
    except BulkError as error:
        raise WorkloadError(
            f"--samples {samples:,}: the inference over {samples:,} samples on "
            f"{len(engine.banks)} bank(s) of {config.name}: {error}"
        ) from None


def _cpu_bytes(model: bnn_model.Model, samples: int) -> int:
    """The packed binarized samples in whole lines (bytes)."""
    return -(-samples * model.features // (LINE_BYTES * 8)) * LINE_BYTES


def make_workload(dataset: str) -> Workload:
    """The bnn workload of ``dataset`` (the model trained once, here)."""
    model = bnn_model.train(dataset)
    program = inference_program(model)
    test = len(model.test_labels)
    accuracy = np.mean(bnn_model.predict(model.weights, model.test_bits) == model.test_labels)

    def check(config: Config, banks: int | None, point: Point) -> None:
        samples = point["samples"]
        _rows(config, banks, program, samples, with_data=False)
        if not fits_host(config, [_cpu_bytes(model, samples)]):
            raise WorkloadError(f"--samples {samples:,}: the samples do not fit {config.name}")

    def run(config: Config, banks: int | None, profile: str, point: Point, with_data: bool):
        samples = point["samples"]
        rows = _rows(config, banks, program, samples, with_data)
        expected = np.resize(bnn_model.predict(model.weights, model.test_bits), samples)
        if with_data:
            packed = np.resize(bnn_model.pack(model.test_bits), samples)
            rows.write({program.operand("x"): packed})
        report = rows.run()
        device = rows.engine.device
        end = host_reads_rows(device, np.concatenate([v.fields for v in rows.outputs]))
        ways = {"dram": side_of(device, report.span.first_tick, end, profile)}
        cpu = Device(config)
        ways["cpu"] = side_of(cpu, 0, host_reads_arrays(cpu, [_cpu_bytes(model, samples)]),
                              profile)  # fmt: skip
        result = {
            "dataset": dataset,
            "features": model.features,
            "classes": model.classes,
            "train_samples": model.train_samples,
            "test_samples": test,
            "commands_per_row_group": len(program.steps),
            "row_groups": rows.groups,
        }
        correct = None
        if with_data:
            got = rows.read((program.operand("idx"),))["idx"].astype(np.int64)
            correct = bool(np.array_equal(got, expected))
            held = min(samples, test)
            result["accuracy"] = round(float(np.mean(got[:held] == model.test_labels[:held])), 4)
        return {"ways": ways, "correct": correct, "result": result}

    return Workload(
        name="bnn",
        summary="binarized classifier inference: XNOR, popcount and argmax in DRAM",
        ways=("dram",),
        baseline="cpu",
        on_cpu={
            "dram": "reading the predicted class: the host reads the "
            f"{index_width(model.classes)} index row(s) per row group; training and binarizing the "
            "inputs happen before (the samples are stored binarized, in vertical layout)",
            "cpu": f"everything: the host streams the binarized samples ({model.features} "
            "bits each, packed) and computes XNOR, popcount and argmax in registers (its "
            "compute is taken as hidden under the reads)",
        },
        check=check,
        run=run,
        about=f"dataset {dataset}: {model.features} binarized features, {model.classes} "
        f"classes, trained on {model.train_samples} samples; the model's accuracy on the "
        f"{test} held out: {accuracy:.2%} (the samples: the held-out split repeated)",
    )
