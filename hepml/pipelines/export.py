"""``hepml export ckpt_path=... format=onnx|torchscript``: a checkpoint's task as a self-contained
graph from raw file values to physical predictions (:mod:`hepml.export`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from hepml import __version__
from hepml.atomic import write_text_atomic
from hepml.errors import HepmlError
from hepml.export.graph import ExportedGraph, ExportedModel
from hepml.export.inputs import (
    InputSpec,
    fixed_particle_axes,
    group_metadata,
    input_specs,
    used_groups,
)
from hepml.export.trees import ExportedEstimator
from hepml.export.writers import (
    example_inputs,
    particle_axis_is_dynamic,
    run_onnx,
    run_torchscript,
    to_onnx,
    to_torchscript,
)
from hepml.pipelines.common import build_datamodule, build_task, load_checkpoint

log = logging.getLogger(__name__)

SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}


class ExportError(HepmlError, ValueError):
    """A checkpoint or an option that cannot be exported."""


def export(cfg: DictConfig) -> dict[str, Any]:
    """Write the export of ``cfg.ckpt_path`` (and ``<file>.json`` with its metadata); return
    ``{"path": ..., "max_abs_diff": ...}`` (the check of the written file against PyTorch)."""
    if not cfg.get("ckpt_path"):
        raise ExportError("hepml export needs ckpt_path=PATH/TO/best.ckpt")
    fmt = str(cfg.get("format", "onnx")).lower()
    if fmt not in SUFFIXES:
        raise ExportError(f"format={fmt!r}: choose onnx or torchscript")
    out = Path(cfg.output) if cfg.get("output") else Path(cfg.paths.output_dir) / f"model{SUFFIXES[fmt]}"
    model, specs, metadata = exported_model(cfg.ckpt_path, trust=bool(cfg.get("trust_checkpoint", False)))
    metadata["format"] = fmt
    if fmt == "onnx":
        to_onnx(model, specs, out, metadata, opset=int(cfg.get("opset", 18)), dynamo=bool(cfg.get("dynamo")))
    else:
        to_torchscript(model, specs, out, metadata)
    write_text_atomic(out.with_suffix(out.suffix + ".json"), json.dumps(metadata, indent=2) + "\n",
                      "export metadata")
    result: dict[str, Any] = {"path": str(out)}
    tolerance = cfg.get("check_tolerance")
    if tolerance is not None:
        result["max_abs_diff"] = check_export(model, specs, out, fmt)
        if result["max_abs_diff"] > float(tolerance):
            for path in (out, out.with_suffix(out.suffix + ".json")):  # never leave a wrong model
                path.unlink(missing_ok=True)
            other = "torchscript" if fmt == "onnx" else "onnx"
            raise ExportError(f"{out}: the exported graph differs from PyTorch by "
                              f"{result['max_abs_diff']:.3g} (> check_tolerance={tolerance}), so it was "
                              f"removed; this model's operations do not export faithfully to {fmt}: try "
                              f"format={other}" + (" or dynamo=true" if fmt == "onnx" else ""))
    log.info("Exported %s to %s (%s; inputs %s; outputs %s)", cfg.ckpt_path, out, fmt,
             ", ".join(f"{s.name}{list(s.shape)}" for s in specs), ", ".join(model.output_names))
    return result


def exported_model(ckpt_path: str | Path, trust: bool = False
                   ) -> tuple[ExportedGraph, list[InputSpec], dict[str, Any]]:
    """The graph of a checkpoint (eval mode), its input specs and its metadata."""
    ckpt = load_checkpoint(ckpt_path, trust=trust)
    meta = ckpt["hepml"]
    run_cfg = OmegaConf.create(meta["config"])
    schema = build_datamodule(run_cfg.data).schema
    if "estimator" in ckpt:
        return _estimator_graph(ckpt_path, ckpt, run_cfg, schema)
    task = build_task(run_cfg, instantiate(run_cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    specs = input_specs(schema, task.model_inputs)
    groups = used_groups(schema, task.model_inputs)
    model = _with_outputs(ExportedModel(task, groups, meta["stats"], [s.name for s in specs], []), specs)
    dynamic = particle_axis_is_dynamic(model, specs)
    if not dynamic:
        log.warning("%s: the model's shape logic does not follow another particle count when traced; "
                    "the export takes exactly max_length particles (pad or cut the lists)", ckpt_path)
        specs = fixed_particle_axes(specs)
    return model, specs, _metadata(ckpt_path, meta, run_cfg, schema, specs, groups, model.output_names, dynamic)


def _estimator_graph(ckpt_path: str | Path, ckpt: dict[str, Any], run_cfg: DictConfig, schema: Any
                     ) -> tuple[ExportedGraph, list[InputSpec], dict[str, Any]]:
    """A BDT checkpoint as a graph: the scalar groups' raw transform, the trees and the link."""
    meta, state = ckpt["hepml"], ckpt["estimator"]
    if not isinstance(state, dict) or "nodes" not in state:
        raise ExportError(f"{ckpt_path}: its estimator state holds no stored trees (a BDT written by an "
                          "older hepml): retrain it with hepml train to export it")
    groups = [g for g in schema.inputs if g.kind == "scalars"]
    specs = input_specs(schema, [g.name for g in groups])
    target = schema.target
    model = _with_outputs(ExportedEstimator(
        state, groups, [s.name for s in specs], str(meta.get("kind")), classes=state.get("classes"),
        signal_class=int(run_cfg.model.get("signal_class", 1)),
        target_transform=None if target is None else target.transform), specs)
    return model, specs, _metadata(ckpt_path, meta, run_cfg, schema, specs, groups, model.output_names, True)


