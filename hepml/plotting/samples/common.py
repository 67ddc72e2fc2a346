"""Shared pieces of the sample validation plots: legend names of labels, per-class histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hepml.plotting.hists import per_class_histograms
from hepml.plotting.labels import display_name
from hepml.plotting.options import PlotOptions
from hepml.plotting.style import label, new_figure, save

__all__ = ["jet_mass_and_pt", "label_names", "per_class_figure", "process_names"]


def _names(codes: np.ndarray, mapping: Mapping[str, Any] | None, prefix: str) -> dict[int, str]:
    names = {int(k): f"{prefix} {k}" for k in np.unique(codes)}
    for k in names:
        found = [display_name(n) for n, code in (mapping or {}).items() if int(code) == k]
        if found:
            names[k] = ", ".join(found)
    return names


def label_names(labels: np.ndarray, provenance: Mapping[str, Any]) -> dict[int, str]:
    """Legend name of each ``label`` value: its processes (``provenance["labels"]``), else
    ``"label N"``."""
    return _names(labels, provenance.get("labels"), "label")


def process_names(process: np.ndarray, provenance: Mapping[str, Any]) -> dict[int, str]:
    """Legend name of each ``process`` code (``provenance["process_codes"]``), else
    ``"process N"``."""
    return _names(process, provenance.get("process_codes"), "process")


def per_class_figure(
    values: np.ndarray,
    classes: np.ndarray,
    names: Mapping[int, str],
    edges: np.ndarray,
    xlabel: str,
    path: str | Path,
    options: PlotOptions,
    ylabel: str = "Normalised entries",
    categories: Sequence[str] | None = None,
    legend_median: bool = True,
) -> list[Path]:
    """One figure of normalised per-class histograms with ``sqrt(sum w^2)`` errors; the tails
    are folded into the first and last bins. With ``categories`` (names of the values 0, 1, ...)
    the x axis is labelled with them."""
    fig, (ax,) = new_figure()
    per_class_histograms(ax, values, classes, dict(names), edges, clip=True,
                         legend_median=legend_median and categories is None)  # fmt: skip
    if categories:
        ax.set_xticks(np.arange(len(categories)), categories)
        ax.minorticks_off()
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.35)
    ax.legend(fontsize="small")
    label(ax, options)
    return save(fig, path, options)


def jet_mass_and_pt(
    columns: Mapping[str, np.ndarray],
    names: Mapping[int, str],
    mass_edges: np.ndarray,
    out_dir: str | Path,
    options: PlotOptions,
) -> list[Path]:
    """``jet_mass`` (``mass_edges``) and ``jet_pt`` (25 bins over the sample) per label."""
    out_dir = Path(out_dir)
    written = per_class_figure(columns["jet_m"], columns["label"], names, mass_edges,
                               r"$m^{\mathrm{jet}}$ [GeV]", out_dir / "jet_mass", options,
                               "Normalised jets")  # fmt: skip
    pt = np.asarray(columns["jet_pt"], dtype=np.float64)
    pt_edges = np.linspace(*np.quantile(pt, [0.0, 1.0]), 26) if pt.size else np.linspace(0, 1, 26)
    written += per_class_figure(pt, columns["label"], names, pt_edges,
                                r"$p_T^{\mathrm{jet}}$ [GeV]", out_dir / "jet_pt", options,
                                "Normalised jets")  # fmt: skip
    return written
