"""Atomic file writes: a temporary file in the target's directory, flushed, fsynced and renamed.

A reader sees either the previous complete file or the new complete file, never a partial one: a
full disk, a missing permission or a kill part way leaves the previous file as it was and removes
the temporary file (a ``kill -9`` can leave a ``.NAME.PID.tmp`` beside it, never a broken NAME).

Used for checkpoints, predictions, ``metrics.json`` and the statistics cache::

    with atomic_path(path, "predictions") as tmp:
        h5py.File(tmp, "w")...                      # write anything to tmp
    write_text_atomic(path, text, "metrics")        # the common case
"""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hepml.errors import HepmlError

log = logging.getLogger(__name__)

_ADVICE = {
    errno.ENOSPC: "the disk is full: free space there or write elsewhere (hydra.run.dir=..., "
                  "paths.cache_dir=...)",
    errno.EDQUOT: "the disk quota is exceeded: free space there or write elsewhere",
    errno.EACCES: "no permission to write there: choose a directory you own (hydra.run.dir=..., "
                  "paths.cache_dir=...)",
    errno.EPERM: "the operation is not permitted there: choose a directory you own",
    errno.EROFS: "the file system is read-only: write elsewhere (hydra.run.dir=...)",
}


class WriteError(HepmlError, OSError):
    """Writing an output file failed; the previous version of the file (if any) is intact.

    Attributes
    ----------
    path : the file that was to be written.
    errno : the operating system's error number (``errno.ENOSPC``, ``errno.EACCES``, ...) or None.
    """

    def __init__(self, path: Path, what: str, err: BaseException, code: int | None):
        self.path = Path(path)
        advice = _ADVICE.get(code, "") if code is not None else ""
        reason = os.strerror(code) if code is not None else str(err)
        keep = "the previous file is intact" if _exists(self.path) else "no file was written"
        text = f"could not write the {what} {self.path}: {reason} ({keep})"
        super().__init__(code, f"{text}; {advice}" if advice else text)
        self.errno = code

    def __str__(self) -> str:
        return str(self.args[1])


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def error_code(err: BaseException) -> int | None:
    """The errno of an ``OSError``, also when a library (h5py) only puts it in the message."""
    code = getattr(err, "errno", None)
    if isinstance(code, int):
        return code
    match = re.search(r"errno\s*=\s*(\d+)", str(err))
    return int(match.group(1)) if match else None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some file systems do not open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path, what: str = "file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it to ``path``.

    Parameters
    ----------
    path : the file to (re)write; its parent directories are created.
    what : what the file is, for the error message (``checkpoint``, ``predictions``, ...).

    Raises
    ------
    WriteError
        When creating, writing or renaming fails with an ``OSError`` (disk full, permission
        denied, read-only file system, ...). The temporary file is removed and an existing
        ``path`` is left untouched. Other exceptions of the writer propagate unchanged, after
        the same clean-up.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        with open(tmp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        _discard(tmp)
        raise WriteError(path, what, err, error_code(err)) from err
    except BaseException:
        _discard(tmp)
        raise
    _fsync_dir(path.parent)


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError as err:  # e.g. the directory itself became unwritable
        log.warning("Could not remove the temporary file %s: %s", tmp, err)


def write_bytes_atomic(path: str | Path, data: bytes, what: str = "file") -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path, what) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return path


def write_text_atomic(path: str | Path, text: str, what: str = "file") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    return write_bytes_atomic(path, text.encode("utf-8"), what)
