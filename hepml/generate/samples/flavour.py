"""b, c and light jets with tracks and secondary vertices, for flavour tagging.

Processes (builder argument ``process``, Pythia 8 at 13 TeV): ``ttbar`` (``Top:gg2ttbar`` and
``Top:qqbar2ttbar``, all decays) and ``qcd`` (``HardQCD:all``, ``pTHatMin = pt_hat_min``; heavy
flavour from the hard process, flavour excitation and gluon splitting). Stable visible particles
except the leptons from W decays pass :class:`~hepml.generate.detector.DetectorResponse` and are
clustered into anti-kT R = 0.4 jets; a row is a jet with ``pT > jet_min_pt`` and
``|eta| < jet_max_eta``.

Flavour (hadron-based, as ATLAS's cone labelling): weakly decaying b and c hadrons (none of their
daughters carries their heavy flavour) with ``pT > hadron_min_pt`` are matched to the closest jet
within ``Delta R < match_dr``; a jet with a b hadron is b, else with a c hadron c, else light.
``hadron_flavour`` is 5/4/0 (CMS ``hadronFlavour``), ``flavour`` the class index 2/1/0
(b/c/light) that a data config uses directly as ``label: flavour`` with
``classes: [light, c, b]`` (the data module wants labels 0..n-1). ``hadron_pt`` is the pT of the
hardest matched hadron of the jet's flavour (0 for light jets).

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
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import awkward as ak
import numpy as np

from hepml.generate.clustering import cluster_antikt
from hepml.generate.detector import DetectorResponse
from hepml.generate.pileup import FlatRecord, flatten_batch
from hepml.generate.pythia import make_pythia
from hepml.physics.kinematics import delta_phi, delta_r, ptetaphim_to_pxpypze, pxpypze_to_ptetaphim

logger = logging.getLogger(__name__)

__all__ = ["PROCESS_SETTINGS", "build_chunk", "validation_plots"]

PROCESS_SETTINGS = {
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
    "qcd": ("HardQCD:all = on",),
}
TRK = ("pt", "deta", "dphi", "charge", "d0", "dz", "d0sig", "dzsig")
SV = ("lxy", "lxy_sig", "l3d", "l3d_sig", "mass", "ntrk", "pt", "deta", "dphi")
_INT = {"n_const", "n_trk", "n_sv", "flavour", "hadron_flavour"}
_BATCH_EVENTS = 250
_PION_MASS = 0.13957
_V0 = (310, 3122)


def _heavy(pid: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Heaviest quark (4 or 5, else 0) of hadrons; 0 for other particles."""
    a = np.abs(pid)
    q = np.maximum(np.maximum((a // 1000) % 10, (a // 100) % 10), (a // 10) % 10)
    hadron = (np.abs(status) >= 81) & (np.abs(status) <= 99) & (a > 100)
    return np.where(hadron & (q >= 4) & (q <= 5), q, 0)


def _daughters(rec: FlatRecord, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner position in idx, daughter index) of all direct daughters of ``idx``."""
    d1 = rec.daughter1[idx]
    d2 = np.where(rec.daughter2[idx] >= d1, rec.daughter2[idx], d1)
    n = np.where(d1 >= 0, d2 - d1 + 1, 0)
    owner = np.repeat(np.arange(idx.size), n)
    return owner, np.repeat(d1, n) + np.arange(owner.size) - np.repeat(np.cumsum(n) - n, n)


def _pairs(a_event: np.ndarray, b_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a, b) of objects in the same event; b indexed globally by event order."""
    n = b_counts[a_event]
    a = np.repeat(np.arange(a_event.size), n)
    first = (np.cumsum(b_counts) - b_counts)[a_event]
    return a, np.repeat(first, n) + np.arange(a.size) - np.repeat(np.cumsum(n) - n, n)


def _label_descendants(mother: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """For every particle, the position in ``roots`` of its nearest root ancestor (or itself)."""
    label = np.full(mother.shape[0], -1, dtype=np.int64)
    label[roots] = np.arange(roots.size)
    while True:
        open_ = np.flatnonzero((label < 0) & (mother >= 0))
        inherited = label[mother[open_]]
        if not (inherited >= 0).any():
            return label
        label[open_[inherited >= 0]] = inherited[inherited >= 0]


def _segments(owner: np.ndarray, key: np.ndarray, n_owner: int, columns: dict) -> tuple:
    order = np.lexsort((key, owner))
    counts = np.bincount(owner, minlength=n_owner)
    return counts, {k: ak.unflatten(v[order].astype(np.float32), counts) for k, v in columns.items()}


def _analyse(rec: FlatRecord, detector: DetectorResponse, rng: np.random.Generator, p: dict) -> dict:
    px, py, pz, e = rec.px, rec.py, rec.pz, rec.e
    absid = np.abs(rec.pid)
    final = rec.status > 0
    # leptons from W decays are not jets: walk up their copies to the first one's mother
    lep = np.flatnonzero(final & np.isin(absid, (11, 13)))
    top = lep.copy()
    for _ in range(50):
        up = rec.mother[top]
        move = (up >= 0) & (rec.pid[np.maximum(up, 0)] == rec.pid[top])
        if not move.any():
            break
        top = np.where(move, up, top)
    visible = final & ~np.isin(absid, (12, 14, 16))
    mom = rec.mother[top]
    visible[lep[(mom >= 0) & (np.abs(rec.pid[np.maximum(mom, 0)]) == 24)]] = False

    stable = np.flatnonzero(visible)
    pt, eta, phi, m = pxpypze_to_ptetaphim(px[stable], py[stable], pz[stable], e[stable])
    rpt, reta, rphi, rm, keep = detector.apply(pt, eta, phi, m, rec.charge[stable], rec.pid[stable] == 22, rng)
    reco = stable[keep]
    rpt, reta, rphi, rm = rpt[keep], reta[keep], rphi[keep], rm[keep]
    reco_counts = np.bincount(rec.event[reco], minlength=rec.n_events)
    p4 = ptetaphim_to_pxpypze(rpt, reta, rphi, rm)
    jets, constituents = cluster_antikt(*(ak.unflatten(v, reco_counts) for v in p4), p["jet_radius"], p["jet_min_pt"])
    jet_counts = ak.to_numpy(ak.num(jets)).astype(np.int64)
    jpt, jeta, jphi, jm = pxpypze_to_ptetaphim(*(ak.to_numpy(ak.flatten(jets[f])) for f in ("px", "py", "pz", "E")))
    jet_event = np.repeat(np.arange(rec.n_events), jet_counts)

    # hadron flavour: weakly decaying b/c hadrons, matched to the closest jet within match_dr
    heavy = _heavy(rec.pid, rec.status)
    hf = np.flatnonzero(heavy > 0)
    owner, dau = _daughters(rec, hf)
    same = np.bincount(owner, weights=heavy[dau] == heavy[hf[owner]], minlength=hf.size) > 0
    weak = hf[~same & (rec.daughter1[hf] >= 0)]
    hpt, heta, hphi, _ = pxpypze_to_ptetaphim(px[weak], py[weak], pz[weak], e[weak])
    label = np.zeros(jpt.size, np.int64)
    hadron_pt = np.zeros(jpt.size)
    cand = np.flatnonzero(hpt > p["hadron_min_pt"])
    a, b = _pairs(rec.event[weak[cand]], jet_counts)
    dr = delta_r(heta[cand][a], hphi[cand][a], jeta[b], jphi[b])
    order = np.lexsort((dr, a))
    first = order[np.r_[True, a[order][1:] != a[order][:-1]]] if order.size else order
    first = first[dr[first] < p["match_dr"]]
    np.maximum.at(label, b[first], heavy[weak[cand[a[first]]]])
    is_label = heavy[weak[cand[a[first]]]] == label[b[first]]
    np.maximum.at(hadron_pt, b[first[is_label]], hpt[cand[a[first[is_label]]]])

    sel = np.flatnonzero((jpt > p["jet_min_pt"]) & (np.abs(jeta) < p["jet_max_eta"]))
    per_jet = ak.flatten(constituents, axis=1)[sel]
    n_const = ak.to_numpy(ak.num(per_jet)).astype(np.int64)
    jrow = np.repeat(np.arange(sel.size), n_const)
    pos = ak.to_numpy(ak.flatten(per_jet)).astype(np.int64) + np.repeat(
        (np.cumsum(reco_counts) - reco_counts)[jet_event[sel]], n_const
    )
    part = reco[pos]
    is_trk = (rec.charge[part] != 0) & (np.hypot(rec.vx[part], rec.vy[part]) < p["trk_max_rprod"])
    jrow, pos, part = jrow[is_trk], pos[is_trk], part[is_trk]
    t_pt, t_eta, t_phi = rpt[pos], reta[pos], rphi[pos]
    x, y, z = rec.vx[part], rec.vy[part], rec.vz[part]
    d0 = y * np.cos(t_phi) - x * np.sin(t_phi)
    z0 = z - (x * np.cos(t_phi) + y * np.sin(t_phi)) * np.sinh(t_eta)
    s_d0 = np.hypot(p["d0_res"][0], p["d0_res"][1] / t_pt)
    s_dz = np.hypot(p["dz_res"][0], p["dz_res"][1] / t_pt)
    d0 = d0 + s_d0 * rng.standard_normal(d0.size)
    z0 = z0 + s_dz * rng.standard_normal(z0.size)
    j_eta, j_phi = jeta[sel][jrow], jphi[sel][jrow]
    d0 = d0 * np.where(np.sin(j_phi - t_phi) >= 0, 1.0, -1.0)
    z0 = z0 * np.where(j_eta - t_eta >= 0, 1.0, -1.0)
    trk = {"pt": t_pt, "deta": t_eta - j_eta, "dphi": delta_phi(t_phi, j_phi), "charge": rec.charge[part],
           "d0": d0, "dz": z0, "d0sig": d0 / s_d0, "dzsig": z0 / s_dz}
    n_trk, trk = _segments(jrow, -t_pt, sel.size, trk)

    # secondary vertices: tracks produced at the decay vertex of a weakly decaying hadron
    roots = np.concatenate([weak, np.flatnonzero(np.isin(absid, _V0) & (rec.daughter1 >= 0))])
    vtx = rec.daughter1[roots]
    origin = _label_descendants(rec.mother, roots)[part]
    at_vertex = origin >= 0
    o = np.maximum(origin, 0)
    dist = np.sqrt((x - rec.vx[vtx[o]]) ** 2 + (y - rec.vy[vtx[o]]) ** 2 + (z - rec.vz[vtx[o]]) ** 2)
    at_vertex &= dist < 1e-3
    key = jrow[at_vertex] * (roots.size + 1) + origin[at_vertex]
    groups, inverse, ntrk = np.unique(key, return_inverse=True, return_counts=True)
    tp = ptetaphim_to_pxpypze(t_pt[at_vertex], t_eta[at_vertex], t_phi[at_vertex], _PION_MASS)
    sums = [np.bincount(inverse, weights=c, minlength=groups.size) for c in tp]
    sv_row, sv_root = groups // (roots.size + 1), groups % (roots.size + 1)
    scale = np.sqrt(2.0 / np.maximum(ntrk, 1))
    sxy, sz = p["sv_res_xy"] * scale, p["sv_res_z"] * scale
    vx = rec.vx[vtx[sv_root]] + sxy * rng.standard_normal(groups.size)
    vy = rec.vy[vtx[sv_root]] + sxy * rng.standard_normal(groups.size)
    vz = rec.vz[vtx[sv_root]] + sz * rng.standard_normal(groups.size)
    found = rng.random(groups.size) < p["sv_efficiency"]
    lxy, l3d = np.hypot(vx, vy), np.sqrt(vx**2 + vy**2 + vz**2)
    s3d = np.sqrt(sxy**2 * lxy**2 + sz**2 * vz**2) / np.maximum(l3d, 1e-12)
    spt, seta, sphi, smass = pxpypze_to_ptetaphim(*sums)
    ok = found & (ntrk >= p["sv_min_tracks"]) & (lxy < p["sv_max_lxy"])
    sv = {"lxy": lxy, "lxy_sig": lxy / sxy, "l3d": l3d, "l3d_sig": l3d / s3d, "mass": smass, "ntrk": ntrk,
          "pt": spt, "deta": seta - jeta[sel][sv_row], "dphi": delta_phi(sphi, jphi[sel][sv_row])}
    n_sv, sv = _segments(sv_row[ok], -sv["lxy_sig"][ok], sel.size, {k: v[ok] for k, v in sv.items()})

    cols = {"jet_pt": jpt[sel], "jet_eta": jeta[sel], "jet_phi": jphi[sel], "jet_m": jm[sel], "n_const": n_const,
            "n_trk": n_trk, "n_sv": n_sv, "flavour": np.select([label[sel] == 5, label[sel] == 4], [2, 1], 0),
            "hadron_flavour": label[sel], "hadron_pt": hadron_pt[sel]}
    cols = {k: np.asarray(v, np.int32 if k in _INT else np.float32) for k, v in cols.items()}
    return cols | {f"trk_{k}": v for k, v in trk.items()} | {f"sv_{k}": v for k, v in sv.items()}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    pt_hat_min: float = 30.0,
    mpi: bool = True,
    jet_radius: float = 0.4,
    jet_min_pt: float = 25.0,
    jet_max_eta: float = 2.5,
    match_dr: float = 0.3,
    hadron_min_pt: float = 5.0,
    trk_max_rprod: float = 100.0,
    d0_res: tuple[float, float] = (0.010, 0.030),
    dz_res: tuple[float, float] = (0.030, 0.060),
    sv_res_xy: float = 0.05,
    sv_res_z: float = 0.10,
    sv_efficiency: float = 0.7,
    sv_min_tracks: int = 2,
    sv_max_lxy: float = 25.0,
    detector: dict | None = None,
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
    jet_radius, jet_min_pt, jet_max_eta
        Anti-kT radius and the jet selection (GeV).
    match_dr, hadron_min_pt
        Hadron-to-jet Delta R and the minimum b/c hadron pT (GeV) of the flavour labelling.
    trk_max_rprod
        Maximum production radius (mm) of a track.
    d0_res, dz_res
        ``(a, b)`` of the impact-parameter resolutions ``a (+) b / pT[GeV]`` in mm.
    sv_res_xy, sv_res_z, sv_efficiency, sv_min_tracks, sv_max_lxy
        Secondary-vertex resolution (mm, for two tracks), efficiency, minimum number of tracks
        and maximum transverse flight distance (mm).
    detector
        Keyword arguments of :class:`~hepml.generate.detector.DetectorResponse`.
    """
    if process not in PROCESS_SETTINGS:
        raise ValueError(f"unknown flavour process {process!r}; choose from {sorted(PROCESS_SETTINGS)}")
    start = time.process_time()
    params = {
        "jet_radius": jet_radius, "jet_min_pt": jet_min_pt, "jet_max_eta": jet_max_eta,
        "match_dr": match_dr, "hadron_min_pt": hadron_min_pt, "trk_max_rprod": trk_max_rprod,
        "d0_res": d0_res, "dz_res": dz_res, "sv_res_xy": sv_res_xy, "sv_res_z": sv_res_z,
        "sv_efficiency": sv_efficiency, "sv_min_tracks": sv_min_tracks, "sv_max_lxy": sv_max_lxy,
    }
    response = DetectorResponse(**(detector or {}))
    settings = ["Beams:eCM = 13000", f"PartonLevel:MPI = {'on' if mpi else 'off'}", *PROCESS_SETTINGS[process]]
    if process == "qcd":
        settings.append(f"PhaseSpace:pTHatMin = {pt_hat_min}")
    pythia = make_pythia(settings, seed)
    rng = np.random.default_rng([seed, 5])
    parts, done = [], 0
    while done < n_events:
        size = min(_BATCH_EVENTS, n_events - done)
        parts.append(_analyse(flatten_batch(pythia.nextBatch(size, "skip"), pythia), response, rng, params))
        done += size
    columns = {k: ak.concatenate([q[k] for q in parts]) if isinstance(parts[0][k], ak.Array)
               else np.concatenate([q[k] for q in parts]) for k in parts[0]}
    cpu = time.process_time() - start
    n_jets = len(columns["jet_pt"])
    logger.info("flavour/%s: %d events, %d jets (b %d, c %d) in %.1f CPU s (%.0f events/s, %.1f jets/s)",
                process, n_events, n_jets, int((columns["flavour"] == 2).sum()), int((columns["flavour"] == 1).sum()),
                cpu, n_events / cpu, n_jets / cpu)
    return columns


def validation_plots(path: Path, out_dir: Path) -> list[Path]:
    """Leading-track d0 significance, SV mass and track multiplicity by flavour; jet pT by label."""
    import h5py

    from hepml.plotting.style import label, new_figure, save, set_style

    names = ("label", "flavour", "jet_pt", "n_trk", "n_sv", "trk_d0sig", "sv_mass")
    with h5py.File(path) as handle:
        data = {k: handle[k][()] for k in names}
    set_style("CMS")
    lead_d0 = np.where(data["n_trk"] > 0, data["trk_d0sig"][:, 0] if data["trk_d0sig"].size else 0.0, np.nan)
    lead_mass = np.where(data["n_sv"] > 0, data["sv_mass"][:, 0] if data["sv_mass"].size else 0.0, np.nan)
    plots = (
        ("lead_trk_d0sig", lead_d0, np.linspace(-10, 30, 41), "leading-track $d_0/\\sigma_{d_0}$", "flavour"),
        ("max_trk_d0sig", np.max(np.where(np.arange(data["trk_d0sig"].shape[1]) < data["n_trk"][:, None],
                                          data["trk_d0sig"], -np.inf), axis=1, initial=-np.inf),
         np.linspace(-10, 50, 61), "largest track $d_0/\\sigma_{d_0}$", "flavour"),
        ("lead_sv_mass", lead_mass, np.linspace(0, 6, 31), "first SV mass [GeV]", "flavour"),
        ("n_trk", data["n_trk"], np.arange(0, 41), "tracks per jet", "flavour"),
        ("jet_pt", data["jet_pt"], np.linspace(0, 300, 61), "jet $p_T$ [GeV]", "label"),
    )
    names_of = {"flavour": {0: "light", 1: "c", 2: "b"}}
    written: list[Path] = []
    for name, values, bins, xlabel, by in plots:
        fig, (ax,) = new_figure()
        for key in np.unique(data[by]):
            v = values[(data[by] == key) & np.isfinite(values)]
            ax.hist(np.clip(v, bins[0], bins[-1]), bins, histtype="step", density=True,
                    label=names_of.get(by, {}).get(int(key), f"{by} {key}"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("normalised")
        ax.legend()
        label(ax)
        written += save(fig, Path(out_dir) / f"flavour_{name}")
    return written
