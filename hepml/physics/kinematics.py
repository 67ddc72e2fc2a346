"""Four-vector kinematics on numpy arrays.

All functions are vectorised: arguments are scalars or numpy arrays that broadcast against each
other, energies and momenta are in GeV and angles in radians.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "delta_phi",
    "delta_r",
    "invariant_mass",
    "ptetaphim_to_pxpypze",
    "pxpypze_to_ptetaphim",
]


def delta_phi(phi1: ArrayLike, phi2: ArrayLike) -> NDArray[np.floating]:
    """Azimuthal difference ``phi1 - phi2`` wrapped to ``[-pi, pi)``.

    Parameters
    ----------
    phi1, phi2
        Azimuthal angles in radians, any real values.

    Returns
    -------
    numpy.ndarray
        The difference, in ``[-pi, pi)``.
    """
    dphi = np.asarray(phi1, dtype=float) - np.asarray(phi2, dtype=float)
    wrapped = np.mod(dphi + np.pi, 2.0 * np.pi) - np.pi
    # np.mod can round a tiny negative argument up to exactly 2 pi, which would give +pi
    return np.where(wrapped >= np.pi, wrapped - 2.0 * np.pi, wrapped)


def delta_r(
    eta1: ArrayLike, phi1: ArrayLike, eta2: ArrayLike, phi2: ArrayLike
) -> NDArray[np.floating]:
    """Angular distance ``sqrt(deta**2 + dphi**2)`` in the (eta, phi) plane.

    Parameters
    ----------
    eta1, phi1
        Pseudorapidity and azimuth of the first object(s).
    eta2, phi2
        Pseudorapidity and azimuth of the second object(s).

    Returns
    -------
    numpy.ndarray
        Delta R, non-negative.
    """
    deta = np.asarray(eta1, dtype=float) - np.asarray(eta2, dtype=float)
    return np.hypot(deta, delta_phi(phi1, phi2))


def ptetaphim_to_pxpypze(
    pt: ArrayLike, eta: ArrayLike, phi: ArrayLike, m: ArrayLike
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    """Convert (pT, eta, phi, m) to Cartesian (px, py, pz, E).

    Parameters
    ----------
    pt, eta, phi, m
        Transverse momentum, pseudorapidity, azimuth and mass.

    Returns
    -------
    tuple of numpy.ndarray
        ``(px, py, pz, e)``.
    """
    pt = np.asarray(pt, dtype=float)
    eta = np.asarray(eta, dtype=float)
    phi = np.asarray(phi, dtype=float)
    m = np.asarray(m, dtype=float)
    px = pt * np.cos(phi)
    py = pt * np.sin(phi)
    pz = pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    return px, py, pz, e


def pxpypze_to_ptetaphim(
    px: ArrayLike, py: ArrayLike, pz: ArrayLike, e: ArrayLike
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    """Convert Cartesian (px, py, pz, E) to (pT, eta, phi, m).

    The mass is ``sqrt(max(E**2 - p**2, 0))``, so slightly space-like vectors from rounding give
    zero. A vector along the beam (pT = 0) gets ``eta = +-inf``, a null vector ``eta = 0``.

    Parameters
    ----------
    px, py, pz, e
        Momentum components and energy.

    Returns
    -------
    tuple of numpy.ndarray
        ``(pt, eta, phi, m)`` with ``phi`` in ``[-pi, pi]``.
    """
    px = np.asarray(px, dtype=float)
    py = np.asarray(py, dtype=float)
    pz = np.asarray(pz, dtype=float)
    e = np.asarray(e, dtype=float)
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(np.where(pt > 0, pz / pt, np.sign(pz) * np.inf))
    eta = np.where((pt == 0) & (pz == 0), 0.0, eta)
    phi = np.arctan2(py, px)
    m = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    return pt, eta, phi, m


def invariant_mass(
    e: ArrayLike, px: ArrayLike, py: ArrayLike, pz: ArrayLike
) -> NDArray[np.floating]:
    """Invariant mass ``sqrt(max(E**2 - p**2, 0))`` of (summed) four-vectors.

    Parameters
    ----------
    e, px, py, pz
        Energy and momentum components, e.g. sums over the particles of a system.

    Returns
    -------
    numpy.ndarray
        The mass, non-negative.
    """
    e = np.asarray(e, dtype=float)
    p2 = (
        np.asarray(px, dtype=float) ** 2
        + np.asarray(py, dtype=float) ** 2
        + np.asarray(pz, dtype=float) ** 2
    )
    return np.sqrt(np.maximum(e**2 - p2, 0.0))
