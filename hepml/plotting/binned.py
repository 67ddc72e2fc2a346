"""Binned medians and resolutions with their bootstrap errors (the numbers regression plots draw)."""

from __future__ import annotations

import numpy as np

from hepml.metrics.resolution import relative_resolution, weighted_quantile
from hepml.metrics.uncertainty import bootstrap_quantiles
from hepml.plotting.binning import bin_index

__all__ = ["binned_response_with_errors", "median", "median_and_resolution_errors"]


def median(x: np.ndarray, w: np.ndarray | None) -> float:
    """Weighted median (:func:`hepml.metrics.resolution.weighted_quantile`)."""
    return float(weighted_quantile(x, 0.5, w))


def median_and_resolution_errors(
    resp: np.ndarray, weights: np.ndarray | None, n_boot: int, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap errors of the median and of the relative resolution (68 % half-width / median)."""
    q = bootstrap_quantiles(resp, [0.16, 0.5, 0.84], weights, n_boot, seed)
    q = q[np.isfinite(q).all(axis=1) & (q[:, 1] != 0)]
    if len(q) < 2:
        return float("nan"), float("nan")
    resolution = (q[:, 2] - q[:, 0]) / 2.0 / q[:, 1]
    return float(np.std(q[:, 1], ddof=1)), float(np.std(resolution, ddof=1))


def binned_response_with_errors(
    resp: np.ndarray,
    x: np.ndarray,
    edges: np.ndarray,
    weights: np.ndarray | None = None,
    min_entries: int = 20,
    n_boot: int = 200,
) -> dict[str, np.ndarray]:
    """Median response and resolution with bootstrap errors in bins of ``x``.

    Returns
    -------
    dict[str, np.ndarray]
        ``count``, ``x`` (weighted median of ``x`` in the bin), ``median``, ``median_err``,
        ``resolution`` and ``resolution_err``, each ``[B]``; NaN in bins with fewer than
        ``min_entries`` events.
    """
    resp = np.asarray(resp, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64).ravel()
    index = bin_index(x, edges)
    n_bins = edges.size - 1
    out = {key: np.full(n_bins, np.nan) for key in
           ("x", "median", "median_err", "resolution", "resolution_err")}  # fmt: skip
    out["count"] = np.bincount(index[index >= 0], minlength=n_bins)[:n_bins]
    for i in np.flatnonzero(out["count"] >= min_entries):
        sel = index == i
        r, w = resp[sel], None if weights is None else np.asarray(weights)[sel]
        out["x"][i] = median(x[sel], w)
        out["median"][i] = median(r, w)
        out["resolution"][i] = relative_resolution(r, w)
        out["median_err"][i], out["resolution_err"][i] = median_and_resolution_errors(r, w, n_boot, i)
    return out
