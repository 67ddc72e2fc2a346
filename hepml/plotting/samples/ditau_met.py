"""Di-tau MET sample: MET resolution per definition, the di-tau masses per process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.resolution import central_interval_halfwidth
from hepml.plotting.hists import draw_histogram, fill_histogram
from hepml.plotting.labels import variable_label
from hepml.plotting.options import PlotOptions
from hepml.plotting.samples.common import process_names
from hepml.plotting.style import label, new_figure, save

#: MET definitions of :mod:`hepml.generate.samples.ditau_met` (columns ``met_<d>_px``).
DEFINITIONS = ("all", "charged", "calo", "pu")
MASSES = ("m_vis", "m_col", "m_col_true", "m_tautau")
COLUMNS = ("true_met_px", "process", *MASSES, *(f"met_{d}_px" for d in DEFINITIONS))


def draw(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any], out_dir: Path,
         options: PlotOptions) -> list[Path]:
    """Write ``met_resolution`` and ``ditau_masses``."""
    c = {k: np.asarray(columns[k], dtype=np.float64) for k in COLUMNS if k in columns}
    written: list[Path] = []
    fig, (ax,) = new_figure()
    edges = np.linspace(-60, 60, 61)
    for d in DEFINITIONS:
        if f"met_{d}_px" not in c:
            continue
        diff = c[f"met_{d}_px"] - c["true_met_px"]
        width = central_interval_halfwidth(diff[np.isfinite(diff)])
        text = f"{variable_label(f'met_{d}')[0]}: 68% half-width {width:.1f} GeV"
        draw_histogram(ax, fill_histogram(diff, edges, clip=True), text)
    ax.set_xlabel(r"$E_x^{\mathrm{miss}} - p_x^{\nu}$ [GeV]")
    ax.set_ylabel("Events")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)
    ax.legend(fontsize="x-small")
    label(ax, options)
    written += save(fig, out_dir / "met_resolution", options)

    fig, (ax,) = new_figure()
    edges = np.linspace(0, 250, 51)
    styles = dict(zip(MASSES, ("-", "--", "-.", ":"), strict=True))
    names = process_names(c["process"].astype(int), provenance)
    for key in MASSES:
        for code, name in names.items():
            values = c[key][(c["process"] == code) & np.isfinite(c[key])]
            draw_histogram(ax, fill_histogram(values, edges, clip=True),
                           f"{variable_label(key)[0]}, {name}", linestyle=styles[key],
                           color=f"C{code}")  # fmt: skip
    ax.set_xlabel("Mass [GeV]")
    ax.set_ylabel("Events")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, ax.get_ylim()[1] * 1.5)
    ax.legend(fontsize="xx-small", ncols=2)
    label(ax, options)
    written += save(fig, out_dir / "ditau_masses", options)
    return written
