"""Preprocessing: transforms, statistics over valid entries only, the cache."""

from __future__ import annotations

import numpy as np
import pytest

from hepml.data.preprocess import cached, check_finite, compute_stats, config_hash, transform_values
from hepml.data.schema import Variable, build_schema


def test_log_transform_and_clip():
    v = Variable("pt", transform="log", clip=(0.0, 2.0))
    out = transform_values(np.array([1.0, np.e, 100.0]), v, None, "f.h5")
    np.testing.assert_allclose(out, [0.0, 1.0, 2.0])


def test_log_of_non_positive_names_file_and_variable():
    with pytest.raises(ValueError, match=r"f\.h5: variable 'pt' has 1 value\(s\) <= 0"):
        transform_values(np.array([1.0, 0.0]), Variable("pt", transform="log"), None, "f.h5")


def test_padding_is_not_transformed():
    x = np.array([[1.0, 0.0]])
    valid = np.array([[True, False]])
    out = transform_values(x, Variable("pt", transform="log"), valid, "f")
    np.testing.assert_allclose(out, [[0.0, 0.0]])


def _particle_arrays(x, mask):
    return {"inputs": {"p": np.asarray(x, dtype=np.float32), "p_mask": mask}, "entry": np.arange(len(x))}


def test_stats_use_only_valid_entries_and_fixed_values():
    x = np.array([[[1.0], [3.0], [100.0]]])
    mask = np.array([[True, True, False]])
    schema = build_schema({"p": {"max_length": 3, "variables": ["a"]}}, label="y")
    stats = compute_stats(schema, _particle_arrays(x, mask))["inputs"]["p"]
    assert stats["center"][0] == pytest.approx(2.0)
    assert stats["scale"][0] == pytest.approx(1.0)
    fixed = build_schema({"p": {"max_length": 3, "variables": {"a": {"center": None, "scale": None}}}}, label="y")
    stats = compute_stats(fixed, _particle_arrays(x, mask))["inputs"]["p"]
    assert (stats["center"][0], stats["scale"][0]) == (0.0, 1.0)


def test_accumulated_stats_equal_whole_sample_stats():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, (1000, 4, 2))
    mask = rng.uniform(size=(1000, 4)) < 0.7
    schema = build_schema({"p": {"max_length": 4, "variables": ["a", "b"]}}, label="y")
    chunked = compute_stats(schema, _particle_arrays(x, mask), chunk=77)["inputs"]["p"]
    valid = x[mask]
    np.testing.assert_allclose(chunked["center"], valid.mean(0), rtol=1e-5)
    np.testing.assert_allclose(chunked["scale"], valid.std(0), rtol=1e-4)


def test_check_finite_names_variable():
    with pytest.raises(ValueError, match="f.root: variable 'eta' has 1 NaN/inf"):
        check_finite(np.array([0.0, np.inf]), "eta", "f.root")


def test_cache_computes_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": [1.0]}

    key = config_hash({"a": 1})
    assert cached(tmp_path, key, compute) == {"x": [1.0]}
    assert cached(tmp_path, key, compute) == {"x": [1.0]}
    assert len(calls) == 1
    assert config_hash({"a": 2}) != key


def test_schema_rejects_typos():
    with pytest.raises(ValueError, match="unknown option.*'trasform'"):
        build_schema({"s": {"variables": {"pt": {"trasform": "log"}}}}, label="y")
    with pytest.raises(ValueError, match="unknown transform"):
        build_schema({"s": {"variables": {"pt": {"transform": "sqrt"}}}}, label="y")
    with pytest.raises(ValueError, match="needs a regression `target`, a classification `label` column"):
        build_schema({"s": {"variables": ["pt"]}})
