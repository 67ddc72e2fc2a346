"""The W-tagging study of lecture 001: what a CNN on jet images learns beyond mass and tau21.

Trains (or reuses, when a run directory already holds a finished run) four models on the same
W' -> WZ vs QCD jets and the same split, with ``experiment=wtag_tagging``:

* the CNN on the 25x25 jet images, and the CNN with the jet mass appended;
* an MLP and a BDT on (mass, tau21);

then adds, on the same test jets, a cut on (mass, tau21) scanned along the signal efficiency
and a Fisher linear discriminant on the pixels (arXiv:1407.5675, trained on the training jets),
draws every ROC on one figure (``<out>/roc.png``, ratio to the cuts), writes ``<out>/summary.md``
and ``summary.json`` (AUC and rejections per method), and looks into the CNN
(:func:`hepml.pipelines.interpret.interpret_run`: ``<out>/cnn/plots/``), in the lecture's
narrow windows of mass and tau21 and in wider ones, beside the BDT on (mass, tau21) there. The
narrow windows hold few QCD jets; ``--window-file`` adds a sample generated in the 65-95 GeV
mass window, every jet of it unseen in training (``<out>/cnn/plots_mass_window/``).

Usage::

    hepml generate sample=wtag_images n_events=40000 workers=2      # once, ~140 jets/s/core
    hepml generate sample=wtag_images n_events=20000 workers=2 seed=2 \
        'sample.params.mass_window=[65,95]' output=data/wtag_images_mass65-95_20000_seed2.h5
    python scripts/wtag_study.py --n-events 40000 --out outputs/wtag_study \
        --window-file data/wtag_images_mass65-95_20000_seed2.h5
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from hepml.config import config_dir
from hepml.metrics import interpret as mi
from hepml.metrics.roc import auc, interpolate_rejection, roc_curve
from hepml.pipelines.common import build_datamodule, load_checkpoint
from hepml.pipelines.estimator_fit import load_estimator
from hepml.pipelines.interpret import interpret_run, narrow_windows, predict_splits
from hepml.pipelines.train import train
from hepml.plotting.options import PlotOptions
from hepml.plotting.roc import plot_roc
from hepml.plotting.style import set_style
from hepml.predictions import read_predictions

log = logging.getLogger("wtag_study")

MASS_TAU21 = "+data.inputs.scalars={variables: {jet_m: {}, tau21: {}}}"
RUNS = {
    "CNN": ("cnn", []),
    "CNN + mass": ("cnn_mass", ["+data.inputs.scalars={variables: {jet_m: {}}}"]),
    r"MLP ($m$, $\tau_{21}$)": ("mlp_mass_tau21", ["model=mlp", MASS_TAU21]),
    r"BDT ($m$, $\tau_{21}$)": ("bdt_mass_tau21", ["model=bdt", MASS_TAU21]),
}
CUTS = r"Cuts on $m$ and $\tau_{21}$"
BDT = r"BDT ($m$, $\tau_{21}$)"
FISHER = "Fisher on pixels"
# windows wide enough for a few hundred jets of each class in 12,000 (the lecture's hold a handful)
WIDE = narrow_windows(
    mass_window=(75.0, 85.0), tau21_windows=((0.175, 0.225), (0.375, 0.425), (0.575, 0.625))
)


def run_model(name: str, extra: list[str], out: Path, common: list[str]) -> dict:
    """Train one model (a finished run in ``out/name`` is reported, not retrained)."""
    overrides = [
        "experiment=wtag_tagging",
        *common,
        *extra,
        f"paths.output_dir={out / name}",
        "print_config=false",
        "callbacks.progress_bar=null",
    ]
    finished = out / name / "metrics.json"
    if finished.is_file() and (out / name / "eval" / "predictions.h5").is_file():
        log.info("Reusing the finished run %s (delete it to train again)", out / name)
        return json.loads(finished.read_text())
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    log.info("Training %s: %s", name, " ".join(extra) or "(default)")
    return train(cfg)


def baselines(cnn_run: Path) -> tuple[dict, dict, np.ndarray, dict]:
    """The cut scan on (mass, tau21) and the Fisher discriminant, on the CNN run's test jets:
    ROC curves, the Fisher scores, the test rows and the test jets' (mass, tau21, label)."""
    dm = build_datamodule(read_config(cnn_run)["data"])
    dm.load()
    arrays, idx = dm.arrays, dm.indices
    label = arrays["label"]
    obs = arrays["observers"]
    test = idx["test"]
    is_sig = (label[test] == 1).astype(int)
    curves = {CUTS: mi.cut_scan_roc(obs["jet_m"][test], obs["tau21"][test], is_sig)}
    images = arrays["inputs"]["images"][:, 0].reshape(len(label), -1)
    w = mi.fisher_discriminant(images[idx["train"]], label[idx["train"]] == 1)
    scores = {FISHER: images[test] @ w}
    curves[FISHER] = roc_curve(scores[FISHER], is_sig)[:2]
    jets = {"jet_m": obs["jet_m"][test], "tau21": obs["tau21"][test], "is_sig": is_sig}
    return curves, scores, test, jets


