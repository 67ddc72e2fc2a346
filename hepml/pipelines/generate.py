"""``hepml generate``: build a physics sample from its config (configs/sample/*.yaml).

The top-level shortcuts of ``configs/generate.yaml`` (``n_events, workers, output, format, plots,
seed``) replace the sample's values when they are not null, so ``hepml generate sample=taus
n_events=200000 workers=8`` works. ``format`` and the output's suffix are kept consistent: an
explicit ``output`` without ``format`` sets the format from its suffix, and a ``format`` gives the
output file (the sample's, or an explicit one with another suffix) the matching suffix, so
``output=data/top.h5 format=root`` writes ``data/top.root``.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

from hepml.generate.runner import FORMATS

log = logging.getLogger(__name__)

SHORTCUTS = ("n_events", "workers", "output", "format", "plots", "seed")


def _format_of(output: str) -> str:
    suffix = Path(output).suffix.lower()
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            return fmt
    known = sorted(s for suffixes in FORMATS.values() for s in suffixes)
    raise ValueError(f"output={output} has an unknown suffix: use one of {', '.join(known)}")


def sample_config(cfg: DictConfig) -> DictConfig:
    """The ``sample`` node of ``cfg`` with the shortcuts applied (``cfg`` is left unchanged).

    Raises
    ------
    ValueError
        If no sample is selected, or the format or the output suffix is unknown.
    """
    if cfg.get("sample") is None:
        raise ValueError("hepml generate needs sample=NAME (a file in configs/sample/)")
    cfg = copy.deepcopy(cfg)
    given = {key: cfg.get(key) for key in SHORTCUTS if cfg.get(key) is not None}
    if "output" in given and "format" not in given:
        given["format"] = _format_of(str(given["output"]))
    with open_dict(cfg.sample):
        for key, value in given.items():
            cfg.sample[key] = value
    sample = cfg.sample
    fmt = str(sample.get("format", "h5"))
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt} is not supported: use one of {sorted(FORMATS)}")
    output = Path(str(sample.output))
    if output.suffix.lower() not in FORMATS[fmt]:
        fixed = output.with_suffix(FORMATS[fmt][0])
        if "output" in given:
            log.warning("format=%s: writing %s instead of %s", fmt, fixed, output)
        with open_dict(sample):
            sample.output = str(fixed)
    return sample


def generate(cfg: DictConfig) -> Path:
    """Generate the selected sample; returns the written file."""
    sample = sample_config(cfg)
    out = Path(instantiate(sample))
    log.info("Sample written to %s", out)
    return out
