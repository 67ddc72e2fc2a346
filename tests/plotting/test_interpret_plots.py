"""Interpretation and anomaly figures are written (PNG and PDF) from plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from hepml.plotting.anomaly import plot_anomaly
from hepml.plotting.interpret import plot_filters, plot_image_panels
from hepml.plotting.report import make_plots


def test_image_panels_and_filters(tmp_path):
    rng = np.random.default_rng(0)
    maps = {"full": rng.uniform(-1, 1, (25, 25)), "79 < m < 81": np.full((25, 25), np.nan)}
    files = plot_image_panels(maps, tmp_path / "pearson", "Pearson correlation", limit=1.0)
    assert [f.suffix for f in files] == [".png", ".pdf"] and all(f.stat().st_size for f in files)
    assert plot_image_panels(
        {"top 1%": rng.uniform(0, 1, (11, 11))},
        tmp_path / "top",
        "pT",
        extent=(-5.5, 5.5, -5.5, 5.5),
        diverging=False,
    )
    assert plot_filters(rng.normal(size=(12, 5, 5)), tmp_path / "filters", order=np.array([3, 1]))
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        plot_image_panels({"bad": np.zeros(5)}, tmp_path / "x", "c")


def test_anomaly_plots_and_report(tmp_path):
    rng = np.random.default_rng(1)
    label = rng.choice([0, 1, 2], 600)
    cols = {"index": np.arange(600), "score": rng.exponential(1.0 + label), "label": label}
    info = {"class_names": ["qcd", "W", "top"], "model_name": "ConvAutoencoder"}
    files = plot_anomaly(cols, info, tmp_path / "plots")
    assert {f.name for f in files} >= {"roc.png", "scores.png", "scores_log.png"}
    assert plot_anomaly({"score": cols["score"]}, info, tmp_path / "none") == []
    files = make_plots(cols, "reconstruction", info, tmp_path / "run" / "plots")
    assert (tmp_path / "run" / "report.md").is_file() and any(f.name == "roc.pdf" for f in files)
