"""`torch.autograd.forward_ad`: forward-mode AD with dual tensors.

Inside `dual_level()`, `make_dual(x, t)` gives a tensor carrying a *tangent* t; every op applied to
it gives an output with tangent J·t, read back with `unpack_dual`. A tangent lives in the tensor's
`_x["tangent"]`, tagged with the level's generation, so leaving the level drops every tangent at
once without visiting the tensors.

While a level is open, `record()` (ops/_core.py) hands each op here. An op whose node defines
`jvp` uses that forward formula (needed only where PyTorch's tangent is not the transpose of its
backward formula, as for eigh and cholesky with a non-symmetric tangent). For every other op the
output tangent comes from the op's backward formula by the double-vjp trick: the formula's
vector-Jacobian product `v -> J^T v` is linear in v, so differentiating `<J^T v, t>` with
respect to v gives `J t`. This runs the formula on tensors with a dummy `v`
(as `create_graph=True` does), then one small backward. It costs a few times an op's backward,
but every op that can be backpropagated is automatically forward-differentiable, and when an input
requires grad the tangent records a graph too (reverse-over-forward works). Complex tensors need
no special case: backward formulas follow PyTorch's conjugate-Wirtinger convention, under which
this transposition gives J t for holomorphic and non-holomorphic ops alike.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd import grad_mode
from dyngrad.autograd.node import Node, SavedOutput, engine_state, link


class _State:
    """Module-wide, as PyTorch's levels are. `active` is the one flag `record()` checks."""

    level = -1  # the open dual level, -1 when none
    enabled = True  # False inside a custom Function's forward/jvp and while computing a tangent
    active = False  # level >= 0 and enabled
    gen = 0  # bumped on entering and leaving a level: older tangents are stale


state = _State()


def _refresh() -> None:
    state.active = state.level >= 0 and state.enabled


class disabled:
    """Context manager: ops inside compute no tangents (PyTorch's forward-grad mode off)."""

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = False
        state.active = False

    def __exit__(self, *exc):
        state.enabled = self.prev
        _refresh()


# --- public API --------------------------------------------------------------------------------
def enter_dual_level() -> int:
    """Open the forward-AD level (only one at a time, as in PyTorch) and return its index."""
    if state.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.level = 0
    state.gen += 1
    _refresh()
    return 0


def exit_dual_level(*, level=None) -> None:
    """Close the level: every tangent made inside it is dropped."""
    if level is None:
        level = state.level
    if level != state.level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This "
            "is not supported."
        )
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    state.level = -1
    state.gen += 1
    _refresh()


class dual_level:
    """Context manager (and decorator) in which forward-mode AD runs."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` that carries `tangent` (same size) for forward-mode AD."""
    if level is None:
        level = state.level
    if level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}"
        )
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(
            f"Expected tangent to be floating point or complex, but got: {tangent.dtype}"
        )
    if level != state.level:
        raise RuntimeError("Invalid level given to _make_dual")
    if tangent_of(tensor) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the "
            f"same level {level} is not supported."
        )
    with disabled():
        out = tensor.view(tensor._data.shape)
    set_tangent(out, tangent)
    return out


class UnpackedDualTensor(NamedTuple):
    """What `unpack_dual` returns: the primal (a view) and the tangent (or None)."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor, *, level=None) -> UnpackedDualTensor:
    """The primal of a dual tensor (a view without tangent) and its tangent."""
    if level is None:
        level = state.level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(
            "_unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
            f"{type(tensor).__name__}"
        )
    from dyngrad.ops._core import record
    from dyngrad.ops.shape import as_view

    with disabled():
        primal = as_view(record(Identity, tensor._data, (tensor,)), tensor, _same)
    return UnpackedDualTensor(primal, tangent_of(tensor) if level == state.level else None)


def _same(a):
    return a


class Identity(Node):
    """The history of `unpack_dual(...).primal` (PyTorch's node of that name)."""

    def backward(self, grad):
        return grad


# --- tangents on tensors -----------------------------------------------------------------------
def tangent_of(t: Tensor):
    """t's tangent at the open level, or None (also while forward AD is disabled).

    A view's tangent is the same view of its base's tangent when the base has one, so an
    in-place write through either is seen by both (as in PyTorch)."""
    if not state.active:
        return None
    view = t._view
    if view is not None:
        base_tangent = _own_tangent(view.base)
        if base_tangent is not None:
            with disabled():
                return view.fn(base_tangent)
    return _own_tangent(t)


def _own_tangent(t: Tensor):
    x = t._x
    if x is None:
        return None
    entry = x.get("tangent")
    if entry is None or entry[0] != state.gen:
        return None
    return entry[1]


def set_tangent(t: Tensor, tangent) -> None:
    """Attach a tangent to t, checking its size as PyTorch does."""
    if tangent._data.shape != t._data.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original "
            "Tensor, this is not supported. Tensor is of size "
            f"{list(t._data.shape)} while the given forward gradient is of size "
            f"{list(tangent._data.shape)}."
        )
    t._extra()["tangent"] = (state.gen, tangent)


