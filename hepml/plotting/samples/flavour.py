"""Flavour sample: track impact-parameter significances, secondary-vertex mass and track
multiplicity per jet flavour (light, c, b), jet pT per label."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml.plotting.options import PlotOptions
from hepml.plotting.samples.common import label_names, per_class_figure

COLUMNS = ("label", "flavour", "jet_pt", "n_trk", "n_sv", "trk_d0sig", "sv_mass")
FLAVOUR_NAMES = {0: "Light jets", 4: "c jets", 5: "b jets"}


def _first(padded: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The first entry of each row of a padded array; NaN for rows without one."""
    if padded.ndim < 2 or padded.shape[1] == 0:
        return np.full(len(count), np.nan)
    return np.where(count > 0, padded[:, 0], np.nan)


def draw(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any], out_dir: Path,
         options: PlotOptions) -> list[Path]:
    """``flavour_lead_trk_d0sig``, ``flavour_max_trk_d0sig``, ``flavour_lead_sv_mass``,
    ``flavour_n_trk`` (by flavour) and ``flavour_jet_pt`` (by label)."""
    c = {k: np.asarray(columns[k]) for k in COLUMNS}
    d0sig = c["trk_d0sig"].astype(np.float64).reshape(len(c["n_trk"]), -1)
    valid = np.arange(d0sig.shape[1]) < c["n_trk"][:, None]
    largest = np.max(np.where(valid, d0sig, -np.inf), axis=1, initial=-np.inf)
    largest = np.where(np.isfinite(largest), largest, np.nan)
    sv_mass = c["sv_mass"].astype(np.float64).reshape(len(c["n_sv"]), -1)
    flavours = {int(k): FLAVOUR_NAMES.get(int(k), f"flavour {k}") for k in np.unique(c["flavour"])}
    sig = r"$d_0/\sigma_{d_0}$"
    plots = (
        ("lead_trk_d0sig", _first(d0sig, c["n_trk"]), (-10, 30), f"Leading-track {sig}"),
        ("max_trk_d0sig", largest, (-10, 50), f"Largest track {sig}"),
        ("lead_sv_mass", _first(sv_mass, c["n_sv"]), (0, 6), "First secondary-vertex mass [GeV]"),
        ("n_trk", c["n_trk"], (0, 40), "Tracks per jet"),
    )
    written: list[Path] = []
    for name, values, (low, high), xlabel in plots:
        written += per_class_figure(values, c["flavour"], flavours, np.linspace(low, high, 41),
                                    xlabel, out_dir / f"flavour_{name}", options,
                                    "Normalised jets")  # fmt: skip
    written += per_class_figure(c["jet_pt"], c["label"], label_names(c["label"], provenance),
                                np.linspace(0, 300, 41), r"$p_T^{\mathrm{jet}}$ [GeV]",
                                out_dir / "flavour_jet_pt", options, "Normalised jets")  # fmt: skip
    return written
