"""Regression plots: response distributions, binned response and resolution, truth vs prediction.

Every number drawn carries its statistical error: histograms ``sqrt(sum w^2)``, medians and
resolutions a Poisson-bootstrap standard deviation (:func:`hepml.metrics.uncertainty.bootstrap_std`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm

from hepml.metrics.resolution import relative_resolution, weighted_quantile
from hepml.plotting.binned import binned_response_with_errors, median, median_and_resolution_errors
from hepml.plotting.binning import (
    Binning,
    bin_index,
    category_positions,
    equal_population_edges,
    observer_binning,
)
from hepml.plotting.hists import draw_histogram, fill_histogram
from hepml.plotting.options import PlotOptions
from hepml.plotting.style import label as draw_label
from hepml.plotting.style import log_axis, new_figure, save

log = logging.getLogger(__name__)

__all__ = ["observer_plot", "plot_binned_response", "plot_response", "plot_truth_vs_pred"]


def _common_range(arrays: list[np.ndarray], low: float = 0.005, high: float = 0.995):
    """Range covering the central quantiles of all arrays together."""
    lo = min(float(weighted_quantile(a, low)) for a in arrays)
    hi = max(float(weighted_quantile(a, high)) for a in arrays)
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def plot_response(
    responses: Mapping[str, np.ndarray],
    path: str | Path,
    weights: np.ndarray | None = None,
    bins: int = 60,
    options: PlotOptions | None = None,
) -> list[Path]:
    """Overlaid normalised response histograms with errors; the legend gives each median and
    resolution with their bootstrap errors.

    Parameters
    ----------
    responses : Mapping[str, np.ndarray]
        Method name -> response ``pred / truth`` per event (all for the same events).
    path : str or Path
        Output path without extension.
    weights : np.ndarray, optional
        Per-event weights shared by all methods.
    bins : int
        Number of bins over the central 99 % of all responses.
    options : PlotOptions, optional
        Label, energy, bootstrap replicas and formats.

    Returns
    -------
    list[Path]
        The written files.
    """
    options = options or PlotOptions()
    if not responses:
        raise ValueError("plot_response needs at least one response array")
    arrays = {name: np.asarray(r, dtype=np.float64).ravel() for name, r in responses.items()}
    edges = np.linspace(*_common_range(list(arrays.values())), bins + 1)
    fig, (ax,) = new_figure()
    for name, resp in arrays.items():
        centre = median(resp, weights)
        resolution = relative_resolution(resp, weights)
        median_err, res_err = median_and_resolution_errors(resp, weights, options.n_bootstrap)
        text = (f"{name}\nmedian {centre:.3f} $\\pm$ {median_err:.3f}, "
                f"res. {resolution:.3f} $\\pm$ {res_err:.3f}")  # fmt: skip
        draw_histogram(ax, fill_histogram(resp, edges, weights), text, density=True)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("Response (predicted / true)")
    ax.set_ylabel("Normalised entries")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # headroom for the legend
    ax.legend(fontsize="x-small", loc="upper right")
    draw_label(ax, options)
    return save(fig, path, options)


def plot_binned_response(
    x: np.ndarray,
    responses: Mapping[str, np.ndarray],
    bins: int | np.ndarray | Binning,
    path: str | Path,
    xlabel: str,
    weights: np.ndarray | None = None,
    options: PlotOptions | None = None,
    category_names: Sequence[str] | None = None,
) -> list[Path]:
    """Median response (top) and relative resolution (bottom) in bins of ``x``, per method.

    Points sit at the median of ``x`` in their bin, horizontal bars span the bin and vertical
    bars are bootstrap errors; bins with fewer than ``options.min_entries`` events are left out.

    Parameters
    ----------
    x : np.ndarray
        Observer variable to bin in (e.g. true pT), shape ``[N]``.
    responses : Mapping[str, np.ndarray]
        Method name -> response per event, shape ``[N]``.
    bins : int, np.ndarray or Binning
        Number of equal-population bins, bin edges, or a :class:`Binning` (categories, log axis).
    path : str or Path
        Output path without extension.
    xlabel : str
        Label of the x axis.
    weights : np.ndarray, optional
        Per-event weights.
    options : PlotOptions, optional
        Label, energy, minimum entries, bootstrap replicas and formats.
    category_names : sequence of str, optional
        Tick labels of a categorical binning (one per category value).

    Returns
    -------
    list[Path]
        The written files.
    """
    options = options or PlotOptions()
    x = np.asarray(x, dtype=np.float64).ravel()
    if isinstance(bins, Binning):
        binning = bins
    elif np.isscalar(bins):
        binning = Binning(equal_population_edges(x, int(bins), weights))
    else:
        binning = Binning(np.asarray(bins, dtype=np.float64))
    edges = binning.edges
    positions = (None if binning.categories is None
                 else category_positions(binning, x, options.min_entries))  # fmt: skip
    fig, (ax_median, ax_res) = new_figure(2, height_ratios=(1, 1))
    n_methods = len(responses)
    for k, (name, resp) in enumerate(responses.items()):
        b = binned_response_with_errors(resp, x, edges, weights, options.min_entries,
                                        options.n_bootstrap)  # fmt: skip
        ok = np.isfinite(b["median"])
        if positions is not None:  # side by side within each category
            xs = positions + (k - (n_methods - 1) / 2) * 0.8 / max(n_methods, 1) / 2
            ok &= np.isfinite(positions)
            xerr = None
        else:
            xs = b["x"]
            xerr = np.vstack([xs - edges[:-1], edges[1:] - xs])[:, ok]
        style = {"fmt": "o", "markersize": 5, "capsize": 0, "label": name}
        ax_median.errorbar(xs[ok], b["median"][ok], yerr=b["median_err"][ok], xerr=xerr, **style)
        ax_res.errorbar(xs[ok], b["resolution"][ok], yerr=b["resolution_err"][ok], xerr=xerr,
                        **style)  # fmt: skip
    ax_median.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax_median.set_ylabel("Median response")
    ax_res.set_ylabel("Resolution")
    ax_res.set_xlabel(xlabel)
    ax_res.set_ylim(bottom=0)
    low, high = ax_median.get_ylim()
    ax_median.set_ylim(low, high + 0.35 * (high - low))  # headroom for the legend
    if positions is not None:
        names = category_names or [f"{v:g}" for v in binning.categories]
        kept = np.isfinite(positions)
        ax_res.set_xticks(positions[kept], [n for n, k in zip(names, kept, strict=True) if k])
        ax_res.set_xlim(-0.5, max(kept.sum() - 0.5, 0.5))
        ax_res.minorticks_off()
    else:
        ax_res.set_xlim(edges[0], edges[-1])
        if binning.log:
            log_axis([ax_median, ax_res])
    ax_median.legend(fontsize="small", ncols=2 if n_methods > 1 else 1, loc="upper center")
    draw_label(ax_median, options)
    return save(fig, path, options)


def plot_truth_vs_pred(
    truth: np.ndarray,
    pred: np.ndarray,
    path: str | Path,
    label: str = "value",
    bins: int | None = None,
    weights: np.ndarray | None = None,
    options: PlotOptions | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> list[Path]:
    """2D histogram of prediction vs truth (log colour scale) with the median profile and y = x.

    The profile gives, in equal-population bins of the truth, the median prediction with its
    bootstrap error and the central 68 % of the predictions as a band.

    Parameters
    ----------
    truth, pred : np.ndarray
        True and predicted values, shape ``[N]``.
    path : str or Path
        Output path without extension.
    label : str
        Name of the quantity for the default axis labels, e.g. ``"$p_T$ [GeV]"``.
    bins : int, optional
        Bins per axis over the central 99 % of both arrays; by default ``sqrt(N) / 2`` within
        [15, 60], so that the cells are populated.
    weights : np.ndarray, optional
        Per-event weights.
    options : PlotOptions, optional
        Label, energy, bins of the profile, bootstrap replicas and formats.
    xlabel, ylabel : str, optional
        Axis labels (default ``"True <label>"`` and ``"Predicted <label>"``).

    Returns
    -------
    list[Path]
        The written files.
    """
    options = options or PlotOptions()
    truth = np.asarray(truth, dtype=np.float64).ravel()
    pred = np.asarray(pred, dtype=np.float64).ravel()
    n_bins = bins or int(np.clip(np.sqrt(truth.size) / 1.5, 15, 60))
    lo, hi = _common_range([truth, pred])
    log_axes = lo > 0 and hi / lo > 4.0  # a falling spectrum: logarithmic bins and axes
    edges = np.geomspace(lo, hi, n_bins + 1) if log_axes else np.linspace(lo, hi, n_bins + 1)
    counts, _, _ = np.histogram2d(truth, pred, bins=(edges, edges), weights=weights)
    fig, (ax,) = new_figure()
    mesh = ax.pcolormesh(edges, edges, np.ma.masked_less_equal(counts, 0).T, norm=LogNorm(),
                         cmap="Blues")  # fmt: skip
    fig.colorbar(mesh, ax=ax, label="Events")
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1, label="$y = x$")
    profile_edges = equal_population_edges(truth, max(options.n_bins, 10), weights)
    profile = binned_response_with_errors(pred, truth, profile_edges, weights,
                                          options.min_entries, options.n_bootstrap)  # fmt: skip
    ok = np.isfinite(profile["median"])
    index = bin_index(truth, profile_edges)
    band = np.array([weighted_quantile(pred[index == i], [0.16, 0.84],
                                       None if weights is None else weights[index == i])
                     if ok[i] else [np.nan, np.nan] for i in range(ok.size)])  # fmt: skip
    ax.fill_between(profile["x"][ok], band[ok, 0], band[ok, 1], color="tab:red", alpha=0.15,
                    linewidth=0, label="Central 68%")  # fmt: skip
    ax.errorbar(profile["x"][ok], profile["median"][ok], yerr=profile["median_err"][ok],
                fmt="o", color="tab:red", markersize=5, label="Median")  # fmt: skip
    if log_axes:
        log_axis([ax], "x")
        log_axis([ax], "y")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(xlabel or f"True {label}")
    ax.set_ylabel(ylabel or f"Predicted {label}")
    ax.legend(fontsize="small", loc="upper left")
    draw_label(ax, options)
    return save(fig, path, options)


def observer_plot(
    x: np.ndarray,
    responses: Mapping[str, np.ndarray],
    path: str | Path,
    xlabel: str,
    weights: np.ndarray | None = None,
    options: PlotOptions | None = None,
    category_names: Sequence[str] | None = None,
) -> list[Path]:
    """:func:`plot_binned_response` with the bins :func:`observer_binning` chooses for ``x``."""
    options = options or PlotOptions()
    binning = observer_binning(x, options.n_bins, weights)
    return plot_binned_response(x, responses, binning, path, xlabel, weights, options,
                                category_names)  # fmt: skip
