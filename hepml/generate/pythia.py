"""Creating and initialising Pythia 8 (``pythia8mc``) from a list of settings strings.

Pitfalls handled here (see ``/work/shared/PYTHIA.md``): ``Random:seed`` only takes effect with
``Random:setSeed = on``; seed 0 means "from the clock" and seeds above 900,000,000 are rejected;
``readString`` and ``init`` report failure by returning False instead of raising. A Pythia object
cannot be pickled, so a worker process must create its own instance.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from hepml.generate import progress

logger = logging.getLogger(__name__)

__all__ = ["MAX_SEED", "make_pythia", "pythia_version"]

#: Largest seed Pythia accepts (``Random:seed``); 0 would mean "seed from the clock".
MAX_SEED = 900_000_000

_QUIET = ("Print:quiet = on", "Next:numberCount = 0")


def pythia_version() -> str:
    """Installed version of the ``pythia8mc`` package, or ``"unknown"``."""
    try:
        return version("pythia8mc")
    except PackageNotFoundError:
        return "unknown"


def make_pythia(settings: Sequence[str], seed: int, quiet: bool = True, count_events: bool = True):
    """Create and initialise a Pythia instance.

    Parameters
    ----------
    settings
        Pythia settings strings, e.g. ``["Beams:eCM = 13000", "HiggsSM:gg2H = on"]``.
    seed
        Random seed, ``1 <= seed <= 900,000,000``; ``Random:setSeed = on`` is set for you.
    quiet
        Silence the banner, the initialisation and statistics listings and the progress lines.
    count_events
        Count its ``nextBatch`` events towards the progress of a generation
        (:mod:`hepml.generate.progress`); false for auxiliary generators such as pileup pools.

    Returns
    -------
    pythia8mc.Pythia
        The initialised generator.

    Raises
    ------
    ValueError
        If the seed is out of range.
    RuntimeError
        If Pythia rejects a setting (named in the message) or ``init()`` fails.
    """
    import pythia8mc

    if not 1 <= int(seed) <= MAX_SEED:
        raise ValueError(f"Pythia seed must be in [1, {MAX_SEED}], got {seed}")
    pythia = (progress.pythia_class() if count_events else pythia8mc.Pythia)("", not quiet)
    lines = [*settings, "Random:setSeed = on", f"Random:seed = {int(seed)}"]
    if quiet:
        lines = [*lines, *_QUIET]
    for line in lines:
        if not pythia.readString(line, False):
            raise RuntimeError(
                f"Pythia rejected the setting {line!r}: check its spelling and value against "
                "the Pythia 8 settings manual"
            )
    if not pythia.init():
        raise RuntimeError(
            f"Pythia init() failed for settings {list(settings)} (seed {seed}); run with "
            "quiet=False to see Pythia's own messages"
        )
    logger.debug("Pythia initialised with seed %d and %d settings", seed, len(settings))
    return pythia
