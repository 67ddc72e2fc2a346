"""Hadronic taus, their truth and their reconstructed jets, from a batch of Pythia events.

The functions work on a whole ``pythia.nextBatch(n)`` awkward array at once: the event records
are flattened into numpy arrays with global particle indices and every step (finding the taus,
following their decay chains, the detector response, clustering and matching) is vectorised.
This is faster than a Python loop over ``pythia.event``: nextBatch plus this analysis cost
about 10 % on top of the generation itself (0.1 ms per event for the analysis).

Definitions
-----------
* **Truth tau**: the last copy of a tau (its daughters are not taus) whose first copy's mother is
  a Z (23) or a Higgs (25); this drops taus from hadron decays (D_s -> tau nu).
* **Hadronic**: none of the last copy's direct daughters is an electron or a muon (pi0 Dalitz
  decays put electrons among the final-state products of hadronic taus, so the final state
  cannot be used).
* **Visible**: the sum of the tau's final-state descendants except neutrinos (unsmeared), the
  **neutrinos** the sum of the final-state neutrinos among them.
* ``n_prongs``: charged final-state descendants that are not decay products of a pi0 (Dalitz
  electrons) or of a K0_S (displaced pi+ pi-); always odd by charge conservation.
* ``n_pi0``: pi0 descendants of the tau that do not come from a K0_S decay.
* ``decay_mode``: HPS convention ``5 * (n_prongs - 1) + min(n_pi0, 4)``: 0 = 1 prong, 1-4 =
  1 prong + pi0s, 10 = 3 prongs, 11-14 = 3 prongs + pi0s (20+ for 5 prongs).
* **Jet**: anti-kT jets of all reconstructed particles of the event (``DetectorResponse``); the
  tau's jet is the closest jet within ``match_dr`` of the visible tau direction.
* **Pile-up** (optional, a ``pool``): ``Poisson(mu)`` minimum-bias events
  (:mod:`hepml.generate.pileup`) are added to the event's final-state particles before the
  detector and the clustering; they have no truth ancestry, so the truth (tau, visible, neutrinos,
  prongs) is that of the hard event. Two columns are then added (:data:`PILEUP_COLUMNS`):
  ``n_pileup`` (overlaid events) and the constituent flag ``const_pileup`` (1: from pile-up).
"""

from __future__ import annotations

from collections.abc import Callable

import awkward as ak
import numpy as np

from hepml.generate.clustering import cluster_antikt
from hepml.generate.detector import DetectorResponse
from hepml.generate.pileup import MinBiasPool, overlay_flat
from hepml.generate.record import FlatParticles, flatten_particles, label_descendants
from hepml.physics.kinematics import delta_phi, delta_r, ptetaphim_to_pxpypze, pxpypze_to_ptetaphim

__all__ = [
    "CONSTITUENT_COLUMNS",
    "PILEUP_COLUMNS",
    "SCALAR_COLUMNS",
    "analyse_batch",
    "boson_taus",
    "empty_columns",
]

SCALAR_COLUMNS = {
    "tau_pt": np.float32,
    "tau_eta": np.float32,
    "tau_phi": np.float32,
    "vis_pt": np.float32,
    "vis_eta": np.float32,
    "vis_phi": np.float32,
    "vis_m": np.float32,
    "jet_pt": np.float32,
    "jet_eta": np.float32,
    "jet_phi": np.float32,
    "jet_m": np.float32,
    "nu_pt": np.float32,
    "nu_eta": np.float32,
    "nu_phi": np.float32,
    "n_prongs": np.int32,
    "n_pi0": np.int32,
    "decay_mode": np.int32,
    "process": np.int32,
    "weight": np.float32,
    "n_const": np.int32,
}
CONSTITUENT_COLUMNS = {
    "const_pt": np.float32,
    "const_eta": np.float32,
    "const_phi": np.float32,
    "const_e": np.float32,
    "const_charge": np.int32,
    "const_deta": np.float32,
    "const_dphi": np.float32,
}

