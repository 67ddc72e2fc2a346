"""The one exception type for user errors.

A :class:`HepmlError` is a mistake the user can fix (a file, a key, a value, a run directory): its
message names the thing, what was expected and what to do. ``hepml`` prints it as one line on
stderr (the traceback only with ``--verbose`` or ``HYDRA_FULL_ERROR=1``); any other exception is a
bug and keeps its traceback. Existing error classes stay subclasses of the built-in types they
were (``ValueError``, ``OSError``, ...) so code catching those keeps working.
"""

from __future__ import annotations


class HepmlError(Exception):
    """A user error with an actionable message.

    Attributes
    ----------
    exit_code : process exit status the CLI uses for it (1 unless a subclass says otherwise).
    """

    exit_code: int = 1
