r"""Axis labels with LaTeX and units, process, class and decay-mode display names.

A column's label comes from the data config (``label:`` and ``unit:`` of a variable, or the
data-level ``labels: {column: {label, unit}}``), which evaluation writes to the predictions file
as ``info["labels"]``; :data:`DEFAULT_LABELS` covers the columns of the generated samples; any
other column is shown by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_LABELS",
    "PROCESS_NAMES",
    "axis_label",
    "decay_mode_name",
    "display_name",
    "variable_label",
]

_VIS = r"\tau,\mathrm{vis}"
_MISS = r"E_T^{\mathrm{miss}"

#: Column -> (label, unit) for the columns of the generated samples and the HIGGS benchmark.
DEFAULT_LABELS: dict[str, tuple[str, str]] = {
    "tau_pt": (r"$p_T^{\tau}$", "GeV"),
    "tau_eta": (r"$\eta^{\tau}$", ""),
    "tau_phi": (r"$\phi^{\tau}$", ""),
    "vis_pt": (rf"$p_T^{{{_VIS}}}$", "GeV"),
    "vis_eta": (rf"$\eta^{{{_VIS}}}$", ""),
    "vis_m": (rf"$m^{{{_VIS}}}$", "GeV"),
    "nu_pt": (r"$p_T^{\nu}$", "GeV"),
    "jet_pt": (r"$p_T^{\mathrm{jet}}$", "GeV"),
    "jet_eta": (r"$\eta^{\mathrm{jet}}$", ""),
    "jet_phi": (r"$\phi^{\mathrm{jet}}$", ""),
    "jet_m": (r"$m^{\mathrm{jet}}$", "GeV"),
    "jet_e": (r"$E^{\mathrm{jet}}$", "GeV"),
    "tau1": (r"$\tau_1$", ""),
    "tau2": (r"$\tau_2$", ""),
    "tau3": (r"$\tau_3$", ""),
    "tau21": (r"$\tau_{21}$", ""),
    "tau32": (r"$\tau_{32}$", ""),
    "decay_mode": ("Decay mode", ""),
    "n_prongs": ("Charged prongs", ""),
    "n_pi0": (r"$\pi^0$ multiplicity", ""),
    "n_const": ("Constituents", ""),
    "n_trk": ("Tracks", ""),
    "n_sv": ("Secondary vertices", ""),
    "n_pileup": ("Pileup interactions", ""),
    "n_pu": ("Pileup interactions", ""),
    "mu": (r"$\langle\mu\rangle$", ""),
    "m_vis": (r"$m_{\mathrm{vis}}$", "GeV"),
    "m_col": (r"$m_{\mathrm{col}}$", "GeV"),
    "m_col_true": (r"$m_{\mathrm{col}}$ (true $E_T^{\mathrm{miss}}$)", "GeV"),
    "m_tautau": (r"$m_{\tau\tau}$", "GeV"),
    "true_met": (rf"${_MISS},\mathrm{{true}}}}$", "GeV"),
    "met_all": (rf"${_MISS},\mathrm{{all}}}}$", "GeV"),
    "met_charged": (rf"${_MISS},\mathrm{{charged}}}}$", "GeV"),
    "met_calo": (rf"${_MISS},\mathrm{{calo}}}}$", "GeV"),
    "met_pu": (rf"${_MISS},\mathrm{{calo+PU}}}}$", "GeV"),
    "cand_et": (r"$E_T^{\gamma}$", "GeV"),
    "cand_e": (r"$E^{\gamma}$", "GeV"),
    "cand_eta": (r"$\eta^{\gamma}$", ""),
    "r9": (r"$R_9$", ""),
    "sigma_ietaieta": (r"$\sigma_{i\eta i\eta}$", ""),
    "truth_pid": ("True particle ID", ""),
    "parton_pdgid": ("Parton PDG ID", ""),
    "hadron_flavour": ("Hadron flavour", ""),
    "flavour": ("Jet flavour", ""),
    "process": ("Process", ""),
    "label": ("Label", ""),
    # HIGGS benchmark (UCI): features are given in normalised units
    "lepton_pT": (r"$p_T^{\ell}$", ""),
    "lepton_eta": (r"$\eta^{\ell}$", ""),
    "missing_energy_magnitude": (r"$E_T^{\mathrm{miss}}$", ""),
    "m_jj": (r"$m_{jj}$", ""),
    "m_jjj": (r"$m_{jjj}$", ""),
    "m_lv": (r"$m_{\ell\nu}$", ""),
    "m_jlv": (r"$m_{j\ell\nu}$", ""),
    "m_bb": (r"$m_{bb}$", ""),
    "m_wbb": (r"$m_{Wbb}$", ""),
    "m_wwbb": (r"$m_{WWbb}$", ""),
}

#: Process / class keys of the sample configs -> legend names (keys compared case-insensitively).
PROCESS_NAMES: dict[str, str] = {
    "qcd": "QCD",
    "wprime": r"W' $\to$ WZ",
    "w": "W jets",
    "ttbar": r"$t\bar{t}$",
    "top": "Top jets",
    "z": r"$Z \to \tau\tau$",
    "h": r"$H \to \tau\tau$",
    "zjet": "Z + jet",
    "dijet": "Dijets",
    "photon": r"Prompt $\gamma$",
    "electron": "Electrons",
    "fakes": "Fakes (pileup, QCD)",
    "light": "Light jets",
    "c": "c jets",
    "b": "b jets",
    "quark": "Quark jets",
    "gluon": "Gluon jets",
    "signal": "Signal",
    "background": "Background",
}


def variable_label(
    column: str, labels: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[str, str]:
    """``(label, unit)`` of a column: the data config's, else the default table's, else the name.

    Parameters
    ----------
    column : str
        Column name in the predictions or sample file (an ``obs_`` prefix is ignored).
    labels : Mapping, optional
        ``{column: {"label": ..., "unit": ...}}`` as evaluation writes to ``info["labels"]``.
    """
    labels = labels or {}
    for key in (column, column.removeprefix("obs_")):
        given = labels.get(key)
        if given:
            default = DEFAULT_LABELS.get(key, (key, ""))
            return str(given.get("label") or default[0]), str(given.get("unit") or "")
        if key in DEFAULT_LABELS:
            return DEFAULT_LABELS[key]
    return column, ""


def axis_label(
    column: str,
    labels: Mapping[str, Mapping[str, Any]] | None = None,
    prefix: str = "",
    suffix: str = "",
) -> str:
    """Axis text ``"<prefix> <label> <suffix> [unit]"``, e.g. ``"True $p_T^{\\tau}$ [GeV]"``."""
    text, unit = variable_label(column, labels)
    text = " ".join(p for p in (prefix, text, suffix) if p)
    return f"{text} [{unit}]" if unit else text


def display_name(name: Any) -> str:
    """Legend name of a process or class key (``qcd`` -> ``QCD``); unknown names pass through."""
    return PROCESS_NAMES.get(str(name).lower(), str(name))


def decay_mode_name(code: int) -> str:
    """Tau decay mode ``5 (prongs - 1) + min(pi0s, 4)`` as ``1p0n``, ``1p1n``, ``3p0n``, ...

    ``4`` neutral pions stand for four or more (``1p4+n``); negative codes are ``other``.
    """
    code = int(code)
    if code < 0:
        return "other"
    prongs, neutrals = code // 5 + 1, code % 5
    return f"{prongs}p{neutrals}{'+' if neutrals == 4 else ''}n"
