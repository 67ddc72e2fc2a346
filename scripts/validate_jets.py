"""Generate a few thousand jets per class with the jet-sample builders, write them, plot them.

One-off validation (not a test): calls each builder's ``build_chunk`` in a loop in this process,
measures events and kept jets per CPU-second per process, writes an HDF5 file with ``label`` and
``process`` columns and ``labels`` provenance as the runner would, runs the module's
validation plots (``hepml.pipelines.plot.sample_plots``) and logs the median jet mass (and tau21, tau32 or multiplicity) per class.

    .venv/bin/python scripts/validate_jets.py --out /tmp/jets --events 4000 --samples wtag top
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
from pathlib import Path

import awkward as ak
import numpy as np

from hepml.data.io import write_columns
from hepml.pipelines.plot import sample_plots

log = logging.getLogger("validate_jets")

#: sample module -> {channel: label}, and the per-class summaries logged.
SAMPLES = {
    "wtag": ({"wprime": 1, "qcd": 0}, ("jet_m", "tau21")),
    "top": ({"ttbar": 1, "qcd": 0}, ("jet_m", "tau32")),
    "quark_gluon": ({"zjet": 1, "dijet": 0}, ("jet_m", "n_const")),
}


def _concatenate(parts: list[dict]) -> dict:
    return {
        name: ak.concatenate([p[name] for p in parts])
        if isinstance(parts[0][name], ak.Array)
        else np.concatenate([p[name] for p in parts])
        for name in parts[0]
    }


def run_sample(name: str, n_events: int, chunk: int, out: Path, seed: int) -> dict:
    module = importlib.import_module(f"hepml.generate.samples.{name}")
    channels, summaries = SAMPLES[name]
    parts, report = [], {}
    for index, (channel, label) in enumerate(channels.items()):
        start, chunks = time.process_time(), []
        for k in range(0, n_events, chunk):
            chunk_seed = 1000 * seed + 100 * index + k // chunk + 1
            chunks.append(module.build_chunk(chunk_seed, min(chunk, n_events - k), process=channel))
        cpu = time.process_time() - start
        columns = _concatenate(chunks)
        n_jets = len(columns["jet_pt"])
        columns["label"] = np.full(n_jets, label, np.int32)
        columns["process"] = np.full(n_jets, index, np.int32)
        parts.append(columns)
        stats = {
            "events": n_events,
            "jets": n_jets,
            "cpu_s": round(cpu, 1),
            "events_per_s": round(n_events / cpu, 1),
            "jets_per_s": round(n_jets / cpu, 1),
            "kept_per_event": round(n_jets / n_events, 3),
        }
        for variable in summaries:
            stats[f"median_{variable}"] = round(float(np.median(columns[variable])), 3)
        report[channel] = stats
        log.info("%s/%s: %s", name, channel, stats)
    provenance = {"labels": channels, "process_codes": {c: i for i, c in enumerate(channels)}}
    path = write_columns(out / f"{name}.h5", _concatenate(parts), provenance)
    sample_plots(path, out / name, name)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--events", type=int, default=4000, help="events per channel")
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", nargs="+", default=list(SAMPLES), choices=list(SAMPLES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    report = {s: run_sample(s, args.events, args.chunk, args.out, args.seed) for s in args.samples}
    (args.out / f"report_{'_'.join(args.samples)}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
