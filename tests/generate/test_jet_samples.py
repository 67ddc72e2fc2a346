"""The jet-sample builders (W tagging, top tagging, quark/gluon) on tens of events."""

import awkward as ak
import h5py
import numpy as np
import pytest

from hepml.data.io import write_columns
from hepml.generate.samples import quark_gluon, top, wtag
from hepml.physics.jet_images import jet_mass_from_image
from hepml.pipelines.plot import sample_plots

N_EVENTS = 100
CONST = {f"const_{f}" for f in ("pt", "eta", "phi", "e", "px", "py", "pz", "deta", "dphi", "charge", "pid")}
TREES = {f"tree_{a}_{side}" for a in ("kt", "antikt") for side in ("left", "right")}
COLUMNS = {
    wtag: {"jet_pt", "jet_eta", "jet_phi", "jet_m", "tau1", "tau2", "tau3", "tau21", "n_const"}
    | CONST
    | TREES
    | {"image", "image_npix"},
    top: {"jet_pt", "jet_eta", "jet_phi", "jet_m", "tau1", "tau2", "tau3", "tau21", "tau32"}
    | {"n_const"}
    | CONST
    | TREES,
    quark_gluon: {"jet_pt", "jet_eta", "jet_y", "jet_phi", "jet_m", "parton_pdgid", "n_const"}
    | CONST
    | TREES,
}
CASES = [
    (wtag, "wprime", 7),
    (wtag, "qcd", 8),
    (top, "ttbar", 9),
    (top, "qcd", 10),
    (quark_gluon, "zjet", 11),
    (quark_gluon, "dijet", 12),
]
# tight pT-hat windows: many kept jets from few events (the defaults are wider, for coverage)
TIGHT = {
    wtag: {"pthat_min": 250.0, "pthat_max": 330.0},
    top: {"pthat_min": 530.0, "pthat_max": 700.0},
    quark_gluon: {"pthat_min": 480.0, "pthat_max": 600.0},
}


@pytest.fixture(scope="module")
def built():
    return {
        (module, channel): module.build_chunk(seed, N_EVENTS, process=channel, **TIGHT[module])
        for module, channel, seed in CASES
    }


@pytest.mark.parametrize(("module", "channel", "seed"), CASES)
def test_columns_lengths_window_and_sorting(built, module, channel, seed):
    out = built[module, channel]
    assert set(out) == COLUMNS[module]
    n = len(out["jet_pt"])
    assert n > 0, "the pT-hat window should give jets even in a few tens of events"
    assert all(len(values) == n for values in out.values())
    n_const = out["n_const"]
    for name in CONST:
        assert np.array_equal(ak.to_numpy(ak.num(out[name])), n_const)
    for name in TREES:
        assert np.array_equal(ak.to_numpy(ak.num(out[name])), np.maximum(n_const - 1, 0))
    pt_min, pt_max = {wtag: (250, 300), top: (550, 650), quark_gluon: (500, 550)}[module]
    assert np.all((out["jet_pt"] > pt_min) & (out["jet_pt"] < pt_max))
    if module is quark_gluon:
        assert np.all(np.abs(out["jet_y"]) < 1.7)
    else:
        assert np.all(np.abs(out["jet_eta"]) < 2.0)
        # exclusive-kT axes are not minimised: tau2 can exceed tau1 by a little
        assert np.all((out["tau21"] >= 0) & (out["tau21"] < 1.2))
    const_pt = out["const_pt"]
    assert ak.all(const_pt[:, 1:] <= const_pt[:, :-1])
    # anti-kT constituents lie within 2R of the final axis (within R of a merged hard prong)
    radius = 0.4 if module is quark_gluon else 0.8
    dr = np.hypot(out["const_deta"], out["const_dphi"])
    assert (
        ak.all(dr < 2 * radius)
        and np.median(ak.to_numpy(ak.fill_none(ak.max(dr, axis=1), 0.0))) < radius
    )


def test_signal_jets_have_the_resonance_mass(built):
    assert 65 < np.median(built[wtag, "wprime"]["jet_m"]) < 95
    assert 140 < np.median(built[top, "ttbar"]["jet_m"]) < 200
    assert np.median(built[wtag, "qcd"]["jet_m"]) < 65
    assert np.median(built[wtag, "wprime"]["tau21"]) < np.median(built[wtag, "qcd"]["tau21"])


def test_partons_are_recorded(built):
    for channel in ("zjet", "dijet"):
        pdgid = np.abs(built[quark_gluon, channel]["parton_pdgid"])
        assert np.all(np.isin(pdgid, [0, 1, 2, 3, 4, 5, 6, 21]))
        assert np.mean(pdgid > 0) > 0.8
    gluons = quark_gluon.build_chunk(
        12, N_EVENTS, process="dijet", parton_flavour="gluon", **TIGHT[quark_gluon]
    )
    assert len(gluons["jet_pt"]) > 0 and np.all(np.abs(gluons["parton_pdgid"]) == 21)


