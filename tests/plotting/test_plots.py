"""Each plotting function writes non-empty files, with weights and without."""

import numpy as np
import pytest

from hepml.metrics import roc_curve
from hepml.plotting import (
    PlotOptions,
    plot_binned_response,
    plot_efficiency_vs,
    plot_response,
    plot_roc,
    plot_scores,
    plot_truth_vs_pred,
    set_style,
)
from hepml.plotting.binning import observer_binning
from hepml.plotting.roc import rejection_with_band

FAST = PlotOptions(n_bootstrap=10, energy="13.6 TeV", lumi=140)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _cms_style():
    set_style("CMS")
    yield
    set_style("none")


def _check(files, tmp_path, *names):
    expected = sorted(f"{n}.{ext}" for n in names for ext in ("pdf", "png"))
    assert sorted(f.name for f in files) == expected
    for f in files:
        assert f.parent == tmp_path and f.stat().st_size > 0


@pytest.mark.parametrize("weighted", [False, True])
def test_plot_roc(rng, tmp_path, weighted):
    labels = rng.integers(0, 2, 2000)
    w = rng.uniform(0.5, 1.5, 2000) if weighted else None
    n_bkg = float((labels == 0).sum())
    curves = {
        "good": (*roc_curve(rng.normal(labels * 2.0), labels, w)[:2], n_bkg),
        "weak": (*roc_curve(rng.normal(labels * 1.0), labels, w)[:2], n_bkg),
    }
    _check(plot_roc(curves, tmp_path / "roc", reference="weak", options=FAST), tmp_path, "roc")
    plain = {k: v[:2] for k, v in curves.items()}  # without counts: no band, no cut
    _check(plot_roc(plain, tmp_path / "roc_noratio"), tmp_path, "roc_noratio")
    with pytest.raises(ValueError, match="choose from"):
        plot_roc(curves, tmp_path / "bad", reference="missing")


def test_rejection_band_stops_where_the_background_ends():
    # 1000 background events, rejection 100 at signal efficiency 0.2 (10 events), 50 at 0.4
    sig, bkg = np.array([0.0, 0.2, 0.4, 1.0]), np.array([0.0, 0.01, 0.02, 1.0])
    band = rejection_with_band((sig, bkg, 1000.0), np.array([0.1, 0.2, 0.4]), min_background=15)
    assert np.isnan(band["rejection"][:2]).all()  # 5 and 10 events pass: below 15
    assert band["rejection"][2] == pytest.approx(50.0)
    assert band["lower"][2] < 50.0 < band["upper"][2]
    assert band["n_pass"][2] == pytest.approx(20.0)


@pytest.mark.parametrize("weighted", [False, True])
def test_plot_scores_linear_and_log(rng, tmp_path, weighted):
    labels = rng.integers(0, 2, 2000)
    scores = 1 / (1 + np.exp(-rng.normal(labels * 2.0 - 1.0)))
    w = rng.random(2000) if weighted else None
    _check(plot_scores(scores, labels, w, tmp_path / "scores", options=FAST), tmp_path, "scores",
           "scores_log")


@pytest.mark.parametrize("weighted", [False, True])
def test_plot_response(rng, tmp_path, weighted):
    responses = {"model": rng.normal(1.0, 0.1, 2000), "baseline": rng.normal(0.95, 0.2, 2000)}
    w = rng.uniform(0.5, 2.0, 2000) if weighted else None
    _check(plot_response(responses, tmp_path / "resp", w, options=FAST), tmp_path, "resp")


@pytest.mark.parametrize("weighted", [False, True])
def test_plot_binned_response(rng, tmp_path, weighted):
    x = rng.uniform(20, 200, 3000)
    w = rng.uniform(0.5, 2.0, 3000) if weighted else None
    responses = {"model": rng.normal(1.0, 0.1, 3000), "baseline": rng.normal(1.0, 0.2, 3000)}
    files = plot_binned_response(x, responses, np.linspace(20, 200, 7), tmp_path / "binned",
                                 xlabel="True $p_T$ [GeV]", weights=w, options=FAST)
    files += plot_binned_response(x, responses, observer_binning(x, 6), tmp_path / "pop",
                                  xlabel="x", weights=w, options=FAST)
    modes = rng.choice([0, 1, 10], 3000)
    files += plot_binned_response(modes, responses, observer_binning(modes, 6), tmp_path / "dm",
                                  "Decay mode", w, FAST, ["1p0n", "1p1n", "3p0n"])
    _check(files, tmp_path, "binned", "pop", "dm")


@pytest.mark.parametrize("weighted", [False, True])
def test_plot_truth_vs_pred(rng, tmp_path, weighted):
    truth = 20 + rng.exponential(30, 3000)
    pred = truth * rng.normal(1.0, 0.1, 3000)
    w = rng.uniform(0.5, 2.0, 3000) if weighted else None
    _check(plot_truth_vs_pred(truth, pred, tmp_path / "tvp", label="$p_T$ [GeV]", weights=w,
                              options=FAST), tmp_path, "tvp")


@pytest.mark.parametrize("weighted", [False, True])
def test_plot_efficiency_vs_observer(rng, tmp_path, weighted):
    labels = rng.integers(0, 2, 4000)
    pt = 20 + rng.exponential(40, 4000)
    score = 1 / (1 + np.exp(-(labels * 2.0 - 1.0) * pt / 40 - rng.normal(0, 1, 4000)))
    w = rng.uniform(0.5, 2.0, 4000) if weighted else None
    files = plot_efficiency_vs(pt, {"MLP": score}, labels, tmp_path / "eff", "$p_T$ [GeV]", w,
                               FAST)
    _check(files, tmp_path, "eff")


@pytest.mark.parametrize("experiment", ["ATLAS", "lhcb", "none"])
def test_other_styles(rng, tmp_path, experiment):
    set_style(experiment)
    _check(plot_response({"a": rng.normal(1.0, 0.1, 500)}, tmp_path / "r", options=FAST),
           tmp_path, "r")


def test_unknown_style():
    with pytest.raises(ValueError, match="choose from"):
        set_style("D0")


def test_mean_and_difference_images(rng, tmp_path):
    from hepml.plotting import plot_difference_image, plot_mean_images

    images = rng.exponential(1.0, (200, 25, 25)) * (rng.random((200, 25, 25)) < 0.2)
    labels = np.repeat([0, 1], 100)
    images[labels == 1, 12, 12] += 50.0  # signal: a hard core
    names = {0: "QCD", 1: "W"}
    files = plot_mean_images(images, labels, names, tmp_path, extent=1.25, options=FAST)
    files += plot_difference_image(images, labels, 1, 0, names, tmp_path / "diff", 1.25, FAST)
    _check(files, tmp_path, "mean_image_label0", "mean_image_label1", "diff")
    with pytest.raises(ValueError, match="label 2"):
        plot_difference_image(images, labels, 2, 0, names, tmp_path / "bad")
