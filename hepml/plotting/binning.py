"""Bins for binned plots: equal population, logarithmic, or one bin per value of a category."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepml.metrics.resolution import weighted_quantile

__all__ = ["Binning", "bin_index", "category_positions", "equal_population_edges", "log_edges",
           "observer_binning"]

#: An integer-valued observer with at most this many values is binned per value (decay modes, ...).
MAX_CATEGORIES = 12


@dataclass(frozen=True)
class Binning:
    """Bin edges of an observer, and the category values when it is binned per value.

    Attributes
    ----------
    edges : np.ndarray
        ``[B + 1]`` increasing edges (for categories: half-way between the values).
    categories : np.ndarray or None
        ``[B]`` values of a categorical observer, else None.
    log : bool
        Whether the x axis should be logarithmic (a positive, steeply falling spectrum).
    """

    edges: np.ndarray
    categories: np.ndarray | None = None
    log: bool = False


def equal_population_edges(
    x: np.ndarray,
    n_bins: int,
    weights: np.ndarray | None = None,
    tails: float = 0.005,
) -> np.ndarray:
    """Edges that put the same (weighted) number of entries in each bin.

    The outer edges are the ``tails`` and ``1 - tails`` quantiles, so single far outliers do not
    stretch the last bin over the axis; repeated edges (many equal values) are merged.

    Parameters
    ----------
    x : np.ndarray
        Values, shape ``[N]``; NaN entries are ignored.
    n_bins : int
        Requested number of bins.
    weights : np.ndarray, optional
        Per-entry weights.
    tails : float
        Fraction left out at each end.

    Returns
    -------
    np.ndarray
        At most ``n_bins + 1`` increasing edges.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    keep = np.isfinite(x)
    w = None if weights is None else np.asarray(weights, np.float64).ravel()[keep]
    if not np.any(keep):
        raise ValueError("equal_population_edges needs at least one finite value")
    q = np.linspace(tails, 1.0 - tails, int(n_bins) + 1)
    edges = np.unique(np.asarray(weighted_quantile(x[keep], q, w), dtype=np.float64))
    if edges.size < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def log_edges(x: np.ndarray, n_bins: int, tails: float = 0.005) -> np.ndarray:
    """Logarithmically spaced edges between the ``tails`` quantiles of positive ``x``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0:
        raise ValueError("log_edges needs positive values")
    lo, hi = np.quantile(x, [tails, 1.0 - tails])
    hi = hi if hi > lo else lo * 1.01
    return np.geomspace(lo, hi, int(n_bins) + 1)


def observer_binning(x: np.ndarray, n_bins: int, weights: np.ndarray | None = None) -> Binning:
    """Bins of an observer: per value when integer-valued with few values, else equal population.

    A positive observer whose range spans more than a factor 4 between the 0.5 % and 99.5 %
    quantiles gets a logarithmic axis (``Binning.log``).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        raise ValueError("observer_binning needs at least one finite value")
    values = np.unique(finite)
    if values.size <= MAX_CATEGORIES and np.all(values == np.round(values)):
        middle = (values[1:] + values[:-1]) / 2
        edges = np.r_[values[0] - 0.5, middle, values[-1] + 0.5]
        return Binning(edges, categories=values)
    edges = equal_population_edges(x, n_bins, weights)
    positive = edges[0] > 0 and edges[-1] / edges[0] > 4.0
    return Binning(edges, log=bool(positive))


def bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each entry (``-1`` outside), last bin closed on the right as in ``np.histogram``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    index = np.searchsorted(edges, x, side="right") - 1
    index[x == edges[-1]] = edges.size - 2
    index[(index < 0) | (index > edges.size - 2) | ~np.isfinite(x)] = -1
    return index


def category_positions(binning: Binning, x: np.ndarray, min_entries: int) -> np.ndarray:
    """x positions 0, 1, ... of the categories with at least ``min_entries`` entries (NaN for the
    others), so that sparse codes (decay modes 0, 1, 10, 11) sit side by side on the axis."""
    if binning.categories is None:
        raise ValueError("category_positions needs a categorical binning")
    index = bin_index(x, binning.edges)
    counts = np.bincount(index[index >= 0], minlength=binning.categories.size)
    keep = counts[: binning.categories.size] >= min_entries
    positions = np.full(binning.categories.size, np.nan)
    positions[keep] = np.arange(int(keep.sum()))
    return positions
