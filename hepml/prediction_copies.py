"""The predictions file in other formats besides ``predictions.h5``: ``predictions.root`` (a TTree
``predictions``) and ``predictions.parquet``, for analyses that read ROOT or dataframes.

The same rows and columns; a 2D column (``probabilities [N, K]``) becomes K flat columns
``probabilities_0 ... probabilities_{K-1}``; the task and the JSON ``info`` travel as the file's
attributes (ROOT ``provenance`` string, parquet schema metadata). Metrics, plots and
``hepml compare`` keep reading the HDF5 file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hepml.data import io
from hepml.predictions import read_predictions

log = logging.getLogger(__name__)

SUFFIXES = {"root": ".root", "parquet": ".parquet"}
FORMATS = ("hdf5", *SUFFIXES)


def prediction_formats(value: str | Sequence[str] | None) -> list[str]:
    """The formats of ``predictions.format`` (a name, a list, or null), checked."""
    names = [value] if isinstance(value, str) else list(value or [])
    names = [str(n).lower() for n in names]
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ValueError(f"predictions.format={unknown}: choose from {list(FORMATS)} (hdf5 is always written)")
    return [n for n in dict.fromkeys(names) if n != "hdf5"]


def write_prediction_copies(h5_path: str | Path, formats: str | Sequence[str] | None) -> list[Path]:
    """Write ``predictions.root`` / ``.parquet`` beside ``h5_path`` for each of ``formats``."""
    wanted = prediction_formats(formats)
    if not wanted:
        return []
    h5_path = Path(h5_path)
    columns, task, info = read_predictions(h5_path)
    flat: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        if values.ndim == 2:
            flat.update({f"{name}_{j}": values[:, j] for j in range(values.shape[1])})
        else:
            flat[name] = values
    attrs = {"task": task, "info": json.dumps(info, default=str)}
    out = []
    for fmt in wanted:
        path = h5_path.with_suffix(SUFFIXES[fmt])
        io.write_columns(path, flat, attrs=attrs, tree="predictions", format=fmt)
        log.info("Predictions also written to %s", path)
        out.append(path)
    return out
