"""Tau sample: true and jet pT, visible and jet response, decay modes, per process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.uncertainty import clopper_pearson
from hepml.plotting.hists import draw_histogram, fill_histogram
from hepml.plotting.labels import decay_mode_name
from hepml.plotting.options import PlotOptions
from hepml.plotting.samples.common import process_names
from hepml.plotting.style import label, new_figure, save

COLUMNS = ("tau_pt", "vis_pt", "jet_pt", "decay_mode", "process")


def draw(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any], out_dir: Path,
         options: PlotOptions) -> list[Path]:
    """Write ``tau_pt``, ``response`` and ``decay_modes``."""
    c = {k: np.asarray(columns[k]) for k in COLUMNS}
    names = process_names(c["process"], provenance)
    procs = [(name, c["process"] == code) for code, name in names.items()]
    written: list[Path] = []

    fig, (ax,) = new_figure()
    edges = np.linspace(0, 200, 41)
    for name, sel in procs:
        (line,) = draw_histogram(ax, fill_histogram(c["tau_pt"][sel], edges, clip=True),
                                 f"{name}: $p_T^{{\\tau}}$", density=True)  # fmt: skip
        draw_histogram(ax, fill_histogram(c["jet_pt"][sel], edges, clip=True),
                       f"{name}: $p_T^{{\\mathrm{{jet}}}}$", density=True, linestyle="--",
                       color=line.stairs.get_edgecolor())  # fmt: skip
    ax.set_xlabel(r"$p_T$ [GeV]")
    ax.set_ylabel("Normalised taus")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.legend(fontsize="small")
    label(ax, options)
    written += save(fig, out_dir / "tau_pt", options)

    fig, (ax,) = new_figure()
    edges = np.linspace(0, 1.5, 61)
    for name, sel in procs:
        colour = None
        for column, style, text in (("vis_pt", "-", "visible"), ("jet_pt", "--", "jet")):
            r = c[column][sel] / c["tau_pt"][sel]
            (artist,) = draw_histogram(
                ax, fill_histogram(r, edges, clip=True),
                f"{name}, {text} (median {np.median(r):.3f})", density=True, linestyle=style,
                **({"color": colour} if colour else {}),
            )  # fmt: skip
            colour = artist.stairs.get_edgecolor()
    ax.set_xlabel(r"$p_T^{\mathrm{vis}}\,/\,p_T^{\tau}$ and $p_T^{\mathrm{jet}}\,/\,p_T^{\tau}$")
    ax.set_ylabel("Normalised taus")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] * 1.5)
    ax.legend(fontsize="x-small", loc="upper left")
    label(ax, options)
    written += save(fig, out_dir / "response", options)

    fig, (ax,) = new_figure()
    modes, counts = np.unique(c["decay_mode"], return_counts=True)
    common = modes[counts >= 0.01 * counts.sum()]  # the rest (< 1 % each) is shown as "other"
    mode = np.where(np.isin(c["decay_mode"], common), c["decay_mode"], -1)
    shown = [*common, -1] if (mode == -1).any() else list(common)
    width = 0.8 / max(len(procs), 1)
    for i, (name, sel) in enumerate(procs):
        n = max(int(sel.sum()), 1)
        k = np.array([(mode[sel] == m).sum() for m in shown])
        lo, hi = clopper_pearson(k, n)
        x = np.arange(len(shown)) + (i - (len(procs) - 1) / 2) * width
        frac = k / n
        ax.bar(x, frac, width, yerr=[frac - lo, hi - frac], label=name, alpha=0.8,
               error_kw={"elinewidth": 1})  # fmt: skip
    ax.set_xticks(np.arange(len(shown)), [decay_mode_name(m) for m in shown], fontsize="small")
    ax.minorticks_off()
    ax.set_xlabel("Decay mode (prongs p, neutral pions n)")
    ax.set_ylabel("Fraction of taus")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
    ax.legend()
    label(ax, options)
    written += save(fig, out_dir / "decay_modes", options)
    return written
