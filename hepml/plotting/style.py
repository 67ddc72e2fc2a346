"""Plot style, experiment-like labels, figure creation and saving.

Figures are built with :class:`matplotlib.figure.Figure` on an Agg canvas rather than through
``pyplot``, so plotting works without a display, holds no global figure state and never shows
windows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import mplhep
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

log = logging.getLogger(__name__)

__all__ = ["EXPERIMENTS", "label", "new_figure", "save", "set_style"]

#: Styles accepted by :func:`set_style` (case-insensitive), mapped to mplhep style names.
EXPERIMENTS = {"cms": "CMS", "atlas": "ATLAS", "lhcb": "LHCb", "none": None}


def set_style(experiment: str = "CMS") -> None:
    """Apply an experiment plot style globally (matplotlib rcParams).

    Parameters
    ----------
    experiment : str
        ``"CMS"``, ``"ATLAS"``, ``"LHCb"`` (mplhep styles) or ``"none"`` for matplotlib defaults.
    """
    key = experiment.lower()
    if key not in EXPERIMENTS:
        raise ValueError(
            f"Unknown plot style {experiment!r}; choose from {', '.join(['CMS', 'ATLAS', 'LHCb', 'none'])}"
        )
    mpl.rcdefaults()
    if EXPERIMENTS[key] is not None:
        mplhep.style.use(EXPERIMENTS[key])
    log.debug("plot style set to %s", experiment)


def label(ax: Axes, text: str = "Simulation", rlabel: str = "13 TeV") -> None:
    """Draw the experiment-like label "**hepml** *text*" above the axes, ``rlabel`` on the right.

    Parameters
    ----------
    ax : Axes
        Axes to label (the top panel of a ratio plot).
    text : str
        Text after "hepml", e.g. "Simulation" or "Simulation Preliminary".
    rlabel : str
        Text at the top right, e.g. the centre-of-mass energy.
    """
    mplhep.label.exp_label(exp="hepml", llabel=text, rlabel=rlabel, ax=ax)


def new_figure(
    nrows: int = 1, height_ratios: Sequence[float] | None = None, sharex: bool = True
) -> tuple[Figure, list[Axes]]:
    """Create a figure on an Agg canvas with ``nrows`` vertically stacked axes.

    Parameters
    ----------
    nrows : int
        Number of panels.
    height_ratios : sequence of float, optional
        Relative panel heights, e.g. ``(3, 1)`` for a main panel with a ratio panel.
    sharex : bool
        Share the x axis between panels (tick labels only on the bottom one).

    Returns
    -------
    fig : Figure
        The figure.
    axes : list[Axes]
        The panels, top to bottom.
    """
    fig = Figure()
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        nrows, 1, height_ratios=height_ratios, hspace=0.08 if nrows > 1 else None
    )
    axes: list[Axes] = []
    for row in range(nrows):
        axes.append(fig.add_subplot(grid[row], sharex=axes[0] if sharex and axes else None))
    if sharex:
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
    return fig, axes


def save(
    fig: Figure, path_without_suffix: str | Path, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Write a figure in several formats, then close it.

    Parameters
    ----------
    fig : Figure
        Figure to save.
    path_without_suffix : str or Path
        Output path without extension; parent folders are created.
    formats : sequence of str
        File extensions to write.

    Returns
    -------
    list[Path]
        The written files.
    """
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        out = base.with_name(f"{base.name}.{fmt}")
        fig.savefig(out, bbox_inches="tight")
        written.append(out)
    if fig.canvas.manager is not None:  # created through pyplot: release it there too
        import matplotlib.pyplot as plt

        plt.close(fig)
    log.info("wrote %s", ", ".join(str(p) for p in written))
    return written
