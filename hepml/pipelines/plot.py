"""``hepml plot``: remake every plot from a predictions file alone; the ``plots`` config block."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from hepml.plotting.options import PlotOptions
from hepml.plotting.report import make_plots
from hepml.predictions import read_predictions

log = logging.getLogger(__name__)

__all__ = ["plot", "plot_options"]


def plot_options(
    plots: bool | Mapping[str, Any] | DictConfig | None, info: Mapping[str, Any] | None = None
) -> PlotOptions | None:
    """The :class:`PlotOptions` of a ``plots`` config value, or None when plots are off.

    Parameters
    ----------
    plots : bool, Mapping or DictConfig, optional
        ``true``/None (defaults), ``false`` (no plots) or the ``plots`` block
        (``configs/plots_defaults.yaml``; ``enabled: false`` turns plots off).
    info : Mapping, optional
        The predictions file's ``info``: its ``energy`` is used when the block gives none.

    Raises
    ------
    ValueError
        On an unknown option, naming the allowed ones.
    """
    if plots is None or plots is True:
        return PlotOptions().with_info(info)
    if plots is False:
        return None
    mapping = OmegaConf.to_container(plots, resolve=True) if isinstance(plots, DictConfig) else plots
    if not isinstance(mapping, Mapping):
        raise ValueError(f"plots must be true, false or a block of options, got {plots!r}")
    if not mapping.get("enabled", True):
        return None
    return PlotOptions.from_mapping(mapping, info)


def plot(cfg: DictConfig) -> list[Path]:
    """Write ``<output_dir>/plots/*`` and ``report.md``/``.html`` from ``cfg.predictions``."""
    if not cfg.get("predictions"):
        raise ValueError("hepml plot needs predictions=PATH/TO/predictions.h5")
    columns, task, info = read_predictions(cfg.predictions)
    options = plot_options(cfg.get("plots"), info)
    if options is None:
        log.warning("plots=false: no plots made")
        return []
    return make_plots(columns, task, info, Path(cfg.paths.output_dir) / "plots", options)
