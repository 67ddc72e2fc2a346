"""Flavour-tagging plots of a b / c / light classifier, from the predictions file.

The discriminant is ``D_b = ln(p_b / (f_c p_c + (1 - f_c) p_light))``
(:func:`hepml.metrics.multiclass.b_discriminant`), with ``f_c`` from the experiment's ``flavour``
block (``configs/experiment/flavour_tagging.yaml``, carried in ``info["flavour"]``):

* ``flavour_rejection``: b-jet efficiency vs light-jet rejection (top) and vs c-jet rejection
  (bottom), each from a cut on ``D_b``, with 68% CL bands;
* ``flavour_discriminant``: the ``D_b`` distribution of each flavour;
* ``flavour_eff_vs_<pt>``: at the working point (the ``D_b`` cut keeping ``working_point`` of the b
  jets), the b efficiency and the c and light rejections in bins of the jet pT observer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.multiclass import b_discriminant
from hepml.metrics.roc import roc_curve
from hepml.metrics.uncertainty import effective_entries, rejection_interval
from hepml.plotting.binning import observer_binning
from hepml.plotting.efficiency import binned_efficiency, working_point_cut
from hepml.plotting.hists import draw_histogram, fill_histogram
from hepml.plotting.labels import axis_label, display_name
from hepml.plotting.options import PlotOptions
from hepml.plotting.roc import rejection_with_band
from hepml.plotting.style import label, log_axis, new_figure, save

__all__ = ["flavour_classes", "plot_flavour"]

DEFAULTS = {"f_c": 0.05, "working_point": 0.7, "b": "b", "c": "c", "light": "light", "pt": "jet_pt"}


def flavour_classes(spec: Mapping[str, Any], class_names: list[str]) -> tuple[int, int, int]:
    """Class indices of the b, c and light flavours named in ``spec`` (``b``, ``c``, ``light``)."""
    out = []
    for key in ("b", "c", "light"):
        name = str(spec.get(key, DEFAULTS[key]))
        if name not in class_names:
            raise ValueError(f"flavour.{key}={name!r} is not one of the classes {class_names} "
                             "(set flavour.b / flavour.c / flavour.light to the class names)")
        out.append(class_names.index(name))
    return out[0], out[1], out[2]


def _curve(score: np.ndarray, is_sig: np.ndarray, keep: np.ndarray, w: np.ndarray | None):
    sig_eff, bkg_eff, _ = roc_curve(score[keep], is_sig[keep], None if w is None else w[keep])
    bkg = keep & ~is_sig
    return sig_eff, bkg_eff, effective_entries(None if w is None else w[bkg], n=int(bkg.sum()))


def plot_rejections(d_b: np.ndarray, labels: np.ndarray, classes: tuple[int, int, int], path: Path,
                    weights: np.ndarray | None, options: PlotOptions, name: str, f_c: float) -> list[Path]:
    """b-jet efficiency vs light rejection (top panel) and vs c rejection (bottom panel)."""
    b, c, light = classes
    is_b = labels == b
    grid = np.linspace(0.3, 1.0, 300)
    fig, axes = new_figure(2, height_ratios=(1, 1))
    for ax, other, text in ((axes[0], light, "Light-jet"), (axes[1], c, "c-jet")):
        keep = is_b | (labels == other)
        if not (is_b.any() and (labels == other).any()):
            continue
        band = rejection_with_band(_curve(d_b, is_b, keep, weights), grid, options.min_background)
        (line,) = ax.plot(grid, band["rejection"], label=f"{name}, $f_c$ = {f_c:g}")
        ax.fill_between(grid, band["lower"], band["upper"], color=line.get_color(), alpha=0.25, linewidth=0)
        ax.set_ylabel(f"{text} rejection")
        if np.isfinite(band["rejection"]).any():
            log_axis([ax], "y")
    axes[0].legend(fontsize="small", title="Bands: 68% CL", title_fontsize="x-small")
    axes[1].set_xlabel("b-jet efficiency")
    axes[1].set_xlim(grid[0], 1.0)
    label(axes[0], options)
    return save(fig, path, options)


def plot_discriminant(d_b: np.ndarray, labels: np.ndarray, class_names: list[str],
                      classes: tuple[int, int, int], path: Path, weights: np.ndarray | None,
                      options: PlotOptions, f_c: float) -> list[Path]:
    """Normalised ``D_b`` distributions of the b, c and light jets (log scale)."""
    finite = d_b[np.isfinite(d_b)]
    lo, hi = np.quantile(finite, [0.002, 0.998]) if finite.size else (-1.0, 1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 41)
    fig, (ax,) = new_figure()
    for k in classes:
        sel = labels == k
        if sel.any():
            h = fill_histogram(d_b[sel], edges, None if weights is None else weights[sel], clip=True)
            draw_histogram(ax, h, display_name(class_names[k]), density=True)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * (high / low) ** 0.3)
    ax.set_xlabel(f"$D_b = \\ln(p_b / (f_c p_c + (1 - f_c) p_{{light}}))$, $f_c$ = {f_c:g}")
    ax.set_ylabel("Normalised entries")
    ax.legend(loc="upper center")
    label(ax, options)
    return save(fig, path, options)


def plot_eff_vs_pt(d_b: np.ndarray, labels: np.ndarray, pt: np.ndarray, class_names: list[str],
                   classes: tuple[int, int, int], path: Path, weights: np.ndarray | None,
                   options: PlotOptions, working_point: float, xlabel: str) -> list[Path]:
    """At the inclusive b efficiency ``working_point``: b efficiency (top) and c and light
    rejection (bottom) in bins of ``pt``."""
    b, c, light = classes
    is_b = labels == b
    cut = working_point_cut(d_b, is_b, working_point, weights)
    passed = d_b >= cut
    edges = observer_binning(pt, options.n_bins, weights).edges
    centres, half = (edges[1:] + edges[:-1]) / 2, np.diff(edges) / 2
    fig, (ax_eff, ax_rej) = new_figure(2, height_ratios=(1, 1))
    for k in (b, c, light):
        sel = labels == k
        if not sel.any():
            continue
        e = binned_efficiency(passed[sel], pt[sel], edges, None if weights is None else weights[sel])
        name = display_name(class_names[k])
        if k == b:
            ok = np.isfinite(e["efficiency"])
            ax_eff.errorbar(centres[ok], e["efficiency"][ok], xerr=half[ok], fmt="o", markersize=5,
                            yerr=[e["efficiency"][ok] - e["lower"][ok], e["upper"][ok] - e["efficiency"][ok]],
                            label=name)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rejection = 1.0 / e["efficiency"]
        lower, upper = rejection_interval(np.nan_to_num(e["efficiency"]), np.nan_to_num(e["n_eff"]))
        ok = np.isfinite(rejection) & (e["n_pass"] >= options.min_background)
        if not ok.any():
            name += f" (< {options.min_background} pass in every bin)"
        ax_rej.errorbar(centres[ok], rejection[ok], xerr=half[ok], fmt="o", markersize=5,
                        yerr=[rejection[ok] - lower[ok], upper[ok] - rejection[ok]], label=name)
    ax_eff.axhline(working_point, color="grey", linestyle="--", linewidth=1)
    ax_eff.set_ylabel("b-jet efficiency")
    low, high = ax_eff.get_ylim()
    ax_eff.set_ylim(max(0.0, low), high + 0.4 * (high - low))
    ax_eff.legend(title=f"$D_b$ cut at {working_point:.0%} inclusive b-jet efficiency",
                  title_fontsize="x-small", fontsize="small", loc="upper center")
    ax_rej.set_ylabel("Rejection")
    ax_rej.legend(fontsize="small", title=f"Points with >= {options.min_background} passing jets",
                  title_fontsize="x-small")
    low, high = ax_rej.get_ylim()
    if low > 0 and high / low > 10:
        log_axis([ax_rej], "y")
    elif low <= 0:
        ax_rej.set_ylim(1.0, max(high, 10.0))
    ax_rej.set_xlabel(xlabel)
    label(ax_eff, options)
    return save(fig, path, options)


def plot_flavour(columns: dict[str, np.ndarray], info: dict[str, Any], out: Path,
                 options: PlotOptions) -> list[Path]:
    """Every flavour-tagging figure of a b / c / light predictions file (module docstring)."""
    spec = {**DEFAULTS, **(info.get("flavour") or {})}
    names = list(info.get("class_names") or [])
    classes = flavour_classes(spec, names)
    f_c, wp = float(spec["f_c"]), float(spec["working_point"])
    labels = np.asarray(columns["label"]).ravel()
    w = columns.get("weight")
    w = None if w is None else np.asarray(w, dtype=np.float64).ravel()
    d_b = b_discriminant(np.asarray(columns["probabilities"]), *classes, f_c=f_c)
    model = info.get("model_name", "tagger")
    files = plot_rejections(d_b, labels, classes, out / "flavour_rejection", w, options, model, f_c)
    files += plot_discriminant(d_b, labels, names, classes, out / "flavour_discriminant", w, options, f_c)
    pt_name = str(spec["pt"])
    pt = columns.get(pt_name, columns.get(f"obs_{pt_name}"))
    if pt is not None and (labels == classes[0]).any():
        files += plot_eff_vs_pt(d_b, labels, np.asarray(pt, dtype=np.float64), names, classes,
                                out / f"flavour_eff_vs_{pt_name}", w, options, wp,
                                axis_label(pt_name, info.get("labels") or {}))
    return files
