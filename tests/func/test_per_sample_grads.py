"""Per-sample gradients, `vmap(grad(loss), in_dims=(None, 0, 0))`: the same values as torch.func
on the same model (float64, copied weights), from one call of the loss on the whole batch."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad as dg

rng = np.random.default_rng(2)


def _mlp_loss(lib, kind):
    F = lib.nn.functional

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        out = F.linear(lib.tanh(F.linear(x, w1, b1)), w2, b2)
        if kind == "mse":
            return F.mse_loss(out, y)
        return F.cross_entropy(out.unsqueeze(0), y.unsqueeze(0))

    return loss


@pytest.mark.parametrize("kind", ["mse", "cross_entropy"])
def test_mlp_matches_torch(kind):
    n, d, h, c = 64, 5, 7, 3
    weights = [rng.standard_normal(s) for s in ((h, d), (h,), (c, h), (c,))]
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, c)) if kind == "mse" else rng.integers(0, c, n)
    grads = []
    for lib in (torch, dg):
        params = tuple(lib.tensor(w) for w in weights)
        fn = lib.func.vmap(lib.func.grad(_mlp_loss(lib, kind)), in_dims=(None, 0, 0))
        grads.append(fn(params, lib.tensor(x), lib.tensor(y)))
    for expected, got in zip(*grads, strict=True):
        assert type(got._data) is np.ndarray and got.shape == expected.shape
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def _cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 6, 3)
            self.fc = nn.Linear(24, 5)

        def forward(self, t):
            t = F.max_pool2d(F.relu(self.c1(t)), 2)
            t = F.adaptive_avg_pool2d(F.relu(self.c2(t)), 2)
            return self.fc(t.flatten(1))

    model = Net()

    def loss(params, sample, target):
        out = lib.func.functional_call(model, params, (sample.unsqueeze(0),))
        return F.cross_entropy(out, target.unsqueeze(0))

    return loss


def test_cnn_with_functional_call_matches_torch():
    shapes = {"c1.weight": (4, 1, 3, 3), "c1.bias": (4,), "c2.weight": (6, 4, 3, 3),
              "c2.bias": (6,), "fc.weight": (5, 24), "fc.bias": (5,)}
    weights = {k: rng.standard_normal(s) * 0.3 for k, s in shapes.items()}
    x, y = rng.standard_normal((8, 1, 10, 10)), rng.integers(0, 5, 8)
    grads = []
    for lib in (torch, dg):
        params = {k: lib.tensor(v) for k, v in weights.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no per-sample fallback loop
            grads.append(lib.func.vmap(lib.func.grad(_cnn(lib)), in_dims=(None, 0, 0))(
                params, lib.tensor(x), lib.tensor(y)))
    for k in shapes:
        np.testing.assert_allclose(grads[1][k].numpy(), grads[0][k].numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_ten_thousand_samples_in_one_call():
    n, d, h, c = 10_000, 20, 32, 10
    params = tuple(dg.tensor(rng.standard_normal(s)) for s in ((h, d), (h,), (c, h), (c,)))
    x, y = dg.tensor(rng.standard_normal((n, d))), dg.tensor(rng.integers(0, c, n))
    calls = []
    loss = _mlp_loss(dg, "cross_entropy")

    def counted(params, x, y):
        calls.append(x.shape)
        return loss(params, x, y)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        grads = dg.func.vmap(dg.func.grad(counted), in_dims=(None, 0, 0))(params, x, y)
    assert calls == [dg.Size([d])]  # the loss ran once, on one (batched) sample
    assert [tuple(g.shape) for g in grads] == [(n, h, d), (n, h), (n, c, h), (n, c)]
    i = 1234  # one sample against an ordinary gradient
    single = dg.func.grad(loss)(params, x[i], y[i])
    for g, s in zip(grads, single, strict=True):
        np.testing.assert_allclose(g[i].numpy(), s.numpy(), rtol=1e-10, atol=1e-12)


def test_unbatched_params_get_per_sample_gradients_inside_vmap():
    w = dg.tensor(rng.standard_normal(3))
    xs = dg.tensor(rng.standard_normal((4, 3)))
    per_sample = dg.func.vmap(dg.func.grad(lambda w, x: (w * x).sum() ** 2),
                              in_dims=(None, 0))(w, xs)
    expected = 2 * (xs * w).sum(1, keepdim=True) * xs
    np.testing.assert_allclose(per_sample.numpy(), expected.numpy())


def test_ensemble_with_stack_module_state():
    models = [dg.nn.Linear(3, 2) for _ in range(5)]
    params, buffers = dg.func.stack_module_state(models)
    base = dg.nn.Linear(3, 2)
    x = dg.randn(7, 3)

    def fmodel(p, b, inp):
        return dg.func.functional_call(base, (p, b), (inp,))

    out = dg.func.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    expected = dg.stack([m(x) for m in models])
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-6)
    grads = dg.func.vmap(dg.func.grad(lambda p, b, inp: fmodel(p, b, inp).sum()),
                         in_dims=(0, 0, None))(params, buffers, x)
    np.testing.assert_allclose(grads["bias"].numpy(), np.full((5, 2), 7.0))
