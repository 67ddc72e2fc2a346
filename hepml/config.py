"""Config helpers shared by the CLI and the pipelines: resolvers and actionable config checks."""

from __future__ import annotations

from collections.abc import Sized
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def _len(node: Any) -> int:
    """``${len:${data.inputs.scalars.variables}}``: number of entries of a list or mapping."""
    if isinstance(node, (DictConfig, ListConfig, Sized)):
        return len(node)
    raise TypeError(f"len resolver: expected a list or mapping, got {type(node).__name__}")


def _dim(node: Any) -> int:
    """``${dim:${data.inputs.particles}}``: feature width of an input group (variables plus the
    flags of missing-value sentinels; channels of an image); 0 for an absent group, so
    ``${dim:${oc.select:data.inputs.scalars,null}}`` wires optional scalars."""
    from hepml.data.schema import group_spec

    if node is None:
        return 0
    spec = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    return group_spec("group", spec).n_features


def _join(node: Any, sep: str = "-") -> str:
    """``${join:${sample.processes}}``: list entries joined into a file-name fragment."""
    return sep.join(str(x) for x in node)


def register_resolvers() -> None:
    """Register hepml's OmegaConf resolvers (idempotent)."""
    for name, fn in (("len", _len), ("join", _join), ("dim", _dim)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def config_dir() -> Path:
    """The configs/ folder shipped at the repository root."""
    if not CONFIG_DIR.is_dir():
        raise FileNotFoundError(
            f"hepml configs not found at {CONFIG_DIR}; install hepml from its repository "
            "(`make install`, an editable install) so that configs/ sits beside the package"
        )
    return CONFIG_DIR


def to_container(cfg: DictConfig | dict) -> dict:
    """Resolved plain-Python copy of a config (what travels inside a checkpoint)."""
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return dict(cfg)


register_resolvers()
