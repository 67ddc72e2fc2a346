"""Each plotting function writes non-empty png and pdf files."""

import numpy as np
import pytest

from hepml.metrics import roc_curve
from hepml.plotting import (
    plot_binned_response,
    plot_response,
    plot_roc,
    plot_scores,
    plot_truth_vs_pred,
    set_style,
)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _cms_style():
    set_style("CMS")
    yield
    set_style("none")


def _check(files, tmp_path, name):
    assert sorted(f.name for f in files) == [f"{name}.pdf", f"{name}.png"]
    for f in files:
        assert f.parent == tmp_path and f.stat().st_size > 0


def test_plot_roc(rng, tmp_path):
    labels = rng.integers(0, 2, 2000)
    curves = {
        "good": roc_curve(rng.normal(labels * 2.0), labels)[:2],
        "weak": roc_curve(rng.normal(labels * 1.0), labels)[:2],
    }
    _check(plot_roc(curves, tmp_path / "roc", reference="weak"), tmp_path, "roc")
    _check(plot_roc(curves, tmp_path / "roc_noratio"), tmp_path, "roc_noratio")
    with pytest.raises(ValueError, match="choose from"):
        plot_roc(curves, tmp_path / "bad", reference="missing")


def test_plot_scores(rng, tmp_path):
    labels = rng.integers(0, 2, 2000)
    scores = 1 / (1 + np.exp(-rng.normal(labels * 2.0 - 1.0)))
    _check(plot_scores(scores, labels, rng.random(2000), tmp_path / "scores"), tmp_path, "scores")


def test_plot_response(rng, tmp_path):
    responses = {"model": rng.normal(1.0, 0.1, 2000), "baseline": rng.normal(0.95, 0.2, 2000)}
    _check(plot_response(responses, tmp_path / "resp"), tmp_path, "resp")


def test_plot_binned_response(rng, tmp_path):
    x = rng.uniform(20, 200, 3000)
    responses = {"model": rng.normal(1.0, 0.1, 3000), "baseline": rng.normal(1.0, 0.2, 3000)}
    files = plot_binned_response(
        x, responses, np.linspace(20, 200, 7), tmp_path / "binned", xlabel="True $p_T$ [GeV]"
    )
    _check(files, tmp_path, "binned")


def test_plot_truth_vs_pred(rng, tmp_path):
    truth = rng.uniform(20, 200, 3000)
    pred = truth * rng.normal(1.0, 0.1, 3000)
    _check(plot_truth_vs_pred(truth, pred, tmp_path / "tvp", label="$p_T$ [GeV]"), tmp_path, "tvp")


@pytest.mark.parametrize("experiment", ["ATLAS", "lhcb", "none"])
def test_other_styles(rng, tmp_path, experiment):
    set_style(experiment)
    _check(plot_response({"a": rng.normal(1.0, 0.1, 500)}, tmp_path / "r"), tmp_path, "r")


def test_unknown_style():
    with pytest.raises(ValueError, match="choose from"):
        set_style("D0")
