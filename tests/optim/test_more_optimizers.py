"""ASGD, Rprop, Adafactor, Muon and SparseAdam, and the optimizers' flags, against torch.optim.

Trajectories use the tanh regression of test_optimizers.py (gradients computed in NumPy and handed
to both libraries), so only the update formulas are compared. Errors are compared by type and
exact message, and state dicts by keys, dtypes and values.
"""

import numpy as np
import pytest
import torch

import dyngrad
from tests.optim.test_optimizers import B0, W0, closure_for, loss_and_grads, make_params, trajectory

NEW = ["ASGD", "Rprop", "Adafactor"]


def _plain(value):
    """An option with tensors replaced by (value, dtype name), so the libraries compare."""
    if isinstance(value, dyngrad.Tensor | torch.Tensor):
        return value.item(), str(value.dtype)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _same_state(ours, ref, atol=1e-12):
    """Two optimizer state dicts hold the same groups and the same per-parameter state."""
    groups = [[{k: _plain(v) for k, v in g.items()} for g in sd["param_groups"]]
              for sd in (ours, ref)]
    assert groups[0] == groups[1]
    assert list(ours["state"]) == list(ref["state"])
    for i, ref_state in ref["state"].items():
        assert list(ours["state"][i]) == list(ref_state)
        for key, value in ref_state.items():
            mine = ours["state"][i][key]
            assert str(mine.dtype) == str(value.dtype), key
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-6, atol=atol)


def _error(make):
    """(type, message) of the exception `make(lib)` raises, for dyngrad and for torch."""
    out = []
    for lib in (dyngrad, torch):
        with pytest.raises(Exception) as info:
            make(lib)
        out.append((type(info.value), str(info.value)))
    return out


# --- ASGD, Rprop, Adafactor: state dicts, repr, defaults, resuming ---------------------------
@pytest.mark.parametrize("name,kwargs", [("ASGD", {"lr": 0.05, "t0": 3}),
                                         ("Rprop", {"lr": 0.02}),
                                         ("Adafactor", {"lr": 0.05})])
def test_state_dict_repr_and_defaults_match_torch(name, kwargs):
    _, _, ours = trajectory(dyngrad, name, kwargs, 6, groups=True)
    _, _, ref = trajectory(torch, name, kwargs, 6, groups=True)
    _same_state(ours.state_dict(), ref.state_dict())
    assert repr(ours) == repr(ref)
    assert ours.defaults == ref.defaults


def test_adafactor_factors_matrices_only():
    """A matrix keeps row and column factors shaped like its reduced gradient; a vector keeps the
    full second moment."""
    _, _, opt = trajectory(dyngrad, "Adafactor", {}, 2)
    w, b = opt.param_groups[0]["params"]
    assert opt.state[w]["row_var"].shape == (3, 1) and opt.state[w]["col_var"].shape == (1, 4)
    assert list(opt.state[b]) == ["step", "variance"] and opt.state[b]["variance"].shape == (3,)


@pytest.mark.parametrize("name,kwargs", [("ASGD", {"lr": 0.05, "t0": 3}), ("Rprop", {}),
                                         ("Adafactor", {"lr": 0.05}),
                                         ("Muon", {"lr": 0.02, "momentum": 0.9})])
