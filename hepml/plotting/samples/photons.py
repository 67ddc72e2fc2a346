"""Photon sample: R9, sigma_ietaieta and E_T per label, and the mean crystal image of each."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml.plotting.images import plot_mean_images
from hepml.plotting.options import PlotOptions
from hepml.plotting.samples.common import label_names, per_class_figure

COLUMNS = ("label", "r9", "sigma_ietaieta", "cand_et", "image", "image_npix")


def draw(columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any], out_dir: Path,
         options: PlotOptions) -> list[Path]:
    """``photons_r9``, ``photons_sigma_ietaieta``, ``photons_cand_et`` and
    ``photons_image_label<k>``."""
    names = label_names(columns["label"], provenance)
    written: list[Path] = []
    for name, edges, xlabel in (
        ("r9", np.linspace(0, 1.05, 43), r"$R_9 = E_{3\times3}/E_{5\times5}$"),
        ("sigma_ietaieta", np.linspace(0, 0.03, 46), r"$\sigma_{i\eta i\eta}$"),
        ("cand_et", np.linspace(0, 100, 51), r"Candidate $E_T$ [GeV]"),
    ):
        written += per_class_figure(columns[name], columns["label"], names, edges, xlabel,
                                    out_dir / f"photons_{name}", options,
                                    "Normalised candidates")  # fmt: skip
    npix = int(columns["image_npix"][0]) if len(columns["image_npix"]) else 121
    side = int(round(np.sqrt(npix)))
    images = np.asarray(columns["image"], dtype=np.float64)[:, : side * side]
    images = images.reshape(-1, side, side).transpose(0, 2, 1)  # rows ieta -> [n, x=iphi, y=ieta]
    written += plot_mean_images(images, columns["label"], names, out_dir, side / 2, options,
                                stem="photons_image", xlabel=r"$i\phi$ - seed",
                                ylabel=r"$i\eta$ - seed",
                                colorbar="Mean crystal energy [GeV]")  # fmt: skip
    return written
