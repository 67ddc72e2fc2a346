"""Faults a run meets, each with the outcome or the message it gets (issue 15).

Kills and signals at a given batch, then a resume: the result is bit-identical to an
uninterrupted run. Hostile checkpoints are refused with no side effect. A full disk leaves the
previous file intact. Resumes with another config or other data, finished run directories and
concurrent runs get named errors.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from helpers import compose_train, make_tau_like, write_h5

from hepml.atomic import WriteError
from hepml.pipelines.checkpointing import ExactResume, TrainingInterrupted
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.rundir import ConfigChangedError, RunDirLockedError
from hepml.pipelines.train import train
from hepml.predictions import read_predictions, write_predictions
from hepml.record import CheckpointError, UntrustedCheckpointError, read_checkpoint

EPOCHS = 6


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_h5(tmp_path_factory.mktemp("data") / "taus.h5", make_tau_like(1500))


def _cfg(data: Path, run: Path, *extra: str):
    return compose_train(["experiment=tau_regression", f"data.files=[{data}]", "callbacks.progress_bar=null",
                          "callbacks.early_stopping=null", "plots=false", f"trainer.max_epochs={EPOCHS}",
                          f"paths.output_dir={run}", f"paths.cache_dir={run.parent}/cache", *extra])


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> tuple[Path, dict]:
    """An uninterrupted run of 6 epochs (5 batches each)."""
    run = tmp_path_factory.mktemp("reference") / "run"
    return run, train(_cfg(data, run))


@contextmanager
def interrupt_at(epoch: int, batch: int, action):
    """Run ``action()`` when training reaches ``batch`` of ``epoch`` (before its step)."""
    original = ExactResume.on_train_batch_start

    def patched(self, trainer, module, b, batch_idx):
        if trainer.current_epoch == epoch and batch_idx == batch:
            action()
        original(self, trainer, module, b, batch_idx)

    ExactResume.on_train_batch_start = patched
    try:
        yield
    finally:
        ExactResume.on_train_batch_start = original


def _kill_like():
    raise RuntimeError("simulated kill -9")  # nothing is saved on an exception: as after SIGKILL


def _results(metrics: dict) -> dict:
    """The metrics that do not measure time (``train_time_s``, ``*_events_per_s``)."""
    return {k: v for k, v in metrics.items() if not k.endswith("_s")}


def _assert_identical(run: Path, reference: tuple[Path, dict], metrics: dict) -> None:
    ref_run, ref_metrics = reference
    a = read_checkpoint(ref_run / "checkpoints" / "last.ckpt")
    b = read_checkpoint(run / "checkpoints" / "last.ckpt")
    assert b["global_step"] == a["global_step"] == EPOCHS * 5
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    assert a["optimizer_states"][0]["state"][0]["exp_avg"].equal(b["optimizer_states"][0]["state"][0]["exp_avg"])
    same = _results(ref_metrics)
    assert {k: metrics[k] for k in same} == same
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]


def _history_epochs(run: Path) -> list[int]:
    lines = (run / "csv" / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    return sorted({int(r["epoch"]) for r in rows if r.get("val/loss")})


# ------------------------------------------------------------------------ exact resume
def test_killed_run_resumes_bit_identical(data, reference, tmp_path):
    run = tmp_path / "run"
    with interrupt_at(3, 2, _kill_like), pytest.raises(RuntimeError, match="simulated kill"):
        train(_cfg(data, run))
    assert read_checkpoint(run / "checkpoints" / "last.ckpt")["epoch"] == 2
    metrics = train(_cfg(data, run))  # the same command again
    _assert_identical(run, reference, metrics)
    assert _history_epochs(run) == list(range(EPOCHS))  # the per-epoch history is appended
    history = read_checkpoint(run / "checkpoints" / "last.ckpt")["hepml"]["history"]
    assert [h["event"] for h in history] == ["start", "resume"] and history[1]["epoch"] == 2


def test_sigterm_writes_a_checkpoint_and_the_resume_is_bit_identical(data, reference, tmp_path):
    run = tmp_path / "run"
    with interrupt_at(3, 2, lambda: os.kill(os.getpid(), signal.SIGTERM)), \
            pytest.raises(TrainingInterrupted, match=r"stopped by SIGTERM at epoch 3.*checkpoint written to "
                                                     r".*last\.ckpt.*Run the same command again") as err:
        train(_cfg(data, run))
    assert err.value.exit_code == 128 + signal.SIGTERM
    saved = read_checkpoint(run / "checkpoints" / "last.ckpt")
    assert (saved["epoch"], saved["global_step"]) == (3, 18)  # mid-epoch: after batch 2 of epoch 3
    _assert_identical(run, reference, train(_cfg(data, run)))


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "epoch", "batch"), [
    (signal.SIGUSR1, 1, 0), (signal.SIGTERM, 4, 4), (signal.SIGINT, 3, 1), (signal.SIGTERM, 0, 3)])
def test_signals_at_other_points_resume_bit_identical(data, reference, tmp_path, signum, epoch, batch):
    run = tmp_path / "run"
    with interrupt_at(epoch, batch, lambda: os.kill(os.getpid(), signum)), \
            pytest.raises((TrainingInterrupted, SystemExit)):
        train(_cfg(data, run))
    _assert_identical(run, reference, train(_cfg(data, run)))


@pytest.mark.slow
def test_streaming_run_resumes_bit_identical_after_sigterm(data, tmp_path):
    stream = ("data.streaming=true", "data.chunk_size=300", "data.buffer_size=600")
    reference = tmp_path / "reference"
    expected = train(_cfg(data, reference, *stream))
    run = tmp_path / "run"
    with interrupt_at(3, 2, lambda: os.kill(os.getpid(), signal.SIGTERM)), pytest.raises(TrainingInterrupted):
        train(_cfg(data, run, *stream))
    _assert_identical(run, (reference, expected), train(_cfg(data, run, *stream)))


KILL_SCRIPT = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from helpers import compose_train
from hepml.pipelines.checkpointing import ExactResume
from hepml.pipelines.train import train
original = ExactResume.on_train_batch_start
def patched(self, trainer, module, batch, batch_idx):
    if trainer.current_epoch == 3 and batch_idx == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    original(self, trainer, module, batch, batch_idx)
ExactResume.on_train_batch_start = patched
train(compose_train({overrides!r}))
"""


