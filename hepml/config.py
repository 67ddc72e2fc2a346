"""Config helpers shared by the CLI and the pipelines: resolvers and actionable config checks."""

from __future__ import annotations

import os
from collections.abc import Sized
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

# a wheel carries the configs inside the package (setup.py copies them); a checkout or an
# editable install reads the repository's configs/ beside the package
PACKAGE_CONFIG_DIR = Path(__file__).resolve().parent / "configs"
REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
CONFIG_DIR = PACKAGE_CONFIG_DIR if (PACKAGE_CONFIG_DIR / "train.yaml").is_file() else REPO_CONFIG_DIR
# folders of the user's own configs (``data/mine.yaml``, ``experiment/x.yaml``), os.pathsep-separated
CONFIG_PATH_ENV = "HEPML_CONFIG_PATH"


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
    return group_spec("group", spec).n_features  # type: ignore[arg-type]  # a mapping by the config


def _image_size(node: Any) -> list[int]:
    """``${image_size:${data.inputs.images}}``: ``[H, W]`` of an image group's ``shape: [C, H, W]``."""
    spec = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    shape = (spec or {}).get("shape") if isinstance(spec, dict) else None
    if not shape or len(shape) != 3:
        raise ValueError(f"image_size resolver: expected an image group with shape [C, H, W], got {spec!r}")
    return [int(shape[1]), int(shape[2])]


def _join(node: Any, sep: str = "-") -> str:
    """``${join:${sample.processes}}``: list entries joined into a file-name fragment."""
    return sep.join(str(x) for x in node)


def register_resolvers() -> None:
    """Register hepml's OmegaConf resolvers (idempotent)."""
    for name, fn in (("len", _len), ("join", _join), ("dim", _dim), ("image_size", _image_size)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def config_dir() -> Path:
    """hepml's own configs: ``hepml/configs`` in a wheel, ``configs/`` of a checkout."""
    if not (CONFIG_DIR / "train.yaml").is_file():
        raise FileNotFoundError(
            f"hepml configs not found at {PACKAGE_CONFIG_DIR} (a wheel) or {REPO_CONFIG_DIR} (a "
            "checkout); reinstall hepml (`pip install .` from its repository, or `make install`)"
        )
    return CONFIG_DIR


def user_config_dirs(value: str | None = None) -> list[Path]:
    """The folders named by ``HEPML_CONFIG_PATH`` (or ``value``), searched before hepml's own
    configs, so ``data=mine`` finds ``<folder>/data/mine.yaml``.

    Raises
    ------
    FileNotFoundError
        Naming the entry of ``HEPML_CONFIG_PATH`` that is not a folder.
    """
    value = os.environ.get(CONFIG_PATH_ENV, "") if value is None else value
    dirs = []
    for entry in (e for e in value.split(os.pathsep) if e.strip()):
        path = Path(entry).expanduser().resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"{CONFIG_PATH_ENV}: {entry!r} is not a folder; set it to folders "
                                    f"of your configs separated by {os.pathsep!r}")
        dirs.append(path)
    return dirs


def searchpath_override(args: list[str]) -> list[str]:
    """``hydra.searchpath=[file://...]`` for the folders of ``HEPML_CONFIG_PATH`` (none when it is
    unset or the command line sets ``hydra.searchpath`` itself); ``--config-dir DIR`` is Hydra's
    own way to add one folder."""
    dirs = user_config_dirs()
    if not dirs or any(a.lstrip("+~").startswith("hydra.searchpath") for a in args):
        return []
    return ["hydra.searchpath=[" + ",".join(f"file://{d}" for d in dirs) + "]"]


def to_container(cfg: DictConfig | dict) -> dict:
    """Resolved plain-Python copy of a config (what travels inside a checkpoint)."""
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return dict(cfg)


register_resolvers()
