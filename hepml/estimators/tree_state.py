"""A fitted histogram gradient boosting model as arrays, and the predictor rebuilt from them.

A pickled scikit-learn model runs code when it is loaded; its trees are just node tables. So a
checkpoint stores each tree's nodes (scikit-learn's ``PREDICTOR_RECORD_DTYPE`` fields as tensors),
the baseline and the link, and :class:`TreeEnsemble` predicts from them with scikit-learn's own
tree predictor, summing in the same order: the predictions after a reload equal the fitted
model's bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.special import expit
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils.extmath import softmax

FORMAT = 1
LINKS = ("identity", "logit", "softmax")


def ensemble_state(model: Any) -> dict[str, Any]:
    """The trees of a fitted ``HistGradientBoostingClassifier``/``Regressor`` as plain values and
    tensors (what ``torch.load(weights_only=True)`` reads back)."""
    predictors = getattr(model, "_predictors", None)
    if predictors is None:
        raise ValueError("the BDT is not fitted: nothing to save")
    trees = [tree for iteration in predictors for tree in iteration]
    if any(tree.nodes["is_categorical"].any() for tree in trees):
        raise ValueError("the BDT has categorical splits, which hepml checkpoints do not store")
    n_per_iteration = int(model.n_trees_per_iteration_)
    classes = getattr(model, "classes_", None)
    if classes is None:
        if getattr(model, "loss", "squared_error") != "squared_error":
            raise ValueError(f"BDT regression with loss {model.loss!r} cannot be saved: "
                             "only squared_error (identity link) is stored")
        link = "identity"
    else:
        link = "logit" if n_per_iteration == 1 else "softmax"
    nodes = np.concatenate([tree.nodes for tree in trees])
    return {
        "format": FORMAT,
        "link": link,
        "classes": None if classes is None else [c.item() for c in np.asarray(classes)],
        "n_features": int(model.n_features_in_),
        "n_trees_per_iteration": n_per_iteration,
        "baseline": torch.from_numpy(np.asarray(model._baseline_prediction, dtype=np.float64).ravel().copy()),
        "tree_sizes": torch.tensor([len(tree.nodes) for tree in trees], dtype=torch.int64),
        "nodes": {name: _tensor(nodes[name]) for name in PREDICTOR_RECORD_DTYPE.names},
    }


def _tensor(column: np.ndarray) -> torch.Tensor:
    """Integer fields travel as int64 (every torch version reads it); floats as they are."""
    if np.issubdtype(column.dtype, np.integer):
        return torch.from_numpy(column.astype(np.int64))
    return torch.from_numpy(np.ascontiguousarray(column))


class TreeEnsemble:
    """Predictions of the stored trees: ``predict_proba`` (classification) or ``predict``.

    Parameters
    ----------
    state : what :func:`ensemble_state` returned.
    """

    def __init__(self, state: dict[str, Any]):
        if state.get("format") != FORMAT or state.get("link") not in LINKS:
            raise ValueError(f"unknown BDT state (format {state.get('format')!r}, link "
                             f"{state.get('link')!r}); it was written by another hepml version")
        missing = [n for n in PREDICTOR_RECORD_DTYPE.names if n not in state["nodes"]]
        if missing:
            raise ValueError(f"the stored BDT trees lack the node fields {missing}")
        self.link = state["link"]
        self.classes_ = None if state["classes"] is None else np.asarray(state["classes"])
        self.n_features_in_ = int(state["n_features"])
        per_iteration = int(state["n_trees_per_iteration"])
        self.baseline = state["baseline"].numpy().reshape(1, per_iteration)
        table = np.zeros(int(state["tree_sizes"].sum()), dtype=PREDICTOR_RECORD_DTYPE)
        for name in PREDICTOR_RECORD_DTYPE.names:
            table[name] = state["nodes"][name].numpy().astype(PREDICTOR_RECORD_DTYPE[name])
        bounds = np.cumsum([0, *state["tree_sizes"].tolist()])
        no_bitsets = np.zeros((0, 8), dtype=np.uint32)
        trees = [TreePredictor(table[a:b].copy(), no_bitsets, no_bitsets)
                 for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self.predictors = [trees[i:i + per_iteration] for i in range(0, len(trees), per_iteration)]

    def raw_predict(self, x: np.ndarray) -> np.ndarray:
        """``[n, trees per iteration]`` sums of the leaf values, as scikit-learn adds them."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features_in_:
            raise ValueError(f"the BDT was trained on {self.n_features_in_} features, got an array "
                             f"of shape {x.shape}")
        raw = np.zeros((len(x), self.baseline.shape[1]), dtype=np.float64, order="F")
        raw += self.baseline
        known = np.zeros((0, 8), dtype=np.uint32)
        f_idx_map = np.zeros(self.n_features_in_, dtype=np.uint32)
        n_threads = _openmp_effective_n_threads()
        for iteration in self.predictors:
            for k, tree in enumerate(iteration):
                raw[:, k] += tree.predict(x, known, f_idx_map, n_threads)
        return raw

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        raw = self.raw_predict(x)
        if self.link == "softmax":
            return softmax(raw)
        if self.link != "logit":
            raise ValueError("predict_proba of a regression BDT")
        proba = np.empty((len(raw), 2), dtype=raw.dtype)
        proba[:, 1] = expit(raw.squeeze(1))
        proba[:, 0] = 1 - proba[:, 1]
        return proba

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.link != "identity":
            raise ValueError("predict of a classification BDT: use predict_proba")
        return self.raw_predict(x).ravel()
