"""dyngrad.amp against torch.amp: autocast's state, checks and warnings (dyngrad's ops then run
in full precision: the one deliberate difference), custom_fwd/custom_bwd, and the GradScaler,
disabled (an exact pass-through) and enabled on the CPU (the same scales, skipped steps and
parameters as torch over a training run)."""

import pickle
import warnings

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.amp
from dyngrad.amp import autocast_mode as dg_autocast
from tests.harness import check_error

STATE = {  # the autocast state functions: top-level in torch
    dyngrad: dg_autocast,
    torch: torch,
}


def _warned(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def _dtype_name(d):
    """The dtype's name; dyngrad's None stands for torch's bfloat16 (which dyngrad lacks)."""
    return "torch.bfloat16" if d is None else str(d)


# --- autocast ----------------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["cpu", "cuda", "mps", "xpu", "hpu", "cpu:0", "meta", "hip"])
def test_is_autocast_available(device):
    assert dyngrad.amp.is_autocast_available(device) == torch.amp.is_autocast_available(device)


@pytest.mark.parametrize("device", ["foo", "CPU", "cpu:x", "", 3])
def test_is_autocast_available_errors(device):
    check_error(lambda L: L.amp.is_autocast_available(device))


@pytest.mark.parametrize("kwargs", [
    dict(device_type="cpu", dtype="float16"),
    dict(device_type="cpu", dtype="float16", enabled=False),
    dict(device_type="cpu", dtype="float32"),
    dict(device_type="cpu", dtype="float64"),
    dict(device_type="cuda"),
    dict(device_type="cuda", enabled=False),
    dict(device_type="mps"),
    dict(device_type="cpu:0", dtype="float16"),
    dict(device_type="cpu", dtype="float16", cache_enabled=False),
], ids=str)
def test_autocast_state_inside_and_after(kwargs):
    def run(L):
        kw = dict(kwargs)
        if "dtype" in kw:
            kw["dtype"] = getattr(L, kw["dtype"])
        kind = kw["device_type"].split(":")[0]
        S = STATE[L]

        def body():
            ctx = L.autocast(**kw) if L is torch else L.amp.autocast(**kw)
            with ctx as entered:
                inside = (entered is ctx, ctx._enabled, S.is_autocast_enabled(kind),
                          _dtype_name(S.get_autocast_dtype(kind)), S.is_autocast_cache_enabled())
            return inside, S.is_autocast_enabled(kind), _dtype_name(S.get_autocast_dtype(kind))

        return _warned(body)

    assert run(dyngrad) == run(torch)


def test_autocast_default_cpu_dtype_is_bfloat16_which_dyngrad_lacks():
    """The deliberate difference: torch's default CPU autocast dtype is bfloat16; dyngrad has
    no bfloat16 and reports None (autocast is still enabled)."""
    assert torch.get_autocast_dtype("cpu") is torch.bfloat16
    assert dg_autocast.get_autocast_dtype("cpu") is None
    with torch.autocast("cpu") as th, dyngrad.amp.autocast("cpu") as dg:
        assert torch.is_autocast_enabled("cpu") is dg_autocast.is_autocast_enabled("cpu") is True
        assert th._enabled is dg._enabled is True


def test_ops_run_in_full_precision_under_autocast():
    """The deliberate difference: torch's autocast runs matmul in float16; dyngrad's in float32
    (closer to the float32 result, never further)."""
    a = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.float16):
        th = torch.from_numpy(a) @ torch.from_numpy(a)
    with dyngrad.amp.autocast("cpu", dtype=dyngrad.float16):
        dg = dyngrad.from_numpy(a) @ dyngrad.from_numpy(a)
    assert th.dtype == torch.float16
    assert dg.dtype == dyngrad.float32
    exact = a.astype(np.float64) @ a.astype(np.float64)
    assert np.abs(dg.numpy() - exact).max() <= np.abs(th.float().numpy() - exact).max()


def test_autocast_nested_disable_and_restore():
    def run(L):
        S = STATE[L]
        ac = L.autocast if L is torch else L.amp.autocast
        seen = []
        with ac("cpu", dtype=L.float16):
            seen.append(S.is_autocast_enabled("cpu"))
            with ac("cpu", enabled=False):
                seen.append(S.is_autocast_enabled("cpu"))
            seen.append(S.is_autocast_enabled("cpu"))
        seen.append(S.is_autocast_enabled("cpu"))
        return seen

    assert run(dyngrad) == run(torch) == [True, False, True, False]


