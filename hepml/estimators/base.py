"""The estimator interface: fit on arrays, predict arrays, pickle into a hepml checkpoint."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class Estimator(ABC):
    """A model fitted on the data module's arrays rather than through Lightning.

    ``kind`` is ``"classification"`` or ``"regression"``; :meth:`predict` returns the columns of
    the predictions file that the matching neural task would write (``score`` or ``pred``).
    """

    kind: str

    @abstractmethod
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        weight_val: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Fit; return a few numbers worth logging (iterations, validation score, ...)."""

    @abstractmethod
    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Prediction columns for the events ``x [n, F]``."""

    def describe(self) -> dict[str, Any]:
        """Hyper-parameters for comparison tables."""
        return {}
