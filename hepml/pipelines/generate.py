"""``hepml generate``: build a physics sample from its config (configs/sample/*.yaml)."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig

log = logging.getLogger(__name__)


def generate(cfg: DictConfig) -> Path:
    if cfg.get("sample") is None:
        raise ValueError("hepml generate needs sample=NAME (a file in configs/sample/)")
    out = Path(instantiate(cfg.sample))
    log.info("Sample written to %s", out)
    return out
