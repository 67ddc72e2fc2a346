"""Tree groups: the clustering history in the padded layout, after sorting and truncation."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepml.data.columns import group_arrays
from hepml.data.preprocess import ColumnError
from hepml.data.schema import group_spec


def _group(**kw):
    spec = {"max_length": 4, "variables": {"pt": {}}, "tree": ["left", "right"], **kw}
    return group_spec("particles", spec)


def _cols():
    # jet 0: 3 particles, (0,1) -> 3, (3,2) -> 4;  jet 1: 1 particle;  jet 2: 2 particles (1,0) -> 2
    return {
        "pt": ak.Array([[5.0, 3.0, 1.0], [7.0], [2.0, 4.0]]),
        "left": ak.Array([[0, 3], [], [1]]),
        "right": ak.Array([[1, 2], [], [0]]),
    }


def test_merges_in_the_padded_layout():
    out = group_arrays(_group(), _cols(), "f.root")
    tree = out["particles_tree"]
    assert tree.shape == (3, 3, 2) and tree.dtype == np.int64
    # N = 4 slots: internal node k is 4 + k
    assert tree[0].tolist() == [[0, 1], [4, 2], [-1, -1]]
    assert tree[1].tolist() == [[-1, -1]] * 3
    assert tree[2].tolist() == [[1, 0], [-1, -1], [-1, -1]]


def test_sorting_moves_the_leaves_with_their_particles():
    out = group_arrays(_group(sort_by="pt"), _cols(), "f.root")
    # jet 2 is reordered (4.0 first): its particles 0, 1 sit in slots 1, 0
    assert out["particles"][2, :2, 0].tolist() == [4.0, 2.0]
    assert out["particles_tree"][2, 0].tolist() == [0, 1]
    assert out["particles_tree"][0].tolist() == [[0, 1], [4, 2], [-1, -1]]


def test_truncation_keeps_the_tree_of_the_kept_particles():
    cols = {"pt": ak.Array([[5.0, 3.0, 1.0, 0.5]]), "left": ak.Array([[2, 0, 5]]),
            "right": ak.Array([[3, 1, 4]])}
    # full tree: (2,3) -> 4, (0,1) -> 5, (5,4) -> 6; keep 3 slots: particle 3 is dropped
    tree = group_arrays(_group(max_length=3), cols, "f.root")["particles_tree"]
    # (2, -) -> 2; (0,1) -> node 3; (node 3, 2) -> node 4
    assert tree[0].tolist() == [[0, 1], [3, 2]]


def test_padded_hdf5_layout_and_errors():
    cols = {"pt": np.array([[5.0, 3.0, 1.0], [2.0, 4.0, 0.0]]), "n": np.array([3, 2]),
            "left": np.array([[0.0, 3.0], [1.0, 0.0]]), "right": np.array([[1.0, 2.0], [0.0, 0.0]])}
    tree = group_arrays(_group(count="n"), cols, "f.h5")["particles_tree"]
    assert tree[0, :2].tolist() == [[0, 1], [4, 2]] and tree[1, :1].tolist() == [[1, 0]]
    bad = dict(cols, left=np.array([[0.0, 5.0], [1.0, 0.0]]))
    with pytest.raises(ColumnError, match="does not exist yet"):
        group_arrays(_group(count="n"), bad, "f.h5")
    with pytest.raises(ColumnError, match="merges at entry 0"):
        group_arrays(_group(), {**_cols(), "left": ak.Array([[0], [], [1]])}, "f.root")


def test_schema_checks_the_tree_key():
    with pytest.raises(ValueError, match="two columns"):
        _group(tree=["left"])
    assert "left" in _group().raw_names() and _group().kind == "particles"
