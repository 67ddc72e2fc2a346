"""``hepml plot``: every plot of a predictions file, or the validation plots of a generated sample;
the ``plots`` config block (:func:`plot_options`).

:func:`sample_plots` is also the ``plots_fn`` of every sample config (``hepml generate ...
plots=true``): it reads the sample through the data layer, whatever its format, and hands the
columns to :mod:`hepml.plotting.samples`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
from omegaconf import DictConfig, OmegaConf

from hepml.data.io import read_attrs, read_columns
from hepml.plotting.options import PlotOptions
from hepml.plotting.report import make_plots
from hepml.plotting.samples import plotter
from hepml.plotting.style import set_style
from hepml.predictions import read_predictions

log = logging.getLogger(__name__)

__all__ = ["GENERATED_ENERGY", "plot", "plot_options", "sample_plots"]

#: Every builder of :mod:`hepml.generate.samples` runs Pythia with ``Beams:eCM = 13000``.
GENERATED_ENERGY = "13 TeV"


def plot_options(
    plots: bool | Mapping[str, Any] | DictConfig | None, info: Mapping[str, Any] | None = None
) -> PlotOptions | None:
    """The :class:`PlotOptions` of a ``plots`` config value, or None when plots are off.

    Parameters
    ----------
    plots : bool, Mapping or DictConfig, optional
        ``true``/None (defaults), ``false`` (no plots) or the ``plots`` block
        (``configs/plots_defaults.yaml``; ``enabled: false`` turns plots off).
    info : Mapping, optional
        The predictions file's ``info``: its ``energy`` is used when the block gives none.

    Raises
    ------
    ValueError
        On an unknown option, naming the allowed ones.
    """
    if plots is None or plots is True:
        return PlotOptions().with_info(info)
    if plots is False:
        return None
    mapping = OmegaConf.to_container(plots, resolve=True) if isinstance(plots, DictConfig) else plots
    if not isinstance(mapping, Mapping):
        raise ValueError(f"plots must be true, false or a block of options, got {plots!r}")
    if not mapping.get("enabled", True):
        return None
    return PlotOptions.from_mapping(mapping, info)


def _sample_kind(path: Path, provenance: Mapping[str, Any]) -> str:
    """The builder module recorded in a sample's provenance (``...samples.<kind>.build_chunk``)."""
    builder = str(provenance.get("builder") or "")
    if builder.count(".") >= 2:
        return builder.rsplit(".", 2)[-2]
    if provenance.get("sample"):
        return str(provenance["sample"])
    raise ValueError(f"{path} records no sample builder in its provenance (was it written by "
                     "hepml generate?): give the kind, e.g. sample_kind=taus")


def _padded(values: Any) -> np.ndarray:
    """Jagged (ROOT) columns as 0-padded 2D numpy arrays, like their HDF5 layout."""
    if not isinstance(values, ak.Array):
        return np.asarray(values)
    longest = int(ak.max(ak.num(values), initial=0))
    return ak.to_numpy(ak.fill_none(ak.pad_none(values, longest, clip=True), 0))


def sample_plots(
    path: str | Path,
    out_dir: str | Path,
    sample: str | None = None,
    options: PlotOptions | None = None,
) -> list[Path]:
    """Validation plots of a generated sample file (HDF5 or ROOT) into ``out_dir``.

    Parameters
    ----------
    path : str or Path
        The sample, as ``hepml generate`` wrote it.
    out_dir : str or Path
        Folder of the figures.
    sample : str, optional
        The kind (``taus``, ``wtag``, ``flavour``, ...); by default the builder recorded in the
        file's provenance.
    options : PlotOptions, optional
        Style and labels; by default CMS style at :data:`GENERATED_ENERGY`.

    Returns
    -------
    list[Path]
        The written files.
    """
    path, out_dir = Path(path), Path(out_dir)
    provenance = read_attrs(path)
    kind = sample or _sample_kind(path, provenance)
    chosen = plotter(kind)
    columns = {k: _padded(v) for k, v in read_columns(path, list(chosen.columns)).items()}
    options = options or PlotOptions(energy=GENERATED_ENERGY)
    set_style(options.style)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [Path(f) for f in chosen.draw(columns, provenance, out_dir, options)]
    log.info("Wrote %d validation plot files of %s (%s) to %s", len(files), path, kind, out_dir)
    return files


def plot(cfg: DictConfig) -> list[Path]:
    """``predictions=FILE``: ``<output_dir>/plots/*`` and ``report.md``/``.html``;
    ``sample_file=FILE``: the sample's validation plots in ``<output_dir>/plots``."""
    out = Path(cfg.paths.output_dir) / "plots"
    if cfg.get("sample_file"):
        given = plot_options(cfg.get("plots"))
        options = None if given is None else given.with_info({"energy": GENERATED_ENERGY})
        return sample_plots(cfg.sample_file, out, cfg.get("sample_kind"), options)
    if not cfg.get("predictions"):
        raise ValueError("hepml plot needs predictions=PATH/TO/predictions.h5 (or "
                         "sample_file=PATH for the validation plots of a generated sample)")
    columns, task, info = read_predictions(cfg.predictions)
    options = plot_options(cfg.get("plots"), info)
    if options is None:
        log.warning("plots=false: no plots made")
        return []
    return make_plots(columns, task, info, out, options)
