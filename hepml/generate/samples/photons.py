"""Prompt photons and electrons versus pile-up deposits in an ECAL-like crystal barrel.

Processes (builder argument ``process``, Pythia 8 at 13 TeV): ``photon`` (``PromptPhoton:all``,
``pTHatMin = pt_hat_min``), ``electron`` (``W -> e nu``), and the fakes ``qcd`` (``HardQCD:all``,
``pTHatMin = pt_hat_min``) and ``minbias`` (``SoftQCD:nonDiffractive``), whose deposits are
mostly photons from pi0 -> gamma gamma. Each event gets ``Poisson(mu)`` minimum-bias events
overlaid (:mod:`hepml.generate.pileup`).

Calorimeter (:class:`Ecal`, the CMS barrel as a model): crystals of 0.0174 x 2 pi / 360 in
(eta, phi) for ``|eta| < 1.479`` (170 x 360 crystals) at a radius of 1.29 m, i.e. 22.4 mm wide
seen from the vertex at any eta (crystals point to the vertex: ``R * d_eta`` across the line of
flight). Particles fly in straight lines from the origin (no magnetic field: no bending, no
brem spread of electrons, so electrons and photons have the same shower shapes). Photons and
electrons shower with a lateral profile of two 2D Gaussians, a core (85 % of the energy,
sigma = 0.30 Moliere radii) and a tail (15 %, sigma = 1.0 Moliere radius); with the PbWO4 Moliere
radius of 22 mm (0.98 crystals) this contains 90 % of the energy within one Moliere radius, about
72 % in the central crystal, 96 % in 3x3 and 99.6 % in 5x5 for a central impact; the shower's
energy is spread over the 7x7 crystals around the impact crystal (99.99 % of it). The shower energy
is smeared with ``3 %/sqrt(E) (+) 0.5 %``; every crystal gets Gaussian noise of 0.04 GeV, which is a
noise term of 0.2 GeV for a 5x5 sum (CMS: 2.8 %/sqrt(E) (+) 0.12 GeV (3x3) (+) 0.3 %). Charged
hadrons and muons leave a minimum-ionising 0.3 GeV (or their energy if lower) in the crystal they
hit; neutral hadrons and neutrinos leave nothing.

Candidates: crystals above ``seed_threshold`` that are maxima of their 3x3 neighbourhood; the
candidate energy is E5x5 and its position the energy-weighted centre of the 3x3. Kept with
``E_T > min_et``. Shower shapes (:mod:`hepml.physics.showers`): ``r9 = E3x3 / E5x5`` (no
super-clustering), ``sigma_ietaieta`` in eta units over 5x5 (CMS definition, w0 = 4.7), the
energy-weighted widths ``eta_width``/``phi_width`` and ``n_crystals`` over the image's crystals
above ``crystal_threshold``. Truth: the most energetic photon or electron hitting the 3x3 around the
seed. ``photon`` and ``electron`` keep candidates matched to the prompt photon (first copy from
the hard process) or the electron from the W; ``qcd`` and ``minbias`` keep the others. The image
is ``image_size x image_size`` crystals around the seed (rows ieta, columns iphi) stored flattened
row-major in the jagged column ``image`` (``image_npix = image_size**2`` values per row; the HDF5
writer pads it to a 2D array), because :func:`hepml.data.writers.write_columns` takes only 1D or
jagged columns.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from hepml.generate.pileup import cached_pool, flatten_batch, overlay
from hepml.generate.pythia import MAX_SEED, make_pythia
from hepml.physics import showers
from hepml.physics.kinematics import pxpypze_to_ptetaphim

logger = logging.getLogger(__name__)

__all__ = ["PROCESS_SETTINGS", "Ecal", "build_chunk", "find_candidates", "validation_plots"]

PROCESS_SETTINGS = {
    "photon": ("PromptPhoton:all = on",),
    "electron": ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11"),
    "qcd": ("HardQCD:all = on",),
    "minbias": ("SoftQCD:nonDiffractive = on",),
}
_PT_HAT = ("photon", "qcd")
_BATCH_EVENTS = 250
_GRID_EVENTS = 25  # events per dense crystal grid (245 kB each)


@dataclass(frozen=True)
class Ecal:
    """A barrel of crystals and its response; see the module docstring for the defaults."""

    eta_max: float = 1.479
    crystal_eta: float = 0.0174
    n_phi: int = 360
    radius_mm: float = 1290.0
    moliere_mm: float = 22.0
    core_fraction: float = 0.85
    core_width: float = 0.30
    tail_width: float = 1.0
    stochastic: float = 0.03
    constant: float = 0.005
    noise: float = 0.04
    mip: float = 0.3
    window: int = 7

    @property
    def n_eta(self) -> int:
        return int(round(2 * self.eta_max / self.crystal_eta))

    @property
    def crystal_phi(self) -> float:
        return 2 * np.pi / self.n_phi

    def profile(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Widths (crystal units) and energy fractions of the two Gaussian components."""
        rm = self.moliere_mm / (self.radius_mm * self.crystal_eta)
        return (self.core_width * rm, self.tail_width * rm), (self.core_fraction, 1 - self.core_fraction)

    def deposit(self, event, eta, phi, energy, pid, charge, n_events, rng) -> np.ndarray:
        """Crystal energies ``[n_events, n_eta, n_phi]`` of particles (flat arrays, GeV).

        Draws one normal number per showering particle in acceptance, then one per crystal
        (if ``noise > 0``), so the result is reproducible for a generator state.
        """
        event, energy, pid, charge = (np.asarray(a) for a in (event, energy, pid, charge))
        n_cells = self.n_eta * self.n_phi
        u = (np.asarray(eta) + self.eta_max) / self.crystal_eta
        v = np.mod(phi, 2 * np.pi) / self.crystal_phi
        inside = (u >= 0) & (u < self.n_eta)
        shower = inside & ((pid == 22) | (np.abs(pid) == 11))
        mip = inside & (charge != 0) & ~shower
        iu, iv = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64) % self.n_phi
        e = energy[shower].astype(float)
        rel = np.hypot(self.stochastic / np.sqrt(np.maximum(e, 1e-9)), self.constant)
        e = np.maximum(e * (1 + rel * rng.standard_normal(e.size)), 0.0)
        widths, weights = self.profile()
        du, dv = u[shower] - iu[shower] - 0.5, v[shower] - np.floor(v[shower]) - 0.5
        frac = showers.profile_fractions(du, dv, self.window, widths, weights)
        off = np.arange(self.window) - self.window // 2
        ie = iu[shower][:, None, None] + off[None, :, None]
        ip = (iv[shower][:, None, None] + off[None, None, :]) % self.n_phi
        ok = np.broadcast_to((ie >= 0) & (ie < self.n_eta), frac.shape)
        key = event[shower][:, None, None] * n_cells + ie * self.n_phi + ip
        mip_key = event[mip] * n_cells + iu[mip] * self.n_phi + iv[mip]
        grid = np.bincount(
            np.concatenate([key[ok], mip_key]),
            np.concatenate([(e[:, None, None] * frac)[ok], np.minimum(energy[mip], self.mip)]),
            minlength=n_events * n_cells,
        ).astype(np.float32)
        if self.noise > 0:
            grid += np.float32(self.noise) * rng.standard_normal(grid.size, dtype=np.float32)
        return grid.reshape(n_events, self.n_eta, self.n_phi)


