"""``hepml plot``: remake every plot from a predictions file alone."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from hepml.plotting.report import make_plots
from hepml.predictions import read_predictions


def plot(cfg: DictConfig) -> list[Path]:
    if not cfg.get("predictions"):
        raise ValueError("hepml plot needs predictions=PATH/TO/predictions.h5")
    columns, task, info = read_predictions(cfg.predictions)
    return make_plots(columns, task, info, Path(cfg.paths.output_dir) / "plots", style=cfg.get("style", "CMS"))
