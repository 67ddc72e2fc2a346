"""Jet substructure on many jets at once: N-subjettiness and leading subjets.

Jets are given as flat numpy arrays of their constituents' four-momenta plus ``counts`` (the
number of constituents of each jet, in order), the layout the sample builders use. Each jet is
handed to FastJet's awkward interface as one "event", so a single call reclusters or measures all
jets of a batch.

N-subjettiness (Thaler & Van Tilburg, JHEP 03 (2011) 015, arXiv:1011.2268) is

    tau_N = sum_k pT_k * min(dR_1k, ..., dR_Nk)**beta / (sum_k pT_k * R0**beta),

with ``dR`` measured in (rapidity, phi) to N axes. :func:`nsubjettiness` uses the
``Nsubjettiness`` package of fastjet-contrib shipped inside the ``fastjet`` wheel; the default
axes are the **exclusive-kT axes** (``"KT_Axes"``: the constituents reclustered with the kT
algorithm until exactly N subjets remain), the choice of the original paper. The contrib package
silently falls back to its default for an unknown axes name, hence the check against
:data:`AXES`. :func:`nsubjettiness_from_axes` is the same definition in plain numpy for given
axes (used to cross-check, and for axes from elsewhere).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import awkward as ak
import numpy as np
from numpy.typing import ArrayLike, NDArray

from hepml.physics.kinematics import delta_phi, pxpypze_to_ptetaphim

__all__ = [
    "AXES",
    "Subjets",
    "leading_subjets",
    "nsubjettiness",
    "nsubjettiness_from_axes",
    "tau_ratio",
]

#: Axes accepted by :func:`nsubjettiness` (names of fastjet-contrib's AxesDefinition classes):
#: exclusive kT, exclusive winner-take-all kT, and each followed by one pass of minimisation.
AXES = ("KT_Axes", "WTA_KT_Axes", "OnePass_KT_Axes", "OnePass_WTA_KT_Axes")

FloatArray = NDArray[np.float64]

_MAX_R = 1000.0  # FastJet's largest allowed radius, as fastjet-contrib's exclusive kT axes use


class Subjets(NamedTuple):
    """The ``n`` hardest subjets of each jet, arrays ``[n_jets, n]`` sorted by decreasing pT.

    Missing subjets (a jet with fewer constituents or subjets than ``n``) have ``pt = 0`` and
    NaN ``eta``, ``phi`` and ``m``.
    """

    pt: FloatArray
    eta: FloatArray
    phi: FloatArray
    m: FloatArray


def _per_jet_sequence(px, py, pz, e, counts, algorithm: str, radius: float):
    """A FastJet ClusterSequence over many jets, each jet's constituents as one event."""
    import fastjet
    import fastjet._swig

    fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)
    counts = np.asarray(counts, dtype=np.int64)
    fields = {
        name: ak.unflatten(np.asarray(values, dtype=np.float64), counts)
        for name, values in (("px", px), ("py", py), ("pz", pz), ("E", e))
    }
    particles = ak.zip(fields, with_name="Momentum4D")
    definition = fastjet.JetDefinition(getattr(fastjet, f"{algorithm}_algorithm"), float(radius))
    return fastjet.ClusterSequence(particles, definition)


def nsubjettiness(
    px: ArrayLike,
    py: ArrayLike,
    pz: ArrayLike,
    e: ArrayLike,
    counts: ArrayLike,
    n_max: int = 3,
    radius: float = 0.8,
    beta: float = 1.0,
    axes: str = "KT_Axes",
) -> FloatArray:
    """N-subjettiness ``tau_1 ... tau_n_max`` of many jets (fastjet-contrib ``Nsubjettiness``).

    Parameters
    ----------
    px, py, pz, e
        Flat arrays of all jets' constituents, jet after jet, in GeV.
    counts
        Number of constituents of each jet.
    n_max
        Largest N computed.
    radius
        Characteristic radius R0 of the normalisation ``sum pT * R0**beta`` (the jet radius).
    beta
        Angular exponent.
    axes
        One of :data:`AXES`; ``"KT_Axes"`` (exclusive kT) by default.

    Returns
    -------
    numpy.ndarray
        ``[n_jets, n_max]``, column ``N - 1`` holds tau_N; 0 for a jet with at most N
        constituents (and for an empty jet).
    """
    if axes not in AXES:
        raise ValueError(f"unknown N-subjettiness axes {axes!r}; choose from {AXES}")
    if n_max < 1:
        raise ValueError(f"n_max must be at least 1, got {n_max}")
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0:
        return np.zeros((0, n_max))
    sequence = _per_jet_sequence(px, py, pz, e, counts, "kt", radius)
    taus = sequence.njettiness(
        measure_definition="NormalizedMeasure",
        axes_definition=axes,
        njets=list(range(1, n_max + 1)),
        beta=float(beta),
        R0=float(radius),
    )
    return np.asarray(ak.to_numpy(taus), dtype=np.float64).reshape(counts.size, n_max)


