"""The starter data config ``hepml inspect`` prints: YAML a user pastes into
``configs/data/mine.yaml`` (every guess marked as one).

Only what differs from ``configs/data_defaults.yaml`` is written: ``_target_``, ``files``, ``tree``
for ROOT, the input groups, and the label (or commented target) guesses.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from hepml.pipelines.inspect import FileReport

__all__ = ["quote", "starter_config"]

_MAX_SCALARS = 60
_MAX_LABEL_VALUES = 20
_SPECIAL = set(":#{}[],&*!|>'\"%@`")


def quote(name: str) -> str:
    """``name`` as a YAML scalar that reads back as the same string (quoted where needed)."""
    try:
        plain = yaml.safe_load(name) == name
    except yaml.YAMLError:
        plain = False
    if plain and name and name == name.strip() and not (_SPECIAL & set(name)):
        return name
    return json.dumps(name)


def _flow(names: list[str]) -> str:
    return "[" + ", ".join(quote(n) for n in names) + "]"


def _group_name(prefix: str, taken: set[str]) -> str:
    name = re.sub(r"\W+", "_", prefix).strip("_").lower() or "list"
    while name in taken:
        name += "_list"
    taken.add(name)
    return name


def _inputs(report: FileReport) -> list[str]:
    lines: list[str] = []
    if report.scalars:
        lines += ["  scalars:", "    variables:"]
        lines += [f"      {quote(n)}: {{}}" for n in report.scalars[:_MAX_SCALARS]]
        if len(report.scalars) > _MAX_SCALARS:
            lines.append(f"      # ... {len(report.scalars) - _MAX_SCALARS} more flat columns "
                         "(listed above) left out")
    taken = {"scalars", "images"}
    for i, g in enumerate(report.lists):
        name = "particles" if i == 0 else _group_name(g.prefix, taken)
        taken.add(name)
        spread = "estimated from non-zero entries" if not g.counted else (
            f"95th percentile of {g.count or 'the list lengths'}")
        lines += [f"  {quote(name)}:  # {g.prefix}: {len(g.variables)} columns, up to "
                  f"{g.count_max} per entry (mean {g.count_mean:.1f})",
                  f"    max_length: {g.max_length}  # {spread} in the first {report.rows_read:,} "
                  "entries"]
        if g.count:
            lines.append(f"    count: {quote(g.count)}")
        if g.sort_by:
            lines.append(f"    sort_by: {quote(g.sort_by)}")
        lines += ["    variables:"] + [f"      {quote(v)}: {{}}" for v in g.variables]
    for i, (column, shape) in enumerate(report.images.items()):
        name = "images" if i == 0 else _group_name(column, taken)
        lines += [f"  {quote(name)}:", f"    shape: [{', '.join(map(str, shape))}]",
                  f"    column: {quote(column)}"]
        if shape[0] > 4 and shape[2] <= 4:
            lines[-2] += "  # channels last? the data layer reads [C, H, W]"
    return lines


def _label(report: FileReport) -> list[str]:
    lines: list[str] = []
    values = report.label_values
    if report.label is not None and len(values) <= _MAX_LABEL_VALUES:
        shown = ", ".join(map(str, values))
        lines.append(f"label: {quote(report.label)}  # guess: an integer column named like a "
                     f"label (values {shown})")
        if values == [0, 1]:
            lines.append("classes: [background, signal]  # guess: class 0, class 1")
        elif values == list(range(len(values))):
            lines.append(f"classes: {_flow([f'class_{v}' for v in values])}")
        else:
            lines.append(f"label_values: [{shown}]  # raw labels in class order")
            lines.append(f"classes: {_flow([f'class_{v}' for v in values])}")
    else:
        lines.append("# label: COLUMN  # classification: an integer class column")
    for target in report.targets[:3]:
        lines.append(f"# target: {{variable: {quote(target)}}}  # guess: a regression target "
                     "(instead of label)")
    if report.weight is not None:
        lines.append(f"# weight: {quote(report.weight)}  # guess: per-event weights")
    return lines


def _left_out(report: FileReport) -> list[str]:
    lines = []
    for reason, names in report.left_out.items():
        if len(names) <= 8:
            lines.append(f"# left out of the inputs ({reason}): {', '.join(names)}")
        else:
            prefixes = sorted({n.partition("_")[0] for n in names})
            lines.append(f"# left out of the inputs ({reason}): {len(names)} columns "
                         f"({', '.join(p + '_*' for p in prefixes[:6])}{', ...' if len(prefixes) > 6 else ''})")
    return lines


def starter_config(report: FileReport) -> str:
    """The YAML text of a data config declaring what ``report`` found."""
    lines = [f"# Starter data config for {report.path}, written by `hepml inspect`: paste it into",
             "# configs/data/mine.yaml and train with data=mine; check every line marked 'guess'.",
             "_target_: hepml.data.datamodule.HEPDataModule",
             f"files: [{quote(report.path)}]"]
    if report.format == "root" and report.tree is not None:
        lines.append(f"tree: {quote(report.tree)}")
    inputs = _inputs(report)
    lines += ["inputs:", *inputs] if inputs else ["inputs: {}  # no numeric input columns found"]
    lines += _label(report) + _left_out(report)
    return "\n".join(lines) + "\n"