def input_tangents(args):
    """The tangents of `args` (None for non-duals), or None when no arg has one."""
    if not state.active:
        return None
    tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    return tangents if any(t is not None for t in tangents) else None


def share_tangent(src: Tensor, dst: Tensor) -> None:
    """Give dst the tangent of src (an alias of it): in-place ops compute on such aliases."""
    tangent = tangent_of(src)
    if tangent is not None:
        dst._extra()["tangent"] = (state.gen, tangent)


def take_tangent(t: Tensor, result: Tensor) -> None:
    """After an in-place op wrote `result` into t, t's tangent is the result's; through a view,
    the result's tangent is written into the view's region of the base's tangent."""
    tangent = tangent_of(result)
    if t._x is not None:
        t._x.pop("tangent", None)
    view = t._view
    if view is None:
        if tangent is not None:
            t._extra()["tangent"] = (state.gen, tangent)
        return
    base = view.base
    base_tangent = _own_tangent(base)
    if tangent is None and base_tangent is None:
        return
    with disabled():
        if base_tangent is None:
            new = Tensor._make(_zeros_batched_like(tangent._data, base._data))
        elif tangent is not None and _batched_further(tangent._data, base_tangent._data):
            new = base_tangent + Tensor._make(_zeros_batched_like(tangent._data, base._data))
        else:
            new = base_tangent.clone()
        region = view.fn(new)
        if tangent is None:
            region.zero_()
        else:
            region.copy_(tangent)
    base._extra()["tangent"] = (state.gen, new)


def _batched_further(tangent, base_tangent) -> bool:
    """Whether `tangent` is batched at a vmap level that `base_tangent` is not (under
    vmap(jacfwd(f)), `y = x * 1; y[1:3] = x[:2] ** 2`: y's tangent, from jacfwd's basis, is not
    batched at the outer vmap's level, the written one is): the base's tangent is then widened
    to those levels before the write, as PyTorch computes it."""
    if type(tangent) is xp.ndarray:
        return False
    from dyngrad.func._batched import levels

    return not levels(tangent) <= levels(base_tangent)


def _zeros_batched_like(tangent, base):
    """Zeros of base's shape and dtype, batched as `tangent` is under vmap (PyTorch's
    `_new_zeros_with_same_feature_meta`): the tangent a base without one gets when a tangent is
    written into a view of it. Under jacfwd the written tangent is batched at jacfwd's level (and
    at jacrev's, for the backward formulas of views, which write a gradient into a region of fresh
    zeros, run on tensors by jacfwd(jacrev(f))); plain zeros would refuse the batched write."""
    if type(tangent) is xp.ndarray:
        return xp.zeros(base.shape, base.dtype)
    return xp.zeros_like(tangent, dtype=base.dtype, shape=base.shape)


# --- the hook in record(): tangents by the double-vjp trick ------------------------------------
def record(record_fn, cls, data, inputs: tuple, save: tuple, attrs: dict, multi: bool = False,
           differentiable=None, materialize: bool = True):
    """`record_fn(...)` (record or record_multi) with forward AD off; then the outputs' tangents."""
    tangents = [tangent_of(t) if isinstance(t, Tensor) else None for t in inputs]
    with disabled():
        if multi:
            outs = record_fn(cls, data, inputs, save, differentiable, materialize, **attrs)
        else:
            outs = record_fn(cls, data, inputs, save, **attrs)
        if any(t is not None for t in tangents):
            group = outs if multi else (outs,)
            mask = [differentiable is None or differentiable[i] for i in range(len(group))]
            results = _jvp(cls, group, mask, inputs, save, attrs, tangents)
            for o, tangent in zip(group, results, strict=True):
                if tangent is not None:
                    o._extra()["tangent"] = (state.gen, tangent)
                    _give_saved_output(o)
    return outs


