"""Anti-kT clustering of many events in one call with FastJet's awkward interface.

One call on a whole batch costs about 0.3-0.5 ms per event; calling FastJet once per event is
about ten times slower (``/work/shared/PYTHIA.md``).
"""

from __future__ import annotations

import logging

import awkward as ak
import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["TREE_ALGORITHMS", "cluster_antikt", "clustering_trees", "fastjet_version", "silence_fastjet_banner"]

_BANNER_SILENCED = False


def fastjet_version() -> str:
    """Version of the ``fastjet`` Python package."""
    import fastjet

    return str(fastjet.__version__)


def silence_fastjet_banner() -> None:
    """Stop FastJet from printing its banner (once per process) on the first clustering."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        return
    import fastjet._swig

    # the swig and the awkward extension share libfastjet, hence one banner flag and stream
    fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)
    _BANNER_SILENCED = True


def cluster_antikt(
    px: ak.Array,
    py: ak.Array,
    pz: ak.Array,
    e: ak.Array,
    radius: float = 0.4,
    min_pt: float = 15.0,
) -> tuple[ak.Array, ak.Array]:
    """Cluster the particles of many events into anti-kT jets (E recombination scheme).

    Parameters
    ----------
    px, py, pz, e
        Jagged arrays ``[event][particle]`` of the particles' four-momenta in GeV.
    radius
        Jet radius parameter R.
    min_pt
        Minimum jet pT in GeV.

    Returns
    -------
    jets : awkward.Array
        ``[event][jet]`` records with fields ``px, py, pz, E``, in FastJet's order (not sorted).
    constituents : awkward.Array
        ``[event][jet][constituent]`` indices of each jet's particles in the input arrays of its
        event.
    """
    import fastjet

    silence_fastjet_banner()
    particles = ak.zip(
        {
            "px": ak.values_astype(px, "float64"),
            "py": ak.values_astype(py, "float64"),
            "pz": ak.values_astype(pz, "float64"),
            "E": ak.values_astype(e, "float64"),
        },
        with_name="Momentum4D",
    )
    sequence = fastjet.ClusterSequence(
        particles, fastjet.JetDefinition(fastjet.antikt_algorithm, float(radius))
    )
    jets = sequence.inclusive_jets(float(min_pt))
    constituents = sequence.constituent_index(float(min_pt))
    return jets, constituents


#: Reclustering algorithms of :func:`clustering_trees`.
TREE_ALGORITHMS = ("kt", "antikt", "cambridge")


def clustering_trees(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    counts: np.ndarray,
    algorithm: str = "kt",
) -> tuple[np.ndarray, np.ndarray]:
    """The clustering history of every jet: its constituents reclustered into one binary tree.

    Parameters
    ----------
    px, py, pz, e
        Flat constituent four-momenta (GeV), jet after jet.
    counts
        Constituents per jet.
    algorithm
        ``kt``, ``antikt`` or ``cambridge`` (E scheme, R = 10: every pair merges before any
        constituent is called a jet, so each jet gives exactly one tree).

    Returns
    -------
    left, right : numpy.ndarray
        Flat int32 arrays of ``max(n - 1, 0)`` entries per jet of ``n`` constituents: merge ``k``
        of a jet joins the nodes ``left[k]`` and ``right[k]`` into node ``n + k``, where nodes
        ``0 .. n-1`` are the constituents in their input order and ``n + k`` is the result of merge
        ``k`` (so both children of a merge come before it; the root is ``2n - 2``). ``left`` is the
        child with the larger pT.
    """
    if algorithm not in TREE_ALGORITHMS:
        raise ValueError(f"unknown reclustering algorithm {algorithm!r}; choose from {TREE_ALGORITHMS}")
    import fastjet._swig as fj

    silence_fastjet_banner()
    definition = fj.JetDefinition(
        {"kt": fj.kt_algorithm, "antikt": fj.antikt_algorithm, "cambridge": fj.cambridge_algorithm}[algorithm],
        10.0,
    )
    counts = np.asarray(counts, dtype=np.int64)
    n_merges = np.maximum(counts - 1, 0)
    left = np.zeros(int(n_merges.sum()), dtype=np.int32)
    right = np.zeros_like(left)
    p4 = np.stack([np.asarray(a, dtype=np.float64) for a in (px, py, pz, e)], axis=1)
    start, out = 0, 0
    p1, p2 = fj.PseudoJet(), fj.PseudoJet()
    for n in counts.tolist():
        if n > 1:
            particles = [fj.PseudoJet(*row) for row in p4[start : start + n].tolist()]
            sequence = fj.ClusterSequence(particles, definition)
            jets = sequence.jets()  # inputs, then one entry per merge in merge order
            for k in range(n - 1):
                jets[n + k].has_parents(p1, p2)
                a, b = p1.cluster_hist_index(), p2.cluster_hist_index()
                if p2.perp2() > p1.perp2():
                    a, b = b, a
                left[out + k], right[out + k] = a, b
            out += n - 1
        start += n
    return left, right