def _with_outputs(model: ExportedGraph, specs: list[InputSpec]) -> ExportedGraph:
    """``model`` in eval mode, returning every column its ``predict`` gives (in that order)."""
    model.eval()
    with torch.no_grad():
        model.output_names = list(model.predict(*example_inputs(specs)))
    return model


def _metadata(ckpt_path: str | Path, meta: dict[str, Any], run_cfg: DictConfig, schema: Any,
              specs: list[InputSpec], groups: list[Any], outputs: list[str], dynamic: bool) -> dict[str, Any]:
    target = schema.target
    return {
        "hepml_version": __version__,
        "checkpoint": str(Path(ckpt_path).resolve()),
        "kind": meta.get("kind"),
        "model": str(run_cfg.model.get("_target_")),
        "inputs": [{"name": s.name, "dtype": s.dtype, "shape": list(s.shape)} for s in specs],
        "groups": {g.name: group_metadata(g) for g in groups},
        "outputs": outputs,
        "particle_axis": "dynamic" if dynamic else "fixed at max_length",
        "classes": list(schema.classes),
        "signal_class": int(run_cfg.task.get("signal_class", 1)) if meta.get("kind") == "classification" else None,
        "target": None if target is None else {"variable": target.variable, "ratio_to": target.ratio_to,
                                               "transform": target.transform},
        "notes": "inputs are raw file values (before any transform); particle lists sorted by "
                 "sort_by, decreasing, and padded; `ref` is the target's ratio_to variable",
    }


def check_export(model: ExportedGraph, specs: list[InputSpec], path: Path, fmt: str) -> float:
    """Maximal absolute difference between the written file and PyTorch on random raw inputs
    (another batch size than the traced one, and another particle count where it is dynamic)."""
    dynamic = any(isinstance(d, str) and d != "batch" for s in specs for d in s.shape)
    example = example_inputs(specs, batch=5, extra_length=3 if dynamic else 0, seed=1)
    with torch.no_grad():
        expected = dict(zip(model.output_names, (t.numpy() for t in model(*example)), strict=True))
    feeds = {s.name: t.numpy() for s, t in zip(specs, example, strict=True)}
    got = run_onnx(path, feeds) if fmt == "onnx" else run_torchscript(
        path, feeds, [s.name for s in specs], model.output_names)
    return max(float(np.max(np.abs(got[k] - expected[k]))) for k in expected)
