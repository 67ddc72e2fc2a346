"""Pythia event records of a ``pythia.nextBatch(n)`` batch as flat numpy arrays, and genealogy.

The sample builders analyse a whole batch at once: :func:`flatten_particles` (and
:func:`flatten_batch`, which adds charges and production vertices) turns the awkward record
``[event][particle]`` into flat arrays whose mother and daughter links are global indices into
them, so finding particles, following copies and labelling decay products are vectorised numpy
operations over every event of the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import awkward as ak
import numpy as np

__all__ = [
    "FlatParticles",
    "FlatRecord",
    "charge_lookup",
    "flatten_batch",
    "flatten_particles",
    "label_descendants",
]


@dataclass
class FlatParticles:
    """The particles of a batch of events as flat numpy arrays with global indices.

    ``mother``, ``daughter1`` and ``daughter2`` are global indices into the flat arrays (-1 for
    none); ``event`` is each particle's event and ``counts`` the particles per event.
    """

    counts: np.ndarray
    event: np.ndarray
    pid: np.ndarray
    status: np.ndarray
    mother: np.ndarray
    daughter1: np.ndarray
    daughter2: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray

    @property
    def n_events(self) -> int:
        return int(self.counts.size)

    def first_copy(self, idx: np.ndarray) -> np.ndarray:
        """The first copy of each particle ``idx``: up through mothers with the same PDG code."""
        top = np.asarray(idx, dtype=np.int64).copy()
        while True:
            up = self.mother[top]
            move = (up >= 0) & (self.pid[np.maximum(up, 0)] == self.pid[top])
            if not move.any():
                return top
            top = np.where(move, up, top)

    def daughters(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(position in idx, daughter index)`` for every direct daughter of the particles."""
        d1 = self.daughter1[idx]
        d2 = np.where(self.daughter2[idx] >= d1, self.daughter2[idx], d1)
        n = np.where(d1 >= 0, d2 - d1 + 1, 0)
        owner = np.repeat(np.arange(len(idx)), n)
        return owner, np.repeat(d1, n) + np.arange(owner.size) - np.repeat(np.cumsum(n) - n, n)


@dataclass
class FlatRecord(FlatParticles):
    """:class:`FlatParticles` with the charges (e) and production vertices ``vx, vy, vz`` (mm,
    the origin where Pythia sets none)."""

    vx: np.ndarray
    vy: np.ndarray
    vz: np.ndarray
    charge: np.ndarray


def _flat(values: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.flatten(values))


def flatten_particles(batch: ak.Array) -> FlatParticles:
    """Flatten the genealogy and momenta of ``pythia.nextBatch(n)`` (field ``prt`` with ``id,
    status, mother1, daughter1, daughter2, p``) into a :class:`FlatParticles`."""
    prt = batch.prt
    counts = ak.to_numpy(ak.num(prt)).astype(np.int64)
    event = np.repeat(np.arange(counts.size), counts)
    offset = (np.cumsum(counts) - counts)[event]

    def index(values: ak.Array) -> np.ndarray:  # Pythia's 0 (the event as a whole) is "none"
        local = _flat(values).astype(np.int64)
        return np.where(local > 0, local + offset, -1)

    momenta = ak.flatten(prt.p)
    return FlatParticles(
        counts=counts,
        event=event,
        pid=_flat(prt.id).astype(np.int64),
        status=_flat(prt.status).astype(np.int64),
        mother=index(prt.mother1),
        daughter1=index(prt.daughter1),
        daughter2=index(prt.daughter2),
        px=ak.to_numpy(momenta.px),
        py=ak.to_numpy(momenta.py),
        pz=ak.to_numpy(momenta.pz),
        e=ak.to_numpy(momenta.e),
    )


def flatten_batch(batch: ak.Array, pythia) -> FlatRecord:
    """Flatten ``pythia.nextBatch(n)`` into a :class:`FlatRecord`.

    Parameters
    ----------
    batch
        Output of ``pythia.nextBatch`` (also needs the field ``vProd`` of ``prt``).
    pythia
        The generator, for the particles' charges (``particleData``).
    """
    particles = flatten_particles(batch)
    pid = particles.pid
    vertex = ak.flatten(ak.fill_none(batch.prt.vProd, {"px": 0.0, "py": 0.0, "pz": 0.0, "e": 0.0}))
    unique, inverse = np.unique(pid, return_inverse=True)
    charges = np.array([pythia.particleData.charge(int(c)) for c in unique.tolist()])
    return FlatRecord(
        **vars(particles),
        vx=ak.to_numpy(vertex.px),
        vy=ak.to_numpy(vertex.py),
        vz=ak.to_numpy(vertex.pz),
        charge=charges[inverse.reshape(-1)] if pid.size else np.zeros(0),
    )


def charge_lookup(pythia) -> Callable[[np.ndarray], np.ndarray]:
    """A function mapping an array of PDG ids to charges (float, e), cached per PDG id."""
    charges: dict[int, float] = {}

    def charge_of(codes: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(codes, return_inverse=True)
        for code in unique.tolist():
            if code not in charges:
                charges[code] = pythia.particleData.charge(code)
        return np.array([charges[c] for c in unique.tolist()], dtype=float)[inverse]

    return charge_of


def label_descendants(mother: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """For every particle, the position in ``roots`` of its nearest root ancestor (or of itself
    when it is a root), following ``mother`` links; -1 for particles outside every root's tree."""
    label = np.full(mother.shape[0], -1, dtype=np.int64)
    label[roots] = np.arange(roots.size)
    while True:
        open_ = np.flatnonzero((label < 0) & (mother >= 0))
        inherited = label[mother[open_]]
        found = inherited >= 0
        if not found.any():
            return label
        label[open_[found]] = inherited[found]
