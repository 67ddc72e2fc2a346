"""Recursive network: the level-by-level evaluation against a plain recursion, padding, trimming,
training, and the tree's depth."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_checks import one_step_reduces_loss, particle_batch, with_garbage_padding

from hepml.generate.clustering import clustering_trees
from hepml.models.recnn import RecNN, kinematics, merge_heights


def _batch(b=5, n=8, seed=0, algorithm="kt"):
    x = particle_batch(b, n, seed=seed)
    mask, vec = x["particles_mask"], x["particles_vectors"]
    counts = mask.sum(1).numpy()
    flat = vec[mask].double().numpy()
    left, right = clustering_trees(*flat.T, counts, algorithm)
    tree = torch.full((b, n - 1, 2), -1, dtype=torch.long)
    start = 0
    for e, c in enumerate(counts):
        m = max(c - 1, 0)
        ids = np.stack([left[start:start + m], right[start:start + m]], -1)
        ids = np.where(ids >= c, ids - c + n, ids)  # merge k of a jet of c particles -> node n + k
        tree[e, :m] = torch.as_tensor(ids)
        start += m
    return {"particles": x["particles"], "particles_mask": mask, "particles_tree": tree,
            "particles_vectors": vec}


def _recursive(model: RecNN, x: dict, e: int) -> torch.Tensor:
    """The same network, one node at a time by recursion (the reference)."""
    n = x["particles"].shape[1]
    mask, tree = x["particles_mask"][e], x["particles_tree"][e]
    vec = x["particles_vectors"][e] * mask[:, None]

    def momentum(i):
        return vec[i] if i < n else momentum(int(tree[i - n, 0])) + momentum(int(tree[i - n, 1]))

    jet = vec.sum(0, keepdim=True)

    def u(i):
        return model.act(model.kin(kinematics(momentum(i)[None, None], jet)[0, 0]))

    def h(i):
        if i < n:
            return model.act(model.leaf(torch.cat([x["particles"][e, i], u(i)])))
        a, b = int(tree[i - n, 0]), int(tree[i - n, 1])
        return model.act(model.inner(torch.cat([h(a), h(b), u(i)])))

    m = int((tree[:, 0] >= 0).sum())
    return model.head(h(n + m - 1 if m else 0)[None])[0]


@pytest.mark.parametrize("algorithm", ["kt", "antikt"])
def test_level_by_level_equals_the_recursion(algorithm):
    torch.manual_seed(0)
    model = RecNN(4, 2, hidden=8, head_hidden=[8]).eval()
    x = _batch(algorithm=algorithm)
    out = model(**x)
    assert out.shape == (5, 2)
    for e in range(5):
        torch.testing.assert_close(out[e], _recursive(model, x, e), rtol=1e-4, atol=1e-5)


def test_heights_of_known_trees():
    # 4 leaves: (0,1) -> 4, (2,3) -> 5, (4,5) -> 6: a balanced tree; then a chain (anti-kT like)
    tree = torch.tensor([[[0, 1], [2, 3], [4, 5]], [[0, 1], [4, 2], [5, 3]]])
    assert merge_heights(tree, 4).tolist() == [[1, 1, 2], [1, 2, 3]]


def test_padding_trimming_and_single_particle_jets():
    torch.manual_seed(0)
    model = RecNN(4, 1, hidden=8).eval()
    x = _batch(b=6, n=7)
    x["particles_mask"][3, 1:] = False  # one particle: no merges
    x["particles_tree"][3] = -1
    x["particles"][3, 1:] = 0.0
    x["particles_vectors"][3, 1:] = 0.0
    out = model(**x)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(model(**with_garbage_padding(x)), out)
    # three more empty slots: the node numbers of the merges move, the output does not
    n = 7
    longer = {k: torch.cat([v, torch.zeros_like(v[:, :3])], dim=1) for k, v in x.items() if k != "particles_tree"}
    tree = x["particles_tree"].clone()
    tree = torch.where(tree >= n, tree + 3, tree)
    longer["particles_tree"] = torch.cat([tree, torch.full((6, 3, 2), -1)], dim=1)
    torch.testing.assert_close(model(**longer), out)


def test_without_vectors_and_errors():
    torch.manual_seed(0)
    x = _batch()
    model = RecNN(4, 1, hidden=8, use_vectors=False).eval()
    assert model(x["particles"], x["particles_mask"], x["particles_tree"]).shape == (5, 1)
    with pytest.raises(ValueError, match="declare `vectors`"):
        RecNN(4, 1)(x["particles"], x["particles_mask"], x["particles_tree"])


def test_one_step_reduces_the_loss():
    torch.manual_seed(0)
    before, after = one_step_reduces_loss(RecNN(4, 1, hidden=8), _batch(b=16))
    assert after < before
