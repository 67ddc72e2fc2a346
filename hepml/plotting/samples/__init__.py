"""Validation plots of generated samples, drawn from the columns a pipeline read from the file.

:data:`PLOTTERS` maps a sample kind (the builder module of :mod:`hepml.generate.samples`, or the
sample config's name) to the columns it needs and the function drawing them; the reading is done
by :func:`hepml.pipelines.plot.sample_plots` through the data layer, so HDF5 and ROOT files alike
are plotted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hepml.plotting.samples import ditau_met, flavour, jets, photons, taus

__all__ = ["PLOTTERS", "SamplePlotter", "plotter"]


@dataclass(frozen=True)
class SamplePlotter:
    """The columns of a sample's validation plots and ``draw(columns, provenance, out_dir,
    options) -> list[Path]``."""

    columns: tuple[str, ...]
    draw: Callable


PLOTTERS: dict[str, SamplePlotter] = {
    "taus": SamplePlotter(taus.COLUMNS, taus.draw),
    "ditau_met": SamplePlotter(ditau_met.COLUMNS, ditau_met.draw),
    "wtag": SamplePlotter(jets.WTAG_COLUMNS, jets.draw_wtag),
    "top": SamplePlotter(jets.TOP_COLUMNS, jets.draw_top),
    "quark_gluon": SamplePlotter(jets.QG_COLUMNS, jets.draw_quark_gluon),
    "flavour": SamplePlotter(flavour.COLUMNS, flavour.draw),
    "photons": SamplePlotter(photons.COLUMNS, photons.draw),
}
#: Sample config names that differ from their builder module.
ALIASES = {"wtag_images": "wtag", "top_tagging": "top", "photons_pileup": "photons"}


def plotter(kind: str) -> SamplePlotter:
    """The plotter of a sample kind (builder module or sample config name).

    Raises
    ------
    ValueError
        For a kind without validation plots, naming the known ones.
    """
    key = ALIASES.get(kind, kind)
    if key not in PLOTTERS:
        raise ValueError(f"no validation plots for sample {kind!r}; known: "
                         f"{sorted([*PLOTTERS, *ALIASES])}")
    return PLOTTERS[key]
