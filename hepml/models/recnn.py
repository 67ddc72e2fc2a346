"""Recursive neural network over the jet's clustering tree.

Louppe, Cho, Becot, Cranmer, "QCD-aware recursive neural networks for jet physics", JHEP 01 (2019)
057 (arXiv:1702.00748). The jet's constituents are reclustered (kT by default: the data group's
``tree``, e.g. ``[tree_kt_left, tree_kt_right]``) into a binary tree; each leaf is embedded from
its features, and each merge combines its two children bottom-up::

    h_leaf = act(W_u [x_i, u(p_i)]),        h_node = act(W_h [h_left, h_right, u(p_node)])

where ``u(p) = act(W_k kin(p))`` embeds the node's four-momentum (the sum of its leaves': log pT,
log E, log mass, pT / pT_jet, Delta eta and Delta phi to the jet axis) when ``particles_vectors`` is
given. The root's embedding, with optional scalars, feeds a dense head. The merges are evaluated
level by level (all merges whose subtrees are equally deep, across the whole batch, in one call),
never one Python call per node; the depth is at most the number of particles (anti-kT trees are
that deep, kT trees much less).

Shapes: ``particles [B, N, F]``, ``particles_mask [B, N]``, ``particles_tree [B, N - 1, 2]``
(children of merge ``k``, which is node ``N + k``; ``-1`` rows for missing merges:
:func:`hepml.data.trees.tree_arrays`), optional ``particles_vectors [B, N, 4]`` (px, py, pz, E)
and ``scalars [B, S]`` -> ``[B, n_outputs]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.pairwise import arcsinh, transverse
from hepml.models.layers.pooling import exporting, trim
from hepml.models.mlp import MLP, activation_layer

N_KINEMATIC = 6


def trim_tree(mask: torch.Tensor, tree: torch.Tensor, *tensors: torch.Tensor):
    """The batch trimmed to its longest jet, with the merges' node numbers moved along."""
    n = mask.shape[1]
    mask, *trimmed = trim(mask, *tensors)
    shift = n - mask.shape[1]
    if shift:
        tree = torch.where(tree >= n, tree - shift, tree)[:, : max(mask.shape[1] - 1, 0)]
    return mask, tree, trimmed


def merge_heights(tree: torch.Tensor, n: int) -> torch.Tensor:
    """``[B, N - 1]``: the depth of each merge's subtree (1 = two leaves; 0 for missing merges)."""
    b, m, _ = tree.shape
    valid = tree[..., 0] >= 0
    height = tree.new_zeros(b, n + m)
    children = tree.clamp(min=0).reshape(b, -1)
    for _ in range(m):
        new = height.gather(1, children).view(b, m, 2).amax(-1) + 1
        new = torch.where(valid, new, torch.zeros_like(new))
        if torch.equal(new, height[:, n:]):
            break
        height[:, n:] = new
    return height[:, n:]


def _levels(heights: torch.Tensor) -> int:
    return int(heights.max()) if heights.numel() else 0


