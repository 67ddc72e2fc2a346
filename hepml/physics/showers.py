"""Electromagnetic showers in a crystal calorimeter: lateral profile and shower-shape variables.

Conventions
-----------
* An **image** is an array ``[..., H, W]`` of crystal energies (GeV) centred on the seed crystal
  (``H`` and ``W`` odd, the seed at ``[H // 2, W // 2]``); axis -2 runs along ``ieta``, axis -1
  along ``iphi``. Distances are in crystal units.
* The **lateral profile** of a shower is a sum of two-dimensional Gaussians (a narrow core and a
  wide tail); the energy fraction in a crystal is the integral of the profile over the crystal's
  square, which factorises per Gaussian into differences of normal cumulative distributions.
* ``sigma_ietaieta`` follows CMS: logarithmic weights ``w_i = max(0, w0 + ln(E_i / E_5x5))``
  over the 5x5 crystals around the seed, ``sigma^2 = sum w_i (ieta_i - <ieta>)^2 / sum w_i``
  (crystal units; multiply by the crystal size, 0.0174, for CMS's eta units).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

__all__ = [
    "centroid",
    "crop",
    "energy_width",
    "local_maxima",
    "log_weighted_width",
    "max_2x2",
    "n_above",
    "profile_fractions",
    "r9",
    "shower_shapes",
    "window_sum",
]

FloatArray = NDArray[np.floating]


def profile_fractions(
    du: ArrayLike,
    dv: ArrayLike,
    size: int,
    widths: Sequence[float],
    weights: Sequence[float],
) -> FloatArray:
    """Energy fractions of showers in the ``size x size`` crystals around their impact crystal.

    Parameters
    ----------
    du, dv
        Impact points relative to the centre of the impact crystal, crystal units, ``[n]``
        (within ``[-0.5, 0.5]`` for the impact crystal to be the central one).
    size
        Odd window size in crystals.
    widths
        Standard deviations of the Gaussian components in crystal units.
    weights
        Energy fraction of each component (they should sum to 1).

    Returns
    -------
    numpy.ndarray
        ``[n, size, size]`` fractions (axis 1 along ``u``); their sum is the containment of the
        window, below 1 by the tails outside it.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"the window size must be a positive odd number, got {size}")
    if len(widths) != len(weights):
        raise ValueError(f"got {len(widths)} profile widths but {len(weights)} weights")
    du = np.atleast_1d(np.asarray(du, dtype=float))
    dv = np.atleast_1d(np.asarray(dv, dtype=float))
    edges = np.arange(size + 1) - size / 2.0  # crystal edges relative to the window centre
    out = np.zeros((du.size, size, size))
    for width, weight in zip(widths, weights, strict=True):
        cu = ndtr((edges[None, :] - du[:, None]) / width)
        cv = ndtr((edges[None, :] - dv[:, None]) / width)
        out += weight * np.diff(cu, axis=1)[:, :, None] * np.diff(cv, axis=1)[:, None, :]
    return out


def _centre(images: FloatArray, size: int) -> FloatArray:
    h, w = images.shape[-2:]
    if size > min(h, w) or size % 2 == 0:
        raise ValueError(f"a centred {size}x{size} window needs an odd size <= {min(h, w)}")
    i, j = (h - size) // 2, (w - size) // 2
    return images[..., i : i + size, j : j + size]


def window_sum(images: ArrayLike, size: int) -> FloatArray:
    """Energy of the centred ``size x size`` window (E1x1, E3x3, E5x5, ...), ``[...]``."""
    return _centre(np.asarray(images, dtype=float), size).sum(axis=(-2, -1))


def max_2x2(images: ArrayLike) -> FloatArray:
    """Largest energy of the four 2x2 windows that contain the central crystal (E2x2)."""
    c = _centre(np.asarray(images, dtype=float), 3)
    blocks = [c[..., a : a + 2, b : b + 2].sum(axis=(-2, -1)) for a in (0, 1) for b in (0, 1)]
    return np.max(np.stack(blocks), axis=0)


