"""Every standard plot of a predictions file (regression or classification), and the run page.

Figures (``<out_dir>/*.png|pdf``):

* regression: ``response``, ``response_vs_truth`` and ``response_vs_<observer>`` (median response
  and resolution with bootstrap errors, equal-population or per-category bins), ``truth_vs_pred``
  (with the median profile);
* classification: ``roc`` (rejection with its band), ``scores`` and ``scores_log``,
  ``eff_vs_<observer>`` (signal efficiency and background rejection at ``working_point``).

The page ``<out_dir>/../report.md`` (and ``.html``) shows the metrics, the run's choices and
every figure (:mod:`hepml.plotting.page`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.roc import roc_curve
from hepml.metrics.uncertainty import effective_entries
from hepml.plotting.anomaly import plot_anomaly
from hepml.plotting.binning import observer_binning
from hepml.plotting.efficiency import plot_efficiency_vs
from hepml.plotting.flavour import plot_flavour
from hepml.plotting.labels import axis_label, decay_mode_name, display_name, variable_label
from hepml.plotting.multiclass import plot_multiclass
from hepml.plotting.options import PlotOptions
from hepml.plotting.page import write_page
from hepml.plotting.regression import observer_plot, plot_response, plot_truth_vs_pred
from hepml.plotting.roc import plot_roc, plot_scores
from hepml.plotting.style import set_style

log = logging.getLogger(__name__)

__all__ = ["OUTPUT_COLUMNS", "category_names", "make_plots", "observer_columns"]

#: Columns of a predictions file that are model outputs or truth, not observers.
OUTPUT_COLUMNS = ("index", "pred", "truth", "label", "weight", "baseline", "pred_sigma", "score",
                  "probabilities")  # fmt: skip


def observer_columns(columns: dict[str, np.ndarray], options: PlotOptions) -> list[str]:
    """The observers to bin in: ``options.observers``, or every other 1D column of the file."""
    available = [k for k, v in columns.items()
                 if k not in OUTPUT_COLUMNS and np.ndim(v) == 1 and np.issubdtype(
                     np.asarray(v).dtype, np.number)]  # fmt: skip
    if options.observers is None:
        return available
    missing = [o for o in options.observers if o not in available]
    if missing:
        raise ValueError(f"plots.observers {missing} are not in the predictions file; "
                         f"choose from {available}")
    return list(options.observers)


def category_names(column: str, values: np.ndarray) -> list[str]:
    """Tick labels of a categorical observer (decay modes as 1p0n, ...; values otherwise)."""
    if column.removeprefix("obs_") == "decay_mode":
        return [decay_mode_name(v) for v in values]
    return [f"{v:g}" for v in values]


def make_plots(
    columns: dict[str, np.ndarray],
    task: str,
    info: dict[str, Any],
    out_dir: str | Path,
    options: PlotOptions | None = None,
    style: str | None = None,
    page: bool = True,
) -> list[Path]:
    """Write the plots of one predictions file to ``out_dir``; return the written files.

    Parameters
    ----------
    columns, task, info
        As :func:`hepml.predictions.read_predictions` returns them; ``info["labels"]`` and
        ``info["energy"]`` give axis labels and the energy.
    out_dir : str or Path
        Folder of the figures; the page goes next to it.
    options : PlotOptions, optional
        Shared settings (``plots`` config block).
    style : str, optional
        Overrides ``options.style``.
    page : bool
        Also write ``report.md`` and ``report.html`` next to ``out_dir``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = (options or PlotOptions()).with_info(info)
    if style is not None:
        options = dataclasses.replace(options, style=style)
    set_style(options.style)
    if task == "regression":
        files = _regression(columns, info, out_dir, options)
    elif task == "classification":
        files = _classification(columns, info, out_dir, options)
    elif task == "reconstruction":
        files = plot_anomaly(columns, info, out_dir, options)
    else:
        raise ValueError(f"unknown task kind {task!r}; expected regression, classification or "
                         "reconstruction")
    files = [Path(f) for f in files]
    log.info("Wrote %d plot files to %s", len(files), out_dir)
    if page:
        files += write_page(out_dir.parent / "report", columns, task, info, files)
    return files


def _regression(c: dict[str, np.ndarray], info: dict[str, Any], out: Path, options) -> list:
    labels = info.get("labels") or {}
    name = info.get("model_name", "NN")
    target = info.get("target") or "target"
    ok = np.isfinite(c["pred"]) & np.isfinite(c["truth"]) & (c["truth"] != 0)
    if not ok.all():
        log.warning("%d events with zero or non-finite truth/prediction are not plotted",
                    int((~ok).sum()))  # fmt: skip
    c = {k: np.asarray(v)[ok] for k, v in c.items() if np.ndim(v) >= 1 and len(v) == ok.size}
    w = c.get("weight")
    responses = {name: c["pred"] / c["truth"]}
    if "baseline" in c:
        base_label = variable_label(info.get("baseline") or "baseline", labels)[0]
        responses[f"{base_label} (calibrated)"] = c["baseline"] / c["truth"]
    files = list(plot_response(responses, out / "response", weights=w, options=options))
    true_label = axis_label(target, labels, prefix="True")
    files += observer_plot(c["truth"], responses, out / "response_vs_truth", true_label, w, options)
    for obs in observer_columns(c, options):
        if not np.isfinite(c[obs]).any():
            continue
        binning = observer_binning(c[obs], options.n_bins, w)
        names = None if binning.categories is None else category_names(obs, binning.categories)
        files += observer_plot(c[obs], responses, out / f"response_vs_{obs}",
                               axis_label(obs, labels), w, options, names)  # fmt: skip
    files += plot_truth_vs_pred(c["truth"], c["pred"], out / "truth_vs_pred", weights=w,
                                options=options, xlabel=true_label,
                                ylabel=axis_label(target, labels, prefix="Predicted"))  # fmt: skip
    return files


def _classification(c: dict[str, np.ndarray], info: dict[str, Any], out: Path, options) -> list:
    labels = info.get("labels") or {}
    name = info.get("model_name", "classifier")
    signal_class = int(info.get("signal_class", 1))
    is_sig = (c["label"] == signal_class).astype(int)
    w = c.get("weight")
    sig_eff, bkg_eff, _ = roc_curve(c["score"], is_sig, w)
    background = is_sig == 0
    n_bkg = effective_entries(None if w is None else w[background], n=int(background.sum()))
    files = list(plot_roc({name: (sig_eff, bkg_eff, n_bkg)}, out / "roc", options=options))
    classes = [display_name(k) for k in (info.get("class_names") or ["background", "signal"])]
    names = ("Other", classes[signal_class]) if len(classes) > 2 else tuple(classes)
    files += plot_scores(c["score"], is_sig, w, out / "scores", class_names=names,
                         options=options, xlabel=f"{name} score")  # fmt: skip
    for obs in observer_columns(c, options):
        if not np.isfinite(c[obs]).any():
            continue
        binning = observer_binning(c[obs], options.n_bins, w)
        ticks = None if binning.categories is None else category_names(obs, binning.categories)
        files += plot_efficiency_vs(c[obs], {name: c["score"]}, is_sig, out / f"eff_vs_{obs}",
                                    axis_label(obs, labels), w, options, binning, ticks)  # fmt: skip
    if np.ndim(c.get("probabilities")) == 2:  # multi-class: confusion matrix, one-vs-rest ROCs
        files += plot_multiclass(c, info, out, options)
        if info.get("flavour"):  # b / c / light: hepml.plotting.flavour
            files += plot_flavour(c, info, out, options)
    return files
