"""The run record: what a checkpoint carries besides weights, saved and loaded here for Lightning
tasks and estimators alike.

A record holds the resolved config, the training-split statistics, the task kind, the config
group choices, the versions of hepml/torch/lightning/python, the git commit of a checkout, a
fingerprint of every data file and the split definition. It travels as ``checkpoint["hepml"]``
(:meth:`RunRecord.to_dict`), a dict of plain values, so a checkpoint loads with
``torch.load(weights_only=True)``: loading one never runs code (:func:`read_checkpoint`), and the
classes its config may build are checked against an allow-list first
(:func:`hepml.trust.check_targets`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import pickle
import platform
import re
import subprocess
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from hepml import __version__
from hepml.errors import HepmlError

log = logging.getLogger(__name__)

SAMPLE_BYTES = 64 * 1024


class CheckpointError(HepmlError, ValueError):
    """A checkpoint that cannot be read: missing, empty, truncated, not a hepml checkpoint."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist."""


class UntrustedCheckpointError(CheckpointError):
    """A checkpoint that would run code or build classes outside the allow-list."""


@dataclass
class RunRecord:
    """What a run saves beside its weights.

    Attributes
    ----------
    config : the resolved config (plain dicts and lists).
    stats : the data module's statistics of the training split (lists and floats).
    kind : ``classification``, ``regression``, ...
    choices : config group choices (``model``, ``data/features``, ...).
    versions : hepml, torch, lightning, numpy, python.
    git_commit : ``git rev-parse HEAD`` of the hepml checkout, None when not run from one.
    data_files : :func:`fingerprint` of each data file.
    split : the split definition (fractions, seed, max_events, file splits).
    fit_info : what an estimator's fit reports (iterations, validation score, ...).
    history : one entry per start or resume (time, and the config keys a resume changed).
    """

    config: dict[str, Any]
    stats: dict[str, Any] | None = None
    kind: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    data_files: list[dict[str, Any]] = field(default_factory=list)
    split: dict[str, Any] = field(default_factory=dict)
    fit_info: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def create(cls, config: dict[str, Any], datamodule: Any = None, kind: str | None = None,
               choices: dict[str, str] | None = None) -> RunRecord:
        """A record of a run starting now with ``config`` on ``datamodule``'s files and split."""
        record = cls(config=config, kind=kind, choices=dict(choices or {}), versions=versions(),
                     git_commit=git_commit())
        if datamodule is not None:
            record.stats = getattr(datamodule, "stats", None)
            record.data_files = [fingerprint(f) for f in data_paths(datamodule)]
            record.split = split_definition(datamodule)
        record.history.append({"event": "start", "time": utc_now()})
        return record

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``checkpoint["hepml"]`` (``version`` kept for older readers)."""
        return {**asdict(self), "version": self.versions.get("hepml", __version__)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunRecord:
        """The record of ``checkpoint["hepml"]``; older checkpoints lack some fields."""
        known = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in values.items() if k in known})
        if not record.versions and "version" in values:
            record.versions = {"hepml": str(values["version"])}
        return record

    def changed_files(self, current: list[dict[str, Any]]) -> list[str]:
        """Descriptions of the recorded data files that differ from ``current`` fingerprints
        (size or sampled bytes; a new mtime alone is not a change)."""
        now = {f["path"]: f for f in current}
        out = []
        for old in self.data_files:
            new = now.get(old["path"])
            if new is None:
                out.append(f"{old['path']} is no longer read")
            elif new.get("size") != old.get("size"):
                out.append(f"{old['path']} changed size ({old.get('size')} -> {new.get('size')} bytes)")
            elif new.get("sample_sha256") != old.get("sample_sha256"):
                out.append(f"{old['path']} changed content (same size, different bytes)")
        return out


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def fingerprint(path: str | Path) -> dict[str, Any]:
    """Size, mtime and a SHA-256 of the first, middle and last 64 kB of a file (the whole file
    when it is smaller than 192 kB): cheap on a 100 GB file, and it sees a re-merged file."""
    path = Path(path)
    st = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        if st.st_size <= 3 * SAMPLE_BYTES:
            digest.update(handle.read())
        else:
            for offset in (0, st.st_size // 2 - SAMPLE_BYTES // 2, st.st_size - SAMPLE_BYTES):
                handle.seek(offset)
                digest.update(handle.read(SAMPLE_BYTES))
    return {"path": str(path.resolve()), "size": st.st_size, "mtime": st.st_mtime,
            "sample_sha256": digest.hexdigest()}


def split_definition(datamodule: Any) -> dict[str, Any]:
    """The split of ``datamodule`` as plain values (what makes its train/val/test sets)."""
    split = getattr(datamodule, "split", None)
    return {
        "fractions": list(split) if split is not None else None,
        "seed": getattr(datamodule, "split_seed", None),
        "max_events": getattr(datamodule, "max_events", None),
        "file_splits": getattr(datamodule, "file_splits", None),
        "eval_all": getattr(datamodule, "eval_all", False),
        "sizes": {k: int(len(v)) for k, v in (getattr(datamodule, "indices", None) or {}).items()},
    }


def versions() -> dict[str, str]:
    """Versions of what produced a run."""
    import lightning
    import numpy

    return {"hepml": str(__version__), "torch": str(torch.__version__),
            "lightning": str(lightning.__version__), "numpy": str(numpy.__version__),
            "python": platform.python_version()}


def git_commit(directory: str | Path | None = None) -> str | None:
    """``git rev-parse HEAD`` in the package directory (``+dirty`` appended when tracked files
    differ from it); None when hepml is not run from a git checkout or git is unavailable."""
    cwd = Path(directory) if directory is not None else Path(__file__).resolve().parent
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10, env=env)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip() or None
    if commit and dirty.returncode == 0 and dirty.stdout.strip():
        commit += "+dirty"
    return commit


def data_paths(datamodule: Any) -> list[str]:
    """Every file ``datamodule`` reads (globs expanded, sources included), or [] when they
    cannot be listed (a missing file: the data module reports it when it loads)."""
    try:
        return [str(spec.path) for spec in datamodule.file_specs()]
    except AttributeError:
        return [str(f) for f in getattr(datamodule, "files", [])]
    except (FileNotFoundError, ValueError):
        return []


def current_fingerprints(datamodule: Any) -> list[dict[str, Any]]:
    """:func:`fingerprint` of each file ``datamodule`` reads (missing files are left out)."""
    return [fingerprint(f) for f in data_paths(datamodule) if Path(f).is_file()]


def warn_changed_files(meta: dict[str, Any], datamodule: Any, source: str | Path) -> list[str]:
    """Warn when a checkpoint's own split is evaluated on data files that changed since
    training (the test events may then include training events); return the changes."""
    if getattr(datamodule, "eval_all", False):
        return []
    record = RunRecord.from_dict(meta)
    if not record.data_files:
        return []
    changes = record.changed_files(current_fingerprints(datamodule))
    if changes:
        log.warning("%s was trained on data files that have changed since: %s. Its test split "
                    "may now overlap the training set; evaluate on files it never saw "
                    "(data.files=[...]) for an unbiased result", source, "; ".join(changes))
    return changes


# ------------------------------------------------------------------------------ loading
def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint file as plain data: ``torch.load(weights_only=True)``, so no pickled code runs.

    Raises
    ------
    CheckpointNotFoundError, CheckpointError, UntrustedCheckpointError
        Naming the file and what is wrong with it (missing, empty, a text file, not a torch
        checkpoint, truncated, holding Python objects, not a hepml checkpoint).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"checkpoint {path} does not exist")
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes): its writing was interrupted; "
                              "delete it and use another checkpoint (or retrain)")
    if not head.startswith(b"PK"):
        if _is_text(head):
            raise CheckpointError(f"{path} is a text file, not a checkpoint (it starts with "
                                  f"{head[:40].decode(errors='replace')!r})")
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (no zip archive; a plain pickle "
                              "or another format): hepml reads checkpoints written by hepml train")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as err:
        raise UntrustedCheckpointError(
            f"{path} holds Python objects that would run code when loaded ({_unsafe_global(err)}); "
            "hepml loads checkpoints as data only: recreate it with hepml train") from err
    except (RuntimeError, OSError, EOFError, ValueError, KeyError) as err:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt ({_first_line(err)}): "
                              "it was not written completely; delete it and use another "
                              "checkpoint (or retrain)") from err
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("hepml"), dict) \
            or not ckpt["hepml"].get("config"):
        raise CheckpointError(f"{path} is not a hepml checkpoint (no embedded 'hepml' config and "
                              "statistics)")
    return ckpt


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c >= 32 or c in b"\n\r\t" for c in head)


def _unsafe_global(err: BaseException) -> str:
    match = re.search(r"Unsupported global: GLOBAL ([\w.]+)|Unsupported operand \d+|"
                      r"Unsupported class [\w.]+", str(err))
    if match is None:
        return "objects other than tensors and plain values"
    return f"it refers to {match.group(1)}" if match.group(1) else match.group(0)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__
