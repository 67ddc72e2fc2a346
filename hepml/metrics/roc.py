"""Weighted ROC curves, background rejection and discovery significance for binary classifiers.

Conventions
-----------
Label 1 is signal, label 0 is background. An event passes a cut at threshold ``t`` when its score
is ``>= t``, so a higher score means "more signal-like". Efficiencies are weighted fractions:
``sig_eff(t) = sum(w[signal & score >= t]) / sum(w[signal])`` and likewise for background.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "auc",
    "best_significance",
    "binary_metrics",
    "discovery_significance",
    "interpolate_rejection",
    "rejection_at",
    "roc_curve",
]


def _check_inputs(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and flatten scores, labels and weights; return (scores, is_signal, weights)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(
            f"scores and labels must have the same length, got {scores.size} and {labels.size}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or inf; remove or fix these events before the ROC")
    unique = np.unique(labels)
    if not np.all(np.isin(unique, (0, 1))):
        raise ValueError(f"labels must be 0 (background) or 1 (signal), got values {unique[:10]}")
    if weights is None:
        weights = np.ones_like(scores)
    else:
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if weights.shape != scores.shape:
            raise ValueError(
                f"weights must have one entry per event: got {weights.size} for {scores.size} scores"
            )
    is_signal = labels == 1
    if np.sum(weights[is_signal]) <= 0 or np.sum(weights[~is_signal]) <= 0:
        raise ValueError(
            "need a positive total weight of both signal (label 1) and background (label 0) events"
        )
    return scores, is_signal, weights


def roc_curve(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ROC curve of a score cut.

    Events with equal scores pass or fail a cut together, so each distinct score contributes one
    point and ties produce a single diagonal step (as in ``sklearn.metrics.roc_curve``).

    Parameters
    ----------
    scores : np.ndarray
        Classifier output, shape ``[N]``; larger means more signal-like.
    labels : np.ndarray
        Truth labels, shape ``[N]``: 1 for signal, 0 for background.
    weights : np.ndarray, optional
        Per-event weights, shape ``[N]``. Unit weights when omitted.

    Returns
    -------
    sig_eff, bkg_eff : np.ndarray
        Signal and background efficiencies, shape ``[K + 1]`` for ``K`` distinct scores, sorted by
        increasing efficiency, starting at ``(0, 0)`` and ending at ``(1, 1)``.
    thresholds : np.ndarray
        Cut values: point ``i`` keeps events with ``score >= thresholds[i]``; the first is
        ``+inf`` (nothing passes).
    """
    scores, is_signal, weights = _check_inputs(scores, labels, weights)
    order = np.argsort(-scores, kind="stable")
    scores_sorted = scores[order]
    sig_cum = np.cumsum(np.where(is_signal, weights, 0.0)[order])
    bkg_cum = np.cumsum(np.where(is_signal, 0.0, weights)[order])
    # Last event of each group of equal scores: all of them cross the cut together.
    last_of_group = np.r_[np.flatnonzero(np.diff(scores_sorted)), scores_sorted.size - 1]
    sig_eff = np.r_[0.0, sig_cum[last_of_group] / sig_cum[-1]]
    bkg_eff = np.r_[0.0, bkg_cum[last_of_group] / bkg_cum[-1]]
    thresholds = np.r_[np.inf, scores_sorted[last_of_group]]
    return sig_eff, bkg_eff, thresholds


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    """Integral of ``y`` over ``x`` with the trapezoid rule (independent of the numpy version)."""
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the ROC curve, i.e. the integral of signal efficiency over background efficiency.

    This is the usual AUC (``sklearn.metrics.roc_auc_score``, with ``sample_weight`` when weighted):
    1 for a perfect classifier, 0.5 for a random one, 0 for an inverted one.

    Parameters
    ----------
    scores, labels, weights : np.ndarray
        As in :func:`roc_curve`.

    Returns
    -------
    float
        The area, computed with the trapezoid rule over the ROC points.
    """
    sig_eff, bkg_eff, _ = roc_curve(scores, labels, weights)
    return _trapezoid(sig_eff, bkg_eff)


def interpolate_rejection(
    sig_eff_curve: np.ndarray, bkg_eff_curve: np.ndarray, sig_eff: float | np.ndarray
) -> float | np.ndarray:
    """Background rejection ``1 / bkg_eff`` at given signal efficiencies, along a ROC curve.

    Where several points share a signal efficiency, the one with the lowest background efficiency
    is used (the first cut reaching that efficiency). Between points the ROC is interpolated
    linearly.

    Parameters
    ----------
    sig_eff_curve, bkg_eff_curve : np.ndarray
        A ROC curve as returned by :func:`roc_curve` (increasing efficiencies).
    sig_eff : float or np.ndarray
        Signal efficiencies in ``[0, 1]`` at which to evaluate the rejection.

    Returns
    -------
    float or np.ndarray
        Rejection; ``np.inf`` where the background efficiency is 0.
    """
    target = np.asarray(sig_eff, dtype=np.float64)
    if np.any((target < 0) | (target > 1)):
        raise ValueError(f"signal efficiencies must lie in [0, 1], got {sig_eff}")
    sig_unique, first = np.unique(np.asarray(sig_eff_curve), return_index=True)
    bkg_eff = np.interp(target, sig_unique, np.asarray(bkg_eff_curve)[first])
    with np.errstate(divide="ignore"):
        rejection = np.where(bkg_eff > 0, 1.0 / np.where(bkg_eff > 0, bkg_eff, 1.0), np.inf)
    return float(rejection) if rejection.ndim == 0 else rejection


def rejection_at(
    scores: np.ndarray,
    labels: np.ndarray,
    sig_eff: float | np.ndarray,
    weights: np.ndarray | None = None,
) -> float | np.ndarray:
    """Background rejection ``1 / bkg_eff`` at the cut where signal efficiency reaches ``sig_eff``.

    Parameters
    ----------
    scores, labels, weights : np.ndarray
        As in :func:`roc_curve`.
    sig_eff : float or np.ndarray
        Target signal efficiency (or several), in ``[0, 1]``.

    Returns
    -------
    float or np.ndarray
        Rejection interpolated along the ROC curve; ``np.inf`` if no background passes.
    """
    sig_curve, bkg_curve, _ = roc_curve(scores, labels, weights)
    return interpolate_rejection(sig_curve, bkg_curve, sig_eff)


def binary_metrics(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Summary metrics of a binary classifier.

    Parameters
    ----------
    scores, labels, weights : np.ndarray
        As in :func:`roc_curve`.

    Returns
    -------
    dict[str, float]
        ``auc`` and ``rejection_eff30``, ``rejection_eff50``, ``rejection_eff70`` (background
        rejection at 30/50/70 % signal efficiency, possibly ``inf``), as plain floats.
    """
    sig_curve, bkg_curve, _ = roc_curve(scores, labels, weights)
    rejections = interpolate_rejection(sig_curve, bkg_curve, np.array([0.3, 0.5, 0.7]))
    metrics = {"auc": _trapezoid(sig_curve, bkg_curve)}
    for eff, rejection in zip((30, 50, 70), rejections, strict=True):
        metrics[f"rejection_eff{eff}"] = float(rejection)
    log.debug("binary metrics: %s", metrics)
    return metrics