@pytest.mark.slow
def test_real_kill_9_resumes_bit_identical(data, reference, tmp_path):
    run = tmp_path / "run"
    cfg = _cfg(data, run)
    overrides = ["experiment=tau_regression", f"data.files=[{data}]", "callbacks.progress_bar=null",
                 "callbacks.early_stopping=null", "plots=false", f"trainer.max_epochs={EPOCHS}",
                 f"paths.output_dir={run}", f"paths.cache_dir={run.parent}/cache"]
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parents[1]), overrides=overrides)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    _assert_identical(run, reference, train(cfg))


# ---------------------------------------------------------------- config, data, run dir
def test_resume_with_another_config_is_refused_or_recorded(data, tmp_path):
    run = tmp_path / "run"
    with interrupt_at(2, 0, _kill_like), pytest.raises(RuntimeError):
        train(_cfg(data, run))
    with pytest.raises(ConfigChangedError, match=r"optimizer\.lr: 0\.001 -> 0\.01.*resume_changed=true"):
        train(_cfg(data, run, "optimizer.lr=0.01"))
    train(_cfg(data, run, "optimizer.lr=0.01", "resume_changed=true"))
    saved = read_checkpoint(run / "checkpoints" / "last.ckpt")
    assert saved["hepml"]["history"][-1]["changed"] == {"optimizer.lr": [0.001, 0.01]}
    assert saved["optimizer_states"][0]["param_groups"][0]["lr"] == 0.01  # the new value is used


