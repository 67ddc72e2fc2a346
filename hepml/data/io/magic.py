"""What a file's first and last bytes say it is (magic numbers), to confirm its suffix.

:func:`sniff` returns a kind (``hdf5``, ``root``, ``parquet``, ``gzip``, ``text``, ``empty`` or
another binary kind) and a phrase describing the content for error messages. It reads at most a
few kilobytes, so it costs nothing next to reading the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ROOT_MAGIC = b"root"
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
_OTHER = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd",
          b"PK\x03\x04": "zip", b"\x93NUMPY": "numpy .npy"}
_DESCRIBED = {"hdf5": "is an HDF5 file", "root": "is a ROOT file", "parquet": "is a parquet file",
              "gzip": "is a gzip stream"}
_TEXT_PROBE = 4096


def _hdf5_at(f, size: int) -> bool:
    """The HDF5 signature at offset 0, 512, 1024, 2048, ... (after a user block)."""
    offset = 0
    while offset + 8 <= size:
        f.seek(offset)
        if f.read(8) == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
        if offset > (1 << 20):
            break
    return False


def _root_truncation(head: bytes, size: int) -> str | None:
    """A ROOT header records the file's end (fEND); a shorter file is truncated."""
    if len(head) < 20:
        return f"ends within the {len(head)}-byte ROOT header"
    version = struct.unpack(">i", head[4:8])[0]
    end = struct.unpack(">q", head[12:20])[0] if version >= 1_000_000 else struct.unpack(">i", head[12:16])[0]
    if end > size:
        return f"is a truncated ROOT file: its header says {end:,} bytes, the file has {size:,}"
    return None


def _is_text(probe: bytes) -> bool:
    if b"\x00" in probe:
        return False
    for cut in range(4):  # the probe may end within a multi-byte character
        try:
            probe[: len(probe) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def sniff(path: Path) -> tuple[str, str]:
    """The kind of content of ``path`` and a phrase describing it.

    Returns
    -------
    kind : str
        ``hdf5``, ``root``, ``parquet``, ``gzip``, ``text``, ``empty``, ``truncated`` (a ROOT or
        parquet file whose end is missing) or another name (``bzip2``, ``xz``, ``binary`` ...).
    description : str
        E.g. ``"starts with b'hello'"`` or ``"is a ROOT file"``, for error messages.
    """
    size = path.stat().st_size
    if size == 0:
        return "empty", "is empty (0 bytes)"
    with open(path, "rb") as f:
        head = f.read(_TEXT_PROBE)
        if head.startswith(ROOT_MAGIC):
            problem = _root_truncation(head, size)
            return ("truncated", problem) if problem else ("root", _DESCRIBED["root"])
        if head.startswith(PARQUET_MAGIC):
            f.seek(max(size - 4, 0))
            if size >= 12 and f.read(4) == PARQUET_MAGIC:
                return "parquet", _DESCRIBED["parquet"]
            return "truncated", "is a truncated parquet file (no 'PAR1' footer at its end)"
        if _hdf5_at(f, size):
            return "hdf5", _DESCRIBED["hdf5"]
    if head.startswith(GZIP_MAGIC):
        return "gzip", _DESCRIBED["gzip"]
    for magic, kind in _OTHER.items():
        if head.startswith(magic):
            return kind, f"is a {kind} file"
    if _is_text(head):
        return "text", f"is text starting with {head[:16]!r}"
    return "binary", f"starts with {head[:16]!r}"
