"""Progress of a generation, batch by batch: events generated, events/s and the time left.

Worker side: :func:`counting` names the chunk a process is generating; every
``pythia.nextBatch(n)`` of a generator made by :func:`hepml.generate.pythia.make_pythia` then adds
``n`` to that chunk's count in a :class:`ChunkCounter` (one small file per chunk in the parts
folder: nothing to share between processes, nothing left running if the run is killed), so the
display moves with each batch of events (250 by default), not with each chunk.

Main side: :class:`GenerationProgress` draws one rich bar per process: kept rows (finished chunks
plus the in-flight events at the process's measured rows per event) out of the target, the events
generated, events/s and the time remaining; once every process has a measured rate it logs the
estimated time left for the whole sample.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

logger = logging.getLogger(__name__)

__all__ = ["ChunkCounter", "GenerationProgress", "add_events", "chunk_key", "counting",
           "pythia_class"]

_current: dict[str, Any] = {}  # the chunk this process is generating: counter, key, callback
_PYTHIA_CLASS: list[type] = []


def chunk_key(process: str, index: int) -> str:
    """Key of a chunk in a :class:`ChunkCounter`."""
    return f"{process}_{index}"


class ChunkCounter:
    """Events generated so far per chunk, one file ``<directory>/<key>`` each (picklable: only
    the folder travels to the workers; each chunk has one writer, files are replaced whole)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def __setitem__(self, key: str, events: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{key}.{os.getpid()}"
        tmp.write_text(str(int(events)))
        os.replace(tmp, self.directory / key)

    def get(self, key: str, default: int = 0) -> int:
        try:
            return int((self.directory / key).read_text())
        except (OSError, ValueError):
            return default

    def discard(self, key: str) -> None:
        (self.directory / key).unlink(missing_ok=True)


@contextmanager
def counting(counter: ChunkCounter | None, key: str,
             on_batch: Callable[[], None] | None = None) -> Iterator[None]:
    """Count the events generated inside the block as the chunk ``key`` of ``counter``.

    ``on_batch`` is called after each batch (the in-process runner refreshes its display).
    """
    _current.update(counter=counter, key=key, on_batch=on_batch, events=0)
    try:
        yield
    finally:
        _current.clear()


def add_events(n: int) -> None:
    """Record ``n`` more generated events of the current chunk (no-op outside :func:`counting`)."""
    counter = _current.get("counter")
    if counter is None:
        return
    _current["events"] += int(n)
    counter[_current["key"]] = _current["events"]  # one writer per key: no lost updates
    if _current.get("on_batch") is not None:
        _current["on_batch"]()


def pythia_class() -> type:
    """``pythia8mc.Pythia`` with a ``nextBatch`` that reports its events to :func:`add_events`."""
    if not _PYTHIA_CLASS:
        import pythia8mc

        class CountingPythia(pythia8mc.Pythia):
            """A ``pythia8mc.Pythia`` whose batches count towards the generation's progress."""

            def nextBatch(self, n, *args, **kwargs):  # noqa: N802 (Pythia's name)
                batch = super().nextBatch(n, *args, **kwargs)
                add_events(n)
                return batch

        _PYTHIA_CLASS.append(CountingPythia)
    return _PYTHIA_CLASS[0]


def _fmt_time(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class GenerationProgress:
    """One rich progress bar per process of a generation, fed by finished chunks and batches.

    Parameters
    ----------
    states : sequence of ProcessState
        The processes (:class:`hepml.generate.chunks.ProcessState`).
    counter : ChunkCounter
        Events generated so far by the chunks in flight.
    enabled : bool
        Draw the bars (the estimate is logged either way).
    """

    def __init__(self, states: Sequence[Any], counter: ChunkCounter, enabled: bool = True) -> None:
        self.states, self.counter = list(states), counter
        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rows]} rows"), TextColumn("{task.fields[events]} ev"),
            TextColumn("{task.fields[rate]} ev/s"), TimeElapsedColumn(), TimeRemainingColumn(),
            disable=not enabled,
        )  # fmt: skip
        self.start = time.monotonic()
        self.resumed = {s.name: set(s.done) for s in self.states}
        self.tasks = {s.name: self.bar.add_task(s.name, total=s.target, rows="0", events="0",
                                                rate="-") for s in self.states}  # fmt: skip
        self.estimated = False
        self._last = 0.0

    def __enter__(self) -> GenerationProgress:
        self.bar.__enter__()
        self.update(force=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.update(force=True)
        self.bar.__exit__(*exc)

    def _numbers(self, state: Any) -> tuple[float, int, float]:
        """Estimated kept rows, events generated in this run, events/s of this run."""
        resumed = self.resumed[state.name]
        finished = {i: c for i, c in state.done.items() if i not in resumed}
        events = sum(c["events"] for c in finished.values())
        in_flight = sum(int(self.counter.get(chunk_key(state.name, i), 0))
                        for i in state.in_flight)  # fmt: skip
        events += in_flight
        done_events = sum(c["events"] for c in state.done.values())
        rows_per_event = state.rows / done_events if done_events else 0.0
        rows = min(state.rows + in_flight * rows_per_event, state.target)
        elapsed = max(time.monotonic() - self.start, 1e-9)
        return rows, events, events / elapsed

    def update(self, force: bool = False) -> None:
        """Redraw (at most 4 times a second unless ``force``) and log the estimate once."""
        now = time.monotonic()
        if not force and now - self._last < 0.25:
            return
        self._last = now
        remaining, unknown = 0.0, False  # processes share the workers: the slowest one counts
        for state in self.states:
            rows, events, rate = self._numbers(state)
            done = state.complete
            self.bar.update(self.tasks[state.name], completed=state.target if done else rows,
                            rows=f"{min(state.rows, state.target):,}/{state.target:,}",
                            events=f"{events:,}", rate=f"{rate:,.0f}" if events else "-")  # fmt: skip
            if done:
                continue
            done_events = sum(c["events"] for c in state.done.values())
            if not state.rows or not rate:
                unknown = True
                continue
            remaining = max(remaining, (state.target - rows) * done_events / state.rows / rate)
        if not self.estimated and not unknown and remaining > 0:
            self.estimated = True
            names = ", ".join(s.name for s in self.states)
            logger.info("generation (%s): about %s left at the measured rates", names,
                        _fmt_time(remaining))  # fmt: skip
