"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from helpers import make_tau_like, write_h5  # noqa: E402


@pytest.fixture
def tau_file(tmp_path: Path) -> Path:
    """1,500 synthetic tau-like events in HDF5 (padded constituent arrays plus n_const)."""
    return write_h5(tmp_path / "taus.h5", make_tau_like(1500))
