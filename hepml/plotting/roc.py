"""Classifier plots: background rejection vs signal efficiency with bands, score distributions.

A ROC curve is ``(sig_eff, bkg_eff)`` as :func:`hepml.metrics.roc_curve` returns it, optionally
with a third entry, the effective number of background events before the cut
(:func:`hepml.metrics.uncertainty.effective_entries`). With it the curve gets a Clopper-Pearson
band and stops where fewer than ``options.min_background`` background events pass the cut; the
ratio panel propagates both curves' errors and marks where the reference's statistics end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from hepml.metrics.roc import interpolate_rejection
from hepml.metrics.uncertainty import ratio_interval, rejection_interval
from hepml.plotting.hists import draw_histogram, fill_histogram
from hepml.plotting.options import PlotOptions
from hepml.plotting.style import label, log_axis, new_figure, save

log = logging.getLogger(__name__)

__all__ = ["plot_roc", "plot_scores", "rejection_with_band"]

Curve = tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, float]


def rejection_with_band(
    curve: Curve, grid: np.ndarray, min_background: float
) -> dict[str, np.ndarray]:
    """Rejection on ``grid`` with its one-sigma interval, NaN where the statistics end.

    Returns
    -------
    dict[str, np.ndarray]
        ``rejection``, ``lower``, ``upper`` and ``n_pass`` (effective background events passing;
        NaN without a background count), each shaped like ``grid``.
    """
    sig, bkg = np.asarray(curve[0]), np.asarray(curve[1])
    rejection = np.asarray(interpolate_rejection(sig, bkg, grid), dtype=np.float64)
    if len(curve) < 3 or curve[2] is None:
        nan = np.full_like(rejection, np.nan)
        return {"rejection": np.where(np.isfinite(rejection), rejection, np.nan), "lower": nan,
                "upper": nan, "n_pass": nan}  # fmt: skip
    n_bkg = float(curve[2])
    with np.errstate(divide="ignore"):
        bkg_eff = np.where(np.isfinite(rejection), 1.0 / rejection, 0.0)
    n_pass = bkg_eff * n_bkg
    lower, upper = rejection_interval(bkg_eff, n_bkg)
    enough = n_pass >= min_background
    return {key: np.where(enough, value, np.nan) for key, value in
            {"rejection": rejection, "lower": lower, "upper": upper, "n_pass": n_pass}.items()}


def plot_roc(
    curves: Mapping[str, Curve],
    path: str | Path,
    reference: str | None = None,
    sig_eff_min: float = 0.1,
    options: PlotOptions | None = None,
) -> list[Path]:
    """Background rejection (log scale) vs signal efficiency, with bands and a ratio panel.

    Parameters
    ----------
    curves : Mapping[str, tuple]
        Legend name -> ``(sig_eff, bkg_eff)`` or ``(sig_eff, bkg_eff, n_background)``.
    path : str or Path
        Output path without extension.
    reference : str, optional
        Name of the curve the others are divided by in a lower panel; no ratio panel if omitted.
    sig_eff_min : float
        Lower edge of the signal-efficiency axis.
    options : PlotOptions, optional
        Label, energy, ``min_background`` and formats.

    Returns
    -------
    list[Path]
        The written files.
    """
    options = options or PlotOptions()
    if not curves:
        raise ValueError("plot_roc needs at least one curve")
    if reference is not None and reference not in curves:
        raise ValueError(f"Reference curve {reference!r} not found; choose from {list(curves)}")
    grid = np.linspace(sig_eff_min, 1.0, 300)
    bands = {name: rejection_with_band(c, grid, options.min_background) for name, c in curves.items()}
    if reference is None:
        fig, (ax,) = new_figure()
    else:
        fig, (ax, ax_ratio) = new_figure(2, height_ratios=(3, 1))
    colours = {}
    palette = plt.rcParams["axes.prop_cycle"].by_key().get("color", [])
    if len(bands) > len(palette):  # more curves than the style's colours: ten distinct ones, then dashes
        palette = [matplotlib.colormaps["tab10"](i) for i in range(10)]
    for i, (name, band) in enumerate(bands.items()):
        (line,) = ax.plot(grid, band["rejection"], label=name, color=palette[i % len(palette)],
                          linestyle=("-", "--", "-.", ":")[(i // len(palette)) % 4])
        colours[name] = line.get_color()
        ax.fill_between(grid, band["lower"], band["upper"], color=line.get_color(), alpha=0.25,
                        linewidth=0)  # fmt: skip
    with_band = any(np.isfinite(b["lower"]).any() for b in bands.values())
    log_axis([ax], "y")
    ax.set_ylabel("Background rejection")
    ax.set_xlim(sig_eff_min, 1.0)
    title = (f"Bands: 68% CL; curves stop below {options.min_background} bkg. events"
             if with_band else None)  # fmt: skip
    many = len(bands) > 5
    ax.legend(title=title, title_fontsize="x-small", fontsize="x-small" if many else "small", ncol=2 if many else 1)
    low, high = ax.get_ylim()
    ax.set_ylim(max(low, 0.8), high * (high / max(low, 0.8)) ** (0.6 if many else 0.35))
    label(ax, options)
    if reference is None:
        ax.set_xlabel("Signal efficiency")
        return save(fig, path, options)
    ref = bands[reference]
    ref_interval = (ref["lower"], ref["upper"])
    for name, band in bands.items():
        ratio = band["rejection"] / ref["rejection"]
        ax_ratio.plot(grid, ratio, color=colours[name])
        if name != reference:
            lo, hi = ratio_interval(band["rejection"], (band["lower"], band["upper"]),
                                    ref["rejection"], ref_interval)  # fmt: skip
            ax_ratio.fill_between(grid, lo, hi, color=colours[name], alpha=0.25, linewidth=0)
    missing = ~np.isfinite(ref["rejection"])  # low efficiencies: too few background events
    if with_band and missing[0]:
        stop = grid[-1] if missing.all() else grid[np.argmin(missing)]
        ax_ratio.axvspan(sig_eff_min, stop, color="grey", alpha=0.15, linewidth=0)
        ax_ratio.text((sig_eff_min + stop) / 2, 0.5, f"< {options.min_background} bkg.",
                      transform=ax_ratio.get_xaxis_transform(), ha="center", va="center",
                      fontsize="xx-small", rotation=90)  # fmt: skip
    ax_ratio.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax_ratio.set_ylabel(f"Ratio to\n{reference}", fontsize="small")
    ax_ratio.set_xlabel("Signal efficiency")
    with np.errstate(divide="ignore", invalid="ignore"):
        central = np.concatenate([b["rejection"] / ref["rejection"] for b in bands.values()])
    central = central[np.isfinite(central)]
    if central.size:
        lo, hi = float(central.min()), float(central.max())
        pad = 0.25 * max(hi - lo, 0.1)  # room for the bands, which are cut at the panel's edge
        ax_ratio.set_ylim(max(lo - pad, 0.0), hi + pad)
    return save(fig, path, options)


def score_edges(scores: np.ndarray, bins: int = 40) -> np.ndarray:
    """``bins`` equal bins on [0, 1] for probabilities, else over the range of the scores."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0 or (scores.min() >= 0.0 and scores.max() <= 1.0):
        return np.linspace(0.0, 1.0, bins + 1)
    return np.histogram_bin_edges(scores[np.isfinite(scores)], bins=bins)


