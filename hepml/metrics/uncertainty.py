"""Statistical uncertainties: efficiencies and rejections (Clopper-Pearson), ratios, bootstrap widths.

Weighted samples enter through their effective number of entries ``n_eff = (sum w)^2 / sum w^2``:
an efficiency ``eps`` measured on ``n_eff`` weighted events is treated as ``k = eps * n_eff``
successes out of ``n_eff`` trials (as ROOT's ``TEfficiency`` does for weighted fills), which is
exact for unit weights. Intervals default to one standard deviation (68.27 % central coverage).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

__all__ = [
    "ONE_SIGMA",
    "bootstrap_quantiles",
    "bootstrap_std",
    "clopper_pearson",
    "effective_entries",
    "efficiency_interval",
    "ratio_interval",
    "rejection_interval",
]

#: Central coverage of +-1 standard deviation of a Gaussian.
ONE_SIGMA = float(stats.norm.cdf(1.0) - stats.norm.cdf(-1.0))


def effective_entries(weights: np.ndarray | None, n: int | None = None) -> float:
    """Effective number of entries ``(sum w)^2 / sum w^2`` of a weighted sample.

    Parameters
    ----------
    weights : np.ndarray or None
        Per-event weights; None means ``n`` unit weights.
    n : int, optional
        Number of events when ``weights`` is None.

    Returns
    -------
    float
        ``n`` for unit weights; 0 for an empty sample or zero total weight.
    """
    if weights is None:
        if n is None:
            raise ValueError("effective_entries needs weights or the number of events n")
        return float(n)
    w = np.asarray(weights, dtype=np.float64).ravel()
    sum_w2 = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / sum_w2 if sum_w2 > 0 else 0.0


def clopper_pearson(
    k: float | np.ndarray, n: float | np.ndarray, cl: float = ONE_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson (exact binomial) central interval of an efficiency ``k / n``.

    ``lower = Beta^-1((1 - cl) / 2; k, n - k + 1)`` (0 for ``k = 0``) and
    ``upper = Beta^-1((1 + cl) / 2; k + 1, n - k)`` (1 for ``k = n``). Non-integer ``k`` and ``n``
    (effective counts of weighted events) are accepted.

    Parameters
    ----------
    k : float or np.ndarray
        Passing events, ``0 <= k <= n``.
    n : float or np.ndarray
        Total events, broadcastable with ``k``.
    cl : float
        Central coverage in ``(0, 1)``, by default one sigma.

    Returns
    -------
    lower, upper : np.ndarray
        Interval edges with the broadcast shape of ``k`` and ``n``; NaN where ``n = 0``.
    """
    if not 0.0 < cl < 1.0:
        raise ValueError(f"confidence level must lie in (0, 1), got {cl}")
    k_arr, n_arr = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(n, np.float64))
    if np.any(k_arr < 0) or np.any(k_arr > n_arr * (1 + 1e-12)):
        raise ValueError("clopper_pearson needs 0 <= k <= n for every entry")
    k_arr = np.minimum(k_arr, n_arr)
    alpha = 1.0 - cl
    with np.errstate(invalid="ignore", divide="ignore"):
        safe_k = np.where(k_arr > 0, k_arr, 1.0)
        lower = np.where(k_arr > 0, stats.beta.ppf(alpha / 2, safe_k, n_arr - k_arr + 1), 0.0)
        rest = np.where(n_arr - k_arr > 0, n_arr - k_arr, 1.0)
        upper = np.where(k_arr < n_arr, stats.beta.ppf(1 - alpha / 2, k_arr + 1, rest), 1.0)
    empty = n_arr <= 0
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def efficiency_interval(
    eff: float | np.ndarray, n_eff: float | np.ndarray, cl: float = ONE_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of an efficiency ``eff`` measured on ``n_eff`` (effective) events.

    Parameters
    ----------
    eff : float or np.ndarray
        Efficiencies in ``[0, 1]``.
    n_eff : float or np.ndarray
        Effective number of events the efficiency was measured on (see :func:`effective_entries`).
    cl : float
        Central coverage.

    Returns
    -------
    lower, upper : np.ndarray
        Interval edges of the efficiency.
    """
    eff = np.clip(np.asarray(eff, dtype=np.float64), 0.0, 1.0)
    return clopper_pearson(eff * np.asarray(n_eff, dtype=np.float64), n_eff, cl)


def rejection_interval(
    bkg_eff: float | np.ndarray, n_bkg: float | np.ndarray, cl: float = ONE_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of a background rejection ``1 / bkg_eff`` from the efficiency's interval.

    Parameters
    ----------
    bkg_eff : float or np.ndarray
        Background efficiencies.
    n_bkg : float or np.ndarray
        Effective number of background events before the cut.
    cl : float
        Central coverage.

    Returns
    -------
    lower, upper : np.ndarray
        ``1 / upper_eff`` and ``1 / lower_eff`` (``inf`` where the lower efficiency is 0).
    """
    eff_lo, eff_hi = efficiency_interval(bkg_eff, n_bkg, cl)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(eff_hi > 0, 1.0 / eff_hi, np.inf)
        upper = np.where(eff_lo > 0, 1.0 / eff_lo, np.inf)
    return lower, upper


def ratio_interval(
    num: np.ndarray,
    num_interval: tuple[np.ndarray, np.ndarray],
    den: np.ndarray,
    den_interval: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``num / den`` for independent ``num`` and ``den``: relative errors in quadrature.

    The upward error combines the numerator's upward and the denominator's downward relative
    errors (and vice versa), so asymmetric intervals stay asymmetric.

    Parameters
    ----------
    num, den : np.ndarray
        Central values (positive).
    num_interval, den_interval : tuple of np.ndarray
        ``(lower, upper)`` of each.

    Returns
    -------
    lower, upper : np.ndarray
        Interval of the ratio; NaN where a central value is not positive or not finite.
    """
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
        num_up, num_down = (num_interval[1] - num) / num, (num - num_interval[0]) / num
        den_up, den_down = (den_interval[1] - den) / den, (den - den_interval[0]) / den
        upper = ratio * (1.0 + np.hypot(num_up, den_down))
        lower = ratio * (1.0 - np.hypot(num_down, den_up))
    bad = ~(np.isfinite(ratio) & (num > 0) & (den > 0))
    return np.where(bad, np.nan, np.maximum(lower, 0.0)), np.where(bad, np.nan, upper)


def bootstrap_std(
    values: np.ndarray,
    statistic: Callable[[np.ndarray, np.ndarray], float],
    weights: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> float:
    """Standard deviation of ``statistic`` over Poisson-bootstrap replicas of a (weighted) sample.

    Each replica reweights every event by an independent Poisson(1) count times its weight (the
    Poisson bootstrap, equivalent to resampling with replacement for large samples and natural for
    weighted events), and evaluates ``statistic(values, replica_weights)``.

    Parameters
    ----------
    values : np.ndarray
        The sample, shape ``[N]``.
    statistic : callable
        ``statistic(values, weights) -> float``, e.g. a weighted median.
    weights : np.ndarray, optional
        Per-event weights; unit weights when omitted.
    n_boot : int
        Number of replicas (the relative precision of the width is about ``1 / sqrt(2 n_boot)``).
    seed : int
        Seed of the replicas, so that plots are reproducible.

    Returns
    -------
    float
        The bootstrap standard deviation; NaN for fewer than two events.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if n_boot < 2:
        raise ValueError(f"bootstrap_std needs n_boot >= 2, got {n_boot}")
    if values.size < 2:
        return float("nan")
    base = np.ones_like(values) if weights is None else np.asarray(weights, np.float64).ravel()
    if base.shape != values.shape:
        raise ValueError(f"weights must match values: got {base.size} for {values.size} events")
    rng = np.random.default_rng(seed)
    replicas = np.empty(n_boot)
    for i in range(n_boot):
        w = base * rng.poisson(1.0, values.size)
        replicas[i] = statistic(values, w) if np.any(w > 0) else np.nan
    return float(np.nanstd(replicas, ddof=1))


def bootstrap_quantiles(
    values: np.ndarray,
    q: float | np.ndarray,
    weights: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """Quantiles of Poisson-bootstrap replicas of a (weighted) sample, vectorised over replicas.

    Each replica reweights the events by Poisson(1) counts as in :func:`bootstrap_std`; its
    quantiles are those of :func:`hepml.metrics.resolution.weighted_quantile` (equal values merged,
    linear interpolation between weighted midpoints), so that the spread of the replicas is the
    error of exactly the quantity that is plotted.

    Parameters
    ----------
    values : np.ndarray
        The sample, shape ``[N]``, without NaN.
    q : float or np.ndarray
        Quantile(s) in ``[0, 1]``, shape ``[Q]``.
    weights : np.ndarray, optional
        Non-negative per-event weights.
    n_boot : int
        Number of replicas.
    seed : int
        Seed of the replicas.

    Returns
    -------
    np.ndarray
        ``[n_boot, Q]`` quantiles (NaN for a replica without weight).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    q_arr = np.atleast_1d(np.asarray(q, dtype=np.float64))
    base = np.ones_like(values) if weights is None else np.asarray(weights, np.float64).ravel()
    if base.shape != values.shape:
        raise ValueError(f"weights must match values: got {base.size} for {values.size} events")
    order = np.argsort(values, kind="stable")
    sorted_values, base = values[order], base[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_values)) + 1] if values.size else np.r_[0]
    unique = sorted_values[starts] if values.size else sorted_values
    rng = np.random.default_rng(seed)
    out = np.full((n_boot, q_arr.size), np.nan)
    rows = max(1, int(2e7 // max(values.size, 1)))  # bound the memory of one block of replicas
    for first in range(0, n_boot, rows):
        block = min(rows, n_boot - first)
        w = base * rng.poisson(1.0, (block, values.size))
        merged = np.add.reduceat(w, starts, axis=1) if values.size else w
        cumulative = np.cumsum(merged, axis=1)
        for i in range(block):
            keep = merged[i] > 0
            total = cumulative[i, -1] if cumulative.shape[1] else 0.0
            if total <= 0:
                continue
            positions = (cumulative[i, keep] - merged[i, keep] / 2.0) / total
            out[first + i] = np.interp(q_arr, positions, unique[keep])
    return out
