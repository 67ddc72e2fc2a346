"""b, c and light jets with tracks and secondary vertices, for flavour tagging.

Processes (builder argument ``process``, Pythia 8 at 13 TeV): ``ttbar`` (``Top:gg2ttbar`` and
``Top:qqbar2ttbar``, all decays) and ``qcd`` (``HardQCD:all``, ``pTHatMin = pt_hat_min``; heavy
flavour from the hard process, flavour excitation and gluon splitting). Stable visible particles
except the leptons from W decays pass :class:`~hepml.generate.detector.DetectorResponse` and are
clustered into anti-kT R = 0.4 jets; a row is a jet with ``pT > jet_min_pt`` and
``|eta| < jet_max_eta``.

Flavour (hadron-based, as the LHC experiments; 0 light, 4 c, 5 b): from the weakly decaying b and
c hadrons (none of their daughters carries their heavy flavour), b before c.
``flavour`` is ATLAS's cone labelling: a hadron with ``pT > hadron_min_pt`` labels the closest jet
within ``Delta R < match_dr``. ``hadron_flavour`` is CMS's ghost association: every such hadron (any
pT) is clustered with the particles as a ghost of pT 1e-10 GeV, and a jet takes the heaviest
flavour among its ghosts; the two agree for ~99 % of the jets. ``hadron_pt`` is the pT of the
hardest hadron behind ``flavour`` (0 for light jets). A data config classifies with
``label: flavour``, ``label_values: [0, 4, 5]`` and ``classes: [light, c, b]``.

Tracks (``trk_``, sorted by decreasing pT): the jet's charged constituents produced within
``trk_max_rprod`` of the beam line. Impact parameters come from the true production vertex
(Pythia ``vProd``, mm; the primary vertex is the origin) propagated along a straight line (no
magnetic field) to the point of closest approach to the beam line: ``d0`` in the transverse plane,
``dz`` the z of that point. Both are smeared with ``sigma_d0 = 10 um (+) 30 um / pT[GeV]`` and
``sigma_dz = 30 um (+) 60 um / pT`` and carry the lifetime sign (positive when the point of
closest approach lies on the jet's side: ``sign(sin(phi_jet - phi_trk))`` for d0,
``sign(eta_jet - eta_trk)`` for dz); ``d0sig``/``dzsig`` divide by the resolution. Units: mm.

Secondary vertices (``sv_``, sorted by decreasing ``lxy_sig``): the true decay vertices of weakly
decaying b and c hadrons and of K0S and Lambda (the main source of secondary vertices in light
jets) with at least ``sv_min_tracks`` of the jet's tracks produced at them (within 1 um), with
``Lxy < sv_max_lxy`` and found with probability ``sv_efficiency``. The position is smeared by
``sv_res_xy`` per transverse coordinate and ``sv_res_z`` (scaled by ``sqrt(2 / n_tracks)``);
``lxy``/``l3d`` are the flight distances and ``*_sig`` their significances; ``mass`` and ``pt``
come from the vertex's tracks with the pion mass. This is an idealised vertex finder: no fake
vertices from random track combinations and no merged or split vertices.

Speed (one core, MPI on): ttbar about 150 events/s and 4.4 jets per event (650 jets/s), QCD with
``pTHatMin = 30`` about 165 events/s and 0.9 jets per event (150 jets/s); Pythia takes ~85 % of
the time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepml.generate.clustering import cluster_antikt
from hepml.generate.detector import DetectorResponse
from hepml.generate.pythia import make_pythia
from hepml.generate.record import FlatRecord, flatten_batch, label_descendants
from hepml.physics.kinematics import delta_phi, delta_r, ptetaphim_to_pxpypze, pxpypze_to_ptetaphim

logger = logging.getLogger(__name__)

__all__ = [
    "FLAVOUR_NAMES",
    "PROCESS_SETTINGS",
    "SV",
    "TRK",
    "Options",
    "build_chunk",
]

PROCESS_SETTINGS = {
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
    "qcd": ("HardQCD:all = on",),
}
TRK = ("pt", "deta", "dphi", "charge", "d0", "dz", "d0sig", "dzsig")
SV = ("lxy", "lxy_sig", "l3d", "l3d_sig", "mass", "ntrk", "pt", "deta", "dphi")
_INT = {"n_const", "n_trk", "n_sv", "flavour", "hadron_flavour"}
FLAVOUR_NAMES = {0: "light", 4: "c", 5: "b"}
_BATCH_EVENTS = 250
_PION_MASS = 0.13957
_V0 = (310, 3122)


@dataclass(frozen=True)
class Options:
    """Jet selection, flavour labelling and the track and vertex model (module docstring).

    Parameters
    ----------
    jet_radius, jet_min_pt, jet_max_eta
        Anti-kT radius and the jet selection (pT in GeV).
    match_dr, hadron_min_pt
        Hadron-to-jet Delta R and the minimum b/c hadron pT (GeV) of the flavour labelling.
    trk_max_rprod
        Maximum production radius (mm) of a track.
    d0_res, dz_res
        ``(a, b)`` of the impact-parameter resolutions ``a (+) b / pT[GeV]`` in mm.
    sv_res_xy, sv_res_z
        Secondary-vertex position resolution per transverse coordinate and along z (mm, for a
        two-track vertex; scaled by ``sqrt(2 / n_tracks)``).
    sv_efficiency, sv_min_tracks, sv_max_lxy
        Probability to find a vertex, its minimum number of tracks in the jet and its maximum
        transverse flight distance (mm).
    """

    jet_radius: float = 0.4
    jet_min_pt: float = 25.0
    jet_max_eta: float = 2.5
    match_dr: float = 0.3
    hadron_min_pt: float = 5.0
    trk_max_rprod: float = 100.0
    d0_res: tuple[float, float] = (0.010, 0.030)
    dz_res: tuple[float, float] = (0.030, 0.060)
    sv_res_xy: float = 0.05
    sv_res_z: float = 0.10
    sv_efficiency: float = 0.7
    sv_min_tracks: int = 2
    sv_max_lxy: float = 25.0


def _heavy(pid: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Heaviest quark (4 or 5, else 0) of hadrons; 0 for other particles."""
    a = np.abs(pid)
    q = np.maximum(np.maximum((a // 1000) % 10, (a // 100) % 10), (a // 10) % 10)
    hadron = (np.abs(status) >= 81) & (np.abs(status) <= 99) & (a > 100)
    return np.where(hadron & (q >= 4) & (q <= 5), q, 0)


def _pairs(a_event: np.ndarray, b_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a, b) of objects in the same event; b indexed globally in event order."""
    n = b_counts[a_event]
    a = np.repeat(np.arange(a_event.size), n)
    first = (np.cumsum(b_counts) - b_counts)[a_event]
    return a, np.repeat(first, n) + np.arange(a.size) - np.repeat(np.cumsum(n) - n, n)


def _segments(owner, key, n_owner: int, columns: dict) -> tuple[np.ndarray, dict]:
    """Jagged columns ``[owner][item]`` sorted by ``key`` within each owner, and the counts."""
    order = np.lexsort((key, owner))
    counts = np.bincount(owner, minlength=n_owner)
    return counts, {
        k: ak.unflatten(v[order].astype(np.float32), counts) for k, v in columns.items()
    }


def _weak_hadrons(rec: FlatRecord) -> dict:
    """Weakly decaying b and c hadrons: none of their daughters carries their heavy flavour."""
    heavy = _heavy(rec.pid, rec.status)
    hf = np.flatnonzero(heavy > 0)
    owner, daughter = rec.daughters(hf)
    same = np.bincount(owner, weights=heavy[daughter] == heavy[hf[owner]], minlength=hf.size)
    index = hf[(same == 0) & (rec.daughter1[hf] >= 0)]
    pt, eta, phi, _ = pxpypze_to_ptetaphim(
        rec.px[index], rec.py[index], rec.pz[index], rec.e[index]
    )
    return {"index": index, "flavour": heavy[index], "pt": pt, "eta": eta, "phi": phi}


def _reco_jets(rec: FlatRecord, hadrons: dict, detector: DetectorResponse, rng, p: Options):
    """Detector response and anti-kT jets of the visible particles except leptons from W, with
    the weakly decaying b/c hadrons added as ghosts (pT 1e-10 GeV) after each event's particles."""
    absid = np.abs(rec.pid)
    visible = (rec.status > 0) & ~np.isin(absid, (12, 14, 16))
    lep = np.flatnonzero(visible & np.isin(absid, (11, 13)))
    mom = rec.mother[rec.first_copy(lep)]
    visible[lep[(mom >= 0) & (np.abs(rec.pid[np.maximum(mom, 0)]) == 24)]] = False
    stable = np.flatnonzero(visible)
    pt, eta, phi, m = pxpypze_to_ptetaphim(
        rec.px[stable], rec.py[stable], rec.pz[stable], rec.e[stable]
    )
    out = detector.apply(pt, eta, phi, m, rec.charge[stable], rec.pid[stable] == 22, rng)
    keep = out[-1]
    r = {"index": stable[keep]}
    r |= {k: v[keep] for k, v in zip(("pt", "eta", "phi", "m"), out[:4], strict=True)}
    r["counts"] = np.bincount(rec.event[r["index"]], minlength=rec.n_events)
    r["ghosts"] = np.bincount(rec.event[hadrons["index"]], minlength=rec.n_events)
    ghost_pt = np.full(hadrons["index"].size, 1e-10)
    p4 = zip(
        ptetaphim_to_pxpypze(r["pt"], r["eta"], r["phi"], r["m"]),
        ptetaphim_to_pxpypze(ghost_pt, hadrons["eta"], hadrons["phi"], 0.0),
        strict=True,
    )
    per_event = (
        ak.concatenate([ak.unflatten(v, r["counts"]), ak.unflatten(g, r["ghosts"])], axis=1)
        for v, g in p4
    )
    jets, r["constituents"] = cluster_antikt(*per_event, p.jet_radius, p.jet_min_pt)
    r["jet_counts"] = ak.to_numpy(ak.num(jets)).astype(np.int64)
    fields = (ak.to_numpy(ak.flatten(jets[f])) for f in ("px", "py", "pz", "E"))
    r["jet_pt"], r["jet_eta"], r["jet_phi"], r["jet_m"] = pxpypze_to_ptetaphim(*fields)
    return r


def _cone_label(rec: FlatRecord, hadrons: dict, r: dict, p: Options):
    """Per jet the cone flavour (0/4/5): hadrons above ``hadron_min_pt`` label their closest
    jet within ``match_dr``, b before c; and the pT of the hardest such hadron of that flavour."""
    cand = np.flatnonzero(hadrons["pt"] > p.hadron_min_pt)
    a, b = _pairs(rec.event[hadrons["index"][cand]], r["jet_counts"])
    dr = delta_r(hadrons["eta"][cand][a], hadrons["phi"][cand][a], r["jet_eta"][b], r["jet_phi"][b])
    order = np.lexsort((dr, a))  # each hadron labels its closest jet only
    first = order[np.r_[True, a[order][1:] != a[order][:-1]]] if order.size else order
    first = first[dr[first] < p.match_dr]
    hadron, jet = cand[a[first]], b[first]
    label = np.zeros(r["jet_pt"].size, np.int64)
    np.maximum.at(label, jet, hadrons["flavour"][hadron])
    hadron_pt = np.zeros(r["jet_pt"].size)
    same = hadrons["flavour"][hadron] == label[jet]
    np.maximum.at(hadron_pt, jet[same], hadrons["pt"][hadron[same]])
    return label, hadron_pt


def _constituents(rec: FlatRecord, hadrons: dict, r: dict, sel: np.ndarray):
    """The selected jets' particles (row, position in ``r``), their counts without ghosts, and
    the ghost flavour of the jets (the heaviest ghost-associated hadron, 0/4/5)."""
    per_jet = ak.flatten(r["constituents"], axis=1)[sel]
    n = ak.to_numpy(ak.num(per_jet)).astype(np.int64)
    event = np.repeat(np.repeat(np.arange(rec.n_events), r["jet_counts"])[sel], n)
    local = ak.to_numpy(ak.flatten(per_jet)).astype(np.int64)
    row = np.repeat(np.arange(sel.size), n)
    ghost = local >= r["counts"][event]
    g = (
        (np.cumsum(r["ghosts"]) - r["ghosts"])[event[ghost]]
        + local[ghost]
        - r["counts"][event[ghost]]
    )
    ghost_flavour = np.zeros(sel.size, np.int64)
    np.maximum.at(ghost_flavour, row[ghost], hadrons["flavour"][g])
    pos = (np.cumsum(r["counts"]) - r["counts"])[event[~ghost]] + local[~ghost]
    return row[~ghost], pos, np.bincount(row[~ghost], minlength=sel.size), ghost_flavour


def _tracks(rec: FlatRecord, r: dict, row: np.ndarray, pos: np.ndarray, sel, rng, p: Options):
    """Flat arrays of the selected jets' tracks with their impact parameters."""
    part = r["index"][pos]
    ok = (rec.charge[part] != 0) & (np.hypot(rec.vx[part], rec.vy[part]) < p.trk_max_rprod)
    row, pos, part = row[ok], pos[ok], part[ok]
    pt, eta, phi = r["pt"][pos], r["eta"][pos], r["phi"][pos]
    x, y, z = rec.vx[part], rec.vy[part], rec.vz[part]
    d0 = y * np.cos(phi) - x * np.sin(phi)  # straight line, closest approach to the beam line
    dz = z - (x * np.cos(phi) + y * np.sin(phi)) * np.sinh(eta)
    s_d0 = np.hypot(p.d0_res[0], p.d0_res[1] / pt)
    s_dz = np.hypot(p.dz_res[0], p.dz_res[1] / pt)
    d0 = d0 + s_d0 * rng.standard_normal(d0.size)
    dz = dz + s_dz * rng.standard_normal(dz.size)
    j_eta, j_phi = r["jet_eta"][sel][row], r["jet_phi"][sel][row]
    d0 = d0 * np.where(np.sin(j_phi - phi) >= 0, 1.0, -1.0)  # lifetime signs
    dz = dz * np.where(j_eta - eta >= 0, 1.0, -1.0)
    return {
        "row": row,
        "part": part,
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "deta": eta - j_eta,
        "dphi": delta_phi(phi, j_phi),
        "charge": rec.charge[part],
        "d0": d0,
        "dz": dz,
        "d0sig": d0 / s_d0,
        "dzsig": dz / s_dz,
    }


def _vertices(rec: FlatRecord, r: dict, sel, t: dict, weak, rng, p: Options) -> dict:
    """Secondary vertices: groups of a jet's tracks produced at a weak decay vertex."""
    roots = np.concatenate(
        [weak, np.flatnonzero(np.isin(np.abs(rec.pid), _V0) & (rec.daughter1 >= 0))]
    )
    vtx = rec.daughter1[roots]  # the decay vertex is the daughters' production vertex
    origin = label_descendants(rec.mother, roots)[t["part"]]
    o, part = vtx[np.maximum(origin, 0)], t["part"]
    dist = np.sqrt(
        (rec.vx[part] - rec.vx[o]) ** 2
        + (rec.vy[part] - rec.vy[o]) ** 2
        + (rec.vz[part] - rec.vz[o]) ** 2
    )
    at = (origin >= 0) & (dist < 1e-3)
    groups, inverse, ntrk = np.unique(
        t["row"][at] * (roots.size + 1) + origin[at], return_inverse=True, return_counts=True
    )
    p4 = ptetaphim_to_pxpypze(t["pt"][at], t["eta"][at], t["phi"][at], _PION_MASS)
    spt, seta, sphi, mass = pxpypze_to_ptetaphim(
        *(np.bincount(inverse, c, groups.size) for c in p4)
    )
    row, v = groups // (roots.size + 1), vtx[groups % (roots.size + 1)]
    scale = np.sqrt(2.0 / np.maximum(ntrk, 1))
    sxy, sz = p.sv_res_xy * scale, p.sv_res_z * scale
    x, y, z = (
        c[v] + s * rng.standard_normal(v.size)
        for c, s in ((rec.vx, sxy), (rec.vy, sxy), (rec.vz, sz))
    )
    found = rng.random(v.size) < p.sv_efficiency
    lxy, l3d = np.hypot(x, y), np.sqrt(x**2 + y**2 + z**2)
    s3d = np.sqrt(sxy**2 * lxy**2 + sz**2 * z**2) / np.maximum(l3d, 1e-12)
    sv = {
        "lxy": lxy,
        "lxy_sig": lxy / sxy,
        "l3d": l3d,
        "l3d_sig": l3d / s3d,
        "mass": mass,
        "ntrk": ntrk,
        "pt": spt,
        "deta": seta - r["jet_eta"][sel][row],
        "dphi": delta_phi(sphi, r["jet_phi"][sel][row]),
    }
    ok = found & (ntrk >= p.sv_min_tracks) & (lxy < p.sv_max_lxy)
    return {"row": row[ok], **{k: val[ok] for k, val in sv.items()}}


def _analyse(rec: FlatRecord, detector: DetectorResponse, rng, p: Options) -> dict:
    hadrons = _weak_hadrons(rec)
    r = _reco_jets(rec, hadrons, detector, rng, p)
    label, hadron_pt = _cone_label(rec, hadrons, r, p)
    jet_ok = (r["jet_pt"] > p.jet_min_pt) & (np.abs(r["jet_eta"]) < p.jet_max_eta)
    sel = np.flatnonzero(jet_ok)
    row, pos, n_const, ghost_flavour = _constituents(rec, hadrons, r, sel)
    t = _tracks(rec, r, row, pos, sel, rng, p)
    sv = _vertices(rec, r, sel, t, hadrons["index"], rng, p)
    n_trk, trk = _segments(t["row"], -t["pt"], sel.size, {k: t[k] for k in TRK})
    n_sv, svs = _segments(sv["row"], -sv["lxy_sig"], sel.size, {k: sv[k] for k in SV})
    cols = {f"jet_{k}": r[f"jet_{k}"][sel] for k in ("pt", "eta", "phi", "m")}
    cols |= {"n_const": n_const, "n_trk": n_trk, "n_sv": n_sv}
    cols |= {"flavour": label[sel], "hadron_flavour": ghost_flavour, "hadron_pt": hadron_pt[sel]}
    cols = {k: np.asarray(v, np.int32 if k in _INT else np.float32) for k, v in cols.items()}
    return cols | {f"trk_{k}": v for k, v in trk.items()} | {f"sv_{k}": v for k, v in svs.items()}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    pt_hat_min: float = 30.0,
    mpi: bool = True,
    detector: dict | None = None,
    **options,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events of ``process`` and return one row per selected jet.

    Parameters
    ----------
    seed
        Pythia seed (1 to 900,000,000); the detector's numpy generator derives from it.
    n_events
        Events to generate.
    process
        ``ttbar`` or ``qcd``.
    pt_hat_min
        ``PhaseSpace:pTHatMin`` of ``qcd`` (GeV).
    mpi
        Multiparton interactions (underlying event).
    detector
        Keyword arguments of :class:`~hepml.generate.detector.DetectorResponse`.
    **options
        Fields of :class:`Options` (jet selection, labelling, track and vertex model).
    """
    if n_events < 1:
        raise ValueError(f"n_events must be positive, got {n_events}")
    if process not in PROCESS_SETTINGS:
        raise ValueError(
            f"unknown flavour process {process!r}; choose from {sorted(PROCESS_SETTINGS)}"
        )
    unknown = sorted(set(options) - set(Options.__dataclass_fields__))
    if unknown:
        raise ValueError(
            f"unknown flavour options {unknown}; choose from {sorted(Options.__dataclass_fields__)}"
        )
    start = time.process_time()
    params = Options(**options)
    response = DetectorResponse(**(detector or {}))
    settings = ["Beams:eCM = 13000", f"PartonLevel:MPI = {'on' if mpi else 'off'}"]
    settings += PROCESS_SETTINGS[process]
    if process == "qcd":
        settings.append(f"PhaseSpace:pTHatMin = {pt_hat_min}")
    pythia = make_pythia(settings, seed)
    rng = np.random.default_rng([seed, 5])
    parts, done = [], 0
    while done < n_events:
        size = min(_BATCH_EVENTS, n_events - done)
        record = flatten_batch(pythia.nextBatch(size, "skip"), pythia)
        parts.append(_analyse(record, response, rng, params))
        done += size
    join = {True: ak.concatenate, False: np.concatenate}
    columns = {k: join[isinstance(v, ak.Array)]([q[k] for q in parts]) for k, v in parts[0].items()}
    cpu = time.process_time() - start
    n_jets = len(columns["jet_pt"])
    n_b, n_c = (int((columns["flavour"] == f).sum()) for f in (5, 4))
    logger.info(
        "flavour/%s: %d events, %d jets (b %d, c %d) in %.1f CPU s (%.0f events/s, %.1f jets/s)",
        *(process, n_events, n_jets, n_b, n_c, cpu, n_events / cpu, n_jets / cpu),
    )
    return columns
