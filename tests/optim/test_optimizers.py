"""Optimizers against torch.optim: 50-step float64 trajectories, state dicts, hooks, errors.

The model is a small tanh regression whose loss and gradients are computed in NumPy and handed
to both libraries as `.grad`, so only the optimizers' update formulas are compared.
"""

import math

import numpy as np
import pytest
import torch

import dyngrad

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 4))
Y = RNG.standard_normal((16, 3))
W0 = RNG.standard_normal((3, 4)) * 0.5
B0 = RNG.standard_normal(3) * 0.1


def loss_and_grads(w, b, reg=0.0):
    """Mean squared error of tanh(X w^T + b) against Y, plus reg * |w|^2, with its gradients."""
    h = np.tanh(X @ w.T + b)
    r = h - Y
    dz = 2 * r * (1 - h * h) / r.size
    return float((r * r).mean() + reg * (w * w).sum()), dz.T @ X + 2 * reg * w, dz.sum(0)


def make_params(lib, dtype=np.float64):
    return [lib.tensor(W0.astype(dtype), requires_grad=True),
            lib.tensor(B0.astype(dtype), requires_grad=True)]


def closure_for(lib, params, reg=0.0):
    def closure():
        w, b = (p.detach().numpy() for p in params)
        loss, gw, gb = loss_and_grads(w.astype(np.float64), b.astype(np.float64), reg)
        for p, g in zip(params, (gw, gb), strict=False):
            p.grad = lib.tensor(g.astype(w.dtype))
        return lib.tensor(loss)

    return closure


def trajectory(lib, name, kwargs, steps=50, groups=False, dtype=np.float64):
    params = make_params(lib, dtype)
    spec = ([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}] if groups
            else params)
    opt = getattr(lib.optim, name)(spec, **kwargs)
    closure = closure_for(lib, params)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        losses.append(float(closure()))
        opt.step()
    return np.array(losses), [p.detach().numpy().copy() for p in params], opt


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.02}),
    ("Adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (0.5, 0.9), "maximize": True}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.02}),
    ("AdamW", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.3}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "alpha": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.02}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("NAdam", {"lr": 0.02}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.02}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 10, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 5, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.02, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05)}),
    ("Rprop", {"lr": 0.005, "maximize": True}),
    ("Adafactor", {"lr": 0.05}),
    ("Adafactor", {"lr": 0.02, "beta2_decay": -0.6, "eps": (1e-20, 1e-2), "d": 1.5,
                   "weight_decay": 0.1}),
    ("Adafactor", {"lr": 0.05, "maximize": True}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs):
    ours, our_params, _ = trajectory(dyngrad, name, kwargs)
    ref, ref_params, _ = trajectory(torch, name, kwargs)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    for a, b in zip(our_params, ref_params, strict=False):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam", "ASGD", "Rprop",
                                  "Adafactor"])
def test_param_groups_and_float32(name):
    kwargs = {"lr": 0.01, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.01}
    ours, our_params, _ = trajectory(dyngrad, name, kwargs, 20, groups=True, dtype=np.float32)
    ref, ref_params, _ = trajectory(torch, name, kwargs, 20, groups=True, dtype=np.float32)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    for a, b in zip(our_params, ref_params, strict=False):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search):
    """On a well-conditioned (regularized) loss, so rounding differences don't grow."""
    results = []
    for lib in (dyngrad, torch):
        params = make_params(lib)
        opt = lib.optim.LBFGS(params, lr=0.5, max_iter=10, history_size=5,
                              line_search_fn=line_search)
        closure = closure_for(lib, params, reg=0.05)
        losses = [float(opt.step(closure)) for _ in range(5)]
        results.append((losses, [p.detach().numpy().copy() for p in params],
                        opt.state[params[0]]["func_evals"], opt.state[params[0]]["n_iter"]))
    (ours, our_params, *our_counts), (ref, ref_params, *ref_counts) = results
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    for a, b in zip(our_params, ref_params, strict=False):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    assert our_counts == ref_counts


def test_lbfgs_rosenbrock_converges():
    xy = dyngrad.tensor([-1.5, 2.0], dtype=dyngrad.float64, requires_grad=True)
    opt = dyngrad.optim.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        x, y = xy.detach().numpy()
        xy.grad = dyngrad.tensor([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        return dyngrad.tensor((1 - x) ** 2 + 100 * (y - x * x) ** 2)

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-5)


def test_autograd_end_to_end_and_version_counter():
    """A loss built by dyngrad's autograd; the in-place update invalidates saved tensors."""
    w = dyngrad.tensor([1.0, -2.0, 0.5], requires_grad=True)
    x = dyngrad.tensor([0.5, 1.0, 2.0])
    opt = dyngrad.optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = (w * x - 1.0) ** 2
        loss.backward(dyngrad.ones_like(loss))
        opt.step()
    expected = np.array([1.0, -2.0, 0.5])
    for _ in range(3):
        expected = expected - 0.1 * 2 * (expected * x.numpy() - 1.0) * x.numpy()
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-6)
    loss = (w * w)
    opt.zero_grad()
    w.grad = dyngrad.ones_like(w)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward(dyngrad.ones_like(loss))


