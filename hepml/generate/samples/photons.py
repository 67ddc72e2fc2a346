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
73 % in the central crystal, 96 % in 3x3 and 99.7 % in 5x5 for a central impact; the shower's
energy is spread over the 7x7 crystals around the impact crystal (99.99 % of it; 5x5 and at least
99.3 % below ``soft_energy`` = 5 GeV, which halves the cost of pile-up photons). The shower energy
is smeared with ``3 %/sqrt(E) (+) 0.5 %``; every crystal gets Gaussian noise of 0.04 GeV, which is a
noise term of 0.2 GeV for a 5x5 sum (CMS: 2.8 %/sqrt(E) (+) 0.12 GeV (3x3) (+) 0.3 %). Charged
hadrons and muons leave a minimum-ionising 0.3 GeV (or their energy if lower) in the crystal they
hit; neutral hadrons and neutrinos leave nothing.

Candidates: crystals above ``seed_threshold`` that are maxima of their 3x3 neighbourhood; the
candidate energy is E5x5 and its position the energy-weighted centre of the 3x3. Kept with
``E_T > min_et``. Shower shapes (:mod:`hepml.physics.showers`): ``r9 = E3x3 / E5x5`` (no
super-clustering), ``sigma_ietaieta`` in eta units over 5x5 (CMS definition, w0 = 4.7), the
energy-weighted widths ``eta_width``/``phi_width`` and ``n_crystals`` over the image's crystals
above ``crystal_threshold``; ``e_raw`` is the raw sum of all the image's crystals. Truth: the
most energetic photon or electron hitting the 3x3 around the seed. ``photon`` and ``electron``
keep candidates matched to the prompt photon (first copy from the hard process) or the electron
from the W; ``qcd`` and ``minbias`` keep the others. The image
is ``image_size x image_size`` crystals around the seed (rows ieta, columns iphi) stored flattened
row-major in the jagged column ``image`` (``image_npix = image_size**2`` values per row; the HDF5
writer pads it to a 2D array), as it was stored before :func:`hepml.data.io.write_columns` took
fixed-size ``[n, H, W]`` columns.

Speed (one core, MPI on, ``mu = 50``, chunks of 1,000 events each with its own 1,000-event pool):
about 85 events/s; 28 photons/s (0.33 per event), 33 electrons/s (0.37) and 39 fakes/s (0.46 from
QCD with ``pTHatMin = 50``). Without pile-up about 140-150 events/s. The pool takes ~20 % of the
time, the crystal deposits of the ~3,000 particles per event ~30 %.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepml.generate.pileup import cached_pool, overlay
from hepml.generate.pythia import MAX_SEED, make_pythia
from hepml.generate.record import FlatRecord, flatten_batch
from hepml.physics import showers
from hepml.physics.kinematics import pxpypze_to_ptetaphim

logger = logging.getLogger(__name__)

__all__ = ["PROCESS_SETTINGS", "Ecal", "build_chunk", "find_candidates"]

