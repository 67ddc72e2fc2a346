"""Signal efficiency and background rejection against an observer at a fixed working point.

The cut on the score is the one that keeps ``working_point`` of the (weighted) signal in the
whole sample; each bin of the observer then shows the signal efficiency and the background
rejection of that cut with Clopper-Pearson intervals (as puma's ``VarVsEff``). Rejections of
bins where fewer than ``options.min_background`` background events pass are not drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hepml.metrics.resolution import weighted_quantile
from hepml.metrics.uncertainty import effective_entries, efficiency_interval, rejection_interval
from hepml.plotting.binning import Binning, bin_index, category_positions, observer_binning
from hepml.plotting.options import PlotOptions
from hepml.plotting.style import label, log_axis, new_figure, save

__all__ = ["binned_efficiency", "plot_efficiency_vs", "working_point_cut"]


def working_point_cut(
    scores: np.ndarray, is_signal: np.ndarray, efficiency: float, weights: np.ndarray | None = None
) -> float:
    """Score cut (``score >= cut`` passes) keeping the fraction ``efficiency`` of the signal."""
    sig = np.asarray(is_signal).astype(bool)
    if not np.any(sig):
        raise ValueError("working_point_cut needs signal events (is_signal true for some)")
    w = None if weights is None else np.asarray(weights, np.float64)[sig]
    return float(weighted_quantile(np.asarray(scores, np.float64)[sig], 1.0 - efficiency, w))


def binned_efficiency(
    passed: np.ndarray, x: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Efficiency of ``passed`` in bins of ``x`` with its one-sigma interval and event counts.

    Returns
    -------
    dict[str, np.ndarray]
        ``efficiency``, ``lower``, ``upper``, ``n_eff`` (effective events) and ``n_pass``
        (effective passing events), each ``[B]``; NaN efficiency in empty bins.
    """
    passed = np.asarray(passed).astype(bool).ravel()
    w = np.ones(passed.size) if weights is None else np.asarray(weights, np.float64).ravel()
    index = bin_index(x, edges)
    n_bins = edges.size - 1
    out = {key: np.full(n_bins, np.nan) for key in ("efficiency", "n_eff", "n_pass")}
    for i in range(n_bins):
        sel = index == i
        total = w[sel].sum()
        if total <= 0:
            continue
        out["efficiency"][i] = w[sel & passed].sum() / total
        out["n_eff"][i] = effective_entries(w[sel])
        out["n_pass"][i] = out["efficiency"][i] * out["n_eff"][i]
    with np.errstate(invalid="ignore"):
        out["lower"], out["upper"] = efficiency_interval(np.nan_to_num(out["efficiency"]),
                                                         np.nan_to_num(out["n_eff"]))  # fmt: skip
    return out


def plot_efficiency_vs(
    x: np.ndarray,
    scores: Mapping[str, np.ndarray],
    is_signal: np.ndarray,
    path: str | Path,
    xlabel: str,
    weights: np.ndarray | None = None,
    options: PlotOptions | None = None,
    binning: Binning | None = None,
    category_names: Sequence[str] | None = None,
) -> list[Path]:
    """Signal efficiency (top) and background rejection (bottom) in bins of ``x``, per classifier.

    Parameters
    ----------
    x : np.ndarray
        Observer per event, shape ``[N]``.
    scores : Mapping[str, np.ndarray]
        Classifier name -> score per event.
    is_signal : np.ndarray
        1 for signal, 0 for background.
    path : str or Path
        Output path without extension.
    xlabel : str
        Label of the x axis.
    weights : np.ndarray, optional
        Per-event weights.
    options : PlotOptions, optional
        ``working_point``, ``min_background``, ``n_bins``, label, energy and formats.
    binning : Binning, optional
        Bins of ``x``; by default :func:`~hepml.plotting.binning.observer_binning`.
    category_names : sequence of str, optional
        Tick labels of a categorical binning.

    Returns
    -------
    list[Path]
        The written files.
    """
    options = options or PlotOptions()
    x = np.asarray(x, dtype=np.float64).ravel()
    sig = np.asarray(is_signal).astype(bool).ravel()
    binning = binning or observer_binning(x, options.n_bins, weights)
    edges = binning.edges
    w = None if weights is None else np.asarray(weights, np.float64).ravel()
    positions = (None if binning.categories is None
                 else category_positions(binning, x, options.min_entries))  # fmt: skip
    fig, (ax_eff, ax_rej) = new_figure(2, height_ratios=(1, 1))
    n = len(scores)
    for k, (name, score) in enumerate(scores.items()):
        score = np.asarray(score, dtype=np.float64).ravel()
        passed = score >= working_point_cut(score, sig, options.working_point, w)
        s = binned_efficiency(passed[sig], x[sig], edges, None if w is None else w[sig])
        b = binned_efficiency(passed[~sig], x[~sig], edges, None if w is None else w[~sig])
        if positions is not None:
            centres = positions + (k - (n - 1) / 2) * 0.4 / max(n, 1)
            xerr = None
        else:
            centres = (edges[1:] + edges[:-1]) / 2
            xerr = np.diff(edges) / 2
        ok = np.isfinite(s["efficiency"]) & np.isfinite(centres)
        bars = ax_eff.errorbar(
            centres[ok], s["efficiency"][ok], xerr=None if xerr is None else xerr[ok],
            yerr=[s["efficiency"][ok] - s["lower"][ok], s["upper"][ok] - s["efficiency"][ok]],
            fmt="o", markersize=5, label=name,
        )  # fmt: skip
        with np.errstate(divide="ignore"):
            rejection = np.where(b["efficiency"] > 0, 1.0 / b["efficiency"], np.inf)
        lower, upper = rejection_interval(np.nan_to_num(b["efficiency"]), np.nan_to_num(b["n_eff"]))
        ok = np.isfinite(rejection) & (b["n_pass"] >= options.min_background) & np.isfinite(centres)
        ax_rej.errorbar(
            centres[ok], rejection[ok], xerr=None if xerr is None else xerr[ok],
            yerr=[rejection[ok] - lower[ok], upper[ok] - rejection[ok]], fmt="o", markersize=5,
            color=bars[0].get_color(),
        )  # fmt: skip
    ax_eff.axhline(options.working_point, color="grey", linestyle="--", linewidth=1)
    ax_eff.set_ylabel("Signal efficiency")
    low, high = ax_eff.get_ylim()
    ax_eff.set_ylim(max(0.0, low), high + 0.4 * (high - low))
    ax_eff.legend(title=f"Cut at {options.working_point:.0%} inclusive signal efficiency",
                  title_fontsize="x-small", fontsize="small", loc="upper center")  # fmt: skip
    ax_rej.set_ylabel("Bkg. rejection")
    low, high = ax_rej.get_ylim()
    if low > 0 and high / low > 10:
        log_axis([ax_rej], "y")
    ax_rej.set_xlabel(xlabel)
    if positions is not None:
        names = category_names or [f"{v:g}" for v in binning.categories]
        kept = np.isfinite(positions)
        ax_rej.set_xticks(positions[kept], [n for n, k in zip(names, kept, strict=True) if k])
        ax_rej.set_xlim(-0.5, max(kept.sum() - 0.5, 0.5))
        ax_rej.minorticks_off()
    else:
        ax_rej.set_xlim(edges[0], edges[-1])
        if binning.log:
            log_axis([ax_eff, ax_rej])
    label(ax_eff, options)
    return save(fig, path, options)
