"""Looking into an image classifier: the interpretation arrays and the figures of a trained run."""

from __future__ import annotations

import json

import numpy as np
from helpers import compose_train, write_h5

from hepml.pipelines.interpret import interpret_arrays, interpret_run, narrow_windows
from hepml.plotting.options import PlotOptions


def jets(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """25x25 'jet images': a core, plus a second prong below it for W jets (label 1)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    img = np.zeros((n, 25, 25), np.float32)
    img[:, 12, 12] = rng.uniform(100, 200, n)
    img[label == 1, 12, 8] = rng.uniform(50, 100, (label == 1).sum())
    img += rng.exponential(0.5, img.shape) * (rng.uniform(size=img.shape) < 0.05)
    return {
        "image": img.reshape(n, 625),
        "label": label,
        "jet_pt": rng.uniform(250, 300, n),
        "jet_eta": rng.normal(0, 1, n),
        "jet_m": np.where(label == 1, rng.normal(80, 5, n), rng.uniform(20, 150, n)),
        "tau21": rng.uniform(0, 1, n),
        "n_const": rng.integers(5, 50, n),
    }


def test_interpretation_of_a_network_reading_one_pixel():
    rng = np.random.default_rng(1)
    images = rng.exponential(1.0, (3000, 25, 25))
    label = (images[:, 12, 8] > 1.0).astype(int)
    score = images[:, 12, 8]
    obs = {"jet_m": rng.uniform(70, 90, 3000), "tau21": rng.uniform(0, 1, 3000)}
    windows = {"wide": {"jet_m": (75, 85), "tau21": (0.0, 0.5)}}
    filters = np.zeros((3, 3, 3))
    filters[2, 1, 1] = 1.0
    out = interpret_arrays(images, score, label, obs, windows, filters)
    full = out["pearson"]["full"]
    assert np.unravel_index(np.nanargmax(full), full.shape) == (12, 8) and full[12, 8] > 0.99
    assert out["windows"]["full"]["auc"] == 1.0
    assert 600 < out["windows"]["wide"]["n_signal"] + out["windows"]["wide"]["n_background"] < 900
    assert out["windows"]["wide"]["auc"] == 1.0 and out["roc"]
    assert list(out["filter_order"])[0] == 2
    top = out["most_activating"]["top 1% by output"]
    assert top[12, 8] > 5 * np.median(top)


def test_narrow_windows_are_the_lectures():
    w = narrow_windows()
    assert len(w) == 3
    assert [v["tau21"] for v in w.values()] == [(0.19, 0.21), (0.39, 0.41), (0.59, 0.61)]
    assert all(v["jet_m"] == (79.0, 81.0) for v in w.values())


def test_interpret_run_writes_the_figures(tmp_path):
    path = write_h5(tmp_path / "jets.h5", jets(600))
    out = tmp_path / "run"
    cfg = compose_train(
        [
            "experiment=wtag_tagging",
            f"data.files=[{path}]",
            "~data.inputs.particles",
            "trainer.max_epochs=1",
            "+trainer.limit_train_batches=3",
            "plots=false",
            "callbacks.progress_bar=null",
            "logger=csv",
            "data.batch_size=64",
            f"paths.output_dir={out}",
            f"paths.cache_dir={tmp_path}/cache",
        ]
    )
    from hepml.pipelines.train import train

    train(cfg)
    windows = {"W peak": {"jet_m": (70.0, 90.0), "tau21": (0.0, 1.0)}}
    numbers = interpret_run(out, splits=["val", "test"], windows={"": windows},
                            options=PlotOptions(formats=("png",)))
    names = {p.name for p in (out / "plots").glob("*.png")}
    assert {
        "mean_image_label0.png",
        "mean_image_label1.png",
        "mean_image_difference.png",
        "pearson.png",
        "roc_windows.png",
        "filters.png",
        "convolved_difference.png",
        "most_activating.png",
    } <= names
    saved = json.loads((out / "plots" / "interpret.json").read_text())
    assert saved["windows"]["W peak"]["n_signal"] == numbers["windows"]["W peak"]["n_signal"] > 0
    assert saved["splits"] == ["val", "test"]
    # the same from the command line, with the lecture's windows
    from hepml.cli import main

    main(["interpret", str(out), "-o", str(tmp_path / "cli"), "--splits", "test"])
    assert {"pearson.png", "mean_image_difference.png", "interpret.json"} <= {p.name for p in (tmp_path / "cli").iterdir()}
    lecture = json.loads((tmp_path / "cli" / "interpret.json").read_text())["windows"]
    assert {"full", *[t for t in lecture if "79 < m < 81" in t]} <= set(lecture) and len(lecture) == 4
