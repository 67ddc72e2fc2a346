"""Hadronic-tau sample for tau-pT regression: Z/gamma* -> tau tau and gg -> H(125) -> tau tau.

Events are generated with Pythia 8 at 13 TeV without multiparton interactions, the stable particles
pass a parametric detector response (:class:`~hepml.generate.detector.DetectorResponse`), are
clustered into anti-kT R = 0.4 jets (pT > 15 GeV), and every hadronically decaying tau from the
Z/H whose matched jet (Delta R < 0.2 to the visible tau) has pT > 20 GeV and ``|eta| < 2.3`` gives
one row; see :mod:`hepml.generate.samples.tau_record` for the definitions of the columns.
With ``mu > 0`` each event gets ``Poisson(mu)`` minimum-bias events (MPI on) overlaid before the
detector and the clustering, drawn from a pool of ``pool_size`` events generated once per chunk
(:mod:`hepml.generate.pileup`), and the columns ``n_pileup`` and ``const_pileup`` are added.

:func:`build_chunk` is the builder of ``configs/sample/taus.yaml`` for
:func:`hepml.generate.runner.generate_sample` (chunks, seeds, workers, resuming, provenance);
:func:`generate_taus` is a shortcut calling it with the processes ``z`` (label 0) and ``h``
(label 1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from hepml.data.io import FORMATS
from hepml.generate.detector import DetectorResponse
from hepml.generate.pileup import cached_pool
from hepml.generate.pythia import MAX_SEED, make_pythia
from hepml.generate.record import charge_lookup
from hepml.generate.runner import chunk_seed, generate_sample
from hepml.generate.samples.tau_record import (
    CONSTITUENT_COLUMNS,
    PILEUP_COLUMNS,
    SCALAR_COLUMNS,
    analyse_batch,
    empty_columns,
)

logger = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "COMMON_SETTINGS",
    "PROCESS_CODES",
    "PROCESS_SETTINGS",
    "build_chunk",
    "chunk_seed",
    "generate_taus",
]

#: Label (and default position in the config) of each process.
PROCESS_CODES = {"z": 0, "h": 1}
COMMON_SETTINGS = ("Beams:eCM = 13000", "PartonLevel:MPI = off", "TauDecays:mMinForZ = 10")
PROCESS_SETTINGS = {
    "z": (
        "WeakSingleBoson:ffbar2gmZ = on",
        "WeakZ0:gmZmode = 2",
        "23:onMode = off",
        "23:onIfAny = 15",
    ),
    "h": ("HiggsSM:gg2H = on", "25:m0 = 125.0", "25:onMode = off", "25:onIfAny = 15"),
}
#: All columns of the builder with ``mu = 0``, in the order they are written (the runner adds
#: ``label``); ``mu > 0`` adds :data:`~hepml.generate.samples.tau_record.PILEUP_COLUMNS`.
COLUMNS = (*SCALAR_COLUMNS, *CONSTITUENT_COLUMNS)

_SELECTION = {
    "jet_radius": 0.4,
    "jet_min_pt": 15.0,
    "match_dr": 0.2,
    "tau_min_pt": 20.0,
    "tau_max_eta": 2.3,
}
_BATCH_EVENTS = 250  # nextBatch keeps ~186 kB per event


def _concatenate(parts: Sequence[dict], pileup: bool) -> dict[str, np.ndarray | ak.Array]:
    parts = [empty_columns(pileup), *parts]
    names = (*COLUMNS, *PILEUP_COLUMNS) if pileup else COLUMNS
    return {
        name: ak.concatenate([p[name] for p in parts])
        if name.startswith("const_")
        else np.concatenate([p[name] for p in parts])
        for name in names
    }


def build_chunk(
    seed: int,
    n_events: int,
    process: str,
    detector: Mapping[str, float] | None = None,
    mu: float = 0.0,
    pool_size: int = 200,
) -> dict[str, np.ndarray | ak.Array]:
    """Generate and analyse ``n_events`` events of one process: one row per kept hadronic tau.

    Parameters
    ----------
    seed
        Seed of Pythia, in ``[1, 900,000,000]``; the detector's numpy generator uses it too.
    n_events
        Events to generate (events Pythia fails to generate are skipped).
    process
        ``"z"`` (Z/gamma* -> tau tau) or ``"h"`` (gg -> H(125) -> tau tau).
    detector
        Keyword arguments of :class:`DetectorResponse` (its defaults when None).
    mu
        Mean number of minimum-bias events overlaid on each event (0: no pile-up).
    pool_size
        Minimum-bias events generated for this call (a seed derived from ``seed``) and sampled
        with replacement for the overlay; only with ``mu > 0``.

    Returns
    -------
    dict
        The columns :data:`COLUMNS` (see :mod:`hepml.generate.samples.tau_record`), and with
        ``mu > 0`` ``n_pileup`` and ``const_pileup``.
    """
    if process not in PROCESS_SETTINGS:
        raise ValueError(f"unknown tau process {process!r}: use one of {sorted(PROCESS_SETTINGS)}")
    if mu < 0:
        raise ValueError(f"the mean pile-up mu must be >= 0, got {mu}")
    response = DetectorResponse(**dict(detector or {}))
    pool = None
    if mu > 0:
        pool_seed = int(np.random.SeedSequence([seed, 2]).generate_state(1)[0]) % MAX_SEED + 1
        pool = cached_pool(int(pool_size), pool_seed, response.eta_max)
    pythia = make_pythia([*COMMON_SETTINGS, *PROCESS_SETTINGS[process]], seed)
    rng = np.random.default_rng(seed)
    charge_of = charge_lookup(pythia)
    parts, requested = [], 0
    while requested < n_events:
        size = min(_BATCH_EVENTS, n_events - requested)
        batch = pythia.nextBatch(size, "skip")
        columns, _ = analyse_batch(
            batch, charge_of, response, rng, PROCESS_CODES[process], **_SELECTION,
            pool=pool, mu=mu,
        )  # fmt: skip
        parts.append(columns)
        requested += size
        del batch
    return _concatenate(parts, pool is not None)


def generate_taus(
    output: str | Path,
    n_taus: int,
    processes: Sequence[str] = ("z", "h"),
    seed: int = 1,
    workers: int = 1,
    chunk_size: int = 500,
    detector: DetectorResponse | None = None,
    progress: bool = True,
    shuffle: bool = True,
) -> Path:
    """Generate a sample of hadronic taus with matched jets and write it to HDF5 or ROOT.

    A shortcut for :func:`hepml.generate.runner.generate_sample` with :func:`build_chunk`.

    Parameters
    ----------
    output
        ``.h5``/``.hdf5`` or ``.root`` file (see :func:`hepml.data.io.write_columns`).
    n_taus
        Rows to write, split evenly between the processes (the first ones get the remainder).
    processes
        Any of ``"z"`` (label 0) and ``"h"`` (label 1).
    seed
        Master seed; chunk seeds derive from it (:func:`chunk_seed`).
    workers
        Processes generating chunks in parallel; the output does not depend on it.
    chunk_size
        Events per chunk (a fresh Pythia is initialised per chunk, ~0.2 s).
    detector
        Detector response; the defaults of :class:`DetectorResponse` when None.
    progress
        Show a progress bar of the kept taus.
    shuffle
        Interleave the processes' rows with a permutation seeded by ``seed``.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    output = Path(output)
    unknown = [p for p in processes if p not in PROCESS_CODES]
    if unknown or not processes or len(set(processes)) != len(processes):
        raise ValueError(
            f"processes must be distinct names from {sorted(PROCESS_CODES)}, got {list(processes)}"
        )
    suffix = output.suffix.lower()
    if suffix not in FORMATS["hdf5"] + FORMATS["root"]:
        raise ValueError(
            f"unknown output format {output.suffix!r} for {output}: use one of "
            f"{', '.join(FORMATS['hdf5'] + FORMATS['root'])}"
        )
    return generate_sample(
        name="taus",
        builder=build_chunk,
        output=output,
        n_events=n_taus,
        processes={
            p: {"label": PROCESS_CODES[p], "fraction": 1 / len(processes), "process": p}
            for p in processes
        },
        seed=seed,
        workers=workers,
        chunk_size=chunk_size,
        format="root" if suffix in FORMATS["root"] else "h5",
        shuffle=shuffle,
        params={"detector": detector.as_dict()} if detector is not None else {},
        progress=progress,
    )