def find_candidates(grid: np.ndarray, ecal: Ecal, seed_threshold: float = 1.0, size: int = 11):
    """Seeds (local maxima above ``seed_threshold``) of a crystal grid and their images.

    Returns
    -------
    event, ieta, iphi : numpy.ndarray
        Event and crystal indices of the seeds.
    images : numpy.ndarray
        ``[n, size, size]`` crystal energies around the seeds (zero beyond the barrel's ends).
    """
    event, ieta, iphi = np.nonzero(showers.local_maxima(grid, seed_threshold))
    off = np.arange(size) - size // 2
    ie = ieta[:, None, None] + off[None, :, None]
    ip = (iphi[:, None, None] + off[None, None, :]) % ecal.n_phi
    ok = (ie >= 0) & (ie < ecal.n_eta)
    images = np.where(ok, grid[event[:, None, None], np.clip(ie, 0, ecal.n_eta - 1), ip], 0.0)
    return event, ieta, iphi, images


def _prompt(record, pid_test, mother_ids=None) -> np.ndarray:
    """Final-state particles passing ``pid_test`` whose first copy is from the hard process
    (``|status| == 23``) or, with ``mother_ids``, whose first copy's mother is one of them."""
    idx = np.flatnonzero((record.status > 0) & pid_test(record.pid))
    top = idx.copy()
    while True:
        up = record.mother[top]
        move = (up >= 0) & (record.pid[np.maximum(up, 0)] == record.pid[top])
        if not move.any():
            break
        top = np.where(move, up, top)
    if mother_ids is None:
        ok = np.abs(record.status[top]) == 23
    else:
        mother = record.mother[top]
        ok = (mother >= 0) & np.isin(np.abs(record.pid[np.maximum(mother, 0)]), mother_ids)
    flag = np.zeros(record.pid.size, dtype=bool)
    flag[idx[ok]] = True
    return flag


