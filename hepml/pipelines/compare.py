"""``hepml compare RUN [RUN ...]``: one table and one ROC figure over several runs.

A run is a ``hepml train`` directory (predictions in ``eval/``), a ``hepml eval`` directory, or a
multirun directory (each numbered job inside it is a run).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.roc import roc_curve
from hepml.metrics.summary import summarize
from hepml.metrics.uncertainty import effective_entries
from hepml.plotting.options import PlotOptions
from hepml.plotting.roc import plot_roc
from hepml.plotting.style import set_style
from hepml.predictions import read_predictions

log = logging.getLogger(__name__)

COLUMNS = ["run", "model", "features", "overrides", "auc", "rejection_eff30", "rejection_eff50", "rejection_eff70",
           "significance", "resolution", "bias", "n_parameters", "macs_per_event", "train_events_per_s",
           "infer_events_per_s", "train_time_s"]
# recorded while training (train_*) and evaluating (infer_events_per_s, macs_per_event), in metrics.json
RECORDED = ("train_time_s", "train_events_per_s", "infer_events_per_s", "macs_per_event")


def find_runs(paths: list[str | Path]) -> list[Path]:
    """Expand multirun directories; keep directories that hold a predictions file."""
    runs: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{p} does not exist")
        if _predictions_file(p) is not None:
            runs.append(p)
            continue
        jobs = sorted((d for d in p.iterdir() if d.is_dir() and _predictions_file(d)), key=_job_order)
        if not jobs:
            raise FileNotFoundError(f"{p} holds no predictions.h5 (nor eval/predictions.h5), directly "
                                    "or in its job subdirectories; was the run evaluated?")
        runs.extend(jobs)
    return runs


def _job_order(d: Path) -> tuple[int, str]:
    return (int(d.name), d.name) if d.name.isdigit() else (10**9, d.name)


def _predictions_file(d: Path) -> Path | None:
    for cand in (d / "eval" / "predictions.h5", d / "predictions.h5"):
        if cand.is_file():
            return cand
    return None


def _row(run: Path, columns: dict, task: str, info: dict[str, Any]) -> dict[str, Any]:
    metrics = summarize(columns, task, info)
    choices = info.get("choices") or {}
    row: dict[str, Any] = {
        "run": str(run),
        "model": choices.get("model") or info.get("model_name", "?"),
        "features": choices.get("data/features") or _n_features(info),
        "n_parameters": info.get("n_parameters", ""),
        **metrics,
    }
    for path in (run / "metrics.json", run / "eval" / "metrics.json"):
        if path.is_file():
            recorded = json.loads(path.read_text())
            row.update({k: recorded[k] for k in RECORDED if recorded.get(k) is not None and k not in row})
    return row


def _n_features(info: dict[str, Any]) -> str:
    n = sum(len(v) for v in (info.get("inputs") or {}).values())
    return f"{n} inputs" if n else ""


def _label(row: dict[str, Any], taken: set[str]) -> str:
    base = " / ".join(x for x in (str(row["model"]), str(row["features"])) if x) or Path(row["run"]).name
    label, i = base, 2
    while label in taken:
        label, i = f"{base} ({i})", i + 1
    taken.add(label)
    return label


def compare(paths: list[str | Path], output: str | Path, reference: str | None = None) -> list[Path]:
    """Write ``comparison.md``, ``comparison.csv`` and ``roc.png/.pdf`` to ``output``."""
    runs = find_runs(paths)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    rows, curves, taken, energy = [], {}, set(), None
    loaded = [(run, *read_predictions(_predictions_file(run))) for run in runs]
    rows = [_row(run, columns, task, info) for run, columns, task, info in loaded]
    shared = len(rows) > 1 and len({str(r["features"]) for r in rows}) == 1  # then the label says the model
    for row, (_, columns, task, info) in zip(rows, loaded, strict=True):
        row["label"] = _label({**row, "features": ""} if shared else row, taken)
        if task == "classification":
            is_sig = (columns["label"] == int(info.get("signal_class", 1))).astype(int)
            sig_eff, bkg_eff, _ = roc_curve(columns["score"], is_sig, columns.get("weight"))
            w, bkg = columns.get("weight"), is_sig == 0  # background count: the ROC's band
            curves[row["label"]] = (sig_eff, bkg_eff, effective_entries(
                None if w is None else w[bkg], n=int(bkg.sum())))
            energy = energy or info.get("energy")
    _swept_overrides(runs, rows)
    present = [c for c in COLUMNS if any(c in r and r[c] != "" for r in rows)]
    written = [_write_csv(output / "comparison.csv", rows, ["label", *present]),
               _write_md(output / "comparison.md", rows, ["label", *present[1:]])]
    if curves:
        ref = reference if reference in curves else None
        if reference is not None and ref is None:
            raise ValueError(f"reference {reference!r} is not one of the runs {sorted(curves)}")
        set_style("CMS")
        written += plot_roc(curves, output / "roc", reference=ref or next(iter(curves)),
                            options=PlotOptions(energy=energy))
    log.info("Compared %d runs: %s", len(rows), ", ".join(str(w) for w in written))
    return [Path(w) for w in written]


def _job_overrides(run: Path) -> dict[str, str]:
    """``{key: value}`` of a Hydra job's command-line overrides (``.hydra/overrides.yaml``)."""
    path = run / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    import yaml

    items = yaml.safe_load(path.read_text()) or []
    return dict(str(o).split("=", 1) for o in items if "=" in str(o))


def _swept_overrides(runs: list[Path], rows: list[dict[str, Any]]) -> None:
    """Each row's ``overrides``: the command-line values that differ between the runs (a sweep's
    trial parameters, a multirun's choices), as ``key=value`` pairs."""
    found = [_job_overrides(r) for r in runs]
    keys = sorted({k for o in found for k in o})
    swept = [k for k in keys if len({o.get(k) for o in found}) > 1]
    if len(runs) < 2 or not swept:
        return
    for row, o in zip(rows, found, strict=True):
        row["overrides"] = " ".join(f"{k}={o[k]}" for k in swept if k in o)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "inf" if np.isinf(v) else f"{v:.4g}"
    return str(v)


def _write_csv(path: Path, rows: list[dict], cols: list[str]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])
    return path


def _write_md(path: Path, rows: list[dict], cols: list[str]) -> Path:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
