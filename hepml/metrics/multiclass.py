"""Multi-class classifiers: the confusion matrix and the flavour-tagging discriminant.

Pure numpy. ``probabilities [N, C]`` are per-class probabilities (rows summing to one), ``labels``
the true class index ``0 .. C-1`` of each event.
"""

from __future__ import annotations

import numpy as np

__all__ = ["b_discriminant", "confusion_matrix"]


def confusion_matrix(probabilities: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None,
                     normalize: bool = True) -> np.ndarray:
    """``[C, C]``: row = true class, column = the class of highest probability.

    With ``normalize`` each row is divided by its total (the fraction of a true class predicted as
    each class; a row without events is NaN), otherwise the summed weights.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64).ravel()
    if p.ndim != 2 or p.shape[0] != y.size:
        raise ValueError(f"probabilities must be [N, C] with one row per label, got {p.shape} for {y.size} labels")
    k = p.shape[1]
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}, got values {np.unique(y)[:10]}")
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    matrix = np.zeros((k, k))
    np.add.at(matrix, (y, p.argmax(axis=1)), w)
    if not normalize:
        return matrix
    totals = matrix.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, matrix / totals, np.nan)


def b_discriminant(probabilities: np.ndarray, b: int, c: int, light: int, f_c: float,
                   eps: float = 1e-12) -> np.ndarray:
    """``D_b = ln(p_b / (f_c p_c + (1 - f_c) p_light))`` per event (ATLAS's DL1/GN2 convention);
    ``f_c`` is the charm fraction assumed in the background."""
    if not 0.0 <= f_c <= 1.0:
        raise ValueError(f"f_c must lie in [0, 1], got {f_c}")
    p = np.asarray(probabilities, dtype=np.float64)
    denominator = f_c * p[:, c] + (1.0 - f_c) * p[:, light]
    return np.log(np.maximum(p[:, b], eps) / np.maximum(denominator, eps))