def test_resume_on_a_rewritten_data_file_is_refused(tmp_path):
    data = write_h5(tmp_path / "taus.h5", make_tau_like(1500))
    run = tmp_path / "run"
    with interrupt_at(2, 0, _kill_like), pytest.raises(RuntimeError):
        train(_cfg(data, run))
    write_h5(data, make_tau_like(1500, seed=5))  # e.g. shards merged again in another order
    with pytest.raises(ConfigChangedError, match=r"taus\.h5 changed .*mix training and test events"):
        train(_cfg(data, run))


def test_finished_run_is_reported_not_retrained(data, reference, tmp_path, caplog):
    ref_run, ref_metrics = reference
    last = ref_run / "checkpoints" / "last.ckpt"
    stamp = last.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="hepml"):
        assert train(_cfg(data, ref_run)) == json.loads((ref_run / "metrics.json").read_text())
    assert "holds a finished run (6 epochs): nothing to train; retrain=true" in caplog.text
    assert last.stat().st_mtime_ns == stamp
    with pytest.raises(ConfigChangedError, match=r"finished run with another config: model\.hidden"):
        train(_cfg(data, ref_run, "model.hidden=[8]"))


def test_retrain_starts_afresh(data, tmp_path):
    run = tmp_path / "run"
    first = train(_cfg(data, run, "trainer.max_epochs=1"))
    (run / "checkpoints" / "stale.ckpt").write_bytes(b"x")
    with pytest.raises(ConfigChangedError, match="holds the checkpoints of an earlier run and auto_resume=false"):
        train(_cfg(data, run, "trainer.max_epochs=1", "auto_resume=false"))
    again = train(_cfg(data, run, "trainer.max_epochs=1", "retrain=true"))
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert _results(again) == _results(first)


def test_second_run_in_a_locked_dir_is_refused(data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with open(run / ".hepml.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("hepml train pid 4242 on node7\n")
        held.flush()
        with pytest.raises(RunDirLockedError, match=r"is being written by hepml train pid 4242 on node7"):
            train(_cfg(data, run))
    assert not (run / "checkpoints").exists()


def test_truncated_last_checkpoint_says_what_to_do(data, tmp_path):
    run = tmp_path / "run"
    with interrupt_at(1, 0, _kill_like), pytest.raises(RuntimeError):
        train(_cfg(data, run))
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:4000])
    with pytest.raises(CheckpointError, match=r"last\.ckpt is truncated or corrupt.*retrain=true.*best\.ckpt"):
        train(_cfg(data, run))


def test_bdt_checkpoint_is_data_and_evaluates_alone(tmp_path, caplog):
    from helpers import SHARED_HIGGS

    if not SHARED_HIGGS.is_file():
        pytest.skip(f"{SHARED_HIGGS} not present")
    run = tmp_path / "bdt"
    cfg = compose_train(["experiment=higgs", "model=bdt", "data/features=high", f"data.files=[{SHARED_HIGGS}]",
                         "data.max_events=600", "model.max_iter=30", "plots=false", f"paths.output_dir={run}",
                         f"paths.cache_dir={tmp_path}/cache"])
    metrics = train(cfg)
    saved = read_checkpoint(run / "checkpoints" / "best.ckpt")  # weights_only=True reads it
    assert saved["estimator"]["link"] == "logit" and saved["hepml"]["kind"] == "classification"
    again = evaluate_checkpoint(run / "checkpoints" / "best.ckpt", tmp_path / "again", plots=False)
    assert again["auc"] == metrics["auc"]  # the stored trees predict exactly as the fitted model
    with caplog.at_level(logging.INFO, logger="hepml"):
        assert train(cfg) == json.loads((run / "metrics.json").read_text())
    assert "holds a finished run (estimator)" in caplog.text


