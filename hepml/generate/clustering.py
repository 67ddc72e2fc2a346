"""Anti-kT clustering of many events in one call with FastJet's awkward interface.

One call on a whole batch costs about 0.3-0.5 ms per event; calling FastJet once per event is
about ten times slower (``/work/shared/PYTHIA.md``).
"""

from __future__ import annotations

import logging

import awkward as ak

logger = logging.getLogger(__name__)

__all__ = ["cluster_antikt", "fastjet_version", "silence_fastjet_banner"]

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
