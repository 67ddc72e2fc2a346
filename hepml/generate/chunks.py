"""Bookkeeping of :mod:`hepml.generate.runner`: chunks per process, the worker call, provenance."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

import hepml
from hepml.generate import parts

logger = logging.getLogger(__name__)

__all__ = ["ProcessState", "plain", "provenance", "run_chunk"]

#: A process that kept no row after this many generated events (and 5 chunks) is an error.
MAX_EVENTS_WITHOUT_ROWS = 20_000


def plain(value: Any) -> Any:
    """Plain Python (dict, list, str, numbers) from mappings/sequences such as OmegaConf nodes."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def run_chunk(build_fn: Callable, seed: int, n_events: int, kwargs: dict, path: Path,
              attrs: dict) -> tuple[int, float]:
    """Worker: one builder call, its rows written as a part. Returns ``(rows, cpu_seconds)``."""
    start = time.process_time()
    columns = build_fn(seed, n_events, **kwargs)
    if not isinstance(columns, Mapping):
        raise TypeError(f"the builder must return a dict of columns, got {type(columns).__name__}")
    cpu = time.process_time() - start
    parts.write_part(path, columns, {**attrs, "cpu_seconds": cpu})
    return parts.n_rows(columns), cpu


@dataclass
class ProcessState:
    """Chunks of one process: finished ones (``done``: index -> record) and those in flight."""

    name: str
    index: int
    label: int
    kwargs: dict
    target: int
    identity: dict  # what determines a chunk's content, besides its seed
    seed: Callable[[int], int]
    done: dict[int, dict] = field(default_factory=dict)
    in_flight: set[int] = field(default_factory=set)

    def chunk_hash(self, index: int) -> str:
        return _hash({**self.identity, "seed": self.seed(index)})

    def part_attrs(self, index: int) -> dict[str, Any]:
        return {"process": self.name, "chunk": index, "chunk_seed": self.seed(index),
                "n_events": self.identity["chunk_size"], "chunk_config": self.identity,
                "config_hash": self.chunk_hash(index)}

    def adopt(self, index: int, attrs: dict, path: Path) -> None:
        """Take over a part found on disk after checking it was made with this config."""
        if attrs.get("config_hash") != self.chunk_hash(index):
            old = attrs.get("chunk_config", {})
            changed = sorted(k for k in {*old, *self.identity} if old.get(k) != self.identity.get(k))
            if attrs.get("chunk_seed") != self.seed(index):
                changed.append("seed")
            parts_dir = path.parent
            raise ValueError(
                f"{path} was made with another configuration (changed: {', '.join(changed)}): "
                f"delete {parts_dir} to start over, or rerun with the configuration that made it"
            )
        self.done[index] = {"rows": int(attrs["n_rows"]), "events": int(attrs["n_events"]),
                            "cpu": float(attrs.get("cpu_seconds", 0.0)), "path": path,
                            "seed": self.seed(index)}

    def next_chunk(self) -> int:
        index = 0
        while index in self.done or index in self.in_flight:
            index += 1
        self.in_flight.add(index)
        return index

    def finish(self, index: int, rows: int, cpu: float, path: Path) -> None:
        self.in_flight.discard(index)
        self.done[index] = {"rows": rows, "events": self.identity["chunk_size"], "cpu": cpu,
                            "path": path, "seed": self.seed(index)}
        events = sum(c["events"] for c in self.done.values())
        if self.rows == 0 and events >= MAX_EVENTS_WITHOUT_ROWS and len(self.done) >= 5:
            raise RuntimeError(
                f"process {self.name!r} kept no row in {events} events: check its builder "
                f"arguments {self.kwargs} (process settings, selection cuts)"
            )

    @property
    def rows(self) -> int:
        """Rows kept by all finished chunks."""
        return sum(c["rows"] for c in self.done.values())

    def used(self) -> list[dict]:
        """Finished chunks 0, 1, ... up to the first that completes the target (or a gap)."""
        chunks, rows = [], 0
        while rows < self.target and len(chunks) in self.done:
            chunks.append(self.done[len(chunks)])
            rows += chunks[-1]["rows"]
        return chunks

    @property
    def complete(self) -> bool:
        return sum(c["rows"] for c in self.used()) >= self.target

    def wants_chunk(self, workers: int) -> bool:
        """Whether one more chunk is needed, counting in-flight chunks at 90 % of the yield."""
        if self.complete:
            return False
        if not self.done:
            return len(self.in_flight) < workers
        per_chunk = self.rows / len(self.done)
        return self.rows + 0.9 * len(self.in_flight) * per_chunk < self.target


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def provenance(config: dict, states: Sequence[ProcessState]) -> dict[str, Any]:
    """File attributes: the config, versions, and per process seeds, events, rows, CPU time."""
    used = {s.name: s.used() for s in states}
    events = {n: sum(c["events"] for c in u) for n, u in used.items()}
    kept = {n: sum(c["rows"] for c in u) for n, u in used.items()}
    cpu = {n: round(sum(c["cpu"] for c in u), 3) for n, u in used.items()}
    for s in states:
        logger.info("%s: %d events -> %d rows (efficiency %.3f, %d used) in %.1f CPU s: "
                    "%.0f events/s and %.1f rows/s per core", s.name, events[s.name],
                    kept[s.name], kept[s.name] / max(events[s.name], 1), s.target, cpu[s.name],
                    events[s.name] / max(cpu[s.name], 1e-9), kept[s.name] / max(cpu[s.name], 1e-9))
    return {
        "sample": config["name"],
        "config": config,
        "builder": config["builder"],
        "seed": config["seed"],
        "n_events": config["n_events"],
        "chunk_size": config["chunk_size"],
        "shuffled": int(config["shuffle"]),
        "processes": [s.name for s in states],
        "process_codes": {s.name: s.index for s in states},
        "labels": {s.name: s.label for s in states},
        "chunk_seeds": {n: [c["seed"] for c in u] for n, u in used.items()},
        "n_generated": events,
        "n_kept": kept,
        "n_rows": {s.name: s.target for s in states},
        "efficiency": {n: kept[n] / max(events[n], 1) for n in events},
        "cpu_seconds": cpu,
        "hepml_version": hepml.__version__,
        "pythia8mc_version": _version("pythia8mc"),
        "fastjet_version": _version("fastjet"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
