"""The generic sample runner and ``hepml merge`` with a cheap fake builder (no Pythia)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import pytest
import uproot

from hepml.cli import main as cli_main
from hepml.data.io import write_columns
from hepml.generate.runner import chunk_seed, generate_sample, row_targets
from hepml.pipelines.merge import merge

REPO = Path(__file__).resolve().parents[2]
PROCESSES = {"a": {"label": 1, "fraction": 0.7, "mean": 5.0}, "b": {"label": 0, "fraction": 0.3}}


def fake_builder(seed, n_events, mean=0.0, prob=0.3, calls_dir=None, weight=False):
    """About ``prob * n_events`` rows of random numbers with a jagged ``hits_*`` list."""
    if calls_dir is not None:
        calls = Path(calls_dir)
        with open(calls / "calls", "a") as handle:
            handle.write(f"{seed}\n")
        fail = calls / "fail_after"
        if fail.exists() and len((calls / "calls").read_text().split()) > int(fail.read_text()):
            raise RuntimeError("simulated crash")
    rng = np.random.default_rng(seed)
    n = rng.binomial(n_events, prob)
    counts = rng.integers(0, 4, n)
    columns = {
        "x": rng.normal(mean, 1.0, n),
        "seed": np.full(n, seed, dtype=np.int64),
        "n_hits": counts.astype(np.int32),
        "hits_e": ak.unflatten(rng.random(counts.sum()).astype(np.float32), counts),
        "hits_q": ak.unflatten(rng.integers(-1, 2, counts.sum()).astype(np.int32), counts),
    }
    if weight:
        columns["weight"] = np.full(n, 2.0, dtype=np.float32)
    return columns


def fake_plots(path, out_dir):
    out_dir.mkdir(parents=True)
    (out_dir / "called.txt").write_text(str(path))
    return [out_dir / "called.txt"]


def _generate(path, **options):
    kwargs = {"name": "fake", "builder": fake_builder, "output": path, "n_events": 101,
              "processes": PROCESSES, "seed": 3, "chunk_size": 40, "progress": False}
    return generate_sample(**{**kwargs, **options})


def _read(path):
    with h5py.File(path) as handle:
        return {k: handle[k][()] for k in handle}, dict(handle.attrs)


def _calls(calls_dir):
    path = Path(calls_dir) / "calls"
    return path.read_text().split() if path.exists() else []


def test_row_targets_add_up():
    assert row_targets(101, {"a": 0.7, "b": 0.3}) == {"a": 71, "b": 30}
    assert row_targets(10, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}) == {"a": 4, "b": 3, "c": 3}
    with pytest.raises(ValueError, match="add up to 1"):
        row_targets(10, {"a": 0.5, "b": 0.3})


def test_rows_in_chunk_order_truncated_with_label_and_process(tmp_path):
    columns, attrs = _read(_generate(tmp_path / "s.h5", shuffle=False,
                                     processes={**PROCESSES, "b": {**PROCESSES["b"], "weight": True}}))
    assert np.bincount(columns["process"]).tolist() == [71, 30]
    np.testing.assert_array_equal(columns["label"], np.where(columns["process"] == 0, 1, 0))
    np.testing.assert_array_equal(columns["weight"], np.where(columns["process"] == 0, 1.0, 2.0))
    # process a: the builder's rows of chunks 0, 1, ... in order, cut at 71
    expected = np.concatenate([fake_builder(chunk_seed(3, "a", i), 40, mean=5.0)["x"]
                               for i in range(len(json.loads(attrs["chunk_seeds"])["a"]))])
    assert expected.size >= 71
    np.testing.assert_array_equal(columns["x"][:71], expected[:71])
    assert columns["hits_e"].shape[0] == 101 and h5py.File(tmp_path / "s.h5")["hits_e"].attrs["jagged"]
    assert not (tmp_path / "s.h5.parts").exists()


def test_workers_and_shuffle_do_not_change_the_rows(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))  # spawned workers import this module as tests.generate...
    one, _ = _read(_generate(tmp_path / "one.h5"))
    two, _ = _read(_generate(tmp_path / "two.h5", workers=2))
    for name in one:
        np.testing.assert_array_equal(one[name], two[name])
    grouped, _ = _read(_generate(tmp_path / "grouped.h5", shuffle=False))
    assert not np.array_equal(grouped["x"], one["x"])
    np.testing.assert_array_equal(np.sort(grouped["x"]), np.sort(one["x"]))
    other, _ = _read(_generate(tmp_path / "other.h5", seed=4))
    assert not np.array_equal(np.sort(other["x"]), np.sort(one["x"]))


def test_provenance(tmp_path):
    _, attrs = _read(_generate(tmp_path / "s.h5", params={"prob": 0.5}))
    config = json.loads(attrs["config"])
    assert config["params"] == {"prob": 0.5} and config["processes"] == PROCESSES
    assert attrs["builder"] == f"{__name__}.fake_builder" and attrs["sample"] == "fake"
    seeds = json.loads(attrs["chunk_seeds"])
    assert seeds["b"] == [chunk_seed(3, "b", i) for i in range(len(seeds["b"]))]
    generated, kept = json.loads(attrs["n_generated"]), json.loads(attrs["n_kept"])
    assert generated == {p: 40 * len(s) for p, s in seeds.items()}
    assert kept["a"] >= 71 and kept["b"] >= 30
    assert json.loads(attrs["efficiency"])["a"] == pytest.approx(kept["a"] / generated["a"])
    assert json.loads(attrs["n_rows"]) == {"a": 71, "b": 30}
    assert attrs["hepml_version"] and attrs["pythia8mc_version"] and attrs["fastjet_version"]


def test_root_output_keeps_jagged_columns_and_provenance(tmp_path):
    h5, _ = _read(_generate(tmp_path / "s.h5"))
    path = _generate(tmp_path / "s.root", format="root")
    with uproot.open(path) as handle:
        arrays = handle["events"].arrays(library="ak")
        provenance = json.loads(str(handle["provenance"]))
    assert provenance["seed"] == 3 and json.loads(provenance["n_rows"]) == {"a": 71, "b": 30}
    assert str(ak.type(arrays["hits_q"]).content) == "var * int32"
    np.testing.assert_array_equal(ak.to_numpy(arrays["x"]), h5["x"])
    np.testing.assert_array_equal(ak.to_numpy(ak.num(arrays["hits_e"])), h5["n_hits"])
    with pytest.raises(ValueError, match="format"):
        _generate(tmp_path / "s.h5", format="root")


def test_resume_reuses_finished_chunks(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "fail_after").write_text("2")
    params = {"calls_dir": str(calls)}
    with pytest.raises(RuntimeError, match="simulated crash"):
        _generate(tmp_path / "s.h5", params=params)
    parts = sorted(p.name for p in (tmp_path / "s.h5.parts").glob("*.h5"))
    assert len(parts) == 2 and not (tmp_path / "s.h5").exists()
    first_run = _calls(calls)
    (calls / "fail_after").unlink()
    (calls / "calls").unlink()
    resumed, attrs = _read(_generate(tmp_path / "s.h5", params=params))
    second_run = _calls(calls)
    done_before = {s for s in first_run[:2]}
    assert not done_before & set(second_run)  # finished chunks were not generated again
    used = [str(s) for seeds in json.loads(attrs["chunk_seeds"]).values() for s in seeds]
    assert set(used) <= done_before | set(second_run)
    fresh, _ = _read(_generate(tmp_path / "fresh.h5", params=params))
    for name in fresh:
        np.testing.assert_array_equal(resumed[name], fresh[name])
    assert not (tmp_path / "s.h5.parts").exists()


def test_parts_of_another_config_are_refused(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "fail_after").write_text("1")
    with pytest.raises(RuntimeError):
        _generate(tmp_path / "s.h5", params={"calls_dir": str(calls)})
    (calls / "fail_after").unlink()
    for change in ({"chunk_size": 41}, {"seed": 4}, {"params": {"calls_dir": str(calls), "prob": 0.2}}):
        options = {"params": {"calls_dir": str(calls)}, **change}
        with pytest.raises(ValueError, match=r"delete .*s\.h5\.parts"):
            _generate(tmp_path / "s.h5", **options)
    # n_events, workers and the labels may change: the parts are reused
    _generate(tmp_path / "s.h5", params={"calls_dir": str(calls)}, n_events=20)


def test_zero_rows_and_plots(tmp_path):
    path = _generate(tmp_path / "s.h5", params={"prob": 0.01}, n_events=3, plots=True,
                     plots_fn=f"{__name__}.fake_plots")
    assert len(_read(path)[0]["x"]) == 3
    assert (tmp_path / "s_plots" / "called.txt").read_text() == str(path)
    with pytest.raises(RuntimeError, match="kept no row"):
        _generate(tmp_path / "none.h5", params={"prob": 0.0}, chunk_size=5000)


def test_merge_shards(tmp_path):
    shards = [_generate(tmp_path / f"s{seed}.h5", seed=seed) for seed in (1, 2)]
    root_shard = _generate(tmp_path / "s3.root", seed=3, format="root")
    columns = [_read(s)[0] for s in shards]
    out = merge(tmp_path / "merged.h5", [*shards, root_shard])
    merged, attrs = _read(out)
    assert len(merged["x"]) == 303
    np.testing.assert_array_equal(merged["x"][:202], np.concatenate([c["x"] for c in columns]))
    assert json.loads(attrs["seed"]) == [1, 2, 3]
    assert json.loads(attrs["n_rows"]) == {"a": 213, "b": 90}
    assert len(json.loads(attrs["chunk_seeds"])["a"]) >= 6
    assert attrs["sample"] == "fake"
    cli_main(["merge", str(tmp_path / "merged.root"), *map(str, shards)])
    with uproot.open(tmp_path / "merged.root") as handle:
        arrays = handle["events"].arrays(library="ak")
        assert json.loads(json.loads(str(handle["provenance"]))["seed"]) == [1, 2]
    np.testing.assert_array_equal(ak.to_numpy(ak.num(arrays["hits_e"])), merged["n_hits"][:202])


def test_merge_refusals(tmp_path):
    shard = _generate(tmp_path / "s1.h5", seed=1)
    copy = tmp_path / "copy.h5"
    shutil.copy(shard, copy)
    with pytest.raises(ValueError, match="seed 1"):
        merge(tmp_path / "m.h5", [shard, copy])
    columns, _ = _read(shard)
    columns = {k: v for k, v in columns.items() if v.ndim == 1}
    other = write_columns(tmp_path / "other.h5", {**columns, "extra": columns["x"]}, {"seed": 2})
    with pytest.raises(ValueError, match="extra.*hits_e|hits_e.*extra"):
        merge(tmp_path / "m.h5", [shard, other])
    with pytest.raises(ValueError, match="one of the shards"):
        merge(shard, [shard, other])
    with pytest.raises(SystemExit):
        cli_main(["merge", str(tmp_path / "m.h5"), str(tmp_path / "missing.h5")])
