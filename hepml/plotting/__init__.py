"""Matplotlib/mplhep plots built from plain numpy arrays; each function returns the files it wrote."""

from hepml.plotting.efficiency import plot_efficiency_vs
from hepml.plotting.images import plot_difference_image, plot_mean_images
from hepml.plotting.options import PlotOptions
from hepml.plotting.regression import plot_binned_response, plot_response, plot_truth_vs_pred
from hepml.plotting.roc import plot_roc, plot_scores
from hepml.plotting.style import label, new_figure, save, set_style

__all__ = [
    "PlotOptions",
    "label",
    "new_figure",
    "plot_binned_response",
    "plot_difference_image",
    "plot_efficiency_vs",
    "plot_mean_images",
    "plot_response",
    "plot_roc",
    "plot_scores",
    "plot_truth_vs_pred",
    "save",
    "set_style",
]
