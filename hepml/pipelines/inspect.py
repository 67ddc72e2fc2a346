"""``hepml inspect FILE``: what a data file holds, and a data config to start from.

:func:`inspect_file` lists the file's format, entries, trees and every column (dtype, per-entry
shape, jagged, counter) and sorts the columns into what a data config declares: flat numeric
columns become ``scalars``, jagged or padded lists sharing a prefix become particle groups
(``max_length`` the 95th percentile of their counts in the first ``max_rows`` entries), 2D/3D
per-entry datasets become ``images``, and a label, target or weight column is guessed from its
name. :func:`starter_config` (:mod:`hepml.pipelines.starter_config`) writes that as YAML to paste
into ``configs/data/mine.yaml``; :func:`render` draws the listing as rich tables.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hepml.data import io
from hepml.data.io import ColumnInfo
from hepml.pipelines.starter_config import starter_config

log = logging.getLogger(__name__)

__all__ = ["FileReport", "ListGroup", "inspect", "inspect_file", "render"]

_LABELS = [re.compile(p, re.I) for p in (r".*label.*", r"is_?sig(nal)?|signal", r"y|class|truth_?class",
                                          r"(.*_)?flavou?r")]  # in order of preference
_TARGET = re.compile(r"(target|.*_true|true_.*|gen_.*|.*_gen|truth_.*|.*_truth)", re.I)
_WEIGHT = re.compile(r"(weight|.*_?weight|genweight)", re.I)
_IDS = {"event", "run", "luminosityblock", "lumi", "evt", "eventnumber", "event_number",
        "runnumber", "index", "entry"}
_MAX_CLASSES = 20
_WIDE = 100  # more columns than this: the listing groups them by prefix unless all_columns


@dataclass
class ListGroup:
    """Jagged or padded columns sharing a prefix: one particle-list input group."""

    prefix: str
    variables: list[str]
    count: str | None = None
    sort_by: str | None = None
    max_length: int = 1
    count_max: int = 0
    count_mean: float = 0.0
    counted: bool = True  # False: counts estimated from the non-zero entries of padded rows


@dataclass
class FileReport:
    """What :func:`inspect_file` found in one file."""

    path: str
    format: str
    entries: int
    columns: list[ColumnInfo]
    tree: str | None = None
    trees: dict[str, tuple[str, int]] = field(default_factory=dict)
    scalars: list[str] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    lists: list[ListGroup] = field(default_factory=list)
    images: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    label: str | None = None
    label_values: list[int] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    weight: str | None = None
    rows_read: int = 0


def _prefix(name: str) -> str:
    if "/" in name:
        return name.rsplit("/", 1)[0]
    head, sep, rest = name.partition("_")
    return head if sep and rest else name


def _pick_tree(path: str, trees: dict[str, tuple[str, int]], tree: str | None) -> str | None:
    if tree is not None or not trees:
        return tree
    if len(trees) == 1:
        return next(iter(trees))
    named = [t for t in trees if t.lower() == "events"]
    chosen = named[0] if named else max(trees, key=lambda t: trees[t][1])
    log.warning("%s holds %d trees (%s): describing %r; choose another with --tree", path,
                len(trees), ", ".join(trees), chosen)
    return chosen


def _int_like(info: ColumnInfo) -> bool:
    return info.numeric and np.dtype(info.dtype).kind in "biu"


def _count_column(prefix: str, flat: dict[str, ColumnInfo]) -> str | None:
    lowered = {name.lower(): name for name, info in flat.items() if _int_like(info)}
    for guess in (f"n_{prefix}", f"n{prefix}", f"{prefix}_n", f"n_{prefix}s", f"num_{prefix}",
                  f"{prefix}_count", f"n{prefix}s"):
        if guess.lower() in lowered:
            return lowered[guess.lower()]
    return None


def _counts(path: str, group: ListGroup, info: ColumnInfo, options: dict) -> np.ndarray:
    """Entries per row of a list group in the first ``options['stop']`` entries."""
    if group.count is not None:
        return np.asarray(io.read_columns(path, [group.count], **options)[group.count])
    values = io.read_columns(path, [group.variables[0]], **options)[group.variables[0]]
    if isinstance(values, ak.Array):
        return ak.to_numpy(ak.num(values))
    group.counted = False  # padded without a count column: the last non-zero entry
    nonzero = np.asarray(values).reshape(len(values), -1) != 0
    return np.where(nonzero.any(axis=1), nonzero.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)


def _sort(report: FileReport, path: str, options: dict) -> None:
    """Sort the columns into scalars, list groups, images and label/target/weight guesses."""
    flat = {c.name: c for c in report.columns if c.shape == () and c.numeric}
    counters = {c.counter for c in report.columns if c.counter}
    listed = [c for c in report.columns if c.numeric and (c.jagged or len(c.shape) == 1)]
    groups: dict[str, list[ColumnInfo]] = {}
    for info in listed:
        groups.setdefault(_prefix(info.name), []).append(info)
    for prefix, members in groups.items():
        first = members[0]
        count = first.counter or _count_column(prefix, flat)
        pts = [m.name for m in members if m.name.lower().endswith("_pt")]
        group = ListGroup(prefix, [m.name for m in members], count, pts[0] if pts else None)
        counts = _counts(path, group, first, options)
        group.max_length = max(1, int(np.ceil(np.percentile(counts, 95)))) if len(counts) else 1
        group.count_max = int(counts.max()) if len(counts) else 0
        group.count_mean = float(counts.mean()) if len(counts) else 0.0
        if count is not None:
            counters.add(count)
        report.lists.append(group)
    report.lists.sort(key=lambda g: -len(g.variables))
    for info in report.columns:
        if info.numeric and not info.jagged and len(info.shape) in (2, 3):
            shape = info.shape if len(info.shape) == 3 else (1, *info.shape)
            report.images[info.name] = tuple(int(s) for s in shape)
    ints = [n for n, c in flat.items() if _int_like(c) and n not in counters]
    report.label = next((n for p in _LABELS for n in ints if p.fullmatch(n)), None)
    report.targets = [n for n in flat if _TARGET.fullmatch(n) and n != report.label]
    report.weight = next((n for n in flat if _WEIGHT.fullmatch(n) and not _int_like(flat[n])), None)
    if report.label is not None:
        values = np.unique(io.read_columns(path, [report.label], **options)[report.label])
        if len(values) > _MAX_CLASSES:  # an integer feature, not a class
            report.label = None
        else:
            report.label_values = sorted(int(v) for v in values)
    left = report.left_out
    for name, info in flat.items():
        if name == report.label:
            continue
        reason = ("counter" if name in counters else "target guess" if name in report.targets
                  else "weight" if name == report.weight
                  else "identifier" if name.lower() in _IDS
                  else "boolean" if info.dtype == "bool" else None)
        if reason:
            left.setdefault(reason, []).append(name)
        else:
            report.scalars.append(name)


def inspect_file(path: str | Path, tree: str | None = None, max_rows: int = 10_000,
                 format: str | None = None) -> FileReport:
    """What ``path`` holds and how a data config would declare it.

    Parameters
    ----------
    path
        HDF5, ROOT, CSV or parquet file.
    tree
        ROOT: the tree to describe; None picks the only one (several: ``Events``/``events``, else
        the one with most entries, with a warning).
    max_rows
        Entries read for statistics (list lengths for ``max_length``, label values).
    format
        Overrides the suffix.
    """
    path = str(path)
    fmt = io.detect_format(path, format)
    trees = {name: (kind, io.num_entries(path, format=fmt, tree=name))
             for name, kind in io.list_trees(path, format=fmt).items()}
    tree = _pick_tree(path, trees, tree)
    columns = io.list_columns(path, format=fmt, tree=tree)
    entries = io.num_entries(path, format=fmt, tree=tree)
    report = FileReport(path, fmt, entries, columns, tree, trees, rows_read=min(entries, max_rows))
    if entries:
        _sort(report, path, {"format": fmt, "tree": tree, "start": 0, "stop": max_rows})
    return report


def _shape(info: ColumnInfo) -> str:
    return "scalar" if info.shape == () else "[" + ", ".join("var" if s is None else str(s)
                                                          for s in info.shape) + "]"


def render(report: FileReport, console: Console, all_columns: bool = False) -> None:
    """Draw the file summary, its trees and its columns as rich tables."""
    head = f"[bold]{escape(report.path)}[/]: {report.format}, {report.entries:,} entries"
    console.print(head + (f" in {escape(repr(report.tree))}" if report.tree else ""), soft_wrap=True)
    if len(report.trees) > 1:
        trees = Table("tree", "kind", "entries", title="trees")
        for name, (kind, n) in report.trees.items():
            trees.add_row(escape(name), kind, f"{n:,}")
        console.print(trees)
    if all_columns or len(report.columns) <= _WIDE:
        table = Table("column", "dtype", "per entry", "jagged", "counter",
                      title=f"{len(report.columns)} columns")
        for c in report.columns:
            table.add_row(*map(escape, (c.name, c.dtype, _shape(c), "yes" if c.jagged else "",
                                        c.counter or "")))
    else:
        table = Table("prefix", "columns", "dtypes", "per entry", "counter",
                      title=f"{len(report.columns):,} columns by prefix (--all lists each)")
        by_prefix: dict[str, list[ColumnInfo]] = {}
        for c in report.columns:
            by_prefix.setdefault(_prefix(c.name), []).append(c)
        for prefix, cs in by_prefix.items():
            table.add_row(*map(escape, (prefix, str(len(cs)), ", ".join(sorted({c.dtype for c in cs})),
                                        ", ".join(sorted({_shape(c) for c in cs})),
                                        ", ".join(sorted({c.counter for c in cs if c.counter})))))
    console.print(table)
    for g in report.lists:
        how = "" if g.counted else " (estimated from non-zero entries)"
        console.print(f"{escape(g.prefix)}: {len(g.variables)} list columns, up to {g.count_max} per entry, "
                      f"mean {g.count_mean:.1f}{how}, 95% within {g.max_length} "
                      f"(first {report.rows_read:,} entries)", soft_wrap=True)


def inspect(path: str | Path, tree: str | None = None, max_rows: int = 10_000,
            format: str | None = None, all_columns: bool = False,
            console: Console | None = None) -> str:
    """Print what ``path`` holds and a starter data config; return the config's YAML."""
    console = console or Console()
    report = inspect_file(path, tree, max_rows, format)
    render(report, console, all_columns)
    text = starter_config(report)
    console.print("\n[bold]starter data config[/] (paste into configs/data/mine.yaml, train with "
                  "data=mine):\n")
    console.print(text, markup=False, highlight=False, soft_wrap=True)
    return text