def test_same_seed_same_output_and_truncation():
    first = wtag.build_chunk(21, 30, process="qcd", **TIGHT[wtag])
    again = wtag.build_chunk(21, 30, process="qcd", **TIGHT[wtag])
    assert set(first) == set(again)
    for name, values in first.items():
        assert ak.to_list(values) == ak.to_list(again[name]), name
    other = wtag.build_chunk(22, 30, process="qcd", **TIGHT[wtag])
    assert ak.to_list(other["jet_pt"]) != ak.to_list(first["jet_pt"])
    short = wtag.build_chunk(21, 30, process="qcd", max_constituents=10, **TIGHT[wtag])
    assert np.array_equal(short["jet_pt"], first["jet_pt"])
    assert np.array_equal(short["n_const"], np.minimum(first["n_const"], 10))
    assert ak.to_list(short["const_pt"]) == ak.to_list(first["const_pt"][:, :10])


def test_image_total_is_the_pt_inside_the_extent(built):
    plain = wtag.build_chunk(7, N_EVENTS, process="wprime", centre=False, rotate=False, flip=False)
    images = ak.to_numpy(plain["image"]).reshape(-1, 25, 25)
    inside = (np.abs(plain["const_deta"]) < 1.25) & (np.abs(plain["const_dphi"]) < 1.25)
    expected = ak.to_numpy(ak.sum(plain["const_pt"][inside], axis=1))
    assert np.allclose(images.sum(axis=(1, 2)), expected, rtol=1e-5)
    # preprocessed images keep (almost) all of it: R = 0.8 jets fit in 2.5 x 2.5
    processed = built[wtag, "wprime"]
    total = ak.to_numpy(processed["image"]).reshape(-1, 625).sum(axis=1)
    const_total = ak.to_numpy(ak.sum(processed["const_pt"], axis=1))
    assert np.all(total <= const_total * (1 + 1e-5)) and np.median(total / const_total) > 0.999


def test_mass_from_centred_images_matches_the_jet_mass():
    out = wtag.build_chunk(7, N_EVENTS, process="wprime", rotate=False, flip=False)
    image_mass = jet_mass_from_image(ak.to_numpy(out["image"]).reshape(-1, 25, 25), 1.25)
    relative = np.abs(image_mass / out["jet_m"] - 1)
    assert np.median(relative) < 0.03 and np.quantile(relative, 0.9) < 0.1


def test_written_file_and_validation_plots(built, tmp_path):
    parts = [built[wtag, "wprime"], built[wtag, "qcd"]]
    columns = {
        name: ak.concatenate([p[name] for p in parts])
        if isinstance(parts[0][name], ak.Array)
        else np.concatenate([p[name] for p in parts])
        for name in parts[0]
    }
    n_signal = len(parts[0]["jet_pt"])
    columns["label"] = (np.arange(len(columns["jet_pt"])) < n_signal).astype(np.int32)
    path = write_columns(tmp_path / "wtag.h5", columns, {"labels": {"wprime": 1, "qcd": 0}})
    with h5py.File(path) as handle:
        assert handle["image"].shape == (len(columns["jet_pt"]), 625)
    written = sample_plots(path, tmp_path / "plots", "wtag")
    names = {p.name for p in written}
    assert {"jet_mass.png", "tau21.png", "mean_image_label0.png", "mean_image_label1.pdf",
            "image_difference.png"} <= names
    assert all(p.stat().st_size > 0 for p in written)


def test_uncontained_signal_is_a_superset(built):
    contained = built[top, "ttbar"]
    loose = top.build_chunk(9, N_EVENTS, process="ttbar", contained=False, **TIGHT[top])
    assert set(contained["jet_pt"].tolist()) <= set(loose["jet_pt"].tolist())
    assert len(loose["jet_pt"]) >= len(contained["jet_pt"])


def test_pileup_overlay_adds_flagged_constituents_and_shifts_the_jets():
    mu, window = 20.0, {**TIGHT[wtag], "pt_max": 1000.0}  # no upper cut: pile-up moves jets up
    plain = wtag.build_chunk(31, 60, process="qcd", **window)
    piled = wtag.build_chunk(31, 60, process="qcd", mu=mu, pool_size=30, **window)
    assert "n_pileup" not in plain and "const_pileup" not in plain
    assert set(piled) == set(plain) | {"n_pileup", "const_pileup"}
    flag = piled["const_pileup"]
    assert str(ak.type(flag).content) == "var * int32" and set(ak.flatten(flag).tolist()) <= {0, 1}
    assert ak.sum(flag) > 0
    assert ak.to_list(ak.num(flag)) == piled["n_const"].tolist()
    assert np.all(piled["n_pileup"][ak.to_numpy(ak.any(flag == 1, axis=1))] > 0)
    assert piled["jet_pt"].mean() > plain["jet_pt"].mean()
    assert piled["jet_m"].mean() > plain["jet_m"].mean() + 10.0
    n = piled["n_pileup"].size  # two jets of one event share it: twice the Poisson variance
    assert abs(piled["n_pileup"].mean() - mu) < 4 * np.sqrt(2 * mu / n)


def test_pileup_same_seed_same_output():
    from hepml.generate.pileup import cached_pool

    first = top.build_chunk(9, 20, process="qcd", mu=10.0, pool_size=20, **TIGHT[top])
    cached_pool.cache_clear()  # the pool is generated again from its seed
    again = top.build_chunk(9, 20, process="qcd", mu=10.0, pool_size=20, **TIGHT[top])
    assert list(first) == list(again)
    for name, values in first.items():
        assert ak.to_list(values) == ak.to_list(again[name]), name
    with pytest.raises(ValueError, match="mu"):
        quark_gluon.build_chunk(1, 10, process="dijet", mu=-1.0)
