"""Helpers for tests: small synthetic files with known structure, and config composition."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_HIGGS = REPO.parent / "shared" / "data" / "higgs" / "higgs_sample.csv"


def make_tau_like(n: int, seed: int = 0, max_const: int = 8) -> dict[str, np.ndarray]:
    """Tau-like events: jet pT is a smeared fraction of the tau pT; constituents share the jet pT."""
    rng = np.random.default_rng(seed)
    tau_pt = 20 + rng.exponential(30, n)
    frac = rng.uniform(0.4, 1.0, n)
    jet_pt = tau_pt * frac * rng.normal(1.0, 0.05, n)
    n_const = rng.integers(1, max_const + 1, n)
    shares = rng.dirichlet(np.ones(max_const), n)
    valid = np.arange(max_const)[None, :] < n_const[:, None]
    shares = np.where(valid, shares, 0)
    shares /= shares.sum(1, keepdims=True)
    const_pt = np.where(valid, shares * jet_pt[:, None], 0.0)
    return {
        "tau_pt": tau_pt,
        "jet_pt": jet_pt,
        "jet_eta": rng.uniform(-2.3, 2.3, n),
        "jet_m": rng.uniform(0.2, 1.7, n),
        "vis_pt": tau_pt * frac,
        "n_prongs": rng.choice([1, 3], n),
        "n_pi0": rng.integers(0, 3, n),
        "decay_mode": rng.choice([0, 1, 10, 11], n),
        "process": rng.integers(0, 2, n),
        "weight": np.ones(n),
        "n_const": n_const,
        "const_pt": const_pt,
        "const_deta": np.where(valid, rng.normal(0, 0.05, (n, max_const)), 0.0),
        "const_dphi": np.where(valid, rng.normal(0, 0.05, (n, max_const)), 0.0),
        "const_e": np.where(valid, const_pt * 1.5, 0.0),
        "const_charge": np.where(valid, rng.choice([-1.0, 0.0, 1.0], (n, max_const)), 0.0),
    }


def write_h5(path: Path, columns: dict[str, np.ndarray]) -> Path:
    with h5py.File(path, "w") as f:
        for k, v in columns.items():
            f[k] = v
    return path


def compose_train(overrides: list[str]):
    """The train config with ``overrides``, composed outside a Hydra app."""
    from hydra import compose, initialize_config_dir

    from hepml.config import config_dir

    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("train", overrides=overrides)


#: overrides that make a generated sample cheaper to make in tests (a smaller pileup pool)
CHEAP = {name: ["sample.params.pool_size=100", "sample.params.mu=10"] for name in ("photon_id", "photon_energy")}

PEERBENCH_MAKE = REPO.parent / "shared" / "peer-bench" / "make_data.py"


def peerbench_overrides(directory: Path, n_train: int = 600, n_test: int = 200) -> list[str]:
    """Data overrides of ``data=peerbench`` for a small peer-bench file made in ``directory`` by
    ``../shared/peer-bench/make_data.py`` (the test is skipped where that script is absent)."""
    import subprocess
    import sys

    import pytest

    if not PEERBENCH_MAKE.is_file():
        pytest.skip(f"{PEERBENCH_MAKE} not present")
    out = Path(directory) / f"peerbench_{n_train}_{n_test}"
    if not (out / "jets_test.root").is_file():
        subprocess.run([sys.executable, str(PEERBENCH_MAKE), "--outdir", str(out), "--n-train", str(n_train),
                        "--n-test", str(n_test)], check=True, capture_output=True)
    return [f"data.files.train=[{out}/jets_train.root]", f"data.files.test=[{out}/jets_test.root]"]
