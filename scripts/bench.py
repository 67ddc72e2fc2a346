"""Throughput benchmarks (``make bench``): sample generation, training, the data loader
(in memory and streaming, jets/s and peak memory) and the particle taggers on the peer-bench file
(beside weaver-core's and salt's figures; ``scripts/bench_taggers.py --peers`` runs the peers too),
printed as tables.

Arguments are passed on to ``scripts/bench_generate.py`` (``--sample NAME``, ``--n-events N``,
``--workers 1 2``, ``--chunk-size C``); ``scripts/bench_train.py`` and ``scripts/bench_loader.py``
run with their defaults.
"""

from __future__ import annotations

import sys

from bench_generate import main as bench_generate  # scripts/ is on sys.path when run as a script
from bench_loader import main as bench_loader
from bench_taggers import main as bench_taggers
from bench_train import main as bench_train

if __name__ == "__main__":
    bench_generate(sys.argv[1:])
    bench_train([])
    bench_loader([])
    bench_taggers([])
