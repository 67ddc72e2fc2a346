"""Generation throughput of the sample configs (configs/sample/*.yaml) through the real runner.

For every sample and worker count the ``generate`` config is composed with Hydra's compose API and
a small ``n_events``, the sample is generated into a temporary folder, and from its provenance
come, per process, the events generated and rows kept per CPU-second of the builder (Pythia
initialisation included, one core); end to end, the rows written per wall-clock second (process
start-up, part files and the final write included).

    .venv/bin/python scripts/bench_generate.py --sample taus --sample ditau_met --workers 1 2
    .venv/bin/python scripts/bench_generate.py --sample all --n-events 200
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import h5py
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from rich.console import Console
from rich.table import Table

from hepml.config import config_dir
from hepml.pipelines.generate import sample_config

log = logging.getLogger("bench_generate")

DEFAULT_SAMPLES = ("taus", "ditau_met")


def available_samples() -> list[str]:
    """Names of the sample configs."""
    return sorted(p.stem for p in (config_dir() / "sample").glob("*.yaml"))


def bench_sample(name: str, n_events: int, workers: int, chunk_size: int | None,
                 out_dir: Path) -> list[dict]:
    """Generate one sample; one result row per process (events/s, rows/s) plus the total."""
    overrides = [f"sample={name}", f"n_events={n_events}", f"workers={workers}", "plots=false",
                 f"output={out_dir / f'{name}_w{workers}.h5'}"]
    if chunk_size:
        overrides.append(f"sample.chunk_size={chunk_size}")
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose("generate", overrides=overrides)
    sample = sample_config(cfg)
    start = time.perf_counter()
    path = Path(instantiate(sample, progress=False))
    wall = time.perf_counter() - start
    with h5py.File(path) as handle:
        attrs = {k: json.loads(handle.attrs[k]) for k in ("n_generated", "n_kept", "cpu_seconds")}
    path.unlink()
    rows = []
    for process, events in attrs["n_generated"].items():
        cpu = max(attrs["cpu_seconds"][process], 1e-9)
        rows.append({"sample": name, "workers": workers, "process": process, "events": events,
                     "events/s/core": events / cpu, "rows/s/core": attrs["n_kept"][process] / cpu,
                     "efficiency": attrs["n_kept"][process] / max(events, 1)})
    rows.append({"sample": name, "workers": workers, "process": "all (wall)",
                 "events": sum(attrs["n_generated"].values()), "rows": n_events,
                 "wall_s": wall, "rows/s": n_events / wall})
    log.info("%s, workers=%d: %d rows in %.1f s", name, workers, n_events, wall)
    return rows


def table(results: list[dict]) -> Table:
    """The results as a rich table."""
    out = Table(title="generation throughput")
    keys = ("sample", "workers", "process", "events", "events/s/core", "rows/s/core",
            "efficiency", "wall_s", "rows/s")
    for key in keys:
        out.add_column(key, justify="left" if key in ("sample", "process") else "right")
    for row in results:
        out.add_row(*(f"{row[k]:.3g}" if isinstance(row.get(k), float) else str(row.get(k, ""))
                      for k in keys))
    return out


def run(samples: list[str], n_events: int, workers: list[int], chunk_size: int | None) -> list[dict]:
    """Benchmark every sample with every worker count."""
    names = available_samples() if samples == ["all"] else samples
    unknown = sorted(set(names) - set(available_samples()))
    if unknown:
        raise SystemExit(f"unknown samples {unknown}; choose from {available_samples()} or all")
    results = []
    with tempfile.TemporaryDirectory(prefix="hepml_bench_") as tmp:
        for name in names:
            for n_workers in workers:
                results += bench_sample(name, n_events, n_workers, chunk_size, Path(tmp))
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="append", default=None,
                        help=f"sample config name, repeatable, or 'all' (default: {DEFAULT_SAMPLES})")
    parser.add_argument("--n-events", type=int, default=400, help="rows per sample (default 400)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="events per builder call (default: the sample's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(name)s: %(message)s")
    for name in ("hepml.generate", "hepml.data.io"):
        logging.getLogger(name).setLevel(logging.WARNING)
    results = run(args.sample or list(DEFAULT_SAMPLES), args.n_events, args.workers,
                  args.chunk_size)
    Console(width=140).print(table(results))
    return results


if __name__ == "__main__":
    main()
