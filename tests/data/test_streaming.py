"""Streaming (data.streaming=true): hash split, epoch plans, chunked reads, shuffle buffer, sharding."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from helpers import make_tau_like, write_h5

from hepml.data.columns import take, transform
from hepml.data.preprocess import compute_stats
from hepml.data.schema import build_schema
from hepml.data.streaming import build_streaming, split_codes
from hepml.data.streaming.shard import plan
from hepml.data.streaming.split import SPLITS

INPUTS = {"scalars": {"variables": {"jet_pt": {"transform": "log"}, "jet_eta": {}}},
          "particles": {"max_length": 5, "count": "n_const", "sort_by": "const_pt",
                        "variables": {"const_pt": {"transform": "log1p"}, "const_deta": {}}}}


def _files(tmp_path, sizes=(700, 450, 300)):
    paths = []
    for i, n in enumerate(sizes):
        cols = make_tau_like(n, seed=10 + i)
        cols["label"] = (cols["tau_pt"] > 45).astype(np.int64)
        paths.append(str(write_h5(tmp_path / f"part{i}.h5", cols)))
    return paths


def _schema(**kw):
    return build_schema(INPUTS, label="label", observers=["jet_m"], **kw)


def _streaming(paths, schema=None, **kw):
    kw.setdefault("chunk_size", 128)
    kw.setdefault("buffer_size", 300)
    kw.setdefault("batch_size", 64)
    return build_streaming(schema or _schema(), paths, **kw)


def _expected(paths, split, fractions=(0.7, 0.15, 0.15), seed=42):
    """Global indices of a split, from the hash over every entry of every file."""
    out, offset = [], 0
    for p in paths:
        with h5py.File(p) as f:
            n = f["jet_pt"].shape[0]
        codes = split_codes(p, np.arange(n), fractions, seed)
        out.append(np.flatnonzero(codes == SPLITS.index(split)) + offset)
        offset += n
    return np.concatenate(out)


def test_split_is_a_pure_function_of_file_name_and_entry(tmp_path):
    entries = np.arange(20_000)
    codes = split_codes("/data/a/file.h5", entries, (0.7, 0.15, 0.15), 3)
    np.testing.assert_array_equal(codes, split_codes("/elsewhere/file.h5", entries, (0.7, 0.15, 0.15), 3))
    np.testing.assert_array_equal(codes[5000:7000],
                                  split_codes("file.h5", entries[5000:7000], (0.7, 0.15, 0.15), 3))
    np.testing.assert_allclose(np.bincount(codes) / len(codes), [0.7, 0.15, 0.15], atol=0.01)
    assert (codes != split_codes("file.h5", entries, (0.7, 0.15, 0.15), 4)).mean() > 0.3
    assert (codes != split_codes("other.h5", entries, (0.7, 0.15, 0.15), 3)).mean() > 0.3
    assert set(split_codes("f.h5", entries, (1.0, 0.0, 0.0))) == {0}
    with pytest.raises(ValueError, match="three fractions"):
        split_codes("f.h5", entries, (0.7, 0.2))


@pytest.mark.parametrize("world,workers,batch", [(1, 1, 64), (2, 1, 50), (2, 3, 64), (3, 2, 7)])
def test_plan_gives_every_event_once_and_equal_batches_per_rank(world, workers, batch):
    counts = np.random.default_rng(world * 10 + workers).integers(0, 120, 17)
    order = np.random.default_rng(1).permutation(17)
    starts = np.concatenate([[0], np.cumsum(counts)])
    seen, n_batches = [], []
    for rank in range(world):
        total = 0
        for w in range(workers):
            todo, sizes = plan(counts, order, rank, world, w, workers, batch)
            assert np.all((sizes >= 1) & (sizes <= batch))
            assert sizes.sum() == sum(p.hi - p.lo for p in todo)
            seen += [starts[p.chunk] + np.arange(p.lo, p.hi) for p in todo]
            total += len(sizes)
        n_batches.append(total)
    seen = np.concatenate(seen)
    assert len(seen) == counts.sum() and len(np.unique(seen)) == counts.sum()
    assert len(set(n_batches)) == 1


def _indices(loader):
    return np.concatenate([b["index"].numpy() for b in loader])


@pytest.mark.parametrize("workers", [0, 2])
def test_each_training_event_once_per_epoch_and_splits_disjoint(tmp_path, workers):
    paths = _files(tmp_path)
    data = _streaming(paths, num_workers=workers)
    loader = data.loader("train")
    first, second = _indices(loader), _indices(loader)
    expected = _expected(paths, "train")
    np.testing.assert_array_equal(np.sort(first), expected)
    np.testing.assert_array_equal(np.sort(second), expected)
    assert not np.array_equal(first, second)  # reshuffled per epoch
    assert len(loader) == -(-len(expected) // 64)
    val, test = _indices(data.loader("val")), _indices(data.loader("test"))
    np.testing.assert_array_equal(val, _expected(paths, "val"))
    np.testing.assert_array_equal(test, _expected(paths, "test"))
    assert len(np.intersect1d(first, val)) == len(np.intersect1d(first, test)) == len(np.intersect1d(val, test)) == 0


def test_two_ranks_with_two_workers_each_see_every_training_event_once(tmp_path):
    """The sharding of DDP (ranks) and DataLoader workers (real worker processes), epoch by epoch."""
    paths = _files(tmp_path)
    data = _streaming(paths, num_workers=2, batch_size=50)
    expected = _expected(paths, "train")
    for epoch in (0, 1):
        per_rank = [_indices(data.loader("train", epoch=lambda e=epoch: e, shard=(r, 2))) for r in (0, 1)]
        np.testing.assert_array_equal(np.sort(np.concatenate(per_rank)), expected)
        assert len(np.intersect1d(*per_rank)) == 0
    lengths = {len(data.loader("train", shard=(r, 2))) for r in (0, 1)}
    per_rank_events = -(-len(expected) // 2)
    assert lengths == {-(-per_rank_events // 50)}
    batches = [sum(1 for _ in data.loader("train", shard=(r, 2))) for r in (0, 1)]
    assert batches == [lengths.pop()] * 2  # equal batch counts: DDP never waits on a rank


def test_split_and_epoch_set_do_not_depend_on_workers_chunks_or_file_order(tmp_path):
    paths = _files(tmp_path)
    a = _streaming(paths, chunk_size=100)
    b = _streaming(paths[::-1], chunk_size=333, num_workers=2)
    ia = _indices(a.loader("test"))
    ib = _indices(b.loader("test"))
    # global indices follow the listed file order; compare (file, entry) instead
    def keyed(data, idx):
        starts = np.array([f.offset for f in data.files])
        f = np.searchsorted(starts, idx, side="right") - 1
        return sorted(zip((data.files[i].path for i in f), idx - starts[f], strict=True))
    assert keyed(a, ia) == keyed(b, ib)


def test_batches_mix_chunks_of_several_files(tmp_path):
    paths = _files(tmp_path)
    data = _streaming(paths, chunk_size=100, buffer_size=600, batch_size=100)
    batch = next(iter(data.loader("train")))
    file_of = np.searchsorted([f.offset for f in data.files], batch["index"].numpy(), side="right") - 1
    assert len(np.unique(file_of)) >= 2
    assert 90 <= len(batch["index"]) <= 100  # the batches of an epoch share its events evenly
    assert batch["inputs"]["particles"].shape[1:] == (5, 2)
    assert batch["inputs"]["particles_mask"].dtype == torch.bool
    assert batch["label"].dtype == torch.int64


def test_chunk_transform_equals_the_whole_file_transform_sliced(tmp_path):
    paths = _files(tmp_path, sizes=(700,))
    schema = _schema()
    data = _streaming(paths, schema, chunk_size=97)
    streamed = list(data.split_chunks("val"))
    assert len(streamed) == 8
    with h5py.File(paths[0]) as f:
        whole = transform(schema, {k: f[k][()] for k in f}, path=paths[0])
    rows = np.flatnonzero(split_codes(paths[0], whole["entry"], (0.7, 0.15, 0.15), 42) == 1)
    expected = take(whole, rows)
    got = {k: np.concatenate([s[k] for s in streamed]) for k in ("entry", "label")}
    np.testing.assert_array_equal(got["entry"], expected["entry"])
    np.testing.assert_array_equal(got["label"], expected["label"])
    for key in ("scalars", "particles", "particles_mask"):
        np.testing.assert_array_equal(np.concatenate([s["inputs"][key] for s in streamed]),
                                      expected["inputs"][key])


def test_stats_on_all_training_events_equal_the_in_memory_ones(tmp_path):
    paths = _files(tmp_path, sizes=(700, 450))
    schema = _schema()
    data = _streaming(paths, schema, stats_events=10**6, cache_dir=str(tmp_path / "cache"))
    stats = data.stats()
    parts = [b for b in data.split_chunks("train")]
    expected = compute_stats(schema, {k: (np.concatenate([p[k] for p in parts]) if not isinstance(parts[0][k], dict)
                                          else {kk: np.concatenate([p[k][kk] for p in parts]) for kk in parts[0][k]})
                                      for k in parts[0]})
    assert stats["n_events"] == len(_expected(paths, "train"))
    for g in ("scalars", "particles"):
        np.testing.assert_allclose(stats["inputs"][g]["center"], expected["inputs"][g]["center"], rtol=1e-5)
        np.testing.assert_allclose(stats["inputs"][g]["scale"], expected["inputs"][g]["scale"], rtol=1e-5)
    assert stats["class_counts"] == expected["class_counts"]
    assert data.stats() == stats  # cached
    few = _streaming(paths, schema, stats_events=200).stats()
    assert few["n_events"] == 200


def test_selection_counts_are_cached_and_checked(tmp_path):
    paths = _files(tmp_path)
    schema = _schema(selection="jet_eta > 0")
    data = _streaming(paths, schema, cache_dir=str(tmp_path / "cache"))
    seen = _indices(data.loader("train"))
    starts = np.array([f.offset for f in data.files])
    keep = []
    for p, s in zip(paths, starts, strict=True):
        with h5py.File(p) as f:
            eta = f["jet_eta"][()]
        codes = split_codes(p, np.arange(len(eta)), (0.7, 0.15, 0.15), 42)
        keep.append(np.flatnonzero((eta > 0) & (codes == 0)) + s)
    np.testing.assert_array_equal(np.sort(seen), np.concatenate(keep))
    assert len(list((tmp_path / "cache" / "stream_counts").glob("*.json"))) == 3


@pytest.mark.parametrize("suffix", [".root", ".parquet"])
def test_root_and_parquet_chunks_stream_like_hdf5(tmp_path, suffix):
    import awkward as ak

    from hepml.data import io

    h5 = _files(tmp_path, sizes=(600,))[0]
    with h5py.File(h5) as f:
        cols = {k: f[k][()] for k in f}
    n = cols["n_const"]
    other = {k: (ak.unflatten(v[np.arange(v.shape[1])[None, :] < n[:, None]], n) if v.ndim == 2 else v)
             for k, v in cols.items()}
    path = str(tmp_path / f"part0{suffix}")  # the same base name: the same split
    if suffix == ".root":
        io.write_columns(path, other, tree="events")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({k: (pa.array(ak.to_list(v)) if isinstance(v, ak.Array) else v) for k, v in other.items()})
        pq.write_table(table, path, row_group_size=100)
    a, b = _streaming([h5], chunk_size=150), _streaming([path], chunk_size=150)
    b.setup()
    if suffix == ".parquet":  # whole row groups of 100 rows, about 150 per chunk
        assert [(c.start, c.stop) for c in b.chunks] == [(0, 200), (200, 400), (400, 600)]
    for split in ("train", "test"):
        ba = list(a.split_chunks(split))
        bb = list(b.split_chunks(split))
        for key in ("particles", "particles_mask", "scalars"):
            np.testing.assert_array_equal(np.concatenate([x["inputs"][key] for x in ba]),
                                          np.concatenate([x["inputs"][key] for x in bb]))


def test_fast_path_of_the_transform_equals_the_general_one():
    cols = make_tau_like(400)
    cols["const_deta"][cols["n_const"] <= 4, 4] = np.nan  # in padded slots: ignored
    cols["label"] = np.zeros(400, dtype=np.int64)
    plain = {"max_length": 5, "count": "n_const", "variables": {"const_pt": {}, "const_deta": {"pad_value": -1}}}
    general = {"max_length": 5, "count": "n_const",
               "variables": {"const_pt": {"clip": [-1e30, 1e30]}, "const_deta": {"clip": [-1e30, 1e30], "pad_value": -1}}}
    a = transform(build_schema({"p": plain}, label="label"), cols, path="f.h5")
    b = transform(build_schema({"p": general}, label="label"), cols, path="f.h5")
    np.testing.assert_array_equal(a["inputs"]["p"], b["inputs"]["p"])
    cols["const_pt"][3, 0] = np.inf
    with pytest.raises(ValueError, match="'const_pt' has 1 NaN/inf"):
        transform(build_schema({"p": plain}, label="label"), cols, path="f.h5")


@pytest.mark.parametrize("compression", ["lzf", None])
def test_hdf5_written_with_a_fast_filter_streams_the_same(tmp_path, compression):
    from hepml.data import io

    h5 = _files(tmp_path, sizes=(300,))[0]
    with h5py.File(h5) as f:
        cols = {k: f[k][()] for k in f}
    path = tmp_path / "fast" / "part0.h5"
    io.write_columns(path, cols, compression=compression)
    with h5py.File(path) as f:
        assert f["const_pt"].compression == compression
    a, b = _streaming([h5]), _streaming([str(path)])
    np.testing.assert_array_equal(_indices(a.loader("val")), _indices(b.loader("val")))
    with pytest.raises(ValueError, match="gzip, lzf or None"):
        io.write_columns(tmp_path / "x.h5", cols, compression="zstd")


@pytest.mark.parametrize("workers", [0, 2])
def test_a_pass_resumed_mid_epoch_yields_the_batches_after_the_skipped_ones(tmp_path, workers):
    paths = _files(tmp_path)
    data = _streaming(paths, num_workers=workers, batch_size=40)
    loader = data.loader("train", epoch=lambda: 3)
    full = [b["index"].numpy() for b in loader]
    loader.skip_batches(7)
    resumed = [b["index"].numpy() for b in loader]
    assert len(resumed) == len(full) - 7
    for a, b in zip(full[7:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    assert len([b for b in loader]) == len(full)  # the skip applies to one pass only


def test_sources_stream_with_their_tags(tmp_path):
    sig, bkg = _files(tmp_path, sizes=(400, 300))
    schema = build_schema(INPUTS, classes=["bkg", "sig"], observers=["jet_m"],
                          sources={"signal": {"files": [sig], "label": "sig", "domain": 0},
                                   "data": {"files": [bkg], "label": "bkg", "domain": 1, "labelled": False}})
    data = build_streaming(schema, chunk_size=128, buffer_size=300, batch_size=64)
    batches = list(data.loader("train"))
    index = np.concatenate([b["index"].numpy() for b in batches])
    label = np.concatenate([b["label"].numpy() for b in batches])
    domain = np.concatenate([b["domain"].numpy() for b in batches])
    labelled = np.concatenate([b["labelled"].numpy() for b in batches])
    from_signal = index < 400
    np.testing.assert_array_equal(domain, np.where(from_signal, 0, 1))
    np.testing.assert_array_equal(labelled, from_signal)
    assert np.all(label[from_signal] == 1)
    np.testing.assert_array_equal(np.sort(index), _expected([sig, bkg], "train"))
