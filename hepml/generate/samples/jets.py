"""Generation shared by the jet samples (W tagging, top tagging, quark/gluon).

:func:`generate_jets` creates its own Pythia 8 (13 TeV) from a channel's settings, generates
events in batches with ``pythia.nextBatch`` and analyses each batch vectorised (the event records
flattened to numpy, by :mod:`hepml.generate.record`; measured: nextBatch plus
flattening costs 2.0 ms per QCD event, ``pythia.next()`` plus a Python loop over the record 3.3
ms). Per batch:

1. **Truth** objects per event, by ``truth``: ``"w"`` the last copy of each W decaying to quarks,
   with its two quarks as prongs; ``"top"`` the last copy of each top whose W decays to quarks,
   with the b and the W's two quarks (first copies, right after the decay) as prongs;
   ``"parton"`` the outgoing quarks and gluons of the hard process (status -23).
2. **Pile-up** (``mu > 0``): ``Poisson(mu)`` minimum-bias events from a pool generated once per
   :func:`generate_jets` call (``pool_size`` events, MPI on, a seed derived from the chunk's; see
   :mod:`hepml.generate.pileup`) are added to each event's final-state particles. They have no
   truth ancestry: the truth objects come from the hard event only.
3. **Detector**: all visible final-state particles (neutrinos dropped) pass the parametric
   :class:`~hepml.generate.detector.DetectorResponse`.
4. **Jets**: anti-kT (E scheme) of all reconstructed particles of the batch in one FastJet call.
5. **Selection**: among the ``n_leading`` hardest jets of each event, those inside the window in
   pT, ``|eta|`` (or ``|y|``) and, optionally, mass.
6. **Matching**: the closest truth object within ``radius`` of the jet axis whose prongs all lie
   within ``radius`` too (``contain_prongs``); with ``require_match`` unmatched jets are dropped.
7. **Constituents** of the kept jets sorted by decreasing pT and truncated to
   ``max_constituents`` (the jet four-vector stays the sum of all its constituents).

With ``mu > 0`` the output has two more columns: ``n_pileup`` per jet (minimum-bias events
overlaid on its event) and the constituent flag ``pileup`` (1: from an overlaid event). With
``mu = 0`` they are absent and the output is the same as without pile-up support, so the column
set is fixed by the configuration.

Event generation is unweighted (no pT-hat bias), so the rows need no weight. A pT-hat window
(2 -> 2 processes) skips events unlikely to give a kept jet, but not only those: initial-state
radiation kicks the hard system, so many window jets come from pT-hat well below the window.
Measured (Pythia 8.317, MPI off; fraction of the jets in the window, generated with a much wider
pT-hat range, whose pT-hat lies inside; +-0.02 to 0.04):

=============================  =================  ===========================
jets                           "slightly below"   default window (coverage)
=============================  =================  ===========================
QCD, R=0.8, 250-300 GeV        230-330: 0.71      170-400: 0.96
QCD, R=0.8, 550-650 GeV        500-750: 0.73      350-800: 0.97
top, R=0.8, 550-650 GeV        500-700: 0.74      350-800: 0.91
Z+jet, R=0.4, 500-550 GeV      450-650: 0.83      350-750: 0.96
QCD, R=0.4, 500-550 GeV        450-650: 0.71      350-750: 0.89
=============================  =================  ===========================

The jets a tight window drops (hard initial-state radiation) differ: for QCD R=0.4 jets their
gluon fraction is 0.63 against 0.49, for QCD R=0.8 jets at 550-650 GeV their median mass 72
against 65 GeV, so a tight window shifts the kept sample's medians by 1-3 % and the dijet gluon
fraction by 3 points. The builders' defaults use the wide windows, which cost a factor 2-6 in
kept jets per CPU-second (still 40-90 jets per CPU-second); pass ``pthat_min``/``pthat_max`` for
the tight ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepml.generate.clustering import cluster_antikt, clustering_trees
from hepml.generate.detector import DetectorResponse
from hepml.generate.pileup import MinBiasPool, cached_pool, overlay_flat
from hepml.generate.pythia import MAX_SEED, make_pythia
from hepml.generate.record import charge_lookup, flatten_particles
from hepml.physics.kinematics import delta_phi, delta_r, ptetaphim_to_pxpypze, pxpypze_to_ptetaphim
from hepml.physics.substructure import nsubjettiness, tau_ratio

logger = logging.getLogger(__name__)

__all__ = [
    "CHANNELS",
    "CONSTITUENTS",
    "CONSTITUENT_FIELDS",
    "JET_FIELDS",
    "JetWindow",
    "PILEUP_FIELDS",
    "TREES",
    "constituent_p4",
    "generate_jets",
    "nsubjettiness_columns",
    "output_columns",
    "pythia_settings",
]

_HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_INVISIBLE_Z = ("WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 12 14 16")
#: Pythia settings of each channel (on top of 13 TeV beams, MPI and pT-hat settings).
CHANNELS: dict[str, tuple[str, ...]] = {
    "qcd": ("HardQCD:all = on",),
    "wprime": (
        "NewGaugeBoson:ffbar2Wprime = on",
        "Wprime:coup2WZ = 1.0",
        "34:onMode = off",
        "34:onIfAll = 23 24",
        *_HADRONIC_W,
        *_INVISIBLE_Z,
    ),
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_HADRONIC_W),
    "zjet": (
        "WeakBosonAndParton:qqbar2gmZg = on",
        "WeakBosonAndParton:qg2gmZq = on",
        *_INVISIBLE_Z,
    ),
}
#: Per-jet columns of :func:`generate_jets` (``truth_pdgid`` 0 and ``truth_dr`` inf: unmatched;
#: ``pthat``: the event's hard-process pT).
JET_FIELDS = ("pt", "eta", "y", "phi", "m", "truth_pdgid", "truth_dr", "pthat")
#: Per-constituent columns (flat arrays); ``deta``/``dphi`` are relative to the jet axis.
CONSTITUENT_FIELDS = ("pt", "eta", "phi", "e", "px", "py", "pz", "deta", "dphi", "charge", "pid")
#: Constituent fields the samples write as ``const_<field>`` (:func:`output_columns`).
CONSTITUENTS = ("pt", "eta", "phi", "e", "px", "py", "pz", "deta", "dphi", "charge", "pid")
#: Reclusterings of each jet's written constituents stored as ``tree_<algorithm>_left/right``
#: (:func:`hepml.generate.clustering.clustering_trees`: the jet's clustering history).
TREES = ("kt", "antikt")
#: Columns added with pile-up (``mu > 0``): ``n_pileup`` per jet, ``const_pileup`` (0/1).
PILEUP_FIELDS = ("n_pileup", "const_pileup")
_NEUTRINOS = (12, 14, 16)
_QUARKS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class JetWindow:
    """The jet window and generation options shared by the jet samples' builders.

    Parameters
    ----------
    radius
        Anti-kT radius, also the truth-matching radius.
    pt_min, pt_max, max_abs_eta, max_abs_rapidity, mass_window
        Jet window: pT (GeV), ``|eta|``, ``|y|`` and ``mass_window = [low, high]`` (GeV); None:
        no cut on that variable.
    pthat_min, pthat_max
        pT-hat window of the 2 -> 2 processes (ignored by the 2 -> 1 W'); see the module
        docstring for the share of window jets it keeps.
    mpi
        Multiparton interactions (5-10 times slower when on).
    max_constituents
        Constituents stored per jet (the hardest; the substructure and images use these).
    detector
        Keyword arguments of :class:`~hepml.generate.detector.DetectorResponse` (its defaults
        when None).
    mu
        Mean number of minimum-bias events overlaid on each event (0: no pile-up).
    pool_size
        Minimum-bias events generated per :func:`generate_jets` call and sampled (with
        replacement) for the overlay; only with ``mu > 0``.
    """

    radius: float
    pt_min: float
    pt_max: float
    max_abs_eta: float | None = None
    max_abs_rapidity: float | None = None
    mass_window: Sequence[float] | None = None
    pthat_min: float | None = None
    pthat_max: float | None = None
    mpi: bool = False
    max_constituents: int = 100
    detector: dict | None = None
    mu: float = 0.0
    pool_size: int = 200


def pythia_settings(
    channel: str,
    pthat_min: float | None = None,
    pthat_max: float | None = None,
    mpi: bool = False,
    wprime_mass: float = 600.0,
) -> list[str]:
    """Pythia settings strings for a channel of :data:`CHANNELS`.

    ``pthat_min``/``pthat_max`` bound the hard process's pT (2 -> 2 processes; ignored by the
    2 -> 1 W'); ``wprime_mass`` is the W' pole mass (GeV) of ``"wprime"``.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; choose from {sorted(CHANNELS)}")
    settings = ["Beams:eCM = 13000", f"PartonLevel:MPI = {'on' if mpi else 'off'}"]
    settings += CHANNELS[channel]
    if channel == "wprime":
        settings.append(f"34:m0 = {float(wprime_mass)}")
    else:
        if pthat_min is not None:
            settings.append(f"PhaseSpace:pTHatMin = {float(pthat_min)}")
        if pthat_max is not None:
            settings.append(f"PhaseSpace:pTHatMax = {float(pthat_max)}")
    return settings


def _last_copies(pid: np.ndarray, daughter1: np.ndarray, absid: int) -> np.ndarray:
    """Indices of particles with ``|id| == absid`` whose first daughter is not a copy."""
    cand = np.flatnonzero((np.abs(pid) == absid) & (daughter1 >= 0))
    return cand[pid[daughter1[cand]] != pid[cand]]


def _follow_copies(index: np.ndarray, pid: np.ndarray, daughter1: np.ndarray) -> np.ndarray:
    """From each particle, walk down its chain of recoil copies to the last one."""
    index = index.copy()
    while index.size:
        down = daughter1[index]
        move = (down >= 0) & (pid[np.maximum(down, 0)] == pid[index])
        if not move.any():
            break
        index = np.where(move, down, index)
    return index


def _truth(kind: str | None, pid, status, d1, d2) -> tuple[np.ndarray, np.ndarray]:
    """Truth objects (indices) and their prongs (``[n, k]`` indices, k = 0, 2 or 3)."""
    absid = np.abs(pid)
    if kind is None:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.int64)
    if kind == "parton":
        objects = np.flatnonzero((status == -23) & ((absid <= 6) | (absid == 21)))
        return objects, np.zeros((objects.size, 0), np.int64)
    if kind == "w":
        w = _last_copies(pid, d1, 24)
        w = w[np.isin(absid[d1[w]], _QUARKS) & np.isin(absid[d2[w]], _QUARKS)]
        return w, np.stack([d1[w], d2[w]], axis=1)
    if kind == "top":
        top = _last_copies(pid, d1, 6)
        first, second = d1[top], d2[top]
        w_first = np.where(absid[first] == 24, first, second)
        b = np.where(absid[first] == 24, second, first)
        w = _follow_copies(w_first, pid, d1)
        hadronic = np.isin(absid[d1[w]], _QUARKS) & np.isin(absid[d2[w]], _QUARKS)
        prongs = np.stack([b, d1[w], d2[w]], axis=1)
        return top[hadronic], prongs[hadronic]
    raise ValueError(f"unknown truth kind {kind!r}; use 'w', 'top', 'parton' or None")


