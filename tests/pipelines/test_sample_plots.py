"""Validation plots of a written sample through the data layer: ROOT as well as HDF5."""

import awkward as ak
import numpy as np
import pytest

from hepml.data.io import write_columns
from hepml.pipelines.plot import sample_plots
from hepml.plotting.options import PlotOptions

FAST = PlotOptions(energy="13 TeV", formats=("png",))


def _flavour_like(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n_trk, n_sv = rng.integers(0, 8, n), rng.integers(0, 3, n)
    return {
        "label": rng.integers(0, 2, n).astype(np.int32),
        "flavour": rng.choice([0, 4, 5], n).astype(np.int32),
        "jet_pt": 25 + rng.exponential(40, n),
        "n_trk": n_trk.astype(np.int32), "n_sv": n_sv.astype(np.int32),
        "trk_d0sig": ak.unflatten(rng.normal(0, 3, n_trk.sum()).astype(np.float32), n_trk),
        "sv_mass": ak.unflatten(rng.uniform(0, 5, n_sv.sum()).astype(np.float32), n_sv),
    }


@pytest.mark.parametrize("suffix", [".root", ".h5"])
def test_flavour_plots_from_root_and_hdf5(tmp_path, suffix):
    provenance = {"builder": "hepml.generate.samples.flavour.build_chunk",
                  "labels": {"ttbar": 1, "qcd": 0}}
    path = write_columns(tmp_path / f"flavour{suffix}", _flavour_like(400), provenance)
    files = sample_plots(path, tmp_path / "plots", options=FAST)  # the kind from the provenance
    assert sorted(f.name for f in files) == [
        "flavour_jet_pt.png", "flavour_lead_sv_mass.png", "flavour_lead_trk_d0sig.png",
        "flavour_max_trk_d0sig.png", "flavour_n_trk.png"]
    assert all(f.stat().st_size > 0 for f in files)


def test_sample_kind_is_needed_without_provenance(tmp_path):
    path = write_columns(tmp_path / "bare.root", _flavour_like(50))
    with pytest.raises(ValueError, match="sample_kind"):
        sample_plots(path, tmp_path / "plots")
    with pytest.raises(ValueError, match="no validation plots for sample 'nope'"):
        sample_plots(path, tmp_path / "plots", "nope")
    assert len(sample_plots(path, tmp_path / "plots", "flavour", FAST)) == 5
