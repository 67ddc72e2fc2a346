"""The one pure transform: raw file columns -> event arrays, the same on a whole file and on a chunk.

``transform(schema, raw, path=...)`` applies aliases, the selection, sentinels, per-variable
transforms, padding/sorting of particle lists, points and 4-vectors, image reshaping, the target
(ratio, log), label mapping and source tags, and returns *event arrays*::

    {"inputs": {group: float32, f"{group}_mask": bool, f"{group}_points": float32,
                f"{group}_vectors": float32, f"{group}_tree": int64 (tree groups)},
     "entry": int64 (entry number in the file, after the selection),
     "target", "ref", "truth"  (regression),  "label" (classification),  "weight", "baseline",
     "aux": {name: float32},  "observers": {name: array},
     "source", "domain", "labelled", "fraction"   (when the data config has sources)}

Nothing here knows Lightning or torch; statistics are computed from these arrays in
:mod:`hepml.data.preprocess`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import awkward as ak
import numpy as np

from hepml.data.preprocess import ColumnError, check_finite, transform_values
from hepml.data.schema import DataSchema, InputGroup, Source, Target
from hepml.data.trees import tree_arrays
from hepml.physics.kinematics import ptetaphim_to_pxpypze

EventArrays = dict[str, Any]


def needed_columns(schema: DataSchema, source: Source | None = None) -> list[str]:
    """File column names to read for ``schema`` (aliases applied)."""
    return schema.file_columns(source)


def transform(
    schema: DataSchema,
    raw: Mapping[str, Any],
    *,
    path: str,
    source: Source | None = None,
    source_index: int = 0,
    entry_start: int = 0,
) -> EventArrays:
    """Event arrays of one file or one chunk of it (entries ``entry_start ...``)."""
    cols = {}
    for name in schema.columns(source):
        key = schema.file_column(name)
        if key not in raw:
            raise ColumnError(f"{path}: column {key!r} (for {name!r}) was not read")
        cols[name] = raw[key]
    n = len(next(iter(cols.values())))
    entries = np.arange(entry_start, entry_start + n, dtype=np.int64)
    if schema.selection is not None:
        flat = {c: _flat(cols, c, path) for c in schema.selection.columns}
        keep = schema.selection.mask(flat)
        if not keep.all():
            cols = {k: v[keep] for k, v in cols.items()}
            entries = entries[keep]
    out: EventArrays = {"inputs": {}, "entry": entries}
    for g in schema.inputs:
        out["inputs"].update(group_arrays(g, cols, path))
    if schema.target is not None:
        out.update(target_arrays(schema.target, cols, path))
    if schema.label is not None:
        out["label"], labelled = _labels(schema, cols, path, source)
        if schema.sources:
            out["labelled"] = labelled
    if schema.sources:
        m = len(entries)
        src = source or schema.sources[source_index]
        out["source"] = np.full(m, source_index, dtype=np.int64)
        out["domain"] = np.full(m, src.domain, dtype=np.int64)
        out.setdefault("labelled", np.full(m, src.labelled, dtype=bool))
        out["fraction"] = np.full(m, np.nan if src.fraction is None else src.fraction, dtype=np.float32)
    if schema.weight is not None:
        w = _flat(cols, schema.weight, path)
        check_finite(w, schema.weight, path)
        out["weight"] = w.astype(np.float32)
    if schema.baseline is not None:
        out["baseline"] = _flat(cols, schema.baseline, path).astype(np.float64)
    out["aux"] = {}
    for a in schema.aux:
        x = _flat(cols, a, path)
        check_finite(x, a, path)
        out["aux"][a] = x.astype(np.float32)
    out["observers"] = {o: _flat(cols, o, path) for o in schema.observers}
    return out


# ----------------------------------------------------------------------------- groups
def group_arrays(g: InputGroup, cols: Mapping[str, Any], path: str) -> dict[str, np.ndarray]:
    """The model inputs of one group: ``{g: x}`` plus mask, points and vectors where declared."""
    if g.kind == "image":
        return {g.name: _image(g, cols, path)}
    if g.kind == "scalars":
        n = len(cols[g.names[0]])
        x = np.zeros((n, g.n_features), dtype=np.float32)
        for i, v in enumerate(g.variables):
            vals = _flat(cols, v.name, path).astype(np.float64)
            _fill(x[:, i], vals, v, None, path)
        for j, v in enumerate(g.flagged):
            x[:, len(g.variables) + j] = v.is_missing(_flat(cols, v.name, path))
        return {g.name: x}
    return _particles(g, cols, path)


def _fill(dest: np.ndarray, vals: np.ndarray, v, valid: np.ndarray | None, path: str) -> None:
    """Transformed values of one variable into ``dest``; sentinel and padded entries get 0."""
    if v.missing is None and v.transform is None and v.clip is None:  # as is: one pass, no float64
        if not np.isfinite(vals).all():
            check_finite(vals, v.name, path, valid)
        if valid is None:
            dest[...] = vals
        elif v.pad_value == 0 and np.isfinite(vals).all():
            np.multiply(vals, valid, out=dest, casting="unsafe")
        else:
            dest[...] = np.where(valid, vals, v.pad_value)
        return
    missing = v.is_missing(vals)
    ok = ~missing if valid is None else valid & ~missing
    check_finite(vals, v.name, path, ok)
    t = transform_values(np.where(ok, vals, 1.0), v, ok, path)
    dest[...] = np.where(ok, t, v.pad_value if valid is not None else 0.0)


def _particles(g: InputGroup, cols: Mapping[str, Any], path: str) -> dict[str, np.ndarray]:
    names = list(dict.fromkeys(g.names + list(g.points) + list(g.vectors)
                               + ([g.sort_by] if g.sort_by else [])))
    values = {c: cols[c] for c in names}
    counts = _counts(g, cols, values, path)
    if g.sort_by:
        values = _sorted_lists(values, g.sort_by, counts)
    n, width = len(counts), g.max_length
    mask = np.arange(width)[None, :] < np.minimum(counts, width)[:, None]
    x = np.zeros((n, width, g.n_features), dtype=np.float32)
    for i, v in enumerate(g.variables):
        as_is = v.missing is None and v.transform is None and v.clip is None
        vals = _padded(values[v.name], width, view=as_is)
        _fill(x[..., i], vals, v, mask, path)
    for j, v in enumerate(g.flagged):
        x[..., len(g.variables) + j] = mask & v.is_missing(_padded(values[v.name], width))
    out = {g.name: x, f"{g.name}_mask": mask}
    if g.points:
        pts = np.stack([_padded(values[c], width) for c in g.points], axis=-1)
        check_finite(pts, f"{g.name}.points", path, mask)
        out[f"{g.name}_points"] = np.where(mask[..., None], pts, 0.0).astype(np.float32)
    if g.vectors:
        comps = [_padded(values[c], width) for c in g.vectors]
        if g.vectors_kind == "ptetaphim":
            comps = list(ptetaphim_to_pxpypze(*comps))
        vec = np.stack(comps, axis=-1)
        check_finite(vec, f"{g.name}.vectors", path, mask)
        out[f"{g.name}_vectors"] = np.where(mask[..., None], vec, 0.0).astype(np.float32)
    if g.tree:  # a tree group: the clustering history in the padded layout
        out[f"{g.name}_tree"] = tree_arrays(g, cols, counts, path)
    return out


def _counts(g: InputGroup, cols: Mapping[str, Any], values: Mapping[str, Any], path: str) -> np.ndarray:
    """Particles per event, checked against every variable of the group."""
    jagged = {c: ak.to_numpy(ak.num(v, axis=1)) for c, v in values.items() if isinstance(v, ak.Array)}
    padded = {c: np.shape(v) for c, v in values.items() if not isinstance(v, ak.Array)}
    for c, shape in padded.items():
        if len(shape) != 2:
            raise ColumnError(f"{path}: {c!r} in particle group {g.name!r} has shape {shape}; expected a "
                              "jagged list or a 2D (events x particles) array")
    widths = {shape[1] for shape in padded.values()}
    if len(widths) > 1:
        raise ColumnError(f"{path}: particle group {g.name!r} mixes padded widths "
                          f"{ {c: s[1] for c, s in padded.items()} }; store every variable with one width")
    if jagged:
        first, n0 = next(iter(jagged.items()))
        for c, n in jagged.items():
            if not np.array_equal(n, n0):
                bad = int(np.flatnonzero(n != n0)[0])
                raise ColumnError(f"{path}: particle group {g.name!r}: {c!r} and {first!r} have different "
                                  f"numbers of particles (entry {bad}: {n[bad]} vs {n0[bad]})")
    if g.count is not None:
        counts = _flat(cols, g.count, path)
        if not np.all(counts == np.round(counts)) or (counts < 0).any():
            raise ColumnError(f"{path}: count column {g.count!r} of group {g.name!r} holds negative or "
                              f"non-integer values (e.g. {counts[(counts < 0) | (counts != np.round(counts))][0]})")
        counts = counts.astype(np.int64)
        if widths and counts.max(initial=0) > max(widths):
            raise ColumnError(f"{path}: count column {g.count!r} reaches {counts.max()} but the padded "
                              f"arrays of group {g.name!r} hold only {max(widths)} slots")
        if jagged and not np.array_equal(counts, next(iter(jagged.values()))):
            raise ColumnError(f"{path}: count column {g.count!r} disagrees with the jagged lengths of "
                              f"group {g.name!r}")
        return counts
    if jagged:
        return next(iter(jagged.values())).astype(np.int64)
    n = len(next(iter(values.values())))
    return np.full(n, next(iter(widths)), dtype=np.int64)


def _padded(values: Any, width: int, view: bool = False) -> np.ndarray:
    """``[n, width]`` float64 array of a jagged or padded variable (zeros beyond the data);
    with ``view``, a padded array at least ``width`` wide comes back as a view in its own dtype."""
    if isinstance(values, ak.Array):
        return ak.to_numpy(ak.fill_none(ak.pad_none(values, width, axis=1, clip=True), 0.0)).astype(np.float64)
    values = np.asarray(values)
    if view and values.ndim == 2 and values.shape[1] >= width:
        return values[:, :width]
    out = np.zeros((len(values), width), dtype=np.float64)
    k = min(width, values.shape[1])
    out[:, :k] = values[:, :k]
    return out


def _sorted_lists(values: dict, key: str, counts: np.ndarray) -> dict:
    """Order each event's particles by ``key``, decreasing (padded slots last)."""
    k = values[key]
    if isinstance(k, ak.Array):
        order = ak.argsort(k, axis=1, ascending=False, stable=True)
        return {n: v[order] for n, v in values.items()}
    k = np.asarray(k, dtype=np.float64)
    k = np.where(np.arange(k.shape[1])[None, :] < counts[:, None], k, -np.inf)
    order = np.argsort(-k, axis=1, kind="stable")
    return {n: np.take_along_axis(np.asarray(v), order, axis=1) for n, v in values.items()}


