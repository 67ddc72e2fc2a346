"""What an image classifier learned: pure numpy functions on images, network outputs and labels.

After de Oliveira et al., "Jet-images - deep learning edition", JHEP 07 (2016) 069, and Cogan et
al., "Jet-images: computer vision inspired techniques for jet tagging", JHEP 02 (2015) 118
(arXiv:1407.5675, the Fisher discriminant on pixels). Images are ``[n, H, W]`` (one channel).

* :func:`pixel_correlation`: per-pixel Pearson correlation of the output with the intensity;
* :func:`in_window`: events inside narrow windows of observables (mass, tau21);
* :func:`auc_with_error`, :func:`auc_difference`: AUC and its Poisson-bootstrap standard
  deviation, the paired difference of two AUCs and its error;
* :func:`fisher_discriminant`: the linear discriminant on pixels, :func:`cut_scan_roc`: the
  ROC of rectangular cuts on two observables (a mass window and an upper tau21 cut);
* :func:`convolve`, :func:`strongest_filters`: convolved class-difference images of filters;
* :func:`most_activating`: the average of the images with the highest outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from hepml.metrics.roc import auc
from hepml.metrics.uncertainty import bootstrap_std


def _images(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"expected images [n, H, W], got shape {x.shape}")
    return x


def pixel_correlation(images: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Pearson correlation coefficient of each pixel's intensity with ``output`` over the images.

    Parameters
    ----------
    images : np.ndarray
        ``[n, H, W]``.
    output : np.ndarray
        ``[n]``, e.g. the network's score.

    Returns
    -------
    np.ndarray
        ``[H, W]`` in ``[-1, 1]``; NaN for a pixel with constant intensity (or a constant output).
    """
    x, y = _images(images), np.asarray(output, dtype=np.float64).ravel()
    if len(y) != len(x):
        raise ValueError(f"{len(x)} images but {len(y)} outputs")
    if len(y) < 2:
        raise ValueError("the correlation needs at least two images")
    dx, dy = x - x.mean(axis=0), y - y.mean()
    cov = np.tensordot(dy, dx, axes=(0, 0))
    norm = np.sqrt((dx**2).sum(axis=0) * (dy**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, cov / np.where(norm > 0, norm, 1.0), np.nan)


def in_window(
    values: Mapping[str, np.ndarray], ranges: Mapping[str, Sequence[float]]
) -> np.ndarray:
    """Events with ``lo <= values[name] < hi`` for every ``name: [lo, hi]`` of ``ranges``."""
    missing = [k for k in ranges if k not in values]
    if missing:
        raise KeyError(f"window on {missing}: no such columns; have {sorted(values)}")
    keep = None
    for name, (lo, hi) in ranges.items():
        v = np.asarray(values[name], dtype=np.float64)
        sel = (v >= lo) & (v < hi)
        keep = sel if keep is None else keep & sel
    if keep is None:
        raise ValueError("in_window needs at least one range")
    return keep


def _with_bootstrap(value_of: Callable[[np.ndarray | None], float], is_signal: np.ndarray,
                    weights: np.ndarray | None, n_boot: int, seed: int) -> tuple[float, float]:
    """``value_of(weights)`` and its Poisson-bootstrap standard deviation over the events (a
    replica without signal or without background counts as NaN)."""

    def statistic(_: np.ndarray, w: np.ndarray) -> float:
        if w[is_signal == 1].sum() <= 0 or w[is_signal == 0].sum() <= 0:
            return float("nan")
        return value_of(w)

    return value_of(weights), bootstrap_std(np.arange(len(is_signal)), statistic, weights, n_boot, seed)


def auc_with_error(
    score: np.ndarray,
    is_signal: np.ndarray,
    weights: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """AUC and its Poisson-bootstrap standard deviation (NaN, NaN without both classes)."""
    is_signal = np.asarray(is_signal).astype(int)
    if is_signal.min(initial=1) == is_signal.max(initial=0):
        return float("nan"), float("nan")
    score = np.asarray(score, dtype=np.float64)
    return _with_bootstrap(lambda w: auc(score, is_signal, w), is_signal, weights, n_boot, seed)


def auc_difference(
    score_a: np.ndarray,
    score_b: np.ndarray,
    is_signal: np.ndarray,
    weights: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """``AUC(a) - AUC(b)`` on the same events and its paired Poisson-bootstrap standard deviation
    (both AUCs from the same replica, so the error of a difference between two correlated
    classifiers is not overestimated)."""
    is_signal = np.asarray(is_signal).astype(int)
    a, b = np.asarray(score_a, dtype=np.float64), np.asarray(score_b, dtype=np.float64)
    if a.shape != b.shape or a.shape != is_signal.shape:
        raise ValueError(f"scores and labels differ in length: {a.shape}, {b.shape}, "
                         f"{is_signal.shape}")
    return _with_bootstrap(lambda w: auc(a, is_signal, w) - auc(b, is_signal, w), is_signal, weights,
                           n_boot, seed)


def fisher_discriminant(
    x: np.ndarray, is_signal: np.ndarray, shrinkage: float = 1e-3
) -> np.ndarray:
    """Fisher's linear discriminant ``w = (S_W + lambda I)^-1 (mu_s - mu_b)``, unit norm.

    Parameters
    ----------
    x : np.ndarray
        ``[n, d]`` features (flattened pixels); ``[n, H, W]`` is flattened.
    is_signal : np.ndarray
        ``[n]`` 0/1.
    shrinkage : float
        ``lambda`` relative to the mean diagonal of the within-class scatter ``S_W`` (pixels that
        are always empty make ``S_W`` singular).

    Returns
    -------
    np.ndarray
        ``[d]`` weights; the discriminant of an image is ``x @ w`` (larger: more signal-like).
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    s = np.asarray(is_signal).astype(bool)
    if s.all() or not s.any():
        raise ValueError("the Fisher discriminant needs events of both classes")
    mu_s, mu_b = x[s].mean(axis=0), x[~s].mean(axis=0)
    xs, xb = x[s] - mu_s, x[~s] - mu_b
    scatter = (xs.T @ xs + xb.T @ xb) / len(x)
    scatter[np.diag_indices_from(scatter)] += shrinkage * max(
        float(np.trace(scatter)) / len(scatter), 1e-12
    )
    w = np.linalg.solve(scatter, mu_s - mu_b)
    return w / np.linalg.norm(w)


def cut_scan_roc(
    mass: np.ndarray,
    tau21: np.ndarray,
    is_signal: np.ndarray,
    weights: np.ndarray | None = None,
    n_grid: int = 25,
) -> tuple[np.ndarray, np.ndarray]:
    """ROC envelope of the cuts ``lo <= mass < hi and tau21 < c`` scanned over a grid.

    ``lo``, ``hi`` and ``c`` run over ``n_grid`` quantiles of the signal's distributions; for each
    signal efficiency the curve keeps the cut with the lowest background efficiency.

    Returns
    -------
    sig_eff, bkg_eff : np.ndarray
        Increasing, from ``(0, 0)`` to ``(1, 1)`` (the form of :func:`hepml.metrics.roc_curve`).
    """
    m, t = np.asarray(mass, dtype=np.float64), np.asarray(tau21, dtype=np.float64)
    s = np.asarray(is_signal).astype(bool)
    w = np.ones_like(m) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (len(m) == len(t) == len(s) == len(w)):
        raise ValueError("mass, tau21, labels and weights must have one entry per event")
    if s.all() or not s.any():
        raise ValueError("the cut scan needs events of both classes")
    q = np.linspace(0.0, 1.0, n_grid)
    los = np.r_[-np.inf, np.quantile(m[s], q[: n_grid // 2])]
    his = np.r_[np.quantile(m[s], q[n_grid // 2 :]), np.inf]
    cuts = np.r_[np.quantile(t[s], q[1:]), np.inf]
    ws, wb = np.where(s, w, 0.0) / w[s].sum(), np.where(s, 0.0, w) / w[~s].sum()
    order = np.argsort(t)
    t_sorted = t[order]
    points = [(0.0, 0.0), (1.0, 1.0)]
    for lo in los:
        for hi in his:
            if hi <= lo:
                continue
            inside = ((m >= lo) & (m < hi))[order]
            cum_s = np.r_[0.0, np.cumsum(ws[order] * inside)]
            cum_b = np.r_[0.0, np.cumsum(wb[order] * inside)]
            k = np.searchsorted(t_sorted, cuts, side="left")
            points += list(zip(cum_s[k], cum_b[k], strict=True))
    pts = np.array(points)
    pts = pts[np.lexsort((pts[:, 1], -pts[:, 0]))]  # by decreasing signal efficiency
    front, best = [], np.inf
    for se, be in pts:
        if be < best:
            front.append((se, be))
            best = be
    curve = np.array([(0.0, 0.0), *front[::-1], (1.0, 1.0)])  # looser cuts end at (1, 1)
    sig, bkg = np.maximum.accumulate(curve, axis=0).T
    keep = np.r_[True, (np.diff(sig) > 0) | (np.diff(bkg) > 0)]
    return sig[keep], bkg[keep]


def convolve(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Same-padded cross-correlation of ``[..., H, W]`` images with a ``[k, k]`` kernel (zero
    padding), what ``torch.nn.Conv2d`` computes for one channel without bias."""
    x = np.asarray(images, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ValueError(f"kernel must be [k, k] with odd sides, got {k.shape}")
    ph, pw = k.shape[0] // 2, k.shape[1] // 2
    pad = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    h, w = x.shape[-2:]
    out = np.zeros_like(x)
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            out += k[i, j] * pad[..., i : i + h, j : j + w]
    return out


def strongest_filters(
    difference: np.ndarray, filters: np.ndarray, n: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Filters ranked by how much of the class difference they pick up.

    Convolution is linear, so the mean of ``X_sig * W`` minus the mean of ``X_bkg * W`` is the
    mean difference image convolved with ``W``.

    Parameters
    ----------
    difference : np.ndarray
        ``[H, W]`` mean signal image minus mean background image.
    filters : np.ndarray
        ``[F, k, k]`` first-layer filters (one input channel).
    n : int
        How many to return.

    Returns
    -------
    order : np.ndarray
        Indices of the ``n`` filters with the largest L2 norm of the convolved difference.
    convolved : np.ndarray
        ``[n, H, W]`` the convolved difference images, in that order.
    """
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim != 3:
        raise ValueError(f"filters must be [F, k, k], got shape {f.shape}")
    conv = np.stack([convolve(difference, k) for k in f])
    order = np.argsort(-np.sqrt((conv**2).sum(axis=(1, 2))), kind="stable")[:n]
    return order, conv[order]


def most_activating(images: np.ndarray, output: np.ndarray, fraction: float = 0.01) -> np.ndarray:
    """The average of the ``fraction`` of images with the highest ``output`` (at least one)."""
    x, y = _images(images), np.asarray(output, dtype=np.float64).ravel()
    if len(y) != len(x):
        raise ValueError(f"{len(x)} images but {len(y)} outputs")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * len(y))))
    top = np.argsort(-y, kind="stable")[:k]
    return x[top].mean(axis=0)
