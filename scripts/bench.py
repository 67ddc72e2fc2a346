"""Throughput benchmarks (``make bench``): sample generation, printed as a table.

Arguments are passed on to ``scripts/bench_generate.py`` (``--sample NAME``, ``--n-events N``,
``--workers 1 2``, ``--chunk-size C``).
"""

from __future__ import annotations

import sys

from bench_generate import main as bench_generate  # scripts/ is on sys.path when run as a script

if __name__ == "__main__":
    bench_generate(sys.argv[1:])
