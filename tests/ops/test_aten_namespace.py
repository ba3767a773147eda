"""`torch.ops.aten` against PyTorch: overload packets and overloads by name, their reprs and
errors, and the ATen-only ops it reaches (`_safe_softmax`, `max_pool2d_with_indices_backward`)."""

import numpy as np
import pytest
import torch

import dyngrad


def both(fn):
    return fn(dyngrad), fn(torch)


def test_packets_and_overloads():
    for lib in (dyngrad, torch):
        aten = lib.ops.aten
        assert repr(aten.add) == "<OpOverloadPacket(op='aten.add')>"
        assert repr(aten.add.Tensor) == "<OpOverload(op='aten.add', overload='Tensor')>"
        assert str(aten.add.Tensor) == "aten.add.Tensor" and str(aten.mul) == "aten.mul"
        with pytest.raises(AttributeError, match="'_OpNamespace' 'aten' object has no attribute "
                                                 "'no_such_op'"):
            aten.no_such_op  # noqa: B018


@pytest.mark.parametrize("call", [
    lambda t: t.ops.aten.add.Tensor(t.arange(3.0), t.ones(3), alpha=2),
    lambda t: t.ops.aten.mul(t.arange(3.0), 4),
    lambda t: t.ops.aten.sum.dim_IntList(t.arange(6.0).reshape(2, 3), [1]),
    lambda t: t.ops.aten.add_.Tensor(t.arange(3.0), t.ones(3)),
    lambda t: t.ops.aten.relu.default(t.arange(-2.0, 2.0)),
    lambda t: t.ops.aten.conv2d.default(t.ones(1, 1, 4, 4), t.ones(1, 1, 2, 2)),
], ids=lambda f: "")
def test_calls(call):
    ours, theirs = both(call)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_safe_softmax(dim):
    inf = float("inf")
    data = np.array([[1.0, 2.0, -inf], [-inf, -inf, -inf], [0.5, -inf, 3.0]])
    results = []
    for lib in (dyngrad, torch):
        x = lib.tensor(data, requires_grad=True)
        y = lib._safe_softmax(x, dim)
        (y * lib.arange(9.0, dtype=lib.float64).reshape(3, 3)).sum().backward()
        packet = lib.ops.aten._safe_softmax.default(x, dim, dtype=lib.float32)
        results.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name(),
                        packet.dtype == lib.float32))
    (y, g, name, f32), (ty, tg, tname, tf32) = results
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    np.testing.assert_allclose(g, tg, rtol=1e-14, atol=1e-16)
    assert name == tname == "SafeSoftmaxBackward0" and f32 and tf32


def test_max_pool2d_with_indices_backward():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    results = []
    for lib in (dyngrad, torch):
        inp = lib.tensor(x, requires_grad=True)
        out, idx = lib.nn.functional.max_pool2d_with_indices(inp, 3, 2, 1, return_indices=True)
        grad_out = lib.tensor(np.arange(out.numel(), dtype=float).reshape(out.shape),
                              requires_grad=True)
        g = lib.ops.aten.max_pool2d_with_indices_backward.default(
            grad_out, inp, [3, 3], [2, 2], [1, 1], [1, 1], False, idx)
        (g * lib.tensor(x)).sum().backward()
        results.append((g.detach().numpy(), g.grad_fn.name(), grad_out.grad.numpy(),
                        inp.grad is None or not inp.grad.any().item(),
                        [type(f).__name__ for f, _ in g.grad_fn.next_functions]))
    ours, theirs = results
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[2], theirs[2])
    assert ours[1] == theirs[1] == "MaxPool2DWithIndicesBackwardBackward0"
    assert ours[3] and theirs[3] and ours[4] == theirs[4]
