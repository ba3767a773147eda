"""dyngrad.nn.utils.stateless.functional_call: torch's deprecated alias of
torch.func.functional_call, with its FutureWarning, its results and its errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.stateless

import dyngrad
import dyngrad.nn.utils.stateless
from tests.harness import check_error


def _call(L, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = L.nn.utils.stateless.functional_call(*args, **kwargs)
    return out, [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("as_tuple", [False, True])
def test_functional_call(as_tuple):
    def run(L):
        m = L.nn.Linear(2, 1)
        x = L.ones(1, 2)
        params = {"weight": L.tensor([[2.0, 3.0]], requires_grad=True), "bias": L.zeros(1)}
        out, caught = _call(L, m, params, (x,) if as_tuple else x)
        out.sum().backward()
        return out.tolist(), params["weight"].grad.tolist(), m.weight.grad, caught

    assert run(dyngrad) == run(torch)


def test_kwargs_and_partial_dicts():
    def run(L):
        m = L.nn.BatchNorm1d(2)
        stats = {"running_mean": L.tensor([1.0, -1.0])}
        out, _ = _call(L, m.eval(), stats, kwargs={"input": L.tensor([[0.0, 0.0]])})
        return np.round(out.detach().numpy(), 5).tolist(), m.running_mean.tolist()

    assert run(dyngrad) == run(torch)


def test_strict_missing_keys():
    check_error(lambda L: _call(L, L.nn.Linear(2, 1), {"weight": L.ones(1, 2)}, L.ones(1, 2),
                                strict=True))
