"""Di-tau events for MET regression: Z/gamma* -> tau tau and gg -> H(125) -> tau tau, one row per event.

Events are generated as for the tau sample (:mod:`hepml.generate.samples.taus`: 13 TeV, MPI off).
An event is kept when both taus of the boson have a reconstructed visible part with
``pT > vis_min_pt`` and ``|eta| < vis_max_eta`` and at least ``min_hadronic`` of them decay
hadronically. The default 1 keeps tau_h tau_h and tau_lep tau_h events (the visible part of a
leptonic tau is its lepton and photons), twice as many as tau_h tau_h alone (``min_hadronic=2``);
0 takes every decay. Yields with the defaults: about 10 % of Z and 25 % of H events.

Columns (GeV; tau 1 is the one with the larger reconstructed visible pT):

* ``true_met_px, true_met_py, true_met``: vector sum of the transverse momenta of **all**
  final-state neutrinos of the event (the target), ``nu{1,2}_px/py/pz``: the neutrinos of each tau.
* ``met_all_px/py``: minus the vector sum of all visible (non-neutrino) final-state particles with
  ``|eta| < met_eta_max``, unsmeared; equals the true MET when the acceptance is unbounded.
* ``met_charged_px/py``: minus the sum of the reconstructed tracks (``DetectorResponse``).
* ``met_calo_px/py``: calorimeter-like: every visible particle but muons deposits its energy (e and
  photons with the ECAL resolution, hadrons, charged ones included, with the HCAL resolution of
  ``DetectorResponse``) within ``|eta| < calo_eta_max``; deposits below ``calo_et_min`` are lost.
* ``met_{all,charged,calo,pu}``: the magnitudes of the four MET definitions below.
* ``met_pu_px/py``: the calorimeter MET with ``n_pu ~ Poisson(mu)`` minimum-bias events overlaid
  (a pool of ``pool_size`` events generated once per chunk with ``SoftQCD:nonDiffractive``, see
  :mod:`hepml.generate.pileup`; rotated and reflected copies) passing the same calorimeter.
* ``tau{1,2}_vis_pt/eta/phi/m``: reconstructed visible taus (sum of the tau's reconstructed
  particles, tracks and calorimeter deposits), ``tau{1,2}_pt/eta/phi`` the true taus,
  ``tau{1,2}_hadronic`` 1 for a hadronic decay.
* ``ditau_vis_pt/eta/phi, m_vis``: the visible di-tau system; ``m_col, x1_col, x2_col``: collinear
  mass and visible fractions (:func:`hepml.physics.met.collinear_mass`) with the MET named by
  ``collinear_met`` (default the calorimeter MET without pile-up), ``m_col_true`` with the true
  MET; -1 where the collinear solution is unphysical (a visible fraction outside (0, 1], or
  back-to-back taus, common for a Z at rest): about half of the events with the calorimeter MET,
  a fifth with the true MET. ``m_tautau``: the true di-tau mass.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import awkward as ak
import numpy as np

from hepml.generate.detector import DetectorResponse
from hepml.generate.pileup import MinBiasPool, overlay
from hepml.generate.pythia import MAX_SEED, make_pythia
from hepml.generate.record import flatten_batch, label_descendants
from hepml.generate.samples.tau_record import boson_taus
from hepml.generate.samples.taus import COMMON_SETTINGS, PROCESS_SETTINGS
from hepml.physics.kinematics import ptetaphim_to_pxpypze, pxpypze_to_ptetaphim
from hepml.physics.met import collinear_mass, missing_pt, visible_mass

logger = logging.getLogger(__name__)

__all__ = ["MET_DEFINITIONS", "build_chunk"]

MET_DEFINITIONS = ("all", "charged", "calo", "pu")
_NEUTRINOS = (12, 14, 16)
_BATCH_EVENTS = 250
_INT_COLUMNS = ("n_pu", "tau1_hadronic", "tau2_hadronic")


def _sums(index, weights, n):
    return tuple(np.bincount(index, weights=w, minlength=n) for w in weights)


def _analyse(record, response, calo, rng, cuts, pool_fn, mu, collinear_met):
    """Rows of one flattened batch (see the module docstring)."""
    n_ev, final, absid = record.n_events, record.status > 0, np.abs(record.pid)
    neutrino = np.isin(absid, _NEUTRINOS)
    taus, hadronic = boson_taus(record)
    label = label_descendants(record.mother, taus)
    p4 = (record.px, record.py, record.pz, record.e)

    nu = final & neutrino
    true_x, true_y = (-v for v in missing_pt(record.px[nu], record.py[nu], record.event[nu], n_ev))
    nu_tau = nu & (label >= 0)
    nu_p4 = _sums(label[nu_tau], (v[nu_tau] for v in p4[:3]), taus.size)
    vis = final & ~neutrino
    pt, eta, phi, m = pxpypze_to_ptetaphim(*(v[vis] for v in p4))
    inside = np.abs(eta) < cuts["met_eta_max"]
    met_all = missing_pt(record.px[vis][inside], record.py[vis][inside], record.event[vis][inside], n_ev)

    # particle-flow-like response: tracks and calorimeter deposits (visible taus, charged MET)
    charge, pid, event = record.charge[vis], record.pid[vis], record.event[vis]
    r = response.apply(pt, eta, phi, m, charge, pid == 22, rng)
    rp4 = ptetaphim_to_pxpypze(*r[:4])
    track = r[4] & (charge != 0)
    met_charged = missing_pt(rp4[0][track], rp4[1][track], event[track], n_ev)
    own = r[4] & (label[vis] >= 0)
    tau_p4 = _sums(label[vis][own], (v[own] for v in rp4), taus.size)
    # calorimeter: everything but muons as calorimeter deposits
    em = (pid == 22) | (np.abs(pid) == 11)
    c = calo.apply(pt, eta, phi, m, np.zeros_like(charge), em, rng, invisible=np.abs(pid) == 13)
    cp4 = ptetaphim_to_pxpypze(*c[:4])
    met_calo = missing_pt(cp4[0][c[4]], cp4[1][c[4]], event[c[4]], n_ev)

    # events with exactly two boson taus passing the cuts
    tau_pt, tau_eta, _, _ = pxpypze_to_ptetaphim(*tau_p4)
    good = (tau_pt > cuts["vis_min_pt"]) & (np.abs(tau_eta) < cuts["vis_max_eta"])
    tau_event = record.event[taus]
    n_taus = np.bincount(tau_event, minlength=n_ev)
    n_good = np.bincount(tau_event, weights=good, minlength=n_ev)
    n_had = np.bincount(tau_event, weights=hadronic, minlength=n_ev)
    sel = np.flatnonzero((n_taus == 2) & (n_good == 2) & (n_had >= cuts["min_hadronic"]))
    pairs = np.flatnonzero(np.isin(tau_event, sel)).reshape(-1, 2)  # taus of an event are adjacent
    swap = tau_pt[pairs[:, 1]] > tau_pt[pairs[:, 0]]
    first, second = np.where(swap, pairs[:, 1], pairs[:, 0]), np.where(swap, pairs[:, 0], pairs[:, 1])

    n_pu = np.zeros(sel.size, np.int64)
    met_pu = [met_calo[0][sel].copy(), met_calo[1][sel].copy()]
    if mu > 0 and sel.size:
        empty = ak.unflatten(ak.zip({f: np.zeros(0, np.float32) for f in ("pt", "eta", "phi", "m")}
                                    | {"pid": np.zeros(0, np.int32)}), np.zeros(sel.size, np.int64))
        pu, n_pu = overlay(empty, mu, rng, pool_fn())
        flat, owner = ak.flatten(pu), np.repeat(np.arange(sel.size), ak.to_numpy(ak.num(pu)))
        f = {k: ak.to_numpy(flat[k]).astype(float) for k in ("pt", "eta", "phi", "m")}
        pu_pid = ak.to_numpy(flat["pid"])
        q = calo.apply(f["pt"], f["eta"], f["phi"], f["m"], np.zeros(pu_pid.size),
                       (pu_pid == 22) | (np.abs(pu_pid) == 11), rng, invisible=np.abs(pu_pid) == 13)
        qp4 = ptetaphim_to_pxpypze(*q[:4])
        pu_x, pu_y = missing_pt(qp4[0][q[4]], qp4[1][q[4]], owner[q[4]], sel.size)
        met_pu[0] += pu_x
        met_pu[1] += pu_y

    mets = {"all": met_all, "charged": met_charged, "calo": met_calo}
    rows = {"true_met_px": true_x[sel], "true_met_py": true_y[sel],
            "true_met": np.hypot(true_x[sel], true_y[sel])}
    for key, met in mets.items():
        rows[f"met_{key}_px"], rows[f"met_{key}_py"] = met[0][sel], met[1][sel]
    rows["met_pu_px"], rows["met_pu_py"], rows["n_pu"] = met_pu[0], met_pu[1], n_pu
    for key in MET_DEFINITIONS:
        rows[f"met_{key}"] = np.hypot(rows[f"met_{key}_px"], rows[f"met_{key}_py"])
    v1, v2 = (tuple(v[i] for v in tau_p4) for i in (first, second))
    for n, (i, vis_p4) in enumerate(((first, v1), (second, v2)), start=1):
        for key, value in zip(("pt", "eta", "phi", "m"), pxpypze_to_ptetaphim(*vis_p4), strict=True):
            rows[f"tau{n}_vis_{key}"] = value
        true_p4 = [v[taus[i]] for v in p4]
        for key, value in zip(("pt", "eta", "phi"), pxpypze_to_ptetaphim(*true_p4)[:3], strict=True):
            rows[f"tau{n}_{key}"] = value
        rows[f"tau{n}_hadronic"] = hadronic[i]
        for key, value in zip(("px", "py", "pz"), (v[i] for v in nu_p4), strict=True):
            rows[f"nu{n}_{key}"] = value
    ditau = tuple(a + b for a, b in zip(v1, v2, strict=True))
    rows["ditau_vis_pt"], rows["ditau_vis_eta"], rows["ditau_vis_phi"], rows["m_vis"] = \
        pxpypze_to_ptetaphim(*ditau)
    met_x, met_y = (rows[f"met_{collinear_met}_{a}"] for a in ("px", "py"))
    rows["m_col"], rows["x1_col"], rows["x2_col"] = collinear_mass(v1, v2, met_x, met_y)
    rows["m_col_true"] = collinear_mass(v1, v2, rows["true_met_px"], rows["true_met_py"])[0]
    t1, t2 = ([v[taus[i]] for v in p4] for i in (first, second))
    rows["m_tautau"] = visible_mass(t1, t2)
    return {k: np.asarray(v, np.int32 if k in _INT_COLUMNS else np.float32) for k, v in rows.items()}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    min_hadronic: int = 1,
    vis_min_pt: float = 20.0,
    vis_max_eta: float = 2.3,
    met_eta_max: float = 4.9,
    calo_eta_max: float = 4.9,
    calo_et_min: float = 1.0,
    mu: float = 20.0,
    pool_size: int = 100,
    collinear_met: str = "calo",
    detector: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Generate ``n_events`` di-tau events of ``process`` (``"z"`` or ``"h"``); one row per kept
    event, columns as in the module docstring.

    ``min_hadronic, vis_min_pt, vis_max_eta`` select events, ``met_eta_max`` is the acceptance of
    ``met_all``, ``calo_eta_max, calo_et_min`` the calorimeter's, ``mu`` the mean pile-up and
    ``pool_size`` the minimum-bias events generated for it (only when ``mu > 0``; seeded from
    ``seed``), ``collinear_met`` one of :data:`MET_DEFINITIONS` for ``m_col``, ``detector``
    keyword arguments of :class:`~hepml.generate.detector.DetectorResponse`.
    """
    if process not in PROCESS_SETTINGS:
        raise ValueError(f"unknown di-tau process {process!r}: use one of {sorted(PROCESS_SETTINGS)}")
    if collinear_met not in MET_DEFINITIONS:
        raise ValueError(f"collinear_met must be one of {MET_DEFINITIONS}, got {collinear_met!r}")
    response = DetectorResponse(**dict(detector or {}))
    calo = DetectorResponse(**{**response.as_dict(), "eta_max": calo_eta_max,
                               "calo_pt_min": calo_et_min})
    cuts = {"min_hadronic": min_hadronic, "vis_min_pt": vis_min_pt, "vis_max_eta": vis_max_eta,
            "met_eta_max": met_eta_max}
    pythia = make_pythia([*COMMON_SETTINGS, *PROCESS_SETTINGS[process]], seed)
    rng = np.random.default_rng(seed)
    pool: list[MinBiasPool] = []

    def pool_fn() -> MinBiasPool:  # generated on first use only, with a seed of its own
        if not pool:
            pool_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]) % MAX_SEED + 1
            pool.append(MinBiasPool(pool_size, pool_seed, eta_max=calo_eta_max))
        return pool[0]

    blocks, requested = [], 0
    while requested < n_events:
        size = min(_BATCH_EVENTS, n_events - requested)
        record = flatten_batch(pythia.nextBatch(size, "skip"), pythia)
        blocks.append(_analyse(record, response, calo, rng, cuts, pool_fn, mu, collinear_met))
        requested += size
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