PROCESS_SETTINGS = {
    "photon": ("PromptPhoton:all = on",),
    "electron": ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11"),
    "qcd": ("HardQCD:all = on",),
    "minbias": ("SoftQCD:nonDiffractive = on",),
}
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
    soft_energy: float = 5.0

    @property
    def n_eta(self) -> int:
        return int(round(2 * self.eta_max / self.crystal_eta))

    @property
    def crystal_phi(self) -> float:
        return 2 * np.pi / self.n_phi

    def profile(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Widths (crystal units) and energy fractions of the two Gaussian components."""
        rm = self.moliere_mm / (self.radius_mm * self.crystal_eta)
        widths = (self.core_width * rm, self.tail_width * rm)
        return widths, (self.core_fraction, 1 - self.core_fraction)

    def cell(self, eta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous crystal coordinates ``(u, v)``: crystal ``(floor(u), floor(v))``."""
        u = (np.asarray(eta, dtype=float) + self.eta_max) / self.crystal_eta
        return u, np.mod(phi, 2 * np.pi) / self.crystal_phi

    def deposit(self, event, eta, phi, energy, pid, charge, n_events, rng) -> np.ndarray:
        """Crystal energies ``[n_events, n_eta, n_phi]`` (float32, GeV) of particles given as
        flat arrays. Draws one normal number per showering particle in the barrel, then one per
        crystal (if ``noise > 0``), so the result is reproducible for a generator state."""
        event, energy, pid, charge = (np.asarray(a) for a in (event, energy, pid, charge))
        n_cells = self.n_eta * self.n_phi
        u, v = self.cell(eta, phi)
        inside = (u >= 0) & (u < self.n_eta)
        shower = inside & ((pid == 22) | (np.abs(pid) == 11))
        mip = inside & (charge != 0) & ~shower
        iu, iv = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64) % self.n_phi
        e = energy[shower].astype(float)
        rel = np.hypot(self.stochastic / np.sqrt(np.maximum(e, 1e-9)), self.constant)
        e = np.maximum(e * (1 + rel * rng.standard_normal(e.size)), 0.0)
        du, dv = u[shower] - iu[shower] - 0.5, v[shower] - np.floor(v[shower]) - 0.5
        keys = [event[mip] * n_cells + iu[mip] * self.n_phi + iv[mip]]
        values = [np.minimum(energy[mip], self.mip)]
        for size, group in ((self.window, e >= self.soft_energy), (5, e < self.soft_energy)):
            frac = showers.profile_fractions(du[group], dv[group], size, *self.profile())
            off = np.arange(size) - size // 2
            ie = iu[shower][group][:, None, None] + off[None, :, None]
            ip = (iv[shower][group][:, None, None] + off[None, None, :]) % self.n_phi
            ok = np.broadcast_to((ie >= 0) & (ie < self.n_eta), frac.shape)
            keys.append((event[shower][group][:, None, None] * n_cells + ie * self.n_phi + ip)[ok])
            values.append((e[group][:, None, None] * frac)[ok])
        grid = np.bincount(
            np.concatenate(keys), np.concatenate(values), minlength=n_events * n_cells
        ).astype(np.float32)
        if self.noise > 0:
            grid += np.float32(self.noise) * rng.standard_normal(grid.size, dtype=np.float32)
        return grid.reshape(n_events, self.n_eta, self.n_phi)


def find_candidates(grid: np.ndarray, ecal: Ecal, seed_threshold: float = 1.0, size: int = 11):
    """Seeds (local maxima above ``seed_threshold``) of a crystal grid and their images.

    Returns ``(event, ieta, iphi, images)``: the seeds' event and crystal indices and the
    ``[n, size, size]`` crystal energies around them (zero beyond the barrel's ends).
    """
    event, ieta, iphi = np.nonzero(showers.local_maxima(grid, seed_threshold))
    return event, ieta, iphi, showers.crop(grid, event, ieta, iphi, size)


def _prompt(record: FlatRecord) -> np.ndarray:
    """Final-state photons whose first copy is from the hard process (``|status| = 23``) and
    electrons whose first copy's mother is a W or Z."""
    final = record.status > 0
    photon = np.flatnonzero(final & (record.pid == 22))
    electron = np.flatnonzero(final & (np.abs(record.pid) == 11))
    flag = np.zeros(record.pid.size, dtype=bool)
    flag[photon[np.abs(record.status[record.first_copy(photon)]) == 23]] = True
    mother = record.mother[record.first_copy(electron)]
    from_boson = (mother >= 0) & np.isin(np.abs(record.pid[np.maximum(mother, 0)]), (23, 24))
    flag[electron[from_boson]] = True
    return flag


def _match(event, ieta, iphi, p: dict, idx: np.ndarray, start: int, ecal: Ecal) -> np.ndarray:
    """The particle (from ``idx``) with the largest energy hitting the 3x3 around each seed of
    the grid of events ``start...``, as an index into ``p``'s arrays, or -1."""
    if event.size == 0 or idx.size == 0:
        return np.full(event.size, -1, dtype=np.int64)
    n_cells = ecal.n_eta * ecal.n_phi
    u, v = ecal.cell(p["eta"][idx], p["phi"][idx])
    key = (p["event"][idx] - start) * n_cells + np.floor(u).astype(np.int64) * ecal.n_phi
    key += np.floor(v).astype(np.int64) % ecal.n_phi
    order = np.lexsort((-p["e"][idx], key))  # per crystal, the most energetic particle first
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
    keys = key[first]
    off = np.array([-1, 0, 1])
    ce = np.repeat(ieta[:, None] + off, 3, axis=1)
    cp = np.tile((iphi[:, None] + off) % ecal.n_phi, 3)
    ckey = event[:, None] * n_cells + ce * ecal.n_phi + cp
    pos = np.minimum(np.searchsorted(keys, ckey), keys.size - 1)
    found = (keys[pos] == ckey) & (ce >= 0) & (ce < ecal.n_eta)
    pick = np.argmax(np.where(found, p["e"][idx[first[pos]]], -1.0), axis=1)
    return np.where(found, idx[first[pos]], -1)[np.arange(event.size), pick]


