"""What a data config declares: input groups and their variables, target, label, weights, observers.

Plain dataclasses built from the (already resolved) mapping of a data config, validated here so a
typo fails before any file is opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TRANSFORMS = ("log", "log1p", "abs")


@dataclass(frozen=True)
class Variable:
    """One input variable and its preprocessing.

    ``transform`` (``log``, ``log1p``, ``abs`` or None) and ``clip`` are applied in the data layer;
    ``center``/``scale`` (``"auto"`` = mean/std of the training split, a number, or None for 0/1)
    become buffers of the model's input normalisation. ``pad_value`` fills empty particle slots.
    """

    name: str
    transform: str | None = None
    clip: tuple[float, float] | None = None
    center: float | str | None = "auto"
    scale: float | str | None = "auto"
    pad_value: float = 0.0

    def __post_init__(self) -> None:
        if self.transform is not None and self.transform not in TRANSFORMS:
            raise ValueError(
                f"variable {self.name!r}: unknown transform {self.transform!r}; choose from {TRANSFORMS}"
            )
        for key in ("center", "scale"):
            v = getattr(self, key)
            if isinstance(v, str) and v != "auto":
                raise ValueError(f"variable {self.name!r}: {key} must be 'auto', a number or null")


@dataclass(frozen=True)
class InputGroup:
    """Scalar features (``max_length`` None) or a particle list padded/truncated to ``max_length``.

    A particle list may name ``count`` (a column with the number of particles per event, for padded
    files) and ``sort_by`` (a variable; particles are ordered by it, decreasing, before truncation).
    """

    name: str
    variables: tuple[Variable, ...]
    max_length: int | None = None
    count: str | None = None
    sort_by: str | None = None

    @property
    def is_list(self) -> bool:
        return self.max_length is not None

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


@dataclass(frozen=True)
class Target:
    """Regression target ``variable``, optionally divided by ``ratio_to`` and log-transformed."""

    variable: str
    ratio_to: str | None = None
    transform: str | None = None

    def __post_init__(self) -> None:
        if self.transform not in (None, "log"):
            raise ValueError(f"target transform must be null or 'log', got {self.transform!r}")


@dataclass(frozen=True)
class DataSchema:
    inputs: tuple[InputGroup, ...]
    target: Target | None = None
    label: str | None = None
    classes: tuple[str, ...] = ()
    weight: str | None = None
    observers: tuple[str, ...] = ()
    baseline: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> list[str]:
        """Every column the files must provide."""
        cols: list[str] = []
        for g in self.inputs:
            cols += g.names
            if g.count:
                cols.append(g.count)
            if g.sort_by and g.sort_by not in g.names:
                cols.append(g.sort_by)
        if self.target:
            cols.append(self.target.variable)
            if self.target.ratio_to:
                cols.append(self.target.ratio_to)
        for c in (self.label, self.weight, self.baseline, *self.observers):
            if c:
                cols.append(c)
        return list(dict.fromkeys(cols))


def _variable(name: str, spec: Mapping[str, Any] | None) -> Variable:
    spec = dict(spec or {})
    unknown = set(spec) - {"transform", "clip", "center", "scale", "pad_value"}
    if unknown:
        raise ValueError(
            f"variable {name!r}: unknown option(s) {sorted(unknown)}; "
            "allowed: transform, clip, center, scale, pad_value"
        )
    if spec.get("clip") is not None:
        spec["clip"] = tuple(spec["clip"])
    return Variable(name=name, **spec)


def _group(name: str, spec: Mapping[str, Any]) -> InputGroup:
    spec = dict(spec)
    unknown = set(spec) - {"variables", "max_length", "count", "sort_by"}
    if unknown:
        raise ValueError(
            f"input group {name!r}: unknown key(s) {sorted(unknown)}; "
            "allowed: variables, max_length, count, sort_by"
        )
    variables = spec.get("variables")
    if not variables:
        raise ValueError(f"input group {name!r} declares no variables")
    if isinstance(variables, Mapping):
        vs = tuple(_variable(k, v) for k, v in variables.items())
    else:
        vs = tuple(_variable(k, None) for k in variables)
    return InputGroup(
        name=name,
        variables=vs,
        max_length=spec.get("max_length"),
        count=spec.get("count"),
        sort_by=spec.get("sort_by"),
    )


def build_schema(
    inputs: Mapping[str, Mapping[str, Any]],
    target: Mapping[str, Any] | None = None,
    label: str | None = None,
    classes: Sequence[str] | None = None,
    weight: str | None = None,
    observers: Sequence[str] | None = None,
    baseline: str | None = None,
) -> DataSchema:
    """Validate a data config's declarations and return the schema."""
    inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
    if not inputs:
        raise ValueError("data config declares no inputs (data.inputs is empty)")
    if target is None and label is None:
        raise ValueError("data config needs a regression `target` or a classification `label`")
    if target is not None and label is not None:
        raise ValueError("data config declares both `target` and `label`; keep the one the task needs")
    return DataSchema(
        inputs=tuple(_group(k, v) for k, v in inputs.items()),
        target=Target(**target) if target else None,
        label=label,
        classes=tuple(classes or ()),
        weight=weight,
        observers=tuple(observers or ()),
        baseline=baseline,
    )