def auc_errors(scores: dict, jets: dict, n_boot: int = 30, seed: int = 0) -> dict[str, dict]:
    """Poisson-bootstrap errors of every AUC and of the paired differences the lecture's claims
    rest on (CNN - cuts, CNN - BDT, CNN + mass - CNN), the same replicas for all methods."""
    rng = np.random.default_rng(seed)
    is_sig = jets["is_sig"]
    pairs = {
        "CNN - cuts": ("CNN", CUTS),
        "CNN - BDT": ("CNN", BDT),
        "CNN + mass - CNN": ("CNN + mass", "CNN"),
    }
    values: dict[str, list[float]] = {k: [] for k in [CUTS, *scores, *pairs]}
    for _ in range(n_boot):
        w = rng.poisson(1.0, len(is_sig)).astype(np.float64)
        aucs = {CUTS: area(*mi.cut_scan_roc(jets["jet_m"], jets["tau21"], is_sig, w))}
        aucs |= {k: auc(v, is_sig, w) for k, v in scores.items()}
        for k in aucs:
            values[k].append(aucs[k])
        for k, (a, b) in pairs.items():
            values[k].append(aucs[a] - aucs[b])
    central = {CUTS: area(*mi.cut_scan_roc(jets["jet_m"], jets["tau21"], is_sig))}
    central |= {k: auc(v, is_sig) for k, v in scores.items()}
    central |= {k: central[a] - central[b] for k, (a, b) in pairs.items()}
    return {
        k: {"auc": central[k], "auc_error": float(np.std(v, ddof=1))} for k, v in values.items()
    }


def read_config(run: Path) -> dict:
    """The resolved config a run's best checkpoint carries."""
    return load_checkpoint(run / "checkpoints" / "best.ckpt", trust=True)["hepml"]["config"]


def area(sig: np.ndarray, bkg: np.ndarray) -> float:
    """The area under a ROC curve (signal efficiency over background efficiency)."""
    return float(np.sum(np.diff(bkg) * (sig[1:] + sig[:-1]) / 2.0))


def summary_rows(curves: dict) -> dict[str, dict[str, float]]:
    rows = {}
    for name, (sig, bkg, *_) in curves.items():
        rej = interpolate_rejection(sig, bkg, np.array([0.3, 0.5, 0.7]))
        rows[name] = {
            "auc": area(sig, bkg),
            "rejection_eff30": float(rej[0]),
            "rejection_eff50": float(rej[1]),
            "rejection_eff70": float(rej[2]),
        }
    return rows


def mass_tau21_in_windows(
    out: Path, splits: list[str], windows: dict, files: list[str] | None = None
) -> dict[str, dict]:
    """AUC of the BDT on (mass, tau21) in all and inside each window, on the jets the CNN is
    looked at with: what mass and tau21 still tell apart there (the CNN's excess over it is
    new information)."""
    pred = predict_splits(out / "cnn", splits, files=files)
    path = out / "bdt_mass_tau21" / "checkpoints" / "best.ckpt"
    bdt = load_estimator(load_checkpoint(path, trust=True), path)
    obs = pred["observers"]
    score = bdt.predict(np.stack([obs["jet_m"], obs["tau21"]], axis=1).astype(np.float32))["score"]
    is_sig = (pred["label"] == 1).astype(int)
    found = {"full": dict(zip(("auc", "auc_error"), mi.auc_with_error(score, is_sig), strict=True))}
    for title, ranges in windows.items():
        keep = mi.in_window(obs, ranges)
        auc, err = mi.auc_with_error(score[keep], is_sig[keep])
        found[title] = {"auc": auc, "auc_error": err}
    return found


