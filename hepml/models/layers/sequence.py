"""Recurrent summaries of padded particle lists with packed sequences: padding never reaches a cell.

``x [B, N, F]`` with ``mask [B, N]`` -> the last layer's final hidden state ``[B, H]`` (``[B, 2H]``
bidirectional). The real particles of each event are moved to the front in their order (a stable
sort of the mask), an event without particles gets zeros, and the rest run as one
``torch.nn.utils.rnn.PackedSequence`` through the cell.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

CELLS = {"GRU": nn.GRU, "LSTM": nn.LSTM, "RNN": nn.RNN}


def make_cell(cell: str, n_in: int, hidden: int, n_layers: int = 1, bidirectional: bool = False,
              dropout: float = 0.0) -> nn.RNNBase:
    """A batch-first ``GRU``, ``LSTM`` or ``RNN`` cell stack."""
    if cell not in CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r}; choose from {sorted(CELLS)}")
    return CELLS[cell](n_in, hidden, num_layers=n_layers, batch_first=True, bidirectional=bidirectional,
                       dropout=dropout if n_layers > 1 else 0.0)


def front_load(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real particles first, in their order: ``x [B, N, F]``, ``mask [B, N]`` -> the same shapes."""
    if bool((mask[:, 1:] <= mask[:, :-1]).all()):  # already a prefix (the data layer's layout)
        return x, mask
    order = (~mask).to(torch.int8).argsort(dim=1, stable=True)
    x = x.gather(1, order.unsqueeze(-1).expand_as(x))
    return x, mask.gather(1, order)


def packed_final_state(rnn: nn.RNNBase, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The final hidden state of ``rnn`` over each event's real particles, ``[B, H * directions]``."""
    x, mask = front_load(x, mask)
    lengths = mask.sum(dim=1)
    directions = 2 if rnn.bidirectional else 1
    out = x.new_zeros(x.shape[0], rnn.hidden_size * directions)
    filled = lengths > 0
    if not bool(filled.any()):
        return out
    n = int(lengths.max())
    seq = pack_padded_sequence(x[filled, :n], lengths[filled].cpu(), batch_first=True, enforce_sorted=False)
    _, state = rnn(seq)
    h = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
    last = torch.cat(list(h[-directions:]), dim=-1)  # [B', H * directions], in the input order
    out[filled] = last
    return out
