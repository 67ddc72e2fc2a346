"""Regression plots: response distributions, binned response and resolution, truth vs prediction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm

from hepml.metrics.resolution import binned_response, relative_resolution, weighted_quantile
from hepml.plotting.style import label as draw_label
from hepml.plotting.style import new_figure, save

log = logging.getLogger(__name__)

__all__ = ["plot_binned_response", "plot_response", "plot_truth_vs_pred"]


def _common_range(
    arrays: list[np.ndarray], low: float = 0.005, high: float = 0.995
) -> tuple[float, float]:
    """Range covering the central quantiles of all arrays together."""
    lows = [weighted_quantile(a, low) for a in arrays]
    highs = [weighted_quantile(a, high) for a in arrays]
    lo, hi = float(min(lows)), float(max(highs))
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def plot_response(
    responses: Mapping[str, np.ndarray],
    path: str | Path,
    weights: np.ndarray | None = None,
    bins: int = 60,
) -> list[Path]:
    """Overlaid normalised response histograms; the legend gives each median and resolution.

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

    Returns
    -------
    list[Path]
        The written files.
    """
    if not responses:
        raise ValueError("plot_response needs at least one response array")
    arrays = {name: np.asarray(r, dtype=np.float64).ravel() for name, r in responses.items()}
    edges = np.linspace(*_common_range(list(arrays.values())), bins + 1)
    fig, (ax,) = new_figure()
    for name, resp in arrays.items():
        median = weighted_quantile(resp, 0.5, weights)
        resolution = relative_resolution(resp, weights)
        ax.hist(
            resp,
            bins=edges,
            weights=weights,
            density=True,
            histtype="step",
            linewidth=1.5,
            label=f"{name}\nmedian {median:.3f}, res. {resolution:.3f}",
        )
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("Response (predicted / true)")
    ax.set_ylabel("Normalised entries")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # headroom for the legend
    ax.legend(fontsize="small")
    draw_label(ax)
    return save(fig, path)


def plot_binned_response(
    x: np.ndarray,
    responses: Mapping[str, np.ndarray],
    bins: int | np.ndarray,
    path: str | Path,
    xlabel: str,
    weights: np.ndarray | None = None,
) -> list[Path]:
    """Median response (top) and relative resolution (bottom) in bins of ``x``, per method.

    Parameters
    ----------
    x : np.ndarray
        Observer variable to bin in (e.g. true pT), shape ``[N]``.
    responses : Mapping[str, np.ndarray]
        Method name -> response per event, shape ``[N]``.
    bins : int or np.ndarray
        Number of bins or bin edges (see :func:`hepml.metrics.binned_response`).
    path : str or Path
        Output path without extension.
    xlabel : str
        Label of the x axis.
    weights : np.ndarray, optional
        Per-event weights.

    Returns
    -------
    list[Path]
        The written files.
    """
    fig, (ax_median, ax_res) = new_figure(2, height_ratios=(1, 1))
    for name, resp in responses.items():
        binned = binned_response(resp, x, bins, weights)
        half_widths = np.diff(binned["edges"]) / 2.0
        ax_median.errorbar(
            binned["centers"], binned["median"], xerr=half_widths, fmt="o", markersize=4, label=name
        )
        ax_res.errorbar(
            binned["centers"],
            binned["resolution"],
            xerr=half_widths,
            fmt="o",
            markersize=4,
            label=name,
        )
    ax_median.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax_median.set_ylabel("Median response")
    ax_median.legend(fontsize="small")
    ax_res.set_ylabel("Resolution")
    ax_res.set_xlabel(xlabel)
    draw_label(ax_median)
    return save(fig, path)


def plot_truth_vs_pred(
    truth: np.ndarray, pred: np.ndarray, path: str | Path, label: str = "value", bins: int = 80
) -> list[Path]:
    """2D histogram of prediction vs truth with a log colour scale and the diagonal ``y = x``.

    Parameters
    ----------
    truth, pred : np.ndarray
        True and predicted values, shape ``[N]``.
    path : str or Path
        Output path without extension.
    label : str
        Name of the quantity for the axis labels, e.g. ``"$p_T$ [GeV]"``.
    bins : int
        Number of bins per axis over the central 99 % of both arrays.

    Returns
    -------
    list[Path]
        The written files.
    """
    truth = np.asarray(truth, dtype=np.float64).ravel()
    pred = np.asarray(pred, dtype=np.float64).ravel()
    lo, hi = _common_range([truth, pred])
    edges = np.linspace(lo, hi, bins + 1)
    counts, _, _ = np.histogram2d(truth, pred, bins=(edges, edges))
    fig, (ax,) = new_figure()
    mesh = ax.pcolormesh(
        edges, edges, np.ma.masked_equal(counts, 0).T, norm=LogNorm(), cmap="viridis"
    )
    fig.colorbar(mesh, ax=ax, label="Events")
    ax.plot([lo, hi], [lo, hi], color="red", linestyle="--", linewidth=1)
    ax.set_xlabel(f"True {label}")
    ax.set_ylabel(f"Predicted {label}")
    draw_label(ax)
    return save(fig, path)
