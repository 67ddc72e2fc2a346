"""Missing transverse momentum and di-tau masses on numpy arrays.

All functions are vectorised: arguments are scalars or numpy arrays that broadcast against each
other, momenta in GeV.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["collinear_mass", "missing_pt", "visible_mass"]

FloatArray = NDArray[np.float64]
FourVector = tuple[ArrayLike, ArrayLike, ArrayLike, ArrayLike]


def missing_pt(
    px: ArrayLike, py: ArrayLike, event: ArrayLike, n_events: int
) -> tuple[FloatArray, FloatArray]:
    """Missing transverse momentum of many events: minus the vector sum of their particles.

    Parameters
    ----------
    px, py
        Transverse momentum components of the (visible) particles of all events, 1D.
    event
        Index in ``[0, n_events)`` of each particle's event.
    n_events
        Number of events; events without particles get zero.

    Returns
    -------
    tuple of numpy.ndarray
        ``(met_x, met_y)``, one entry per event.
    """
    event = np.asarray(event, dtype=np.int64)
    sum_x = np.bincount(event, weights=np.asarray(px, dtype=float), minlength=n_events)
    sum_y = np.bincount(event, weights=np.asarray(py, dtype=float), minlength=n_events)
    return -sum_x, -sum_y


def visible_mass(vis1: FourVector, vis2: FourVector) -> FloatArray:
    """Invariant mass of two visible four-vectors ``(px, py, pz, e)``; 0 where m^2 < 0."""
    px, py, pz, e = (np.asarray(a, dtype=float) + np.asarray(b, dtype=float)
                     for a, b in zip(vis1, vis2, strict=True))
    return np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))


def collinear_mass(
    vis1: FourVector,
    vis2: FourVector,
    met_x: ArrayLike,
    met_y: ArrayLike,
    min_sin: float = 1e-3,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Di-tau mass in the collinear approximation.

    Each tau's neutrinos are assumed to fly along its visible decay products, so the missing
    transverse momentum is ``met = r1 * pT(vis1) + r2 * pT(vis2)`` with ``r_i >= 0``. Solving the
    two linear equations gives the visible momentum fractions ``x_i = 1 / (1 + r_i)`` and
    ``m_col = m_vis / sqrt(x1 * x2)``.

    Parameters
    ----------
    vis1, vis2
        Four-vectors ``(px, py, pz, e)`` of the two visible taus.
    met_x, met_y
        Missing transverse momentum components.
    min_sin
        The solution is refused where the two visible taus are (anti-)collinear in the transverse
        plane, ``|sin(dphi)| < min_sin``, because the system is then degenerate.

    Returns
    -------
    m_col, x1, x2 : numpy.ndarray
        Collinear mass and visible fractions. Where the solution is unphysical (degenerate
        system, or a fraction outside ``(0, 1]``, i.e. a neutrino momentum against its visible
        tau, which resolution makes common) ``m_col = x1 = x2 = -1``.
    """
    p1x, p1y = np.asarray(vis1[0], dtype=float), np.asarray(vis1[1], dtype=float)
    p2x, p2y = np.asarray(vis2[0], dtype=float), np.asarray(vis2[1], dtype=float)
    met_x, met_y = np.asarray(met_x, dtype=float), np.asarray(met_y, dtype=float)
    det = p1x * p2y - p1y * p2x
    norm = np.hypot(p1x, p1y) * np.hypot(p2x, p2y)
    valid = np.abs(det) > min_sin * norm
    safe = np.where(valid, det, 1.0)
    r1 = (met_x * p2y - met_y * p2x) / safe
    r2 = (p1x * met_y - p1y * met_x) / safe
    valid &= (r1 >= 0) & (r2 >= 0)
    x1 = np.where(valid, 1.0 / (1.0 + np.where(valid, r1, 0.0)), -1.0)
    x2 = np.where(valid, 1.0 / (1.0 + np.where(valid, r2, 0.0)), -1.0)
    m_vis = visible_mass(vis1, vis2)
    m_col = np.where(valid, m_vis / np.sqrt(np.where(valid, x1 * x2, 1.0)), -1.0)
    return m_col, x1, x2
