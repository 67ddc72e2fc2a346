"""Training and evaluation with data.streaming=true through the real pipelines: the same test
metrics as in memory, streamed predictions files, the BDT, and DDP with DataLoader workers."""

from __future__ import annotations

import textwrap

import h5py
import numpy as np
import pytest
from helpers import compose_train

from hepml.data.streaming.split import split_codes
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.train import train
from hepml.predictions import read_predictions

NAMES = ["m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]


def _sample(path, n, seed):
    """Two overlapping Gaussian classes in the HIGGS high-level feature names (AUC about 0.9)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    with h5py.File(path, "w") as f:
        for i, k in enumerate(NAMES):
            f[k] = rng.normal(0.35 * label * (1 + i % 3), 1.0, n).astype(np.float32)
        f["lepton_pT"] = rng.exponential(1.0, n).astype(np.float32)
        f["label"] = label
    return path


@pytest.fixture
def split_files(tmp_path):
    return {s: str(_sample(tmp_path / f"{s}.h5", n, i)) for i, (s, n) in
            enumerate((("train", 12_000), ("val", 3_000), ("test", 6_000)))}


def _cfg(tmp_path, files, name, extra=()):
    cfg = compose_train([
        "experiment=higgs", "data/features=high", "data.csv_names=null",
        "data.batch_size=256", "model.hidden=[32,32]", "trainer.max_epochs=3", "callbacks.progress_bar=null",
        "callbacks.early_stopping=null", f"paths.output_dir={tmp_path}/{name}", f"paths.cache_dir={tmp_path}/cache",
        "plots=false", *extra])
    cfg.data.files = {k: [v] for k, v in files.items()}  # split by file: the same events in both modes
    return cfg


def test_streaming_and_in_memory_reach_the_same_test_auc(tmp_path, split_files):
    memory = train(_cfg(tmp_path, split_files, "memory"))
    stream = train(_cfg(tmp_path, split_files, "stream",
                        ["data.streaming=true", "data.buffer_size=4000", "data.chunk_size=1000"]))
    assert memory["auc"] > 0.8
    assert abs(stream["auc"] - memory["auc"]) < 0.005
    a, _, _ = read_predictions(tmp_path / "memory" / "eval" / "predictions.h5")
    b, _, _ = read_predictions(tmp_path / "stream" / "eval" / "predictions.h5")
    np.testing.assert_array_equal(a["label"], b["label"])  # the same test events, in the same order
    np.testing.assert_array_equal(a["lepton_pT"], b["lepton_pT"])
    assert len(b["score"]) == 6_000


def test_eval_streams_other_files_chunk_by_chunk(tmp_path, split_files):
    train(_cfg(tmp_path, split_files, "run", ["trainer.max_epochs=1"]))
    big = [str(_sample(tmp_path / f"big{i}.h5", 5_000, 10 + i)) for i in range(3)]
    override = {"files": [str(tmp_path / "big*.h5")], "streaming": True, "chunk_size": 2_000,
                "buffer_size": 8_000}
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    metrics = evaluate_checkpoint(ckpt, tmp_path / "eval_big", override, plots=False)
    cols, kind, info = read_predictions(tmp_path / "eval_big" / "predictions.h5")
    assert kind == "classification" and len(cols["score"]) == 15_000  # every event (other files)
    with h5py.File(big[1]) as f:
        np.testing.assert_array_equal(cols["label"][5_000:10_000], f["label"][()])
    np.testing.assert_array_equal(cols["index"], np.arange(15_000))
    assert 0.8 < metrics["auc"] < 1 and np.isfinite(metrics["loss"])


def test_bdt_trains_in_memory_on_max_events_when_streaming(tmp_path, caplog):
    path = str(_sample(tmp_path / "all.h5", 8_000, 5))
    cfg = compose_train(["experiment=higgs", "data/features=high", "model=bdt", f"data.files=[{path}]",
                         "data.csv_names=null", "data.streaming=true", "data.max_events=5000",
                         "data.chunk_size=1000", "data.buffer_size=4000", f"paths.output_dir={tmp_path}/bdt",
                         f"paths.cache_dir={tmp_path}/cache", "plots=false"])
    with caplog.at_level("INFO"):
        metrics = train(cfg)
    assert "the estimator trains in memory on" in caplog.text
    cols, _, _ = read_predictions(tmp_path / "bdt" / "eval" / "predictions.h5")
    test = np.flatnonzero(split_codes(path, np.arange(5_000), (0.7, 0.15, 0.15), 42) == 2)
    np.testing.assert_array_equal(cols["index"], test)  # the hash split's test events, streamed
    assert metrics["auc"] > 0.8


RECORDER = '''
import numpy as np
from lightning.pytorch.callbacks import Callback


class SeenRecorder(Callback):
    """Writes the global indices of every training batch, per rank and epoch."""

    def __init__(self, out):
        self.out, self.seen = out, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append(batch["index"].numpy().copy())

    def on_train_epoch_end(self, trainer, pl_module):
        np.save(f"{self.out}/seen_rank{trainer.global_rank}_epoch{trainer.current_epoch}.npy",
                np.concatenate(self.seen))
        self.seen = []
'''


@pytest.mark.slow
def test_ddp_with_workers_sees_every_training_event_once_per_epoch(tmp_path, monkeypatch):
    """trainer=ddp_sim (2 processes) x 2 DataLoader workers each, hash split over two files
    (slow: two spawned processes; tests/data/test_streaming.py shards the same way in seconds)."""
    (tmp_path / "recorder_mod.py").write_text(textwrap.dedent(RECORDER))
    monkeypatch.syspath_prepend(str(tmp_path))
    files = [str(_sample(tmp_path / f"part{i}.h5", n, i)) for i, n in enumerate((2_300, 1_700))]
    cfg = compose_train([
        "experiment=higgs", "data/features=high", f"data.files=[{','.join(files)}]", "data.csv_names=null",
        "data.streaming=true", "data.num_workers=2", "data.chunk_size=500", "data.buffer_size=2000",
        "data.batch_size=128", "model.hidden=[8]", "trainer=ddp_sim", "trainer.max_epochs=2",
        "callbacks.progress_bar=null", "callbacks.early_stopping=null", "evaluate=false",
        f"paths.output_dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/cache",
        f"+callbacks.seen={{_target_: recorder_mod.SeenRecorder, out: {tmp_path}}}"])
    train(cfg)
    offsets = np.cumsum([0, 2_300])
    train_idx = np.concatenate([np.flatnonzero(split_codes(f, np.arange(n), (0.7, 0.15, 0.15), 42) == 0) + o
                                for f, n, o in zip(files, (2_300, 1_700), offsets, strict=True)])
    orders = []
    for epoch in (0, 1):
        per_rank = [np.load(tmp_path / f"seen_rank{r}_epoch{epoch}.npy") for r in (0, 1)]
        both = np.concatenate(per_rank)
        np.testing.assert_array_equal(np.sort(both), train_idx)  # each training event once
        assert len(np.intersect1d(per_rank[0], per_rank[1])) == 0
        orders.append(both)
    assert not np.array_equal(orders[0], orders[1])  # reshuffled between epochs
