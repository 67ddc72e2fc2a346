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


SAMPLE_EVENTS = 150  # kept objects per tiny generated sample: enough for both classes in every split


@pytest.fixture(scope="session")
def generated_sample(tmp_path_factory):
    """``generated_sample(experiment)``: overrides pointing the experiment at a small generated
    sample (``SAMPLE_EVENTS`` events, one worker), made once per session and shared by the tests."""
    from helpers import CHEAP, compose_train

    from hepml.pipelines.common import ensure_sample

    root, made = tmp_path_factory.mktemp("generated_samples"), set()

    def overrides(experiment: str) -> list[str]:
        out = [f"paths.data_dir={root}", f"sample.n_events={SAMPLE_EVENTS}", "sample.workers=1",
               *CHEAP.get(experiment, [])]
        if experiment not in made:
            ensure_sample(compose_train([f"experiment={experiment}", *out]))
            made.add(experiment)
        return out
    return overrides
