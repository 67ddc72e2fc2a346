"""DeepJet-style tagger: per-group 1x1 convolutions and an LSTM per particle list, plus jet scalars.

Bols, Kieseler, Verzetti, Stoye, Stakia, "Jet flavour classification using DeepJet", JINST 15
(2020) P12012 (CMS's DeepJet; lecture 003). Each particle list (charged and neutral candidates,
secondary vertices) passes its own stack of 1x1 convolutions (the same dense layers on every
particle: "feature engineering" from ~18 to 8 features per charged candidate), then its own LSTM
over the list in its order (the data group's ``sort_by``, e.g. the impact-parameter significance
for tracks and the flight-distance significance for vertices); the LSTM summaries are concatenated
with the jet-level features and a dense network with dropout gives the (multi-class) output.

Inputs are whichever groups the data config has: ``groups`` maps the group name to its feature
width, e.g. ``{charged: 16, neutral: 8, sv: 12}`` or, on a data config with one list,
``{particles: 6}``; each ``g`` reads ``g [B, N_g, F_g]`` and ``g_mask [B, N_g]``; optional
``scalars [B, S]``. Output ``[B, n_outputs]``. Packed sequences: padding never reaches the LSTMs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from hepml.models.layers.sequence import make_cell, packed_final_state
from hepml.models.mlp import MLP, activation_layer


def _per_group(value, groups: list[str], name: str) -> dict:
    if isinstance(value, Mapping):
        missing = [g for g in groups if g not in value and "default" not in value]
        if missing:
            raise ValueError(f"DeepJet {name} has no entry for the groups {missing} (nor a `default`)")
        return {g: value.get(g, value.get("default")) for g in groups}
    return {g: value for g in groups}


class DeepJet(nn.Module):
    """DeepJet-style multi-list tagger.

    Parameters
    ----------
    groups : ``{group: n_features}``; groups with 0 features (absent from the data) are dropped.
    n_outputs : output width (one per class).
    n_scalar_features : ``S``, jet-level inputs (0 = none).
    conv_widths : widths of the 1x1 convolutions, one list for every group or ``{group: [...]}``
        (a ``default`` entry for the rest); empty: the LSTM reads the features directly.
    lstm_hidden : LSTM size, one for all or ``{group: size}``.
    dense : widths of the dense network after concatenation.
    dropout : after each convolution and dense layer.
    """

    def __init__(
        self,
        groups: Mapping[str, int],
        n_outputs: int = 3,
        n_scalar_features: int = 0,
        conv_widths: Sequence[int] | Mapping[str, Sequence[int]] = (64, 32, 32, 8),
        lstm_hidden: int | Mapping[str, int] = 50,
        dense: Sequence[int] = (200, 100, 100),
        dropout: float = 0.1,
        activation: str = "ReLU",
        cell: str = "LSTM",
    ):
        super().__init__()
        self.groups = [g for g, n in groups.items() if n]
        if not self.groups:
            raise ValueError(f"DeepJet needs at least one particle group with features, got {dict(groups)}")
        widths = _per_group(conv_widths, self.groups, "conv_widths")
        hidden = _per_group(lstm_hidden, self.groups, "lstm_hidden")
        self.n_outputs, self.n_scalar_features = n_outputs, n_scalar_features
        self.convs, self.lstms = nn.ModuleDict(), nn.ModuleDict()
        total = n_scalar_features
        for g in self.groups:
            layers: list[nn.Module] = []
            n_in = int(groups[g])
            for w in widths[g] or ():
                layers += [nn.Linear(n_in, w), activation_layer(activation), nn.Dropout(dropout)]
                n_in = w
            self.convs[g] = nn.Sequential(*layers)
            self.lstms[g] = make_cell(cell, n_in, int(hidden[g]))
            total += int(hidden[g])
        self.head = MLP(total, n_outputs, dense, activation, dropout=dropout)
        self.input_groups = [name for g in self.groups for name in (g, f"{g}_mask")]
        if n_scalar_features:
            self.input_groups.append("scalars")

    def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
        missing = [k for k in self.input_groups if k not in inputs]
        if missing:
            raise ValueError(f"DeepJet reads the input groups {self.input_groups}; missing {missing} "
                             "(declare them in the data config, or set model.groups)")
        parts = [packed_final_state(self.lstms[g], self.convs[g](inputs[g]), inputs[f"{g}_mask"])
                 for g in self.groups]
        if self.n_scalar_features:
            parts.append(inputs["scalars"])
        return self.head(torch.cat(parts, dim=-1))
