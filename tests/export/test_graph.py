"""The graph's raw-input transform equals the data layer's, variable by variable."""

from __future__ import annotations

import numpy as np
import torch

from hepml.data.columns import group_arrays
from hepml.data.schema import group_spec
from hepml.export.graph import RawGroup, RawImage


def test_scalars_with_every_transform_clip_and_sentinel():
    g = group_spec("scalars", {"variables": {
        "a": {"transform": "log"}, "b": {"transform": "log1p", "clip": [0.1, 2.0]},
        "c": {"transform": "abs", "missing": -999}, "d": {"missing": "nan", "clip": [-1, 1]}, "e": {}}})
    rng = np.random.default_rng(0)
    n = 200
    cols = {"a": rng.uniform(0.1, 100, n), "b": rng.uniform(-0.5, 20, n), "c": rng.normal(0, 3, n),
            "d": rng.normal(0, 2, n), "e": rng.normal(5, 1, n)}
    cols["c"][::5] = -999
    cols["d"][::7] = np.nan
    cols = {k: v.astype(np.float32) for k, v in cols.items()}
    expected = group_arrays(g, cols, "test")["scalars"]
    raw = torch.from_numpy(np.stack([cols[k] for k in "abcde"], axis=1))
    got = RawGroup(g)(raw).numpy()
    assert got.shape == expected.shape == (n, 7)  # five variables and two flags
    np.testing.assert_array_equal(got, expected)


def test_particle_list_with_padding_and_a_sentinel():
    g = group_spec("particles", {"max_length": 6, "count": "n", "variables": {
        "pt": {"transform": "log", "pad_value": -1.0}, "q": {"missing": 0}, "eta": {"clip": [-2, 2]}}})
    rng = np.random.default_rng(1)
    n = 50
    counts = rng.integers(0, 7, n)
    valid = np.arange(6)[None, :] < counts[:, None]
    cols = {"n": counts.astype(np.float32),
            "pt": np.where(valid, rng.uniform(1, 50, (n, 6)), 0).astype(np.float32),
            "q": np.where(valid, rng.choice([-1.0, 0.0, 1.0], (n, 6)), 0).astype(np.float32),
            "eta": np.where(valid, rng.normal(0, 2, (n, 6)), 0).astype(np.float32)}
    arrays = group_arrays(g, cols, "test")
    raw = torch.from_numpy(np.stack([cols[k] for k in ("pt", "q", "eta")], axis=-1))
    got = RawGroup(g)(raw, torch.from_numpy(arrays["particles_mask"])).numpy()
    np.testing.assert_array_equal(got, arrays["particles"])


def test_image_normalisation_and_log():
    g = group_spec("images", {"shape": [1, 4, 4], "column": "img", "pt_normalize": True, "log": True})
    img = np.random.default_rng(2).exponential(1.0, (10, 4, 4)).astype(np.float32)
    img[0] = 0.0  # an empty image stays empty
    expected = group_arrays(g, {"img": img}, "test")["images"]
    got = RawImage(g)(torch.from_numpy(img[:, None])).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
