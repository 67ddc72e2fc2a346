"""Flavour-tagging and multi-class figures from a synthetic b / c / light predictions file."""

from __future__ import annotations

import numpy as np
import pytest

from hepml.plotting.flavour import flavour_classes, plot_flavour
from hepml.plotting.multiclass import plot_multiclass
from hepml.plotting.options import PlotOptions


def _columns(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    label = rng.choice(3, n, p=[0.6, 0.15, 0.25])  # light, c, b
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), label] += 2.0
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return {"probabilities": p, "label": label, "score": p[:, 2], "jet_pt": rng.exponential(50, n) + 25}


def test_flavour_and_multiclass_figures(tmp_path):
    info = {"class_names": ["light", "c", "b"], "flavour": {"f_c": 0.1, "working_point": 0.7},
            "model_name": "DeepJet"}
    options = PlotOptions(formats=("png",), n_bins=4)
    files = plot_flavour(_columns(), info, tmp_path, options) + plot_multiclass(_columns(), info, tmp_path, options)
    assert sorted(f.name for f in files) == sorted(
        ["flavour_rejection.png", "flavour_discriminant.png", "flavour_eff_vs_jet_pt.png",
         "confusion_matrix.png", "roc_one_vs_rest.png"])
    assert all(f.stat().st_size > 1000 for f in files)


def test_flavour_classes_name_the_config_key():
    assert flavour_classes({}, ["light", "c", "b"]) == (2, 1, 0)
    with pytest.raises(ValueError, match="flavour.b"):
        flavour_classes({"b": "bottom"}, ["light", "c", "b"])
