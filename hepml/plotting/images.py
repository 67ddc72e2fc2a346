"""Average jet (or calorimeter) images per class on translated (eta, phi), and their difference.

Images are ``[n, x, y]`` arrays with ``x`` the eta-like and ``y`` the phi-like coordinate
(:mod:`hepml.physics.jet_images`), covering ``extent = (xmin, xmax, ymin, ymax)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.colors import CenteredNorm, LogNorm

from hepml.plotting.options import PlotOptions
from hepml.plotting.style import label, new_figure, save

__all__ = ["plot_difference_image", "plot_mean_images"]

ETA_LABEL = r"Translated $\eta$"
PHI_LABEL = r"Translated $\phi$ (rotated)"


def _extent(extent: float | tuple[float, float, float, float]) -> tuple[float, ...]:
    if np.isscalar(extent):
        half = float(extent)
        return (-half, half, -half, half)
    return tuple(float(v) for v in extent)


def plot_mean_images(
    images: np.ndarray,
    labels: np.ndarray,
    names_of: Mapping[int, str],
    out_dir: str | Path,
    extent: float | tuple[float, float, float, float] = 1.25,
    options: PlotOptions | None = None,
    stem: str = "mean_image",
    xlabel: str = ETA_LABEL,
    ylabel: str = PHI_LABEL,
    colorbar: str = "Mean pixel $p_T$ [GeV]",
) -> list[Path]:
    """The mean image of each label on a log colour scale, one figure ``<stem>_label<k>`` each.

    Parameters
    ----------
    images : np.ndarray
        ``[n, x, y]`` images.
    labels : np.ndarray
        Integer label per image.
    names_of : Mapping[int, str]
        Label -> name written in the figure.
    out_dir : str or Path
        Output folder.
    extent : float or tuple
        Half-width of a square image, or ``(xmin, xmax, ymin, ymax)``.
    options : PlotOptions, optional
        Label, energy and formats.
    stem, xlabel, ylabel, colorbar : str
        File stem and axis texts.

    Returns
    -------
    list[Path]
        The written files.
    """
    written: list[Path] = []
    for k, name in names_of.items():
        selected = images[np.asarray(labels) == k]
        if not len(selected):
            continue
        mean = selected.mean(axis=0)
        positive = mean[mean > 0]
        norm = (LogNorm(vmin=max(positive.min(), positive.max() * 1e-5), vmax=positive.max())
                if positive.size else None)  # fmt: skip
        fig, (ax,) = new_figure()
        shown = ax.imshow(np.where(mean > 0, mean, np.nan).T, origin="lower", norm=norm,
                          cmap="viridis", extent=_extent(extent), aspect="equal")  # fmt: skip
        fig.colorbar(shown, ax=ax, label=colorbar, fraction=0.046, pad=0.04)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.text(0.04, 0.96, f"{name} ({len(selected):,} images)", transform=ax.transAxes,
                va="top", fontsize="small", bbox={"facecolor": "white", "edgecolor": "none",
                                                  "alpha": 0.8})  # fmt: skip
        label(ax, options)
        written += save(fig, Path(out_dir) / f"{stem}_label{k}", options or PlotOptions())
    return written


def plot_difference_image(
    images: np.ndarray,
    labels: np.ndarray,
    signal: int,
    background: int,
    names_of: Mapping[int, str],
    path: str | Path,
    extent: float | tuple[float, float, float, float] = 1.25,
    options: PlotOptions | None = None,
    xlabel: str = ETA_LABEL,
    ylabel: str = PHI_LABEL,
) -> list[Path]:
    """Mean signal image minus mean background image, each normalised to unit total intensity.

    Red pixels hold more of the signal's intensity, blue more of the background's, on a
    diverging colour scale centred at zero.

    Parameters
    ----------
    images, labels : np.ndarray
        As in :func:`plot_mean_images`.
    signal, background : int
        Labels of the two classes.
    names_of : Mapping[int, str]
        Label -> name.
    path : str or Path
        Output path without extension.
    extent : float or tuple
        Image extent.
    options : PlotOptions, optional
        Label, energy and formats.
    xlabel, ylabel : str
        Axis texts.

    Returns
    -------
    list[Path]
        The written files.
    """
    labels = np.asarray(labels)
    means = {}
    for k in (signal, background):
        selected = images[labels == k]
        if not len(selected):
            raise ValueError(f"no images with label {k}: the difference image needs both classes")
        mean = selected.mean(axis=0)
        means[k] = mean / mean.sum() if mean.sum() > 0 else mean
    difference = means[signal] - means[background]
    fig, (ax,) = new_figure()
    shown = ax.imshow(difference.T, origin="lower", cmap="RdBu_r", norm=CenteredNorm(),
                      extent=_extent(extent), aspect="equal")  # fmt: skip
    fig.colorbar(shown, ax=ax, label="Difference of normalised mean intensity", fraction=0.046,
                 pad=0.04)  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.text(0.04, 0.96, f"{names_of.get(signal, signal)} $-$ {names_of.get(background, background)}",
            transform=ax.transAxes, va="top", fontsize="small")  # fmt: skip
    label(ax, options)
    return save(fig, path, options or PlotOptions())
