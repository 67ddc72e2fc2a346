"""The run directory of ``hepml train``: locked while a run writes it; resumed, reported as
finished, or retrained; its per-epoch history kept across resumes.

What a second ``hepml train`` in the same ``hydra.run.dir`` does:

- another run is writing it: :class:`RunDirLockedError`;
- the run there finished (``metrics.json``) with the same config: its metrics are reported and
  nothing is trained (``retrain=true`` trains it again from scratch);
- ``checkpoints/last.ckpt`` exists: the run resumes from it, if the config is the same up to
  :data:`FREE_KEYS` (more epochs, another progress bar, ...); otherwise
  :class:`ConfigChangedError` lists the differing keys (``resume_changed=true`` continues with
  the new values and records them in the run record's history).
"""

from __future__ import annotations

import csv
import errno
import fcntl
import json
import logging
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from hepml.atomic import WriteError, error_code
from hepml.config import to_container
from hepml.errors import HepmlError
from hepml.record import RunRecord, current_fingerprints, read_checkpoint, utc_now

log = logging.getLogger(__name__)

LOCK_NAME = ".hepml.lock"
# config keys a resume may change without resume_changed=true: they do not change what is trained
FREE_KEYS = (
    "paths", "ckpt_path", "auto_resume", "resume_changed", "retrain", "trust_checkpoint",
    "evaluate", "plots", "verbose", "print_config", "task_name", "logger", "optimized_metric", "requeue", "predictions", "callbacks.progress_bar", "trainer.max_epochs",
    "trainer.max_time", "trainer.enable_progress_bar", "trainer.enable_model_summary",
    "trainer.log_every_n_steps", "data.num_workers", "data.cache_dir", "data.eval_batch_size",
)


class RunDirLockedError(HepmlError, RuntimeError):
    """Another ``hepml train`` is writing the run directory."""


class ConfigChangedError(HepmlError, ValueError):
    """A resume (or a rerun of a finished run) whose config or data differ from the checkpoint's."""


def is_rank_zero() -> bool:
    """Whether this process is global rank zero (DDP children are started with RANK/LOCAL_RANK)."""
    for key in ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK"):
        if os.environ.get(key, "0") not in ("", "0"):
            return False
    return True


