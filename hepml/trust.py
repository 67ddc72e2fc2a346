"""The allow-list of what a checkpoint's config may build: only hepml and torch components.

A checkpoint read as data (:func:`hepml.record.read_checkpoint`) can still name any callable in
the ``_target_`` keys of its embedded config, and evaluation instantiates that config. So before
anything is built, every ``_target_`` of the sections evaluation builds must name a class under
``hepml.`` or ``torch.`` that is a model, loss, optimiser, scheduler, data module or estimator;
``trust_checkpoint=true`` lifts the check for a checkpoint from a trusted source.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch

from hepml.record import UntrustedCheckpointError

# module prefixes a checkpoint's config may name in a `_target_`
TRUSTED_PREFIXES = ("hepml.", "torch.")
# the config sections that evaluation instantiates
BUILT_SECTIONS = ("data", "model", "task", "loss")


def check_targets(config: dict[str, Any], source: str | Path,
                  sections: tuple[str, ...] = BUILT_SECTIONS) -> None:
    """Refuse a checkpoint config whose ``sections`` name a ``_target_`` outside the allow-list.

    Every ``_target_`` (at any depth) must name a class under ``hepml.`` or ``torch.`` that is a
    model, loss, optimiser, scheduler, data module or estimator. The prefix is checked before any
    module is imported, so a hostile name is never imported either.

    Raises
    ------
    UntrustedCheckpointError
        Naming the config key and the target, and ``trust_checkpoint=true`` as the way out.
    """
    for section in sections:
        for key, target in _targets(config.get(section), section):
            reason = _untrusted(target)
            if reason:
                raise UntrustedCheckpointError(
                    f"{source}: its config sets {key}._target_={target!r}, which {reason}; a "
                    "checkpoint may only build hepml and torch models, losses, optimisers and data "
                    "modules. If you trust whoever made this file, pass trust_checkpoint=true")


def _targets(node: Any, key: str):
    if isinstance(node, dict):
        if "_target_" in node:
            yield key, node["_target_"]
        for k, v in node.items():
            yield from _targets(v, f"{key}.{k}")
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _targets(v, f"{key}[{i}]")


def _untrusted(target: Any) -> str | None:
    """Why ``target`` is not allowed, or None when it is."""
    if not isinstance(target, str) or not target.startswith(TRUSTED_PREFIXES):
        return f"is outside {' and '.join(p.rstrip('.') for p in TRUSTED_PREFIXES)}"
    module_name, _, name = target.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return "does not exist in this installation"
    if not isinstance(obj, type) or not issubclass(obj, _component_bases()):
        return "is not a model, loss, optimiser, scheduler, data module or estimator class"
    return None


def _component_bases() -> tuple[type, ...]:
    import lightning

    from hepml.estimators.base import Estimator

    return (torch.nn.Module, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler,
            torch.optim.lr_scheduler.ReduceLROnPlateau, lightning.LightningDataModule, Estimator)