def _image(g: InputGroup, cols: Mapping[str, Any], path: str) -> np.ndarray:
    c, h, w = g.shape
    if len(g.columns) == 1:
        x = np.asarray(cols[g.columns[0]], dtype=np.float32)
        per_event = x.shape[1:]
        if per_event == (h, w) and c == 1:
            x = x[:, None]
        elif per_event == (h * w * c,):
            x = x.reshape(len(x), c, h, w)
        elif per_event != (c, h, w):
            raise ColumnError(f"{path}: image column {g.columns[0]!r} has per-event shape {per_event}; "
                              f"group {g.name!r} declares shape {[c, h, w]}")
    else:
        x = np.stack([_flat(cols, col, path) for col in g.columns], axis=1).astype(np.float32)
        x = x.reshape(len(x), c, h, w)
    check_finite(x, g.columns[0] if len(g.columns) == 1 else g.name, path)
    if g.pt_normalize:
        total = x.sum(axis=(1, 2, 3), keepdims=True)
        x = x / np.where(total > 0, total, 1.0)
    if g.log:
        if (x <= -1).any():
            raise ColumnError(f"{path}: image group {g.name!r} has intensities <= -1 but log: true")
        x = np.log1p(x)
    return np.ascontiguousarray(x, dtype=np.float32)


