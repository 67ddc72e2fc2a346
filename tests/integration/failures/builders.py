"""A builder for generation tests that never finishes a chunk on its own (it sleeps)."""

from __future__ import annotations

import time

import numpy as np


def sleepy_builder(seed: int, n_events: int) -> dict[str, np.ndarray]:
    """Sleep for ten minutes, then return ``n_events`` rows of one column."""
    time.sleep(600)
    return {"x": np.zeros(n_events)}