def plot_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None,
    path: str | Path,
    class_names: Sequence[str] = ("background", "signal"),
    bins: int = 40,
    options: PlotOptions | None = None,
    xlabel: str = "Classifier score",
) -> list[Path]:
    """Normalised score histograms with ``sqrt(sum w^2)`` errors per class, linear and log views.

    Writes ``<path>`` (linear y axis) and ``<path>_log`` (logarithmic); probabilities are
    binned on [0, 1].

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
        Number of equal bins.
    options : PlotOptions, optional
        Label, energy and formats.
    xlabel : str
        Label of the x axis.

    Returns
    -------
    list[Path]
        The written files.
    """
    options = options or PlotOptions()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    edges = score_edges(scores, bins)
    written: list[Path] = []
    for log_y in (False, True):
        fig, (ax,) = new_figure()
        for index, name in enumerate(class_names):
            selected = labels == index
            if not np.any(selected):
                log.warning("no events of class %s (label %d) to plot", name, index)
                continue
            w = None if weights is None else np.asarray(weights).ravel()[selected]
            draw_histogram(ax, fill_histogram(scores[selected], edges, w), name, density=True)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Normalised entries")
        ax.set_xlim(edges[0], edges[-1])
        low, high = ax.get_ylim()
        if log_y:
            ax.set_yscale("log")
            low, high = ax.get_ylim()
            ax.set_ylim(low, high * (high / low) ** 0.3)  # headroom for the legend on a log axis
        else:
            ax.set_ylim(0, high * 1.3)
        ax.legend(loc="upper center")
        label(ax, options)
        stem = Path(path)
        written += save(fig, stem.with_name(stem.name + "_log") if log_y else stem, options)
    return written