# ----------------------------------------------------------------------------- targets, labels
def target_arrays(t: Target, cols: Mapping[str, Any], path: str) -> dict[str, np.ndarray]:
    """``truth`` (physical), ``ref`` (ratio denominator) and ``target`` = f(truth / ref)."""
    truth = _flat(cols, t.variable, path).astype(np.float64)
    check_finite(truth, t.variable, path)
    ref = _flat(cols, t.ratio_to, path).astype(np.float64) if t.ratio_to else np.ones_like(truth)
    if t.ratio_to:
        check_finite(ref, t.ratio_to, path)
        if (ref == 0).any():
            raise ColumnError(f"{path}: target ratio_to variable {t.ratio_to!r} has zeros")
    return {"truth": truth, "ref": ref.astype(np.float32),
            "target": forward_target(truth, ref, t.transform, path, t.variable).astype(np.float32)}


def forward_target(truth: np.ndarray, ref: np.ndarray, transform: str | None, path: str = "",
                   name: str = "target") -> np.ndarray:
    """``f(truth / ref)`` with f = identity or log: what the network regresses (before standardising)."""
    ratio = truth / ref
    if transform == "log":
        if (ratio <= 0).any():
            raise ColumnError(f"{path}: target {name!r} (ratio) has values <= 0 but transform: log")
        return np.log(ratio)
    return ratio


