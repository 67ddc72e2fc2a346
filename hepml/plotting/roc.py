"""Classifier plots: background rejection vs signal efficiency, and score distributions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hepml.metrics.roc import interpolate_rejection
from hepml.plotting.style import label, new_figure, save

log = logging.getLogger(__name__)

__all__ = ["plot_roc", "plot_scores"]


def plot_roc(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    reference: str | None = None,
    sig_eff_min: float = 0.1,
) -> list[Path]:
    """Background rejection (log scale) vs signal efficiency, with a ratio panel to a reference.

    Parameters
    ----------
    curves : Mapping[str, tuple[np.ndarray, np.ndarray]]
        Legend name -> ``(sig_eff, bkg_eff)`` as returned by :func:`hepml.metrics.roc_curve`.
    path : str or Path
        Output path without extension.
    reference : str, optional
        Name of the curve the others are divided by in a lower panel; no ratio panel if omitted.
    sig_eff_min : float
        Lower edge of the signal-efficiency axis (rejection at very low efficiency is noisy).

    Returns
    -------
    list[Path]
        The written files.
    """
    if not curves:
        raise ValueError("plot_roc needs at least one curve")
    if reference is not None and reference not in curves:
        raise ValueError(f"Reference curve {reference!r} not found; choose from {list(curves)}")
    grid = np.linspace(sig_eff_min, 1.0, 200)
    rejections = {
        name: interpolate_rejection(sig, bkg, grid) for name, (sig, bkg) in curves.items()
    }
    if reference is None:
        fig, (ax,) = new_figure()
    else:
        fig, (ax, ax_ratio) = new_figure(2, height_ratios=(3, 1))
    for name, rejection in rejections.items():
        finite = np.isfinite(rejection)
        ax.plot(grid[finite], rejection[finite], label=name)
    ax.set_yscale("log")
    ax.set_ylabel("Background rejection")
    ax.set_xlim(sig_eff_min, 1.0)
    ax.legend()
    label(ax)
    if reference is None:
        ax.set_xlabel("Signal efficiency")
    else:
        ref = rejections[reference]
        for rejection in rejections.values():  # same order, so same colours as the top panel
            ok = np.isfinite(rejection) & np.isfinite(ref)
            ax_ratio.plot(grid[ok], rejection[ok] / ref[ok])
        ax_ratio.axhline(1.0, color="grey", linestyle="--", linewidth=1)
        ax_ratio.set_ylabel(f"Ratio to\n{reference}")
        ax_ratio.set_xlabel("Signal efficiency")
    return save(fig, path)


def plot_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None,
    path: str | Path,
    class_names: Sequence[str] = ("background", "signal"),
    bins: int = 50,
) -> list[Path]:
    """Normalised (weighted) histograms of the classifier score, one per true class.

    Parameters
    ----------
    scores : np.ndarray
        Classifier output, shape ``[N]``.
    labels : np.ndarray
        Integer class per event, shape ``[N]``; class ``i`` is drawn as ``class_names[i]``.
    weights : np.ndarray or None
        Per-event weights, or None for unit weights.
    path : str or Path
        Output path without extension.
    class_names : sequence of str
        Legend names indexed by label.
    bins : int
        Number of equal bins spanning the score range.

    Returns
    -------
    list[Path]
        The written files.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    weights = np.ones_like(scores) if weights is None else np.asarray(weights).ravel()
    edges = np.histogram_bin_edges(scores, bins=bins)
    fig, (ax,) = new_figure()
    for index, name in enumerate(class_names):
        selected = labels == index
        if not np.any(selected):
            log.warning("no events of class %s (label %d) to plot", name, index)
            continue
        ax.hist(
            scores[selected],
            bins=edges,
            weights=weights[selected],
            density=True,
            histtype="step",
            linewidth=1.5,
            label=name,
        )
    ax.set_xlabel("Classifier score")
    ax.set_ylabel("Normalised entries")
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * (high / low) ** 0.3)  # headroom for the legend on the log axis
    ax.legend()
    label(ax)
    return save(fig, path)
