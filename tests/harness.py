"""The shared differential harness: run the same code on dyngrad and on PyTorch, compare all.

`check_op(fn, *inputs, ...)` builds identical inputs in both libraries (from NumPy arrays), runs
`fn` and compares, for every output tensor: values, dtype, shape, `requires_grad` and the
`grad_fn` class name. Then it compares first-order gradients (a random `grad_output`, the same on
both sides), second-order gradients (`create_graph=True`, then the gradient of
`sum(grad_i * v_i)` with respect to the inputs *and* the grad_outputs), and finally the forward
and first-order gradients again with non-contiguous inputs. `fn` is one of:

* a callable used for both (operators and methods: `lambda x, y: x * y + x.exp()`);
* a pair `(dyngrad_fn, torch_fn)`, or the two callables as the first two arguments
  (`check_op(dyngrad.exp, torch.exp, a)`);
* a name: `"exp"` calls `lib.exp(*inputs)`, `".exp"` calls the method `inputs[0].exp(*rest)`;
* `with_lib(lambda lib, x: lib.exp(x))`, when the code must spell the module.

`inputs` are NumPy arrays (floating ones are cast to each of `dtypes`; others are kept) or plain
Python values passed as they are. Floating inputs require grad unless `requires_grad=` says
otherwise (one bool per input).

`check_error(fn, torch_fn=None)` checks both raise the same exception type with the same message
(`fn(lib)` is called with each module when `torch_fn` is None). `fd_check` and `fd_gradgrad`
compare dyngrad's analytical Jacobian with central finite differences in float64, independently
of torch and of `dyngrad.autograd.gradcheck`.

Tolerances (rtol, atol), chosen as torch.testing's defaults for forward values and ten times
looser in rtol for gradients (different but equally valid summation orders and formulas):

    dtype       forward (rtol, atol)   gradients (rtol, atol)
    float16     1e-3,   1e-5           1e-2,   1e-3
    float32     1.3e-6, 1e-5           1.3e-5, 1e-5
    float64     1e-7,   1e-7           1e-6,   1e-7
    complex*    as the float of the same width
    integer / bool: exact

Pass `rtol=` / `atol=` to override all of them for one check. NaNs must be in the same places.
Gradients are compared strictly at first order (`None` on one side and zeros on the other is a
failure: users see `.grad is None`); at second order `None` and zeros count as equal, since which
one comes out depends on how each library happens to write its backward formulas.
Finite differences use gradcheck's defaults: eps 1e-6, atol 1e-5, rtol 1e-3.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import torch

import dyngrad

FLOATS = (np.float32, np.float64)
_FWD_TOL = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}
_GRAD_TOL = {"float16": (1e-2, 1e-3), "float32": (1.3e-5, 1e-5), "float64": (1e-6, 1e-7)}
_REAL = {"complex64": "float32", "complex128": "float64"}
_rng = np.random.default_rng(20240521)


def reseed(key: str) -> None:
    """Restart `array()`'s stream from `key` (conftest passes the test's id: each test draws the
    same inputs whatever ran before it)."""
    global _rng
    _rng = np.random.default_rng(zlib.crc32(key.encode()))


# --- inputs ------------------------------------------------------------------------------------
def array(*shape, low=-2.0, high=2.0, dtype=np.float64, away_from_zero=0.0, rng=None):
    """A random array for tests; `away_from_zero` keeps |values| above it (for 1/x, log, ...)."""
    rng = _rng if rng is None else rng
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    a = rng.uniform(low, high, size=shape)
    if away_from_zero:
        a = np.where(np.abs(a) < away_from_zero, np.copysign(away_from_zero, a), a)
    if dtype.kind == "c":
        a = a + 1j * rng.uniform(low, high, size=shape)
    return a.astype(dtype)


def copy_state(dst, src) -> None:
    """Copy torch module `src`'s parameters and buffers into dyngrad module `dst` (via NumPy)."""
    dst.load_state_dict({k: dyngrad.from_numpy(v.detach().numpy().copy())
                         for k, v in src.state_dict().items()})


