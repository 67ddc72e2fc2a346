"""The run record, safe checkpoint reading, the allow-list, atomic writes and the BDT as arrays."""

from __future__ import annotations

import errno
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from hepml.atomic import WriteError, atomic_path, write_text_atomic
from hepml.estimators.bdt import BDT
from hepml.pipelines.common import write_json
from hepml.record import (
    CheckpointError,
    CheckpointNotFoundError,
    RunRecord,
    UntrustedCheckpointError,
    fingerprint,
    git_commit,
    read_checkpoint,
    split_definition,
)
from hepml.trust import check_targets

REPO = Path(__file__).resolve().parents[1]


class Touch:
    """Unpickling this creates ``path``: the side effect a hostile checkpoint would have."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _save(path: Path, payload) -> Path:
    torch.save(payload, path)
    return path


def test_record_round_trip_is_plain_data(tmp_path):
    data = tmp_path / "d.bin"
    data.write_bytes(b"x" * 1000)

    class DM:
        stats = {"inputs": {"scalars": {"center": [1.0], "scale": [2.0]}}}
        files = [str(data)]
        split, split_seed, max_events, file_splits, eval_all = (0.7, 0.15, 0.15), 7, None, None, False
        indices = {"train": np.arange(7), "val": np.arange(2), "test": np.arange(1)}

    record = RunRecord.create({"seed": 1, "model": {"_target_": "hepml.models.mlp.MLP"}}, DM(),
                              kind="regression", choices={"model": "mlp"})
    d = record.to_dict()
    # checkpoint["hepml"] keeps the keys older readers use
    assert d["config"]["seed"] == 1 and d["kind"] == "regression" and d["choices"] == {"model": "mlp"}
    assert d["stats"] == DM.stats and d["version"] == d["versions"]["hepml"]
    assert set(d["versions"]) == {"hepml", "torch", "lightning", "numpy", "python"}
    assert d["split"] == {"fractions": [0.7, 0.15, 0.15], "seed": 7, "max_events": None,
                          "file_splits": None, "eval_all": False, "sizes": {"train": 7, "val": 2, "test": 1}}
    assert d["data_files"][0]["size"] == 1000 and d["history"][0]["event"] == "start"
    path = _save(tmp_path / "r.ckpt", {"hepml": d})
    again = RunRecord.from_dict(read_checkpoint(path)["hepml"])  # weights_only=True reads it
    assert again == record


def test_record_of_an_old_checkpoint():
    old = {"config": {"seed": 1}, "stats": {}, "version": "0.1.0", "choices": {}, "kind": "regression"}
    record = RunRecord.from_dict(old)
    assert record.versions == {"hepml": "0.1.0"} and record.data_files == [] and record.history == []


def test_git_commit_of_a_checkout_and_elsewhere(tmp_path):
    commit = git_commit(REPO)
    assert commit is not None and len(commit.split("+")[0]) == 40
    assert git_commit(tmp_path) is None  # not a checkout: None, no error


def test_fingerprint_sees_a_rewrite_of_the_middle(tmp_path):
    path = tmp_path / "big.bin"
    rng = np.random.default_rng(0)
    payload = bytearray(rng.integers(0, 256, 1_000_000, dtype=np.uint8).tobytes())
    path.write_bytes(payload)
    before = fingerprint(path)
    assert before["size"] == 1_000_000 and len(before["sample_sha256"]) == 64
    payload[500_000] ^= 0xFF  # inside the sampled middle 64 kB
    path.write_bytes(payload)
    after = fingerprint(path)
    assert after["size"] == before["size"] and after["sample_sha256"] != before["sample_sha256"]
    record = RunRecord(config={}, data_files=[before])
    assert record.changed_files([after]) == [f"{before['path']} changed content (same size, different bytes)"]
    assert record.changed_files([before]) == []


def test_split_definition_of_an_object_without_split():
    assert split_definition(object())["fractions"] is None


# ------------------------------------------------------------------- reading checkpoints
def test_read_checkpoint_names_what_is_wrong(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="missing.ckpt does not exist"):
        read_checkpoint(tmp_path / "missing.ckpt")
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        read_checkpoint(empty)
    text = tmp_path / "text.ckpt"
    text.write_text("model: mlp\nlr: 0.01\n")
    with pytest.raises(CheckpointError, match="is a text file, not a checkpoint"):
        read_checkpoint(text)
    noise = tmp_path / "noise.ckpt"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CheckpointError, match="is not a PyTorch checkpoint"):
        read_checkpoint(noise)
    good = _save(tmp_path / "good.ckpt", {"hepml": {"config": {"seed": 1}}, "w": torch.ones(1000)})
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_checkpoint(truncated)
    plain = _save(tmp_path / "plain.ckpt", {"state_dict": {}})
    with pytest.raises(CheckpointError, match="not a hepml checkpoint"):
        read_checkpoint(plain)


def test_a_pickle_that_runs_code_is_refused_without_side_effect(tmp_path):
    marker = tmp_path / "pwned"
    zipped = _save(tmp_path / "evil.ckpt", {"hepml": {"config": {"seed": 1}}, "x": Touch(marker)})
    with pytest.raises(UntrustedCheckpointError, match=r"would run code when loaded.*(io|builtins)\.open"):
        read_checkpoint(zipped)
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(Touch(marker)))
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        read_checkpoint(raw)
    assert not marker.exists()


@pytest.mark.parametrize(("config", "key"), [
    ({"model": {"_target_": "os.system", "command": "touch x"}}, "model._target_='os.system'"),
    ({"model": {"_target_": "hepml.models.mlp.MLP", "act": {"_target_": "subprocess.run"}}},
     "model.act._target_='subprocess.run'"),
    ({"data": {"_target_": "hepml.pipelines.train.train"}}, "is not a model, loss"),
    ({"loss": {"_target_": "torch.hub.load"}}, "is not a model, loss"),
    ({"task": {"_target_": "hepml.no_such.Module"}}, "does not exist"),
    ({"model": {"layers": [{"_target_": "builtins.eval"}]}}, "model.layers[0]._target_"),
])
def test_allow_list_refuses_targets_outside_hepml_and_torch(config, key):
    with pytest.raises(UntrustedCheckpointError, match=rf"{key.replace('[', '.').replace(']', '.')}.*trust_checkpoint=true"):
        check_targets(config, "x.ckpt")


def test_allow_list_accepts_hepml_and_torch_components():
    check_targets({
        "data": {"_target_": "hepml.data.datamodule.HEPDataModule"},
        "model": {"_target_": "hepml.models.mlp.MLP", "act": {"_target_": "torch.nn.ReLU"}},
        "task": {"_target_": "hepml.tasks.regression.RegressionTask"},
        "loss": {"_target_": "hepml.tasks.losses.L1"},
        "trainer": {"_target_": "os.system"},  # never built by evaluation: not checked
    }, "x.ckpt")
    check_targets({"model": {"_target_": "hepml.estimators.bdt.BDT"}}, "x.ckpt")


# ----------------------------------------------------------------------- atomic writes
def test_atomic_write_keeps_the_previous_file_on_a_full_disk(tmp_path):
    path = write_text_atomic(tmp_path / "m.json", "old\n")
    with pytest.raises(WriteError, match=r"could not write the metrics m\.json|disk is full") as err:
        with atomic_path(path, "metrics") as tmp:
            tmp.write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert err.value.errno == errno.ENOSPC and "the previous file is intact" in str(err.value)
    assert "the disk is full" in str(err.value)
    assert path.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_atomic_write_names_permission_and_h5py_style_errors(tmp_path):
    with pytest.raises(WriteError, match="no permission to write there") as err:
        with atomic_path(tmp_path / "new.h5", "predictions file"):
            raise OSError(errno.EACCES, "Permission denied")
    assert "no file was written" in str(err.value)
    with pytest.raises(WriteError, match="No space left on device"):
        with atomic_path(tmp_path / "new.h5", "predictions file"):
            raise OSError("Can't write data (file write failed: errno = 28, error message = ...)")
    assert list(tmp_path.iterdir()) == []


def test_metrics_json_is_valid_json(tmp_path):
    path = write_json(tmp_path / "metrics.json", {"auc": 0.8, "improvement": float("inf"),
                                                   "bias": float("nan"), "n": 3})

    def refuse(name):
        raise AssertionError(f"invalid JSON constant {name}")

    values = json.loads(path.read_text(), parse_constant=refuse)
    assert values == {"auc": 0.8, "improvement": None, "bias": None, "n": 3}


# -------------------------------------------------------------------------- BDT state
@pytest.mark.parametrize("case", ["binary", "three classes", "regression"])
def test_bdt_predictions_after_reload_equal_the_fitted_model(case):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2400, 4)).astype(np.float32)
    x[::13, 2] = np.nan  # missing values take the learned default branch
    kind = "regression" if case == "regression" else "classification"
    y = {"binary": (x[:, 0] + rng.normal(size=2400) > 0).astype(int),
         "three classes": np.digitize(x[:, 1], [-0.5, 0.5]),
         "regression": 2 * x[:, 1] + rng.normal(size=2400)}[case]
    est = BDT(kind=kind, max_iter=40, early_stopping_rounds=0)
    est.fit(x[:1800], y[:1800], None)
    buffer = io.BytesIO()
    torch.save({"estimator": est.state_dict()}, buffer)
    buffer.seek(0)
    again = BDT(kind=kind, max_iter=40)
    again.load_state_dict(torch.load(buffer, weights_only=True)["estimator"])
    test = x[1800:]
    if kind == "classification":
        np.testing.assert_array_equal(again.model.predict_proba(test), est.model.predict_proba(test))
    else:
        np.testing.assert_array_equal(again.model.predict(test), est.model.predict(test))
    for k, v in est.predict(test).items():
        np.testing.assert_array_equal(again.predict(test)[k], v)
    with pytest.raises(ValueError, match="trained on 4 features"):
        again.predict(test[:, :3])


def test_statistics_cache_is_atomic_and_survives_a_bad_file(tmp_path, monkeypatch, caplog):
    from hepml.data import preprocess

    calls = []

    def compute():
        calls.append(1)
        return {"center": [1.5]}

    assert preprocess.cached(tmp_path, "k", compute) == {"center": [1.5]}
    assert preprocess.cached(tmp_path, "k", compute) == {"center": [1.5]} and len(calls) == 1
    (tmp_path / "stats" / "k.json").write_text('{"center": [1.')  # a torn write of an old version
    assert preprocess.cached(tmp_path, "k", compute) == {"center": [1.5]} and len(calls) == 2
    assert json.loads((tmp_path / "stats" / "k.json").read_text()) == {"center": [1.5]}

    monkeypatch.setattr(preprocess, "write_text_atomic",
                        lambda path, text, what: _raise_write_error(path, what))
    with caplog.at_level("WARNING"):
        assert preprocess.cached(tmp_path, "other", compute) == {"center": [1.5]}
    assert "continuing without caching" in caplog.text
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == ["k.json"]


def _raise_write_error(path, what):
    with atomic_path(path, what):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_config_changes_list_what_a_resume_would_change():
    from hepml.pipelines.rundir import config_changes

    old = {"optimizer": {"lr": 0.001}, "callbacks": {"early_stopping": None, "progress_bar": {"x": 1}},
           "trainer": {"max_epochs": 2, "devices": 1}, "paths": {"output_dir": "a"}}
    new = {"optimizer": {"lr": 0.01, "foreach": True}, "callbacks": {"early_stopping": {"patience": 6}},
           "trainer": {"max_epochs": 9, "devices": 2}, "paths": {"output_dir": "b"}}
    assert config_changes(old, new) == {
        "callbacks.early_stopping": [None, {"patience": 6}],
        "optimizer.foreach": ["<unset>", True],
        "optimizer.lr": [0.001, 0.01],
        "trainer.devices": [1, 2],
    }
    assert config_changes(old, old) == {}


def test_trust_checkpoint_lifts_the_allow_list_only(tmp_path):
    from hepml.pipelines.common import load_checkpoint

    config = {"model": {"_target_": "mypackage.models.MyNet"}}
    path = _save(tmp_path / "own.ckpt", {"hepml": {"config": config}, "state_dict": {}})
    with pytest.raises(UntrustedCheckpointError, match="mypackage.models.MyNet"):
        load_checkpoint(path)
    assert load_checkpoint(path, trust=True)["hepml"]["config"] == config
    evil = _save(tmp_path / "evil.ckpt", {"hepml": {"config": config}, "x": Touch(tmp_path / "pwned")})
    with pytest.raises(UntrustedCheckpointError, match="would run code"):
        load_checkpoint(evil, trust=True)  # never unpickles code, trusted or not
    assert not (tmp_path / "pwned").exists()


def test_unwritable_run_directory_is_named(tmp_path, monkeypatch):
    from hepml.pipelines import rundir

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(WriteError, match=r"lock file of the run directory .*no permission to write there"):
        with rundir.run_dir_lock(tmp_path / "run"):
            pass
