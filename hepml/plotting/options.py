"""What every figure of a run shares: experiment style and label, energy, luminosity, statistics cuts.

The pipelines build :class:`PlotOptions` from the ``plots`` config block
(``configs/plots/default.yaml``) with :meth:`PlotOptions.from_mapping`; plotting functions take
the object, so plotting never reads a config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PlotOptions"]

STYLES = ("CMS", "ATLAS", "LHCb", "none")


@dataclass(frozen=True)
class PlotOptions:
    """Settings shared by all figures.

    Attributes
    ----------
    style : str
        ``"CMS"``, ``"ATLAS"``, ``"LHCb"`` (mplhep styles) or ``"none"`` (matplotlib defaults).
    experiment : str
        Bold text of the label at the top left (``"hepml"``; your experiment's name for its plots).
    label : str
        Text after it, e.g. ``"Simulation"`` or ``"Simulation Preliminary"``.
    energy : str, optional
        Centre-of-mass energy at the top right, e.g. ``"13.6 TeV"``; when None the data config's
        ``energy`` (``info["energy"]`` of a predictions file) is used, and nothing without one.
    lumi : float or str, optional
        Integrated luminosity in fb^-1, drawn before the energy.
    min_background : int
        Curves of rejections and ratios stop where fewer (effective) background events pass.
    min_entries : int
        Binned medians and resolutions need at least this many events per bin.
    n_bootstrap : int
        Bootstrap replicas for the errors of binned medians and resolutions.
    n_bins : int
        Bins of response-vs-observer plots (equal population in the observer).
    working_point : float
        Signal efficiency of the cut in efficiency- and rejection-vs-observer plots.
    observers : sequence of str, optional
        Observer columns to bin in; None means every observer of the predictions file.
    formats : sequence of str
        File formats of each figure.
    """

    style: str = "CMS"
    experiment: str = "hepml"
    label: str = "Simulation"
    energy: str | None = None
    lumi: float | str | None = None
    min_background: int = 10
    min_entries: int = 20
    n_bootstrap: int = 100
    n_bins: int = 8
    working_point: float = 0.5
    observers: Sequence[str] | None = None
    formats: Sequence[str] = field(default=("png", "pdf"))

    def __post_init__(self) -> None:
        if str(self.style).lower() not in {s.lower() for s in STYLES}:
            raise ValueError(f"plots.style={self.style!r} is unknown; choose from {', '.join(STYLES)}")
        if not 0.0 < float(self.working_point) < 1.0:
            raise ValueError(f"plots.working_point={self.working_point} must lie in (0, 1)")
        for name in ("min_background", "min_entries", "n_bootstrap", "n_bins"):
            if int(getattr(self, name)) < (2 if name == "n_bootstrap" else 1):
                raise ValueError(f"plots.{name}={getattr(self, name)} must be a positive integer")

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any] | None, info: Mapping[str, Any] | None = None
    ) -> PlotOptions:
        """Options from a ``plots`` config block; ``energy`` falls back to ``info["energy"]``.

        Parameters
        ----------
        mapping : Mapping, optional
            Keys as the attributes; ``enabled`` (whether plots are made) is accepted and ignored.
        info : Mapping, optional
            The ``info`` of a predictions file (gives ``energy`` when the mapping has none).

        Raises
        ------
        ValueError
            On a key that is not an option, naming the allowed ones.
        """
        given = {k: v for k, v in dict(mapping or {}).items() if k != "enabled" and v is not None}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"unknown plots option(s) {unknown}; choose from {sorted(known)}")
        for key in ("observers", "formats"):
            if key in given:
                given[key] = tuple(str(v) for v in given[key])
        options = cls(**given)
        if options.energy is None and info and info.get("energy"):
            options = dataclasses.replace(options, energy=str(info["energy"]))
        return options

    def with_info(self, info: Mapping[str, Any] | None) -> PlotOptions:
        """These options with the energy of ``info`` when none is set."""
        if self.energy is None and info and info.get("energy"):
            return dataclasses.replace(self, energy=str(info["energy"]))
        return self

    @property
    def rlabel(self) -> str:
        """Text at the top right: ``"<lumi> fb^-1 (<energy>)"``, the energy alone, or nothing."""
        energy = str(self.energy) if self.energy else ""
        if self.lumi is None or self.lumi == "":
            return energy
        lumi = f"{self.lumi:g}" if isinstance(self.lumi, int | float) else str(self.lumi)
        return f"{lumi} fb$^{{-1}}$ ({energy})" if energy else f"{lumi} fb$^{{-1}}$"