def module_pair(cls: str, *args, **kwargs):
    """`nn.<cls>(*args, **kwargs)` in both libraries (float64), dyngrad's holding torch's
    weights: (dyngrad module, torch module)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(torch.nn, cls)(*args, **kwargs).double()
        d = getattr(dyngrad.nn, cls)(*args, **kwargs).double()
    copy_state(d, t)
    return d, t


def with_lib(f):
    """`f(lib, *tensors)` as the (dyngrad, torch) pair check_op accepts."""
    return functools.partial(f, dyngrad), functools.partial(f, torch)


def _fns(fn, inputs):
    """(dyngrad_fn, torch_fn, remaining inputs) from check_op's flexible first arguments."""
    if isinstance(fn, str):
        if fn.startswith("."):
            name = fn[1:]

            def call(*ts, **kw):
                return getattr(ts[0], name)(*ts[1:], **kw)

            return call, call, inputs
        return getattr(dyngrad, fn), getattr(torch, fn), inputs
    if isinstance(fn, tuple):
        return fn[0], fn[1], inputs
    if inputs and callable(inputs[0]) and not isinstance(inputs[0], np.ndarray):
        return fn, inputs[0], inputs[1:]
    return fn, fn, inputs


def _layout(a: np.ndarray, layout: str) -> np.ndarray:
    """`a`'s values in fresh memory, laid out contiguously or as a strided / transposed view."""
    if layout == "strided" and a.ndim >= 1:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    if layout == "transposed" and a.ndim >= 2:
        return np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    return a.copy()


def _build(lib, inputs, dtype, requires_grad, layout):
    """The inputs as `lib` tensors (floating arrays cast to `dtype`), plus the ones needing grad."""
    out, leaves = [], []
    for i, v in enumerate(inputs):
        if not isinstance(v, np.ndarray):
            out.append(v)
            continue
        if dtype is not None and v.dtype.kind in "fc":
            v = v.astype(np.dtype(dtype) if v.dtype.kind == "f" else _complex_of(dtype))
        t = lib.from_numpy(_layout(v, layout))
        rg = requires_grad[i] if requires_grad is not None else v.dtype.kind in "fc"
        if rg:
            t.requires_grad_(True)
            leaves.append(t)
        out.append(t)
    return out, leaves


def _complex_of(dtype):
    return np.complex64 if np.dtype(dtype) == np.float32 else np.complex128


# --- comparisons -------------------------------------------------------------------------------
def _is_tensor(x) -> bool:
    return isinstance(x, dyngrad.Tensor | torch.Tensor)


def _flatten(x) -> list:
    if isinstance(x, tuple | list) and not isinstance(x, torch.Size | dyngrad.Size):
        return [y for item in x for y in _flatten(item)]
    return [x]


def _tol(dtype_name: str, table, rtol, atol) -> tuple:
    r, a = table.get(_REAL.get(dtype_name, dtype_name), (0.0, 0.0))
    return (r if rtol is None else rtol), (a if atol is None else atol)


def _values(t) -> np.ndarray:
    t = t.detach()
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():  # torch's symbolic zero gradient (e.g. second order of l1_loss)
            return np.zeros(tuple(t.shape), dtype=torch.empty(0, dtype=t.dtype).numpy().dtype)
        t = t.resolve_conj().resolve_neg()
    return np.asarray(t.numpy())