def test_resume_from_state_dict_matches_torch(name, kwargs):
    """Loading casts 0-dim float state such as ASGD's eta to the parameters' dtype in both
    libraries, so the resumed runs are compared with each other."""
    runs = []
    for lib in (dyngrad, torch):
        all_params = make_params(lib)
        params = all_params[:1] if name == "Muon" else all_params  # Muon: 2-D weights only
        opt = getattr(lib.optim, name)(params, **kwargs)
        closure = closure_for(lib, all_params)
        for _ in range(5):
            opt.zero_grad()
            closure()
            opt.step()
        fresh = getattr(lib.optim, name)(params, **kwargs)
        fresh.load_state_dict(opt.state_dict())
        for _ in range(5):
            fresh.zero_grad()
            closure()
            fresh.step()
        runs.append((params[0].detach().numpy().copy(), fresh.state_dict()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-9, atol=1e-12)
    _same_state(runs[0][1], runs[1][1])


@pytest.mark.parametrize("name,kwargs", [("ASGD", {"lr": 0.1, "t0": 2}),
                                         ("Rprop", {"lr": 0.05})])
def test_complex_params_match_torch(name, kwargs):
    """Complex parameters are updated as pairs of reals (Rprop's step sizes start at lr+lr*j)."""
    z0 = np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1j])
    out = []
    for lib in (dyngrad, torch):
        z = lib.tensor(z0, requires_grad=True)
        opt = getattr(lib.optim, name)([z], **kwargs)
        for _ in range(6):
            z.grad = lib.tensor(2 * z.detach().numpy() - 0.3)
            opt.step()
        out.append((z.detach().numpy().copy(), opt.state_dict()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    _same_state(out[0][1], out[1][1])


# --- Muon ------------------------------------------------------------------------------------
def muon_run(lib, kwargs, steps=30, dtype=np.float64):
    """Muon on the 2-D weight of the regression (the bias stays fixed)."""
    params = make_params(lib, dtype)
    opt = lib.optim.Muon([params[0]], **kwargs)
    closure = closure_for(lib, params)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        losses.append(float(closure()))
        opt.step()
    return np.array(losses), params[0].detach().numpy().copy(), opt


MUON_CASES = [
    {"lr": 0.02},
    {"lr": 0.02, "nesterov": False, "weight_decay": 0.01, "momentum": 0.9},
    {"lr": 0.02, "adjust_lr_fn": "match_rms_adamw", "ns_steps": 3,
     "ns_coefficients": (2.0, -1.5, 0.5)},
    {"lr": 0.05, "adjust_lr_fn": "original", "eps": 1e-3, "weight_decay": 0.0},
]


@pytest.mark.parametrize("kwargs", MUON_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_muon_trajectory_matches_torch(kwargs, dtype):
    ours, our_w, opt = muon_run(dyngrad, kwargs, dtype=dtype)
    ref, ref_w, ref_opt = muon_run(torch, kwargs, dtype=dtype)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    np.testing.assert_allclose(our_w, ref_w, rtol=1e-6, atol=1e-7)
    assert our_w.dtype == dtype
    _same_state(opt.state_dict(), ref_opt.state_dict())
    assert repr(opt) == repr(ref_opt)


@pytest.mark.parametrize("shape", [(5, 9), (9, 5), (8, 8)])
def test_muon_orthogonalization_is_bfloat16_exact(shape):
    """With no momentum and no weight decay one step is `-lr * NS(g)`: PyTorch runs the
    Newton-Schulz iteration in bfloat16, and on small matrices the rounding matches bit for bit."""
    g = np.random.default_rng(3).standard_normal(shape)
    steps = []
    for lib in (dyngrad, torch):
        w = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.Muon([w], lr=1.0, momentum=0.0, weight_decay=0.0)
        w.grad = lib.tensor(g)
        opt.step()
        steps.append(w.detach().numpy())
    np.testing.assert_array_equal(steps[0], steps[1])
    # roughly orthogonal: singular values near 1 (scaled by sqrt(max(1, rows / cols)))
    s = np.linalg.svd(steps[0] / np.sqrt(max(1, shape[0] / shape[1])), compute_uv=False)
    assert 0.5 < s.min() and s.max() < 1.5


MUON_ERRORS = [
    lambda lib, w, b: lib.optim.Muon([w, b]),
    lambda lib, w, b: lib.optim.Muon([w], lr=-1),
    lambda lib, w, b: lib.optim.Muon([w], momentum=-0.1),
    lambda lib, w, b: lib.optim.Muon([w], weight_decay=-0.1),
    lambda lib, w, b: lib.optim.Muon([w], adjust_lr_fn="spectral"),
    lambda lib, w, b: lib.optim.Muon([w], lr=lib.tensor([0.1, 0.2])),
]


@pytest.mark.parametrize("make", MUON_ERRORS)
def test_muon_errors_match_torch(make):
    ours, ref = _error(lambda lib: make(lib, lib.ones(2, 3, requires_grad=True),
                                        lib.ones(3, requires_grad=True)))
    assert ours == ref


@pytest.mark.parametrize("setup", [
    lambda lib, opt, w, b: opt.param_groups[0].update(ns_steps=100),
    lambda lib, opt, w, b: opt.param_groups[0].update(ns_coefficients=(1.0, 2.0)),
    lambda lib, opt, w, b: opt.add_param_group({"params": [b]}),
    lambda lib, opt, w, b: opt.add_param_group(
        {"params": [lib.ones(2, 2, dtype=lib.complex128, requires_grad=True)]}),
])
def test_muon_step_errors_match_torch(setup):
    def make(lib):
        w, b = lib.ones(2, 3, requires_grad=True), lib.ones(3, requires_grad=True)
        opt = lib.optim.Muon([w])
        setup(lib, opt, w, b)
        for p in opt.param_groups[-1]["params"]:
            p.grad = lib.ones_like(p)
        w.grad = lib.ones_like(w)
        opt.step()

    ours, ref = _error(make)
    assert ours == ref


# --- SparseAdam ------------------------------------------------------------------------------
def test_sparse_adam_refuses_dense_gradients():
    for lib in (dyngrad, torch):
        p = lib.ones(3, requires_grad=True)
        opt = lib.optim.SparseAdam([p], lr=0.1)
        assert opt.step() is None  # no gradient yet: nothing to do
        assert opt.defaults == {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "maximize": False}
    ours, ref = _error(lambda lib: _sparse_adam_step(lib))
    assert ours == ref
    assert ours[0] is RuntimeError and "does not support dense gradients" in ours[1]


def _sparse_adam_step(lib):
    p = lib.ones(3, requires_grad=True)
    opt = lib.optim.SparseAdam([p])
    p.grad = lib.ones(3)
    opt.step()


# --- argument checks -------------------------------------------------------------------------
ARG_ERRORS = [
    lambda lib, p: lib.optim.ASGD(p, lr=-0.1),
    lambda lib, p: lib.optim.ASGD(p, weight_decay=-1),
    lambda lib, p: lib.optim.ASGD(p, lr=lib.tensor([0.1, 0.2])),
    lambda lib, p: lib.optim.Rprop(p, lr=-0.1),
    lambda lib, p: lib.optim.Rprop(p, etas=(1.1, 1.2)),
    lambda lib, p: lib.optim.Rprop(p, etas=(0.5, 0.9)),
    lambda lib, p: lib.optim.Adafactor(p, lr=-0.1),
    lambda lib, p: lib.optim.Adafactor(p, beta2_decay=0.5),
    lambda lib, p: lib.optim.Adafactor(p, eps=(-1.0, 1e-3)),
    lambda lib, p: lib.optim.Adafactor(p, eps=(None, -1e-3)),
    lambda lib, p: lib.optim.Adafactor(p, d=0.5),
    lambda lib, p: lib.optim.Adafactor(p, weight_decay=-0.1),
    lambda lib, p: lib.optim.SparseAdam(p, lr=0.0),
    lambda lib, p: lib.optim.SparseAdam(p, eps=0.0),
    lambda lib, p: lib.optim.SparseAdam(p, betas=(0.9, 1.0)),
    lambda lib, p: lib.optim.SparseAdam([lib.ones(2, dtype=lib.complex64, requires_grad=True)]),
    lambda lib, p: lib.optim.Adam(p, lr=lib.tensor(0.1), foreach=True),
    lambda lib, p: lib.optim.Adam(p, betas=(lib.tensor(0.9), 0.99)),
    lambda lib, p: lib.optim.Adam(p, betas=(0, 0.99)),
    lambda lib, p: lib.optim.AdamW(p, betas=(lib.tensor(0.9), lib.tensor(0.99)), foreach=True),
    lambda lib, p: lib.optim.Adam(p, betas=(lib.tensor([0.9, 0.8]), lib.tensor(0.99))),
    lambda lib, p: lib.optim.Adam(p, betas=(lib.tensor(0.9), lib.tensor([0.9, 0.99]))),
    lambda lib, p: lib.optim.Adam(p, fused=True, differentiable=True),
    lambda lib, p: lib.optim.AdamW(p, fused=True, foreach=True),
    lambda lib, p: lib.optim.SGD(p, fused=True, differentiable=True),
    lambda lib, p: lib.optim.SGD(p, fused=True, foreach=True),
    lambda lib, p: lib.optim.Adagrad(p, fused=True, differentiable=True),
    lambda lib, p: lib.optim.Adagrad(p, fused=True, foreach=True),
]


@pytest.mark.parametrize("make", ARG_ERRORS)
def test_argument_errors_match_torch(make):
    ours, ref = _error(lambda lib: make(lib, [lib.ones(2, requires_grad=True)]))
    assert ours == ref


# --- flags: capturable, differentiable, foreach, fused ---------------------------------------
CAPTURABLE = ["Adam", "AdamW", "Adadelta", "Adamax", "NAdam", "RAdam", "RMSprop", "ASGD",
              "Rprop"]


@pytest.mark.parametrize("foreach", [None, True])
@pytest.mark.parametrize("name", CAPTURABLE)
def test_capturable_needs_an_accelerator(name, foreach):
    """On the CPU PyTorch's capturable step fails once the state exists, before counting."""
    opts = []

    def make(lib):
        p = lib.ones(3, dtype=lib.float64, requires_grad=True)
        opts.append(getattr(lib.optim, name)([p], capturable=True, foreach=foreach))
        p.grad = lib.ones(3, dtype=lib.float64)
        opts[-1].step()

    ours, ref = _error(make)
    assert ours == ref and ours[0] is AssertionError
    _same_state(opts[0].state_dict(), opts[1].state_dict())


def test_fused_capturable_steps():
    """The fused kernels take capturable=True on the CPU; `step` is then always float32."""
    ours, our_params, opt = trajectory(dyngrad, "Adam", {"lr": 0.02, "fused": True,
                                                         "capturable": True}, 5)
    ref, ref_params, ref_opt = trajectory(torch, "Adam", {"lr": 0.02, "fused": True,
                                                          "capturable": True}, 5)
    np.testing.assert_allclose(our_params[0], ref_params[0], rtol=1e-9)
    _same_state(opt.state_dict(), ref_opt.state_dict())


DIFFERENTIABLE = ["SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam",
                  "RMSprop", "ASGD", "Rprop"]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_differentiable_refuses_leaf_params(name):
    """differentiable=True updates under grad mode, so a leaf that requires grad can't be
    written in place; a parameter that doesn't require grad is updated as usual (PyTorch's
    Adam, AdamW and NAdam then switch to another rounding of the same formula: rtol 1e-7)."""

    def make(lib):
        p = lib.ones(3, requires_grad=True)
        opt = getattr(lib.optim, name)([p], differentiable=True)
        p.grad = lib.ones(3)
        opt.step()

    ours, ref = _error(make)
    assert ours == ref and ours[0] is RuntimeError
    after = []
    for lib in (dyngrad, torch):
        p = lib.ones(3, dtype=lib.float64)
        opt = getattr(lib.optim, name)([p], differentiable=True)
        p.grad = lib.full((3,), 0.5, dtype=lib.float64)
        opt.step()
        after.append(p.numpy().copy())
    np.testing.assert_allclose(after[0], after[1],
                               rtol=1e-7 if name in ("Adam", "AdamW", "NAdam") else 1e-12)
    assert not np.array_equal(after[0], np.ones(3))


FLAG_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "foreach": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "fused": True}),
    ("SGD", {"lr": 0.05, "weight_decay": torch.tensor(0.1)}),
    ("Adam", {"lr": 0.02, "foreach": True, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "fused": True}),
    ("Adam", {"lr": torch.tensor(0.02), "weight_decay": 0.1}),
    ("NAdam", {"lr": torch.tensor(0.02), "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RMSprop", {"lr": torch.tensor(0.01), "momentum": 0.5}),
    ("Adagrad", {"lr": torch.tensor(0.1), "lr_decay": 0.01}),
    ("Adafactor", {"lr": torch.tensor(0.05)}),
    ("AdamW", {"lr": 0.02, "fused": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "fused": True}),
    ("Adagrad", {"lr": 0.1, "foreach": True}),
    ("RMSprop", {"lr": 0.01, "foreach": True, "centered": True}),
    ("NAdam", {"lr": 0.02, "foreach": True}),
    ("RAdam", {"lr": 0.02, "foreach": True}),
    ("Adamax", {"lr": 0.02, "foreach": True}),
    ("Adadelta", {"foreach": True}),
    ("Rprop", {"foreach": True}),
    ("Adafactor", {"lr": 0.05, "foreach": True}),
]
# last-bit differences of float32 values: PyTorch's float32 pow and `x / tensor` (taken as
# `x * tensor.reciprocal()`) on Tensor options, and the float32 tensors of ASGD's foreach kernel
# (dyngrad always computes as the single-tensor kernel)
LOOSE_CASES = [
    ("Adam", {"lr": 0.02, "betas": (torch.tensor(0.8), torch.tensor(0.99))}),
    ("ASGD", {"lr": torch.tensor(0.05), "t0": 5}),
    ("ASGD", {"lr": 0.05, "foreach": True, "t0": 5}),
]


def _for(lib, kwargs):
    return {k: (lib.tensor(v.item()) if isinstance(v, torch.Tensor) else
                tuple(lib.tensor(b.item()) for b in v) if k == "betas" else v)
            for k, v in kwargs.items()}


@pytest.mark.parametrize("name,kwargs,tol", [(*c, (1e-9, 1e-12)) for c in FLAG_CASES]
                         + [(*c, (1e-6, 1e-7)) for c in LOOSE_CASES],
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(FLAG_CASES + LOOSE_CASES)])
def test_flags_keep_torch_values(name, kwargs, tol):
    """foreach and fused choose a kernel, not a result (fused rounds differently: rtol 1e-9).
    A Tensor option computes in its dtype (float32 here), as PyTorch's 0-dim tensors do."""
    ours, our_params, opt = trajectory(dyngrad, name, _for(dyngrad, kwargs), 20)
    ref, ref_params, ref_opt = trajectory(torch, name, kwargs, 20)
    rtol, atol = tol
    np.testing.assert_allclose(ours, ref, rtol=rtol)
    for a, b in zip(our_params, ref_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    _same_state(opt.state_dict(), ref_opt.state_dict(), atol)


@pytest.mark.parametrize("name,kwargs", [("Adam", {}), ("Adam", {"fused": True}),
                                         ("Adagrad", {}), ("Adagrad", {"fused": True}),
                                         ("NAdam", {}), ("ASGD", {}), ("Rprop", {}),
                                         ("Adafactor", {})])
def test_scalar_state_follows_default_dtype(name, kwargs):
    """PyTorch keeps 0-dim state (step, NAdam's mu_product, ASGD's eta and mu) in float64 when
    that is the default dtype, except for fused kernels."""
    dicts = []
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
        p = lib.ones(3, requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kwargs)
        for _ in range(3):
            p.grad = lib.tensor([0.5, -1.0, 2.0])
            opt.step()
        dicts.append(opt.state_dict())
    _same_state(*dicts)
    assert str(dicts[0]["state"][0]["step"].dtype).endswith(
        "float32" if kwargs.get("fused") else "float64")


def test_adafactor_refuses_complex_before_updating():
    def make(lib):
        w = lib.ones(2, requires_grad=True)
        z = lib.ones(2, dtype=lib.complex64, requires_grad=True)
        opt = lib.optim.Adafactor([w, z])
        w.grad, z.grad = lib.ones(2), lib.ones(2, dtype=lib.complex64)
        try:
            opt.step()
        finally:
            assert w.tolist() == [1.0, 1.0]

    ours, ref = _error(make)
    assert ours == ref


def test_asgd_averages_after_t0():
    """`ax` follows the parameter until t0 steps have passed, then is their running mean."""
    w = dyngrad.tensor(W0.copy(), requires_grad=True)
    b = dyngrad.tensor(B0.copy(), requires_grad=True)
    opt = dyngrad.optim.ASGD([w, b], lr=0.05, t0=3, lambd=0.0)
    seen = []
    for _ in range(8):
        _, gw, gb = loss_and_grads(w.detach().numpy(), b.detach().numpy())
        w.grad, b.grad = dyngrad.tensor(gw), dyngrad.tensor(gb)
        opt.step()
        seen.append(w.detach().numpy().copy())
    ax = opt.state[w]["ax"].numpy()
    # mu (set after each step) is 1 until step t0 + 2, so steps 1..5 copy the parameter; then
    # mu = 1 / (t - 1 - t0) makes ax the mean of the iterates from step 5 on
    np.testing.assert_allclose(ax, np.mean(seen[4:], axis=0), rtol=1e-6)  # mu is float32
    assert opt.state[w]["mu"].item() == pytest.approx(1 / 5)
