"""The binarized classifier of ``pimsim workload bnn`` and its numpy twin.

A scikit-learn bundled dataset (no download) is split deterministically (stratified, a
quarter held out, seed 0). Each feature is binarized by its median over the training split
(bit = value > median). A linear model is fitted in float by numpy least squares on the
features as +-1 against one-hot +-1 targets, and its weights binarized per class (bit =
weight >= 0). The score of class c is popcount(XNOR(x, w_c)), the number of features whose
bit equals the class's weight bit (2 * score - F is the +-1 dot product); the prediction is
the first class of the highest score (numpy's argmax).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The datasets ``--dataset`` takes: scikit-learn's bundled classification sets.
DATASETS = ("digits", "iris", "wine", "breast_cancer")
#: Share of the samples held out for the accuracy, and the split's seed.
TEST_SHARE = 0.25
SEED = 0


@dataclass(frozen=True)
class Model:
    """A trained binarized model: ``weights`` (classes, features) bool (True = +1), the
    binarized held-out samples ``test_bits`` (samples, features) bool and their labels."""

    dataset: str
    weights: np.ndarray
    thresholds: np.ndarray
    test_bits: np.ndarray
    test_labels: np.ndarray
    train_samples: int

    @property
    def classes(self) -> int:
        return self.weights.shape[0]

    @property
    def features(self) -> int:
        return self.weights.shape[1]


def load(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The dataset's samples (float, samples x features) and integer labels."""
    import sklearn.datasets  # loaded when bnn runs: start-up stays short

    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r} is not one of {', '.join(DATASETS)}")
    found = getattr(sklearn.datasets, f"load_{dataset}")()
    return np.asarray(found.data, dtype=np.float64), np.asarray(found.target, dtype=np.int64)


def train(dataset: str) -> Model:
    """The binarized model of ``dataset`` (deterministic: the same weights every run)."""
    from sklearn.model_selection import train_test_split

    data, labels = load(dataset)
    x_train, x_test, y_train, y_test = train_test_split(
        data, labels, test_size=TEST_SHARE, random_state=SEED, stratify=labels
    )
    thresholds = np.median(x_train, axis=0)
    bits = x_train > thresholds
    classes = int(labels.max()) + 1
    targets = np.where(np.arange(classes) == y_train[:, None], 1.0, -1.0)
    signs = np.where(bits, 1.0, -1.0)
    fitted, *_ = np.linalg.lstsq(signs, targets, rcond=None)  # (features, classes)
    return Model(dataset, (fitted >= 0).T.copy(), thresholds, x_test > thresholds, y_test,
                 len(y_train))  # fmt: skip


def scores(weights: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """popcount(XNOR(x, w_c)) of every sample and class: (samples, classes) int64."""
    return (bits[:, None, :] == weights[None, :, :]).sum(axis=2, dtype=np.int64)


def predict(weights: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The model's classes of ``bits`` (samples, features): the first highest score."""
    return np.argmax(scores(weights, bits), axis=1)


def samples(model: Model, count: int) -> np.ndarray:
    """``count`` binarized samples: the held-out split repeated (and cut) to ``count``."""
    reps = -(-count // len(model.test_bits))
    return np.tile(model.test_bits, (reps, 1))[:count]


def pack(bits: np.ndarray) -> np.ndarray:
    """Each sample's feature bits as one integer (feature f is bit f): uint64 per sample."""
    weights = np.uint64(1) << np.arange(bits.shape[1], dtype=np.uint64)
    return (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
