"""The one exception type for user errors.

A :class:`HepmlError` is a mistake the user can fix (a file, a key, a value, a run directory): its
message names the thing, what was expected and what to do. ``hepml`` prints it as one line on
stderr (the traceback only with ``--verbose`` or ``HYDRA_FULL_ERROR=1``); any other exception is a
bug and keeps its traceback. Existing error classes stay subclasses of the built-in types they
were (``ValueError``, ``OSError``, ...) so code catching those keeps working.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback


class HepmlError(Exception):
    """A user error with an actionable message.

    Attributes
    ----------
    exit_code : process exit status the CLI uses for it (1 unless a subclass says otherwise).
    """

    exit_code: int = 1


def verbose_errors() -> bool:
    """Whether a reported error also shows its traceback (``--verbose``, ``HYDRA_FULL_ERROR=1``)."""
    return any(os.environ.get(k, "") not in ("", "0") for k in ("HEPML_VERBOSE", "HYDRA_FULL_ERROR"))


USER_ERRORS = (HepmlError, FileNotFoundError, PermissionError, KeyboardInterrupt)


def is_user_error(err: BaseException) -> bool:
    """A :class:`HepmlError` (or a missing file, a permission, Ctrl-C), also when Hydra's
    instantiation wraps it; anything else is taken for a bug."""
    seen = 0
    current: BaseException | None = err
    while current is not None and seen < 5:
        if isinstance(current, USER_ERRORS):
            return True
        if type(current).__name__ != "InstantiationException":
            return False
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def report_error(command: str, err: BaseException) -> int:
    """Print ``err`` as one line on stderr (its traceback too when :func:`verbose_errors`), add it
    to the run's log files, and return the exit status for it."""
    if isinstance(err, KeyboardInterrupt):
        text = str(err) or "interrupted"
        code = getattr(err, "exit_code", 130)
    else:
        text = f"{type(err).__name__}: {err}" if not isinstance(err, HepmlError) else str(err)
        code = getattr(err, "exit_code", 1)
    line = f"hepml {command}: error: {' '.join(text.split())}"
    if verbose_errors() or not is_user_error(err):  # a bug keeps its traceback
        traceback.print_exception(err, file=sys.stderr)
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    record = logging.LogRecord("hepml", logging.ERROR, __file__, 0, line, None, None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
    return int(code)
