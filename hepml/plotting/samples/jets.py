"""Jet samples: W tagging (mass, pT, tau21, mean and difference images), top tagging (tau32),
quark/gluon (constituent multiplicity, matched parton)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml.plotting.images import plot_difference_image, plot_mean_images
from hepml.plotting.options import PlotOptions
from hepml.plotting.samples.common import jet_mass_and_pt, label_names, per_class_figure

WTAG_COLUMNS = ("label", "jet_m", "jet_pt", "tau21", "image", "image_npix")
TOP_COLUMNS = ("label", "jet_m", "jet_pt", "tau32")
QG_COLUMNS = ("label", "jet_m", "jet_pt", "n_const", "parton_pdgid")


def draw_wtag(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any], out_dir: Path,
              options: PlotOptions) -> list[Path]:
    """``jet_mass``, ``jet_pt``, ``tau21``, ``mean_image_label<k>`` and ``image_difference``."""
    names = label_names(columns["label"], provenance)
    written = jet_mass_and_pt(columns, names, np.linspace(0, 200, 41), out_dir, options)
    written += per_class_figure(columns["tau21"], columns["label"], names, np.linspace(0, 1, 26),
                                r"$\tau_{21}$", out_dir / "tau21", options, "Normalised jets")  # fmt: skip
    npix = int(columns["image_npix"][0]) if len(columns["image_npix"]) else 25
    images = np.asarray(columns["image"], dtype=np.float64)[:, : npix * npix]
    images = images.reshape(-1, npix, npix)
    extent = float((provenance.get("config") or {}).get("params", {}).get("image_extent", 1.25))
    written += plot_mean_images(images, columns["label"], names, out_dir, extent, options)
    if {0, 1} <= set(names):
        written += plot_difference_image(images, columns["label"], 1, 0, names,
                                         out_dir / "image_difference", extent, options)  # fmt: skip
    return written


def draw_top(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any], out_dir: Path,
             options: PlotOptions) -> list[Path]:
    """``jet_mass``, ``jet_pt`` and ``tau32`` per label."""
    names = label_names(columns["label"], provenance)
    written = jet_mass_and_pt(columns, names, np.linspace(0, 300, 51), out_dir, options)
    written += per_class_figure(columns["tau32"], columns["label"], names, np.linspace(0, 1, 26),
                                r"$\tau_{32}$", out_dir / "tau32", options, "Normalised jets")  # fmt: skip
    return written


def draw_quark_gluon(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any],
                     out_dir: Path, options: PlotOptions) -> list[Path]:
    """``jet_mass``, ``jet_pt``, ``n_const`` and ``parton_flavour`` (none/quark/gluon) per label."""
    names = label_names(columns["label"], provenance)
    written = jet_mass_and_pt(columns, names, np.linspace(0, 150, 31), out_dir, options)
    written += per_class_figure(columns["n_const"], columns["label"], names, np.arange(0, 101, 4),
                                "Constituents", out_dir / "n_const", options, "Normalised jets")  # fmt: skip
    pdgid = np.abs(np.asarray(columns["parton_pdgid"]))
    parton = np.select([pdgid == 21, pdgid > 0], [2, 1], 0)
    written += per_class_figure(parton, columns["label"], names, np.arange(-0.5, 3),
                                "Matched parton", out_dir / "parton_flavour", options,
                                "Fraction of jets", categories=("none", "quark", "gluon"))  # fmt: skip
    return written
