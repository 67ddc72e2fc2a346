"""Quark/gluon jets: quark-enriched Z(-> nu nu) + jet versus gluon-rich QCD dijets.

``process="zjet"``: q qbar -> Z g and q g -> Z q with Z -> nu nu, so the jet recoils against
missing momentum (mostly quark jets at high pT, from q g -> Z q). ``process="dijet"``: 2 -> 2 QCD.
Both with pT-hat in ``[pthat_min, pthat_max]``; the two leading anti-kT R = 0.4 jets of the
detector-level particles (:mod:`hepml.generate.samples.jets`) with 500 < pT < 550 GeV and rapidity
``|y| < 1.7`` are candidates, the selection of the Energy Flow Networks sample (Komiske, Metodiev
& Thaler, JHEP 01 (2019) 121). Each jet is matched to the closest outgoing parton of the hard
process within ``radius``; ``parton_pdgid`` is its PDG id (0: none matched), so the true flavour
is known per jet and ``parton_flavour`` can keep only quark or only gluon jets.

Columns (one row per kept jet)
------------------------------
``jet_pt, jet_eta, jet_y, jet_phi, jet_m`` (float32); ``parton_pdgid`` (int32); ``n_const``
(int32) and jagged ``const_pt, const_eta, const_phi, const_e, const_deta, const_dphi`` (float32)
and ``const_charge, const_pid`` (int32; the PDG id of the generated particle behind each
reconstructed one, i.e. ideal particle identification), by decreasing pT.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from hepml.generate.samples.jets import CONSTITUENTS, JetWindow, generate_jets, output_columns

__all__ = ["CONSTITUENTS", "FLAVOURS", "build_chunk"]

#: ``parton_flavour`` choices and the ``|parton_pdgid|`` they keep.
FLAVOURS = {"quark": (1, 2, 3, 4, 5, 6), "light_quark": (1, 2, 3), "gluon": (21,)}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    radius: float = 0.4,
    pt_min: float = 500.0,
    pt_max: float = 550.0,
    max_abs_rapidity: float = 1.7,
    pthat_min: float = 350.0,
    pthat_max: float = 750.0,
    parton_flavour: str | None = None,
    mpi: bool = False,
    max_constituents: int = 100,
    detector: dict | None = None,
    mu: float = 0.0,
    pool_size: int = 200,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events of one process and return the kept jets.

    Parameters
    ----------
    seed, n_events
        Pythia seed and number of generated events.
    process
        ``"zjet"`` (Z(-> nu nu) + jet) or ``"dijet"`` (QCD).
    radius, pt_min, pt_max, max_abs_rapidity
        Anti-kT radius and the jet window (GeV, rapidity).
    pthat_min, pthat_max, mpi, max_constituents, detector
        Generation and storage options (:class:`~hepml.generate.samples.jets.JetWindow`).
    mu, pool_size
        Pile-up: mean number of minimum-bias events overlaid on each event and the events
        of the pool they are drawn from (:class:`~hepml.generate.samples.jets.JetWindow`).
    parton_flavour
        None keeps every jet in the window; a key of :data:`FLAVOURS` keeps only jets matched
        to such a parton.

    Returns
    -------
    dict
        The columns of the module docstring, one row per kept jet.
    """
    if process not in ("zjet", "dijet"):
        raise ValueError(f"quark/gluon process must be 'zjet' or 'dijet', got {process!r}")
    if parton_flavour is not None and parton_flavour not in FLAVOURS:
        raise ValueError(f"parton_flavour must be None or one of {sorted(FLAVOURS)}")
    window = JetWindow(
        radius, pt_min, pt_max, max_abs_rapidity=max_abs_rapidity, pthat_min=pthat_min,
        pthat_max=pthat_max, mpi=mpi, max_constituents=max_constituents, detector=detector,
        mu=mu, pool_size=pool_size,
    )  # fmt: skip
    jets, _ = generate_jets(
        seed, n_events, "zjet" if process == "zjet" else "qcd", window, truth="parton",
        require_match=parton_flavour is not None,
    )  # fmt: skip
    out = output_columns(jets, ("pt", "eta", "y", "phi", "m", "truth_pdgid"))
    if parton_flavour is not None:
        keep = np.isin(np.abs(out["parton_pdgid"]), FLAVOURS[parton_flavour])
        out = {name: values[keep] for name, values in out.items()}
    return out
