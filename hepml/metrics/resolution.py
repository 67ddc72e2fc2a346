"""Response, resolution and bias of regression estimates (e.g. jet energy or MET).

The response is ``pred / truth``. Widths are robust (quantile based) rather than standard
deviations, so that non-Gaussian tails do not dominate:

* ``resolution``: half-width of the central 68 % interval divided by the median; for a Gaussian
  it is ``norm.ppf(0.84) ~ 0.9945`` sigma / median.
* ``iqr_resolution``: interquartile range / 1.349 / median; ``~1.0000`` sigma / median for a
  Gaussian.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "bias",
    "binned_response",
    "calibrate_scale",
    "central_interval_halfwidth",
    "iqr_resolution",
    "regression_metrics",
    "relative_resolution",
    "response",
    "weighted_quantile",
]

#: Interquartile range of a unit Gaussian, 2 * norm.ppf(0.75).
IQR_TO_SIGMA = 1.349


def weighted_quantile(
    x: np.ndarray, q: float | np.ndarray, weights: np.ndarray | None = None
) -> float | np.ndarray:
    """Quantiles of a (weighted) sample, interpolated linearly between weighted midpoints.

    Equal values are merged into one point carrying their total weight ``w_i``, placed at the
    cumulative probability ``p_i = (W_{i-1} + w_i / 2) / W``; quantiles interpolate linearly between
    these points and are clamped to the extreme values outside them. The result depends only on
    the weighted distribution, so integer weights give the same answer as repeating the samples,
    and scaling all weights changes nothing. For unweighted data without ties this is
    ``np.quantile(x, q, method="hazen")``.

    Parameters
    ----------
    x : np.ndarray
        Sample values, shape ``[N]``; NaN is not allowed.
    q : float or np.ndarray
        Quantile(s) in ``[0, 1]``.
    weights : np.ndarray, optional
        Non-negative weights, shape ``[N]``. Unit weights when omitted.

    Returns
    -------
    float or np.ndarray
        The quantile(s), with the shape of ``q``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    q_arr = np.asarray(q, dtype=np.float64)
    if np.any((q_arr < 0) | (q_arr > 1)):
        raise ValueError(f"quantiles must lie in [0, 1], got {q}")
    if np.any(np.isnan(x)):
        raise ValueError("x contains NaN; drop those entries before taking quantiles")
    if weights is None:
        weights = np.ones_like(x)
    else:
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if weights.shape != x.shape:
            raise ValueError(
                f"weights must match x: got {weights.size} weights for {x.size} values"
            )
        if np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError("weights for quantiles must be finite and non-negative")
        keep = weights > 0
        x, weights = x[keep], weights[keep]
    if x.size == 0:
        raise ValueError("cannot take quantiles of an empty sample (or one with zero total weight)")
    values, inverse = np.unique(x, return_inverse=True)
    merged = np.bincount(inverse, weights=weights)
    cumulative = np.cumsum(merged)
    positions = (cumulative - merged / 2.0) / cumulative[-1]
    result = np.interp(q_arr, positions, values)
    return float(result) if result.ndim == 0 else result