def _pairs(nb: np.ndarray, event_a: np.ndarray, first_b: np.ndarray):
    """All (a, b) pairs of the same event: position in ``event_a`` and global index of b.

    ``nb`` and ``first_b`` are per event the number of b's and the index of the first one.
    """
    nb_a = nb[event_a]
    owner = np.repeat(np.arange(event_a.size), nb_a)
    k = np.arange(owner.size) - np.repeat(np.cumsum(nb_a) - nb_a, nb_a)
    return owner, first_b[event_a][owner] + k


def _sorted_rank(group: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by group then decreasing key, and each element's rank within its group."""
    order = np.lexsort((-key, group))
    sorted_group = group[order]
    start = np.searchsorted(sorted_group, sorted_group, side="left")
    rank = np.empty(group.size, np.int64)
    rank[order] = np.arange(group.size) - start
    return order, rank


def _analyse(
    batch, charge_of, detector, rng, sel: dict, pool: MinBiasPool | None = None
) -> dict[str, np.ndarray]:
    rec = flatten_particles(batch)
    n_events, event, pid, status = rec.n_events, rec.event, rec.pid, rec.status
    d1, d2 = rec.daughter1, rec.daughter2
    px, py, pz, e = rec.px, rec.py, rec.pz, rec.e
    _, p_eta, p_phi, _ = pxpypze_to_ptetaphim(px, py, pz, e)

    # stable particles (with pile-up overlaid), detector response and anti-kT jets of the batch
    stable = np.flatnonzero(status > 0)
    part_event, part_pid = event[stable], pid[stable]
    charge = charge_of(part_pid)
    pt, eta, phi, m = pxpypze_to_ptetaphim(px[stable], py[stable], pz[stable], e[stable])
    if pool is not None:
        fields = {"pt": pt, "eta": eta, "phi": phi, "m": m, "charge": charge, "pid": part_pid}
        part_event, fields, part_pileup, n_pileup = overlay_flat(
            part_event, fields, n_events, sel["mu"], rng, pool
        )
        pt, eta, phi, m, charge, part_pid = fields.values()
    invisible = np.isin(np.abs(part_pid), _NEUTRINOS)
    rpt, reta, rphi, rm, keep = detector.apply(
        pt, eta, phi, m, charge, part_pid == 22, rng, invisible=invisible
    )
    rpt, reta, rphi, rm, rcharge = rpt[keep], reta[keep], rphi[keep], rm[keep], charge[keep]
    rpid = part_pid[keep]
    rpx, rpy, rpz, re = ptetaphim_to_pxpypze(rpt, reta, rphi, rm)
    reco_counts = np.bincount(part_event[keep], minlength=n_events)
    jets, constituents = cluster_antikt(
        *(ak.unflatten(v, reco_counts) for v in (rpx, rpy, rpz, re)),
        sel["radius"],
        0.5 * sel["pt_min"],
    )
    jet_counts = ak.to_numpy(ak.num(jets)).astype(np.int64)
    jpx, jpy, jpz, je = (ak.to_numpy(ak.flatten(jets[f])) for f in ("px", "py", "pz", "E"))
    jet_pt, jet_eta, jet_phi, jet_m = pxpypze_to_ptetaphim(jpx, jpy, jpz, je)
    with np.errstate(divide="ignore", invalid="ignore"):
        jet_y = 0.5 * np.log((je + jpz) / (je - jpz))
    jet_event = np.repeat(np.arange(n_events), jet_counts)

    # selection window among the n_leading hardest jets of each event
    _, rank = _sorted_rank(jet_event, jet_pt)
    window = (rank < sel["n_leading"]) & (jet_pt > sel["pt_min"]) & (jet_pt < sel["pt_max"])
    if sel["max_abs_eta"] is not None:
        window &= np.abs(jet_eta) < sel["max_abs_eta"]
    if sel["max_abs_rapidity"] is not None:
        window &= np.abs(jet_y) < sel["max_abs_rapidity"]
    if sel["mass_window"] is not None:
        window &= (jet_m > sel["mass_window"][0]) & (jet_m < sel["mass_window"][1])
    cand = np.flatnonzero(window)

    # truth matching: closest object within R whose prongs are all within R
    objects, prongs = _truth(sel["truth"], pid, status, d1, d2)
    obj_counts = np.bincount(event[objects], minlength=n_events)
    owner, obj = _pairs(obj_counts, jet_event[cand], np.cumsum(obj_counts) - obj_counts)
    jet_of_pair = cand[owner]
    dr = delta_r(
        jet_eta[jet_of_pair], jet_phi[jet_of_pair], p_eta[objects[obj]], p_phi[objects[obj]]
    )
    for k in range(prongs.shape[1] if sel["contain_prongs"] else 0):
        prong = prongs[obj, k]
        dr_prong = delta_r(jet_eta[jet_of_pair], jet_phi[jet_of_pair], p_eta[prong], p_phi[prong])
        dr = np.where(dr_prong < sel["radius"], dr, np.inf)
    order, rank_pair = _sorted_rank(owner, -dr)
    best = (rank_pair == 0) & (dr < sel["radius"])
    truth_pdgid = np.zeros(cand.size, np.int64)
    truth_dr = np.full(cand.size, np.inf)
    truth_pdgid[owner[best]] = pid[objects[obj[best]]]
    truth_dr[owner[best]] = dr[best]
    kept = truth_pdgid != 0 if sel["require_match"] else np.ones(cand.size, bool)
    jet = cand[kept]
    out = {
        "pt": jet_pt[jet], "eta": jet_eta[jet], "y": jet_y[jet], "phi": jet_phi[jet],
        "m": jet_m[jet], "truth_pdgid": truth_pdgid[kept], "truth_dr": truth_dr[kept],
        "pthat": np.sqrt(ak.to_numpy(batch.info.pT2Hat))[jet_event[jet]],
    }  # fmt: skip

    # constituents of the kept jets, by decreasing pT, at most max_constituents
    per_jet = ak.flatten(constituents, axis=1)[jet]
    n_all = ak.to_numpy(ak.num(per_jet)).astype(np.int64)
    reco_first = (np.cumsum(reco_counts) - reco_counts)[jet_event[jet]]
    position = ak.to_numpy(ak.flatten(per_jet)).astype(np.int64) + np.repeat(reco_first, n_all)
    jet_index = np.repeat(np.arange(jet.size), n_all)
    order, rank = _sorted_rank(jet_index, rpt[position])
    order = order[rank[order] < sel["max_constituents"]]
    position, jet_index = position[order], jet_index[order]
    out["n_const"] = np.bincount(jet_index, minlength=jet.size)
    const = {
        "pt": rpt[position], "eta": reta[position], "phi": rphi[position], "e": re[position],
        "px": rpx[position], "py": rpy[position], "pz": rpz[position],
        "deta": reta[position] - out["eta"][jet_index],
        "dphi": delta_phi(rphi[position], out["phi"][jet_index]),
        "charge": rcharge[position], "pid": rpid[position],
    }  # fmt: skip
    if pool is not None:
        const["pileup"] = part_pileup[keep][position].astype(np.int32)
        out["n_pileup"] = n_pileup[jet_event[jet]]
    out.update({f"const_{name}": values for name, values in const.items()})
    return out


def generate_jets(
    seed: int,
    n_events: int,
    channel: str,
    window: JetWindow,
    *,
    n_leading: int = 2,
    truth: str | None = None,
    require_match: bool = False,
    contain_prongs: bool = True,
    wprime_mass: float = 600.0,
    batch_size: int = 250,
) -> tuple[dict[str, np.ndarray], int]:
    """Generate ``n_events`` events of one channel and return the selected jets.

    Parameters
    ----------
    seed
        Pythia seed (``1 <= seed <= 900,000,000``); the detector's numpy generator uses it too.
    n_events
        Events to generate (failed events are skipped by Pythia).
    channel
        Key of :data:`CHANNELS`.
    window
        Jet window, generation settings (:func:`pythia_settings`) and detector.
    n_leading
        Only the ``n_leading`` hardest jets of an event are candidates.
    truth, require_match
        Truth objects to match (``"w"``, ``"top"``, ``"parton"`` or None); drop unmatched jets.
    contain_prongs
        A match also needs the truth object's prongs (decay quarks) within ``radius``.
    wprime_mass
        W' pole mass (GeV) of ``"wprime"``.
    batch_size
        Events per ``nextBatch`` call (the records take ~0.2 MB per event).

    Returns
    -------
    columns : dict
        Per-jet arrays :data:`JET_FIELDS` and ``n_const``, and flat constituent arrays
        ``const_<field>`` for :data:`CONSTITUENT_FIELDS`, jet after jet; with ``window.mu > 0``
        also ``n_pileup`` and ``const_pileup`` (:data:`PILEUP_FIELDS`).
    n_events : int
        Events generated.
    """
    w = window
    settings = pythia_settings(channel, w.pthat_min, w.pthat_max, w.mpi, wprime_mass)
    pythia = make_pythia(settings, seed)
    response = DetectorResponse(**(w.detector or {}))
    rng = np.random.default_rng(seed)
    charge_of = charge_lookup(pythia)
    sel = {
        "radius": float(w.radius), "pt_min": float(w.pt_min), "pt_max": float(w.pt_max),
        "max_abs_eta": w.max_abs_eta, "max_abs_rapidity": w.max_abs_rapidity,
        "mass_window": None if w.mass_window is None else tuple(w.mass_window),
        "n_leading": int(n_leading), "truth": truth, "require_match": bool(require_match),
        "contain_prongs": bool(contain_prongs), "max_constituents": int(w.max_constituents),
        "mu": float(w.mu),
    }  # fmt: skip
    if n_events < 1:
        raise ValueError(f"n_events must be positive, got {n_events}")
    if w.mu < 0:
        raise ValueError(f"the mean pile-up mu must be >= 0, got {w.mu}")
    pool = None
    if w.mu > 0:
        pool_seed = int(np.random.SeedSequence([seed, 2]).generate_state(1)[0]) % MAX_SEED + 1
        pool = cached_pool(int(w.pool_size), pool_seed, response.eta_max)
    parts, generated, requested = [], 0, 0
    while requested < n_events:
        size = min(batch_size, n_events - requested)
        batch = pythia.nextBatch(size, "skip")
        generated += len(batch)
        requested += size
        parts.append(_analyse(batch, charge_of, response, rng, sel, pool))
        del batch
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    logger.debug("%s: %d events, %d jets kept", channel, generated, columns["pt"].size)
    return columns, generated


_CONST_DTYPES = {"charge": np.int32, "pid": np.int32, "pileup": np.int32}


def output_columns(
    columns: dict[str, np.ndarray],
    jet_fields: Sequence[str],
    const_fields: Sequence[str] = CONSTITUENTS,
) -> dict[str, np.ndarray | ak.Array]:
    """Rows for the runner: ``jet_<field>`` (float32), ``n_const`` and jagged ``const_<field>``.

    ``truth_pdgid`` is written as ``parton_pdgid`` (int32); ``charge`` and ``pid`` constituents
    are int32, the other constituent fields float32. With pile-up (``n_pileup`` in ``columns``)
    ``n_pileup`` (int32) and ``const_pileup`` (int32, 0/1) are added. The clustering history of
    each jet's written constituents, reclustered with each of :data:`TREES`, is written as jagged
    int32 ``tree_<algorithm>_left`` and ``tree_<algorithm>_right`` (``n_const - 1`` merges per jet;
    nodes ``0 .. n_const-1`` are the constituents in their written order, ``n_const + k`` the
    result of merge ``k``).
    """
    out: dict[str, np.ndarray | ak.Array] = {}
    for field in jet_fields:
        if field == "truth_pdgid":
            out["parton_pdgid"] = columns[field].astype(np.int32)
        else:
            out[f"jet_{field}"] = columns[field].astype(np.float32)
    counts = columns["n_const"].astype(np.int64)
    out["n_const"] = counts.astype(np.int32)
    if "n_pileup" in columns:
        out["n_pileup"] = columns["n_pileup"].astype(np.int32)
        const_fields = (*const_fields, "pileup")
    for field in const_fields:
        values = columns[f"const_{field}"].astype(_CONST_DTYPES.get(field, np.float32))
        out[f"const_{field}"] = ak.unflatten(values, counts)
    n_merges = np.maximum(counts - 1, 0)
    for algorithm in TREES:
        left, right = clustering_trees(*constituent_p4(columns), counts, algorithm)
        out[f"tree_{algorithm}_left"] = ak.unflatten(left, n_merges)
        out[f"tree_{algorithm}_right"] = ak.unflatten(right, n_merges)
    return out


def constituent_p4(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The flat constituent four-momenta ``(px, py, pz, e)`` of :func:`generate_jets`."""
    return tuple(columns[f"const_{f}"] for f in ("px", "py", "pz", "e"))


def nsubjettiness_columns(
    columns: dict[str, np.ndarray], radius: float, axes: str, ratios: Sequence[tuple[int, int]]
) -> dict[str, np.ndarray]:
    """``tau1, tau2, tau3`` and the ratios ``tau<n><m>`` (float32) of the stored constituents.

    N-subjettiness with beta = 1 and R0 = ``radius`` (:func:`hepml.physics.substructure.
    nsubjettiness`, ``axes`` one of its :data:`~hepml.physics.substructure.AXES`); ``ratios``
    are ``(n, m)`` pairs, e.g. ``(2, 1)`` for ``tau21``.
    """
    taus = nsubjettiness(
        *constituent_p4(columns), columns["n_const"], n_max=3, radius=radius, axes=axes
    )
    out = {f"tau{n}": taus[:, n - 1].astype(np.float32) for n in (1, 2, 3)}
    for n, m in ratios:
        out[f"tau{n}{m}"] = tau_ratio(taus, n, m).astype(np.float32)
    return out
