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
from matplotlib.transforms import offset_copy

from hepml.plotting.options import PlotOptions

log = logging.getLogger(__name__)

__all__ = ["EXPERIMENTS", "PlotOptions", "label", "log_axis", "new_figure", "save", "set_style"]

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
        raise ValueError(f"Unknown plot style {experiment!r}; choose from CMS, ATLAS, LHCb, none")
    mpl.rcdefaults()
    if EXPERIMENTS[key] is not None:
        mplhep.style.use(EXPERIMENTS[key])
    log.debug("plot style set to %s", experiment)


def label(ax: Axes, options: PlotOptions | None = None) -> None:
    """Draw "**<experiment>** *<label>*" above the axes and the luminosity/energy at the right.

    The texts are placed relative to each other at draw time (no extra rendering pass, unlike
    ``mplhep.label.exp_label``), in the current style's font.

    Parameters
    ----------
    ax : Axes
        Axes to label (the top panel of a ratio plot).
    options : PlotOptions, optional
        Experiment name, label text, energy and luminosity (see :class:`PlotOptions`); the
        defaults draw "hepml Simulation" without an energy.
    """
    options = options or PlotOptions()
    size = float(mpl.rcParams["font.size"])
    above = offset_copy(ax.transAxes, fig=ax.figure, y=3, units="points")
    experiment = ax.text(0.0, 1.0, options.experiment, transform=above, ha="left", va="bottom",
                         fontsize=1.3 * size, fontweight="bold")  # fmt: skip
    if options.label:
        ax.annotate(f" {options.label}", xy=(1.0, 0.0), xycoords=experiment, ha="left",
                    va="bottom", fontsize=1.05 * size, fontstyle="italic")  # fmt: skip
    if options.rlabel:
        ax.text(1.0, 1.0, options.rlabel, transform=above, ha="right", va="bottom",
                fontsize=1.05 * size)  # fmt: skip


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
    fig: Figure, path_without_suffix: str | Path, formats: Sequence[str] | PlotOptions = ("png", "pdf")
) -> list[Path]:
    """Write a figure in several formats, then close it.

    Parameters
    ----------
    fig : Figure
        Figure to save.
    path_without_suffix : str or Path
        Output path without extension; parent folders are created.
    formats : sequence of str or PlotOptions
        File extensions to write (or the options that name them).

    Returns
    -------
    list[Path]
        The written files.
    """
    if isinstance(formats, PlotOptions):
        formats = formats.formats
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
    log.debug("wrote %s", ", ".join(str(p) for p in written))
    return written


def log_axis(axes: Sequence[Axes], which: str = "x") -> None:
    """Logarithmic axis with plain tick labels at 1, 2, 3 and 5 times powers of ten.

    Parameters
    ----------
    axes : sequence of Axes
        Panels sharing the axis; for ``which="x"`` only the bottom one keeps its tick labels.
    which : str
        ``"x"`` or ``"y"``.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for ax in axes:
        axis = ax.xaxis if which == "x" else ax.yaxis
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
    if which == "x":
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
