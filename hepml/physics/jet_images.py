"""Jet images: constituents as pixel intensities on an (eta, phi) grid, and their preprocessing.

A jet image treats the calorimeter as a camera: each pixel holds the transverse momentum of the
particles that fall into it (Cogan, Kagan, Strauss & Schwartzman, "Jet-Images: Computer Vision
Inspired Techniques for Jet Tagging", JHEP 02 (2015) 118, arXiv:1407.5675; de Oliveira, Kagan,
Mackey, Nachman & Schwartzman, "Jet-images -- deep learning edition", JHEP 07 (2016) 069,
arXiv:1511.05190). The preprocessing follows those papers -- translate, rotate, re-grid, flip --
with two choices made here:

* **pT, not E, as intensity**: a translation in eta is a boost along the beam, which keeps pT
  but not E.
* **rotation on the constituents before pixelisation**, so no pixel interpolation is needed; the
  image is then only re-gridded (:func:`regrid`) if a coarser grid is wanted.

Conventions: all functions work on flat constituent arrays of many jets plus ``counts`` (the
number of constituents of each jet, jet after jet). An image is ``[n_jets, npix, npix]`` indexed
``[jet, x, y]`` (as ``numpy.histogram2d``) with ``x`` the eta-like and ``y`` the phi-like
coordinate; show it with ``imshow(image.T, origin="lower", extent=...)``. Everything is numpy and
vectorised over jets (one ``np.bincount`` fills all images).

Note that rotation and flipping are not Lorentz transformations: the jet mass of a rotated image
differs from the jet's mass; :func:`jet_mass_from_image` is meant for translated-only images.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hepml.physics.kinematics import delta_phi

__all__ = [
    "centre",
    "flip",
    "jet_mass_from_image",
    "make_images",
    "pixel_centres",
    "pixelise",
    "reflect",
    "regrid",
    "rotate",
]

FloatArray = NDArray[np.float64]
Extent = float | tuple[float, float, float, float]


def _extent(extent: Extent) -> tuple[float, float, float, float]:
    if np.isscalar(extent):
        half = float(extent)  # type: ignore[arg-type]
        return -half, half, -half, half
    xmin, xmax, ymin, ymax = (float(v) for v in extent)  # type: ignore[union-attr]
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"image extent must be (xmin, xmax, ymin, ymax) increasing, got {extent}")
    return xmin, xmax, ymin, ymax


def pixel_centres(npix: int = 25, extent: Extent = 1.25) -> tuple[FloatArray, FloatArray]:
    """Centres of the pixel columns (x) and rows (y), each an array of length ``npix``."""
    xmin, xmax, ymin, ymax = _extent(extent)
    edges = np.arange(npix) + 0.5
    return xmin + (xmax - xmin) * edges / npix, ymin + (ymax - ymin) * edges / npix


def pixelise(
    x: ArrayLike,
    y: ArrayLike,
    pt: ArrayLike,
    counts: ArrayLike,
    npix: int = 25,
    extent: Extent = 1.25,
) -> NDArray[np.float32]:
    """Images of many jets from their constituents, filled with one ``np.bincount``.

    Parameters
    ----------
    x, y
        Flat arrays of the constituents' coordinates (e.g. eta and phi relative to the jet axis).
    pt
        Pixel intensity, the constituents' transverse momenta.
    counts
        Number of constituents of each jet.
    npix
        Pixels per side.
    extent
        ``(xmin, xmax, ymin, ymax)``, or a half-width ``h`` for ``(-h, h, -h, h)``; the default
        gives 0.1 x 0.1 pixels. Constituents outside are dropped.

    Returns
    -------
    numpy.ndarray
        ``[n_jets, npix, npix]`` float32 images indexed ``[jet, x, y]``.
    """
    xmin, xmax, ymin, ymax = _extent(extent)
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    ix = np.floor((np.asarray(x, dtype=float) - xmin) / (xmax - xmin) * npix)
    iy = np.floor((np.asarray(y, dtype=float) - ymin) / (ymax - ymin) * npix)
    inside = (ix >= 0) & (ix < npix) & (iy >= 0) & (iy < npix)
    index = (owner * npix + ix.astype(np.int64)) * npix + iy.astype(np.int64)
    flat = np.bincount(
        index[inside],
        weights=np.asarray(pt, dtype=float)[inside],
        minlength=counts.size * npix * npix,
    )
    return flat.reshape(counts.size, npix, npix).astype(np.float32)


def centre(
    eta: ArrayLike, phi: ArrayLike, counts: ArrayLike, eta0: ArrayLike, phi0: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Constituent coordinates relative to a point per jet (the leading subjet, or the jet axis).

    A shift in eta is a boost along the beam and one in phi a rotation about it, so the
    constituents' pT and the jet mass are unchanged.

    Returns
    -------
    tuple of numpy.ndarray
        ``(eta - eta0, phi - phi0)`` per constituent, the phi difference wrapped to
        ``[-pi, pi)``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    eta0 = np.repeat(np.asarray(eta0, dtype=float), counts)
    phi0 = np.repeat(np.asarray(phi0, dtype=float), counts)
    return np.asarray(eta, dtype=float) - eta0, delta_phi(phi, phi0)


def rotate(
    x: ArrayLike,
    y: ArrayLike,
    counts: ArrayLike,
    x2: ArrayLike,
    y2: ArrayLike,
    target: float = -np.pi / 2,
) -> tuple[FloatArray, FloatArray]:
    """Rotate each jet's constituents about the origin so that a point lies in a fixed direction.

    Parameters
    ----------
    x, y
        Flat arrays of centred constituent coordinates.
    counts
        Number of constituents of each jet.
    x2, y2
        Per jet, the point to align, usually the second subjet relative to the centre. A jet
        where it is missing (NaN) or at the origin is not rotated.
    target
        Direction of that point after the rotation, as an angle from the +x axis; the default
        puts the second subjet straight below the leading one (Cogan et al. 2015).

    Returns
    -------
    tuple of numpy.ndarray
        The rotated ``(x, y)``.
    """
    x2, y2 = np.asarray(x2, dtype=float), np.asarray(y2, dtype=float)
    valid = np.isfinite(x2) & np.isfinite(y2) & ((x2 != 0) | (y2 != 0))
    angle = np.where(valid, target - np.arctan2(np.where(valid, y2, 0), np.where(valid, x2, 1)), 0)
    angle = np.repeat(angle, np.asarray(counts, dtype=np.int64))
    cos, sin = np.cos(angle), np.sin(angle)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return x * cos - y * sin, x * sin + y * cos


def reflect(images: ArrayLike) -> NDArray:
    """Mirror images in x (``x -> -x`` for a symmetric extent); an involution."""
    return np.asarray(images)[:, ::-1, :].copy()


def flip(images: ArrayLike) -> NDArray:
    """Reflect in x the images whose left half (x < 0) holds more pT than the right half.

    After flipping, the harder side of every image is on the right (de Oliveira et al. 2016).
    Pixels in the central column (odd ``npix``) count for neither side. Flipping twice is the
    same as flipping once.
    """
    images = np.asarray(images)
    half = images.shape[1] // 2
    left = images[:, :half, :].sum(axis=(1, 2))
    right = images[:, images.shape[1] - half :, :].sum(axis=(1, 2))
    return np.where((left > right)[:, None, None], images[:, ::-1, :], images)


def _overlap(n_in: int, n_out: int) -> FloatArray:
    """``[n_out, n_in]`` fraction of each input bin inside each output bin (same range)."""
    edges_in = np.linspace(0.0, 1.0, n_in + 1)
    edges_out = np.linspace(0.0, 1.0, n_out + 1)
    low = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    high = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    return np.clip(high - low, 0.0, None) * n_in


def regrid(images: ArrayLike, npix: int) -> NDArray[np.float32]:
    """Re-bin images onto ``npix x npix`` pixels over the same extent, by area overlap.

    Each input pixel's content is shared between the output pixels it overlaps in proportion to
    the overlapping area, so the total pT of every image is kept (e.g. 25 -> 5 sums 5 x 5
    blocks).

    Returns
    -------
    numpy.ndarray
        ``[n_jets, npix, npix]`` float32.
    """
    images = np.asarray(images, dtype=np.float64)
    wx = _overlap(images.shape[1], npix)
    wy = _overlap(images.shape[2], npix)
    return np.einsum("ix,nxy,jy->nij", wx, images, wy).astype(np.float32)


def jet_mass_from_image(images: ArrayLike, extent: Extent = 1.25) -> FloatArray:
    """Invariant mass of each image, every pixel a massless particle at the pixel's centre.

    A pixel with content ``pT`` at ``(x, y) = (eta, phi)`` is ``(pT cosh x, pT cos y,
    pT sin y, pT sinh x)``. For an image that was only translated this equals the jet mass up
    to the pixel granularity and the constituent masses.

    Returns
    -------
    numpy.ndarray
        Mass per image, GeV if the intensities are in GeV.
    """
    images = np.asarray(images, dtype=np.float64)
    xc, yc = pixel_centres(images.shape[1], extent)
    e = np.einsum("nxy,x->n", images, np.cosh(xc))
    pz = np.einsum("nxy,x->n", images, np.sinh(xc))
    px = np.einsum("nxy,y->n", images, np.cos(yc))
    py = np.einsum("nxy,y->n", images, np.sin(yc))
    return np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))


def make_images(
    pt: ArrayLike,
    eta: ArrayLike,
    phi: ArrayLike,
    counts: ArrayLike,
    eta0: ArrayLike,
    phi0: ArrayLike,
    eta2: ArrayLike | None = None,
    phi2: ArrayLike | None = None,
    npix: int = 25,
    extent: Extent = 1.25,
    flip_images: bool = True,
) -> NDArray[np.float32]:
    """Preprocessed jet images: centre on ``(eta0, phi0)``, rotate, pixelise, flip.

    Parameters
    ----------
    pt, eta, phi
        Flat constituent arrays of all jets.
    counts
        Number of constituents of each jet.
    eta0, phi0
        Per jet, the image centre (the leading subjet, or the jet axis).
    eta2, phi2
        Per jet, the second subjet: when given, each jet is rotated so that it lies straight
        below the centre (NaN: that jet is not rotated).
    npix, extent
        As in :func:`pixelise`.
    flip_images
        Put the harder half of each image on the right (:func:`flip`).

    Returns
    -------
    numpy.ndarray
        ``[n_jets, npix, npix]`` float32 images of pT.
    """
    x, y = centre(eta, phi, counts, eta0, phi0)
    if eta2 is not None and phi2 is not None:
        eta0 = np.asarray(eta0, dtype=float)
        x2 = np.asarray(eta2, dtype=float) - eta0
        y2 = delta_phi(phi2, phi0)
        x, y = rotate(x, y, counts, x2, y2)
    images = pixelise(x, y, pt, counts, npix, extent)
    return flip(images) if flip_images else images