def kinematics(p: torch.Tensor, jet: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``[B, M, 4]`` four-momenta and ``[B, 4]`` jet -> ``[B, M, 6]`` features (module docstring)."""
    px, py, pz, e = p.unbind(-1)
    pt = transverse(px, py)
    mass = (e.square() - px.square() - py.square() - pz.square()).clamp(min=0).sqrt()
    eta = arcsinh(pz / pt.clamp(min=eps))
    jet_pt = transverse(jet[:, 0], jet[:, 1]).clamp(min=eps)
    jet_eta = arcsinh(jet[:, 2] / jet_pt)
    jet_phi = torch.atan2(jet[:, 1], jet[:, 0])
    dphi = torch.remainder(torch.atan2(py, px) - jet_phi[:, None] + torch.pi, 2 * torch.pi) - torch.pi
    return torch.stack([torch.log1p(pt), torch.log1p(e.clamp(min=0)), torch.log1p(mass), pt / jet_pt[:, None],
                        eta - jet_eta[:, None], dphi], dim=-1)


class RecNN(nn.Module):
    """Recursive network over the clustering tree.

    Parameters
    ----------
    n_particle_features : ``F``.
    n_outputs : output width.
    hidden : width of the node embeddings.
    use_vectors : embed every node's four-momentum (needs ``particles_vectors``).
    head_hidden : hidden widths of the head on the root embedding.
    n_scalar_features : ``S`` (0 = none).
    dropout : in the head.
    """

    def __init__(
        self,
        n_particle_features: int,
        n_outputs: int = 1,
        hidden: int = 64,
        use_vectors: bool = True,
        head_hidden: Sequence[int] = (64,),
        n_scalar_features: int = 0,
        activation: str = "ReLU",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_outputs, self.n_scalar_features, self.use_vectors = n_outputs, n_scalar_features, use_vectors
        self.act = activation_layer(activation)
        k = hidden if use_vectors else 0
        self.kin = nn.Linear(N_KINEMATIC, hidden) if use_vectors else None
        self.leaf = nn.Linear(n_particle_features + k, hidden)
        self.inner = nn.Linear(2 * hidden + k, hidden)
        self.head = MLP(hidden + n_scalar_features, n_outputs, head_hidden, activation, dropout=dropout)

    def _node_momenta(self, vectors: torch.Tensor, mask: torch.Tensor, tree: torch.Tensor,
                      heights: torch.Tensor) -> torch.Tensor:
        """``[B, 2N - 1, 4]``: leaves' four-momenta, then each merge's (the sum of its children's)."""
        b, n, _ = vectors.shape
        p = torch.cat([vectors * mask.unsqueeze(-1).to(vectors.dtype), vectors.new_zeros(b, max(n - 1, 0), 4)], 1)
        for level in range(1, _levels(heights) + 1):
            ev, k = (heights == level).nonzero(as_tuple=True)
            p[ev, n + k] = p[ev, tree[ev, k, 0]] + p[ev, tree[ev, k, 1]]
        return p

    def forward(
        self,
        particles: torch.Tensor,
        particles_mask: torch.Tensor,
        particles_tree: torch.Tensor,
        particles_vectors: torch.Tensor | None = None,
        scalars: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.use_vectors and particles_vectors is None:
            raise ValueError("RecNN with use_vectors needs `particles_vectors`: declare `vectors` in the data "
                             "config's particle group (or set model.use_vectors=false)")
        if exporting():
            out = self._padded(particles, particles_mask, particles_tree.long(), particles_vectors)
        else:
            out = self._by_level(particles, particles_mask, particles_tree, particles_vectors)
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("RecNN was built with n_scalar_features > 0 but got no scalars")
            out = torch.cat([out, scalars], dim=-1)
        return self.head(out)

    def _by_level(self, particles: torch.Tensor, particles_mask: torch.Tensor, particles_tree: torch.Tensor,
                  particles_vectors: torch.Tensor | None) -> torch.Tensor:
        """The root embeddings ``[B, D]``, every merge computed once, level by level."""
        extra = (particles_vectors,) if self.use_vectors else ()
        mask, tree, (x, *vec) = trim_tree(particles_mask, particles_tree, particles, *extra)
        b, n, _ = x.shape
        tree = tree.long()
        with torch.no_grad():
            heights = merge_heights(tree, n) if n > 1 else tree.new_zeros(b, 0)
        kin = None
        if self.use_vectors:
            with torch.no_grad():
                p = self._node_momenta(vec[0], mask, tree, heights)
                jet = p[:, :n].sum(dim=1)
                features = kinematics(p, jet)
            assert self.kin is not None
            kin = self.act(self.kin(features))  # [B, 2N - 1, D]
        leaf_in = x if kin is None else torch.cat([x, kin[:, :n]], dim=-1)
        leaves = self.act(self.leaf(leaf_in)) * mask.unsqueeze(-1).to(x.dtype)
        h = torch.cat([leaves, leaves.new_zeros(b, max(n - 1, 0), leaves.shape[-1])], dim=1)
        for level in range(1, _levels(heights) + 1):
            ev, k = (heights == level).nonzero(as_tuple=True)
            parts = [h[ev, tree[ev, k, 0]], h[ev, tree[ev, k, 1]]]
            if kin is not None:
                parts.append(kin[ev, n + k])
            h = h.index_put((ev, n + k), self.act(self.inner(torch.cat(parts, dim=-1))))
        n_merges = (tree[..., 0] >= 0).sum(dim=1)
        root = torch.where(n_merges > 0, n + n_merges - 1, torch.zeros_like(n_merges))
        return h[torch.arange(b, device=h.device), root]

    def _padded(self, x: torch.Tensor, mask: torch.Tensor, tree: torch.Tensor,
                vectors: torch.Tensor | None) -> torch.Tensor:
        """The same with static shapes (for export): every merge recomputed ``N - 1`` times from its
        children's current values; after pass ``t`` the merges of height ``<= t`` are final."""
        b, n, _ = x.shape
        valid = (tree[..., 0] >= 0).unsqueeze(-1)  # [B, N - 1, 1]
        children = tree.clamp(min=0)

        def merged(nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            width = nodes.shape[-1]
            pick = children.reshape(b, -1, 1).expand(-1, -1, width)
            both = nodes.gather(1, pick).reshape(b, -1, 2, width)
            return both[:, :, 0], both[:, :, 1]

        kin = None
        if self.kin is not None and vectors is not None:
            with torch.no_grad():
                p = torch.cat([vectors * mask.unsqueeze(-1).to(vectors.dtype), vectors.new_zeros(b, n - 1, 4)], 1)
                for _ in range(n - 1):
                    left, right = merged(p)
                    p = torch.cat([p[:, :n], torch.where(valid, left + right, torch.zeros_like(left))], 1)
                features = kinematics(p, p[:, :n].sum(dim=1))
            assert self.kin is not None
            kin = self.act(self.kin(features))
        leaf_in = x if kin is None else torch.cat([x, kin[:, :n]], dim=-1)
        leaves = self.act(self.leaf(leaf_in)) * mask.unsqueeze(-1).to(x.dtype)
        h = torch.cat([leaves, leaves.new_zeros(b, n - 1, leaves.shape[-1])], dim=1)
        for _ in range(n - 1):
            left, right = merged(h)
            parts = [left, right] if kin is None else [left, right, kin[:, n:]]
            new = self.act(self.inner(torch.cat(parts, dim=-1)))
            h = torch.cat([h[:, :n], torch.where(valid, new, torch.zeros_like(new))], 1)
        n_merges = valid.squeeze(-1).sum(dim=1)
        root = torch.where(n_merges > 0, n + n_merges - 1, torch.zeros_like(n_merges))
        return h.gather(1, root.view(b, 1, 1).expand(-1, 1, h.shape[-1])).squeeze(1)