def _match(event, ieta, iphi, p_event, p_eta, p_phi, p_e, ecal: Ecal) -> np.ndarray:
    """Index of the most energetic particle hitting the 3x3 around each seed, or -1."""
    if event.size == 0 or p_e.size == 0:
        return np.full(event.size, -1, dtype=np.int64)
    n_cells = ecal.n_eta * ecal.n_phi
    pu = np.floor((p_eta + ecal.eta_max) / ecal.crystal_eta).astype(np.int64)
    pv = np.floor(np.mod(p_phi, 2 * np.pi) / ecal.crystal_phi).astype(np.int64) % ecal.n_phi
    key = p_event * n_cells + pu * ecal.n_phi + pv
    order = np.lexsort((-p_e, key))  # per crystal, the most energetic particle first
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
    keys = key[first]
    off = np.array([-1, 0, 1])
    ce = np.repeat(ieta[:, None] + off, 3, axis=1)
    cp = np.tile((iphi[:, None] + off) % ecal.n_phi, 3)
    ckey = event[:, None] * n_cells + ce * ecal.n_phi + cp
    pos = np.minimum(np.searchsorted(keys, ckey), keys.size - 1)
    found = (keys[pos] == ckey) & (ce >= 0) & (ce < ecal.n_eta)
    cand = np.where(found, first[pos], -1)
    pick = np.argmax(np.where(found, p_e[first[pos]], -1.0), axis=1)
    return cand[np.arange(cand.shape[0]), pick]


def _hard_particles(record) -> tuple[ak.Array, np.ndarray]:
    """Final-state particles (no neutrinos) as ``[event][particle]`` records, and their prompt
    flags (a photon from the hard process or an electron from a W/Z)."""
    final = np.flatnonzero((record.status > 0) & ~np.isin(np.abs(record.pid), (12, 14, 16)))
    prompt = _prompt(record, lambda p: p == 22) | _prompt(record, lambda p: np.abs(p) == 11, (23, 24))
    p4 = (record.px[final], record.py[final], record.pz[final], record.e[final])
    pt, eta, phi, m = pxpypze_to_ptetaphim(*p4)
    counts = np.bincount(record.event[final], minlength=record.n_events)
    fields = {"pt": pt, "eta": eta, "phi": phi, "m": m}
    fields |= {"charge": record.charge[final], "pid": record.pid[final]}
    return ak.zip({k: ak.unflatten(v, counts) for k, v in fields.items()}), prompt[final]


def _shapes(images: np.ndarray, e5: np.ndarray, ecal: Ecal, threshold: float) -> dict:
    c = images.shape[-1] // 2
    e2 = showers.max_2x2(images)
    return {
        "e_max": images[:, c, c],
        "e2x2": e2,
        "e3x3": showers.window_sum(images, 3),
        "e5x5": e5,
        "r9": showers.r9(images),
        "sigma_ietaieta": showers.log_weighted_width(images, axis=-2) * ecal.crystal_eta,
        "sigma_iphiiphi": showers.log_weighted_width(images, axis=-1) * ecal.crystal_phi,
        "e2x2_e5x5": np.divide(e2, e5, out=np.zeros_like(e2), where=e5 > 0),
        "eta_width": showers.energy_width(images, -2, threshold) * ecal.crystal_eta,
        "phi_width": showers.energy_width(images, -1, threshold) * ecal.crystal_phi,
        "n_crystals": showers.n_above(images, threshold),
    }


