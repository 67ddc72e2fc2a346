"""Train/val/test assignment by a hash of (file name, entry): stable across restarts, DataLoader
workers, DDP ranks, chunk sizes and the order in which files are listed.

Each event gets ``u = splitmix64(seed_of(file) + entry) / 2**64``, uniform in [0, 1), and falls in
the split whose cumulative fraction first exceeds ``u``. ``seed_of(file)`` mixes the CRC-32 of the
file's base name (without its format suffix) with ``split_seed``, so moving a file to another
folder or converting it to another format keeps its split, while another seed draws a new one. Everything is vectorised numpy on uint64 (wrapping arithmetic).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence

import numpy as np

SPLITS = ("train", "val", "test")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser of ``x + golden ratio`` (uint64 in, uint64 out, elementwise)."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


_SUFFIXES = sorted((".h5", ".hdf5", ".hdf", ".root", ".parquet", ".pq", ".csv", ".tsv", ".txt",
                    ".csv.gz", ".tsv.gz", ".txt.gz", ".gz"), key=len, reverse=True)


def file_key(path: str | os.PathLike, split_seed: int = 0) -> np.uint64:
    """A 64-bit key of a file's base name (format suffix removed) and the split seed."""
    name = os.path.basename(os.fspath(path))
    suffix = next((s for s in _SUFFIXES if name.lower().endswith(s) and len(name) > len(s)), "")
    crc = zlib.crc32(name[: len(name) - len(suffix)].encode())
    mixed = (np.uint64(crc) << np.uint64(32)) ^ np.uint64(split_seed & 0xFFFFFFFF)
    return splitmix64(np.array([mixed], dtype=np.uint64))[0]


def uniform(path: str | os.PathLike, entries: np.ndarray, split_seed: int = 0) -> np.ndarray:
    """A uniform number in [0, 1) per entry of the file, a pure function of (name, entry, seed)."""
    with np.errstate(over="ignore"):
        z = splitmix64(np.asarray(entries, dtype=np.uint64) + file_key(path, split_seed))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def split_codes(
    path: str | os.PathLike, entries: np.ndarray, fractions: Sequence[float], split_seed: int = 0
) -> np.ndarray:
    """The split of each entry: 0 train, 1 val, 2 test (``int8``).

    Parameters
    ----------
    path : the file the entries belong to (only its base name matters).
    entries : entry numbers in the file (int).
    fractions : train, val and test fractions summing to 1.
    split_seed : draws another split when changed.
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"data.split must be three fractions summing to 1, got {list(fractions)}")
    u = uniform(path, entries, split_seed)
    edges = np.array([fractions[0], fractions[0] + fractions[1]])
    return np.searchsorted(edges, u, side="right").astype(np.int8)