def response(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Response ``pred / truth`` per event.

    Parameters
    ----------
    pred, truth : np.ndarray
        Predicted and true values, same shape; ``truth`` must be non-zero.

    Returns
    -------
    np.ndarray
        The response, same shape as the inputs.
    """
    pred = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if pred.shape != truth.shape:
        raise ValueError(
            f"pred and truth must have the same shape, got {pred.shape} and {truth.shape}"
        )
    n_zero = int(np.count_nonzero(truth == 0))
    if n_zero:
        raise ValueError(
            f"truth is zero for {n_zero} of {truth.size} events, so the response pred/truth is "
            "undefined; select events with truth != 0 (e.g. a minimum true pT) first"
        )
    return pred / truth


def central_interval_halfwidth(
    x: np.ndarray, frac: float = 0.68, weights: np.ndarray | None = None
) -> float:
    """Half the width of the central interval holding a fraction ``frac`` of the sample.

    Parameters
    ----------
    x : np.ndarray
        Sample values, shape ``[N]``.
    frac : float
        Probability content of the interval, in ``(0, 1)``; 0.68 ~ one Gaussian sigma.
    weights : np.ndarray, optional
        Per-entry weights (see :func:`weighted_quantile`).

    Returns
    -------
    float
        ``(Q(0.5 + frac / 2) - Q(0.5 - frac / 2)) / 2``.
    """
    if not 0 < frac < 1:
        raise ValueError(f"frac must lie strictly between 0 and 1, got {frac}")
    low, high = weighted_quantile(x, [0.5 - frac / 2, 0.5 + frac / 2], weights)
    return float(high - low) / 2.0


def _median(x: np.ndarray, weights: np.ndarray | None) -> float:
    median = weighted_quantile(x, 0.5, weights)
    if median == 0:
        raise ValueError("median response is 0, so a relative resolution is undefined")
    return float(median)


def relative_resolution(resp: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Relative resolution: 68 % central half-width of the response divided by its median."""
    return central_interval_halfwidth(resp, 0.68, weights) / _median(resp, weights)


def iqr_resolution(resp: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Relative resolution from the interquartile range: ``(q75 - q25) / 1.349 / median``."""
    q25, q75 = weighted_quantile(resp, [0.25, 0.75], weights)
    return float(q75 - q25) / IQR_TO_SIGMA / _median(resp, weights)


def bias(resp: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Bias of the response: ``median(resp) - 1``."""
    return float(weighted_quantile(resp, 0.5, weights)) - 1.0


def binned_response(
    resp: np.ndarray,
    x: np.ndarray,
    bins: int | np.ndarray,
    weights: np.ndarray | None = None,
    min_entries: int = 10,
) -> dict[str, np.ndarray]:
    """Median and resolution of the response in bins of an observer variable ``x``.

    Parameters
    ----------
    resp : np.ndarray
        Response per event, shape ``[N]``.
    x : np.ndarray
        Variable to bin in (e.g. true pT), shape ``[N]``.
    bins : int or np.ndarray
        Number of equal bins over the range of ``x``, or the bin edges. As in ``np.histogram``,
        bins are half-open except the last, which includes its right edge; entries outside are
        dropped.
    weights : np.ndarray, optional
        Per-event weights.
    min_entries : int
        Bins with fewer (unweighted) entries get NaN for median and resolutions.

    Returns
    -------
    dict[str, np.ndarray]
        ``edges`` (``[B + 1]``), ``centers``, ``count`` (entries per bin), ``median``,
        ``resolution`` (68 % half-width / median) and ``iqr_resolution``, each ``[B]``.
    """
    resp = np.asarray(resp, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64).ravel()
    if resp.shape != x.shape:
        raise ValueError(f"resp and x must have the same length, got {resp.size} and {x.size}")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if weights.shape != x.shape:
            raise ValueError(f"weights must match x: got {weights.size} for {x.size} events")
    edges = np.histogram_bin_edges(x, bins=bins)
    index = np.searchsorted(edges, x, side="right") - 1
    index[x == edges[-1]] = edges.size - 2
    n_bins = edges.size - 1
    out = {
        "edges": edges,
        "centers": (edges[1:] + edges[:-1]) / 2.0,
        "count": np.zeros(n_bins, dtype=np.int64),
        "median": np.full(n_bins, np.nan),
        "resolution": np.full(n_bins, np.nan),
        "iqr_resolution": np.full(n_bins, np.nan),
    }
    for i in range(n_bins):
        in_bin = index == i
        out["count"][i] = np.count_nonzero(in_bin)
        if out["count"][i] < min_entries:
            continue
        r_bin = resp[in_bin]
        w_bin = None if weights is None else weights[in_bin]
        out["median"][i] = weighted_quantile(r_bin, 0.5, w_bin)
        out["resolution"][i] = relative_resolution(r_bin, w_bin)
        out["iqr_resolution"][i] = iqr_resolution(r_bin, w_bin)
    return out


def calibrate_scale(
    pred_train: np.ndarray, truth_train: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Scale factor ``1 / median(pred / truth)`` that calibrates a baseline's median response to 1.

    Compute it on the training split and multiply the baseline's predictions on the test split by
    it, so that a baseline is compared on resolution rather than on a trivial offset.

    Parameters
    ----------
    pred_train, truth_train : np.ndarray
        Baseline predictions and true values on the training split.
    weights : np.ndarray, optional
        Per-event weights.

    Returns
    -------
    float
        The multiplicative calibration factor.
    """
    median = weighted_quantile(response(pred_train, truth_train), 0.5, weights)
    if median <= 0:
        raise ValueError(
            f"median response is {median:g}; a scale calibration needs it to be positive"
        )
    return 1.0 / float(median)


def regression_metrics(
    pred: np.ndarray,
    truth: np.ndarray,
    weights: np.ndarray | None = None,
    baseline: np.ndarray | None = None,
) -> dict[str, float]:
    """Resolution and bias of a regression, optionally compared with a calibrated baseline.

    Parameters
    ----------
    pred, truth : np.ndarray
        Predictions and true values, shape ``[N]``.
    weights : np.ndarray, optional
        Per-event weights.
    baseline : np.ndarray, optional
        Baseline predictions for the same events, already calibrated (see :func:`calibrate_scale`).

    Returns
    -------
    dict[str, float]
        ``resolution``, ``bias``, ``iqr_resolution``; with a baseline also ``baseline_resolution``,
        ``baseline_bias`` and ``improvement = 1 - resolution / baseline_resolution``.
    """
    if np.any(np.asarray(truth) <= 0):
        log.warning("the regression target has zero or negative values: a response pred/truth has no "
                    "meaning, so absolute metrics (mae, rmse, bias_abs) are reported instead of a resolution")
        return absolute_metrics(pred, truth, weights)
    resp = response(pred, truth)
    metrics = {
        "resolution": relative_resolution(resp, weights),
        "bias": bias(resp, weights),
        "iqr_resolution": iqr_resolution(resp, weights),
    }
    if baseline is not None:
        base_resp = response(baseline, truth)
        metrics["baseline_resolution"] = relative_resolution(base_resp, weights)
        metrics["baseline_bias"] = bias(base_resp, weights)
        metrics["improvement"] = 1.0 - metrics["resolution"] / metrics["baseline_resolution"]
    log.debug("regression metrics: %s", metrics)
    return metrics


def absolute_metrics(
    pred: np.ndarray, truth: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Metrics of a regression whose target can be zero or negative: no response is formed.

    Returns
    -------
    dict[str, float]
        ``mae`` (mean absolute error), ``rmse`` (root mean square error) and ``bias_abs`` (mean of
        pred - truth), weighted when ``weights`` is given.
    """
    d = np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if total <= 0:
        raise ValueError("absolute_metrics: the weights sum to zero or less")
    return {
        "mae": float((w * np.abs(d)).sum() / total),
        "rmse": float(np.sqrt((w * d * d).sum() / total)),
        "bias_abs": float((w * d).sum() / total),
    }
