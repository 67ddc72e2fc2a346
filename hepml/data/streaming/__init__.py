"""Streaming past memory (``data.streaming: true``): chunked reads over many files, a hash split,
a shuffle buffer across files, DDP-rank and worker sharding with equal batch counts.

Modules: :mod:`~.split` (the hash split), :mod:`~.files` (chunks and range reads), :mod:`~.shard`
(who reads what in an epoch), :mod:`~.stream` (the iterable dataset and its loader),
:mod:`~.data` (planning, counts, statistics), :mod:`~.build` (wiring for a data schema).
"""

from hepml.data.streaming.build import build_streaming
from hepml.data.streaming.data import FileSpec, StreamingData
from hepml.data.streaming.files import Chunk, StreamFile
from hepml.data.streaming.split import split_codes
from hepml.data.streaming.stream import ChunkReader, EventStream, StreamLoader

__all__ = ["Chunk", "ChunkReader", "EventStream", "FileSpec", "StreamFile", "StreamLoader",
           "StreamingData", "build_streaming", "split_codes"]