def nsubjettiness_from_axes(
    pt: ArrayLike,
    rapidity: ArrayLike,
    phi: ArrayLike,
    counts: ArrayLike,
    axes_rapidity: ArrayLike,
    axes_phi: ArrayLike,
    radius: float = 0.8,
    beta: float = 1.0,
) -> FloatArray:
    """tau_N of many jets for given axes, in numpy.

    Parameters
    ----------
    pt, rapidity, phi
        Flat arrays of all jets' constituents, jet after jet.
    counts
        Number of constituents of each jet.
    axes_rapidity, axes_phi
        ``[n_jets, N]`` axes; NaN entries (missing axes) are ignored.
    radius, beta
        As in :func:`nsubjettiness`.

    Returns
    -------
    numpy.ndarray
        tau_N per jet (0 for an empty jet or a jet without any axis).
    """
    pt = np.asarray(pt, dtype=float)
    counts = np.asarray(counts, dtype=np.int64)
    axes_y = np.atleast_2d(np.asarray(axes_rapidity, dtype=float))
    axes_phi = np.atleast_2d(np.asarray(axes_phi, dtype=float))
    owner = np.repeat(np.arange(counts.size), counts)
    dy = np.asarray(rapidity, dtype=float)[:, None] - axes_y[owner]
    dr = np.hypot(dy, delta_phi(np.asarray(phi, dtype=float)[:, None], axes_phi[owner]))
    dmin = np.min(np.where(np.isnan(dr), np.inf, dr), axis=1, initial=np.inf)
    dmin = np.where(np.isfinite(dmin), dmin, 0.0)
    numerator = np.bincount(owner, weights=pt * dmin**beta, minlength=counts.size)
    denominator = np.bincount(owner, weights=pt, minlength=counts.size) * radius**beta
    return np.divide(numerator, denominator, out=np.zeros(counts.size), where=denominator > 0)


def tau_ratio(taus: ArrayLike, numerator: int, denominator: int) -> FloatArray:
    """``tau_numerator / tau_denominator`` (e.g. tau21 = ``tau_ratio(taus, 2, 1)``).

    Parameters
    ----------
    taus
        ``[n_jets, n_max]`` output of :func:`nsubjettiness` (column ``N - 1`` is tau_N).
    numerator, denominator
        The N of the two taus.

    Returns
    -------
    numpy.ndarray
        The ratio, 0 where the denominator vanishes.
    """
    taus = np.asarray(taus, dtype=float)
    top, bottom = taus[:, numerator - 1], taus[:, denominator - 1]
    return np.divide(top, bottom, out=np.zeros(top.shape), where=bottom > 0)


def leading_subjets(
    px: ArrayLike,
    py: ArrayLike,
    pz: ArrayLike,
    e: ArrayLike,
    counts: ArrayLike,
    n: int = 2,
    radius: float | None = 0.3,
) -> Subjets:
    """The ``n`` hardest kT subjets of many jets, e.g. to centre and rotate jet images.

    Parameters
    ----------
    px, py, pz, e
        Flat arrays of all jets' constituents, jet after jet.
    counts
        Number of constituents of each jet.
    n
        Subjets returned per jet.
    radius
        With a radius, the constituents are reclustered into inclusive kT subjets of that radius
        (R = 0.3 as in the jet-image papers, Cogan et al. JHEP 02 (2015) 118 and de Oliveira et
        al. JHEP 07 (2016) 069); with None, into exactly ``n`` exclusive kT subjets (fewer if
        the jet has fewer constituents).

    Returns
    -------
    Subjets
        ``pt, eta, phi, m``, each ``[n_jets, n]``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0:
        empty = np.zeros((0, n))
        return Subjets(empty, empty.copy(), empty.copy(), empty.copy())
    # exclusive clustering: a radius far above the jet size never merges with the beam
    sequence = _per_jet_sequence(px, py, pz, e, counts, "kt", _MAX_R if radius is None else radius)
    if radius is None:
        with warnings.catch_warnings():  # fastjet 3.5.2 warns for every algorithm, kT included
            warnings.simplefilter("ignore", UserWarning)
            subjets = sequence.exclusive_jets_up_to(int(n))
    else:
        subjets = sequence.inclusive_jets()
    pt_jagged = np.hypot(subjets.px, subjets.py)
    subjets = subjets[ak.argsort(pt_jagged, axis=1, ascending=False)][:, :n]
    padded = ak.pad_none(subjets, n, axis=1, clip=True)

    def column(name: str) -> FloatArray:
        return ak.to_numpy(ak.fill_none(padded[name], np.nan)).astype(np.float64)

    pt, eta, phi, m = pxpypze_to_ptetaphim(column("px"), column("py"), column("pz"), column("E"))
    missing = np.isnan(pt)
    pt = np.where(missing, 0.0, pt)
    return Subjets(pt, eta, np.where(missing, np.nan, phi), np.where(missing, np.nan, m))
