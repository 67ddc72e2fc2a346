"""Looking into an image classifier after training (lecture 001, de Oliveira et al. 2016).

:func:`interpret_run` reloads a run's best checkpoint and its data, predicts the chosen splits
and writes under ``<run>/plots/``:

* ``mean_image_label<k>``, ``mean_image_difference``: average images per class and their
  difference on translated (eta, phi);
* ``pearson``: the per-pixel Pearson correlation of the output with the intensity, in the full
  sample and in narrow windows of mass and tau21 (79 < m < 81 GeV; tau21 in [0.19, 0.21],
  [0.39, 0.41], [0.59, 0.61] by default), and ``roc_windows``: the ROC inside those windows,
  where mass and tau21 carry (almost) no information, with Clopper-Pearson bands;
* ``filters``, ``convolved_difference``: the first-layer filters and ``X_sig * W - X_bkg * W``
  for the strongest ones; ``most_activating``: the average of the top 1% images by output;

and ``<run>/plots/interpret.json`` with the counts and AUCs (with bootstrap errors) per window.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from hepml.data.dataset import batch_loader
from hepml.metrics import interpret as mi
from hepml.metrics.roc import roc_curve
from hepml.pipelines.common import build_datamodule, build_task, load_checkpoint, write_json
from hepml.plotting.images import plot_difference_image, plot_mean_images
from hepml.plotting.interpret import plot_filters, plot_image_panels
from hepml.plotting.labels import display_name
from hepml.plotting.options import PlotOptions
from hepml.plotting.roc import plot_roc
from hepml.plotting.style import set_style

log = logging.getLogger(__name__)

MASS_WINDOW = (79.0, 81.0)
TAU21_WINDOWS = ((0.19, 0.21), (0.39, 0.41), (0.59, 0.61))


def predict_splits(
    run_dir: str | Path,
    splits: Sequence[str] = ("test",),
    trust: bool = True,
    files: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A run's best checkpoint applied to its own data (or to other ``files``, read whole as the
    test split): images (after the data transform, before the normalisation), scores, labels,
    observers and the loaded task.

    Returns
    -------
    dict
        ``images [n, C, H, W]``, ``score [n]``, ``label [n]``, ``observers {name: [n]}``,
        ``rows`` (event numbers), ``task``, ``datamodule``, ``config``.
    """
    run_dir = Path(run_dir)
    ckpt_path = run_dir / "checkpoints" / "best.ckpt"
    ckpt = load_checkpoint(ckpt_path, trust=trust)
    if "state_dict" not in ckpt:
        raise ValueError(f"{ckpt_path} holds an estimator: interpretation needs a network")
    meta = ckpt["hepml"]
    cfg = OmegaConf.create(meta["config"])
    data = OmegaConf.to_container(cfg.data)
    if files:
        data = {**data, "files": [str(f) for f in files], "sources": None, "eval_all": True}
        splits = ["test"]
    dm = build_datamodule(data)
    dm.load(stats=meta["stats"])
    if "images" not in dm.arrays["inputs"]:
        raise ValueError(f"{run_dir}: the data config has no `images` input group to look into")
    task = build_task(cfg, instantiate(cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    task.eval()
    rows = np.concatenate([dm.indices[s] for s in splits])
    scores = []
    with torch.no_grad():
        for split in splits:
            for batch in batch_loader(dm.dataset(split), dm.eval_batch_size, False):
                probs = task.probabilities(task(batch["inputs"]))
                scores.append(probs[:, task.signal_class].numpy())
    observers = {k: np.asarray(v)[rows] for k, v in dm.arrays.get("observers", {}).items()}
    return {
        "images": dm.arrays["inputs"]["images"][rows],
        "score": np.concatenate(scores),
        "label": dm.arrays["label"][rows],
        "observers": observers,
        "rows": rows,
        "task": task,
        "datamodule": dm,
        "config": cfg,
    }


def narrow_windows(
    mass: str = "jet_m",
    tau21: str = "tau21",
    mass_window: Sequence[float] = MASS_WINDOW,
    tau21_windows: Sequence[Sequence[float]] = TAU21_WINDOWS,
) -> dict[str, dict]:
    """``{title: {observer: (lo, hi)}}`` of the lecture's windows in mass and tau21."""
    lo, hi = mass_window
    return {
        f"${lo:g} < m < {hi:g}$, $\\tau_{{21}} \\in [{a:g}, {b:g}]$": {
            mass: (lo, hi),
            tau21: (a, b),
        }
        for a, b in tau21_windows
    }


def window_results(
    images: np.ndarray,
    score: np.ndarray,
    label: np.ndarray,
    observers: Mapping[str, np.ndarray],
    windows: Mapping[str, Mapping],
    signal: int = 1,
) -> dict[str, Any]:
    """Pearson maps, counts, AUCs (with bootstrap errors) and ROCs in the full sample and in
    each window ``{title: {observer: (lo, hi)}}``."""
    is_sig = (np.asarray(label) == signal).astype(int)
    out: dict[str, Any] = {"pearson": {"full": mi.pixel_correlation(images, score)}, "windows": {},
                           "roc": {}}  # fmt: skip
    auc, err = mi.auc_with_error(score, is_sig)
    n_s, n_b = int(is_sig.sum()), int((1 - is_sig).sum())
    out["windows"]["full"] = {"n_signal": n_s, "n_background": n_b, "auc": auc, "auc_error": err}
    for title, ranges in windows.items():
        keep = mi.in_window(observers, ranges)
        n_s, n_b = int(is_sig[keep].sum()), int((1 - is_sig[keep]).sum())
        auc, err = mi.auc_with_error(score[keep], is_sig[keep]) if n_s and n_b else (np.nan, np.nan)
        out["windows"][title] = {"n_signal": n_s, "n_background": n_b, "auc": auc, "auc_error": err}
        if keep.sum() > 2:
            out["pearson"][title] = mi.pixel_correlation(images[keep], score[keep])
        if n_s and n_b:
            sig_eff, bkg_eff, _ = roc_curve(score[keep], is_sig[keep])
            out["roc"][f"{title}: AUC {auc:.2f} $\\pm$ {err:.2f}"] = (sig_eff, bkg_eff, float(n_b))
    return out


def image_results(
    images: np.ndarray,
    score: np.ndarray,
    label: np.ndarray,
    filters: np.ndarray | None = None,
    signal: int = 1,
    n_filters: int = 4,
    top_fraction: float = 0.01,
) -> dict[str, Any]:
    """The class difference image, the most activating images and the strongest filters."""
    is_sig = np.asarray(label) == signal
    mean_s, mean_b = images[is_sig].mean(axis=0), images[~is_sig].mean(axis=0)
    out: dict[str, Any] = {"difference": mean_s - mean_b}
    out["most_activating"] = {
        f"top {100 * top_fraction:g}% by output": mi.most_activating(images, score, top_fraction),
        "mean signal": mean_s,
        "mean background": mean_b,
    }
    if filters is not None:
        order, conv = mi.strongest_filters(out["difference"], filters, n_filters)
        out["filters"], out["filter_order"] = filters, order
        out["convolved"] = {f"filter {i}": c for i, c in zip(order, conv, strict=True)}
    return out


def interpret_arrays(
    images: np.ndarray,
    score: np.ndarray,
    label: np.ndarray,
    observers: Mapping[str, np.ndarray],
    windows: Mapping[str, Mapping],
    filters: np.ndarray | None = None,
    signal: int = 1,
) -> dict[str, Any]:
    """Every map and number of the interpretation, from arrays (``images [n, H, W]``)."""
    return {**window_results(images, score, label, observers, windows, signal),
            **image_results(images, score, label, filters, signal)}  # fmt: skip


def first_layer_filters(model: torch.nn.Module) -> np.ndarray | None:
    """The first convolution's filters on the first channel ``[F, k, k]`` (None without one)."""
    conv = getattr(model, "first_conv", None)
    if conv is None:
        return None
    return conv.weight.detach().cpu().numpy()[:, 0]


def draw_windows(
    result: Mapping[str, Any],
    out_dir: Path,
    tag: str = "",
    extent: float = 1.25,
    options: PlotOptions | None = None,
) -> list[Path]:
    """``pearson<tag>`` and ``roc_windows<tag>`` of :func:`window_results`."""
    files = plot_image_panels(result["pearson"], out_dir / f"pearson{tag}",
                              "Pearson correlation of output and pixel $p_T$", extent,
                              limit=1.0, options=options)  # fmt: skip
    if result["roc"]:
        files += plot_roc(result["roc"], out_dir / f"roc_windows{tag}", options=options)
    return files


def draw_images(
    result: Mapping[str, Any],
    images: np.ndarray,
    label: np.ndarray,
    out_dir: Path,
    class_names: Sequence[str],
    extent: float = 1.25,
    options: PlotOptions | None = None,
    signal: int = 1,
) -> list[Path]:
    """Mean images, their difference, the most activating images, filters and convolutions."""
    names = {k: display_name(n) for k, n in enumerate(class_names)}
    files = plot_mean_images(images, label, names, out_dir, extent, options)
    files += plot_difference_image(images, label, signal, 1 - signal, names,
                                   out_dir / "mean_image_difference", extent, options)  # fmt: skip
    files += plot_image_panels(
        result["most_activating"],
        out_dir / "most_activating",
        "Mean pixel intensity",
        extent,
        diverging=False,
        options=options,
        log_scale=True,
    )
    if "filters" in result:
        files += plot_filters(
            result["filters"], out_dir / "filters", options, result["filter_order"]
        )
        files += plot_image_panels(
            result["convolved"],
            out_dir / "convolved_difference",
            "$X_{sig} * W - X_{bkg} * W$",
            extent,
            options=options,
        )
    return files


def interpret_run(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    splits: Sequence[str] = ("test",),
    windows: Mapping[str, Mapping[str, Mapping]] | None = None,
    extent: float = 1.25,
    options: PlotOptions | None = None,
    files: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Interpretation figures and numbers of a trained image classifier (see the module doc).

    Parameters
    ----------
    run_dir : str or Path
        A ``hepml train`` run directory (``checkpoints/best.ckpt``).
    out_dir : str or Path, optional
        Where the figures go; ``<run_dir>/plots`` by default.
    splits : sequence of str
        The data splits to look at (``val`` adds statistics to the narrow windows).
    windows : Mapping, optional
        Sets of windows ``{tag: {title: {observer: (lo, hi)}}}``, each drawn in ``pearson<tag>``
        and ``roc_windows<tag>``; by default ``{"": narrow_windows()}``, the lecture's.
    extent : float
        Half-width of the images in translated eta and phi (1.25 for the 25x25 jet images).
    options : PlotOptions, optional
        Label, energy and formats.
    files : sequence of str, optional
        Other files of the same layout to look at, every event of them (e.g. a sample generated
        in the W mass window, for statistics in the narrow windows); ``splits`` is then ignored.

    Returns
    -------
    dict
        The numbers written to ``interpret.json``: the splits, and per window (``full`` and
        every title) the counts, the AUC and its bootstrap error.
    """
    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / "plots"
    pred = predict_splits(run_dir, splits, files=files)
    images, score, label = pred["images"][:, 0], pred["score"], pred["label"]
    signal = pred["task"].signal_class
    options = options or PlotOptions(energy=pred["datamodule"].energy)
    set_style(options.style)
    classes = list(pred["config"].data.get("classes") or ["background", "signal"])
    result = image_results(images, score, label, first_layer_filters(pred["task"].model), signal)
    figures = draw_images(result, images, label, out, classes, extent, options, signal)
    numbers: dict[str, Any] = {"splits": ["test"] if files else list(splits), "windows": {}}
    if files:
        numbers["files"] = [str(f) for f in files]
    for tag, group in ({"": narrow_windows()} if windows is None else windows).items():
        found = window_results(images, score, label, pred["observers"], group, signal)
        figures += draw_windows(found, out, tag, extent, options)
        numbers["windows"].update(found["windows"])
    write_json(out / "interpret.json", numbers)
    log.info("Interpretation of %s: %d figures in %s", run_dir, len(figures), out)
    return numbers
