"""``hepml inspect``: listings and starter data configs for generated HDF5, ROOT, parquet, CSV."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot
import yaml
from rich.console import Console

from hepml.cli import main as cli_main
from hepml.data import io
from hepml.data.schema import build_schema
from hepml.pipelines.inspect import inspect, inspect_file
from hepml.pipelines.starter_config import quote


def _jets(rng, n, mean_count=5):
    counts = rng.poisson(mean_count, n)
    return counts, ak.zip({
        "pt": ak.unflatten(rng.exponential(30, counts.sum()).astype(np.float32), counts),
        "eta": ak.unflatten(rng.normal(0, 2, counts.sum()).astype(np.float32), counts)})


@pytest.fixture
def nano(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    counts, jets = _jets(rng, n)
    with uproot.recreate(tmp_path / "nano.root") as f:
        events = f.mktree("Events", {"run": "uint32", "event": "uint64", "MET_pt": "float32",
                                     "genWeight": "float32", "Jet": jets.type.content,
                                     **{f"HLT_p{i}": "bool" for i in range(150)}})
        events.extend({"run": np.ones(n, np.uint32), "event": np.arange(n, dtype=np.uint64),
                       "MET_pt": rng.exponential(40, n).astype(np.float32),
                       "genWeight": np.ones(n, np.float32), "Jet": jets,
                       **{f"HLT_p{i}": np.zeros(n, bool) for i in range(150)}})
        f.mktree("Runs", {"run": "uint32"}).extend({"run": np.ones(1, np.uint32)})
    return tmp_path / "nano.root", counts


def test_nanoaod_root_file(nano):
    path, counts = nano
    report = inspect_file(path, max_rows=2000)
    assert report.format == "root" and report.tree == "Events" and report.entries == 3000
    assert report.trees == {"Events": ("TTree", 3000), "Runs": ("TTree", 1)}
    (jets,) = report.lists
    assert (jets.prefix, jets.count, jets.sort_by, jets.variables) == (
        "Jet", "nJet", "Jet_pt", ["Jet_pt", "Jet_eta"])
    assert jets.max_length == int(np.ceil(np.percentile(counts[:2000], 95)))
    assert jets.count_max == counts[:2000].max()
    assert report.scalars == ["MET_pt"] and report.label is None and report.weight == "genWeight"
    assert report.left_out == {"identifier": ["run", "event"], "weight": ["genWeight"],
                               "counter": ["nJet"], "boolean": [f"HLT_p{i}" for i in range(150)]}
    text = inspect(path, max_rows=2000, console=Console(quiet=True))
    cfg = yaml.safe_load(text)
    assert cfg["files"] == [str(path)] and cfg["tree"] == "Events"
    assert cfg["inputs"]["particles"] == {"max_length": jets.max_length, "count": "nJet",
                                          "sort_by": "Jet_pt",
                                          "variables": {"Jet_pt": {}, "Jet_eta": {}}}
    assert "# label: COLUMN" in text and "# weight: genWeight" in text
    assert "(boolean): 150 columns (HLT_*)" in text
    build_schema(inputs=cfg["inputs"], label="MET_pt")  # the groups are valid declarations


def test_tagger_hdf5_with_images_label_and_target(tmp_path):
    rng = np.random.default_rng(1)
    n = 500
    counts, jets = _jets(rng, n, 8)
    path = io.write_columns(tmp_path / "tagger.h5", {
        "jet_pt": rng.exponential(100, n), "jet_eta": rng.normal(size=n),
        "is_signal": rng.integers(0, 2, n), "n_const": counts, "const_pt": jets.pt,
        "const_deta": jets.eta, "image": rng.random((n, 16, 16)).astype(np.float32),
        "calo": rng.random((n, 3, 8, 8)).astype(np.float32), "true_pt": rng.exponential(100, n)})
    cfg = yaml.safe_load(inspect(path, console=Console(quiet=True)))
    assert "tree" not in cfg
    assert cfg["inputs"]["scalars"] == {"variables": {"jet_eta": {}, "jet_pt": {}}}
    particles = cfg["inputs"]["particles"]
    assert particles["count"] == "n_const" and particles["sort_by"] == "const_pt"
    assert particles["max_length"] == int(np.ceil(np.percentile(counts, 95)))
    assert cfg["inputs"]["images"] == {"shape": [3, 8, 8], "column": "calo"}
    assert cfg["inputs"]["image"] == {"shape": [1, 16, 16], "column": "image"}
    assert cfg["label"] == "is_signal" and cfg["classes"] == ["background", "signal"]
    schema = build_schema(**{k: cfg[k] for k in ("inputs", "label", "classes")})
    assert [g.kind for g in schema.inputs] == ["scalars", "particles", "image", "image"]


def test_parquet_lists_and_raw_label_values(tmp_path):
    rng = np.random.default_rng(2)
    n = 400
    counts, jets = _jets(rng, n)
    path = io.write_columns(tmp_path / "f.parquet", {
        "trk_pt": jets.pt, "trk_eta": jets.eta, "flavour": rng.choice([0, 4, 5], n),
        "pt": rng.exponential(50, n), "gen_pt": rng.exponential(50, n)})
    report = inspect_file(path)
    assert report.lists[0].count is None and report.lists[0].variables == ["trk_pt", "trk_eta"]
    text = inspect(path, console=Console(quiet=True))
    cfg = yaml.safe_load(text)
    assert cfg["label"] == "flavour" and cfg["label_values"] == [0, 4, 5]
    assert cfg["classes"] == ["class_0", "class_4", "class_5"]
    assert "count" not in cfg["inputs"]["particles"]
    assert "# target: {variable: gen_pt}" in text and cfg["inputs"]["scalars"] == {
        "variables": {"pt": {}}}


def test_csv_and_the_command_line(tmp_path, capsys):
    path = io.write_columns(tmp_path / "t.csv", {"y": np.arange(10) % 2, "x": np.arange(10.0)})
    cli_main(["inspect", str(path), "--max-rows", "5"])
    out = capsys.readouterr().out
    assert "2 columns" in out and "csv, 10 entries" in out
    cfg = yaml.safe_load(out[out.index("# Starter"):])
    assert cfg["label"] == "y" and cfg["inputs"] == {"scalars": {"variables": {"x": {}}}}
    with pytest.raises(SystemExit):
        cli_main(["inspect", str(tmp_path / "missing.h5")])
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    with pytest.raises(SystemExit):
        cli_main(["inspect", str(bad)])


@pytest.mark.parametrize("name", ["y", "on", "no", "null", "1e3", "a:b", "#x", "[x]", "a b", " x"])
def test_names_are_quoted_to_read_back(name):
    assert yaml.safe_load(f"k: {quote(name)}") == {"k": name}


def test_output_writes_the_starter_config_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "f.h5"
    io.write_columns(path, {"x": np.arange(50.0), "label": np.arange(50) % 2})
    out = tmp_path / "configs" / "mine.yaml"
    cli_main(["inspect", str(path), "-o", str(out)])
    cfg = yaml.safe_load(out.read_text())
    assert cfg["files"] == [str(path)] and "x" in cfg["inputs"]["scalars"]["variables"]
    with pytest.raises(SystemExit):
        cli_main(["inspect", str(path), "-o", str(out)])
    assert yaml.safe_load(out.read_text()) == cfg