def _analyse(record, process, pool, mu, rng, ecal, seed_threshold, min_et, size, threshold):
    hard, hard_prompt = _hard_particles(record)
    if mu > 0:
        particles, n_pileup = overlay(hard, mu, rng, pool)
    else:
        particles, n_pileup = hard, np.zeros(len(hard), np.int64)
    n_all = ak.to_numpy(ak.num(particles))
    p_event = np.repeat(np.arange(n_all.size), n_all)
    is_pu = ak.to_numpy(ak.flatten(ak.local_index(particles) >= ak.num(hard)))
    flat = {k: ak.to_numpy(ak.flatten(particles[k])).astype(float) for k in particles.fields}
    pid = flat["pid"].astype(np.int64)
    is_prompt = np.zeros(is_pu.size, dtype=bool)
    is_prompt[~is_pu] = hard_prompt
    p_e = np.sqrt((flat["pt"] * np.cosh(flat["eta"])) ** 2 + flat["m"] ** 2)
    em = (pid == 22) | (np.abs(pid) == 11)
    rows = []
    for start in range(0, record.n_events, _GRID_EVENTS):
        stop = min(start + _GRID_EVENTS, record.n_events)
        sel = (p_event >= start) & (p_event < stop)
        local = p_event - start
        grid = ecal.deposit(
            local[sel], flat["eta"][sel], flat["phi"][sel], p_e[sel], pid[sel], flat["charge"][sel],
            stop - start, rng,
        )
        event, ieta, iphi, images = find_candidates(grid, ecal, seed_threshold, size)
        eta_c = (ieta + 0.5) * ecal.crystal_eta - ecal.eta_max
        e5 = showers.window_sum(images, 5)
        keep = e5 / np.cosh(eta_c) > min_et
        event, ieta, iphi, images, eta_c, e5 = (
            a[keep] for a in (event, ieta, iphi, images, eta_c, e5)
        )
        em_idx = np.flatnonzero(sel & em)
        best = _match(event, ieta, iphi, local[em_idx], flat["eta"][em_idx], flat["phi"][em_idx],
                      p_e[em_idx], ecal)
        has = best >= 0
        truth = em_idx[np.maximum(best, 0)] if em_idx.size else np.zeros(best.size, np.int64)
        tpid = np.where(has, pid[truth] if pid.size else 0, 0)
        tprompt = has & (is_prompt[truth] if is_prompt.size else False)
        if process == "photon":
            keep = tprompt & (tpid == 22)
        elif process == "electron":
            keep = tprompt & (np.abs(tpid) == 11)
        else:
            keep = ~tprompt
        img, c = images[keep], size // 2
        w = np.maximum(img[:, c - 1 : c + 2, c - 1 : c + 2], 0.0)
        wsum = np.maximum(w.sum(axis=(1, 2)), 1e-12)
        shift_eta = (w.sum(axis=2) @ np.array([-1.0, 0.0, 1.0])) / wsum
        shift_phi = (w.sum(axis=1) @ np.array([-1.0, 0.0, 1.0])) / wsum
        phi = (iphi[keep] + 0.5 + shift_phi) * ecal.crystal_phi
        rows.append({
            "cand_e": e5[keep],
            "cand_et": e5[keep] / np.cosh(eta_c[keep]),
            "cand_eta": eta_c[keep] + shift_eta * ecal.crystal_eta,
            "cand_phi": np.mod(phi + np.pi, 2 * np.pi) - np.pi,
            **_shapes(img, e5[keep], ecal, threshold),
            "truth_e": np.where(has, p_e[truth] if p_e.size else 0.0, 0.0)[keep],
            "truth_pid": tpid[keep],
            "truth_prompt": tprompt[keep],
            "truth_pileup": (has & (is_pu[truth] if is_pu.size else False))[keep],
            "n_pileup": n_pileup[start + event[keep]],
            "image": img.reshape(img.shape[0], size * size),
        })
    return rows