def _particles(record: FlatRecord, mu: float, rng, pool) -> dict[str, np.ndarray]:
    """Flat arrays of the final-state particles (no neutrinos) with pile-up overlaid."""
    final = np.flatnonzero((record.status > 0) & ~np.isin(np.abs(record.pid), (12, 14, 16)))
    pt, eta, phi, m = pxpypze_to_ptetaphim(
        record.px[final], record.py[final], record.pz[final], record.e[final]
    )
    counts = np.bincount(record.event[final], minlength=record.n_events)
    fields = {"pt": pt, "eta": eta, "phi": phi, "m": m}
    fields |= {"charge": record.charge[final], "pid": record.pid[final]}
    hard = ak.zip({k: ak.unflatten(v, counts) for k, v in fields.items()})
    particles, n_pileup = overlay(hard, mu, rng, pool) if mu > 0 else (hard, 0 * counts)
    flat = {k: ak.to_numpy(ak.flatten(particles[k])).astype(float) for k in fields}
    flat["pid"] = flat["pid"].astype(np.int64)
    flat["e"] = np.sqrt((flat["pt"] * np.cosh(flat["eta"])) ** 2 + flat["m"] ** 2)
    flat["pileup"] = ak.to_numpy(ak.flatten(ak.local_index(particles) >= ak.num(hard)))
    flat["prompt"] = np.zeros(flat["pileup"].size, dtype=bool)
    flat["prompt"][~flat["pileup"]] = _prompt(record)[final]
    flat["event"] = np.repeat(np.arange(len(particles)), ak.to_numpy(ak.num(particles)))
    flat["n_pileup"] = n_pileup
    return flat


def _analyse(record: FlatRecord, process: str, pool, rng, ecal: Ecal, opt: dict) -> list[dict]:
    p = _particles(record, opt["mu"], rng, pool)
    em = np.flatnonzero((p["pid"] == 22) | (np.abs(p["pid"]) == 11))
    size, rows = opt["image_size"], []
    for start in range(0, record.n_events, _GRID_EVENTS):
        stop = min(start + _GRID_EVENTS, record.n_events)
        sel = (p["event"] >= start) & (p["event"] < stop)
        grid = ecal.deposit(
            p["event"][sel] - start,
            *(p[k][sel] for k in ("eta", "phi", "e", "pid", "charge")),
            stop - start,
            rng,
        )
        event, ieta, iphi, images = find_candidates(grid, ecal, opt["seed_threshold"], size)
        eta = (ieta + 0.5) * ecal.crystal_eta - ecal.eta_max
        keep = showers.window_sum(images, 5) / np.cosh(eta) > opt["min_et"]
        event, ieta, iphi, images, eta = (a[keep] for a in (event, ieta, iphi, images, eta))
        truth = _match(event, ieta, iphi, p, em[sel[em]], start, ecal)
        t, has = np.maximum(truth, 0), truth >= 0
        pid = np.where(has, p["pid"][t], 0) if has.size else truth
        prompt = has & p["prompt"][t] if has.size else has
        if process == "photon":
            keep = prompt & (pid == 22)
        elif process == "electron":
            keep = prompt & (np.abs(pid) == 11)
        else:
            keep = ~prompt
        img = images[keep]
        shapes = showers.shower_shapes(img, opt["crystal_threshold"])
        for name, unit in (("ietaieta", ecal.crystal_eta), ("iphiiphi", ecal.crystal_phi)):
            shapes[f"sigma_{name}"] = shapes[f"sigma_{name}"] * unit
        shapes["eta_width"] = shapes["eta_width"] * ecal.crystal_eta
        shapes["phi_width"] = shapes["phi_width"] * ecal.crystal_phi
        d_eta, d_phi = showers.centroid(img)
        phi = (iphi[keep] + 0.5 + d_phi) * ecal.crystal_phi
        rows.append(
            {
                "cand_e": shapes["e5x5"],
                "cand_et": shapes["e5x5"] / np.cosh(eta[keep]),
                "cand_eta": eta[keep] + d_eta * ecal.crystal_eta,
                "cand_phi": np.mod(phi + np.pi, 2 * np.pi) - np.pi,
                **shapes,
                "e_raw": img.sum(axis=(-2, -1)),  # every crystal of the image: the raw sum
                "truth_e": (np.where(has, p["e"][t], 0.0) if has.size else has)[keep],
                "truth_pid": pid[keep],
                "truth_prompt": prompt[keep],
                "truth_pileup": (has & p["pileup"][t] if has.size else has)[keep],
                "n_pileup": p["n_pileup"][start + event[keep]],
                "image": img.reshape(img.shape[0], size * size),
            }
        )
    return rows


