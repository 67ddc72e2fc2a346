"""Pure-numpy metrics: ROC curves, rejection and significance; regression response and resolution."""

from hepml.metrics.resolution import (
    bias,
    binned_response,
    calibrate_scale,
    central_interval_halfwidth,
    iqr_resolution,
    regression_metrics,
    relative_resolution,
    response,
    weighted_quantile,
)
from hepml.metrics.roc import (
    auc,
    best_significance,
    binary_metrics,
    discovery_significance,
    interpolate_rejection,
    rejection_at,
    roc_curve,
)

__all__ = [
    "auc",
    "best_significance",
    "bias",
    "binary_metrics",
    "binned_response",
    "calibrate_scale",
    "central_interval_halfwidth",
    "discovery_significance",
    "interpolate_rejection",
    "iqr_resolution",
    "regression_metrics",
    "rejection_at",
    "relative_resolution",
    "response",
    "roc_curve",
    "weighted_quantile",
]
