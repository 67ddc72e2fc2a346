"""The reconstruction task: per-event errors, background-only training, no label in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import compose_train, write_h5

from hepml.models.autoencoder import ConvAutoencoder
from hepml.predictions import read_predictions
from hepml.tasks.reconstruction import ReconstructionLoss, ReconstructionTask

FAST = [
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=4",
    "callbacks.progress_bar=null",
    "logger=csv",
    "plots=false",
    "data.batch_size=64",
]


def blob_images(n: int, label: np.ndarray, seed: int = 0) -> np.ndarray:
    """11x11 images: one central blob (label 0) or a blob and a second prong (labels 1, 2)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:11, :11]
    img = np.exp(-((xx - 5) ** 2 + (yy - 5) ** 2) / 2.0)[None] * rng.uniform(0.5, 1.5, (n, 1, 1))
    second = np.exp(-((xx - 5) ** 2 + (yy - 8) ** 2) / 2.0)[None]
    img = img + (label > 0)[:, None, None] * second * rng.uniform(0.3, 0.8, (n, 1, 1))
    return (img + rng.normal(0, 0.02, img.shape)).reshape(n, 121).astype(np.float32)


def anomaly_file(path, n=600, seed=0, permute_labels=False):
    rng = np.random.default_rng(seed)
    process = rng.choice([0, 1, 2], n, p=[0.6, 0.2, 0.2])
    label = rng.permutation(process) if permute_labels else process
    return write_h5(
        path,
        {
            "image": blob_images(n, process, seed),
            "label": label,
            "process": process,
            "jet_pt": rng.uniform(550, 650, n),
            "jet_eta": rng.normal(0, 1, n),
            "jet_m": rng.uniform(20, 200, n),
            "tau21": rng.uniform(0, 1, n),
            "n_const": rng.integers(10, 60, n),
        },
    )


def run(path, out, tmp_path, extra=()):
    cfg = compose_train(
        [
            "experiment=anomaly_detection",
            f"data.files=[{path}]",
            "data.inputs.images.shape=[1,11,11]",
            *FAST,
            f"paths.output_dir={out}",
            f"paths.cache_dir={tmp_path}/cache",
            *extra,
        ]
    )
    from hepml.pipelines.train import train

    return train(cfg)


def test_loss_is_the_mean_error_per_event():
    loss = ReconstructionLoss("mse")
    out, target = (
        torch.zeros(2, 1, 2, 2),
        torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[2.0, 0.0], [0.0, 0.0]]]]),
    )
    torch.testing.assert_close(loss.per_event(out, target), torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(
        ReconstructionLoss("l1").per_event(out, target), torch.tensor([1.0, 0.5])
    )
    torch.testing.assert_close(loss(out, target, torch.tensor([1.0, 0.0])), torch.tensor(1.0))
    with pytest.raises(ValueError, match="its input"):
        loss(torch.zeros(2, 4), target)
    with pytest.raises(ValueError, match="mse"):
        ReconstructionLoss("huber")


def test_train_on_selects_by_aux_column_or_source_never_the_label():
    task = ReconstructionTask(
        ConvAutoencoder([1, 5, 5], channels=[2], latent=2),
        ReconstructionLoss(),
        optimizer=None,
        train_on={"process": [0, 2]},
    )
    batch = {
        "label": torch.tensor([1, 1, 0, 0]),
        "aux": {"process": torch.tensor([0.0, 1.0, 2.0, 1.0])},
        "weight": torch.tensor([2.0, 1.0, 1.0, 1.0]),
    }
    torch.testing.assert_close(task.training_weight(batch), torch.tensor([2.0, 0.0, 1.0, 0.0]))
    task.train_on = {"source": [1.0]}
    torch.testing.assert_close(
        task.train_mask({"source": torch.tensor([0, 1, 1])}), torch.tensor([0.0, 1.0, 1.0])
    )
    with pytest.raises(ValueError, match="data.sources"):
        task.train_mask({"label": torch.tensor([0])})
    task.train_on = {"n_pileup": [0.0]}
    with pytest.raises(ValueError, match="declare it in data.aux"):
        task.train_mask({"aux": {"process": torch.tensor([0.0])}})
    with pytest.raises(ValueError, match="is not an input"):
        ReconstructionTask(
            ConvAutoencoder([1, 5, 5]), ReconstructionLoss(), optimizer=None, group="scalars"
        )


def test_permuting_the_training_labels_leaves_the_trained_weights_identical(tmp_path):
    a = anomaly_file(tmp_path / "a.h5", n=400)
    b = anomaly_file(tmp_path / "b.h5", n=400, permute_labels=True)
    quick = ["trainer.max_epochs=1", "++trainer.limit_train_batches=3"]
    run(a, tmp_path / "ra", tmp_path, quick)
    run(b, tmp_path / "rb", tmp_path, quick)
    wa = torch.load(tmp_path / "ra" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    wb = torch.load(tmp_path / "rb" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # ... while the evaluation, which reads the labels, differs
    la, _, _ = read_predictions(tmp_path / "ra" / "eval" / "predictions.h5")
    lb, _, _ = read_predictions(tmp_path / "rb" / "eval" / "predictions.h5")
    np.testing.assert_array_equal(la["score"], lb["score"])
    assert not np.array_equal(la["label"], lb["label"])


@pytest.mark.slow
def test_background_only_training_separates_anomalies(tmp_path):
    path = anomaly_file(tmp_path / "a.h5", n=900)
    metrics = run(
        path,
        tmp_path / "run",
        tmp_path,
        ["trainer.max_epochs=6", "++trainer.limit_train_batches=8"],
    )
    assert metrics["auc"] > 0.8 and metrics["auc_W"] > 0.7 and metrics["auc_top"] > 0.7
    columns, task, info = read_predictions(tmp_path / "run" / "eval" / "predictions.h5")
    assert task == "reconstruction" and info["class_names"] == ["qcd", "W", "top"]
    assert {"score", "label", "process"} <= set(columns)