_DTYPES = {"truth_pid": np.int32, "truth_prompt": np.int32, "truth_pileup": np.int32, "n_pileup": np.int32, "n_crystals": np.int32}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    mu: float = 0.0,
    pt_hat_min: float = 20.0,
    min_et: float = 10.0,
    mpi: bool = True,
    pool_size: int = 1000,
    image_size: int = 11,
    seed_threshold: float = 1.0,
    crystal_threshold: float = 0.12,
    ecal: dict | None = None,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events of ``process`` and return one row per kept ECAL candidate.

    Parameters
    ----------
    seed
        Pythia seed (1 to 900,000,000); the detector's numpy generator and the pile-up pool's seed
        derive from it.
    n_events
        Events to generate.
    process
        ``photon``, ``electron``, ``qcd`` or ``minbias`` (see the module docstring).
    mu
        Mean number of overlaid minimum-bias events.
    pt_hat_min
        ``PhaseSpace:pTHatMin`` (GeV) of ``photon`` and ``qcd``.
    min_et
        Minimum candidate transverse energy (E5x5 / cosh eta) in GeV.
    mpi
        Multiparton interactions in the hard events (the pool always has them).
    pool_size
        Minimum-bias events in the pile-up pool (generated once per seed and process).
    image_size
        Odd side of the stored image in crystals (>= 5).
    seed_threshold, crystal_threshold
        Seed energy and the crystal energy counted in ``n_crystals`` and the widths (GeV).
    ecal
        Keyword arguments of :class:`Ecal`.
    """
    if process not in PROCESS_SETTINGS:
        raise ValueError(f"unknown photons process {process!r}; choose from {sorted(PROCESS_SETTINGS)}")
    if image_size < 5 or image_size % 2 == 0:
        raise ValueError(f"image_size must be odd and >= 5, got {image_size}")
    start = time.process_time()
    detector = Ecal(**(ecal or {}))
    settings = ["Beams:eCM = 13000", f"PartonLevel:MPI = {'on' if mpi else 'off'}", *PROCESS_SETTINGS[process]]
    if process in _PT_HAT:
        settings.append(f"PhaseSpace:pTHatMin = {pt_hat_min}")
    pythia = make_pythia(settings, seed)
    rng = np.random.default_rng([seed, 7])
    pool = None
    if mu > 0:
        pool_seed = int(np.random.SeedSequence([seed, 11]).generate_state(1)[0]) % MAX_SEED + 1
        pool = cached_pool(pool_size, pool_seed, detector.eta_max + 0.1)
    rows, done = [], 0
    while done < n_events:
        size = min(_BATCH_EVENTS, n_events - done)
        record = flatten_batch(pythia.nextBatch(size, "skip"), pythia)
        rows += _analyse(record, process, pool, mu, rng, detector, seed_threshold, min_et, image_size, crystal_threshold)
        done += size
    columns: dict[str, np.ndarray | ak.Array] = {}
    for name in rows[0] if rows else []:
        values = np.concatenate([r[name] for r in rows])
        if name == "image":
            npix = np.full(values.shape[0], image_size**2, dtype=np.int64)
            columns[name] = ak.unflatten(values.astype(np.float32).reshape(-1), npix)
            columns["image_npix"] = npix.astype(np.int32)
        else:
            columns[name] = values.astype(_DTYPES.get(name, np.float32))
    cpu = time.process_time() - start
    n_rows = len(columns.get("cand_e", []))
    logger.info("photons/%s: %d events, %d candidates in %.1f CPU s (%.0f events/s, %.1f kept/s)",
                process, n_events, n_rows, cpu, n_events / cpu, n_rows / cpu)
    return columns


def validation_plots(path: Path, out_dir: Path) -> list[Path]:
    """R9, sigma_ietaieta and E_T by label, and the average image of each label."""
    import h5py

    from hepml.plotting.style import label, new_figure, save, set_style

    with h5py.File(path) as handle:
        data = {k: handle[k][()] for k in ("label", "r9", "sigma_ietaieta", "cand_et", "image", "image_npix")}
    set_style("CMS")
    labels = np.unique(data["label"])
    written: list[Path] = []
    for name, bins, xlabel in (
        ("r9", np.linspace(0, 1.05, 43), "$R_9 = E_{3x3}/E_{5x5}$"),
        ("sigma_ietaieta", np.linspace(0, 0.03, 46), r"$\sigma_{i\eta i\eta}$"),
        ("cand_et", np.linspace(0, 100, 51), r"candidate $E_T$ [GeV]"),
    ):
        fig, (ax,) = new_figure()
        for lab in labels:
            ax.hist(np.clip(data[name][data["label"] == lab], bins[0], bins[-1]), bins, histtype="step", density=True, label=f"label {lab}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("normalised")
        ax.legend()
        label(ax)
        written += save(fig, Path(out_dir) / f"photons_{name}")
    side = int(round(np.sqrt(int(data["image_npix"][0])))) if len(data["image_npix"]) else 11
    for lab in labels:
        images = data["image"][data["label"] == lab][:, : side * side].reshape(-1, side, side)
        fig, (ax,) = new_figure()
        shown = ax.imshow(np.maximum(images.mean(axis=0), 1e-3), norm="log", origin="lower", cmap="viridis")
        fig.colorbar(shown, ax=ax, label="mean crystal energy [GeV]")
        ax.set_xlabel(r"$i\phi$ - seed")
        ax.set_ylabel(r"$i\eta$ - seed")
        label(ax)
        written += save(fig, Path(out_dir) / f"photons_image_label{lab}")
    return written
