"""Boosted decision trees as a graph: the BDT of a checkpoint, from raw file values to its score.

A hepml BDT checkpoint stores scikit-learn's node tables (:mod:`hepml.estimators.tree_state`).
:class:`TreeEnsembleModule` walks them for every event and every tree at once, one level per step
(``feature``, ``threshold``, ``missing_go_to_left``, children; leaves point to themselves), the same
decisions as scikit-learn's predictor (``x <= threshold`` goes left, NaN follows
``missing_go_to_left``) in float64, and sums the leaf values per output on the baseline.
:class:`ExportedEstimator` puts the scalar groups' raw transform before it
(:class:`~hepml.export.graph.RawGroup`: what the BDT was fitted on) and the link after it (sigmoid
or softmax, or the target's inverse transform times ``ref``), so it exports to ONNX and
TorchScript like a network. Written here rather than with skl2onnx: the node tables are already
tensors, and one graph holds the transform too.

Shapes: ``x [B, F]`` -> raw scores ``[B, K]`` (``K`` = 1 for two classes and regression).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from hepml.data.schema import InputGroup
from hepml.export.graph import ExportedGraph, RawGroup


class TreeEnsembleModule(nn.Module):
    """The trees of an :func:`~hepml.estimators.tree_state.ensemble_state` as batched lookups."""

    feature: torch.Tensor
    threshold: torch.Tensor
    missing_left: torch.Tensor
    left: torch.Tensor
    right: torch.Tensor
    value: torch.Tensor
    roots: torch.Tensor
    baseline: torch.Tensor

    def __init__(self, state: Mapping[str, Any]):
        super().__init__()
        nodes = state["nodes"]
        sizes = state["tree_sizes"].to(torch.long)
        offsets = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
        owner = torch.repeat_interleave(torch.arange(len(sizes)), sizes)
        start = offsets[owner]  # each node's tree offset
        leaf = nodes["is_leaf"].to(torch.bool)
        own = torch.arange(int(sizes.sum()))
        self.register_buffer("feature", torch.where(leaf, 0, nodes["feature_idx"].to(torch.long)))
        self.register_buffer("threshold", nodes["num_threshold"].to(torch.float64))
        self.register_buffer("missing_left", nodes["missing_go_to_left"].to(torch.bool))
        self.register_buffer("left", torch.where(leaf, own, nodes["left"].to(torch.long) + start))
        self.register_buffer("right", torch.where(leaf, own, nodes["right"].to(torch.long) + start))
        self.register_buffer("value", torch.where(leaf, nodes["value"].to(torch.float64), 0.0))
        self.register_buffer("roots", offsets)
        self.register_buffer("baseline", state["baseline"].to(torch.float64))
        self.n_outputs = int(state["n_trees_per_iteration"])
        self.n_features = int(state["n_features"])
        self.n_steps = int(nodes["depth"].max()) + 1 if len(own) else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)
        node = self.roots.unsqueeze(0).expand(x.shape[0], -1)  # [B, T]
        for _ in range(self.n_steps):
            v = x.gather(1, self.feature[node])
            go_left = (v <= self.threshold[node]) | (torch.isnan(v) & self.missing_left[node])  # NaN <= t is False
            node = torch.where(go_left, self.left[node], self.right[node])
        leaves = self.value[node].reshape(x.shape[0], -1, self.n_outputs)  # [B, iterations, K]
        return self.baseline + leaves.sum(dim=1)


class ExportedEstimator(ExportedGraph):
    """Raw scalar groups (positional, in ``input_names`` order) -> the BDT's predictions.

    Parameters
    ----------
    state : the checkpoint's ``estimator`` (stored trees).
    groups : the scalar input groups, as the data config declares them (concatenated in this order).
    input_names : the graph inputs: the groups' names, then ``ref`` for a ratio target.
    kind : ``classification`` or ``regression``.
    classes : the fitted class labels (classification).
    signal_class : the class whose probability is the score.
    target_transform : the regression target's transform (``log`` or None).
    """

    def __init__(self, state: Mapping[str, Any], groups: Sequence[InputGroup], input_names: Sequence[str],
                 kind: str, classes: Sequence[int] | None = None, signal_class: int = 1,
                 target_transform: str | None = None):
        super().__init__()
        self.trees = TreeEnsembleModule(state)
        self.raw = nn.ModuleDict({g.name: RawGroup(g) for g in groups})
        self.group_names = [g.name for g in groups]
        self.input_names = list(input_names)
        self.kind, self.target_transform = kind, target_transform
        self.classes = list(classes or [])
        self.signal_index = self.classes.index(signal_class) if kind == "classification" else 0
        self.output_names = []

    def predict(self, *tensors: torch.Tensor) -> dict[str, torch.Tensor]:
        raw = dict(zip(self.input_names, tensors, strict=True))
        x = torch.cat([self.raw[g](raw[g]) for g in self.group_names], dim=-1)
        margin = self.trees(x)
        if self.kind == "regression":
            t = margin[:, 0]
            value = t.exp() if self.target_transform == "log" else t
            if "ref" in raw:
                value = value * raw["ref"].to(torch.float64)
            return {"pred": value.to(torch.float32)}
        if self.trees.n_outputs == 1:
            p = torch.sigmoid(margin[:, 0])
            proba = torch.stack([1 - p, p], dim=1)
        else:
            proba = torch.softmax(margin, dim=1)
        out = {"score": proba[:, self.signal_index].to(torch.float32)}
        if proba.shape[1] > 2:
            out["probabilities"] = proba.to(torch.float32)
        return out
