"""Hadronic-tau sample for tau-pT regression: Z/gamma* -> tau tau and gg -> H(125) -> tau tau.

Events are generated with Pythia 8 at 13 TeV without multiparton interactions, the stable particles
pass a parametric detector response (:class:`~hepml.generate.detector.DetectorResponse`), are
clustered into anti-kT R = 0.4 jets (pT > 15 GeV), and every hadronically decaying tau from the
Z/H whose matched jet (Delta R < 0.2 to the visible tau) has pT > 20 GeV and ``|eta| < 2.3`` gives
one row; see :mod:`hepml.generate.samples.tau_record` for the definitions of the columns.

Reproducibility: the events are generated in chunks of ``chunk_size`` events, each with a Pythia
seed derived from ``(seed, process, chunk index)``, and the chunks are used in order whatever
finishes first, so the file depends on ``seed``, ``chunk_size``, ``n_taus`` and ``processes`` but
not on ``workers``.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import hepml
from hepml.data.writers import HDF5_SUFFIXES, ROOT_SUFFIXES, write_columns
from hepml.generate.clustering import fastjet_version
from hepml.generate.detector import DetectorResponse
from hepml.generate.pythia import MAX_SEED, make_pythia, pythia_version
from hepml.generate.samples.tau_record import (
    CONSTITUENT_COLUMNS,
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
    "chunk_seed",
    "generate_taus",
    "run_chunk",
]

#: Integer written to the ``process`` column.
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
#: All columns of the sample, in the order they are written.
COLUMNS = (*SCALAR_COLUMNS, *CONSTITUENT_COLUMNS)

_SELECTION = {
    "jet_algorithm": "anti-kt",
    "jet_radius": 0.4,
    "jet_min_pt": 15.0,
    "match_dr": 0.2,
    "tau_min_pt": 20.0,
    "tau_max_eta": 2.3,
}
_SELECTION_ARGS = {k: v for k, v in _SELECTION.items() if k != "jet_algorithm"}
_BATCH_EVENTS = 250  # nextBatch keeps ~186 kB per event
_PRIOR_YIELD = {"z": 0.4, "h": 0.7}  # kept taus per event, only to decide how far to run ahead
_MAX_EVENTS_WITHOUT_TAUS = 20_000


def chunk_seed(seed: int, process: str, chunk: int) -> int:
    """Pythia seed in ``[1, 900,000,000]`` for one chunk, derived from all three arguments."""
    state = np.random.SeedSequence([seed, PROCESS_CODES[process], chunk]).generate_state(1)
    return int(state[0]) % MAX_SEED + 1


def _concatenate(parts: Sequence[dict]) -> dict[str, np.ndarray | ak.Array]:
    parts = [empty_columns(), *parts]
    return {
        name: ak.concatenate([p[name] for p in parts])
        if name in CONSTITUENT_COLUMNS
        else np.concatenate([p[name] for p in parts])
        for name in COLUMNS
    }


def _take(columns: dict, index: np.ndarray | slice) -> dict[str, np.ndarray | ak.Array]:
    return {name: values[index] for name, values in columns.items()}


def run_chunk(
    process: str, pythia_seed: int, n_events: int, detector_settings: dict[str, float]
) -> tuple[dict[str, np.ndarray | ak.Array], int, float]:
    """Generate and analyse one chunk of events in the current process.

    Parameters
    ----------
    process
        ``"z"`` or ``"h"``.
    pythia_seed
        Seed of Pythia; the detector's numpy generator is seeded with it too.
    n_events
        Events to generate.
    detector_settings
        Keyword arguments of :class:`DetectorResponse`.

    Returns
    -------
    columns : dict
        One row per kept tau (see :mod:`hepml.generate.samples.tau_record`).
    n_events : int
        Events generated (events Pythia failed to generate are skipped).
    cpu_seconds : float
        CPU time of this call, including Pythia's initialisation.
    """
    start = time.process_time()
    detector = DetectorResponse(**detector_settings)
    pythia = make_pythia([*COMMON_SETTINGS, *PROCESS_SETTINGS[process]], pythia_seed)
    rng = np.random.default_rng(pythia_seed)
    charges: dict[int, float] = {}

    def charge_of(pid: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(pid, return_inverse=True)
        for code in unique.tolist():
            if code not in charges:
                charges[code] = pythia.particleData.charge(code)
        return np.array([charges[code] for code in unique.tolist()])[inverse]

    parts, generated, requested = [], 0, 0
    while requested < n_events:
        size = min(_BATCH_EVENTS, n_events - requested)
        batch = pythia.nextBatch(size, "skip")
        columns, n = analyse_batch(
            batch, charge_of, detector, rng, PROCESS_CODES[process], **_SELECTION_ARGS
        )
        parts.append(columns)
        generated += n
        requested += size
        del batch
    return _concatenate(parts), generated, time.process_time() - start


@dataclass
class _ProcessState:
    name: str
    target: int
    next_chunk: int = 0
    kept: int = 0
    events: int = 0
    cpu: float = 0.0
    in_flight: int = 0
    parts: list = field(default_factory=list)
    seeds: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.kept >= self.target

    def wants_chunk(self, chunk_size: int) -> bool:
        per_event = self.kept / self.events if self.events else _PRIOR_YIELD[self.name]
        expected = self.kept + 0.9 * self.in_flight * per_event * chunk_size
        return not self.done and expected < self.target


def _run_here(args: tuple) -> Future:
    """Runs a chunk in this process and wraps the result like a pool's future."""
    future: Future = Future()
    future.set_result(run_chunk(*args))
    return future