def test_autocast_as_decorator():
    def run(L):
        S = STATE[L]
        ac = L.autocast if L is torch else L.amp.autocast

        @ac("cpu", dtype=L.float16)
        def f(x):
            """doc"""
            return S.is_autocast_enabled("cpu"), x

        return f(3), f.__name__, f.__doc__, S.is_autocast_enabled("cpu")

    assert run(dyngrad) == run(torch) == ((True, 3), "f", "doc", False)


def test_autocast_restores_on_exception():
    for L in (dyngrad, torch):
        ac = L.autocast if L is torch else L.amp.autocast
        with pytest.raises(KeyError), ac("cpu", dtype=L.float16):
            raise KeyError
        assert STATE[L].is_autocast_enabled("cpu") is False


@pytest.mark.parametrize("device", [1, "foo", "meta", "hip", "lazy"])
def test_autocast_bad_device(device):
    check_error(lambda L: L.autocast(device) if L is torch else L.amp.autocast(device))


@pytest.mark.parametrize("call", [
    lambda S, L: S.is_autocast_enabled(),
    lambda S, L: S.is_autocast_enabled("cpu"),
    lambda S, L: S.is_autocast_enabled("mps"),
    lambda S, L: _dtype_name(S.get_autocast_dtype("cuda")),
    lambda S, L: _dtype_name(S.get_autocast_dtype("hip")),
    lambda S, L: _dtype_name(S.get_autocast_dtype("xpu")),
    lambda S, L: S.is_autocast_cache_enabled(),
], ids=["enabled_default", "enabled_cpu", "enabled_mps", "dtype_cuda", "dtype_hip", "dtype_xpu",
        "cache"])
def test_state_queries(call):
    assert call(dg_autocast, dyngrad) == call(torch, torch)


@pytest.mark.parametrize("call", [
    lambda S, L: S.is_autocast_enabled(3),
    lambda S, L: S.is_autocast_enabled("meta"),
    lambda S, L: S.is_autocast_enabled("foo"),
    lambda S, L: S.set_autocast_enabled("cpu", 1),
    lambda S, L: S.set_autocast_dtype("cpu", 3),
    lambda S, L: S.get_autocast_dtype("meta"),
], ids=["enabled_int", "enabled_meta", "enabled_foo", "set_enabled_int", "set_dtype_int",
        "dtype_meta"])
def test_state_errors(call):
    check_error(lambda L: call(STATE[L], L))


def test_set_autocast_state_directly():
    def run(L):
        S = STATE[L]
        S.set_autocast_enabled("cpu", True)
        S.set_autocast_dtype("cpu", L.float16)
        out = S.is_autocast_enabled("cpu"), _dtype_name(S.get_autocast_dtype("cpu"))
        S.set_autocast_enabled("cpu", False)
        S.set_autocast_dtype("cpu", getattr(L, "bfloat16", None) or L.float16)
        return out

    try:
        assert run(dyngrad) == run(torch) == (True, "torch.float16")
    finally:
        dg_autocast._state.dtypes.clear()


# --- custom_fwd / custom_bwd -------------------------------------------------------------------
def _scaled_function(L, **fwd_kwargs):
    S = STATE[L]
    seen = {}

    class Scale(L.autograd.Function):
        @staticmethod
        @L.amp.custom_fwd(device_type="cpu", **fwd_kwargs)
        def forward(ctx, x, k):
            seen["fwd"] = (S.is_autocast_enabled("cpu"), str(x.dtype))
            return x * k

        @staticmethod
        @L.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd"] = (S.is_autocast_enabled("cpu"), _dtype_name(S.get_autocast_dtype("cpu")))
            return g * 3, None

    return Scale, seen


@pytest.mark.parametrize("cast", [False, True])
@pytest.mark.parametrize("autocast_on", [False, True])
def test_custom_fwd_bwd(cast, autocast_on):
    def run(L):
        Scale, seen = _scaled_function(L, **({"cast_inputs": L.float16} if cast else {}))
        ac = L.autocast if L is torch else L.amp.autocast
        x = L.tensor([1.0, 2.0], requires_grad=True)
        with ac("cpu", dtype=L.float16, enabled=autocast_on):
            y = Scale.apply(x, 3)
        y.sum().backward()
        return seen, str(y.dtype), x.grad.tolist()

    assert run(dyngrad) == run(torch)


