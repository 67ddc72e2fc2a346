"""One page per evaluated run (``report.md`` and ``report.html``): metrics, choices, every figure."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.summary import summarize

log = logging.getLogger(__name__)

__all__ = ["write_page"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def _facts(columns: dict[str, np.ndarray], task: str, info: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [("task", task), ("events", str(len(next(iter(columns.values())))))]
    for key in ("model_name", "n_parameters", "target", "baseline", "checkpoint", "energy"):
        if info.get(key) not in (None, "", []):
            facts.append((key.replace("_", " "), _fmt(info[key])))
    if info.get("class_names"):
        facts.append(("classes", ", ".join(map(str, info["class_names"]))))
    if info.get("files"):
        facts.append(("files", ", ".join(map(str, info["files"]))))
    for group, names in (info.get("inputs") or {}).items():
        facts.append((f"inputs: {group}", ", ".join(map(str, names))))
    facts += [(f"choice: {k}", str(v)) for k, v in sorted((info.get("choices") or {}).items())
              if not k.startswith("hydra")]  # Hydra's own groups say nothing about the run
    return facts


def write_page(
    stem: str | Path,
    columns: dict[str, np.ndarray],
    task: str,
    info: dict[str, Any],
    figures: Sequence[str | Path],
) -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.html``: the run's facts and choices, its metrics (each
    once, computed from the predictions) and every PNG figure, linked to its PDF.

    Parameters
    ----------
    stem : str or Path
        Output path without extension (figures are linked relative to its folder).
    columns, task, info
        The predictions file's content.
    figures : sequence of path
        The written figure files; PNGs are shown.

    Returns
    -------
    list[Path]
        The two written files.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    metrics = summarize(columns, task, info)
    facts = _facts(columns, task, info)
    pngs = [Path(f) for f in figures if Path(f).suffix == ".png"]

    def rel(path: Path) -> str:
        try:
            return path.resolve().relative_to(stem.parent.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_posix()

    md = [f"# {info.get('model_name', 'Run')}: {task}", "", "| | |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in facts]
    md += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
    md += [f"| {k} | {_fmt(v)} |" for k, v in metrics.items()]
    md += ["", "## Figures", ""]
    for png in pngs:
        pdf = png.with_suffix(".pdf")
        link = f" ([pdf]({rel(pdf)}))" if pdf.is_file() else ""
        md += [f"### {png.stem}{link}", "", f"![{png.stem}]({rel(png)})", ""]
    md_path = stem.with_suffix(".md")
    md_path.write_text("\n".join(md) + "\n")

    def rows(items) -> str:
        return "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                       for k, v in items)  # fmt: skip

    cards = "".join(
        f'<figure><a href="{html.escape(rel(p.with_suffix(".pdf")))}"><img src="'
        f'{html.escape(rel(p))}" alt="{html.escape(p.stem)}"></a><figcaption>'
        f"{html.escape(p.stem)}</figcaption></figure>" for p in pngs
    )
    title = html.escape(f"{info.get('model_name', 'Run')}: {task}")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}"
        ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em}"
        "figure{margin:0}img{width:100%}</style></head><body>"
        f"<h1>{title}</h1><table>{rows(facts)}</table><h2>Metrics</h2>"
        f"<table>{rows(metrics.items())}</table><h2>Figures</h2><div class='grid'>{cards}</div>"
        "</body></html>\n"
    )
    html_path = stem.with_suffix(".html")
    html_path.write_text(page)
    log.info("Run page: %s", md_path)
    return [md_path, html_path]