@contextmanager
def run_dir_lock(out_dir: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` (``.hepml.lock``, released even on ``kill -9``).

    Raises
    ------
    RunDirLockedError
        Naming the run directory and the process (host, pid) that holds it.
    """
    if not is_rank_zero():
        yield
        return
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / LOCK_NAME, "a+")
    except OSError as err:
        raise WriteError(out_dir / LOCK_NAME, "lock file of the run directory", err, error_code(err)) from err
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                log.warning("Cannot lock %s (%s): not protected against a second run", out_dir, err)
            else:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise RunDirLockedError(
                    f"run directory {out_dir} is being written by {holder}: wait for it to end, or "
                    "choose another directory (hydra.run.dir=...)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"hepml train pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        for stale in (out_dir / "checkpoints").glob(".*.tmp"):  # left by a process killed mid-write
            stale.unlink(missing_ok=True)
        yield
    finally:
        handle.close()  # closing releases the lock


@dataclass
class RunPlan:
    """What ``hepml train`` does in its run directory.

    Attributes
    ----------
    resume : checkpoint to resume from, or None to start afresh.
    finished : metrics of a finished run (nothing to train), or None.
    record : the run record of the resumed checkpoint.
    epoch : the epoch the resumed checkpoint was written in.
    changed : ``{key: [old, new]}`` accepted with ``resume_changed=true``.
    """

    resume: str | None = None
    finished: dict[str, Any] | None = None
    record: RunRecord | None = None
    epoch: int | None = None
    changed: dict[str, list[Any]] = field(default_factory=dict)

    def check_files(self, datamodule: Any, allow: bool) -> None:
        """Refuse to resume on data files that changed since the checkpoint (unless ``allow``)."""
        if self.record is None:
            return
        changes = self.record.changed_files(current_fingerprints(datamodule))
        if changes and not allow:
            raise ConfigChangedError(
                f"cannot resume {self.resume}: " + "; ".join(changes) + ". The split would mix "
                "training and test events; retrain=true starts afresh on the new files, "
                "resume_changed=true continues anyway")
        if changes:
            log.warning("Resuming on changed data files (resume_changed=true): %s", "; ".join(changes))
            self.changed["data.files (content)"] = changes

    def continue_history(self, record: RunRecord) -> None:
        """Carry the resumed checkpoint's history into ``record`` and add this resume to it."""
        if self.record is None:
            return
        record.history = [*self.record.history, {
            "event": "resume", "time": utc_now(), "from": self.resume, "epoch": self.epoch,
            **({"changed": self.changed} if self.changed else {}),
        }]


def plan_run(cfg: DictConfig, out_dir: str | Path) -> RunPlan:
    """Decide between a fresh start, a resume and a finished run (see the module docstring)."""
    out_dir = Path(out_dir)
    ckpt_dir, metrics_file = out_dir / "checkpoints", out_dir / "metrics.json"
    last = ckpt_dir / "last.ckpt"
    if cfg.get("retrain", False):
        if is_rank_zero():
            _clear(out_dir)
        return RunPlan()
    ckpt = cfg.get("ckpt_path")
    if ckpt == "last" and not last.is_file():
        raise FileNotFoundError(f"ckpt_path=last but {last} does not exist")
    if ckpt is not None and ckpt != "last" and not Path(ckpt).is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt} does not exist")
    path = str(last) if ckpt == "last" else ckpt
    if path is None and last.is_file():
        if not cfg.get("auto_resume", True):
            raise ConfigChangedError(
                f"{out_dir} holds the checkpoints of an earlier run and auto_resume=false: "
                "retrain=true replaces them, or choose another hydra.run.dir")
        path = str(last)
    if path is None:
        return RunPlan()
    try:
        saved = read_checkpoint(path)
    except HepmlError as err:
        raise type(err)(f"{err}. To restart the run: retrain=true (starts afresh), or "
                        f"ckpt_path={ckpt_dir / 'best.ckpt'} (continues from the best epoch)") from err
    record = RunRecord.from_dict(saved["hepml"])
    changes = config_changes(record.config, to_container(cfg))
    epoch = saved.get("epoch")
    if ckpt is None and metrics_file.is_file() and not _wants_more_epochs(saved, cfg):
        if changes:
            raise ConfigChangedError(
                f"{out_dir} holds a finished run with another config: {_describe(changes)}. "
                "retrain=true trains it again with the new config, or choose another hydra.run.dir")
        log.info("%s holds a finished run (%s): nothing to train; retrain=true trains it again",
                 out_dir, "estimator" if "estimator" in saved else f"{(epoch or 0) + 1} epochs")
        return RunPlan(finished=json.loads(metrics_file.read_text()), record=record)
    if changes and not cfg.get("resume_changed", False):
        raise ConfigChangedError(
            f"cannot resume {path}: the config differs from the checkpoint's: {_describe(changes)}. "
            "Set them back, or resume_changed=true to continue with the new values (recorded in "
            "the run record), or retrain=true to start afresh")
    if changes:
        log.warning("Resuming %s with a changed config (resume_changed=true): %s", path,
                    _describe(changes))
    if "estimator" in saved:  # estimators are refitted, never resumed
        return RunPlan(record=record, changed=changes)
    log.info("Resuming from %s", path)
    return RunPlan(resume=path, record=record, epoch=epoch, changed=changes)


def _wants_more_epochs(saved: dict[str, Any], cfg: DictConfig) -> bool:
    """Whether ``cfg`` asks for more epochs than the finished checkpoint ran (and it did not stop
    early): then a finished run continues."""
    if "estimator" in saved or saved.get("epoch") is None:
        return False
    stopped = any(isinstance(v, dict) and v.get("stopped_epoch", 0) > 0
                  for k, v in (saved.get("callbacks") or {}).items() if "EarlyStopping" in str(k))
    max_epochs = cfg.get("trainer", {}).get("max_epochs")
    return not stopped and max_epochs is not None and saved["epoch"] + 1 < int(max_epochs)


def _clear(out_dir: Path) -> None:
    """Remove a previous run's checkpoints, metrics and evaluation (``retrain=true``)."""
    removed = []
    for name in ("checkpoints", "eval", "metrics.json"):
        target = out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            continue
        removed.append(name)
    if removed:
        log.info("retrain=true: removed %s of the previous run in %s", removed, out_dir)


UNSET = "<unset>"


def config_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{dotted key: [old, new]}`` for every value that differs, apart from :data:`FREE_KEYS`;
    a section present on one side only is one entry (``callbacks.early_stopping: None -> {...}``)."""
    out: dict[str, list[Any]] = {}
    _diff(old, new, "", out)
    return out


def _diff(a: Any, b: Any, key: str, out: dict[str, list[Any]]) -> None:
    if key and any(key == f or key.startswith(f + ".") for f in FREE_KEYS):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            _diff(a.get(k, UNSET), b.get(k, UNSET), f"{key}.{k}" if key else str(k), out)
    elif a != b:
        out[key] = [a, b]


def _describe(changes: dict[str, list[Any]], limit: int = 8) -> str:
    items = [f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in changes.items()]
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def keep_csv_history(loggers: list[Any], plan: RunPlan) -> None:
    """On a resume, keep the rows of ``csv/metrics.csv`` up to the resumed epoch (Lightning's CSV
    logger deletes the file when it starts): the per-epoch history is appended, not wiped."""
    if plan.resume is None:
        return
    from lightning.pytorch.loggers import CSVLogger

    for logger in loggers:
        if not isinstance(logger, CSVLogger):
            continue
        path = Path(logger.log_dir) / "metrics.csv"
        if not path.is_file():
            continue
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            header = sorted(reader.fieldnames or [])
            rows = [r for r in reader if _epoch_of(r) is None or plan.epoch is None
                    or _epoch_of(r) <= plan.epoch]
        writer = logger.experiment  # created now: it removes the old file
        with open(path, "w", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=header)
            out.writeheader()
            out.writerows(rows)
        writer.metrics_keys = header
        log.info("Kept %d rows of the per-epoch history in %s", len(rows), path)


def _epoch_of(row: dict[str, str]) -> int | None:
    try:
        return int(float(row.get("epoch") or ""))
    except ValueError:
        return None
