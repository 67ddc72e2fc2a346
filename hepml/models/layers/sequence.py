"""Recurrent summaries of padded particle lists with packed sequences: padding never reaches a cell.

``x [B, N, F]`` with ``mask [B, N]`` -> the last layer's final hidden state ``[B, H]`` (``[B, 2H]``
bidirectional). The real particles of each event are moved to the front in their order (a stable
sort of the mask), an event without particles gets zeros, and the rest run as one
``torch.nn.utils.rnn.PackedSequence`` through the cell. Exported graphs (ONNX has no packed
sequences) run the padded batch instead and read each event's state at its last real particle; a
bidirectional stack then runs layer by layer, the backward direction over each event's real
particles reversed in place: the same numbers, without data-dependent shapes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from hepml.models.layers.pooling import exporting

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
    if exporting():
        return padded_final_state(rnn, x, mask)
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


def _direction(rnn: nn.RNNBase, layer: int, reverse: bool, n_in: int) -> nn.RNNBase:
    """A one-layer, one-direction cell sharing the weights of ``rnn``'s ``layer`` and direction."""
    kwargs = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    cls: Any = type(rnn)  # GRU, LSTM or RNN: (input_size, hidden_size, num_layers, ...)
    cell = cls(n_in, rnn.hidden_size, 1, bias=rnn.bias, batch_first=True, **kwargs)
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    for name in ("weight_ih", "weight_hh", *(("bias_ih", "bias_hh") if rnn.bias else ())):
        setattr(cell, f"{name}_l0", getattr(rnn, name + suffix))
    return cell


def padded_final_state(rnn: nn.RNNBase, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """:func:`packed_final_state` on the padded batch, with static shapes (for export)."""
    b, n, _ = x.shape
    real = mask.to(torch.long)
    lengths = real.sum(dim=1, keepdim=True)  # [B, 1]
    # front-load by a scatter: real particles to 0..L-1 in their order, padding behind them
    slot = torch.where(mask, real.cumsum(1) - 1, (1 - real).cumsum(1) - 1 + lengths)
    x = torch.zeros_like(x).scatter(1, slot.unsqueeze(-1).expand_as(x), x)
    slots = torch.arange(n, device=x.device).unsqueeze(0)
    inside = slots < lengths  # [B, N]
    x = x * inside.unsqueeze(-1).to(x.dtype)
    last = (lengths - 1).clamp(min=0).unsqueeze(-1)  # [B, 1, 1]
    filled = (lengths > 0).to(x.dtype)  # [B, 1]

    def at_last(seq: torch.Tensor) -> torch.Tensor:
        return seq.gather(1, last.expand(-1, -1, seq.shape[-1])).squeeze(1) * filled

    if not rnn.bidirectional:
        out, _ = rnn(x)
        return at_last(out)
    reverse = torch.where(inside, lengths - 1 - slots, slots).unsqueeze(-1)  # an involution
    seq, finals = x, []
    for layer in range(rnn.num_layers):
        forward, _ = _direction(rnn, layer, False, seq.shape[-1])(seq)
        flipped = seq.gather(1, reverse.expand(-1, -1, seq.shape[-1]))
        backward_flipped, _ = _direction(rnn, layer, True, seq.shape[-1])(flipped)
        finals = [at_last(forward), at_last(backward_flipped)]
        backward = backward_flipped.gather(1, reverse.expand(-1, -1, backward_flipped.shape[-1]))
        seq = torch.cat([forward, backward], dim=-1) * inside.unsqueeze(-1).to(x.dtype)
    return torch.cat(finals, dim=-1)