def inverse_target(t, ref, transform: str | None):
    """The inverse of :func:`forward_target` (numpy or torch): the physical value from f(ratio)."""
    ratio = t.exp() if transform == "log" and hasattr(t, "exp") else (np.exp(t) if transform == "log" else t)
    return ratio * ref


def _labels(schema: DataSchema, cols: Mapping[str, Any], path: str,
            source: Source | None) -> tuple[np.ndarray, np.ndarray]:
    n = len(next(iter(cols.values())))
    if source is not None and not source.labelled:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    if source is not None and source.label is not None:
        return np.full(n, source.label, dtype=np.int64), np.ones(n, dtype=bool)
    y = _flat(cols, schema.label, path)
    if schema.label_values is not None:
        y = map_labels(y, list(schema.label_values), schema.label, path)
    k = schema.n_classes
    if not np.all((y == np.round(y)) & (y >= 0) & (y < k)):
        raise ColumnError(f"{path}: label column {schema.label!r} must hold integers 0..{k - 1}; "
                          f"found values {np.unique(y)[:10]}")
    return y.astype(np.int64), np.ones(n, dtype=bool)


def map_labels(y: np.ndarray, values: list, name: str, path: str) -> np.ndarray:
    """Raw label values (e.g. hadron flavour 0, 4, 5) to class indices 0..C-1."""
    out = np.full(len(y), -1, dtype=np.int64)
    for i, v in enumerate(values):
        out[y == v] = i
    if (out < 0).any():
        raise ColumnError(f"{path}: label column {name!r} holds values {np.unique(y[out < 0])[:10]} "
                          f"not listed in data.label_values={values}")
    return out


def _flat(cols: Mapping[str, Any], name: str, path: str) -> np.ndarray:
    x = cols[name]
    if isinstance(x, ak.Array) or np.ndim(x) != 1:
        raise ColumnError(f"{path}: {name!r} is a per-particle (jagged or 2D) column; declare it in a "
                          "particle-list input group, not as a per-event value")
    return np.asarray(x)


# ----------------------------------------------------------------------------- event arrays
def n_events(arrays: EventArrays) -> int:
    return len(arrays["entry"])


def take(arrays: EventArrays, idx: np.ndarray | slice) -> EventArrays:
    """The events ``idx`` of every array (nested dicts kept)."""
    return {k: take(v, idx) if isinstance(v, dict) else v[idx] for k, v in arrays.items()}


def concat(parts: list[EventArrays]) -> EventArrays:
    """Events of several files or chunks one after the other."""
    first = parts[0]
    return {k: concat([p[k] for p in parts]) if isinstance(v, dict) else np.concatenate([p[k] for p in parts])
            for k, v in first.items()}