# ------------------------------------------------------------------- hostile checkpoints
class Touch:
    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_hostile_checkpoints_are_refused_without_side_effect(reference, tmp_path):
    ref_run, _ = reference
    good = read_checkpoint(ref_run / "checkpoints" / "best.ckpt")
    marker = tmp_path / "pwned"

    reduce = tmp_path / "reduce.ckpt"
    torch.save({**good, "extra": Touch(marker)}, reduce)
    with pytest.raises(UntrustedCheckpointError, match="would run code when loaded"):
        evaluate_checkpoint(reduce, tmp_path / "e1", plots=False)

    system = tmp_path / "system.ckpt"
    config = {**good["hepml"]["config"], "model": {"_target_": "os.system", "command": f"touch {marker}"}}
    torch.save({**good, "hepml": {**good["hepml"], "config": config}}, system)
    with pytest.raises(UntrustedCheckpointError, match=r"model\._target_='os\.system'.*trust_checkpoint=true"):
        evaluate_checkpoint(system, tmp_path / "e2", plots=False)

    estimator = tmp_path / "estimator.ckpt"
    config = {**good["hepml"]["config"], "model": {"_target_": "hepml.estimators.bdt.BDT"}}
    torch.save({"hepml": {**good["hepml"], "config": config}, "estimator": pickle.dumps(Touch(marker))}, estimator)
    with pytest.raises(CheckpointError, match="holds a pickled estimator"):
        evaluate_checkpoint(estimator, tmp_path / "e3", plots=False)

    assert not marker.exists()
    assert not any((tmp_path / d).exists() for d in ("e1", "e2", "e3"))


def test_evaluating_the_own_split_of_changed_files_warns(tmp_path, caplog):
    data = write_h5(tmp_path / "taus.h5", make_tau_like(1500))
    run = tmp_path / "run"
    train(_cfg(data, run, "trainer.max_epochs=1", "evaluate=false"))
    write_h5(data, make_tau_like(1500, seed=9))
    with caplog.at_level(logging.WARNING, logger="hepml"):
        evaluate_checkpoint(run / "checkpoints" / "best.ckpt", tmp_path / "eval", plots=False)
    assert "taus.h5 changed" in caplog.text and "test split may now overlap the training set" in caplog.text


# --------------------------------------------------------------------------- disk full
def _full_disk(monkeypatch, module, name):
    """Make ``module.name`` write half its output, then fail as a full disk does."""
    real = getattr(module, name)

    def half_then_enospc(obj, target, *args, **kwargs):
        real(obj, target, *args, **kwargs)
        Path(target).write_bytes(Path(target).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, name, half_then_enospc)


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(data, tmp_path, monkeypatch):
    run = tmp_path / "run"
    train(_cfg(data, run, "trainer.max_epochs=1", "evaluate=false"))
    last = run / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    _full_disk(monkeypatch, torch, "save")
    with pytest.raises(WriteError, match=r"could not write the checkpoint .*: No space left on device "
                                         r"\(the previous file is intact\); the disk is full"):
        train(_cfg(data, run, "trainer.max_epochs=2", "evaluate=false"))
    monkeypatch.undo()
    assert last.read_bytes() == before and read_checkpoint(last)["epoch"] == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert train(_cfg(data, run, "trainer.max_epochs=2", "evaluate=false"))  # and it resumes


def test_full_disk_while_writing_predictions_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "predictions.h5"
    cols = {"pred": np.arange(5.0), "truth": np.ones(5)}
    write_predictions(path, cols, "regression", {})

    def enospc(self, *args, **kwargs):
        raise OSError("Can't synchronously write data (file write failed: errno = 28, "
                      "error message = 'No space left on device')")

    monkeypatch.setattr(h5py.Group, "create_dataset", enospc)
    with pytest.raises(WriteError, match="predictions file .*No space left on device .*previous file is intact"):
        write_predictions(path, {"pred": np.zeros(5), "truth": np.zeros(5)}, "regression", {})
    monkeypatch.undo()
    np.testing.assert_array_equal(read_predictions(path)[0]["pred"], cols["pred"])
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.h5"]


