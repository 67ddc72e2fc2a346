"""Multi-class classifiers: the confusion matrix and one-vs-rest ROC curves.

Read from a predictions file's ``probabilities [N, C]`` and ``label`` columns (written by every
classification with more than two classes); :func:`plot_multiclass` draws both figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.multiclass import confusion_matrix
from hepml.metrics.roc import roc_curve
from hepml.metrics.uncertainty import effective_entries
from hepml.plotting.labels import display_name
from hepml.plotting.options import PlotOptions
from hepml.plotting.roc import plot_roc
from hepml.plotting.style import label, new_figure, save

__all__ = ["plot_confusion_matrix", "plot_multiclass", "plot_one_vs_rest"]


def plot_confusion_matrix(probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                          path: str | Path, weights: np.ndarray | None = None,
                          options: PlotOptions | None = None) -> list[Path]:
    """Row-normalised confusion matrix (true class per row, the most probable class per column)."""
    options = options or PlotOptions()
    matrix = confusion_matrix(probabilities, labels, weights)
    k = matrix.shape[0]
    fig, (ax,) = new_figure()
    image = ax.imshow(np.nan_to_num(matrix), cmap="Blues", vmin=0.0, vmax=1.0, origin="upper")
    for i in range(k):
        for j in range(k):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize="small",
                        color="white" if matrix[i, j] > 0.6 else "black")
    names = [display_name(n) for n in class_names]
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.minorticks_off()
    ax.set_xlabel("Predicted class (highest probability)")
    ax.set_ylabel("True class")
    fig.colorbar(image, ax=ax, label="Fraction of the true class")
    label(ax, options)
    return save(fig, path, options)


def plot_one_vs_rest(probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                     path: str | Path, weights: np.ndarray | None = None,
                     options: PlotOptions | None = None) -> list[Path]:
    """One ROC curve per class: its probability as the score, that class against all the others."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels).ravel()
    curves = {}
    for k, name in enumerate(class_names):
        is_k = (y == k).astype(int)
        if is_k.min() == is_k.max():
            continue  # a class absent (or alone) in this file: no curve
        sig_eff, bkg_eff, _ = roc_curve(p[:, k], is_k, weights)
        rest = is_k == 0
        n_rest = effective_entries(None if weights is None else np.asarray(weights)[rest], n=int(rest.sum()))
        curves[f"{display_name(name)} vs rest"] = (sig_eff, bkg_eff, n_rest)
    if not curves:
        return []
    return plot_roc(curves, path, options=options)


def plot_multiclass(columns: dict[str, np.ndarray], info: dict[str, Any], out: Path,
                    options: PlotOptions) -> list[Path]:
    """``confusion_matrix`` and ``roc_one_vs_rest`` of a multi-class predictions file."""
    p = np.asarray(columns["probabilities"])
    names = list(info.get("class_names") or [f"class {k}" for k in range(p.shape[1])])
    w = columns.get("weight")
    files = plot_confusion_matrix(p, columns["label"], names, out / "confusion_matrix", w, options)
    return files + plot_one_vs_rest(p, columns["label"], names, out / "roc_one_vs_rest", w, options)