def window_table(found: dict) -> list[str]:
    """Markdown rows: counts and AUCs of the CNN and of the BDT on (mass, tau21) per window."""
    lines = [
        "| window | W jets | QCD jets | CNN AUC | BDT (m, tau21) AUC |",
        "|---|---|---|---|---|",
    ]
    for k, v in found["cnn"].items():
        ref = found["bdt_mass_tau21"][k]
        lines.append(
            f"| {k} | {v['n_signal']} | {v['n_background']} | {v['auc']:.3f} +- "
            f"{v['auc_error']:.3f} | {ref['auc']:.3f} +- {ref['auc_error']:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n-events", type=int, default=40000, help="sample.n_events of wtag_images"
    )
    parser.add_argument("--out", type=Path, default=Path("outputs/wtag_study"))
    parser.add_argument("--epochs", type=int, default=20, help="trainer.max_epochs of the networks")
    parser.add_argument(
        "--splits",
        nargs="+",
        default=["val", "test"],
        help="splits the interpretation looks at (val adds statistics)",
    )
    parser.add_argument(
        "--override", nargs="*", default=[], help="more Hydra overrides for every run"
    )
    parser.add_argument(
        "--window-file",
        nargs="*",
        default=None,
        help="other wtag_images files (e.g. generated in the 65-95 GeV mass window) "
        "to look at the CNN in the narrow windows with more jets",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    common = [
        f"sample.n_events={args.n_events}",
        f"trainer.max_epochs={args.epochs}",
        *args.override,
    ]
    out = args.out
    metrics = {label: run_model(name, extra, out, common) for label, (name, extra) in RUNS.items()}
    curves, scores, test, jets = baselines(out / "cnn")
    options = PlotOptions(energy="13 TeV")
    set_style(options.style)
    for label, (name, _) in RUNS.items():
        cols, _, _ = read_predictions(out / name / "eval" / "predictions.h5")
        if not np.array_equal(cols["index"], test):
            raise RuntimeError(
                f"{name}: its test jets differ from the CNN's; rerun with the same data"
            )
        scores[label] = cols["score"]
        curves[label] = roc_curve(cols["score"], (cols["label"] == 1).astype(int))[:2]
    labels = read_predictions(out / "cnn" / "eval" / "predictions.h5")[0]["label"]
    n_bkg = float((labels == 0).sum())
    order = [CUTS, FISHER, *RUNS]
    plot_roc(
        {k: (*curves[k][:2], n_bkg) for k in order}, out / "roc", reference=CUTS, options=options
    )
    rows = summary_rows({k: curves[k] for k in order})
    sets = {"": narrow_windows(), "_wide": WIDE}
    every = {**sets[""], **sets["_wide"]}
    cnn = interpret_run(out / "cnn", splits=args.splits, windows=sets, options=options)
    errors = auc_errors(scores, jets)
    for k, v in errors.items():
        if k in rows:
            rows[k]["auc_error"] = v["auc_error"]
    summary = {
        "methods": rows,
        "differences": {k: v for k, v in errors.items() if k not in rows},
        "train_metrics": metrics,
        "windows": {
            "jets": cnn["splits"],
            "cnn": cnn["windows"],
            "bdt_mass_tau21": mass_tau21_in_windows(out, args.splits, every),
        },
    }
    if args.window_file:
        found = interpret_run(out / "cnn", out / "cnn" / "plots_mass_window", windows=sets,
                              options=options, files=args.window_file)  # fmt: skip
        summary["mass_window_sample"] = {
            "jets": args.window_file,
            "cnn": found["windows"],
            "bdt_mass_tau21": mass_tau21_in_windows(out, args.splits, every, args.window_file),
        }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    lines = ["| method | AUC | rejection at 30 / 50 / 70% |", "|---|---|---|"]
    lines += [f"| {k} | {v['auc']:.4f} +- {v['auc_error']:.4f} | {v['rejection_eff30']:.0f} / "
              f"{v['rejection_eff50']:.1f} / {v['rejection_eff70']:.1f} |"
              for k, v in rows.items()]  # fmt: skip
    lines += ["", "| AUC difference (paired bootstrap) | value |", "|---|---|"]
    lines += [f"| {k} | {v['auc']:+.4f} +- {v['auc_error']:.4f} |"
              for k, v in summary["differences"].items()]  # fmt: skip
    for key in ("windows", "mass_window_sample"):
        if key in summary:
            lines += ["", f"jets: {summary[key]['jets']}", ""] + window_table(summary[key])
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    log.info("W-tagging study written to %s:\n%s", out, "\n".join(lines))


if __name__ == "__main__":
    main()
