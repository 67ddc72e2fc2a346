"""What an exported model takes: its named inputs, their shapes and dynamic axes, the metadata
that documents them, and the raw feeds built from a file's columns (what a C++ caller fills).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepml.data.columns import _counts, _padded, _sorted_lists
from hepml.data.schema import DataSchema, InputGroup
from hepml.data.trees import tree_arrays
from hepml.physics.kinematics import ptetaphim_to_pxpypze


@dataclass(frozen=True)
class InputSpec:
    """One graph input: its name, dtype (``float32`` or ``bool``), shape with ``batch`` and
    ``n_<group>`` for the dynamic axes, the group it belongs to and, for a particle list, the
    trained list length (the length traced)."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]
    group: str | None
    max_length: int | None = None


def used_groups(schema: DataSchema, model_inputs: Sequence[str]) -> list[InputGroup]:
    """The input groups the model reads (``particles`` for ``particles_mask`` too), in data-config order."""
    names = set(model_inputs)
    return [g for g in schema.inputs
            if g.name in names or any(f"{g.name}_{x}" in names for x in ("mask", "points", "vectors"))]


def input_specs(schema: DataSchema, model_inputs: Sequence[str]) -> list[InputSpec]:
    """The graph inputs for a model taking ``model_inputs``, in a fixed order: per group its raw
    values, then mask, points, vectors and tree (the clustering history, ``[batch, n - 1, 2]``
    int64: :func:`hepml.data.trees.tree_arrays`) for a particle list; ``ref`` last for a ratio target."""
    specs: list[InputSpec] = []
    for g in used_groups(schema, model_inputs):
        if g.kind == "image":
            specs.append(InputSpec(g.name, "float32", ("batch", *(g.shape or ())), g.name))
            continue
        if g.kind == "scalars":
            specs.append(InputSpec(g.name, "float32", ("batch", len(g.variables)), g.name))
            continue
        n, k = f"n_{g.name}", g.max_length
        if g.name in model_inputs:  # (the EFN reads only the angles, the weights and the mask)
            specs.append(InputSpec(g.name, "float32", ("batch", n, len(g.variables)), g.name, k))
        specs.append(InputSpec(f"{g.name}_mask", "bool", ("batch", n), g.name, k))
        if g.points and f"{g.name}_points" in model_inputs:
            specs.append(InputSpec(f"{g.name}_points", "float32", ("batch", n, len(g.points)), g.name, k))
        if g.vectors and f"{g.name}_vectors" in model_inputs:
            specs.append(InputSpec(f"{g.name}_vectors", "float32", ("batch", n, 4), g.name, k))
        if g.tree and f"{g.name}_tree" in model_inputs:  # the merges: one fewer than the slots
            specs.append(InputSpec(f"{g.name}_tree", "int64", ("batch", f"{n}-1", 2), g.name, k))
    if schema.target is not None and schema.target.ratio_to:
        specs.append(InputSpec("ref", "float32", ("batch",), None))
    return specs


def fixed_particle_axes(specs: Sequence[InputSpec]) -> list[InputSpec]:
    """The specs with each particle axis fixed at the trained list length."""
    return [InputSpec(s.name, s.dtype, tuple(fixed_length(d, s.max_length) for d in s.shape), s.group,
                      s.max_length) for s in specs]


def fixed_length(dim: int | str, max_length: int | None, extra: int = 0) -> int | str:
    """An axis of a spec at a given list length (``max_length + extra``; ``n_<group>-1`` one fewer)."""
    if not isinstance(dim, str) or dim == "batch":
        return dim
    length = (max_length or 4) + extra
    return length - 1 if dim.endswith("-1") else length


def dynamic_axes(specs: Sequence[InputSpec]) -> dict[str, dict[int, str]]:
    """``{input: {axis: name}}`` of the axes that are not fixed numbers."""
    return {s.name: {i: str(d) for i, d in enumerate(s.shape) if isinstance(d, str)} for s in specs}


def _number(x: float | None) -> float | str | None:
    return "nan" if isinstance(x, float) and math.isnan(x) else x


def group_metadata(g: InputGroup) -> dict[str, Any]:
    """What a caller must know to fill a group: variables in order with their transforms."""
    if g.kind == "image":
        return {"kind": "image", "shape": list(g.shape or ()), "pt_normalize": g.pt_normalize, "log": g.log,
                "normalize": g.normalize}
    out: dict[str, Any] = {
        "kind": g.kind,
        "variables": [{"name": v.name, "column": v.column or v.name, "transform": v.transform,
                       "clip": list(v.clip) if v.clip else None, "missing": _number(v.missing),
                       "pad_value": v.pad_value} for v in g.variables],
        "features_after_transform": g.feature_names,
    }
    if g.is_list:
        out.update({"max_length": g.max_length, "sort_by": g.sort_by, "count": g.count,
                    "points": list(g.points), "vectors": list(g.vectors), "vectors_kind": g.vectors_kind})
    return out


def raw_inputs(schema: DataSchema, columns: Mapping[str, Any], specs: Sequence[InputSpec],
               max_length: Mapping[str, int] | None = None) -> dict[str, np.ndarray]:
    """The feeds of an exported model from raw file columns (jagged or padded particle lists,
    sorted by ``sort_by`` and cut at ``max_length`` as in training; sentinels left as they are).

    Parameters
    ----------
    schema : the checkpoint's data schema.
    columns : ``{logical column name: array}`` of the events to feed.
    specs : :func:`input_specs` of the exported model.
    max_length : per particle group, another list length than the trained one (the graph's
        particle axis is dynamic).
    """
    feeds: dict[str, np.ndarray] = {}
    for g in used_groups(schema, [s.name for s in specs]):
        if g.kind == "image":
            feeds[g.name] = np.asarray(columns[g.columns[0]], dtype=np.float32).reshape(-1, *(g.shape or ()))
        elif g.kind == "scalars":
            feeds[g.name] = np.stack([np.asarray(columns[n], dtype=np.float32) for n in g.names], axis=1)
        else:
            width = int((max_length or {}).get(g.name, g.max_length or 0))
            names = list(dict.fromkeys(g.names + list(g.points) + list(g.vectors)
                                       + ([g.sort_by] if g.sort_by else [])))
            values = {c: columns[c] for c in names}
            counts = _counts(g, columns, values, "feeds")
            if g.sort_by:
                values = _sorted_lists(values, g.sort_by, counts)
            feeds[g.name] = np.stack([_padded(values[n], width) for n in g.names], axis=-1).astype(np.float32)
            feeds[f"{g.name}_mask"] = np.arange(width)[None, :] < np.minimum(counts, width)[:, None]
            for extra, cols in (("points", g.points), ("vectors", g.vectors)):
                if any(s.name == f"{g.name}_{extra}" for s in specs):
                    comps = [_padded(values[c], width) for c in cols]
                    if extra == "vectors" and g.vectors_kind == "ptetaphim":
                        comps = list(ptetaphim_to_pxpypze(*comps))
                    feeds[f"{g.name}_{extra}"] = np.stack(comps, axis=-1).astype(np.float32)
            if any(s.name == f"{g.name}_tree" for s in specs):
                feeds[f"{g.name}_tree"] = tree_arrays(g, columns, counts, "feeds")
    if any(s.name == "ref" for s in specs) and schema.target is not None and schema.target.ratio_to:
        feeds["ref"] = np.asarray(columns[schema.target.ratio_to], dtype=np.float32)
    return {s.name: feeds[s.name] for s in specs}
