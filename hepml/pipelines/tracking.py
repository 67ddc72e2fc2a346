"""Experiment tracking: the composed config as the hyper-parameters of every logger (MLflow
parameters, W&B config, TensorBoard hparams, the CSV logger's hparams.yaml)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

MAX_VALUE = 500  # MLflow rejects longer parameter values


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model.hidden": "[64, 64]", "optimizer.lr": 0.001, ...}``: nested keys joined by dots,
    lists and long values as (cut) strings, None as "null"."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flat_params(value, name))
        elif isinstance(value, (int, float, bool, str)) and len(str(value)) <= MAX_VALUE:
            out[name] = value
        else:
            text = "null" if value is None else str(value)
            out[name] = text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."
    return out


def log_config(loggers: Iterable[Any], config: Mapping[str, Any]) -> None:
    """Log ``config`` (resolved, plain values) as hyper-parameters to each logger."""
    params = flat_params(config)
    for logger in loggers:
        logger.log_hyperparams(params)
