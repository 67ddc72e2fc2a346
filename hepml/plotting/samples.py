"""Validation plots of written samples: distributions per label, read back from the file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from hepml.plotting.style import label, new_figure, save, set_style

__all__ = ["plot_jet_mass_and_pt", "plot_mean_images", "plot_per_label", "read_for_plots"]


def _provenance(path: Path) -> dict:
    """The runner's provenance of a written sample (HDF5 attributes or ROOT ``provenance``)."""
    try:
        if path.suffix.lower() == ".root":
            import uproot

            with uproot.open(path) as handle:
                return json.loads(str(handle["provenance"]))
        import h5py

        with h5py.File(path, "r") as handle:
            return dict(handle.attrs)
    except (OSError, KeyError, ValueError):
        return {}


def read_for_plots(path, names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[int, str]]:
    """Columns of a written sample plus ``label``, and a legend name for each label.

    The names are the process names of each label from the runner's provenance (``labels``,
    ``{process: label}``), otherwise ``"label N"``. Jagged ROOT columns come back padded.
    """
    from hepml.data.readers import read_columns, to_padded

    path = Path(path)
    columns = read_columns(path, [*names, "label"])
    for name, values in columns.items():
        if isinstance(values, ak.Array):
            columns[name] = to_padded(values, int(ak.max(ak.num(values), initial=0)))[0]
    labels = np.asarray(columns["label"]).astype(np.int64)
    names_of = {int(k): f"label {k}" for k in np.unique(labels)}
    processes = _provenance(path).get("labels", "{}")
    processes = json.loads(processes) if isinstance(processes, str) else processes
    for k in names_of:
        found = [name for name, label in processes.items() if int(label) == k]
        if found:
            names_of[k] = ", ".join(found)
    return {**columns, "label": labels}, names_of


def plot_per_label(
    columns, names_of, variable, bins, xlabel, out_dir, stem, categories=None
) -> list:
    """Normalised histograms of one column, one line per label; PNG and PDF.

    ``bins`` are edges, or a number of bins spanning the values of all labels. With
    ``categories`` (names of the integer values 0, 1, ...) the x axis is labelled with them and
    the legend gives no median.
    """
    set_style("CMS")
    if np.isscalar(bins):
        bins = np.histogram_bin_edges(np.asarray(columns[variable], dtype=float), int(bins))
    fig, (ax,) = new_figure()
    for k, name in names_of.items():
        values = np.asarray(columns[variable])[columns["label"] == k]
        median = f" (median {np.median(values):.3g})" if values.size and not categories else ""
        ax.hist(values, bins=bins, histtype="step", density=True, linewidth=1.5,
                label=f"{name}{median}")  # fmt: skip
    if categories:
        ax.set_xticks(np.arange(len(categories)), categories)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Normalised jets")
    ax.legend(fontsize="small")
    label(ax)
    return save(fig, Path(out_dir) / stem)


def plot_jet_mass_and_pt(columns, names_of, mass_bins, out_dir) -> list:
    """Jet mass (``jet_m``, ``mass_bins`` edges) and jet pT (``jet_pt``, 25 bins) per label."""
    written = plot_per_label(
        columns, names_of, "jet_m", mass_bins, "Jet mass [GeV]", out_dir, "jet_mass"
    )
    written += plot_per_label(columns, names_of, "jet_pt", 25, "Jet $p_T$ [GeV]", out_dir, "jet_pt")
    return written


def plot_mean_images(
    images: np.ndarray, labels: np.ndarray, names_of: Mapping[int, str], out_dir
) -> list:
    """The mean of the ``[n, x = eta, y = phi]`` images of each label, log colour scale."""
    from matplotlib.colors import LogNorm

    written = []
    for k, name in names_of.items():
        mean = images[labels == k].mean(axis=0)
        fig, (ax,) = new_figure()
        positive = mean[mean > 0]
        norm = (
            LogNorm(vmin=max(positive.min(), positive.max() * 1e-6), vmax=positive.max())
            if positive.size
            else None
        )
        shown = ax.imshow(
            np.where(mean > 0, mean, np.nan).T, origin="lower", norm=norm, cmap="viridis"
        )
        fig.colorbar(shown, ax=ax, label="Mean pixel $p_T$ [GeV]")
        ax.set_xlabel(r"Pixel ($\eta$)")
        ax.set_ylabel(r"Pixel ($\phi$)")
        ax.text(0.03, 0.97, name, transform=ax.transAxes, va="top", fontsize="small")
        label(ax)
        written += save(fig, Path(out_dir) / f"mean_image_label{k}")
    return written
