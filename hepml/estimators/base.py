"""The estimator interface: fit on arrays, predict arrays, saved as arrays in a hepml checkpoint."""

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

    def state_dict(self) -> dict[str, Any]:
        """The fitted model as tensors and plain values, what a checkpoint stores (never a
        pickle: loading a checkpoint must not run code)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved in a hepml checkpoint")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, on an estimator built from the same config."""
        raise NotImplementedError(f"{type(self).__name__} cannot be loaded from a hepml checkpoint")
