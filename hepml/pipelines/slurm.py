"""SLURM preemption: a job warned with SIGUSR1 before its time limit writes ``last.ckpt`` (the
:class:`~hepml.pipelines.checkpointing.SignalCheckpoint` callback), requeues itself and exits; the
requeued job runs the same command in the same run directory and resumes from that checkpoint.

The batch script asks for the warning (``#SBATCH --signal=USR1@120``: 120 s before the limit,
to every task of the job) and pins the run directory to the job id
(``hydra.run.dir=outputs/<name>/slurm-${SLURM_JOB_ID}``), which a requeue keeps. Lightning's own
SLURM requeue handler is switched off (:func:`cluster_plugins`), so there is one path: this one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hepml.pipelines.checkpointing import TrainingInterrupted
from hepml.pipelines.rundir import is_rank_zero

log = logging.getLogger(__name__)

REQUEUE_SIGNAL = signal.SIGUSR1


def slurm_job_id(env: dict[str, str] | None = None) -> str | None:
    """The id ``scontrol requeue`` takes (``<array job>_<task>`` for an array task), or None
    outside SLURM."""
    env = dict(os.environ) if env is None else env
    array_job, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    job = f"{array_job}_{task}" if array_job and task else env.get("SLURM_JOB_ID")
    return job if job and re.fullmatch(r"[0-9_]+", job) else None


def cluster_plugins() -> list[Any]:
    """Trainer plugins for the cluster the process runs on: under SLURM, Lightning's SLURM
    environment without its auto-requeue (hepml requeues, :func:`requeue_on_preemption`)."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    if SLURMEnvironment.detect():
        return [SLURMEnvironment(auto_requeue=False)]
    return []


def requeue(job_id: str) -> bool:
    """``scontrol requeue JOB_ID``; True when SLURM accepted it (a failure is logged)."""
    exe = shutil.which("scontrol")
    if exe is None:
        log.error("SLURM job %s: scontrol is not on PATH, the job is not requeued; resubmit it "
                  "(it resumes from last.ckpt)", job_id)
        return False
    proc = subprocess.run([exe, "requeue", job_id], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        log.error("scontrol requeue %s failed (exit %d): %s; resubmit the job (it resumes from "
                  "last.ckpt)", job_id, proc.returncode, (proc.stderr or proc.stdout).strip()[:500])
        return False
    log.warning("SLURM job %s requeued: it resumes from last.ckpt when it starts again", job_id)
    return True


@contextmanager
def requeue_on_preemption(enabled: bool = True) -> Iterator[None]:
    """Around training: a :class:`TrainingInterrupted` by SIGUSR1 under SLURM requeues the job
    (global rank zero only) before it propagates (the process still exits non-zero)."""
    try:
        yield
    except TrainingInterrupted as err:
        job = slurm_job_id()
        if enabled and job is not None and err.exit_code == 128 + REQUEUE_SIGNAL and is_rank_zero():
            requeue(job)
        raise
