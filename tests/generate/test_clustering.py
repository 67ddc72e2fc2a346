"""Clustering histories (FastJet reclustering of each jet's constituents into one binary tree)."""

from __future__ import annotations

import numpy as np
import pytest

from hepml.generate.clustering import clustering_trees


def _p4(pt, eta, phi):
    pt, eta, phi = map(np.asarray, (pt, eta, phi))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px**2 + py**2 + pz**2)


def test_known_merge_orders():
    # jet 1: a hard pair close together and a soft particle far away; jet 2: one particle
    # (kT would take the soft particle first: min(pT^2) dR^2 is smallest for it)
    px, py, pz, e = _p4([100.0, 50.0, 1.0, 30.0], [0.0, 0.05, 0.5, 0.0], [0.0, 0.0, 0.3, 1.0])
    counts = np.array([3, 1])
    for algorithm in ("antikt", "cambridge"):
        left, right = clustering_trees(px, py, pz, e, counts, algorithm)
        # the close hard pair merges first (node 3), then the soft particle joins (node 4)
        assert left.tolist() == [0, 3] and right.tolist() == [1, 2], algorithm


def test_kt_clusters_soft_pairs_first_and_antikt_grows_around_the_hardest():
    # two soft particles near each other, far from two hard ones
    px, py, pz, e = _p4([100.0, 80.0, 1.0, 1.2], [0.0, 0.3, 0.6, 0.62], [0.0, 0.0, 0.0, 0.0])
    counts = np.array([4])
    kt_left, kt_right = clustering_trees(px, py, pz, e, counts, "kt")
    assert sorted([kt_left[0], kt_right[0]]) == [2, 3]  # the soft pair first
    ak_left, ak_right = clustering_trees(px, py, pz, e, counts, "antikt")
    assert sorted([ak_left[0], ak_right[0]]) == [0, 1]  # the hardest particle takes its neighbour


@pytest.mark.parametrize("algorithm", ["kt", "antikt"])
def test_every_tree_is_a_valid_binary_tree(algorithm):
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 30, 20)
    n = int(counts.sum())
    px, py, pz, e = _p4(rng.exponential(10, n) + 0.5, rng.normal(0, 0.2, n), rng.normal(0, 0.2, n))
    left, right = clustering_trees(px, py, pz, e, counts, algorithm)
    assert len(left) == int(np.maximum(counts - 1, 0).sum())
    start = 0
    pt = np.hypot(px, py)
    offset = 0
    for c in counts:
        lo, ro = left[start : start + c - 1], right[start : start + c - 1]
        children = np.concatenate([lo, ro])
        # every node but the root is the child of exactly one merge; children come before merges
        assert sorted(children.tolist()) == list(range(2 * c - 2))
        assert all(max(a, b) < c + k for k, (a, b) in enumerate(zip(lo, ro, strict=True)))
        node_pt = list(pt[offset : offset + c])
        nx, ny = list(px[offset : offset + c]), list(py[offset : offset + c])
        for a, b in zip(lo, ro, strict=True):
            nx.append(nx[a] + nx[b])
            ny.append(ny[a] + ny[b])
            assert np.hypot(nx[a], ny[a]) >= np.hypot(nx[b], ny[b]) - 1e-9  # left is the harder
        assert len(node_pt) == c
        start += max(c - 1, 0)
        offset += c


def test_unknown_algorithm():
    with pytest.raises(ValueError, match="unknown reclustering"):
        clustering_trees(np.ones(1), np.ones(1), np.ones(1), np.ones(1), np.array([1]), "durham")
