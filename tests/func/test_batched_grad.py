"""autograd.grad(..., is_grads_batched=True): one backward pass for a batch of grad_outputs."""

import numpy as np
import torch

import dyngrad as dg
from tests.harness import check_error

rng = np.random.default_rng(3)
C = rng.standard_normal((4, 3))
X = rng.standard_normal(3)


def test_jacobian_rows():
    for create_graph in (False, True):
        results = []
        for lib in (torch, dg):
            x = lib.tensor(X, requires_grad=True)
            y = lib.tensor(C) @ x.sin()
            results.append(lib.autograd.grad(y, x, lib.eye(4, dtype=lib.float64),
                                             is_grads_batched=True, create_graph=create_graph))
        (expected,), (got,) = results
        assert got.requires_grad == expected.requires_grad
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy())


def test_several_outputs_inputs_and_unused():
    results = []
    for lib in (torch, dg):
        x, z = lib.tensor(X, requires_grad=True), lib.tensor(X, requires_grad=True)
        a, b = x.exp(), (x * x).sum()
        results.append(lib.autograd.grad(
            (a, b), (x, z), (lib.ones(2, 3, dtype=lib.float64),
                             lib.tensor([1.0, 2.0], dtype=lib.float64)),
            is_grads_batched=True, allow_unused=True))
    assert results[1][1] is None and results[0][1] is None
    np.testing.assert_allclose(results[1][0].numpy(), results[0][0].numpy())


def test_shape_error_matches_torch():
    def fn(lib):
        x = lib.ones(3, requires_grad=True)
        return lib.autograd.grad(x * 2, x, lib.ones(3, 2), is_grads_batched=True)

    check_error(fn)
