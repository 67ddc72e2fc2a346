"""DeepJet-style tagger: groups from the data, per-group convolutions and LSTMs, padding, training."""

from __future__ import annotations

import pytest
import torch
from model_checks import one_step_reduces_loss, particle_batch, with_garbage_padding

from hepml.models.deepjet import DeepJet


def _batch(seed=0):
    x = {**particle_batch(6, 9, f=5, seed=seed, group="charged"),
         **particle_batch(6, 4, f=3, s=2, seed=seed + 1, group="sv")}
    return {k: v for k, v in x.items() if not k.endswith(("_points", "_vectors"))}


def _model(**kw):
    torch.manual_seed(0)
    defaults = {"groups": {"charged": 5, "sv": 3, "neutral": 0}, "n_outputs": 3, "n_scalar_features": 2,
                "conv_widths": {"charged": [8, 4], "default": [4]}, "lstm_hidden": {"charged": 6, "sv": 4},
                "dense": [16, 8]}
    return DeepJet(**{**defaults, **kw}).eval()


def test_groups_inputs_and_shapes():
    m = _model()
    assert m.groups == ["charged", "sv"]  # a group without features is dropped
    assert m.input_groups == ["charged", "charged_mask", "sv", "sv_mask", "scalars"]
    assert m(**_batch()).shape == (6, 3)
    assert _model(conv_widths=[], n_scalar_features=0, lstm_hidden=5)(
        **{k: v for k, v in _batch().items() if k != "scalars"}).shape == (6, 3)
    with pytest.raises(ValueError, match="missing"):
        m(**{k: v for k, v in _batch().items() if not k.startswith("sv")})
    with pytest.raises(ValueError, match="no entry"):
        _model(lstm_hidden={"charged": 6})
    with pytest.raises(ValueError, match="at least one particle group"):
        DeepJet({"particles": 0})


def test_padding_changes_nothing():
    m, x = _model(), _batch()
    out = m(**x)
    garbage = with_garbage_padding(with_garbage_padding(x, "charged"), "sv")
    torch.testing.assert_close(m(**garbage), out)


def test_each_group_reaches_the_output():
    m, x = _model(), _batch()
    out = m(**x)
    for g in ("charged", "sv"):
        other = dict(x)
        other[g] = x[g].flip(0) * x[f"{g}_mask"].unsqueeze(-1)
        assert not torch.allclose(m(**other), out)


def test_one_step_reduces_the_loss():
    m = _model(dropout=0.0)
    before, after = one_step_reduces_loss(m, _batch(), n_outputs=3)
    assert after < before