def _check_arguments(
    output: Path, n_taus: int, processes: Sequence[str], seed: int, workers: int, chunk_size: int
) -> None:
    if output.suffix.lower() not in HDF5_SUFFIXES + ROOT_SUFFIXES:
        raise ValueError(
            f"unknown output format {output.suffix!r} for {output}: use one of "
            f"{', '.join(HDF5_SUFFIXES + ROOT_SUFFIXES)}"
        )
    unknown = [p for p in processes if p not in PROCESS_CODES]
    if unknown or not processes or len(set(processes)) != len(processes):
        raise ValueError(
            f"processes must be distinct names from {sorted(PROCESS_CODES)}, got {list(processes)}"
        )
    if n_taus < 1 or workers < 1 or chunk_size < 1:
        raise ValueError(
            f"n_taus, workers and chunk_size must be positive, got {n_taus}, {workers}, "
            f"{chunk_size}"
        )
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")


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

    Parameters
    ----------
    output
        ``.h5``/``.hdf5`` or ``.root`` file (see :func:`hepml.data.writers.write_columns`).
    n_taus
        Rows to write, split evenly between the processes (the first ones get the remainder).
    processes
        Any of ``"z"`` (Z/gamma* -> tau tau) and ``"h"`` (gg -> H(125) -> tau tau).
    seed
        Master seed; chunk seeds derive from it (:func:`chunk_seed`).
    workers
        Processes generating chunks in parallel (``spawn`` start method); 1 runs in this process.
        The output does not depend on it.
    chunk_size
        Events per chunk (a fresh Pythia is initialised per chunk, ~0.2 s).
    detector
        Detector response; the defaults of :class:`DetectorResponse` when None.
    progress
        Show a progress bar of the kept taus.
    shuffle
        Interleave the processes' rows with a permutation seeded by ``seed``, so that contiguous
        slices of the file mix processes; otherwise the rows are grouped by process.

    Returns
    -------
    pathlib.Path
        The written file, with provenance attributes (versions, seeds, settings, event counts).
    """
    output = Path(output)
    _check_arguments(output, n_taus, processes, seed, workers, chunk_size)
    detector = detector or DetectorResponse()
    settings = detector.as_dict()
    states = [
        _ProcessState(name, n_taus // len(processes) + (i < n_taus % len(processes)))
        for i, name in enumerate(processes)
    ]
    pool = (
        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        if workers > 1
        else None
    )
    queue: deque = deque()
    ahead = 2 * workers if pool is not None else 1
    columns_bar = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("taus"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns_bar, disable=not progress) as bar:
            task = bar.add_task("generating taus", total=n_taus)
            while not all(state.done for state in states):
                submitted = True
                while submitted:  # round-robin over the processes until the queue is full
                    submitted = False
                    for state in states:
                        if len(queue) < ahead and state.wants_chunk(chunk_size):
                            pythia_seed = chunk_seed(seed, state.name, state.next_chunk)
                            args = (state.name, pythia_seed, chunk_size, settings)
                            job = (
                                pool.submit(run_chunk, *args)
                                if pool is not None
                                else _run_here(args)
                            )
                            queue.append((state, pythia_seed, job))
                            state.next_chunk += 1
                            state.in_flight += 1
                            submitted = True
                state, pythia_seed, job = queue.popleft()
                columns, n_events, cpu = job.result()
                state.in_flight -= 1
                if state.done:
                    continue  # ran ahead: this chunk is not part of the sample
                state.parts.append(columns)
                state.seeds.append(pythia_seed)
                state.kept += len(columns["tau_pt"])
                state.events += n_events
                state.cpu += cpu
                if state.kept == 0 and state.events >= _MAX_EVENTS_WITHOUT_TAUS:
                    raise RuntimeError(
                        f"process {state.name!r} gave no tau after {state.events} events: "
                        "check the Pythia settings and the detector response"
                    )
                bar.update(task, completed=sum(min(s.kept, s.target) for s in states))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    for state in states:
        logger.info(
            "%s: %d events, %d taus kept (%d used) in %.1f CPU s: %.0f events/s, %.1f taus/s "
            "per core",
            state.name,
            state.events,
            state.kept,
            state.target,
            state.cpu,
            state.events / max(state.cpu, 1e-9),
            state.kept / max(state.cpu, 1e-9),
        )
    columns = _concatenate([_take(_concatenate(s.parts), slice(0, s.target)) for s in states])
    if shuffle:
        permutation = np.random.default_rng([seed, len(PROCESS_CODES)]).permutation(n_taus)
        columns = _take(columns, permutation)
    attrs = {
        "sample": "hadronic taus (hepml.generate.samples.taus)",
        "hepml_version": hepml.__version__,
        "pythia8mc_version": pythia_version(),
        "fastjet_version": fastjet_version(),
        "seed": seed,
        "processes": list(processes),
        "process_codes": {name: PROCESS_CODES[name] for name in processes},
        "n_taus": n_taus,
        "chunk_size": chunk_size,
        "shuffled": int(shuffle),
        "detector": settings,
        "selection": _SELECTION,
        "pythia_settings": {p: [*COMMON_SETTINGS, *PROCESS_SETTINGS[p]] for p in processes},
        "chunk_seeds": {state.name: state.seeds for state in states},
        "n_events": {state.name: state.events for state in states},
        "decay_mode": "5 * (n_prongs - 1) + min(n_pi0, 4)",
    }
    return write_columns(output, columns, attrs)
