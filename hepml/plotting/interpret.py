"""Figures of what an image classifier learned (arrays from :mod:`hepml.metrics.interpret`).

* :func:`plot_image_panels`: one or several ``[H, W]`` maps side by side on translated
  (eta, phi) axes, sequential or diverging (Pearson maps, convolved differences, most activating
  images), with one colour scale;
* :func:`plot_filters`: a grid of first-layer convolution filters.

The average images and their difference are :mod:`hepml.plotting.images`'s.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from hepml.plotting.images import ETA_LABEL, PHI_LABEL
from hepml.plotting.options import PlotOptions
from hepml.plotting.style import label, save

__all__ = ["plot_filters", "plot_image_panels"]


def _extent(extent: float | tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    if np.isscalar(extent):
        half = float(extent)  # type: ignore[arg-type]
        return (-half, half, -half, half)
    lo_x, hi_x, lo_y, hi_y = (float(v) for v in extent)  # type: ignore[union-attr]
    return (lo_x, hi_x, lo_y, hi_y)


def _label_panels(axes: np.ndarray, options: PlotOptions | None) -> None:
    """The experiment label above the first panel, the energy above the last of the first row."""
    options = options or PlotOptions()
    label(axes[0, 0], dataclasses.replace(options, energy=None, lumi=None))
    if options.rlabel:
        last = axes[0, -1]
        last.text(1.0, 1.01, options.rlabel, transform=last.transAxes, ha="right", va="bottom")


def plot_image_panels(
    panels: Mapping[str, np.ndarray],
    path: str | Path,
    colorbar: str,
    extent: float | tuple[float, float, float, float] = 1.25,
    diverging: bool = True,
    limit: float | None = None,
    options: PlotOptions | None = None,
    xlabel: str = ETA_LABEL,
    ylabel: str = PHI_LABEL,
    log_scale: bool = False,
) -> list[Path]:
    """Maps ``[x, y]`` (x the eta-like axis) side by side with a shared colour scale.

    Parameters
    ----------
    panels : Mapping[str, np.ndarray]
        Title -> ``[H, W]`` map; NaN pixels are left blank.
    path : str or Path
        Output path without extension.
    colorbar : str
        Colour-bar label.
    extent : float or tuple
        Half-width of a square image, or ``(xmin, xmax, ymin, ymax)``.
    diverging : bool
        Red-blue scale symmetric about zero (correlations, differences); else viridis from 0.
    limit : float, optional
        Colour-scale limit (``[-limit, limit]`` or ``[0, limit]``); default the largest value.
    options : PlotOptions, optional
        Label and formats.
    xlabel, ylabel : str
        Axis texts.
    log_scale : bool
        Logarithmic colour scale over four decades below the limit (sequential maps only).

    Returns
    -------
    list[Path]
        The written files.
    """
    if not panels:
        raise ValueError("plot_image_panels needs at least one map")
    maps = {k: np.asarray(v, dtype=np.float64) for k, v in panels.items()}
    for k, v in maps.items():
        if v.ndim != 2:
            raise ValueError(f"map {k!r} must be [H, W], got shape {v.shape}")
    finite = np.concatenate([v[np.isfinite(v)].ravel() for v in maps.values()] + [np.zeros(1)])
    top = limit if limit is not None else float(np.max(np.abs(finite))) or 1.0
    norm = Normalize(-top, top) if diverging else Normalize(0.0, top)
    if log_scale and not diverging:
        norm = LogNorm(top * 1e-4, top)
        maps = {k: np.where(v > 0, v, np.nan) for k, v in maps.items()}
    n = len(maps)
    cols = 2 if n == 4 else min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.3 * cols + 1.3, 4.4 * rows + 0.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    shown = None
    cmap = "RdBu_r" if diverging else "viridis"
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    for i, (ax, (title, values)) in enumerate(zip(axes.ravel(), maps.items(), strict=False)):
        shown = ax.imshow(values.T, origin="lower", cmap=cmap, norm=norm, extent=_extent(extent),
                          aspect="equal")  # fmt: skip
        ax.text(0.03, 0.97, title.replace("$, $", "$\n$"), transform=ax.transAxes, va="top",
                fontsize="x-small", bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0})
        ax.tick_params(labelsize="x-small")
        if i // cols == rows - 1 or i + cols >= n:
            ax.set_xlabel(xlabel, fontsize="small")
        if i % cols == 0:
            ax.set_ylabel(ylabel, fontsize="small")
    fig.colorbar(shown, ax=list(axes.ravel()[:n]), label=colorbar, shrink=0.8)
    _label_panels(axes, options)
    return save(fig, path, options or PlotOptions())


def plot_filters(
    filters: np.ndarray,
    path: str | Path,
    options: PlotOptions | None = None,
    order: np.ndarray | None = None,
) -> list[Path]:
    """First-layer filters ``[F, k, k]`` in a grid, each on its own symmetric red-blue scale.

    Parameters
    ----------
    filters : np.ndarray
        ``[F, k, k]`` (one input channel).
    path : str or Path
        Output path without extension.
    options : PlotOptions, optional
        Label and formats.
    order : np.ndarray, optional
        Filter indices to show first (e.g. the strongest); their rank is written on each panel.

    Returns
    -------
    list[Path]
        The written files.
    """
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim != 3:
        raise ValueError(f"filters must be [F, k, k], got shape {f.shape}")
    idx = (
        list(range(len(f)))
        if order is None
        else list(order) + [i for i in range(len(f)) if i not in set(order)]
    )
    cols = min(8, len(f))
    rows = math.ceil(len(f) / cols)
    fig = Figure(figsize=(1.5 * cols, 1.6 * rows + 0.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for pos, i in enumerate(idx):
        ax = axes.ravel()[pos]
        top = float(np.max(np.abs(f[i]))) or 1.0
        ax.imshow(f[i].T, origin="lower", cmap="RdBu_r", vmin=-top, vmax=top)
        ax.set_title(f"filter {i}", fontsize="x-small")
    fig.suptitle("First-layer convolution filters (red: positive weight)", fontsize="small")
    return save(fig, path, options or PlotOptions())
