"""Confusion matrix and the b-tagging discriminant against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hepml.metrics.multiclass import b_discriminant, confusion_matrix


def test_confusion_matrix_rows_are_true_classes():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([0, 1, 1, 2, 2])
    m = confusion_matrix(p, y)
    np.testing.assert_allclose(m, [[1, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]])
    raw = confusion_matrix(p, y, weights=np.array([1, 2, 3, 4, 5.0]), normalize=False)
    np.testing.assert_allclose(raw, [[1, 0, 0], [0, 2, 3], [4, 0, 5]])
    assert np.isnan(confusion_matrix(p[:1], y[:1])[1]).all()
    with pytest.raises(ValueError, match="labels must lie"):
        confusion_matrix(p, np.array([0, 1, 3, 2, 2]))


def test_b_discriminant_known_value():
    p = np.array([[0.2, 0.3, 0.5]])  # light, c, b
    d = b_discriminant(p, b=2, c=1, light=0, f_c=0.1)
    assert d[0] == pytest.approx(math.log(0.5 / (0.1 * 0.3 + 0.9 * 0.2)))
    assert b_discriminant(p, 2, 1, 0, f_c=1.0)[0] == pytest.approx(math.log(0.5 / 0.3))
    with pytest.raises(ValueError, match="f_c"):
        b_discriminant(p, 2, 1, 0, f_c=1.5)