def test_state_dict_format_matches_torch():
    sds = []
    for lib in (dyngrad, torch):
        _, _, opt = trajectory(lib, "Adam", {"lr": 0.01, "amsgrad": True}, 3, groups=True)
        sds.append(opt.state_dict())
    ours, ref = sds
    assert ours["param_groups"] == ref["param_groups"]
    assert list(ours["state"]) == list(ref["state"]) == [0, 1]
    for i in ref["state"]:
        assert list(ours["state"][i]) == list(ref["state"][i])
        for k, v in ref["state"][i].items():
            assert str(ours["state"][i][k].dtype) == str(v.dtype)
            np.testing.assert_allclose(ours["state"][i][k].numpy(), v.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("Adam", {"lr": 0.02}),
                                         ("SGD", {"lr": 0.05, "momentum": 0.9}),
                                         ("NAdam", {"lr": 0.02}), ("Adagrad", {"lr": 0.1}),
                                         ("Rprop", {}),
                                         ("Adafactor", {"lr": 0.05})])
def test_load_state_dict_resumes_identically(name, kwargs):
    full, full_params, _ = trajectory(dyngrad, name, kwargs, 10)
    _, _, first = trajectory(dyngrad, name, kwargs, 5)
    params = [dyngrad.tensor(p.detach().numpy().copy(), requires_grad=True)
              for p in first.param_groups[0]["params"]]
    opt = getattr(dyngrad.optim, name)(params, **kwargs)
    opt.load_state_dict(first.state_dict())
    closure = closure_for(dyngrad, params)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        losses.append(float(closure()))
        opt.step()
    # rtol 1e-9, not 0: loading casts float32 state such as NAdam's mu_product to the parameters'
    # dtype, as PyTorch does
    np.testing.assert_allclose(losses, full[5:], rtol=1e-9)
    np.testing.assert_allclose(params[0].detach().numpy(), full_params[0], rtol=1e-9)


def test_load_state_dict_casts_and_checks():
    p64 = dyngrad.zeros(2, dtype=dyngrad.float64, requires_grad=True)
    opt = dyngrad.optim.SGD([p64], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": dyngrad.ones(2)}},
          "param_groups": [{**opt.state_dict()["param_groups"][0], "lr": 0.5}]}
    opt.load_state_dict(sd)
    assert opt.state[p64]["momentum_buffer"].dtype == dyngrad.float64
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is p64
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    bad = {"state": {}, "param_groups": [{**sd["param_groups"][0], "params": [0, 1]}]}
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(bad)


def test_zero_grad_modes():
    p = dyngrad.ones(3, requires_grad=True)
    opt = dyngrad.optim.SGD([p], lr=0.1)
    p.grad = dyngrad.ones(3)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_hooks_and_add_param_group():
    calls = []
    p, q = dyngrad.ones(2, requires_grad=True), dyngrad.ones(2, requires_grad=True)
    opt = dyngrad.optim.SGD([p], lr=0.1)
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", a, k)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", a, k)))
    h3 = dyngrad.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, a, k: calls.append("global"))
    opt.step()
    assert calls == ["global", ("pre", (), {}), ("post", (), {})]
    h1.remove()
    h3.remove()
    calls.clear()
    opt.step()
    assert calls == [("post", (), {})]
    opt.add_param_group({"params": q, "lr": 0.5, "momentum": 0.9})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["dampening"] == 0
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        opt.add_param_group({"params": [p]})
    p.grad, q.grad = dyngrad.ones(2), dyngrad.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(q.detach().numpy(), [0.5, 0.5])


def test_named_params_and_repr():
    for lib in (dyngrad, torch):
        a = lib.ones(2, requires_grad=True)
        opt = lib.optim.Adam([("a", a)], lr=0.1)
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["a"]
    ours = repr(dyngrad.optim.Adam([dyngrad.ones(1, requires_grad=True)], lr=0.1))
    ref = repr(torch.optim.Adam([torch.ones(1, requires_grad=True)], lr=0.1))
    assert ours == ref


@pytest.mark.parametrize("make", [
    lambda lib, p: lib.optim.SGD(p, lr=-1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=-1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, nesterov=True),
    lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.optim.Adam(p, eps=-1),
    lambda lib, p: lib.optim.RMSprop(p, alpha=-1),
    lambda lib, p: lib.optim.Adadelta(p, rho=2),
    lambda lib, p: lib.optim.Adam([]),
    lambda lib, p: lib.optim.Adam(p[0]),
    lambda lib, p: lib.optim.Adam([p[0], 3]),
    lambda lib, p: lib.optim.Adam([{"params": set(p)}]),
    lambda lib, p: lib.optim.Adam([p[0] * 2]),
    lambda lib, p: lib.optim.LBFGS([{"params": [p[0]]}, {"params": [p[1]]}]),
])
def test_errors_match_torch(make):
    errors = []
    for lib in (dyngrad, torch):
        params = [lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)]
        with pytest.raises(Exception) as info:
            make(lib, params)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


def test_complex_params_match_torch():
    rng = np.random.default_rng(1)
    z0 = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    out = []
    for lib in (dyngrad, torch):
        z = lib.tensor(z0, requires_grad=True)
        opt = lib.optim.Adam([z], lr=0.1)
        for _ in range(5):
            zz = z.detach().numpy()
            z.grad = lib.tensor(2 * zz)  # gradient of |z|^2 (conjugate Wirtinger convention)
            opt.step()
        out.append(z.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    assert math.isfinite(abs(out[0]).sum())