# ------------------------------------------------------------------------- generation
GENERATE_SCRIPT = """
import sys
sys.path.insert(0, {folder!r})
from builders import sleepy_builder
from hepml.generate.runner import generate_sample
if __name__ == "__main__":
    generate_sample("sleepy", sleepy_builder, {output!r}, 10, {{"a": {{"label": 0, "fraction": 1.0}}}},
                    workers=2, chunk_size=5, progress=False)
"""


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGKILL, marks=pytest.mark.slow)])
def test_killed_generation_ends_its_workers(tmp_path, signum):
    import time

    script = tmp_path / "gen.py"
    script.write_text(GENERATE_SCRIPT.format(folder=str(Path(__file__).parent / "failures"),
                                             output=str(tmp_path / "out.h5")))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(_children(proc.pid)) < 3:  # 2 workers + resource tracker
            time.sleep(0.5)
        workers = _children(proc.pid)
        assert len(workers) >= 2, "the workers did not start"
        time.sleep(2)  # let them import and start their chunk
        os.kill(proc.pid, signum)
        output = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)], output[-2000:]
    if signum == signal.SIGTERM:
        assert "interrupted: finished chunks are kept" in output


# -------------------------------------------------------------------------- the CLI line
@pytest.mark.parametrize("verbose", [False, True])
def test_cli_prints_a_user_error_as_one_line_on_stderr(tmp_path, verbose, capfd, monkeypatch):
    from hepml.cli import main

    monkeypatch.delenv("HEPML_VERBOSE", raising=False)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    bad = tmp_path / "notes.ckpt"
    bad.write_text("best model: epoch 3\n")
    args = ["eval", f"ckpt_path={bad}", f"hydra.run.dir={tmp_path}/x"]
    with pytest.raises(SystemExit) as exit_:
        main(args + (["--verbose"] if verbose else []))
    assert exit_.value.code == 1
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("hepml eval: error:")]
    assert lines == [f"hepml eval: error: {bad} is a text file, not a checkpoint (it starts with "
                     "'best model: epoch 3\\n')"]
    assert ("Traceback" in err) is verbose
    assert "is a text file" not in out
    assert "is a text file" in (tmp_path / "x" / "hepml.log").read_text()  # and in the run's log


# ---------------------------------------------------------------- checks before the data
@pytest.mark.parametrize(("override", "message"), [
    ("trainer.max_epochs=abc", "trainer.max_epochs='abc': expected an integer, e.g. trainer.max_epochs=20"),
    ("optimizer.lr=fast", "optimizer.lr='fast': expected a number, e.g. optimizer.lr=0.001"),
    ("data.batch_size=0", "data.batch_size=0: expected a value >= 1"),
    ("data.split=[0.9,0.0,0.1]", "monitor=val/loss needs validation events but data.split=[0.9, 0.0, 0.1]"),
])
def test_bad_config_values_fail_before_the_data_is_read(tmp_path, override, message):
    from hepml.pipelines.checks import ConfigValueError

    missing = tmp_path / "never_read.h5"  # a data error would come second
    with pytest.raises(ConfigValueError, match=re.escape(message)):
        train(_cfg(missing, tmp_path / "run", override))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_single_class_training_set_fails_before_the_first_epoch(tmp_path):
    from hepml.data.io.csv_write import write_csv
    from hepml.pipelines.checks import ConfigValueError

    rng = np.random.default_rng(0)
    names = ["m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]
    cols = {k: rng.normal(size=300) for k in names}
    cols.update({"lepton_pT": rng.exponential(1, 300), "label": np.ones(300, dtype=int)})
    write_csv(tmp_path / "signal_only.csv", cols)
    cfg = compose_train(["experiment=higgs", "data/features=high", f"data.files=[{tmp_path / 'signal_only.csv'}]",
                         f"paths.output_dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/cache"])
    with pytest.raises(ConfigValueError, match=r"the training split holds only class signal \(210 events\)"):
        train(cfg)
    assert not (tmp_path / "run" / "checkpoints").exists()