#: Columns added with pile-up: ``n_pileup`` per row, ``const_pileup`` per constituent (0/1).
PILEUP_COLUMNS = {"n_pileup": np.int32, "const_pileup": np.int32}

_NEUTRINOS = (12, 14, 16)
_BOSONS = (23, 25)


def empty_columns(pileup: bool = False) -> dict[str, np.ndarray | ak.Array]:
    """Columns with zero rows and the dtypes of :func:`analyse_batch`'s output (with
    :data:`PILEUP_COLUMNS` when ``pileup``)."""
    columns: dict[str, np.ndarray | ak.Array] = {
        name: np.zeros(0, dtype) for name, dtype in SCALAR_COLUMNS.items()
    }
    constituents = dict(CONSTITUENT_COLUMNS)
    if pileup:
        columns["n_pileup"] = np.zeros(0, PILEUP_COLUMNS["n_pileup"])
        constituents["const_pileup"] = PILEUP_COLUMNS["const_pileup"]
    for name, dtype in constituents.items():
        columns[name] = ak.unflatten(np.zeros(0, dtype), np.zeros(0, np.int64))
    return columns


def _propagate(mother: np.ndarray, seed: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Flags ``members`` whose ancestry (via ``mother``) reaches a ``seed`` particle.

    ``seed`` is a boolean array over all particles; it is true for the particles whose
    descendants are flagged. Mothers precede daughters, so a few vectorised passes converge.
    """
    flag = np.zeros(mother.shape[0], dtype=bool)
    mothers = mother[members]
    valid = mothers >= 0
    safe = np.where(valid, mothers, 0)
    while True:
        new = valid & (seed[safe] | flag[safe])
        if np.array_equal(new, flag[members]):
            return flag
        flag[members] = new


def boson_taus(particles: FlatParticles) -> tuple[np.ndarray, np.ndarray]:
    """The truth taus of the module docstring before the hadronic requirement: the last copies
    of the taus whose first copy comes from a Z or a Higgs, and whether each decays hadronically
    (no electron or muon among its direct daughters)."""
    absid = np.abs(particles.pid)
    candidates = np.flatnonzero((absid == 15) & (particles.daughter1 >= 0))
    last = candidates[absid[particles.daughter1[candidates]] != 15]
    first_mother = particles.mother[particles.first_copy(last)]
    last = last[(first_mother >= 0) & np.isin(absid[np.maximum(first_mother, 0)], _BOSONS)]
    owner, daughters = particles.daughters(last)
    lepton = np.isin(absid[daughters], (11, 13))
    return last, np.bincount(owner, weights=lepton, minlength=last.size) == 0


def _sum_by(label: np.ndarray, mask: np.ndarray, values: tuple[np.ndarray, ...], n: int):
    return tuple(np.bincount(label[mask], weights=v[mask], minlength=n) for v in values)


def analyse_batch(
    batch: ak.Array,
    charge_of: Callable[[np.ndarray], np.ndarray],
    detector: DetectorResponse,
    rng: np.random.Generator,
    process: int,
    jet_radius: float = 0.4,
    jet_min_pt: float = 15.0,
    match_dr: float = 0.2,
    tau_min_pt: float = 20.0,
    tau_max_eta: float = 2.3,
    pool: MinBiasPool | None = None,
    mu: float = 0.0,
) -> tuple[dict[str, np.ndarray | ak.Array], int]:
    """Rows of hadronic taus with a matched jet from a batch of Pythia events.

    Parameters
    ----------
    batch
        Output of ``pythia.nextBatch(n)`` (field ``prt`` with ``id, status, mother1, daughter1,
        daughter2, p``).
    charge_of
        Maps an array of PDG ids to electric charges.
    detector
        Detector response applied to all stable particles of the events.
    rng
        Source of the detector's randomness.
    process
        Process code written to the ``process`` column.
    jet_radius, jet_min_pt
        Anti-kT radius and minimum jet pT (GeV).
    match_dr
        Maximum Delta R between the jet and the visible tau.
    tau_min_pt, tau_max_eta
        Selection on the matched jet's pT (GeV) and ``|eta|``.
    pool, mu
        Pile-up: overlay ``Poisson(mu)`` events of ``pool`` on every event (None: no pile-up,
        and no :data:`PILEUP_COLUMNS`).

    Returns
    -------
    columns : dict
        The columns listed in :data:`SCALAR_COLUMNS` and :data:`CONSTITUENT_COLUMNS` (and
        :data:`PILEUP_COLUMNS` with a ``pool``), one row per kept tau, in the order of the events
        and of the taus in each event record.
    n_events : int
        Number of events in the batch.
    """
    rec = flatten_particles(batch)
    n_events, event, pid = rec.n_events, rec.event, rec.pid
    px, py, pz, e = rec.px, rec.py, rec.pz, rec.e
    final = rec.status > 0
    absid = np.abs(pid)
    neutrino = np.isin(absid, _NEUTRINOS)
    charge = charge_of(pid)

    # truth: taus, their visible products and neutrinos
    candidates, hadronic = boson_taus(rec)
    taus = candidates[hadronic]
    n_taus = taus.size
    label = label_descendants(rec.mother, taus)
    members = np.flatnonzero(label >= 0)
    from_k0s = _propagate(rec.mother, absid == 310, members)
    from_pi0 = _propagate(rec.mother, absid == 111, members)
    visible = final & (label >= 0) & ~neutrino
    invisible = final & (label >= 0) & neutrino
    vis_p4 = _sum_by(label, visible, (px, py, pz, e), n_taus)
    nu_p4 = _sum_by(label, invisible, (px, py, pz, e), n_taus)
    prong = visible & (charge != 0) & ~from_k0s & ~from_pi0
    n_prongs = np.bincount(label[prong], minlength=n_taus)
    n_pi0 = np.bincount(label[(absid == 111) & (label >= 0) & ~from_k0s], minlength=n_taus)

    # detector response (with pile-up overlaid) and jets
    stable = np.flatnonzero(final)
    pt, eta, phi, m = pxpypze_to_ptetaphim(px[stable], py[stable], pz[stable], e[stable])
    part_event, part_pid, part_charge = event[stable], pid[stable], charge[stable]
    if pool is not None:
        fields = {"pt": pt, "eta": eta, "phi": phi, "m": m, "charge": part_charge, "pid": part_pid}
        part_event, fields, part_pileup, n_pileup = overlay_flat(
            part_event, fields, n_events, mu, rng, pool
        )
        pt, eta, phi, m, part_charge, part_pid = fields.values()
    rpt, reta, rphi, rm, keep = detector.apply(
        pt, eta, phi, m, part_charge, part_pid == 22, rng,
        invisible=np.isin(np.abs(part_pid), _NEUTRINOS),
    )  # fmt: skip
    rpt, reta, rphi, rm = rpt[keep], reta[keep], rphi[keep], rm[keep]
    rpx, rpy, rpz, re = ptetaphim_to_pxpypze(rpt, reta, rphi, rm)
    reco_counts = np.bincount(part_event[keep], minlength=n_events)
    jets, constituents = cluster_antikt(
        *(ak.unflatten(v, reco_counts) for v in (rpx, rpy, rpz, re)), jet_radius, jet_min_pt
    )
    jet_counts = ak.to_numpy(ak.num(jets)).astype(np.int64)
    jet_pt, jet_eta, jet_phi, jet_m = pxpypze_to_ptetaphim(
        *(ak.to_numpy(ak.flatten(jets[f])) for f in ("px", "py", "pz", "E"))
    )

    # matching: the closest jet within match_dr of the visible tau
    vis_pt, vis_eta, vis_phi, vis_m = pxpypze_to_ptetaphim(*vis_p4)
    tau_event = event[taus]
    n_cand = jet_counts[tau_event]
    owner = np.repeat(np.arange(n_taus), n_cand)
    first_jet = (np.cumsum(jet_counts) - jet_counts)[tau_event]
    cand = (
        np.repeat(first_jet, n_cand)
        + np.arange(owner.size)
        - np.repeat(np.cumsum(n_cand) - n_cand, n_cand)
    )
    dr = delta_r(jet_eta[cand], jet_phi[cand], vis_eta[owner], vis_phi[owner])
    order = np.lexsort((dr, owner))
    best = np.full(n_taus, -1, dtype=np.int64)
    best_dr = np.full(n_taus, np.inf)
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if owner.size else order
    best[owner[first]] = cand[first]
    best_dr[owner[first]] = dr[first]
    matched = best_dr < match_dr
    if jet_pt.size:
        safe = np.maximum(best, 0)
        kept = matched & (jet_pt[safe] > tau_min_pt) & (np.abs(jet_eta[safe]) < tau_max_eta)
    else:
        kept = np.zeros(n_taus, dtype=bool)

    sel, jet = np.flatnonzero(kept), best[kept]
    tau_pt, tau_eta, tau_phi, _ = pxpypze_to_ptetaphim(
        px[taus[sel]], py[taus[sel]], pz[taus[sel]], e[taus[sel]]
    )
    nu_pt, nu_eta, nu_phi, _ = pxpypze_to_ptetaphim(*(v[sel] for v in nu_p4))
    prongs = n_prongs[sel]
    pi0s = n_pi0[sel]
    raw: dict[str, np.ndarray] = {
        "tau_pt": tau_pt,
        "tau_eta": tau_eta,
        "tau_phi": tau_phi,
        "vis_pt": vis_pt[sel],
        "vis_eta": vis_eta[sel],
        "vis_phi": vis_phi[sel],
        "vis_m": vis_m[sel],
        "jet_pt": jet_pt[jet],
        "jet_eta": jet_eta[jet],
        "jet_phi": jet_phi[jet],
        "jet_m": jet_m[jet],
        "nu_pt": nu_pt,
        "nu_eta": nu_eta,
        "nu_phi": nu_phi,
        "n_prongs": prongs,
        "n_pi0": pi0s,
        "decay_mode": 5 * (prongs - 1) + np.minimum(pi0s, 4),
        "process": np.full(sel.size, process),
        "weight": np.ones(sel.size),
    }

    # constituents of the matched jets, by decreasing pT
    per_jet = ak.flatten(constituents, axis=1)[jet] if sel.size else None
    n_const = ak.to_numpy(ak.num(per_jet)) if per_jet is not None else np.zeros(0, np.int64)
    reco_first = (np.cumsum(reco_counts) - reco_counts)[tau_event[sel]]
    positions = (
        ak.to_numpy(ak.flatten(per_jet)).astype(np.int64) + np.repeat(reco_first, n_const)
        if per_jet is not None
        else np.zeros(0, np.int64)
    )
    const_flat = {
        "const_pt": rpt[positions],
        "const_eta": reta[positions],
        "const_phi": rphi[positions],
        "const_e": re[positions],
        "const_charge": part_charge[keep][positions],
    }
    owner_const = np.repeat(np.arange(sel.size), n_const)
    # position relative to the jet axis (what a network should see rather than absolute angles)
    const_flat["const_deta"] = const_flat["const_eta"] - raw["jet_eta"][owner_const]
    const_flat["const_dphi"] = delta_phi(const_flat["const_phi"], raw["jet_phi"][owner_const])
    order = np.lexsort((-const_flat["const_pt"], owner_const))
    columns: dict[str, np.ndarray | ak.Array] = {
        name: np.asarray(raw[name], dtype=dtype)
        for name, dtype in SCALAR_COLUMNS.items()
        if name != "n_const"
    }
    columns["n_const"] = n_const.astype(SCALAR_COLUMNS["n_const"])
    constituents = dict(CONSTITUENT_COLUMNS)
    if pool is not None:
        columns["n_pileup"] = n_pileup[tau_event[sel]].astype(PILEUP_COLUMNS["n_pileup"])
        const_flat["const_pileup"] = part_pileup[keep][positions]
        constituents["const_pileup"] = PILEUP_COLUMNS["const_pileup"]
    for name, dtype in constituents.items():
        values = const_flat[name][order].astype(dtype)
        columns[name] = ak.unflatten(values, n_const.astype(np.int64))
    return columns, n_events
