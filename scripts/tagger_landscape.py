"""Every particle model on top tagging and quark/gluon, in one table each (README "Particle taggers").

``python scripts/tagger_landscape.py`` runs, for each experiment, ``hepml train -m experiment=EXP
model=deepsets,efn,...`` with the same short budget for every model (``--epochs``, and
``--max-time`` of training per model), then ``hepml compare`` over the multirun, and writes
``OUT/landscape.md`` and ``landscape.json``: AUC, background rejection at 30 and 50% signal
efficiency, parameters, MACs per jet, training and inference jets/s, training time. Finished jobs
(a job directory with ``eval/predictions.h5``) are kept as they are; ``--rerun`` trains again.

``--experiments flavour_tagging`` (models ``deepsets,deepjet,rnn`` unless ``--models``) adds the
light- and c-jet rejections at 70% b-jet efficiency along the ROC of ``D_b = ln(p_b / (f_c p_c + (1 - f_c)
p_light))`` with the experiment's ``f_c``.

The quark/gluon sample labels jets by process (Z+jet, quark-enriched, against dijets,
gluon-enriched). Its table also gives the same test jets' AUC and rejections against the truth
flavour of the matched parton (the ``parton_pdgid`` observer: quarks against gluons), the label of
the published benchmarks.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np

from hepml.metrics.roc import auc, rejection_at
from hepml.pipelines.compare import compare
from hepml.predictions import read_predictions

REPO = Path(__file__).resolve().parents[1]
MODELS = ["deepsets", "efn", "particlenet_lite", "particlenet", "part", "transformer", "rnn", "deepjet", "recnn"]
FLAVOUR_MODELS = ["deepsets", "deepjet", "rnn"]  # b / c / light: the track models against the Deep Sets baseline
log = logging.getLogger("tagger_landscape")


def train_models(experiment: str, models: list[str], out: Path, epochs: int, max_time: str) -> None:
    """The multirun of every model, unless each job already has its predictions."""
    if all((out / str(i) / "eval" / "predictions.h5").is_file() for i in range(len(models))):
        log.info("%s: all %d runs finished, kept", experiment, len(models))
        return
    hepml = Path(sys.executable).with_name("hepml")
    cmd = [str(hepml), "train", "-m", f"experiment={experiment}", f"model={','.join(models)}",
           f"trainer.max_epochs={epochs}", f"++trainer.max_time={max_time}", "callbacks.progress_bar=null",
           f"hydra.sweep.dir={out}"]
    log.info("%s", " ".join(cmd))
    subprocess.run(cmd, check=True, cwd=REPO)


def truth_flavour(predictions: Path) -> dict[str, float]:
    """AUC and rejections of the score for quark (|pdg id| 1-5) against gluon (21) jets."""
    cols, _, _ = read_predictions(predictions)
    pid = np.abs(np.asarray(cols["parton_pdgid"]))
    quark, gluon = (pid >= 1) & (pid <= 5), pid == 21
    keep = quark | gluon
    score, label = np.asarray(cols["score"])[keep], quark[keep].astype(int)
    return {"truth_auc": auc(score, label), "truth_rejection_eff30": float(rejection_at(score, label, 0.3)),
            "truth_rejection_eff50": float(rejection_at(score, label, 0.5)),
            "truth_quarks": int(quark.sum()), "truth_gluons": int(gluon.sum())}


def flavour_rejections(predictions: Path, f_c: float = 0.05, b_eff: float = 0.7) -> dict[str, float]:
    """Light and c rejection at ``b_eff`` along the D_b ROC of b against each (classes light, c, b =
    0, 1, 2): the numbers of the run's ``flavour_rejection.png``."""
    from hepml.metrics.multiclass import b_discriminant

    cols, _, _ = read_predictions(predictions)
    label = np.asarray(cols["label"])
    d_b = b_discriminant(cols["probabilities"], 2, 1, 0, f_c)
    out: dict[str, float] = {"n_light": int((label == 0).sum()), "n_c": int((label == 1).sum()),
                             "n_b": int((label == 2).sum())}
    for name, cls in (("light", 0), ("c", 1)):
        keep = (label == 2) | (label == cls)
        out[f"{name}_rejection"] = float(rejection_at(d_b[keep], (label[keep] == 2).astype(int), b_eff))
    return out


def table(rows: list[dict], truth: bool, flavour: bool = False) -> str:
    head = ["model", "parameters", "MACs / jet", "AUC", "rejection at 30 / 50%"]
    head += ["quark vs gluon (truth) AUC", "rejection at 30 / 50%"] if truth else []
    head += ["light / c rejection at 70% b eff. (D_b)"] if flavour else []
    head += ["train jets/s", "infer jets/s", "train time"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"`{r['model']}`", f"{int(float(r['n_parameters'])):,}", f"{float(r['macs_per_event']) / 1e6:.2f} M",
                 f"{float(r['auc']):.4f}",
                 f"{float(r['rejection_eff30']):.0f} / {float(r['rejection_eff50']):.1f}"]
        if truth:
            cells += [f"{r['truth_auc']:.4f}", f"{r['truth_rejection_eff30']:.0f} / {r['truth_rejection_eff50']:.1f}"]
        if flavour:
            cells += [f"{r['light_rejection']:.0f} / {r['c_rejection']:.1f}"]
        cells += [f"{float(r['train_events_per_s']):,.0f}", f"{float(r['infer_events_per_s']):,.0f}",
                  f"{float(r['train_time_s']):.0f} s"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, list[dict]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", nargs="+", default=["top_tagging", "quark_gluon"])
    parser.add_argument("--models", nargs="+", default=None, help=f"default {MODELS} ({FLAVOUR_MODELS} for flavour)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-time", default="00:00:04:00", help="training time per model, DD:HH:MM:SS")
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "landscape")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results, sections = {}, []
    for exp in args.experiments:
        runs = args.out / exp
        models = args.models or (FLAVOUR_MODELS if exp == "flavour_tagging" else MODELS)
        train_models(exp, models, runs, args.epochs, args.max_time)
        compare([runs], args.out / f"{exp}_compare")
        rows = list(csv.DictReader(open(args.out / f"{exp}_compare" / "comparison.csv")))
        truth = exp == "quark_gluon"
        if truth:
            for row in rows:
                row.update(truth_flavour(Path(row["run"]) / "eval" / "predictions.h5"))
        flavour = exp == "flavour_tagging"
        if flavour:
            for row in rows:
                row.update(flavour_rejections(Path(row["run"]) / "eval" / "predictions.h5"))
        results[exp] = rows
        sections.append(f"## {exp} (at most {args.epochs} epochs or {args.max_time} of training per model)\n\n"
                        + table(rows, truth, flavour) + "\n")
    name = "landscape" if set(args.experiments) == {"top_tagging", "quark_gluon"} else "_".join(args.experiments)
    (args.out / f"{name}.md").write_text("\n".join(sections))
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    sys.stdout.write("\n".join(sections))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
