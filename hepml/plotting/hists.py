"""Histograms with statistical errors: filled with ``hist`` (weight storage), drawn with mplhep.

Every histogram carries ``sqrt(sum w^2)`` per bin (``sqrt(N)`` for unit weights); normalising
to unit area scales values and errors alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import hist
import mplhep
import numpy as np
from matplotlib.axes import Axes

__all__ = ["draw_histogram", "fill_histogram", "per_class_histograms"]


def fill_histogram(
    values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None, clip: bool = False
) -> hist.Hist:
    """A one-dimensional ``hist.Hist`` with weight storage (sum of weights and of their squares).

    Parameters
    ----------
    values : np.ndarray
        Values to fill, shape ``[N]``; NaN entries are dropped.
    edges : np.ndarray
        Bin edges, increasing.
    weights : np.ndarray, optional
        Per-entry weights; unit weights when omitted.
    clip : bool
        Fold entries below the first and above the last edge into the first and last bins
        (so that a validation plot shows the tails), instead of dropping them.

    Returns
    -------
    hist.Hist
        The filled histogram.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    edges = np.asarray(edges, dtype=np.float64)
    w = np.ones_like(values) if weights is None else np.asarray(weights, np.float64).ravel()
    if w.shape != values.shape:
        raise ValueError(f"weights must match values: got {w.size} for {values.size} entries")
    finite = np.isfinite(values)
    values, w = values[finite], w[finite]
    if clip:
        middle = (edges[:-1] + edges[1:]) / 2
        values = np.clip(values, middle[0], middle[-1])
    h = hist.Hist(hist.axis.Variable(edges, underflow=True, overflow=True),
                  storage=hist.storage.Weight())  # fmt: skip
    h.fill(values, weight=w)
    return h


def draw_histogram(
    ax: Axes, h: hist.Hist, label: str | None = None, density: bool = False, **kwargs
) -> list:
    """Draw a filled histogram as a step line with ``sqrt(sum w^2)`` error bars (mplhep).

    Parameters
    ----------
    ax : Axes
        Where to draw.
    h : hist.Hist
        A one-dimensional histogram with weight storage (:func:`fill_histogram`).
    label : str, optional
        Legend entry.
    density : bool
        Normalise to unit area (values and errors divided by the in-range sum of weights times
        the bin width).
    **kwargs
        Passed to :func:`mplhep.histplot` (``color``, ``linestyle``, ...).

    Returns
    -------
    list
        The mplhep artists.
    """
    edges = h.axes[0].edges
    values, variances = h.values(), h.variances()
    scale = np.ones_like(values)
    if density:
        total = float(values.sum())
        scale = scale / (total * np.diff(edges)) if total > 0 else scale * 0.0
    errors = np.sqrt(np.maximum(variances, 0.0)) * scale
    kwargs.setdefault("linewidth", 1.5)
    return mplhep.histplot(values * scale, edges, yerr=errors, ax=ax, label=label,
                           histtype="step", **kwargs)  # fmt: skip


def per_class_histograms(
    ax: Axes,
    values: np.ndarray,
    classes: np.ndarray,
    names: dict[int, str] | Sequence[str],
    edges: np.ndarray,
    weights: np.ndarray | None = None,
    density: bool = True,
    clip: bool = False,
    legend_median: bool = False,
) -> None:
    """One normalised histogram with errors per class value, legend names from ``names``.

    Parameters
    ----------
    ax : Axes
        Where to draw.
    values, classes : np.ndarray
        Values and their integer class per entry.
    names : dict or sequence
        ``{class value: legend name}`` (a sequence is indexed by class value).
    edges : np.ndarray
        Bin edges.
    weights : np.ndarray, optional
        Per-entry weights.
    density, clip
        As in :func:`draw_histogram` and :func:`fill_histogram`.
    legend_median : bool
        Give each class's median in the legend.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    classes = np.asarray(classes).ravel()
    names = dict(enumerate(names)) if not isinstance(names, dict) else names
    for key, name in names.items():
        selected = (classes == key) & np.isfinite(values)
        if not np.any(selected):
            continue
        w = None if weights is None else np.asarray(weights)[selected]
        text = name
        if legend_median:
            text = f"{name} (median {np.median(values[selected]):.3g})"
        draw_histogram(ax, fill_histogram(values[selected], edges, w, clip), text, density)
