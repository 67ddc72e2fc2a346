"""Generic sample generation: chunks of events from a builder, in parallel, resumable, with provenance.

A **builder** is a module-level function ``build_chunk(seed, n_events, **params)`` that generates
``n_events`` events with that Pythia seed and returns one row per kept object (a dict of flat numpy
and jagged awkward columns, possibly with zero rows). :func:`generate_sample` (the ``_target_`` of
``configs/sample/*.yaml``) calls it chunk after chunk for every process until each process has its
share of ``n_events`` rows, then writes one HDF5 or ROOT file.

* **Reproducible**: chunk ``i`` of process ``p`` uses the seed :func:`chunk_seed` ``(seed, p, i)``
  and rows are taken in chunk order, so the file does not depend on ``workers``.
* **Resumable**: every finished chunk is written at once to ``<output>.parts/<process>_<i>.h5``
  (:mod:`hepml.generate.parts`) with its seed and a hash of what determines its content (builder,
  ``chunk_size``, ``params``, the process's keyword arguments, the chunk seed). A re-run skips the
  chunks found there, so an interrupted run loses only the chunks in flight; ``n_events``,
  ``workers``, labels and fractions may change between runs. The parts are removed once the output
  has been written (to a temporary name, then renamed).
* **Provenance** in the file's attributes (HDF5 root attributes, ROOT ``provenance`` JSON): the
  sample config, chunk seeds, versions, events generated, rows kept and CPU time per process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import shutil
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from hepml.data.io import write_columns
from hepml.generate import lifecycle, parts
from hepml.generate.chunks import ProcessState, plain, provenance, run_chunk
from hepml.generate.progress import ChunkCounter, GenerationProgress, chunk_key, counting
from hepml.generate.pythia import MAX_SEED

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "chunk_seed", "generate_sample", "resolve", "row_targets"]

#: ``format`` -> accepted output suffixes (the first one is used to build file names).
FORMATS = {"h5": (".h5", ".hdf5"), "root": (".root",)}
_RUN_AHEAD = 2  # chunks queued per worker


def chunk_seed(seed: int, process: str, chunk: int) -> int:
    """Pythia seed in ``[1, 900,000,000]`` of chunk ``chunk`` of ``process`` for master ``seed``."""
    entropy = [int(seed), zlib.crc32(process.encode()), int(chunk)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0]) % MAX_SEED + 1


def resolve(target: str | Callable | None) -> Callable | None:
    """A function from its dotted path (``"package.module.function"``); callables pass through."""
    if target is None or callable(target):
        return target
    import importlib

    module_name, _, attr = str(target).rpartition(".")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(
            f"cannot import {target!r}: give the dotted path of a module-level function, e.g. "
            "hepml.generate.samples.taus.build_chunk"
        ) from err
    if not callable(fn):
        raise ValueError(f"{target!r} is not a function")
    return fn


def _dotted(fn: str | Callable | None) -> str | None:
    return fn if fn is None or isinstance(fn, str) else f"{fn.__module__}.{fn.__qualname__}"


def row_targets(n_events: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Rows per process: ``round(fraction * n_events)``, adjusted by at most one row per process
    (largest remainders first) so that they add up to ``n_events``."""
    total = sum(fractions.values())
    if any(f < 0 for f in fractions.values()) or not np.isclose(total, 1.0, atol=1e-6):
        raise ValueError(
            f"process fractions must be non-negative and add up to 1, got {dict(fractions)} "
            f"(sum {total:g}): fix the `fraction` of each entry of `processes`"
        )
    exact = {name: f * n_events for name, f in fractions.items()}
    targets = {name: int(np.floor(x)) for name, x in exact.items()}
    order = sorted(exact, key=lambda n: targets[n] - exact[n])  # largest remainder first, stable
    for name in order[: n_events - sum(targets.values())]:
        targets[name] += 1
    return targets