def _give_saved_output(out: Tensor) -> None:
    """If out's node saved out itself (exp, tanh, ...), the saved copy carries the tangent too:
    a backward formula run under forward AD (jacfwd of jacrev) differentiates through it."""
    node = out._grad_fn
    for item in (node._saved or ()) if node is not None else ():
        if type(item) is SavedOutput and item.data is out._data:
            item.tangent = out._x["tangent"]


_SOURCE = (Node(), 0)  # an edge that only tells a formula "compute this input's gradient"


def _jvp(cls, outs: tuple, mask: list, inputs: tuple, save: tuple, attrs: dict, tangents: list):
    """J·t for each output of one op, from the op's backward formula (see the module doc)."""
    from dyngrad.autograd import grad as autograd_grad
    from dyngrad.autograd.engine import _fit
    from dyngrad.ops._core import Out

    diff = [m and o._data.dtype.kind in "fc" for o, m in zip(outs, mask, strict=True)]
    if not any(diff):  # integer or boolean outputs carry no tangent
        return [None] * len(outs)
    if all(t is None or not t._data.size for t in tangents) or not any(o._data.size for o in outs):
        # empty tensors: nothing to differentiate (formulas may give nan or odd strides)
        return [_zeros(o) if d else None for o, d in zip(outs, diff, strict=True)]
    keep_graph = grad_mode.state.enabled and (
        any(isinstance(t, Tensor) and t._requires_grad for t in inputs)
        or any(t is not None and t._requires_grad for t in tangents)
    )
    node = object.__new__(cls)  # as record() makes nodes: without calling __init__
    node._hooks = None
    link(node, tuple(_SOURCE if t is not None else (None, 0) for t in tangents))
    node._meta = tuple(
        (t._data.shape, t._data.dtype) if isinstance(t, Tensor) else None for t in inputs
    )
    node.__dict__.update(attrs)
    if len(outs) > 1:
        node._n_out = len(outs)
        node._plain = False
        node._out_meta = [(o._data.shape, o._data.dtype) for o in outs]
    saved = []
    for s in save:
        if type(s) is Out:
            s = outs[s.index]
        if isinstance(s, Tensor):
            s = s if keep_graph else Tensor._make(s._data)
            saved.append((s, s._vc[0]))
        else:
            saved.append(s)
    node._saved = tuple(saved)
    if hasattr(node, "jvp"):  # the op has a forward formula of its own (module doc)
        return _own_jvp(node, outs, diff, tangents)
    vs = [Tensor._make(xp.zeros(o._data.shape, o._data.dtype), True) for o in outs]
    ys, ts = [], []
    with _formulas_on_tensors():
        grads = node.apply(vs)
        for g, t, meta in zip(grads, tangents, node._meta, strict=False):
            if g is None or t is None or not isinstance(g, Tensor) or not g._requires_grad:
                continue
            if not t._data.size:  # an empty input contributes nothing
                continue
            ys.append(_fit(g, meta))  # reducing a broadcast gradient is part of the formula
            ts.append(t)
    wanted = [v for v, d in zip(vs, diff, strict=True) if d]
    if not ys or not wanted:
        jts = [None] * len(wanted)
    else:
        jts = autograd_grad(ys, wanted, ts, create_graph=keep_graph, allow_unused=True)
    results, it = [], iter(jts)
    for o, d in zip(outs, diff, strict=True):
        if not d:
            results.append(None)
            continue
        jt = next(it)
        results.append(_zeros(o) if jt is None else jt)
    return results


@contextlib.contextmanager
def _formulas_on_tensors():
    """Run formulas as `create_graph=True` does: saved values as tensors, grad mode on."""
    prev = engine_state.create_graph, grad_mode.state.enabled
    engine_state.create_graph = grad_mode.state.enabled = True
    try:
        yield
    finally:
        engine_state.create_graph, grad_mode.state.enabled = prev


def _own_jvp(node, outs: tuple, diff: list, tangents: list) -> list:
    """Tangents from the node's `jvp(*input_tangents)`: a tangent per output (one tensor: the
    first output's), None where an output gets zeros. The formula runs on tensors, as backward
    formulas do under `create_graph`, so a tangent has history when its inputs do."""
    with _formulas_on_tensors():
        results = node.jvp(*tangents)
    if not isinstance(results, tuple):
        results = (results,)
    results += (None,) * (len(outs) - len(results))  # outputs such as `info` get none
    return [None if not d else _zeros(o) if r is None else r
            for o, d, r in zip(outs, diff, results, strict=True)]


def _zeros(out: Tensor) -> Tensor:
    return Tensor._make(xp.zeros_like(out._data))


__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]
