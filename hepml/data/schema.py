"""What a data config declares: input groups, target or label, weights, aux columns, observers,
sources, a selection and column aliases.

Plain dataclasses built from the (already resolved) mapping of a data config and validated here, so
a typo fails before any file is opened. Group kinds:

* ``scalars`` (no ``max_length``): per-event features ``[n, F]``;
* particle lists (``max_length``): ``[n, N, F]`` with a mask ``[n, N]``, optionally ``points``
  (coordinates for graph models, ``[n, N, P]``), ``vectors`` (4-vectors for pairwise features,
  ``[n, N, 4]`` as (px, py, pz, E)) and ``tree`` (the jet's clustering history, ``[n, N - 1, 2]``:
  a tree group, read by the recursive network);
* images (``shape: [C, H, W]``): ``[n, C, H, W]`` from one 2D/3D dataset or from flat columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hepml.data.selection import Selection
from hepml.errors import HepmlError

TRANSFORMS = ("log", "log1p", "abs")


class DataConfigError(HepmlError, ValueError):
    """A data config that declares something impossible or unknown (names the key and what to do)."""


VECTOR_KINDS = {"pxpypze": ("px", "py", "pz", "E"), "ptetaphim": ("pt", "eta", "phi", "mass")}
IMAGE_NORMS = (None, "global", "pixel")
_VARIABLE_KEYS = ("column", "transform", "clip", "center", "scale", "pad_value", "missing", "label", "unit")
_GROUP_KEYS = ("variables", "max_length", "count", "sort_by", "points", "vectors", "shape", "column",
               "columns", "normalize", "pt_normalize", "log", "tree")
_SOURCE_KEYS = ("files", "label", "domain", "fraction", "labelled", "tree")


@dataclass(frozen=True)
class Variable:
    """One input variable and its preprocessing.

    ``column`` is the name in the file when it differs from ``name``. ``missing`` declares a
    sentinel (a number, or ``nan``): such values are never fed raw, they are replaced by the
    training mean (0 after normalisation) and flagged by an extra 0/1 feature ``<name>_missing``.
    ``transform`` (``log``, ``log1p``, ``abs`` or None) and ``clip`` are applied in the data layer;
    ``center``/``scale`` (``"auto"`` = mean/std of the training split, a number, or None for 0/1)
    become buffers of the model's input normalisation. ``pad_value`` fills empty particle slots.
    ``label`` and ``unit`` are for plots.
    """

    name: str
    column: str | None = None
    transform: str | None = None
    clip: tuple[float, float] | None = None
    center: float | str | None = "auto"
    scale: float | str | None = "auto"
    pad_value: float = 0.0
    missing: float | None = None
    label: str | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.transform is not None and self.transform not in TRANSFORMS:
            raise DataConfigError(
                f"variable {self.name!r}: unknown transform {self.transform!r}; choose from {TRANSFORMS}"
            )
        for key in ("center", "scale"):
            v = getattr(self, key)
            if isinstance(v, str) and v != "auto":
                raise DataConfigError(f"variable {self.name!r}: {key} must be 'auto', a number or null")

    def is_missing(self, x):
        """Boolean array: where ``x`` holds the sentinel."""
        import numpy as np

        if self.missing is None:
            return np.zeros(np.shape(x), dtype=bool)
        if math.isnan(self.missing):
            return np.isnan(x)
        return x == self.missing


@dataclass(frozen=True)
class InputGroup:
    """Scalar features, a particle list padded/truncated to ``max_length``, or an image.

    A particle list may name ``count`` (the column with the number of particles per event, for
    padded files), ``sort_by`` (particles are ordered by it, decreasing, before truncation),
    ``points`` (columns of coordinates, e.g. ``[const_deta, const_dphi]``) and ``vectors`` (four
    columns ``px, py, pz, E`` or, with ``vectors_kind: ptetaphim``, ``pt, eta, phi, mass``).
    An image has ``shape`` ``[C, H, W]`` and reads one dataset ``column`` (per event ``[H, W]``,
    ``[C, H, W]`` or flat ``H*W*C``) or ``columns`` (one flat column per pixel, C-order);
    ``pt_normalize`` divides each image by its sum, ``log`` takes log(1 + intensity), and
    ``normalize`` is ``global`` (one mean/std per channel), ``pixel`` (per pixel) or null.
    A particle list with ``tree`` (two columns ``[left, right]``, e.g. ``[tree_kt_left,
    tree_kt_right]``: the children of each merge of the particles' clustering history, as the jet
    samples write them) is a tree group (``kind`` stays ``particles``): it also gives
    ``<group>_tree [n, N - 1, 2]`` (:func:`hepml.data.columns.tree_arrays`).
    """

    name: str
    variables: tuple[Variable, ...] = ()
    max_length: int | None = None
    count: str | None = None
    sort_by: str | None = None
    points: tuple[str, ...] = ()
    vectors: tuple[str, ...] = ()
    vectors_kind: str = "pxpypze"
    shape: tuple[int, int, int] | None = None
    columns: tuple[str, ...] = ()
    normalize: str | None = "global"
    pt_normalize: bool = False
    log: bool = False
    tree: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.shape is not None:
            return "image"
        return "particles" if self.max_length is not None else "scalars"

    @property
    def is_list(self) -> bool:
        return self.kind == "particles"

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def flagged(self) -> list[Variable]:
        """Variables with a missing-value sentinel (each adds a ``<name>_missing`` feature)."""
        return [v for v in self.variables if v.missing is not None]

    @property
    def feature_names(self) -> list[str]:
        return self.names + [f"{v.name}_missing" for v in self.flagged]

    @property
    def n_features(self) -> int:
        """Width of the last axis (channels for an image)."""
        if self.shape is not None:
            return self.shape[0]
        return len(self.variables) + len(self.flagged)

    def raw_names(self) -> list[str]:
        """Logical column names this group reads."""
        if self.shape is not None:
            return list(self.columns)
        extra = [self.count, self.sort_by, *self.points, *self.vectors, *self.tree]
        return list(dict.fromkeys(self.names + [c for c in extra if c]))


@dataclass(frozen=True)
class Target:
    """Regression target ``variable``, optionally divided by ``ratio_to`` and log-transformed."""

    variable: str
    ratio_to: str | None = None
    transform: str | None = None

    def __post_init__(self) -> None:
        if self.transform not in (None, "log"):
            raise DataConfigError(f"target transform must be null or 'log', got {self.transform!r}")


@dataclass(frozen=True)
class Source:
    """A named set of files with per-source tags.

    ``label``: a fixed class index for every event of the source (signal file, background file);
    ``domain``: an integer domain tag (0 simulation, 1 data, ...); ``fraction``: the known signal
    fraction of a mixed sample (weak supervision); ``labelled: false`` marks events whose label
    must not be used (unlabelled data).
    """

    name: str
    files: tuple[str, ...]
    label: int | None = None
    domain: int = 0
    fraction: float | None = None
    labelled: bool = True
    tree: str | None = None


@dataclass(frozen=True)
class DataSchema:
    inputs: tuple[InputGroup, ...]
    target: Target | None = None
    label: str | None = None
    classes: tuple[str, ...] = ()
    label_values: tuple[float, ...] | None = None
    weight: str | None = None
    observers: tuple[str, ...] = ()
    aux: tuple[str, ...] = ()
    baseline: str | None = None
    selection: Selection | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    sources: tuple[Source, ...] = ()

    @property
    def n_classes(self) -> int:
        return max(len(self.classes), 2)

    def group(self, name: str) -> InputGroup:
        for g in self.inputs:
            if g.name == name:
                return g
        raise KeyError(f"no input group {name!r}; the data config has {[g.name for g in self.inputs]}")

    def columns(self, source: Source | None = None) -> list[str]:
        """Every logical column the files (of ``source``) must provide, before aliasing."""
        cols: list[str] = []
        for g in self.inputs:
            cols += g.raw_names()
        if self.target:
            cols.append(self.target.variable)
            if self.target.ratio_to:
                cols.append(self.target.ratio_to)
        fixed = source is not None and (source.label is not None or not source.labelled)
        label = None if fixed else self.label
        for c in (label, self.weight, self.baseline, *self.observers, *self.aux):
            if c:
                cols.append(c)
        if self.selection is not None:
            cols += self.selection.columns
        return list(dict.fromkeys(cols))

    def file_column(self, name: str) -> str:
        """The column's name in the files (aliases from ``column:`` and ``data.columns``)."""
        return self.aliases.get(name, name)

    def file_columns(self, source: Source | None = None) -> list[str]:
        return list(dict.fromkeys(self.file_column(c) for c in self.columns(source)))