def r9(images: ArrayLike, denominator: int = 5) -> FloatArray:
    """``R9 = E3x3 / E_{n x n}`` (``n = denominator``, 5 by default); 0 where the latter <= 0."""
    images = np.asarray(images, dtype=float)
    num, den = window_sum(images, 3), window_sum(images, denominator)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def log_weighted_width(
    images: ArrayLike, axis: int = -2, size: int = 5, w0: float = 4.7
) -> FloatArray:
    """CMS-style ``sigma_ietaieta`` (``axis=-2``) or ``sigma_iphiiphi`` (``axis=-1``).

    Parameters
    ----------
    images
        ``[..., H, W]`` crystal energies centred on the seed.
    axis
        -2 for the ``ieta`` direction, -1 for ``iphi``.
    size
        The width is computed over the centred ``size x size`` crystals.
    w0
        Cut-off of the logarithmic weights ``max(0, w0 + ln(E_i / E_window))``.

    Returns
    -------
    numpy.ndarray
        The weighted standard deviation of the crystal index in crystal units (0 when no crystal
        has a positive weight).
    """
    if axis not in (-2, -1):
        raise ValueError(f"axis must be -2 (ieta) or -1 (iphi), got {axis}")
    win = _centre(np.asarray(images, dtype=float), size)
    total = win.sum(axis=(-2, -1))[..., None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where((win > 0) & (total > 0), w0 + np.log(win / total), 0.0)
    weights = np.maximum(weights, 0.0)
    coord = np.arange(size, dtype=float) - size // 2
    coord = coord[:, None] if axis == -2 else coord[None, :]
    return _weighted_rms(weights, coord)


def _weighted_rms(weights: np.ndarray, coord: np.ndarray) -> FloatArray:
    """RMS of ``coord`` (broadcast over the image) weighted by ``weights``; 0 for empty images."""
    norm = weights.sum(axis=(-2, -1))
    safe = np.where(norm > 0, norm, 1.0)
    mean = (weights * coord).sum(axis=(-2, -1)) / safe
    var = (weights * (coord - mean[..., None, None]) ** 2).sum(axis=(-2, -1)) / safe
    return np.where(norm > 0, np.sqrt(np.maximum(var, 0.0)), 0.0)


def energy_width(images: ArrayLike, axis: int = -1, threshold: float = 0.0) -> FloatArray:
    """Energy-weighted RMS of the crystal index along ``axis`` over crystals above ``threshold``.

    The analogue of CMS's super-cluster ``phiWidth`` (``axis=-1``) and ``etaWidth`` (``axis=-2``)
    in crystal units, computed over the whole image.
    """
    images = np.asarray(images, dtype=float)
    h, w = images.shape[-2:]
    weights = np.where(images > threshold, images, 0.0)
    n = h if axis == -2 else w
    coord = np.arange(n, dtype=float) - n // 2
    coord = coord[:, None] if axis == -2 else coord[None, :]
    return _weighted_rms(weights, coord)


def n_above(images: ArrayLike, threshold: float) -> NDArray[np.int64]:
    """Number of crystals with an energy above ``threshold``."""
    return (np.asarray(images) > threshold).sum(axis=(-2, -1)).astype(np.int64)


def local_maxima(grid: ArrayLike, threshold: float, wrap_last: bool = True) -> NDArray[np.bool_]:
    """Crystals that are above ``threshold`` and a maximum of their 3x3 neighbourhood.

    Parameters
    ----------
    grid
        ``[..., H, W]`` crystal energies.
    threshold
        Minimum seed energy.
    wrap_last
        The last axis is periodic (``iphi`` of a barrel); the other one is not.

    Returns
    -------
    numpy.ndarray
        Boolean mask ``[..., H, W]``. Ties are broken deterministically: a crystal must be
        strictly larger than its neighbours that precede it (row-major order) and at least as
        large as those that follow, so two equal neighbouring maxima give one seed.
    """
    grid = np.asarray(grid)
    h, w = grid.shape[-2:]
    flat = grid.reshape(-1, h, w)
    n, i, j = np.nonzero(flat > threshold)  # few crystals: compare only those with neighbours
    value = flat[n, i, j]
    seed = np.ones(n.size, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            ni, nj = i + di, j + dj
            valid = (ni >= 0) & (ni < h)
            if wrap_last:
                nj = nj % w
            else:
                valid &= (nj >= 0) & (nj < w)
            other = np.where(valid, flat[n, np.clip(ni, 0, h - 1), np.clip(nj, 0, w - 1)], -np.inf)
            seed &= value > other if (di, dj) < (0, 0) else value >= other
    out = np.zeros(flat.shape, dtype=bool)
    out[n[seed], i[seed], j[seed]] = True
    return out.reshape(grid.shape)


def crop(
    grid: ArrayLike, event: ArrayLike, i: ArrayLike, j: ArrayLike, size: int, wrap_last: bool = True
) -> FloatArray:
    """Images ``[n, size, size]`` of ``grid[event]`` ``[n_events, H, W]`` centred on ``(i, j)``.

    Crystals beyond the ends of axis -2 (and of axis -1 unless ``wrap_last``) read as zero.
    """
    grid = np.asarray(grid)
    h, w = grid.shape[-2:]
    off = np.arange(size) - size // 2
    ii = np.asarray(i)[:, None, None] + off[None, :, None]
    jj = np.asarray(j)[:, None, None] + off[None, None, :]
    ok = (ii >= 0) & (ii < h)
    jj = jj % w if wrap_last else jj
    ok = ok & (jj >= 0) & (jj < w)
    values = grid[np.asarray(event)[:, None, None], np.clip(ii, 0, h - 1), np.clip(jj, 0, w - 1)]
    return np.where(ok, values, 0.0)


def centroid(images: ArrayLike, size: int = 3) -> tuple[FloatArray, FloatArray]:
    """Energy-weighted offsets ``(d_ieta, d_iphi)`` of the centred ``size x size`` crystals
    (negative energies count as zero), relative to the centre of the seed crystal."""
    win = np.maximum(_centre(np.asarray(images, dtype=float), size), 0.0)
    coord = np.arange(size, dtype=float) - size // 2
    norm = np.maximum(win.sum(axis=(-2, -1)), 1e-12)
    return win.sum(axis=-1) @ coord / norm, win.sum(axis=-2) @ coord / norm


def shower_shapes(images: ArrayLike, threshold: float) -> dict[str, FloatArray]:
    """The standard shower-shape variables of images ``[n, H, W]``, widths in crystal units.

    Returns ``e_max, e2x2, e3x3, e5x5, r9 (E3x3/E5x5), sigma_ietaieta, sigma_iphiiphi,
    e2x2_e5x5, eta_width, phi_width`` and ``n_crystals`` (crystals above ``threshold``, which
    also selects the crystals of ``eta_width``/``phi_width``).
    """
    images = np.asarray(images, dtype=float)
    h, w = images.shape[-2:]
    e2, e5 = max_2x2(images), window_sum(images, 5)
    return {
        "e_max": images[..., h // 2, w // 2],
        "e2x2": e2,
        "e3x3": window_sum(images, 3),
        "e5x5": e5,
        "r9": r9(images),
        "sigma_ietaieta": log_weighted_width(images, axis=-2),
        "sigma_iphiiphi": log_weighted_width(images, axis=-1),
        "e2x2_e5x5": np.divide(e2, e5, out=np.zeros_like(e2), where=e5 > 0),
        "eta_width": energy_width(images, -2, threshold),
        "phi_width": energy_width(images, -1, threshold),
        "n_crystals": n_above(images, threshold),
    }
