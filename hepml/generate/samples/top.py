"""Top tagging: hadronic top jets from all-hadronic ttbar versus QCD dijets.

Signal (``process="ttbar"``): gg/qqbar -> ttbar with both W -> q q' (forced decays); a jet is kept
when a top and its three decay quarks (the b and the W's quarks, right after the decays) lie within
``radius`` of its axis. Background (``process="qcd"``): 2 -> 2 QCD. Both are generated with pT-hat
in ``[pthat_min, pthat_max]``; the two leading anti-kT R = 0.8 jets of the detector-level particles
(:mod:`hepml.generate.samples.jets`) with 550 < pT < 650 GeV and ``|eta| < 2`` are candidates. The
selection is that of the top-tagging comparison of Kasieczka et al., SciPost Phys. 7 (2019) 014;
N-subjettiness after Thaler & Van Tilburg, JHEP 03 (2011) 015. Requiring the three quarks inside
the jet removes the W shoulder of the mass spectrum (jets missing the b); with
``contained=False`` (the top within ``radius`` only) about 13 % of the top jets lie below 110 GeV,
with a step at the W mass.

Columns (one row per kept jet)
------------------------------
``jet_pt, jet_eta, jet_phi, jet_m`` (float32); ``tau1, tau2, tau3, tau21, tau32`` (float32; beta
= 1, R0 = ``radius``, exclusive-kT axes, of the stored constituents); ``n_const`` (int32) and jagged
``const_pt, const_eta, const_phi, const_e, const_deta, const_dphi`` (float32) and ``const_charge,
const_pid`` (int32), the ``max_constituents`` (200) hardest constituents by decreasing pT.
"""

from __future__ import annotations

from collections.abc import Sequence

import awkward as ak
import numpy as np

from hepml.generate.samples.jets import (
    CONSTITUENTS,
    JetWindow,
    generate_jets,
    nsubjettiness_columns,
    output_columns,
)

__all__ = ["CONSTITUENTS", "build_chunk"]


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    radius: float = 0.8,
    pt_min: float = 550.0,
    pt_max: float = 650.0,
    max_abs_eta: float = 2.0,
    mass_window: Sequence[float] | None = None,
    pthat_min: float = 350.0,
    pthat_max: float = 800.0,
    mpi: bool = False,
    contained: bool = True,
    max_constituents: int = 200,
    axes: str = "KT_Axes",
    detector: dict | None = None,
    mu: float = 0.0,
    pool_size: int = 200,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events of one process and return the kept top-tagging jets.

    Parameters
    ----------
    seed, n_events
        Pythia seed and number of generated events.
    process
        ``"ttbar"`` (signal, matched top jets) or ``"qcd"`` (background).
    radius, pt_min, pt_max, max_abs_eta, mass_window
        Anti-kT radius and the jet window (``mass_window = [low, high]`` GeV or None).
    pthat_min, pthat_max, mpi, max_constituents, detector
        Generation and storage options (:class:`~hepml.generate.samples.jets.JetWindow`).
    mu, pool_size
        Pile-up: mean number of minimum-bias events overlaid on each event and the events
        of the pool they are drawn from (:class:`~hepml.generate.samples.jets.JetWindow`).
    contained
        Signal only: require the top's decay quarks within ``radius`` of the jet axis too
        (with False, only the top itself; partially contained jets then fill the low-mass side).
    axes
        N-subjettiness axes (:data:`hepml.physics.substructure.AXES`).

    Returns
    -------
    dict
        The columns of the module docstring, one row per kept jet.
    """
    if process not in ("ttbar", "qcd"):
        raise ValueError(f"top-tagging process must be 'ttbar' or 'qcd', got {process!r}")
    window = JetWindow(
        radius, pt_min, pt_max, max_abs_eta=max_abs_eta, mass_window=mass_window,
        pthat_min=pthat_min, pthat_max=pthat_max, mpi=mpi, max_constituents=max_constituents,
        detector=detector, mu=mu, pool_size=pool_size,
    )  # fmt: skip
    signal = process == "ttbar"
    jets, _ = generate_jets(
        seed, n_events, process, window, truth="top" if signal else None, require_match=signal,
        contain_prongs=contained,
    )  # fmt: skip
    out = output_columns(jets, ("pt", "eta", "phi", "m"))
    return out | nsubjettiness_columns(jets, radius, axes, ratios=((2, 1), (3, 2)))