def test_custom_fwd_device_type_checks():
    check_error(lambda L: L.amp.custom_fwd(lambda ctx: None, device_type=3))
    check_error(lambda L: L.amp.custom_bwd(lambda ctx: None, device_type=None))
    check_error(lambda L: L.amp.custom_fwd(lambda ctx: None))


# --- GradScaler, disabled: a pass-through ------------------------------------------------------
def _disabled(L):
    return L.amp.GradScaler("cpu", enabled=False)


def test_disabled_scaler_passes_everything_through():
    def run(L):
        s = _disabled(L)
        x = L.tensor([1.0, 2.0], requires_grad=True)
        opt = L.optim.SGD([x], lr=0.1)
        (x * x).sum().backward()
        out = [s.scale(x) is x, s.scale([x])[0] is x, s.scale(3.0), s.get_scale(), s.is_enabled(),
               s.state_dict(), s.load_state_dict({}), s.unscale_(opt), x.grad.tolist(),
               s.step(opt), x.tolist(), s.update(), s.update(2.0), s._get_growth_tracker(),
               s.step(opt, closure=lambda: 7.0), s.__getstate__()]
        return out

    assert run(dyngrad) == run(torch)


@pytest.mark.parametrize("name", ["get_growth_factor", "get_backoff_factor",
                                  "get_growth_interval"])
def test_disabled_scaler_has_no_factors(name):
    check_error(lambda L: getattr(_disabled(L), name)())


def test_default_scaler_is_cuda_and_disabled_with_a_warning():
    def run(L):
        s, caught = _warned(lambda: L.amp.GradScaler())
        return caught, s.is_enabled(), s.get_scale(), s.state_dict()

    assert run(dyngrad) == run(torch)
    assert run(dyngrad)[1] is False


