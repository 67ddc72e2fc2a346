"""Recurrent network over a jet's tracks (a GRU or LSTM over the most displaced tracks).

Guest, Collado, Baldi, Hsu, Urban, Whiteson, "Jet flavor classification in high-energy physics with
deep neural networks", Phys. Rev. D 94 (2016) 112002; ATLAS, "Identification of jets containing
b-hadrons with recurrent neural networks at the ATLAS experiment", ATL-PHYS-PUB-2017-003 (RNNIP):
the tracks ordered by decreasing impact-parameter significance, the first ``max_tracks`` of them,
each through an optional per-track embedding, then a recurrent cell; its final hidden state, with
optional jet-level scalars, feeds a dense head. The order is the data group's (``sort_by``, e.g.
``trk_d0sig``: ``configs/tune/flavour_tagging_rnn.yaml``). Packed sequences: padding never reaches
the cell, so the output does not depend on what the padded slots hold.

Shapes: ``particles [B, N, F]``, ``particles_mask [B, N]``, optional ``scalars [B, S]`` ->
``[B, n_outputs]``. Not permutation invariant (the order is an input).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.sequence import make_cell, packed_final_state
from hepml.models.mlp import MLP, activation_layer


class TrackRNN(nn.Module):
    """Recurrent track tagger.

    Parameters
    ----------
    n_particle_features : ``F``.
    n_outputs : output width.
    hidden : hidden size of the cell.
    cell : ``GRU``, ``LSTM`` or ``RNN``.
    n_layers, bidirectional : of the recurrent stack.
    max_tracks : tracks read per jet, the first ones of the list (None: all).
    embed_hidden : widths of the per-track embedding before the cell (empty: none).
    head_hidden : hidden widths of the head.
    n_scalar_features : ``S`` (0 = none).
    dropout : in the head.
    """

    def __init__(
        self,
        n_particle_features: int,
        n_outputs: int = 1,
        hidden: int = 64,
        cell: str = "LSTM",
        n_layers: int = 1,
        bidirectional: bool = False,
        max_tracks: int | None = 15,
        embed_hidden: Sequence[int] = (),
        head_hidden: Sequence[int] = (64,),
        n_scalar_features: int = 0,
        activation: str = "ReLU",
        dropout: float = 0.0,
    ):
        super().__init__()
        if max_tracks is not None and max_tracks < 1:
            raise ValueError(f"max_tracks must be positive or null, got {max_tracks}")
        self.n_outputs, self.n_scalar_features, self.max_tracks = n_outputs, n_scalar_features, max_tracks
        self.embed = None
        n_in = n_particle_features
        if embed_hidden:
            *body, last = embed_hidden
            self.embed = nn.Sequential(MLP(n_particle_features, last, body, activation), activation_layer(activation))
            n_in = last
        self.rnn = make_cell(cell, n_in, hidden, n_layers, bidirectional)
        width = hidden * (2 if bidirectional else 1)
        self.head = MLP(width + n_scalar_features, n_outputs, head_hidden, activation, dropout=dropout)

    def forward(self, particles: torch.Tensor, particles_mask: torch.Tensor,
                scalars: torch.Tensor | None = None) -> torch.Tensor:
        x, mask = particles, particles_mask
        if self.max_tracks is not None:
            keep = mask & (mask.long().cumsum(dim=1) <= self.max_tracks)  # the first max_tracks real tracks
            x, mask = x * keep.unsqueeze(-1).to(x.dtype), keep
        if self.embed is not None:
            x = self.embed(x)
        h = packed_final_state(self.rnn, x, mask)
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("TrackRNN was built with n_scalar_features > 0 but got no scalars")
            h = torch.cat([h, scalars], dim=-1)
        return self.head(h)