def assert_same_values(dg, th, what: str, table=None, rtol=None, atol=None) -> None:
    """dyngrad tensor `dg` has torch tensor `th`'s values, shape and dtype."""
    assert str(dg.dtype) == str(th.dtype), f"{what}: dtype {dg.dtype} != torch's {th.dtype}"
    assert tuple(dg.shape) == tuple(th.shape), f"{what}: shape {dg.shape} != torch's {th.shape}"
    a, b = _values(dg), _values(th)
    if a.dtype.kind in "fc":
        r, t = _tol(str(th.dtype).removeprefix("torch."), table or _FWD_TOL, rtol, atol)
        np.testing.assert_allclose(a, b, rtol=r, atol=t, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def _grad_fn_name(t):
    fn = t.grad_fn
    return None if fn is None else type(fn).__name__


def assert_same_tensor(dg, th, what: str, rtol=None, atol=None) -> None:
    """Values, dtype, shape, requires_grad and grad_fn name all as in torch."""
    assert_same_values(dg, th, what, rtol=rtol, atol=atol)
    assert dg.requires_grad == th.requires_grad, (
        f"{what}: requires_grad {dg.requires_grad} != torch's {th.requires_grad}"
    )
    assert _grad_fn_name(dg) == _grad_fn_name(th), (
        f"{what}: grad_fn {_grad_fn_name(dg)} != torch's {_grad_fn_name(th)}"
    )


def assert_same_outputs(dg_out, th_out, what: str, rtol=None, atol=None) -> None:
    dgs, ths = _flatten(dg_out), _flatten(th_out)
    assert len(dgs) == len(ths), f"{what}: {len(dgs)} outputs, torch has {len(ths)}"
    for i, (d, t) in enumerate(zip(dgs, ths, strict=True)):
        label = f"{what} output {i}"
        if _is_tensor(t):
            assert isinstance(d, dyngrad.Tensor), f"{label}: {type(d).__name__} is not a Tensor"
            assert_same_tensor(d, t, label, rtol, atol)
        elif isinstance(t, torch.Size):
            assert tuple(d) == tuple(t), f"{label}: {d} != torch's {t}"
        else:
            assert d == t or (d != d and t != t), f"{label}: {d!r} != torch's {t!r}"


def _assert_same_grads(dg_grads, th_grads, what, strict, rtol, atol) -> None:
    for i, (d, t) in enumerate(zip(dg_grads, th_grads, strict=True)):
        label = f"{what} {i}"
        if d is None or t is None:
            if strict:
                assert d is None and t is None, (
                    f"{label}: dyngrad gives {'None' if d is None else 'a tensor'}, torch gives "
                    f"{'None' if t is None else 'a tensor'}"
                )
                continue
            if d is None and t is None:
                continue
            present = d if t is None else t
            assert not np.any(_values(present)), f"{label}: None on one side, nonzero on the other"
            continue
        assert_same_values(d, t, label, _GRAD_TOL, rtol, atol)


def _differentiable(outs) -> list:
    return [o for o in _flatten(outs) if _is_tensor(o) and o.requires_grad]


# --- check_op ----------------------------------------------------------------------------------
def check_op(fn, *inputs, kwargs=None, dtypes=FLOATS, grad=True, gradgrad=True, noncontig=True,
             requires_grad=None, rtol=None, atol=None, seed=0) -> None:
    """Run `fn` on dyngrad and torch with the same inputs and compare everything (module doc)."""
    dg_fn, th_fn, inputs = _fns(fn, inputs)
    kwargs = kwargs or {}
    has_float = any(isinstance(v, np.ndarray) and v.dtype.kind in "fc" for v in inputs)
    for dtype in (dtypes if has_float and dtypes else (None,)):
        tag = f"[{np.dtype(dtype).name}]" if dtype is not None else ""
        arrays = [v for v in inputs if isinstance(v, np.ndarray) and v.size > 1]
        layouts = ["contiguous"]
        if noncontig and arrays:
            layouts.append("strided")
            if any(a.ndim >= 2 for a in arrays):
                layouts.append("transposed")
        for layout in layouts:
            deep = layout == "contiguous"
            _check_once(dg_fn, th_fn, inputs, kwargs, dtype, requires_grad, layout,
                        grad, gradgrad and deep, rtol, atol, seed, f"{tag}[{layout}]")


def _check_once(dg_fn, th_fn, inputs, kwargs, dtype, requires_grad, layout, grad, gradgrad,
                rtol, atol, seed, tag) -> None:
    dg_in, dg_leaves = _build(dyngrad, inputs, dtype, requires_grad, layout)
    th_in, th_leaves = _build(torch, inputs, dtype, requires_grad, layout)
    th_out = th_fn(*th_in, **kwargs)
    dg_out = dg_fn(*dg_in, **kwargs)
    assert_same_outputs(dg_out, th_out, f"forward{tag}", rtol, atol)
    th_outs = _differentiable(th_out)
    if not grad or not th_outs or not th_leaves:
        return
    dg_outs = _differentiable(dg_out)
    rng = np.random.default_rng(seed)
    gos = [array(*o.shape, dtype=_values(o).dtype, rng=rng) for o in th_outs]
    th_go = [torch.from_numpy(g.copy()).requires_grad_(gradgrad) for g in gos]
    dg_go = [dyngrad.from_numpy(g.copy()).requires_grad_(gradgrad) for g in gos]
    th_g = torch.autograd.grad(th_outs, th_leaves, th_go, allow_unused=True,
                               create_graph=gradgrad)
    dg_g = dyngrad.autograd.grad(dg_outs, dg_leaves, dg_go, allow_unused=True,
                                 create_graph=gradgrad)
    _assert_same_grads(dg_g, th_g, f"grad{tag} of input", True, rtol, atol)
    if gradgrad:
        _check_gradgrad(dg_g, th_g, dg_leaves + dg_go, th_leaves + th_go, rng, tag, rtol, atol)


def _check_gradgrad(dg_g, th_g, dg_wrt, th_wrt, rng, tag, rtol, atol) -> None:
    """Compare the gradients of sum_i sum(grad_i * v_i) (the second-order check)."""
    pairs = [(d, t) for d, t in zip(dg_g, th_g, strict=True) if t is not None and t.requires_grad]
    if not pairs:
        return
    for d, _ in pairs:
        assert d is not None and d.requires_grad, (
            f"gradgrad{tag}: a first-order gradient records no graph under create_graph=True"
        )
    vs = [array(*t.shape, dtype=_values(t).dtype, rng=rng) for _, t in pairs]
    # grad_outputs v give the gradient of sum_i sum(grad_i * v_i), with no reduction op needed.
    th_gg = torch.autograd.grad([t for _, t in pairs], th_wrt,
                                [torch.from_numpy(v) for v in vs], allow_unused=True)
    dg_gg = dyngrad.autograd.grad([d for d, _ in pairs], dg_wrt,
                                  [dyngrad.from_numpy(v) for v in vs], allow_unused=True)
    _assert_same_grads(dg_gg, th_gg, f"gradgrad{tag} of input", False, rtol, atol)


# --- errors ------------------------------------------------------------------------------------
def _raised(fn, *args):
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - any exception is a result here
        return e
    return None


def check_error(fn, torch_fn=None, *, match: str = "exact"):
    """Both raise the same exception type with the same message; returns the two exceptions.

    `match`: "exact" (the default), "prefix" (dyngrad may append to torch's message, as it does
    for hints torch lacks) or "type" (messages not compared).
    """
    if torch_fn is None:
        dg_exc, th_exc = _raised(fn, dyngrad), _raised(fn, torch)
    else:
        dg_exc, th_exc = _raised(fn), _raised(torch_fn)
    assert th_exc is not None, "torch raised nothing"
    assert dg_exc is not None, f"dyngrad raised nothing; torch raised {th_exc!r}"
    assert type(dg_exc).__name__ == type(th_exc).__name__, (
        f"dyngrad raised {type(dg_exc).__name__}: {dg_exc}\ntorch raised "
        f"{type(th_exc).__name__}: {th_exc}"
    )
    dg_msg, th_msg = str(dg_exc), str(th_exc)
    if match == "exact":
        assert dg_msg == th_msg, f"message differs:\ndyngrad: {dg_msg}\ntorch:   {th_msg}"
    elif match == "prefix":
        assert dg_msg.startswith(th_msg), f"message differs:\ndyngrad: {dg_msg}\ntorch:   {th_msg}"
    return dg_exc, th_exc


def check_same_outcome(fn, what, match: str = "exact") -> None:
    """`fn(lib)` with each library either returns the same outputs or raises the same exception
    type (and message, per `match` as in check_error; a C++ stack trace PyTorch appends to a
    message is not compared). For random programs, where either outcome may be the right one."""
    results = {}
    for lib in (dyngrad, torch):
        try:
            results[lib] = fn(lib), None
        except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
            results[lib] = None, e
    (dg, dg_exc), (th, th_exc) = results[dyngrad], results[torch]
    assert (dg_exc is None) == (th_exc is None), f"{what}: dyngrad {dg_exc!r}, torch {th_exc!r}"
    if th_exc is None:
        if isinstance(th, torch.Size):
            assert tuple(dg) == tuple(th), what
        else:
            assert_same_outputs(dg, th, str(what))
        return
    assert type(dg_exc) is type(th_exc), f"{what}: dyngrad {dg_exc!r}, torch {th_exc!r}"
    th_msg = str(th_exc).split("\nException raised from")[0]
    if match == "exact":
        assert str(dg_exc) == th_msg, f"{what}: dyngrad {dg_exc!r}, torch {th_msg!r}"


# --- finite differences (float64, dyngrad only) ------------------------------------------------
def _outputs(fn, arrays, requires_grad: bool):
    ts = [dyngrad.from_numpy(a.copy()).requires_grad_(requires_grad) for a in arrays]
    out = fn(*ts)
    outs = list(out) if isinstance(out, tuple | list) else [out]
    return ts, outs


def numerical_jacobian(fn, arrays, eps: float = 1e-6) -> list:
    """Central differences: J[k][i] has shape (outputs[k].size, arrays[i].size)."""
    arrays = [np.asarray(a, np.float64) for a in arrays]
    with dyngrad.no_grad():
        _, base = _outputs(fn, arrays, False)
    jac = [[np.zeros((0 if o is None else o.numel(), a.size)) for a in arrays] for o in base]
    for i, a in enumerate(arrays):
        flat = a.reshape(-1)
        for j in range(a.size):
            orig = flat[j]
            values = []
            for step in (eps, -eps):
                flat[j] = orig + step
                with dyngrad.no_grad():
                    _, outs = _outputs(fn, arrays, False)
                values.append(outs)
            flat[j] = orig
            for k, (hi, lo) in enumerate(zip(*values, strict=True)):
                if hi is not None:
                    jac[k][i][:, j] = (_values(hi) - _values(lo)).reshape(-1) / (2 * eps)
    return jac


def analytical_jacobian(fn, arrays) -> list:
    """dyngrad's Jacobian, one backward pass per output element; same layout as numerical."""
    arrays = [np.asarray(a, np.float64) for a in arrays]
    ts, outs = _outputs(fn, arrays, True)
    jac = [[np.zeros((0 if o is None else o.numel(), a.size)) for a in arrays] for o in outs]
    for k, o in enumerate(outs):
        if o is None or not o.requires_grad:
            continue
        for r in range(o.numel()):
            onehot = np.zeros(o.numel())
            onehot[r] = 1.0
            go = dyngrad.from_numpy(onehot.reshape(tuple(o.shape)))
            grads = dyngrad.autograd.grad(o, ts, go, retain_graph=True, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    jac[k][i][r] = _values(g).reshape(-1)
    return jac


def fd_check(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3) -> None:
    """dyngrad's gradients of `fn` (tensors -> tensor or tuple) match finite differences."""
    num = numerical_jacobian(fn, arrays, eps)
    ana = analytical_jacobian(fn, arrays)
    for k, (n_row, a_row) in enumerate(zip(num, ana, strict=True)):
        for i, (n, a) in enumerate(zip(n_row, a_row, strict=True)):
            np.testing.assert_allclose(a, n, rtol=rtol, atol=atol,
                                       err_msg=f"Jacobian of output {k} w.r.t. input {i}")


def fd_gradgrad(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0) -> None:
    """Second order: the first-order gradients (as functions of inputs and grad_output) pass
    fd_check, so `create_graph=True` differentiates correctly."""
    arrays = [np.asarray(a, np.float64) for a in arrays]
    with dyngrad.no_grad():
        out = fn(*[dyngrad.from_numpy(a.copy()) for a in arrays])
    go = array(*out.shape, rng=np.random.default_rng(seed))
    n = len(arrays)

    def first_order(*ts):
        g = dyngrad.autograd.grad(fn(*ts[:n]), ts[:n], ts[n], create_graph=True,
                                  allow_unused=True)
        return tuple(
            dyngrad.from_numpy(np.zeros(tuple(t.shape))) if gi is None else gi
            for gi, t in zip(g, ts, strict=False)
        )

    def first_order_nograd_safe(*ts):
        with dyngrad.enable_grad():
            return first_order(*(t.detach().requires_grad_(True) for t in ts))

    num = numerical_jacobian(first_order_nograd_safe, [*arrays, go], eps)
    ana = analytical_jacobian(first_order, [*arrays, go])
    for k, (n_row, a_row) in enumerate(zip(num, ana, strict=True)):
        for i, (nj, aj) in enumerate(zip(n_row, a_row, strict=True)):
            np.testing.assert_allclose(aj, nj, rtol=rtol, atol=atol,
                                       err_msg=f"second order: grad {k} w.r.t. input {i}")