def _variable(name: str, spec: Mapping[str, Any] | None) -> Variable:
    spec = dict(spec or {})
    unknown = set(spec) - set(_VARIABLE_KEYS)
    if unknown:
        raise DataConfigError(
            f"variable {name!r}: unknown option(s) {sorted(unknown)}; allowed: {', '.join(_VARIABLE_KEYS)}"
        )
    if spec.get("clip") is not None:
        spec["clip"] = tuple(spec["clip"])
    if spec.get("missing") is not None:
        try:
            spec["missing"] = float(spec["missing"])
        except (TypeError, ValueError) as err:
            raise DataConfigError(f"variable {name!r}: missing must be a number or nan, got "
                             f"{spec['missing']!r}") from err
    return Variable(name=name, **spec)


def _names(group: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise DataConfigError(f"input group {group!r}: {key} must be a list of column names, got {value!r}")
    return tuple(str(v) for v in value)


def group_spec(name: str, spec: Mapping[str, Any]) -> InputGroup:
    """One input group from its config mapping (validated)."""
    return _group(name, spec)


def _group(name: str, spec: Mapping[str, Any]) -> InputGroup:
    spec = dict(spec)
    unknown = set(spec) - set(_GROUP_KEYS)
    if unknown:
        raise DataConfigError(
            f"input group {name!r}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(_GROUP_KEYS)}"
        )
    if spec.get("shape") is not None:
        return _image_group(name, spec)
    variables = spec.get("variables")
    if not variables:
        raise DataConfigError(f"input group {name!r} declares no variables")
    if isinstance(variables, Mapping):
        vs = tuple(_variable(k, v) for k, v in variables.items())
    else:
        vs = tuple(_variable(k, None) for k in variables)
    max_length = spec.get("max_length")
    points = _names(name, "points", spec.get("points"))
    vectors, kind = _vectors(name, spec.get("vectors"))
    tree = _names(name, "tree", spec.get("tree"))
    if tree and len(tree) != 2:
        raise DataConfigError(f"input group {name!r}: tree needs two columns [left, right] (the children "
                              f"of each merge, e.g. [tree_kt_left, tree_kt_right]), got {list(tree)}")
    if max_length is None and (points or vectors or tree or spec.get("count") or spec.get("sort_by")):
        raise DataConfigError(f"input group {name!r}: points, vectors, tree, count and sort_by need max_length "
                         "(they describe particle lists)")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise DataConfigError(f"input group {name!r}: max_length must be a positive integer, got {max_length!r}")
    return InputGroup(name=name, variables=vs, max_length=max_length, count=spec.get("count"),
                      sort_by=spec.get("sort_by"), points=points, vectors=vectors, vectors_kind=kind,
                      tree=tree)


def _vectors(group: str, value: Any) -> tuple[tuple[str, ...], str]:
    """``[px, py, pz, E]`` columns, or ``{pt: .., eta: .., phi: .., mass: ..}`` (or px/py/pz/E keys)."""
    if value is None:
        return (), "pxpypze"
    if isinstance(value, Mapping):
        for kind, keys in VECTOR_KINDS.items():
            if set(value) == set(keys):
                return tuple(str(value[k]) for k in keys), kind
        raise DataConfigError(f"input group {group!r}: vectors as a mapping needs the keys "
                         f"{list(VECTOR_KINDS['pxpypze'])} or {list(VECTOR_KINDS['ptetaphim'])}, "
                         f"got {sorted(value)}")
    names = _names(group, "vectors", value)
    if len(names) != 4:
        raise DataConfigError(f"input group {group!r}: vectors needs four columns [px, py, pz, E], got {list(names)}")
    return names, "pxpypze"


def _image_group(name: str, spec: Mapping[str, Any]) -> InputGroup:
    shape = spec["shape"]
    if (not isinstance(shape, Sequence) or len(shape) != 3
            or not all(isinstance(s, int) and s > 0 for s in shape)):
        raise DataConfigError(f"image group {name!r}: shape must be [C, H, W] (positive integers), got {shape!r}")
    column, columns = spec.get("column"), _names(name, "columns", spec.get("columns"))
    if (column is None) == (not columns):
        raise DataConfigError(f"image group {name!r}: give either `column` (one 2D/3D dataset per event) or "
                         "`columns` (one flat column per pixel)")
    if columns and len(columns) != math.prod(shape):
        raise DataConfigError(f"image group {name!r}: {len(columns)} columns for shape {list(shape)} "
                         f"({math.prod(shape)} pixels)")
    normalize = spec.get("normalize", "global")
    if normalize not in IMAGE_NORMS:
        raise DataConfigError(f"image group {name!r}: normalize must be global, pixel or null, got {normalize!r}")
    for key in ("variables", "max_length", "count", "sort_by", "points", "vectors", "tree"):
        if spec.get(key):
            raise DataConfigError(f"image group {name!r}: {key} does not apply to an image")
    return InputGroup(name=name, shape=tuple(shape), columns=(column,) if column else columns,
                      normalize=normalize, pt_normalize=bool(spec.get("pt_normalize", False)),
                      log=bool(spec.get("log", False)))


def _sources(spec: Mapping[str, Any] | None, classes: Sequence[str]) -> tuple[Source, ...]:
    out = []
    for name, s in (spec or {}).items():
        if s is None:
            continue
        s = dict(s)
        unknown = set(s) - set(_SOURCE_KEYS)
        if unknown:
            raise DataConfigError(f"source {name!r}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(_SOURCE_KEYS)}")
        files = s.get("files")
        if isinstance(files, str):
            files = [files]
        if not files:
            raise DataConfigError(f"source {name!r} names no files (data.sources.{name}.files)")
        label = s.get("label")
        if isinstance(label, str):
            if label not in classes:
                raise DataConfigError(f"source {name!r}: label {label!r} is not one of data.classes {list(classes)}")
            label = list(classes).index(label)
        fraction = s.get("fraction")
        if fraction is not None and not 0.0 <= float(fraction) <= 1.0:
            raise DataConfigError(f"source {name!r}: fraction must be in [0, 1], got {fraction}")
        out.append(Source(name=str(name), files=tuple(str(f) for f in files),
                          label=None if label is None else int(label), domain=int(s.get("domain", 0)),
                          fraction=None if fraction is None else float(fraction),
                          labelled=bool(s.get("labelled", True)), tree=s.get("tree")))
    return tuple(out)


def build_schema(
    inputs: Mapping[str, Mapping[str, Any]],
    target: Mapping[str, Any] | None = None,
    label: str | None = None,
    classes: Sequence[str] | None = None,
    weight: str | None = None,
    observers: Sequence[str] | None = None,
    baseline: str | None = None,
    aux: Sequence[str] | None = None,
    selection: str | None = None,
    columns: Mapping[str, str] | None = None,
    sources: Mapping[str, Mapping[str, Any]] | None = None,
    label_values: Sequence[float] | None = None,
) -> DataSchema:
    """Validate a data config's declarations and return the schema."""
    inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
    if not inputs:
        raise DataConfigError("data config declares no inputs (data.inputs is empty)")
    classes = tuple(classes or ())
    srcs = _sources(sources, classes)
    source_labels = bool(srcs) and any(s.label is not None for s in srcs)
    if target is None and label is None and not source_labels:
        raise DataConfigError("data config needs a regression `target`, a classification `label` column, "
                         "or sources with a `label` each")
    if target is not None and (label is not None or source_labels):
        raise DataConfigError("data config declares both a regression `target` and a classification label; "
                         "keep the one the task needs")
    groups = tuple(_group(k, v) for k, v in inputs.items())
    aliases = {str(k): str(v) for k, v in (columns or {}).items()}
    for g in groups:
        for v in g.variables:
            if v.column is not None:
                aliases.setdefault(v.name, v.column)
    reserved = [a for a in (aux or ()) if a in ("source", "domain", "labelled", "fraction")]
    if reserved:
        raise DataConfigError(f"data.aux {reserved}: these names are source tags filled by data.sources")
    return DataSchema(
        inputs=groups,
        target=Target(**target) if target else None,
        label=label if label is not None else ("label" if source_labels else None),
        classes=classes,
        label_values=tuple(label_values) if label_values is not None else None,
        weight=weight,
        observers=tuple(observers or ()),
        aux=tuple(aux or ()),
        baseline=baseline,
        selection=Selection.parse(selection) if selection else None,
        aliases=aliases,
        sources=srcs,
    )
