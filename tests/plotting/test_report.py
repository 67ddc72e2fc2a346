"""Every plot of a predictions file, with weights and without; options, labels, the run page."""

import numpy as np
import pytest

from hepml.pipelines.plot import plot_options
from hepml.plotting.labels import axis_label, decay_mode_name, display_name, variable_label
from hepml.plotting.options import PlotOptions
from hepml.plotting.report import make_plots
from hepml.predictions import read_predictions, write_predictions

FAST = PlotOptions(n_bootstrap=10, formats=("png",))


def _regression(n, rng, weighted):
    truth = 20 + rng.exponential(30, n)
    columns = {"index": np.arange(n), "truth": truth, "pred": truth * rng.normal(1, 0.15, n),
               "baseline": truth * rng.normal(0.98, 0.25, n), "jet_eta": rng.uniform(-2.3, 2.3, n),
               "decay_mode": rng.choice([0, 1, 10, 11], n)}
    if weighted:
        columns["weight"] = rng.uniform(0.5, 2.0, n)
    info = {"model_name": "MLP", "target": "tau_pt", "baseline": "jet_pt", "energy": "13.6 TeV",
            "labels": {"jet_eta": {"label": r"$\eta$ of the jet"}}}
    return columns, info


def _classification(n, rng, weighted):
    label = rng.integers(0, 2, n)
    columns = {"index": np.arange(n), "label": label,
               "score": 1 / (1 + np.exp(-rng.normal(2.0 * label - 1.0, 1.0))),
               "jet_pt": 20 + rng.exponential(40, n), "n_pileup": rng.integers(10, 15, n)}
    if weighted:
        columns["weight"] = rng.uniform(0.5, 2.0, n)
    return columns, {"model_name": "DeepSets", "class_names": ["qcd", "W"], "signal_class": 1}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_every_plot_of_a_predictions_file(tmp_path, task, weighted):
    rng = np.random.default_rng(1)
    make = _regression if task == "regression" else _classification
    columns, info = make(2500, rng, weighted)
    path = write_predictions(tmp_path / "predictions.h5", columns, task, info)
    files = make_plots(*read_predictions(path), tmp_path / "plots", FAST)
    pngs = sorted(f.name for f in files if f.suffix == ".png")
    expected = (["response.png", "response_vs_decay_mode.png", "response_vs_jet_eta.png",
                 "response_vs_truth.png", "truth_vs_pred.png"] if task == "regression" else
                ["eff_vs_jet_pt.png", "eff_vs_n_pileup.png", "roc.png", "scores.png",
                 "scores_log.png"])
    assert pngs == expected
    assert all(f.stat().st_size > 0 for f in files)
    page = (tmp_path / "report.md").read_text()
    assert "## Metrics" in page and all(f"![{p[:-4]}](plots/{p})" in page for p in pngs)
    assert ("| resolution |" in page) if task == "regression" else ("| auc |" in page)
    assert (tmp_path / "report.html").is_file()


def test_observers_option_and_its_errors(tmp_path):
    columns, info = _classification(800, np.random.default_rng(2), False)
    options = PlotOptions(n_bootstrap=10, formats=("png",), observers=("jet_pt",))
    files = make_plots(columns, "classification", info, tmp_path / "p", options, page=False)
    assert sorted(f.name for f in files) == ["eff_vs_jet_pt.png", "roc.png", "scores.png",
                                             "scores_log.png"]
    with pytest.raises(ValueError, match="choose from"):
        make_plots(columns, "classification", info, tmp_path / "q",
                   PlotOptions(observers=("jet_eta",)))


def test_plot_options_from_the_config_block():
    assert plot_options(False) is None and plot_options({"enabled": False}) is None
    assert plot_options(True) == PlotOptions()
    options = plot_options({"enabled": True, "energy": None, "label": "Internal", "lumi": 140,
                            "formats": ["png"]}, info={"energy": "8 TeV"})
    assert (options.label, options.energy, options.formats) == ("Internal", "8 TeV", ("png",))
    assert options.rlabel == "140 fb$^{-1}$ (8 TeV)"
    assert plot_options({"energy": "13.6 TeV"}, {"energy": "8 TeV"}).energy == "13.6 TeV"
    assert PlotOptions().rlabel == ""
    with pytest.raises(ValueError, match="unknown plots option.*choose from"):
        plot_options({"energy_tev": 13})
    with pytest.raises(ValueError, match="plots.style"):
        PlotOptions(style="D0")
    with pytest.raises(ValueError, match="working_point"):
        PlotOptions(working_point=1.5)


def test_labels_units_and_display_names():
    assert axis_label("tau_pt", prefix="True") == r"True $p_T^{\tau}$ [GeV]"
    assert axis_label("jet_eta") == r"$\eta^{\mathrm{jet}}$"
    given = {"jet_pt": {"label": r"$p_T$ (reco)", "unit": "TeV"}, "x": {"unit": "cm"}}
    assert axis_label("jet_pt", given) == r"$p_T$ (reco) [TeV]"
    assert variable_label("x", given) == ("x", "cm")
    assert variable_label("obs_label") == ("Label", "")
    assert variable_label("my_column") == ("my_column", "")
    assert [decay_mode_name(c) for c in (0, 1, 2, 10, 11, 4, -1)] == [
        "1p0n", "1p1n", "1p2n", "3p0n", "3p1n", "1p4+n", "other"]
    assert (display_name("qcd"), display_name("QCD"), display_name("mine")) == ("QCD", "QCD", "mine")
