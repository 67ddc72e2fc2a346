"""Writing an :class:`~hepml.export.graph.ExportedGraph` (a network's or a BDT's) as ONNX or TorchScript, with its metadata
(JSON under the key ``hepml``: inputs, variables in order with their transforms, outputs,
classes, target, hepml version), and reading that metadata back."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hepml.atomic import atomic_path
from hepml.export.graph import ExportedGraph
from hepml.export.inputs import InputSpec, dynamic_axes, fixed_length

log = logging.getLogger(__name__)

METADATA_KEY = "hepml"


def example_inputs(specs: Sequence[InputSpec], batch: int = 3, extra_length: int = 0,
                   seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Random raw inputs of the right shapes: values in [0.5, 2] (valid for every transform),
    masks with empty slots, for tracing and for checking an export. Particle lists have the
    trained length plus ``extra_length``."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    masks: dict[str | None, torch.Tensor] = {}
    for s in specs:
        shape = [batch if d == "batch" else int(fixed_length(d, s.max_length, extra_length)) for d in s.shape]
        if s.dtype == "bool":
            mask = torch.rand(shape, generator=gen) < 0.7
            mask[:, 0] = True
            masks[s.group] = mask
            out.append(mask)
        elif s.dtype == "int64":
            out.append(example_tree(masks[s.group], gen))
        else:
            out.append(0.5 + 1.5 * torch.rand(shape, generator=gen))
    return tuple(out)


def example_tree(mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A random binary clustering tree over each event's real slots, ``[B, N - 1, 2]`` (merge ``k``
    is node ``N + k``; ``-1`` rows after the last merge), as :func:`hepml.data.trees.tree_arrays` writes."""
    b, n = mask.shape
    tree = torch.full((b, max(n - 1, 0), 2), -1, dtype=torch.long)
    for e in range(b):
        free = mask[e].nonzero().squeeze(1).tolist()
        for k in range(len(free) - 1):
            picks = torch.randperm(len(free), generator=gen)[:2].tolist()
            tree[e, k] = torch.tensor([free[i] for i in picks])
            free = [f for i, f in enumerate(free) if i not in picks] + [n + k]
    return tree


def to_onnx(model: ExportedGraph, specs: Sequence[InputSpec], path: str | Path, metadata: dict[str, Any],
            opset: int = 18, dynamo: bool = False) -> Path:
    """Write ``model`` as ONNX with named inputs/outputs, dynamic batch and particle axes and the
    metadata as ``metadata_props`` (``hepml`` holds all of it as JSON)."""
    import onnx

    path = Path(path)
    example = example_inputs(specs)
    names = [s.name for s in specs]
    with atomic_path(path, "ONNX model") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not dynamo:
            try:
                torch.onnx.export(model, example, str(tmp), input_names=names,
                                  output_names=model.output_names, dynamic_axes=dynamic_axes(specs),
                                  opset_version=opset, dynamo=False)
            except (torch.onnx.errors.UnsupportedOperatorError, torch.onnx.errors.OnnxExporterError) as err:
                log.warning("The TorchScript-based ONNX exporter cannot export this model (%s); "
                            "using the dynamo exporter", str(err).splitlines()[0][:200])
                dynamo = True
        if dynamo:
            dims: dict[str, Any] = {}
            shapes = {s.name: {i: dims.setdefault(d, torch.export.Dim(d.replace("-", "_")))
                               for i, d in enumerate(s.shape) if isinstance(d, str)} for s in specs}
            torch.onnx.export(model, example, str(tmp), input_names=names, output_names=model.output_names,
                              dynamic_shapes={"tensors": tuple(shapes[n] for n in names)}, opset_version=opset,
                              dynamo=True, external_data=False)
        proto = onnx.load(str(tmp))
        onnx.helper.set_model_props(proto, _props(metadata))
        proto.doc_string = "hepml export: raw inputs -> predictions; see metadata_props['hepml']"
        onnx.save(proto, str(tmp))
    return path


def _props(metadata: dict[str, Any]) -> dict[str, str]:
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()
            if k in ("hepml_version", "kind", "inputs", "outputs", "classes")}
    return {METADATA_KEY: json.dumps(metadata), **flat}


def _traced(model: ExportedGraph, specs: Sequence[InputSpec]) -> torch.jit.ScriptModule:
    """``model`` traced on :func:`example_inputs` at the trained list lengths."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape checks turned into constants
        return torch.jit.trace(model, example_inputs(specs), check_trace=False)


def particle_axis_is_dynamic(model: ExportedGraph, specs: Sequence[InputSpec], tolerance: float = 1e-4) -> bool:
    """Whether ``model`` traced at the trained list length still computes the same at another
    length (False when its shape logic, e.g. k nearest neighbours, is traced as constants)."""
    if not any(s.max_length for s in specs):
        return True
    traced = _traced(model, specs)
    other = example_inputs(specs, batch=5, extra_length=3, seed=2)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            got = traced(*other)
        except RuntimeError:
            return False
        expected = model(*other)
    return all(float((a - b).abs().max()) <= tolerance for a, b in zip(got, expected, strict=True))


def to_torchscript(model: ExportedGraph, specs: Sequence[InputSpec], path: str | Path,
                   metadata: dict[str, Any]) -> Path:
    """Write ``model`` traced to TorchScript; the metadata travels as the extra file ``hepml.json``."""
    path = Path(path)
    traced = _traced(model, specs)
    with atomic_path(path, "TorchScript model") as tmp:
        torch.jit.save(traced, str(tmp), _extra_files={f"{METADATA_KEY}.json": json.dumps(metadata)})
    return path


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an exported ``.onnx`` or TorchScript file."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        if METADATA_KEY not in props:
            raise ValueError(f"{path} has no '{METADATA_KEY}' metadata: it was not written by hepml export")
        return json.loads(props[METADATA_KEY])
    extra = {f"{METADATA_KEY}.json": ""}
    torch.jit.load(str(path), _extra_files=extra)
    if not extra[f"{METADATA_KEY}.json"]:
        raise ValueError(f"{path} has no {METADATA_KEY}.json: it was not written by hepml export")
    return json.loads(extra[f"{METADATA_KEY}.json"])


def run_onnx(path: str | Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of an exported ONNX model by name (onnxruntime, CPU)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def run_torchscript(path: str | Path, feeds: dict[str, np.ndarray], input_names: Sequence[str],
                    output_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Outputs of an exported TorchScript model by name."""
    module = torch.jit.load(str(path))
    with torch.no_grad():
        out = module(*(torch.from_numpy(np.asarray(feeds[n])) for n in input_names))
    return {k: v.numpy() for k, v in zip(output_names, out, strict=True)}
