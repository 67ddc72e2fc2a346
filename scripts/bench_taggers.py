"""hepml's particle taggers against weaver-core and salt on the peer-bench file.

``python scripts/bench_taggers.py`` trains ``experiment=peerbench`` (80k training jets, batch 256,
Adam with one-cycle lr 5e-3 stepped per batch, one epoch, one loader worker) with
``model=particlenet_lite`` and ``model=transformer`` and prints train and inference jets/s, test AUC,
parameters and MACs per jet beside the peers' figures measured on these machines
(``../shared/peer-bench/README.md``). With ``--peers`` it runs the peers too, side by side in one
sitting: for each model ``peer, hepml, peer`` (``bash run_weaver.sh`` / ``bash run_salt.sh``, which
build their venvs under ``$PEERBENCH_ROOT``, default ``/tmp/peer-bench``), and prints hepml's jets/s
over the mean of the two peer runs, with the targets (1.5x at AUC >= 0.899 for ParticleNet-Lite
against weaver, 1.5x at AUC >= 0.893 for the transformer against salt). The load of the machine
(``/proc/loadavg``) is printed before and after every run: compare ratios, not absolute rates.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
PEER_BENCH = REPO.parent / "shared" / "peer-bench"
log = logging.getLogger("bench_taggers")

#: hepml model -> (peer, peer's model, script, published figures: params, MACs/jet, train, infer, AUC)
PEERS = {
    "particlenet_lite": ("weaver-core 0.5.3", "ParticleNet-Lite", "run_weaver.sh",
                         (26_416, 7.46e6, "594-822", "1,281-1,460", "0.901-0.902"), 0.899),
    "transformer": ("salt-ml 0.13.0", "transformer 2x64", "run_salt.sh",
                    (79_811, 5.64e6, "1,259-1,328", "2,283-2,487", "0.895"), 0.893),
}
TARGET_RATIO = 1.5


def _load() -> str:
    """The 1, 5 and 15 minute load averages."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def run_hepml(model: str, out: Path, root: Path) -> dict:
    """One ``hepml train experiment=peerbench model=MODEL`` in a fresh process; its metrics."""
    hepml = Path(sys.executable).with_name("hepml")
    cmd = [str(hepml), "train", "experiment=peerbench", f"model={model}", f"hydra.run.dir={out}",
           "callbacks.progress_bar=null", "plots=false", "print_config=false", "retrain=true",
           f"paths.cache_dir={out.parent / 'cache'}"]
    env = {**os.environ, "PEERBENCH_ROOT": str(root)}
    log.info("hepml %s (load %s): %s", model, _load(), " ".join(cmd))
    start = time.time()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"hepml train failed ({out}):\n{done.stderr[-3000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    from hepml.predictions import read_predictions

    _, _, info = read_predictions(out / "eval" / "predictions.h5")
    return {"train": metrics["train_events_per_s"], "infer": metrics["infer_events_per_s"],
            "auc": metrics["auc"], "params": info["n_parameters"], "macs": metrics["macs_per_event"],
            "wall_s": round(time.time() - start, 1), "load": _load()}


def run_peer(script: str, out: Path, root: Path) -> dict:
    """One peer run (``bash run_weaver.sh RUN`` or ``bash run_salt.sh RUN``); its summary."""
    env = {**os.environ, "PEERBENCH_ROOT": str(root), "LOADER_BENCH": "0"}
    log.info("%s (load %s) -> %s", script, _load(), out)
    done = subprocess.run(["bash", str(PEER_BENCH / script), str(out)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{script} failed ({out}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    s = json.loads((out / "summary.json").read_text())
    train, infer = s["train"], s["infer"]
    return {"train": train.get("weaver_jets_per_s", train.get("jets_per_s")),
            "infer": infer.get("weaver_jets_per_s", infer.get("jets_per_s")),
            "auc": s["test_auc"], "params": s.get("params"), "load": _load()}


def _fmt(v, spec: str = ",.0f") -> str:
    return "" if v is None else (v if isinstance(v, str) else format(v, spec))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--peers", action="store_true", help="run the peers too: peer, hepml, peer")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("PEERBENCH_ROOT", "/tmp/peer-bench")))
    parser.add_argument("--out", type=Path, default=None, help="run directories (default ROOT/hepml-runs/<time>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = args.out or args.root / "hepml-runs" / time.strftime("%Y%m%d-%H%M%S")
    if not (args.root / "data" / "jets_train.root").is_file():
        subprocess.run([sys.executable, str(PEER_BENCH / "make_data.py"), "--outdir", str(args.root / "data")],
                       check=True)
    rows = []
    for model in args.models:
        peer, peer_model, script, published, min_auc = PEERS[model]
        runs = {}
        if args.peers:
            runs["peer 1"] = run_peer(script, out / f"{script[4:-3]}_1", args.root)
        runs["hepml"] = run_hepml(model, out / f"hepml_{model}", args.root)
        if args.peers:
            runs["peer 2"] = run_peer(script, out / f"{script[4:-3]}_2", args.root)
        mine = runs["hepml"]
        peer_runs = [r for k, r in runs.items() if k.startswith("peer")]
        rows.append({"framework": "hepml", "model": model, **mine})
        for name, r in runs.items():
            if name.startswith("peer"):
                rows.append({"framework": f"{peer} ({name})", "model": peer_model, **r,
                             "params": r.get("params") or published[0], "macs": published[1]})
        if peer_runs:
            train_ratio = mine["train"] / (sum(r["train"] for r in peer_runs) / len(peer_runs))
            infer_ratio = mine["infer"] / (sum(r["infer"] for r in peer_runs) / len(peer_runs))
            ok = train_ratio >= TARGET_RATIO and mine["auc"] >= min_auc
            rows[-len(peer_runs) - 1].update(ratio=f"{train_ratio:.2f}x train, {infer_ratio:.2f}x infer",
                                             target=f"{'met' if ok else 'NOT met'} (>= {TARGET_RATIO}x, "
                                                    f"AUC >= {min_auc})")
        else:
            rows.append({"framework": f"{peer} (README)", "model": peer_model, "params": published[0],
                         "macs": published[1], "train": published[2], "infer": published[3],
                         "auc": published[4]})
    table = Table(title="Particle taggers on the peer-bench file (batch 256, Adam one-cycle 5e-3, 1 epoch)")
    for col in ("framework", "model", "params", "MACs/jet", "train jets/s", "infer jets/s", "test AUC",
                "hepml / peer", "target", "load (1, 5, 15 min)"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["framework"], r["model"], _fmt(r.get("params")), _fmt(r.get("macs"), ".3g"),
                      _fmt(r.get("train")), _fmt(r.get("infer")), _fmt(r.get("auc"), ".4f"), r.get("ratio", ""),
                      r.get("target", ""), r.get("load", ""))
    Console().print(table)
    (out).mkdir(parents=True, exist_ok=True)
    (out / "bench_taggers.json").write_text(json.dumps(rows, indent=2, default=str))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