def discovery_significance(s: float | np.ndarray, b: float | np.ndarray) -> float | np.ndarray:
    """Asimov discovery significance ``Z = sqrt(2 ((s + b) ln(1 + s / b) - s))``.

    For ``s << b`` this tends to ``s / sqrt(b)``.

    Parameters
    ----------
    s, b : float or np.ndarray
        Expected signal and background yields (broadcast together), ``s >= 0``, ``b >= 0``.

    Returns
    -------
    float or np.ndarray
        Significance: 0 where ``s == 0`` (also when ``b == 0``), ``inf`` where ``b == 0 < s``.
    """
    s_arr, b_arr = np.broadcast_arrays(
        np.asarray(s, dtype=np.float64), np.asarray(b, dtype=np.float64)
    )
    if np.any(s_arr < 0) or np.any(b_arr < 0):
        raise ValueError("signal and background yields must be non-negative")
    positive = (s_arr > 0) & (b_arr > 0)
    s_safe = np.where(positive, s_arr, 1.0)
    b_safe = np.where(positive, b_arr, 1.0)
    # log1p keeps precision for s << b; clip tiny negative rounding before the square root.
    q0 = 2.0 * ((s_safe + b_safe) * np.log1p(s_safe / b_safe) - s_safe)
    z = np.where(positive, np.sqrt(np.clip(q0, 0.0, None)), 0.0)
    z = np.where((s_arr > 0) & (b_arr == 0), np.inf, z)
    return float(z) if z.ndim == 0 else z


def best_significance(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    n_signal: float | None = None,
    n_background: float | None = None,
    min_background: float = 1.0,
) -> dict[str, float]:
    """Cut on the score that maximises the discovery significance.

    Every distinct score is tried as a cut ``score >= threshold``; the expected yields after the
    cut are ``s = n_signal * sig_eff`` and ``b = n_background * bkg_eff``.

    Parameters
    ----------
    scores, labels, weights : np.ndarray
        As in :func:`roc_curve`; the weights only shape the efficiencies.
    n_signal, n_background : float, optional
        Expected signal and background yields before the cut (e.g. cross-section x luminosity x
        preselection efficiency). When omitted, the summed weights of the signal / background
        events in the sample are used, i.e. the weights are taken to be normalised to the yields.
    min_background : float
        Cuts leaving fewer than this many expected background events are skipped. Without it the
        best "cut" is often one keeping a handful of signal events and ``b -> 0``, where the
        significance diverges but the background estimate is meaningless. Default 1 event.

    Returns
    -------
    dict[str, float]
        ``significance``, ``threshold``, ``sig_eff``, ``bkg_eff``, ``s``, ``b`` at the best cut.
    """
    scores_arr, is_signal, weights_arr = _check_inputs(scores, labels, weights)
    if n_signal is None:
        n_signal = float(np.sum(weights_arr[is_signal]))
    if n_background is None:
        n_background = float(np.sum(weights_arr[~is_signal]))
    sig_eff, bkg_eff, thresholds = roc_curve(scores_arr, is_signal.astype(int), weights_arr)
    s = n_signal * sig_eff
    b = n_background * bkg_eff
    allowed = b >= min_background
    if not np.any(allowed):
        raise ValueError(
            f"no cut keeps at least min_background={min_background} background events "
            f"(total background {n_background:g}); lower min_background or check n_background"
        )
    z = np.where(allowed, discovery_significance(s, b), -np.inf)
    best = int(np.argmax(z))
    result = {
        "significance": float(z[best]),
        "threshold": float(thresholds[best]),
        "sig_eff": float(sig_eff[best]),
        "bkg_eff": float(bkg_eff[best]),
        "s": float(s[best]),
        "b": float(b[best]),
    }
    log.debug("best significance: %s", result)
    return result
