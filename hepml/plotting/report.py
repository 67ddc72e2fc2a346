"""Every standard plot of a predictions file (regression or classification)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.roc import roc_curve
from hepml.plotting.regression import plot_binned_response, plot_response, plot_truth_vs_pred
from hepml.plotting.roc import plot_roc, plot_scores
from hepml.plotting.style import set_style

log = logging.getLogger(__name__)


def make_plots(
    columns: dict[str, np.ndarray],
    task: str,
    info: dict[str, Any],
    out_dir: str | Path,
    style: str = "CMS",
) -> list[Path]:
    """Write the plots of one predictions file to ``out_dir``; return the written files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    set_style(style)
    files = (
        _regression(columns, info, out_dir)
        if task == "regression"
        else _classification(columns, info, out_dir)
    )
    log.info("Wrote %d plot files to %s", len(files), out_dir)
    return [Path(f) for f in files]


def _regression(c: dict[str, np.ndarray], info: dict[str, Any], out: Path) -> list:
    name = info.get("model_name", "NN")
    target = info.get("target", "target")
    responses = {name: c["pred"] / c["truth"]}
    if "baseline" in c:
        responses[f"{info.get('baseline', 'baseline')} (calibrated)"] = c["baseline"] / c["truth"]
    w = c.get("weight")
    files = list(plot_response(responses, out / "response", weights=w))
    truth = c["truth"]
    lo, hi = np.quantile(truth, [0.01, 0.99])
    bins = np.linspace(lo, hi, 11)
    files += plot_binned_response(
        truth, responses, bins, out / "response_vs_truth", xlabel=f"true {target}"
    )
    files += plot_truth_vs_pred(truth, c["pred"], out / "truth_vs_pred", label=target)
    return files


def _classification(c: dict[str, np.ndarray], info: dict[str, Any], out: Path) -> list:
    name = info.get("model_name", "classifier")
    signal_class = int(info.get("signal_class", 1))
    is_sig = (c["label"] == signal_class).astype(int)
    w = c.get("weight")
    sig_eff, bkg_eff, _ = roc_curve(c["score"], is_sig, w)
    files = list(plot_roc({name: (sig_eff, bkg_eff)}, out / "roc"))
    classes = info.get("class_names") or ["background", "signal"]
    names = ("other", classes[signal_class]) if len(classes) > 2 else tuple(classes)
    files += plot_scores(c["score"], is_sig, w, out / "scores", class_names=names)
    return files
