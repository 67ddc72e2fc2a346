"""Photons in the ECAL at mu = 50: identification and energy regression from crystal images.

Identification (``experiment=photon_id``): the MLP and the BDT on the shower shapes, the CNN on
the 11x11 crystal image, and the CNN on image + shower shapes, on the same test candidates:
one ROC figure (``<out>/photon_id_roc.png``). Energy (``experiment=photon_energy``): the CNN on
image + shower shapes and the MLP on the shower shapes alone, against the raw sum of the image's
crystals and the 5x5 sum, both calibrated on the training split (1 / median response): the
resolution (68% half-width of E_pred / E_true over its median) in bins of the true energy and
of the number of pileup interactions (``<out>/energy_resolution_vs_*.png``). Numbers in
``<out>/summary.md`` and ``summary.json``. Finished runs in ``<out>/<run>`` (metrics.json and
eval/predictions.h5 present) are reused as they are: delete one to train it again.

Usage::

    hepml generate sample=photons_pileup n_events=10000 workers=2    # once (~30 candidates/s/core)
    python scripts/photon_study.py --n-events 10000 --out outputs/photon_study
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
from hepml.metrics.resolution import binned_response, calibrate_scale, relative_resolution
from hepml.metrics.roc import interpolate_rejection, roc_curve
from hepml.pipelines.common import build_datamodule, load_checkpoint
from hepml.pipelines.train import train
from hepml.plotting.options import PlotOptions
from hepml.plotting.regression import observer_plot
from hepml.plotting.roc import plot_roc
from hepml.plotting.style import set_style
from hepml.predictions import read_predictions

log = logging.getLogger("photon_study")

WITH_SHAPES = "model.n_scalar_features='${dim:${data.inputs.scalars}}'"
ID_RUNS = {
    "MLP (shower shapes)": ("id_mlp", ["experiment=photon_id"]),
    "BDT (shower shapes)": ("id_bdt", ["experiment=photon_id", "model=bdt"]),
    "CNN (crystal image)": ("id_cnn", ["experiment=photon_id", "model=cnn"]),
    "CNN (image + shower shapes)": (
        "id_cnn_shapes",
        ["experiment=photon_id", "model=cnn", WITH_SHAPES],
    ),
}
ENERGY_RUNS = {
    "CNN (image + shower shapes)": ("energy_cnn", ["experiment=photon_energy"]),
    "MLP (shower shapes)": ("energy_mlp", ["experiment=photon_energy", "model=mlp"]),
}
RAW, E5X5 = r"$E_{11\times 11}$ (calibrated)", r"$E_{5\times 5}$ (calibrated)"


def run_model(name: str, extra: list[str], out: Path, common: list[str]) -> dict:
    overrides = [
        *extra,
        *common,
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
    log.info("Training %s: %s", name, " ".join(extra))
    return train(cfg)


def area(sig: np.ndarray, bkg: np.ndarray) -> float:
    return float(np.sum(np.diff(bkg) * (sig[1:] + sig[:-1]) / 2.0))


def identification(out: Path, common: list[str], options: PlotOptions) -> dict:
    """Train the ID models, one ROC figure, AUC and rejections per model."""
    curves, rows, index, scores = {}, {}, None, {}
    for label, (name, extra) in ID_RUNS.items():
        run_model(name, extra, out, common)
        cols, _, _ = read_predictions(out / name / "eval" / "predictions.h5")
        if index is not None and not np.array_equal(cols["index"], index):
            raise RuntimeError(f"{name}: its test candidates differ from the first model's")
        index, is_sig = cols["index"], (cols["label"] == 1).astype(int)
        scores[label] = cols["score"]
        sig, bkg, _ = roc_curve(cols["score"], is_sig)
        curves[label] = (sig, bkg, float((cols["label"] == 0).sum()))
        rej = interpolate_rejection(sig, bkg, np.array([0.5, 0.7, 0.9]))
        rows[label] = {
            "auc": area(sig, bkg),
            "auc_error": mi.auc_with_error(cols["score"], is_sig)[1],
            "rejection_eff50": float(rej[0]),
            "rejection_eff70": float(rej[1]),
            "rejection_eff90": float(rej[2]),
        }
    plot_roc(curves, out / "photon_id_roc", reference="MLP (shower shapes)", options=options)
    image = "CNN (crystal image)"
    for other in ("MLP (shower shapes)", "BDT (shower shapes)"):
        diff, err = mi.auc_difference(scores[image], scores[other], is_sig)
        rows[f"{image} - {other}"] = {"auc": diff, "auc_error": err}
    return rows


def energy(out: Path, common: list[str], options: PlotOptions, n_bins: int) -> dict:
    """Train the regressions; resolution per true-energy bin against the calibrated sums."""
    responses, truth, pileup = {}, None, None
    for label, (name, extra) in ENERGY_RUNS.items():
        run_model(name, extra, out, common)
        cols, _, _ = read_predictions(out / name / "eval" / "predictions.h5")
        responses[label] = cols["pred"] / cols["truth"]
        truth, pileup = cols["truth"], cols["n_pileup"]
        responses[RAW] = cols["baseline"] / cols["truth"]  # calibrated by the data layer
        e5x5 = cols["e5x5"]
    cfg = load_checkpoint(out / "energy_cnn" / "checkpoints" / "best.ckpt", trust=True)["hepml"][
        "config"
    ]
    dm = build_datamodule(cfg["data"])
    dm.load()
    train_rows = dm.indices["train"]
    scale = calibrate_scale(
        dm.arrays["observers"]["e5x5"][train_rows], dm.arrays["truth"][train_rows]
    )
    responses[E5X5] = scale * e5x5 / truth
    edges = np.quantile(truth, np.linspace(0, 1, n_bins + 1))
    table = {"edges": edges.tolist(), "inclusive": {}, "per_bin": {}}
    for label, resp in responses.items():
        table["inclusive"][label] = relative_resolution(resp)
        table["per_bin"][label] = binned_response(resp, truth, edges)["resolution"].tolist()
    table["count"] = binned_response(responses[RAW], truth, edges)["count"].tolist()
    observer_plot(
        truth,
        responses,
        out / "energy_resolution_vs_truth",
        r"True energy $E^{\gamma}$ [GeV]",
        options=options,
    )
    observer_plot(
        pileup.astype(float),
        responses,
        out / "energy_resolution_vs_pileup",
        "Pileup interactions",
        options=options,
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n-events", type=int, default=10000, help="sample.n_events of photons_pileup"
    )
    parser.add_argument("--out", type=Path, default=Path("outputs/photon_study"))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--bins", type=int, default=5, help="equal-population bins of true energy")
    parser.add_argument(
        "--override", nargs="*", default=[], help="more Hydra overrides for every run"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    common = [
        f"sample.n_events={args.n_events}",
        f"trainer.max_epochs={args.epochs}",
        *args.override,
    ]
    options = PlotOptions(energy="13 TeV")
    set_style(options.style)
    ident = identification(args.out, common, options)
    table = energy(args.out, common, options, args.bins)
    (args.out / "summary.json").write_text(
        json.dumps({"identification": ident, "energy": table}, indent=2) + "\n"
    )
    lines = ["| photon ID | AUC | rejection at 50 / 70 / 90% |", "|---|---|---|"]
    for k, v in ident.items():
        rej = (
            f"{v['rejection_eff50']:.0f} / {v['rejection_eff70']:.0f} / {v['rejection_eff90']:.1f}"
            if "rejection_eff50" in v
            else "(paired difference)"
        )
        lines.append(f"| {k} | {v['auc']:.4f} +- {v['auc_error']:.4f} | {rej} |")
    edges = table["edges"]
    bins = [f"{a:.0f}-{b:.0f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    lines += [
        "",
        "| energy resolution | inclusive | " + " | ".join(f"{b} GeV" for b in bins) + " |",
        "|---|---|" + "---|" * len(bins),
    ]
    lines += [
        f"| {k} | {table['inclusive'][k]:.4f} | " + " | ".join(f"{r:.4f}" for r in v) + " |"
        for k, v in table["per_bin"].items()
    ]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    log.info("Photon study written to %s:\n%s", args.out, "\n".join(lines))


if __name__ == "__main__":
    main()
