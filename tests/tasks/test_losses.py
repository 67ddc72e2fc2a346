"""Losses against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from hepml.tasks.losses import L1, MSE, BinaryCrossEntropy, CrossEntropy, GaussianNLL, LogCosh


def test_weighted_mse_and_l1():
    out = torch.tensor([[1.0], [3.0]])
    t = torch.tensor([0.0, 0.0])
    assert MSE()(out, t).item() == pytest.approx(5.0)
    assert MSE()(out, t, torch.tensor([1.0, 0.0])).item() == pytest.approx(1.0)
    assert L1()(out, t, torch.tensor([1.0, 3.0])).item() == pytest.approx(2.5)


def test_logcosh_is_stable_and_exact():
    d = torch.tensor([[0.5], [200.0]])
    val = LogCosh()(d, torch.zeros(2)).item()
    assert val == pytest.approx((math.log(math.cosh(0.5)) + 200 - math.log(2)) / 2, rel=1e-6)


def test_gaussian_nll_value_and_sigma():
    out = torch.tensor([[1.0, math.log(2.0)]])
    loss = GaussianNLL()(out, torch.tensor([3.0]))
    assert loss.item() == pytest.approx(0.5 * 1.0 + math.log(2.0))
    assert GaussianNLL().sigma(out).item() == pytest.approx(2.0)


def test_class_weights():
    logits = torch.tensor([[0.0], [0.0]])
    labels = torch.tensor([0, 1])
    assert BinaryCrossEntropy()(logits, labels).item() == pytest.approx(math.log(2))
    w = BinaryCrossEntropy([1.0, 3.0])(torch.tensor([[10.0], [0.0]]), labels).item()
    expected = (1 * (10 + math.log1p(math.exp(-10))) + 3 * math.log(2)) / 4
    assert w == pytest.approx(expected, rel=1e-5)
    assert CrossEntropy(3)(torch.zeros(2, 3), torch.tensor([0, 2])).item() == pytest.approx(math.log(3))
