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
from pathlib import Path

import awkward as ak
import numpy as np

from hepml.generate.samples.jets import (
    generate_jets,
    output_columns,
    plot_per_label,
    read_for_plots,
)
from hepml.physics.substructure import nsubjettiness, tau_ratio

__all__ = ["CONSTITUENTS", "build_chunk", "validation_plots"]

#: Constituent fields written as ``const_<field>``.
CONSTITUENTS = ("pt", "eta", "phi", "e", "deta", "dphi", "charge", "pid")


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
    pthat_min, pthat_max
        pT-hat window of the generation (both processes); see
        :mod:`hepml.generate.samples.jets` for the share of window jets it keeps.
    mpi
        Multiparton interactions (5-10 times slower when on).
    contained
        Signal only: require the top's decay quarks within ``radius`` of the jet axis too
        (with False, only the top itself; partially contained jets then fill the low-mass side).
    max_constituents
        Constituents stored per jet (the hardest; the N-subjettiness uses these).
    axes
        N-subjettiness axes (:data:`hepml.physics.substructure.AXES`).
    detector
        Keyword arguments of :class:`hepml.generate.detector.DetectorResponse`.

    Returns
    -------
    dict
        The columns of the module docstring, one row per kept jet.
    """
    if process not in ("ttbar", "qcd"):
        raise ValueError(f"top-tagging process must be 'ttbar' or 'qcd', got {process!r}")
    jets, _ = generate_jets(
        seed, n_events, process, radius=radius, pt_min=pt_min, pt_max=pt_max,
        max_abs_eta=max_abs_eta, mass_window=mass_window, n_leading=2,
        truth="top" if process == "ttbar" else None, require_match=process == "ttbar",
        contain_prongs=contained,
        max_constituents=max_constituents, pthat_min=pthat_min, pthat_max=pthat_max, mpi=mpi,
        detector=detector,
    )  # fmt: skip
    four = tuple(jets[f"const_{f}"] for f in ("px", "py", "pz", "e"))
    taus = nsubjettiness(*four, jets["n_const"], n_max=3, radius=radius, axes=axes)
    out = output_columns(jets, ("pt", "eta", "phi", "m"), CONSTITUENTS)
    for n in (1, 2, 3):
        out[f"tau{n}"] = taus[:, n - 1].astype(np.float32)
    out["tau21"] = tau_ratio(taus, 2, 1).astype(np.float32)
    out["tau32"] = tau_ratio(taus, 3, 2).astype(np.float32)
    return out


def validation_plots(path: Path, out_dir: Path) -> list[Path]:
    """Jet mass, pT and tau32 per label (PNG and PDF in ``out_dir``); returns the files."""
    out_dir = Path(out_dir)
    columns, names_of = read_for_plots(path, ["jet_m", "jet_pt", "tau32"])
    written = plot_per_label(
        columns, names_of, "jet_m", np.linspace(0, 300, 51), "Jet mass [GeV]", out_dir, "jet_mass"
    )
    written += plot_per_label(columns, names_of, "jet_pt", 25, "Jet $p_T$ [GeV]", out_dir, "jet_pt")
    written += plot_per_label(
        columns, names_of, "tau32", np.linspace(0, 1, 26), r"$\tau_{32}$", out_dir, "tau32"
    )
    return written
