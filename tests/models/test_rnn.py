"""Track RNN: shapes, padding never reaches the cell, only the first max_tracks count, empty jets,
training."""

from __future__ import annotations

import pytest
import torch
from model_checks import one_step_reduces_loss, particle_batch, with_garbage_padding

from hepml.models.rnn import TrackRNN


def _inputs(x):
    return {k: x[k] for k in ("particles", "particles_mask")}


@pytest.mark.parametrize("cell", ["GRU", "LSTM"])
def test_shapes_cells_and_scalars(cell):
    torch.manual_seed(0)
    x = particle_batch(5, 9, s=2)
    m = TrackRNN(4, 3, hidden=8, cell=cell, n_scalar_features=2, embed_hidden=[8]).eval()
    assert m(x["particles"], x["particles_mask"], x["scalars"]).shape == (5, 3)
    bi = TrackRNN(4, 1, hidden=8, cell=cell, bidirectional=True, n_layers=2).eval()
    assert bi(**_inputs(x)).shape == (5, 1)
    with pytest.raises(ValueError, match="unknown recurrent cell"):
        TrackRNN(4, 1, cell="Transformer")


def test_padding_never_reaches_the_cell():
    torch.manual_seed(0)
    m, x = TrackRNN(4, 2, hidden=8).eval(), _inputs(particle_batch(6, 10))
    out = m(**x)
    torch.testing.assert_close(m(**with_garbage_padding(x)), out)
    # the same jets without the padded slots, one at a time, give the same output
    for i in range(6):
        n = int(x["particles_mask"][i].sum())
        alone = m(x["particles"][i : i + 1, :n], x["particles_mask"][i : i + 1, :n])
        torch.testing.assert_close(alone, out[i : i + 1], rtol=1e-5, atol=1e-6)


def test_only_the_first_max_tracks_count_and_order_matters():
    torch.manual_seed(0)
    m, x = TrackRNN(4, 1, hidden=8, max_tracks=3).eval(), _inputs(particle_batch(4, 8, min_count=5))
    out = m(**x)
    later = {k: v.clone() for k, v in x.items()}
    later["particles"][:, 3:] += 5.0
    torch.testing.assert_close(m(**later), out)
    swapped = {k: v.clone() for k, v in x.items()}
    swapped["particles"][:, [0, 1]] = x["particles"][:, [1, 0]]
    assert not torch.allclose(m(**swapped), out)


def test_jets_without_tracks():
    torch.manual_seed(0)
    x = _inputs(particle_batch(3, 4))
    x["particles_mask"][1] = False
    out = TrackRNN(4, 1, hidden=8).eval()(**x)
    assert torch.isfinite(out).all()
    x["particles_mask"][:] = False
    assert torch.isfinite(TrackRNN(4, 1, hidden=8).eval()(**x)).all()


def test_one_step_reduces_the_loss():
    torch.manual_seed(0)
    before, after = one_step_reduces_loss(TrackRNN(4, 3, hidden=8), _inputs(particle_batch(16)), n_outputs=3)
    assert after < before
