"""Checks of a training config before any data is read or generated, and of the training split
before the first epoch: a typo in a number or an unusable split fails in a second, with the key
and what was expected, instead of after loading (or an epoch) with a library traceback."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from hepml.errors import HepmlError

# key -> (kind, minimum, optional)
NUMBERS: dict[str, tuple[str, float | None, bool]] = {
    "seed": ("int", None, False),
    "trainer.max_epochs": ("int", -1, True),
    "trainer.min_epochs": ("int", 0, True),
    "trainer.max_steps": ("int", -1, True),
    "trainer.log_every_n_steps": ("int", 1, True),
    "trainer.check_val_every_n_epoch": ("int", 1, True),
    "trainer.accumulate_grad_batches": ("int", 1, True),
    "trainer.num_nodes": ("int", 1, True),
    "trainer.gradient_clip_val": ("float", 0, True),
    "optimizer.lr": ("float", 0, True),
    "optimizer.weight_decay": ("float", 0, True),
    "optimizer.momentum": ("float", 0, True),
    "optimizer.eps": ("float", 0, True),
    "data.batch_size": ("int", 1, True),
    "data.eval_batch_size": ("int", 1, True),
    "data.num_workers": ("int", 0, True),
    "data.max_events": ("int", 1, True),
    "data.chunk_size": ("int", 1, True),
    "data.buffer_size": ("int", 1, True),
}


class ConfigValueError(HepmlError, ValueError):
    """A config value of the wrong type or range."""


def check_config(cfg: DictConfig) -> None:
    """Types and ranges of the trainer, optimizer and data values, and a validation split when a
    validation metric is monitored.

    Raises
    ------
    ConfigValueError
        Naming every bad key, its value and what is expected.
    """
    problems = [p for key, spec in NUMBERS.items() if (p := _check_number(cfg, key, *spec))]
    split = OmegaConf.select(cfg, "data.split", default=None)
    if split is not None:
        values = list(split) if OmegaConf.is_list(split) or isinstance(split, (list, tuple)) else None
        if values is None or len(values) != 3 or not all(_is_number(v) and v >= 0 for v in values):
            problems.append(f"data.split={_show(split)}: expected three fractions >= 0 summing to 1, "
                            "e.g. data.split=[0.7,0.15,0.15]")
        elif _monitors_validation(cfg) and values[1] == 0 and not _has_val_files(cfg):
            problems.append(f"monitor={cfg.monitor} needs validation events but data.split={values} "
                            "leaves none: give the validation split a fraction, or monitor=train/loss")
    if problems:
        raise ConfigValueError("invalid config: " + "; ".join(problems))


def check_training_split(datamodule: Any, monitor: str | None) -> None:
    """A classifier needs two classes in its training split, and a monitored validation metric
    needs validation events: refused before the first epoch rather than after it."""
    stats = getattr(datamodule, "stats", None) or {}
    counts = stats.get("class_counts")
    if counts is not None and sum(1 for c in counts if c > 0) < 2:
        present = [i for i, c in enumerate(counts) if c > 0]
        names = list(getattr(getattr(datamodule, "schema", None), "classes", None) or [])
        label = names[present[0]] if present and present[0] < len(names) else present
        raise ConfigValueError(
            f"the training split holds only class {label} ({sum(counts)} events): a classifier "
            "needs events of at least two classes; check data.files/data.sources and the label")
    val = (getattr(datamodule, "indices", None) or {}).get("val")
    if monitor and str(monitor).startswith("val/") and val is not None and len(val) == 0 \
            and getattr(datamodule, "stream", None) is None:
        raise ConfigValueError(f"monitor={monitor} needs validation events but the validation split "
                               "is empty: give data.split a validation fraction, or monitor=train/loss")


def _check_number(cfg: DictConfig, key: str, kind: str, minimum: float | None, optional: bool) -> str | None:
    if OmegaConf.select(cfg, key, default="<absent>") == "<absent>":
        return None
    value = OmegaConf.select(cfg, key)
    if value is None:
        return None if optional else f"{key} is null: expected {_kind(kind)}"
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"{key}={_show(value)}: expected {_kind(kind)}, e.g. {key}={_example(key)}"
    if kind == "float" and not _is_number(value):
        return f"{key}={_show(value)}: expected {_kind(kind)}, e.g. {key}={_example(key)}"
    if minimum is not None and value < minimum:
        return f"{key}={value}: expected a value >= {minimum:g}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(kind: str) -> str:
    return "an integer" if kind == "int" else "a number"


def _show(value: Any) -> str:
    return repr(OmegaConf.to_container(value) if OmegaConf.is_config(value) else value)


def _example(key: str) -> str:
    return {"optimizer.lr": "0.001", "optimizer.weight_decay": "0.01", "trainer.max_epochs": "20",
            "data.batch_size": "256", "seed": "42"}.get(key, "1")


def _monitors_validation(cfg: DictConfig) -> bool:
    return str(cfg.get("monitor") or "").startswith("val/")


def _has_val_files(cfg: DictConfig) -> bool:
    files = OmegaConf.select(cfg, "data.files", default=None)
    return OmegaConf.is_dict(files) and bool(files.get("val"))
