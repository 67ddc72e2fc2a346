"""Loader benchmark: jets/s of one training epoch (batch 256, one worker, no model) and the peak
memory of that epoch, in memory and streaming, on the peer-bench jet layout (64 particles x 7
features, 3 jet variables, a label).

The jets come from ``../shared/peer-bench/make_data.py`` (ROOT, jagged ``part_*`` branches), made
in files of 100k jets (seeds 42, 43, ...) and converted once with hepml's own writer to its HDF5
layout (2D padded float32 ``[n, 64]`` datasets plus the ``npart`` count; lzf-compressed as salt's
files are, and uncompressed for the first size), all cached under ``.cache/bench/``. 100k, 500k and
2M jets are the first 1, 5 and 20 files. Each measurement runs in a fresh subprocess (so its peak
RSS is its own: main process + loader worker), watched from outside and stopped above
``--max-rss-gb``. Reported: wall-clock jets/s, jets per CPU second of the busiest loader process
(the worker; the main process without one), which does not depend on what else the machine runs,
the peak memory of the process tree (PSS: pages the worker shares with the main process count
once) and each process's peak RSS.

Run: ``python scripts/bench_loader.py [--sizes 100000 500000 2000000] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PEER = REPO.parent / "shared" / "peer-bench"
CACHE = REPO / ".cache" / "bench"
PER_FILE = 100_000
BATCH = 256
PART = ["part_deta", "part_dphi", "part_logpt", "part_loge", "part_logptrel", "part_logerel", "part_deltaR"]
JETS = ["jet_pt", "jet_eta", "jet_mass"]
DATA = {
    "inputs": {"jets": {"variables": {v: {} for v in JETS}},
               "particles": {"max_length": 64, "count": "npart", "variables": {v: {} for v in PART}}},
    "label": "label_sig",
    "classes": ["bkg", "sig"],
}
STREAMING = {"chunk_size": 16_384, "buffer_size": 65_536, "stats_events": 100_000}

log = logging.getLogger("bench_loader")


# ------------------------------------------------------------------------------------- the files
def _root_file(i: int) -> Path:
    path = CACHE / "root" / f"part{i}" / "jets_train.root"
    if not path.is_file():
        log.warning("making %s (peer-bench make_data.py, seed %d)", path, 42 + i)
        subprocess.run([sys.executable, str(PEER / "make_data.py"), "--outdir", str(path.parent),
                        "--n-train", str(PER_FILE), "--n-test", "1000", "--seed", str(42 + i)],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def _convert(root_path: Path, h5_path: Path, compression: str | None, step: int = 25_000) -> None:
    """ROOT (jagged) -> hepml's HDF5 layout, written batch by batch with hepml's writer."""
    import awkward as ak

    from hepml.data import io

    branches = ["npart", *PART, *JETS, "label_sig"]
    n = io.num_entries(root_path, tree="tree")
    tmp = h5_path.with_name(f".tmp.{h5_path.name}")
    with io.open_writer(tmp, compression=compression, attrs={"source": str(root_path)}) as writer:
        for start in range(0, n, step):
            cols = io.read_columns(root_path, branches, start=start, stop=min(start + step, n), tree="tree")
            out = {}
            for name, values in cols.items():
                if isinstance(values, ak.Array):
                    values = ak.to_numpy(ak.fill_none(ak.pad_none(values, 64, axis=1, clip=True), 0.0))
                out[name] = np.asarray(values, dtype=np.float32 if name in PART else None)
            out["label_sig"] = out["label_sig"].astype(np.int8)
            writer.append(out)
    tmp.replace(h5_path)


def bench_files(n_jets: int, compression: str = "lzf") -> list[str]:
    """The first ``n_jets / 100k`` HDF5 files (made and converted on first use)."""
    if n_jets % PER_FILE:
        raise ValueError(f"sizes must be multiples of {PER_FILE:,} jets, got {n_jets:,}")
    files = []
    for i in range(n_jets // PER_FILE):
        h5 = CACHE / ("h5" if compression == "lzf" else f"h5_{compression}") / f"part{i}.h5"
        root = _root_file(i)
        if not h5.is_file() or h5.stat().st_mtime < root.stat().st_mtime:
            h5.parent.mkdir(parents=True, exist_ok=True)
            log.warning("converting %s -> %s", root, h5)
            _convert(root, h5, None if compression == "none" else compression)
        files.append(str(h5))
    return files


# ------------------------------------------------------------------------ one measurement (child)
def _datamodule(files: list[str], streaming: bool, workers: int):
    from hepml.data.datamodule import HEPDataModule

    extra = {"streaming": True, **STREAMING} if streaming else {}
    return HEPDataModule(files={"train": files}, batch_size=BATCH, num_workers=workers, cache_dir=None,
                         **DATA, **extra)


def measure(files: list[str], streaming: bool, workers: int = 1) -> dict:
    """Set the data module up, then time one training epoch of its loader (no model)."""
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    dm = _datamodule(files, streaming, workers)
    dm.setup("fit")
    setup_s = time.perf_counter() - start
    loader = dm.train_dataloader()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    jets, first = 0, None
    for batch in loader:
        if first is None:
            first = time.perf_counter() - start
        jets += len(batch["index"])
    loop = time.perf_counter() - start
    del loader
    main, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_main = main.ru_utime + main.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    cpu_worker = workers.ru_utime + workers.ru_stime
    return {"jets": jets, "setup_s": setup_s, "first_batch_s": first, "epoch_s": loop,
            "jets_per_s": jets / loop, "rss_main_gb": main.ru_maxrss / 1024**2,
            "rss_worker_gb": workers.ru_maxrss / 1024**2,
            # CPU seconds of the epoch: what the loader costs whatever else runs on the machine
            "cpu_us_per_jet": 1e6 * max(cpu_worker, cpu_main) / jets}


# --------------------------------------------------------------------------------- the parent
def _tree_pss(pid: int) -> float:
    """Proportional set size (GB) of a process and its descendants (Linux /proc): pages shared by
    the main process and its forked loader worker count once, 0 when it is gone."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024**2


