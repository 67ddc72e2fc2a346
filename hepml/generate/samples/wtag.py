"""W tagging with jet images: boosted W jets from W' -> WZ versus QCD dijets.

Signal (``process="wprime"``): W'(600 GeV) -> W Z with W -> q q' and Z -> nu nu (forced decays),
so the W recoils against missing momentum; a jet is kept when the W and both its quarks lie
within ``radius`` of its axis (``contained=False``: the W only). Background (``process="qcd"``): 2 -> 2 QCD with pT-hat in
``[pthat_min, pthat_max]``, any of the two leading jets. Jets: anti-kT R = 0.8 of the detector-level
particles (:mod:`hepml.generate.samples.jets`), 250 < pT < 300 GeV, ``|eta| < 2``, optionally
``mass_window = [65, 95]``. This is the setup of the jet-image papers (Cogan et al., JHEP 02 (2015)
118; de Oliveira et al., JHEP 07 (2016) 069), with N-subjettiness after Thaler & Van Tilburg, JHEP
03 (2011) 015.

Columns (one row per kept jet)
------------------------------
``jet_pt, jet_eta, jet_phi, jet_m`` (float32): the jet four-vector from all its constituents.
``tau1, tau2, tau3, tau21`` (float32): N-subjettiness, beta = 1, R0 = ``radius``, exclusive-kT
axes, of the stored constituents. ``n_const`` (int32) and jagged ``const_pt, const_eta,
const_phi, const_e, const_deta, const_dphi`` (float32, ``deta``/``dphi`` relative to the jet axis),
``const_charge, const_pid`` (int32): the ``max_constituents`` hardest constituents by decreasing
pT. ``image`` (float32, ``npix * npix`` values per row, written by the HDF5 writer as a 2D
``[n, npix * npix]`` array) and ``image_npix`` (int32): the pT image, reshape with
``image.reshape(-1, npix, npix)`` to ``[jet, x = eta, y = phi]``
(:mod:`hepml.physics.jet_images`). The writers do not take multi-dimensional numpy columns,
hence the flattened image.
"""

from __future__ import annotations

from collections.abc import Sequence

import awkward as ak
import numpy as np

from hepml.generate.samples.jets import (
    CONSTITUENTS,
    JetWindow,
    constituent_p4,
    generate_jets,
    nsubjettiness_columns,
    output_columns,
)
from hepml.physics.jet_images import make_images
from hepml.physics.substructure import leading_subjets

__all__ = ["CONSTITUENTS", "build_chunk"]

#: Truth object a kept jet of each process is matched to (``ttbar``: top jets with images, the
#: anomalies of ``configs/sample/anomaly_jets.yaml``).
_TRUTH = {"wprime": "w", "ttbar": "top", "qcd": None}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    radius: float = 0.8,
    pt_min: float = 250.0,
    pt_max: float = 300.0,
    max_abs_eta: float = 2.0,
    mass_window: Sequence[float] | None = None,
    pthat_min: float = 170.0,
    pthat_max: float = 400.0,
    wprime_mass: float = 600.0,
    mpi: bool = False,
    contained: bool = True,
    max_constituents: int = 100,
    npix: int = 25,
    image_extent: float = 1.25,
    centre: bool = True,
    rotate: bool = True,
    flip: bool = True,
    subjet_radius: float = 0.3,
    axes: str = "KT_Axes",
    detector: dict | None = None,
    mu: float = 0.0,
    pool_size: int = 200,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events of one process and return the kept W-tagging jets.

    Parameters
    ----------
    seed, n_events
        Pythia seed and number of generated events.
    process
        ``"wprime"`` (signal, matched W jets), ``"ttbar"`` (matched top jets: all-hadronic ttbar,
        the top and its three quarks within ``radius``) or ``"qcd"`` (background, two leading jets).
    radius, pt_min, pt_max, max_abs_eta, mass_window
        Anti-kT radius and the jet window (``mass_window = [low, high]`` GeV or None).
    pthat_min, pthat_max, mpi, max_constituents, detector
        Generation and storage options (:class:`~hepml.generate.samples.jets.JetWindow`; the
        pT-hat window applies to the QCD generation only).
    mu, pool_size
        Pile-up: mean number of minimum-bias events overlaid on each event and the events
        of the pool they are drawn from (:class:`~hepml.generate.samples.jets.JetWindow`).
    wprime_mass
        W' mass (GeV).
    contained
        Signal only: require the W's (top's) decay quarks within ``radius`` of the jet axis too
        (with False, only the W itself; partially contained jets then fill the low-mass side).
    npix, image_extent
        Image pixels per side and half-width in eta and phi (0.1 x 0.1 pixels by default).
    centre, rotate, flip
        Image preprocessing: centre on the leading kT subjet (else on the jet axis); rotate the
        second subjet straight below it; put the harder half on the right.
    subjet_radius
        Radius of the kT subjets used by the preprocessing.
    axes
        N-subjettiness axes (:data:`hepml.physics.substructure.AXES`).

    Returns
    -------
    dict
        The columns of the module docstring, one row per kept jet.
    """
    if process not in _TRUTH:
        raise ValueError(f"jet-image process must be one of {sorted(_TRUTH)}, got {process!r}")
    window = JetWindow(
        radius, pt_min, pt_max, max_abs_eta=max_abs_eta, mass_window=mass_window,
        pthat_min=pthat_min, pthat_max=pthat_max, mpi=mpi, max_constituents=max_constituents,
        detector=detector, mu=mu, pool_size=pool_size,
    )  # fmt: skip
    signal = process != "qcd"
    jets, _ = generate_jets(
        seed, n_events, process, window, truth=_TRUTH[process], require_match=signal,
        contain_prongs=contained, wprime_mass=wprime_mass,
    )  # fmt: skip
    counts = jets["n_const"]
    subjets = leading_subjets(*constituent_p4(jets), counts, n=2, radius=subjet_radius)
    eta0, phi0 = jets["eta"], jets["phi"]
    if centre:
        lead = np.isfinite(subjets.eta[:, 0])
        eta0 = np.where(lead, subjets.eta[:, 0], eta0)
        phi0 = np.where(lead, subjets.phi[:, 0], phi0)
    images = make_images(
        jets["const_pt"], jets["const_eta"], jets["const_phi"], counts, eta0, phi0,
        eta2=subjets.eta[:, 1] if rotate else None, phi2=subjets.phi[:, 1] if rotate else None,
        npix=npix, extent=image_extent, flip_images=flip,
    )  # fmt: skip
    out = output_columns(jets, ("pt", "eta", "phi", "m"))
    out |= nsubjettiness_columns(jets, radius, axes, ratios=((2, 1),))
    n_jets = counts.size
    out["image"] = ak.unflatten(images.reshape(-1), np.full(n_jets, npix * npix, np.int64))
    out["image_npix"] = np.full(n_jets, npix, np.int32)
    return out
