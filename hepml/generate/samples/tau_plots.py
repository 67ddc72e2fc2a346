"""Validation plots of the tau sample: truth and visible pT, visible and reconstructed response
(the fraction of the tau pT the neutrino leaves behind), decay modes, per process."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import uproot

from hepml.plotting.style import label, new_figure, save, set_style

COLUMNS = ("tau_pt", "vis_pt", "jet_pt", "decay_mode", "process")
PROCESS_NAMES = {0: "Z -> tautau", 1: "H -> tautau"}


def _read(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".root":
        with uproot.open(path) as f:
            return {c: np.asarray(v) for c, v in f["events"].arrays(list(COLUMNS), library="np").items()}
    with h5py.File(path, "r") as f:
        return {c: f[c][()] for c in COLUMNS}


def validation_plots(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``tau_pt``, ``response`` and ``decay_modes`` (PNG and PDF) for the sample ``path``."""
    c = _read(Path(path))
    out_dir = Path(out_dir)
    set_style("CMS")
    written: list[Path] = []
    procs = [(PROCESS_NAMES.get(int(p), f"process {p}"), c["process"] == p) for p in np.unique(c["process"])]

    fig, (ax,) = new_figure()
    bins = np.linspace(0, 200, 41)
    for name, sel in procs:
        ax.hist(c["tau_pt"][sel], bins, histtype="step", density=True, label=f"{name} (true)")
        ax.hist(c["jet_pt"][sel], bins, histtype="step", density=True, ls="--", label=f"{name} (jet)")
    ax.set_xlabel(r"$p_T$ [GeV]")
    ax.set_ylabel("Normalised taus")
    ax.legend()
    label(ax)
    written += save(fig, out_dir / "tau_pt")

    fig, (ax,) = new_figure()
    bins = np.linspace(0, 1.5, 61)
    for name, sel in procs:
        for col, ls in (("vis_pt", "-"), ("jet_pt", "--")):
            r = c[col][sel] / c["tau_pt"][sel]
            ax.hist(r, bins, histtype="step", density=True, ls=ls,
                    label=f"{name}, {'visible' if col == 'vis_pt' else 'jet'} (median {np.median(r):.3f})")
    ax.set_xlabel(r"$p_T^{vis} / p_T^{\tau}$")
    ax.set_ylabel("Normalised taus")
    ax.legend(fontsize="small", loc="upper left")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.5)
    label(ax)
    written += save(fig, out_dir / "response")

    fig, (ax,) = new_figure()
    modes = np.unique(c["decay_mode"])
    width = 0.8 / max(len(procs), 1)
    for i, (name, sel) in enumerate(procs):
        frac = np.array([(c["decay_mode"][sel] == m).mean() for m in modes])
        ax.bar(np.arange(len(modes)) + i * width, frac, width, label=name)
    ax.set_xticks(np.arange(len(modes)) + 0.4 - width / 2, [str(m) for m in modes])
    ax.set_xlabel(r"decay mode: 5 (prongs - 1) + min($\pi^0$s, 4)")
    ax.set_ylabel("Fraction of taus")
    ax.legend()
    label(ax)
    written += save(fig, out_dir / "decay_modes")
    return written