def run_child(n_jets: int, streaming: bool, max_rss_gb: float, compression: str = "lzf",
              workers: int = 1) -> dict:
    cmd = [sys.executable, __file__, "--child", "stream" if streaming else "memory", "--sizes", str(n_jets),
           "--compression", compression, "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_pss(proc.pid))
        if peak > max_rss_gb:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return {"killed_above_gb": max_rss_gb}
        time.sleep(0.1)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["pss_gb"] = peak
    log.warning("%s, %s, %d worker(s), %s jets: %.0f jets/s, peak %.2f GB", "streaming" if streaming
                else "in memory", compression, workers, f"{n_jets:,}", result["jets_per_s"], peak)
    return result


def _range(values: list[float], fmt: str) -> str:
    lo, hi = min(values), max(values)
    return format(lo, fmt) if np.isclose(lo, hi, rtol=0.005) else f"{format(lo, fmt)}-{format(hi, fmt)}"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000, 2_000_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement (reported as a range)")
    parser.add_argument("--max-rss-gb", type=float, default=8.0,
                        help="stop a measurement whose processes hold more memory (shared machines)")
    parser.add_argument("--compression", default="lzf", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["memory", "stream"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    if args.child:
        files = bench_files(args.sizes[0], args.compression)
        print(json.dumps(measure(files, args.child == "stream", args.workers)))
        return []
    for n in args.sizes:
        bench_files(n)
    bench_files(args.sizes[0], "none")
    rows = []
    for _ in range(args.repeat):  # all sizes and modes once, then again: machine load spreads over both
        for n in args.sizes:
            for streaming in (True, False):
                rows.append({"jets": n, "streaming": streaming, "compression": "lzf", "workers": 1,
                             **run_child(n, streaming, args.max_rss_gb)})
        n = args.sizes[0]  # for comparison: no compression; in memory without a worker process
        rows.append({"jets": n, "streaming": True, "compression": "none", "workers": 1,
                     **run_child(n, True, args.max_rss_gb, "none")})
        rows.append({"jets": n, "streaming": False, "compression": "lzf", "workers": 0,
                     **run_child(n, False, args.max_rss_gb, "lzf", 0)})
    report(rows)
    return rows


def report(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"loader alone: one epoch, batch {BATCH}, HDF5, range over runs")
    for col in ("mode", "HDF5", "workers", "jets", "jets/s", "jets per CPU s", "first batch s", "setup s",
                "peak memory GB (PSS)", "peak RSS GB main / worker"):
        table.add_column(col, justify="right")
    for streaming, comp, workers in ((True, "lzf", 1), (True, "none", 1), (False, "lzf", 1), (False, "lzf", 0)):
        for n in sorted({r["jets"] for r in rows}):
            runs = [r for r in rows if r["jets"] == n and r["streaming"] == streaming and r["compression"] == comp
                    and r["workers"] == workers]
            done = [r for r in runs if "jets_per_s" in r]
            mode = "streaming" if streaming else "in memory"
            if not runs:
                continue
            if not done:
                table.add_row(mode, comp, str(workers), f"{n:,}", "-", "-", "-", "-",
                              f"> {runs[0]['killed_above_gb']:.1f} (stopped)", "-")
                continue
            table.add_row(mode, comp, str(workers), f"{n:,}", _range([r["jets_per_s"] for r in done], ",.0f"),
                          _range([1e6 / r["cpu_us_per_jet"] for r in done], ",.0f"),
                          _range([r["first_batch_s"] for r in done], ".2f"),
                          _range([r["setup_s"] for r in done], ".1f"),
                          _range([r["pss_gb"] for r in done], ".2f"),
                          f"{_range([r['rss_main_gb'] for r in done], '.2f')} / "
                          f"{_range([r['rss_worker_gb'] for r in done], '.2f')}")
    Console(width=150).print(table)
    for streaming in (True, False):
        peaks = {n: [r["pss_gb"] for r in rows if r["jets"] == n and r["streaming"] == streaming
                     and r["compression"] == "lzf" and r["workers"] == 1 and "jets_per_s" in r]
                 for n in {r["jets"] for r in rows}}
        sizes = sorted(n for n, v in peaks.items() if v)
        if len(sizes) > 1:
            lo, hi = min(peaks[sizes[0]]), max(peaks[sizes[-1]])
            verdict = f" (flat within 20%: {'yes' if hi / lo <= 1.2 else 'no'})" if streaming else ""
            print(f"{'streaming' if streaming else 'in memory'} peak memory, {sizes[-1]:,} vs {sizes[0]:,} "
                  f"jets: x{hi / lo:.2f}{verdict}")


if __name__ == "__main__":
    main()