# --- GradScaler, enabled on the CPU ------------------------------------------------------------
def _train(L, steps=9, inf_at=(3, 4), **scaler_kwargs):
    """A tiny regression trained with a GradScaler; gradients forced to inf at `inf_at` steps.
    Returns, per step, the scale, the growth tracker and the weights."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    xs = rng.standard_normal((steps, 4, 3)).astype(np.float32)
    model = L.nn.Linear(3, 2, bias=False)
    with L.no_grad():
        model.weight.copy_(L.from_numpy(w0.T.copy()))
    opt = L.optim.SGD(model.parameters(), lr=0.05)
    scaler = L.amp.GradScaler("cpu", **scaler_kwargs)
    trace = []
    for i in range(steps):
        opt.zero_grad()
        loss = model(L.from_numpy(xs[i])).pow(2).mean()
        scaler.scale(loss).backward()
        if i in inf_at:
            model.weight.grad[0, 0] = float("inf")
        ret = scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), ret,
                      model.weight.detach().numpy().copy()))
    return trace, scaler.state_dict()


@pytest.mark.parametrize("kwargs", [dict(init_scale=1024.0, growth_interval=2),
                                    dict(init_scale=2.0**16, growth_factor=3.0,
                                         backoff_factor=0.25, growth_interval=3),
                                    dict()], ids=["grow_every_2", "custom_factors", "defaults"])
def test_enabled_scaler_training_matches_torch(kwargs):
    dg, dg_state = _train(dyngrad, **kwargs)
    th, th_state = _train(torch, **kwargs)
    assert dg_state == th_state
    for (ds, dt, dr, dw), (ts, tt, tr, tw) in zip(dg, th, strict=True):
        assert (ds, dt, dr) == (ts, tt, tr)
        np.testing.assert_allclose(dw, tw, rtol=1e-6, atol=1e-7)


def test_enabled_scaler_skips_the_step_with_inf_gradients():
    trace, _ = _train(dyngrad, steps=3, inf_at=(1,), init_scale=8.0)
    assert np.array_equal(trace[0][3], trace[1][3])  # the step after the inf was skipped
    assert trace[1][0] == 4.0  # and the scale backed off


def test_enabled_scaler_scale_and_unscale():
    def run(L):
        s = L.amp.GradScaler("cpu", init_scale=4.0)
        x = L.tensor([1.0, 2.0], requires_grad=True)
        opt = L.optim.SGD([x], lr=0.1)
        out = [s.get_scale(), s.state_dict()]
        y = s.scale((x * x).sum())
        out += [y.item(), str(s._scale.dtype), str(s._growth_tracker.dtype)]
        y.backward()
        out.append(x.grad.tolist())
        s.unscale_(opt)
        out.append(x.grad.tolist())
        many = s.scale([L.ones(1), (L.ones(1) * 2, L.ones(1, dtype=L.float64))])
        out.append([many[0].tolist(), [t.tolist() for t in many[1]], str(many[1][1].dtype),
                    type(many[1]).__name__])
        out.append(s.scale(L.ones(1, dtype=L.float16) * 2.0**15).tolist())
        out.append(list(t.tolist() for t in s.scale(iter([L.ones(1)]))))
        return out

    assert run(dyngrad) == run(torch)


ENABLED_ERRORS = {
    "unscale_twice": lambda L, s, opt: (s.unscale_(opt), s.unscale_(opt)),
    "unscale_after_step": lambda L, s, opt: (s.step(opt), s.unscale_(opt)),
    "step_twice": lambda L, s, opt: (s.step(opt), s.step(opt)),
    "closure": lambda L, s, opt: s.step(opt, closure=lambda: 1.0),
    "scale_float": lambda L, s, opt: s.scale(3.0),
    "load_empty": lambda L, s, opt: s.load_state_dict({}),
    "update_bad_tensor": lambda L, s, opt: s.update(L.tensor([4.0, 5.0])),
    "update_grad_tensor": lambda L, s, opt: s.update(L.tensor(4.0, requires_grad=True)),
    "update_str": lambda L, s, opt: s.update("a"),
    "update_int": lambda L, s, opt: s.update(3),
    "update_before_steps": lambda L, s, opt: s.update(),
    "pickle_mid_iteration": lambda L, s, opt: (s.unscale_(opt), pickle.dumps(s)),
}


@pytest.mark.parametrize("name", ENABLED_ERRORS)
def test_enabled_scaler_errors(name):
    def run(L):
        s = L.amp.GradScaler("cpu")
        x = L.tensor([1.0, 2.0], requires_grad=True)
        opt = L.optim.SGD([x], lr=0.1)
        s.scale((x * x).sum()).backward()
        ENABLED_ERRORS[name](L, s, opt)

    check_error(run)


@pytest.mark.parametrize("call", ["unscale_", "step", "update"])
def test_enabled_scaler_before_scale(call):
    def run(L):
        s = L.amp.GradScaler("cpu")
        opt = L.optim.SGD([L.ones(1, requires_grad=True)], lr=0.1)
        return getattr(s, call)(opt) if call != "update" else s.update()

    check_error(run)


def test_enabled_scaler_rejects_fp16_gradients():
    def run(L):
        s = L.amp.GradScaler("cpu")
        x = L.ones(2, dtype=L.float16, requires_grad=True)
        s.scale(L.ones(1))
        x.grad = L.ones(2, dtype=L.float16)
        s.unscale_(L.optim.SGD([x], lr=0.1))

    check_error(run)


@pytest.mark.parametrize("kwargs", [dict(growth_factor=1.0), dict(backoff_factor=1.0),
                                    dict(growth_factor=0.5, enabled=False)])
def test_scaler_factor_checks(kwargs):
    if kwargs.get("enabled") is False:
        assert (_disabled(dyngrad).is_enabled()
                is dyngrad.amp.GradScaler("cpu", **kwargs).is_enabled() is False)
        return
    check_error(lambda L: L.amp.GradScaler("cpu", **kwargs))


def test_scaler_update_to_a_new_scale():
    def run(L):
        s = L.amp.GradScaler("cpu")
        s.scale(L.ones(1))
        s.update(3.0)
        first = s.get_scale()
        s.update(L.tensor(5.0))
        return first, s.get_scale(), s.state_dict()

    assert run(dyngrad) == run(torch)


def test_scaler_state_dict_roundtrip_and_pickle():
    def run(L):
        s = L.amp.GradScaler("cpu", init_scale=16.0, growth_interval=5)
        s.scale(L.ones(1))
        s.update(8.0)
        t = L.amp.GradScaler("cpu")
        t.load_state_dict(s.state_dict())
        u = pickle.loads(pickle.dumps(s))
        return t.state_dict(), u.state_dict(), u.get_scale(), sorted(s.__getstate__())

    assert run(dyngrad) == run(torch)


def test_scaler_factor_setters():
    def run(L):
        s = L.amp.GradScaler("cpu")
        s.set_growth_factor(4.0)
        s.set_backoff_factor(0.125)
        s.set_growth_interval(7)
        return s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()

    assert run(dyngrad) == run(torch) == (4.0, 0.125, 7)
