"""What a run prints: the composed config, a quiet Lightning, early stopping, the final metrics.

* :func:`quiet_lightning` drops Lightning's advertising tips, its accelerator-availability lines
  and known third-party deprecation warnings (``verbose=true`` keeps them);
* :func:`print_config` shows the composed config as a rich tree, one branch per top-level key;
* :class:`EarlyStoppingNotice` (in ``configs/callbacks/default.yaml``) logs the epoch at which early
  stopping ended the fit, with the monitored value;
* :func:`print_metrics` ends a run with a table of its metrics (each once) and the run directory.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, EarlyStopping
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

log = logging.getLogger(__name__)

__all__ = ["EarlyStoppingNotice", "finish_run", "metrics_table", "print_config", "print_metrics",
           "quiet_lightning", "start_run"]  # fmt: skip

#: Messages of Lightning's rank-zero logger that say nothing about the run.
LIGHTNING_NOISE = (
    r"💡 Tip:",
    r"^(GPU|TPU|HPU|IPU) available: ",
    r"has Tensor Cores\. To properly utilize them",
    r"^LOCAL_RANK: \d+ - CUDA_VISIBLE_DEVICES",
)
#: ``(category, message regex)`` of third-party warnings a user cannot act on.
WARNING_NOISE = (
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
    (DeprecationWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
)
LIGHTNING_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class _DropNoise(logging.Filter):
    """Drops records whose message matches one of :data:`LIGHTNING_NOISE`."""

    pattern = re.compile("|".join(f"(?:{p})" for p in LIGHTNING_NOISE))

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.search(record.getMessage())


_FILTER = _DropNoise()


def quiet_lightning(verbose: bool = False) -> None:
    """Silence Lightning's tips and accelerator lines and known deprecation warnings.

    Parameters
    ----------
    verbose : bool
        Keep everything (and undo an earlier call).
    """
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        logger.removeFilter(_FILTER)
        if not verbose:
            logger.addFilter(_FILTER)
    if not verbose:
        for category, message in WARNING_NOISE:
            warnings.filterwarnings("ignore", message=message, category=category)


def _console() -> Console:
    return Console(file=sys.stdout, soft_wrap=False)


def print_config(cfg: DictConfig | Mapping[str, Any], order: Sequence[str] = ()) -> Tree:
    """Print the composed config as a rich tree (resolved where possible); return the tree.

    Parameters
    ----------
    cfg : DictConfig or Mapping
        The composed config.
    order : sequence of str
        Top-level keys shown first (the others follow in the config's order).
    """
    container = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(dict(cfg))
    tree = Tree("[bold]config[/bold]", guide_style="dim")
    raw = OmegaConf.to_container(container, resolve=False)
    for key in [k for k in order if k in container] + [k for k in container if k not in order]:
        try:
            node = OmegaConf.select(container, str(key), throw_on_resolution_failure=True)
            value = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
        except Exception:  # an interpolation that resolves only inside a Hydra app: show it raw
            value = raw[key]
        text = (OmegaConf.to_yaml(OmegaConf.create(value)) if isinstance(value, dict | list)
                else f"{value}")  # fmt: skip
        tree.add(f"[bold cyan]{key}[/bold cyan]").add(
            Syntax(text.rstrip("\n") or "{}", "yaml", theme="ansi_dark", background_color="default"))
    _console().print(tree)
    return tree


def metrics_table(metrics: Mapping[str, float], title: str = "Metrics") -> Table:
    """A two-column table of metrics, each once: ``test_X`` is dropped when ``X`` has its value.

    Parameters
    ----------
    metrics : Mapping[str, float]
        Flat metric name -> value (as in ``metrics.json``).
    title : str
        Table title.
    """
    shown = {}
    for name, value in metrics.items():
        twin = name.removeprefix("test_")
        if twin != name and twin in metrics and _close(metrics[twin], value):
            continue
        shown[name] = value
    table = Table(title=title, title_justify="left", show_edge=True)
    table.add_column("metric", style="cyan")
    table.add_column("value", justify="right")
    for name, value in shown.items():
        table.add_row(name, _fmt(value))
    return table


def print_metrics(metrics: Mapping[str, float], run_dir: str | Path | None = None) -> Table:
    """Print :func:`metrics_table` and the run directory; return the table."""
    table = metrics_table(metrics)
    console = _console()
    console.print(table)
    if run_dir is not None:
        console.print(f"[bold]Run directory:[/bold] {Path(run_dir).resolve()}")
    return table


def _close(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)
    except (TypeError, ValueError):
        return a == b


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


class EarlyStoppingNotice(Callback):
    """Log when an :class:`~lightning.pytorch.callbacks.EarlyStopping` callback ends the fit:
    the epoch, the monitored metric, its best value and the patience that ran out."""

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for callback in trainer.callbacks:
            if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
                best = callback.best_score
                best = float(best.item() if hasattr(best, "item") else best)
                log.info(
                    "Early stopping at epoch %d of %s: %s did not improve on its best value "
                    "%.4g for %d epochs", callback.stopped_epoch, trainer.max_epochs,
                    callback.monitor, best, callback.patience,
                )  # fmt: skip


def _rank_zero() -> bool:
    return all(os.environ.get(k, "0") == "0" for k in ("RANK", "LOCAL_RANK", "SLURM_PROCID"))


def start_run(cfg: DictConfig, order: Sequence[str] = ("data", "model", "task", "trainer")) -> None:
    """Console set-up of a run: :func:`quiet_lightning` unless ``cfg.verbose``, and the config tree
    (:func:`print_config`) unless ``cfg.print_config`` is false; on global rank zero only."""
    quiet_lightning(bool(cfg.get("verbose", False)))
    if cfg.get("print_config", True) and _rank_zero():
        print_config(cfg, order)


def finish_run(metrics: Mapping[str, float], run_dir: str | Path) -> None:
    """End of a run: the metrics table and the run directory (:func:`print_metrics`)."""
    log.info("Metrics written to %s", Path(run_dir) / "metrics.json")
    if _rank_zero():
        print_metrics(metrics, run_dir)
