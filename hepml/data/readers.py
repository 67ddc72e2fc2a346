"""Compatibility module: file reading moved to :mod:`hepml.data.io`.

Kept for the modules being rewritten; import from :mod:`hepml.data.io` (``detect_format`` confirms a
file's suffix by its content, where :func:`file_format` here only looks at the name).
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from hepml.data.io import FORMATS, DataFileError, read_columns

__all__ = ["DataFileError", "file_format", "read_columns", "to_padded"]


def file_format(path: str) -> str:
    """``hdf5``, ``root``, ``csv`` or ``parquet`` from the file name (:data:`hepml.data.io.FORMATS`)."""
    name = str(path).lower()
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    raise DataFileError(f"{path}: unknown file type; hepml reads {FORMATS}")


def to_padded(
    values: np.ndarray | ak.Array, max_length: int, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A particle-list variable as ``[n, max_length]`` float32 array plus its boolean mask.

    Jagged awkward arrays are padded with 0; padded 2D arrays use ``counts`` (number of valid
    entries per row) when given, otherwise every entry is valid.
    """
    if isinstance(values, ak.Array):
        n = ak.to_numpy(ak.num(values, axis=1))
        padded = ak.fill_none(ak.pad_none(values, max_length, axis=1, clip=True), 0.0)
        arr = ak.to_numpy(padded).astype(np.float32)
    else:
        values = np.asarray(values)
        if values.ndim != 2:
            raise DataFileError(f"expected a 2D (events x particles) array, got shape {values.shape}")
        arr = np.zeros((len(values), max_length), dtype=np.float32)
        k = min(max_length, values.shape[1])
        arr[:, :k] = values[:, :k]
        n = np.full(len(values), values.shape[1]) if counts is None else np.asarray(counts)
    mask = np.arange(max_length)[None, :] < np.minimum(n, max_length)[:, None]
    arr[~mask] = 0.0
    return arr, mask
