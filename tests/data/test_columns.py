"""The pure transform (raw columns -> event arrays) on known inputs, without files or Lightning."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import torch
from helpers import make_tau_like

from hepml.data.columns import ColumnError, concat, inverse_target, take, transform
from hepml.data.preprocess import compute_stats
from hepml.data.schema import build_schema
from hepml.data.selection import Selection, SelectionError
from hepml.models.layers.inputnorm import InputNorm

PARTICLES = {"particles": {"max_length": 5, "count": "n_const", "sort_by": "const_pt",
                           "variables": {"const_pt": {"transform": "log"}, "const_deta": {}},
                           "points": ["const_deta", "const_dphi"]}}


def _schema(inputs=None, **kw):
    kw.setdefault("target", {"variable": "tau_pt", "ratio_to": "jet_pt", "transform": "log"})
    return build_schema(inputs or {"scalars": {"variables": {"jet_pt": {"transform": "log"}}}}, **kw)


def _equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):
            _equal(a[k], b[k])
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_transform_of_chunks_equals_transform_of_the_whole_file():
    cols = make_tau_like(300)
    schema = _schema({**PARTICLES, "scalars": {"variables": {"jet_pt": {"transform": "log"}, "jet_eta": {}}}},
                     observers=["decay_mode"], aux=["jet_m"], baseline="jet_pt",
                     selection="jet_eta > -1.5 and jet_pt > 10")
    whole = transform(schema, cols, path="f.h5")
    parts = [transform(schema, {k: v[s:s + 70] for k, v in cols.items()}, path="f.h5", entry_start=s)
             for s in range(0, 300, 70)]
    _equal(whole, concat(parts))
    keep = (cols["jet_eta"] > -1.5) & (cols["jet_pt"] > 10)
    np.testing.assert_array_equal(whole["entry"], np.flatnonzero(keep))
    np.testing.assert_allclose(whole["aux"]["jet_m"], cols["jet_m"][keep].astype(np.float32))


def test_particles_sorted_masked_with_points():
    cols = make_tau_like(200)
    out = transform(_schema(PARTICLES), cols, path="f.h5")
    x, mask = out["inputs"]["particles"], out["inputs"]["particles_mask"]
    np.testing.assert_array_equal(mask.sum(1), np.minimum(cols["n_const"], 5))
    lead = np.log(cols["const_pt"].max(1))
    np.testing.assert_allclose(x[:, 0, 0], lead, rtol=1e-6)
    assert np.all(x[~mask] == 0)
    pts = out["inputs"]["particles_points"]
    assert pts.shape == (200, 5, 2) and np.all(pts[~mask] == 0)
    order = np.argsort(-cols["const_pt"][0], kind="stable")[:5][: int(mask[0].sum())]
    np.testing.assert_allclose(pts[0, : len(order), 1], cols["const_dphi"][0][order], rtol=1e-6)


def test_vectors_from_pt_eta_phi_mass_and_jagged_input():
    pt = ak.Array([[10.0, 20.0], [5.0]])
    eta = ak.Array([[0.0, 1.0], [-1.0]])
    phi = ak.Array([[0.0, np.pi / 2], [np.pi]])
    m = ak.Array([[0.0, 0.0], [1.0]])
    schema = build_schema({"p": {"max_length": 3, "variables": ["pt"],
                                 "vectors": {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "m"}}},
                          label="y")
    out = transform(schema, {"pt": pt, "eta": eta, "phi": phi, "m": m, "y": np.array([0, 1])}, path="x.root")
    v = out["inputs"]["p_vectors"]
    assert v.shape == (2, 3, 4)
    np.testing.assert_allclose(v[0, 0], [10, 0, 0, 10], atol=1e-5)
    np.testing.assert_allclose(v[0, 1], [0, 20, 20 * np.sinh(1), 20 * np.cosh(1)], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(v[1, 0, 3], np.sqrt((5 * np.cosh(1)) ** 2 + 1), rtol=1e-5)
    assert np.all(v[1, 1:] == 0)


def test_image_group_from_2d_dataset_and_flat_columns_with_norms():
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 5, (50, 4, 3))
    flat = {f"p{i}": img.reshape(50, -1)[:, i] for i in range(12)}
    a = build_schema({"images": {"shape": [1, 4, 3], "column": "img", "pt_normalize": True}}, label="y")
    b = build_schema({"images": {"shape": [1, 4, 3], "columns": list(flat), "pt_normalize": True}}, label="y")
    y = rng.integers(0, 2, 50)
    xa = transform(a, {"img": img, "y": y}, path="a.h5")["inputs"]["images"]
    xb = transform(b, {**flat, "y": y}, path="b.csv")["inputs"]["images"]
    assert xa.shape == (50, 1, 4, 3)
    np.testing.assert_allclose(xa, xb, rtol=1e-6)
    np.testing.assert_allclose(xa.sum(axis=(1, 2, 3)), 1.0, rtol=1e-5)
    for mode, shape in (("global", (1,)), ("pixel", (1, 4, 3))):
        s = build_schema({"images": {"shape": [1, 4, 3], "column": "img", "normalize": mode}}, label="y")
        arrays = transform(s, {"img": img, "y": y}, path="a.h5")
        stats = compute_stats(s, arrays)
        assert np.shape(stats["inputs"]["images"]["center"]) == shape
        normed = InputNorm(stats["inputs"])({"images": torch.from_numpy(arrays["inputs"]["images"])})["images"]
        axes = (0, 1, 2, 3) if mode == "global" else (0,)
        np.testing.assert_allclose(normed.numpy().mean(axis=axes), 0.0, atol=1e-5)
        np.testing.assert_allclose(normed.numpy().std(axis=axes), 1.0, atol=1e-4)


def test_sentinel_is_replaced_flagged_and_never_fed_raw():
    x = np.array([1.0, -999.0, 3.0, 5.0, -999.0])
    schema = build_schema({"scalars": {"variables": {"a": {"missing": -999, "transform": "log"}, "b": {}}}},
                          label="y")
    arrays = transform(schema, {"a": x, "b": np.arange(5.0), "y": np.zeros(5)}, path="f.csv")
    feats = arrays["inputs"]["scalars"]
    assert feats.shape == (5, 3)  # a, b, a_missing
    np.testing.assert_array_equal(feats[:, 2], [0, 1, 0, 0, 1])
    stats = compute_stats(schema, arrays)
    assert stats["inputs"]["scalars"]["center"][0] == pytest.approx(np.log([1, 3, 5]).mean(), rel=1e-6)
    normed = InputNorm(stats["inputs"])({"scalars": torch.from_numpy(feats)})["scalars"].numpy()
    np.testing.assert_array_equal(normed[[1, 4], 0], 0.0)
    np.testing.assert_array_equal(normed[:, 2], feats[:, 2])
    nan_schema = build_schema({"scalars": {"variables": {"a": {"missing": "nan"}}}}, label="y")
    out = transform(nan_schema, {"a": np.array([1.0, np.nan]), "y": np.zeros(2)}, path="f.csv")
    np.testing.assert_array_equal(out["inputs"]["scalars"], [[1.0, 0.0], [0.0, 1.0]])


def test_aliases_name_the_file_columns():
    schema = build_schema({"scalars": {"variables": {"jet_1_pt": {"column": "jet1_pt"}, "m": {}}}},
                          label="y", columns={"m": "mass", "y": "is_sig"})
    assert sorted(schema.file_columns()) == ["is_sig", "jet1_pt", "mass"]
    out = transform(schema, {"jet1_pt": np.ones(3), "mass": np.full(3, 2.0), "is_sig": np.array([0, 1, 1])},
                    path="f.parquet")
    np.testing.assert_array_equal(out["inputs"]["scalars"], [[1, 2]] * 3)
    np.testing.assert_array_equal(out["label"], [0, 1, 1])


def test_source_tags_label_domain_fraction_unlabelled():
    schema = build_schema({"scalars": {"variables": ["a"]}}, classes=["bkg", "sig"], sources={
        "sig": {"files": ["s.root"], "label": "sig"},
        "bkg": {"files": ["b.root"], "label": 0},
        "data": {"files": ["d.root"], "labelled": False, "domain": 1},
        "mix": {"files": ["m.root"], "fraction": 0.8, "label": 1},
    })
    raw = {"a": np.arange(4.0)}
    assert schema.columns(schema.sources[0]) == ["a"]
    outs = [transform(schema, raw, path=s.files[0], source=s, source_index=i) for i, s in enumerate(schema.sources)]
    np.testing.assert_array_equal([o["label"][0] for o in outs], [1, 0, 0, 1])
    np.testing.assert_array_equal([o["labelled"][0] for o in outs], [True, True, False, True])
    np.testing.assert_array_equal([o["domain"][0] for o in outs], [0, 0, 1, 0])
    np.testing.assert_array_equal([o["source"][0] for o in outs], [0, 1, 2, 3])
    assert np.isnan(outs[0]["fraction"][0]) and outs[3]["fraction"][0] == pytest.approx(0.8)
    stats = compute_stats(schema, concat(outs))
    assert stats["class_counts"] == [4, 8]  # unlabelled events are not counted


def test_bad_particle_columns_are_named():
    cols = make_tau_like(20)
    bad = dict(cols, n_const=cols["n_const"].copy())
    bad["n_const"][3] = -1
    with pytest.raises(ColumnError, match="n_const.*negative"):
        transform(_schema(PARTICLES), bad, path="f.h5")
    bad["n_const"][3] = 9
    with pytest.raises(ColumnError, match="reaches 9.*only 8 slots"):
        transform(_schema(PARTICLES), bad, path="f.h5")
    jag = {"a": ak.Array([[1.0, 2.0], [3.0]]), "b": ak.Array([[1.0], [3.0]]), "y": np.array([0, 1])}
    schema = build_schema({"p": {"max_length": 3, "variables": ["a", "b"]}}, label="y")
    with pytest.raises(ColumnError, match="different numbers of particles .*entry 0"):
        transform(schema, jag, path="f.root")
    wide = dict(cols, const_deta=np.zeros((20, 6)))
    with pytest.raises(ColumnError, match="mixes padded widths"):
        transform(_schema(PARTICLES), wide, path="f.h5")


def test_selection_grammar_is_safe():
    sel = Selection.parse("(a > 1 and abs(b) <= 2) or not 0 < c < 5")
    cols = {"a": np.array([0, 2, 2, 0]), "b": np.array([0, 3, 1, 0]), "c": np.array([1, 1, 1, 7])}
    np.testing.assert_array_equal(sel.mask(cols), [False, False, True, True])
    assert sel.columns == ("a", "b", "c")
    for bad in ("__import__('os').system('x')", "a > 1; b", "a and b", "a > ", "a = 1"):
        with pytest.raises(SelectionError):
            Selection.parse(bad)


def test_target_inverse_round_trips_numpy_and_torch():
    truth, ref = np.array([10.0, 40.0]), np.array([8.0, 50.0])
    arrays = transform(_schema(), {"tau_pt": truth, "jet_pt": ref}, path="f.h5")
    np.testing.assert_allclose(inverse_target(arrays["target"].astype(np.float64), ref, "log"), truth, rtol=1e-6)
    t = torch.from_numpy(arrays["target"])
    np.testing.assert_allclose(inverse_target(t, torch.from_numpy(ref), "log").numpy(), truth, rtol=1e-5)
    assert take(arrays, [1])["truth"][0] == 40.0