def _check(output: Path, fmt: str, n_events: int, workers: int, chunk_size: int, seed: int,
           processes: Mapping[str, Any]) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
    if output.suffix.lower() not in FORMATS[fmt]:
        raise ValueError(
            f"output {output} does not end in {' or '.join(FORMATS[fmt])} although format={fmt}: "
            "change the output's suffix or the format"
        )
    if n_events < 1 or workers < 1 or chunk_size < 1:
        raise ValueError(f"n_events, workers and chunk_size must be positive, got {n_events}, "
                         f"{workers}, {chunk_size}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if not processes:
        raise ValueError("give at least one entry in `processes` (name: {label, fraction, ...})")
    for name, spec in processes.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError(f"process name {name!r}: use letters, digits, _ . and - (it names "
                             "the chunk files <process>_<i>.h5)")
        if not isinstance(spec, Mapping) or "label" not in spec or "fraction" not in spec:
            raise ValueError(f"process {name!r} needs `label` and `fraction`, got {spec!r}")


def _states(processes: dict, targets: dict, builder: str, chunk_size: int, params: dict,
            seed: int, parts_dir: Path) -> list[ProcessState]:
    states = []
    for index, (name, spec) in enumerate(processes.items()):
        kwargs = {**params, **{k: v for k, v in spec.items() if k not in ("label", "fraction")}}
        identity = {"builder": builder, "chunk_size": chunk_size, "kwargs": kwargs}
        states.append(ProcessState(name, index, int(spec["label"]), kwargs, targets[name],
                                   identity, lambda i, n=name: chunk_seed(seed, n, i)))
    by_name = {s.name: s for s in states}
    found = sorted(parts_dir.glob("*.h5")) if parts_dir.is_dir() else []
    for path in (p for p in found if not p.name.startswith(".")):
        name, _, index = path.stem.rpartition("_")
        state = by_name.get(name)
        attrs = parts.read_part_attrs(path)
        if state is None or not index.isdigit():
            raise ValueError(f"{path} belongs to no process of this config ({sorted(by_name)}): "
                             f"delete {parts_dir} to start over, or restore the config that made it")
        state.adopt(int(index), attrs, path)
    resumed = sum(len(s.done) for s in states)
    if resumed:
        logger.info("resuming from %d finished chunks in %s", resumed, parts_dir)
    return states


def generate_sample(
    name: str,
    builder: str | Callable,
    output: str | Path,
    n_events: int,
    processes: Mapping[str, Mapping[str, Any]],
    seed: int = 1,
    workers: int = 1,
    chunk_size: int = 500,
    format: str = "h5",  # shadows the builtin: it is the config key users type
    shuffle: bool = True,
    plots: bool = False,
    plots_fn: str | Callable | None = None,
    params: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> Path:
    """Generate a sample with ``builder`` and write it to ``output``.

    Parameters
    ----------
    name
        Sample name, recorded in the provenance.
    builder
        ``build_chunk(seed, n_events, **kwargs)`` or its dotted path.
    output
        File to write; its suffix must match ``format``.
    n_events
        Rows (kept objects) in the output, split over the processes by their ``fraction``.
    processes
        ``{name: {label: int, fraction: float, **builder_kwargs}}``; ``label`` is written to the
        column ``label``, the position of the process in this mapping to the column ``process``
        (replacing columns of these names from the builder), and ``weight = 1`` is added when the
        builder returns no ``weight``.
    seed
        Master seed; the chunk seeds derive from it, and so does the shuffling permutation.
    workers
        Processes generating chunks in parallel (``spawn`` start method); 1 runs in this process.
    chunk_size
        Events generated per builder call.
    format
        ``"h5"`` or ``"root"``.
    shuffle
        Mix the processes' rows with a permutation seeded by ``seed`` (otherwise grouped).
    plots, plots_fn
        When ``plots``, call ``plots_fn(output, <output dir>/<output stem>_plots)`` afterwards.
    params
        Builder keyword arguments common to all processes (a process's own ones win).
    progress
        Show a progress bar of the kept rows per process.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    output, processes, params = Path(output), plain(processes), plain(params or {})
    _check(output, format, n_events, workers, chunk_size, seed, processes)
    build_fn, plot_fn = resolve(builder), resolve(plots_fn)
    builder_path = _dotted(builder)
    targets = row_targets(n_events, {n: float(s["fraction"]) for n, s in processes.items()})
    parts_dir = output.with_name(output.name + ".parts")
    states = _states(processes, targets, builder_path, chunk_size, params, seed, parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    _run(states, build_fn, chunk_size, workers, parts_dir, progress)

    columns = _assemble(states)
    if shuffle:
        permutation = np.random.default_rng([seed, 0x5EED]).permutation(parts.n_rows(columns))
        columns = {key: values[permutation] for key, values in columns.items()}
    config = {"name": name, "builder": builder_path, "plots_fn": _dotted(plots_fn),
              "output": str(output), "n_events": n_events, "seed": seed, "workers": workers,
              "chunk_size": chunk_size, "format": format, "shuffle": shuffle, "params": params,
              "processes": processes}
    tmp = output.with_name(f".{output.stem}.tmp{output.suffix}")
    write_columns(tmp, columns, provenance(config, states))
    tmp.replace(output)
    shutil.rmtree(parts_dir)
    logger.info("sample %r: %d rows written to %s", name, parts.n_rows(columns), output)
    if plots:
        if plot_fn is None:
            logger.warning("plots=true but the sample config names no plots_fn: no plots made")
        else:
            plot_fn(output, output.parent / f"{output.stem}_plots")
    return output


def _run(states: list[ProcessState], build_fn: Callable, chunk_size: int, workers: int,
         parts_dir: Path, progress: bool) -> None:
    """Generate chunks until every process has its rows in contiguous finished chunks."""
    pool = (ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                initializer=lifecycle.die_with_parent, initargs=(os.getpid(),))
            if workers > 1 else None)
    pending: dict[Future, tuple[ProcessState, int, Path]] = {}
    interrupted = False
    counter = ChunkCounter(parts_dir / ".progress")  # events per chunk in flight, batch by batch
    previous_sigterm = lifecycle.sigterm_as_interrupt()  # SIGTERM takes the path of Ctrl-C
    try:
        with GenerationProgress(states, counter, progress) as display:
            while not all(s.complete for s in states):
                while len(pending) < (_RUN_AHEAD * workers if pool is not None else 1):
                    wanting = [s for s in states if s.wants_chunk(workers)]
                    if not wanting:
                        break
                    state = min(wanting, key=lambda s: s.rows / max(s.target, 1))
                    index = state.next_chunk()
                    path = parts_dir / f"{state.name}_{index}.h5"
                    args = (build_fn, state.seed(index), chunk_size, state.kwargs, path,
                            state.part_attrs(index))
                    key = chunk_key(state.name, index)
                    pending[_submit(pool, args, counter, key, display.update)] = (state, index, path)
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    state, index, path = pending.pop(future)
                    state.finish(index, *future.result(), path)
                    counter.discard(chunk_key(state.name, index))
                display.update()
    except KeyboardInterrupt:
        interrupted = True
        logger.warning("interrupted: finished chunks are kept in %s; rerun to resume", parts_dir)
        raise
    finally:
        lifecycle.restore_sigterm(previous_sigterm)
        if pool is not None:
            if interrupted:
                lifecycle.stop_workers(pool)  # before shutdown, which forgets the processes
            pool.shutdown(wait=not interrupted, cancel_futures=True)


def _counted_chunk(counter: ChunkCounter, key: str, *args: Any) -> tuple[int, float]:
    """Worker: :func:`run_chunk` with its events counted batch by batch under ``key``."""
    with counting(counter, key):
        return run_chunk(*args)


def _submit(pool: ProcessPoolExecutor | None, args: tuple, counter: ChunkCounter, key: str,
            on_batch: Callable[[], None]) -> Future:
    if pool is not None:
        return pool.submit(_counted_chunk, counter, key, *args)
    future: Future = Future()
    with counting(counter, key, on_batch):  # in this process: redraw after every batch
        future.set_result(run_chunk(*args))
    return future


def _assemble(states: list[ProcessState]) -> dict[str, parts.Column]:
    """Each process's rows in chunk order, truncated to its target, with label/process/weight."""
    blocks = []
    for state in states:
        columns = parts.concatenate([parts.read_part(c["path"]) for c in state.used()])
        columns = {key: values[: state.target] for key, values in columns.items()}
        n = parts.n_rows(columns)
        columns["label"] = np.full(n, state.label, dtype=np.int32)
        columns["process"] = np.full(n, state.index, dtype=np.int32)
        if "weight" not in columns:
            columns["weight"] = np.ones(n, dtype=np.float32)
        blocks.append(columns)
    names = [sorted(b) for b in blocks if parts.n_rows(b)]
    if any(n != names[0] for n in names):
        raise ValueError(f"the builder returned different columns for different processes: "
                         f"{[sorted(set(n) ^ set(names[0])) for n in names]}")
    return parts.concatenate(blocks)
