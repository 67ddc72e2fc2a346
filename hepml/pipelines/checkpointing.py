"""Lightning pieces that make a run resumable exactly and its checkpoints safe.

- :class:`AtomicCheckpointIO`: checkpoints written atomically (:mod:`hepml.atomic`) and read as
  data only (:func:`hepml.record.read_checkpoint`), with named errors.
- :class:`ExactResume`: the random numbers of every training batch derive from
  (seed, epoch, batch), and a run resumed mid-epoch skips the batches it already trained on, so
  a killed and resumed run ends bit-identical (on CPU) to an uninterrupted one. The shuffle of
  each epoch derives from (seed, epoch) in :func:`hepml.data.dataset.batch_loader`.
- :class:`SignalCheckpoint`: SIGTERM (what SLURM sends at a time limit) or SIGUSR1 during training
  ends the current batch, writes ``last.ckpt``, says so and exits non-zero
  (:class:`TrainingInterrupted`).
"""

from __future__ import annotations

import logging
import signal
import threading
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException

from hepml.atomic import atomic_path
from hepml.data.dataset import epoch_seed
from hepml.errors import HepmlError
from hepml.record import read_checkpoint

log = logging.getLogger(__name__)

# ExactResume makes hepml's loaders resume mid-epoch exactly; Lightning cannot know and warns
warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch ended")


class TrainingInterrupted(HepmlError):
    """Training stopped by a signal; ``last.ckpt`` holds the state to resume from."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.exit_code = 128 + signum  # the shell's convention for "killed by signal N"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Save through a temporary file + fsync + rename; load with ``weights_only=True``."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path,
                        storage_options: Any = None) -> None:
        with atomic_path(path, "checkpoint") as tmp:
            torch.save(checkpoint, tmp)

    def load_checkpoint(self, path: str | Path, map_location: Any = None,
                        weights_only: bool | None = None) -> dict[str, Any]:
        if Path(path).name == ".temp.ckpt":  # ddp_spawn hands the trained weights back in it
            return super().load_checkpoint(path, map_location, weights_only=True)
        return read_checkpoint(path)


class ExactResume(Callback):
    """Per-batch random state from (seed, epoch, batch) and mid-epoch skipping on a resume.

    Parameters
    ----------
    seed : the run's seed.
    optimizer_values : optimiser hyper-parameters (``lr``, ``weight_decay``, ...) to set in every
        parameter group after a resume restored the old ones (``resume_changed=true``).
    """

    def __init__(self, seed: int, optimizer_values: dict[str, Any] | None = None):
        self.seed = int(seed)
        self.optimizer_values = dict(optimizer_values or {})

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
        if 0 < done < trainer.num_training_batches:
            for loader in _flat(trainer.train_dataloader):
                # a streaming loader skips itself; an in-memory one through its batch sampler
                target = loader if hasattr(loader, "skip_batches") else getattr(loader, "sampler", None)
                if hasattr(target, "skip_batches"):
                    target.skip_batches(done)
                elif hasattr(loader, "skip_batches"):  # streaming loaders skip in their workers
                    loader.skip_batches(done)
            log.info("Resuming epoch %d after its first %d batches", trainer.current_epoch, done)
        for optimizer in trainer.optimizers if self.optimizer_values else []:
            for group in optimizer.param_groups:
                for key, value in self.optimizer_values.items():
                    if key in group:
                        group[key] = value
                        if key == "lr" and "initial_lr" in group:
                            group["initial_lr"] = value
            log.info("Optimiser values of the new config applied after the resume: %s",
                     self.optimizer_values)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        torch.manual_seed(epoch_seed(self.seed, trainer.current_epoch, batch_idx))


def _flat(loaders: Any) -> list[Any]:
    if loaders is None:
        return []
    if isinstance(loaders, dict):
        return [x for v in loaders.values() for x in _flat(v)]
    if isinstance(loaders, (list, tuple)):
        return [x for v in loaders for x in _flat(v)]
    return [loaders]


class SignalCheckpoint(Callback):
    """On SIGTERM or SIGUSR1: stop after the current batch, write ``last.ckpt``, log it.

    Lightning already stops on SIGTERM after the batch (and exits 0, silently); this callback
    adds SIGUSR1, writes the checkpoint and makes :func:`fit` raise :class:`TrainingInterrupted`.
    A signal during validation keeps the ``last.ckpt`` of the previous epoch (a half-done
    validation cannot be resumed exactly).

    Parameters
    ----------
    path : the checkpoint to write (``DIR/checkpoints/last.ckpt``).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.signum: int | None = None
        self.written = False
        self._previous: dict[int, Any] = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning installs its SIGTERM handler just before this hook; ours records the signal
        # and hands over to it (SIGUSR1 too, unless a SLURM requeue handler is set)
        if threading.current_thread() is not threading.main_thread():
            return
        stop = signal.getsignal(signal.SIGTERM)
        for signum in (signal.SIGTERM, signal.SIGUSR1):
            previous = signal.getsignal(signum)
            if signum == signal.SIGUSR1 and previous not in (None, signal.SIG_DFL, signal.SIG_IGN):
                continue
            self._previous[signum] = previous
            signal.signal(signum, self._handler(stop))

    def _handler(self, stop: Any):
        def handle(signum: int, frame: Any) -> None:
            self.signum = signum
            if callable(stop):
                stop(signum, frame)
        return handle

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule,
                     exception: BaseException) -> None:
        if self.signum is None or not isinstance(exception, SIGTERMException):
            return
        if trainer.training and not trainer.sanity_checking:
            for callback in trainer.checkpoint_callbacks:
                if isinstance(callback, ModelCheckpoint) and callback.save_last \
                        and Path(callback.dirpath or "") == self.path.parent:
                    # part of the saved state: after the resume it overwrites this last.ckpt
                    # rather than writing a last-v1.ckpt beside it
                    callback.last_model_path = str(self.path)
            trainer.save_checkpoint(self.path)
            self.written = True

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        for signum, previous in self._previous.items():
            if previous is not None and threading.current_thread() is threading.main_thread():
                signal.signal(signum, previous)
        self._previous = {}

    def interrupted(self, trainer: L.Trainer) -> TrainingInterrupted:
        """The error :func:`fit` raises after the signal."""
        signum = self.signum or signal.SIGTERM
        name = signal.Signals(signum).name
        where = f"epoch {trainer.current_epoch}, after {trainer.global_step} optimiser steps"
        if self.written:
            state = f"checkpoint written to {self.path}"
        else:
            state = f"the signal came during validation; {self.path} holds the previous epoch"
        return TrainingInterrupted(f"training stopped by {name} at {where}: {state}. Run the same "
                                   "command again to resume where it stopped", signum)


def fit(trainer: L.Trainer, task: L.LightningModule, datamodule: Any, ckpt_path: str | None) -> None:
    """``trainer.fit`` reading checkpoints as data only; a signal raises
    :class:`TrainingInterrupted` (after :class:`SignalCheckpoint` wrote ``last.ckpt``)."""
    try:
        trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    except SIGTERMException as err:
        handler = next((c for c in trainer.callbacks if isinstance(c, SignalCheckpoint)), None)
        if handler is None:
            raise TrainingInterrupted("training stopped by SIGTERM", signal.SIGTERM) from err
        log.warning("%s", handler.interrupted(trainer))
        raise handler.interrupted(trainer) from err