_INT = {"truth_pid", "truth_prompt", "truth_pileup", "n_pileup", "n_crystals"}


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    mu: float = 0.0,
    pt_hat_min: float = 20.0,
    min_et: float = 10.0,
    mpi: bool = True,
    pool_size: int = 1000,
    pool_seed: int | None = None,
    image_size: int = 11,
    seed_threshold: float = 1.0,
    crystal_threshold: float = 0.12,
    unique_pileup_seeds: bool = True,
    ecal: dict | None = None,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events of ``process`` and return one row per kept ECAL candidate.

    Parameters
    ----------
    seed
        Pythia seed (1 to 900,000,000); the numpy generator of the detector and the overlay
        derives from it, and so does the pile-up pool's seed unless ``pool_seed`` is given.
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
    pool_size, pool_seed
        Minimum-bias events in the pile-up pool and its seed. A fixed ``pool_seed`` makes every
        chunk draw from one pool, generated once per worker process (cheaper, but all chunks
        share the same minimum-bias events); None gives each chunk its own pool.
    image_size
        Odd side of the stored image in crystals (>= 5).
    seed_threshold, crystal_threshold
        Seed energy, and the crystal energy counted in ``n_crystals`` and the widths (GeV).
    unique_pileup_seeds
        Keep only the first candidate seeded by each pool particle. A pool event is overlaid
        ``mu * n_events / pool_size`` times per chunk (50 with the defaults of the config), so
        the rare pool events with an energetic photon would otherwise give tens of copies of one
        shower (rotated, in other surroundings), which leak between training and test splits.
        Without copies, candidates seeded by pile-up are that factor rarer than in nature.
    ecal
        Keyword arguments of :class:`Ecal`.
    """
    if n_events < 1:
        raise ValueError(f"n_events must be positive, got {n_events}")
    if process not in PROCESS_SETTINGS:
        raise ValueError(
            f"unknown photons process {process!r}; choose from {sorted(PROCESS_SETTINGS)}"
        )
    if image_size < 5 or image_size % 2 == 0:
        raise ValueError(f"image_size must be odd and >= 5, got {image_size}")
    start = time.process_time()
    detector = Ecal(**(ecal or {}))
    settings = ["Beams:eCM = 13000", f"PartonLevel:MPI = {'on' if mpi else 'off'}"]
    settings += PROCESS_SETTINGS[process]
    if process in ("photon", "qcd"):
        settings.append(f"PhaseSpace:pTHatMin = {pt_hat_min}")
    pythia = make_pythia(settings, seed)
    rng = np.random.default_rng([seed, 7])
    pool = None
    if mu > 0:
        if pool_seed is None:
            pool_seed = int(np.random.SeedSequence([seed, 11]).generate_state(1)[0]) % MAX_SEED + 1
        pool = cached_pool(pool_size, pool_seed, detector.eta_max + 0.1)
    opt = {"mu": mu, "min_et": min_et, "image_size": image_size}
    opt |= {"seed_threshold": seed_threshold, "crystal_threshold": crystal_threshold}
    rows, done = [], 0
    while done < n_events:
        size = min(_BATCH_EVENTS, n_events - done)
        record = flatten_batch(pythia.nextBatch(size, "skip"), pythia)
        rows += _analyse(record, process, pool, rng, detector, opt)
        done += size
    merged = {name: np.concatenate([r[name] for r in rows]) for name in rows[0]}
    if unique_pileup_seeds:
        # a pool particle keeps its energy and PDG code through the random rotation/reflection
        key = np.where(merged["truth_pileup"], merged["truth_pid"] * 1e7 + merged["truth_e"], -1.0)
        first = np.unique(key, return_index=True)[1]
        keep = ~merged["truth_pileup"].astype(bool) | np.isin(np.arange(key.size), first)
        merged = {name: values[keep] for name, values in merged.items()}
    columns: dict[str, np.ndarray | ak.Array] = {}
    for name, values in merged.items():
        if name == "image":
            npix = np.full(values.shape[0], image_size**2, dtype=np.int32)
            columns[name] = ak.unflatten(values.astype(np.float32).reshape(-1), npix)
            columns["image_npix"] = npix
        else:
            columns[name] = values.astype(np.int32 if name in _INT else np.float32)
    cpu = time.process_time() - start
    n = len(columns["cand_e"])
    logger.info(
        "photons/%s: %d events, %d candidates in %.1f CPU s (%.0f events/s, %.1f kept/s)",
        process,
        n_events,
        n,
        cpu,
        n_events / cpu,
        n / cpu,
    )
    return columns
