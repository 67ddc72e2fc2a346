"""The padded paths the models take while traced or exported (no packing, trimming or per-level
loops, whose shapes depend on the data) give the same outputs as the training paths, also with
garbage in the padded slots and a mask that is not a prefix."""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from model_checks import particle_batch, permuted, with_garbage_padding

from hepml.models.deepjet import DeepJet
from hepml.models.deepsets import DeepSets
from hepml.models.efn import EFN
from hepml.models.layers import pooling
from hepml.models.part import ParticleTransformer
from hepml.models.particlenet import ParticleNet
from hepml.models.rnn import TrackRNN
from hepml.models.transformer import Transformer
from hepml.tasks.base import model_input_names

MODELS = {
    "deepsets": lambda: DeepSets(4, 1, (16, 8), (8,)),
    "efn": lambda: EFN(2, 1, (16, 8), (8,)),
    "particlenet": lambda: ParticleNet(4, 2, k=3, conv_widths=((8, 8), (16,)), fc=(8,), fusion=True),
    "transformer": lambda: Transformer(4, 1, dim=16, n_heads=2, mlp_dim=16, embed_hidden=(), head_hidden=(8,)),
    "part": lambda: ParticleTransformer(4, 1, dim=16, n_heads=2, mlp_dim=16, n_layers=1, n_class_layers=1,
                                        embed_hidden=(), pair_hidden=(8,)),
    "rnn": lambda: TrackRNN(4, 1, hidden=8, cell="LSTM", n_layers=2, bidirectional=True, max_tracks=6),
    "gru": lambda: TrackRNN(4, 1, hidden=8, cell="GRU", max_tracks=None),
}


def _exporting(value: bool):
    """Patch every model module's view of :func:`~hepml.models.layers.pooling.exporting`."""
    import hepml.models.deepsets
    import hepml.models.efn
    import hepml.models.layers.sequence
    import hepml.models.part
    import hepml.models.particlenet
    import hepml.models.recnn
    import hepml.models.transformer

    modules = [pooling, hepml.models.deepsets, hepml.models.efn, hepml.models.layers.sequence,
               hepml.models.part, hepml.models.particlenet, hepml.models.recnn, hepml.models.transformer]
    patches = [mock.patch.object(m, "exporting", lambda: value) for m in modules]
    for p in patches:
        p.start()
    return patches


def _run(model, inputs, exporting: bool):
    patches = _exporting(exporting)
    try:
        with torch.no_grad():
            return model(**{k: v for k, v in inputs.items() if k in model_input_names(model)})
    finally:
        for p in patches:
            p.stop()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_export_path_equals_the_training_path(name):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    batch = particle_batch(b=7, n=9, f=4, seed=3)
    batch["particles_mask"][3] = False  # an empty event
    if name == "efn":
        batch.pop("particles")
    if name not in ("rnn", "gru"):
        batch = permuted(batch, seed=2)  # the real particles scattered over the slots
    for inputs in (batch, with_garbage_padding(batch)):
        packed, padded = _run(model, inputs, False), _run(model, inputs, True)
        assert torch.allclose(packed, padded, atol=1e-5, rtol=1e-5), float((packed - padded).abs().max())


def test_deepjet_export_path_over_several_groups():
    torch.manual_seed(0)
    model = DeepJet({"charged": 4, "neutral": 3}, n_outputs=3, conv_widths=(8,), lstm_hidden=6, dense=(8,)).eval()
    inputs = {**particle_batch(b=5, n=7, f=4, seed=1, group="charged"),
              **particle_batch(b=5, n=4, f=3, seed=2, group="neutral", min_count=0)}
    assert torch.allclose(_run(model, inputs, False), _run(model, inputs, True), atol=1e-6)


def test_exporting_is_true_only_while_tracing():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(pooling.exporting())
            return x * 2

    Probe()(torch.ones(2))
    torch.jit.trace(Probe(), torch.ones(2), check_trace=False)
    assert seen == [False, True]
