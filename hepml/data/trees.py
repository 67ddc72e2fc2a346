"""Clustering trees of a particle group (a tree group: ``tree: [left, right]`` in the data config).

The jet samples store each jet's clustering history (:func:`hepml.generate.clustering.
clustering_trees`) as two per-jet lists of ``n - 1`` entries: merge ``k`` of a jet with ``n``
particles joins the nodes ``left[k]`` and ``right[k]`` into node ``n + k``, nodes ``0 .. n-1``
being the particles in their stored order. :func:`tree_arrays` turns them into the model's
``<group>_tree [E, N - 1, 2]`` (int64) for the padded list of ``N = max_length`` slots: leaves are
the particles' slots ``0 .. N-1`` (after the group's ``sort_by``), merge ``k`` is node ``N + k``,
and ``-1`` fills the rows of missing merges. A jet with more particles than slots keeps the tree
of its kept particles: dropped leaves are removed and a merge left with one child is replaced by
that child (the induced subtree, merges in their original order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import awkward as ak
import numpy as np

from hepml.data.preprocess import ColumnError
from hepml.data.schema import InputGroup

__all__ = ["tree_arrays"]


def _children(values: Any, counts: np.ndarray, name: str, path: str) -> np.ndarray:
    """``[E, W]`` int64 children of the merges (``W = max(counts) - 1``), checked against the counts."""
    merges = np.maximum(counts - 1, 0)
    width = int(merges.max(initial=0))
    if isinstance(values, ak.Array):
        found = ak.to_numpy(ak.num(values, axis=1))
        if not np.array_equal(found, merges):
            bad = int(np.flatnonzero(found != merges)[0])
            raise ColumnError(f"{path}: tree column {name!r} has {found[bad]} merges at entry {bad}, where the "
                              f"group's {counts[bad]} particles need {merges[bad]}")
        x = ak.to_numpy(ak.fill_none(ak.pad_none(values, width, axis=1, clip=True), -1))
    else:
        x = np.asarray(values)
        if x.ndim != 2 or x.shape[1] < width:
            raise ColumnError(f"{path}: tree column {name!r} has shape {x.shape}; the group's particles need "
                              f"{width} merges per entry (a jagged list, or 2D padded to at least {width})")
        x = x[:, :width]
    if x.size and not np.all(x == np.round(x)):
        raise ColumnError(f"{path}: tree column {name!r} holds non-integer node numbers")
    x = x.astype(np.int64)
    valid = np.arange(width)[None, :] < merges[:, None]
    limit = counts[:, None] + np.arange(width)[None, :]  # merge k may only join nodes before n + k
    if np.any(valid & ((x < 0) | (x >= limit))):
        e = int(np.flatnonzero((valid & ((x < 0) | (x >= limit))).any(axis=1))[0])
        raise ColumnError(f"{path}: tree column {name!r} entry {e}: a merge joins a node that does not "
                          "exist yet (children of merge k must be < n + k)")
    return np.where(valid, x, -1)


def _positions(g: InputGroup, cols: Mapping[str, Any], counts: np.ndarray) -> np.ndarray:
    """``[E, max(counts)]``: the slot of each stored particle after the group's ``sort_by``."""
    width = max(int(counts.max(initial=0)), 1)
    identity = np.broadcast_to(np.arange(width), (len(counts), width))
    if not g.sort_by:
        return np.array(identity)
    key = cols[g.sort_by]
    if isinstance(key, ak.Array):
        key = ak.to_numpy(ak.fill_none(ak.pad_none(key, width, axis=1, clip=True), -np.inf)).astype(np.float64)
    else:
        key = np.asarray(key, dtype=np.float64)[:, :width]
    key = np.where(identity < counts[:, None], key, -np.inf)
    order = np.argsort(-key, axis=1, kind="stable")  # the same stable order as the particle lists
    positions = np.empty_like(order)
    np.put_along_axis(positions, order, identity, axis=1)
    return positions


def _pruned(left: np.ndarray, right: np.ndarray, n: int, slot: np.ndarray, width: int) -> list[tuple[int, int]]:
    """The merges of one jet's tree restricted to the particles with ``slot < width``."""
    node: list[int | None] = [int(s) if s < width else None for s in slot[:n]]
    out: list[tuple[int, int]] = []
    for a, b in zip(left[: n - 1].tolist(), right[: n - 1].tolist(), strict=True):
        ca, cb = node[a], node[b]
        if ca is not None and cb is not None:
            out.append((ca, cb))
            node.append(width + len(out) - 1)
        else:
            node.append(ca if ca is not None else cb)
    return out


def tree_arrays(g: InputGroup, cols: Mapping[str, Any], counts: np.ndarray, path: str) -> np.ndarray:
    """``[E, N - 1, 2]`` int64 children of every merge in the padded layout (module docstring)."""
    counts = np.asarray(counts, dtype=np.int64)
    n_slots = int(g.max_length or 0)
    left = _children(cols[g.tree[0]], counts, g.tree[0], path)
    right = _children(cols[g.tree[1]], counts, g.tree[1], path)
    slot = _positions(g, cols, counts)
    out = np.full((len(counts), max(n_slots - 1, 0), 2), -1, dtype=np.int64)
    fits = counts <= n_slots
    width = min(left.shape[1], max(n_slots - 1, 0))
    if width and fits.any():
        c = np.stack([left[fits, :width], right[fits, :width]], axis=-1)
        n = counts[fits][:, None, None]
        leaf = (c >= 0) & (c < n)
        taken = np.take_along_axis(slot[fits], np.where(leaf, c, 0).reshape(len(c), -1), axis=1).reshape(c.shape)
        out[fits, :width] = np.where(leaf, taken, np.where(c >= 0, n_slots + c - n, -1))
    for e in np.flatnonzero(~fits):
        merges = _pruned(left[e], right[e], int(counts[e]), slot[e], n_slots)
        if merges:
            out[e, : len(merges)] = merges
    return out
