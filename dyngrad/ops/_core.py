"""What every op shares: operand checks, PyTorch's dtype promotion, and graph recording.

An op module writes its forward in NumPy (`xp`), then calls `record(NodeClass, result, inputs,
save=...)`. `record` decides whether to build a node at all (grad mode on and some input requires
grad), links the node to its inputs' history and saves what the backward formula asks for.
"""

from __future__ import annotations

import functools

from dyngrad import _dtype
from dyngrad._backend import ndarray, scalar_operand, xp
from dyngrad._tensor import _FRESH_VERSION, Tensor, make_tensor
from dyngrad.autograd import anomaly_mode, forward_ad, grad_mode
from dyngrad.autograd.node import INFERENCE_SAVED, SavedOutput, _seq, expose, link, saved_hooks

_make = make_tensor
_new = object.__new__
_gm = grad_mode.state
_anomaly = anomaly_mode.state
_fw = forward_ad.state
_FROM_NP = _dtype.FROM_NP
_SCALARS = (bool, int, float, complex)


class Out:
    """Placeholder in `save=`: output `index` of the op itself. A node saves its own outputs as
    data plus version (SavedOutput), never as tensors, so it does not own them (no cycle)."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


OUT = Out(0)  # the op's (first) output


def record(cls, data, inputs: tuple, save: tuple = (), **attrs) -> Tensor:
    """Wrap `data` as the op's output; record a `cls` node if any input requires grad.

    This runs once per op, so it is written for speed: no node at all unless an input requires
    grad, then the edges (`next_functions`) and the (shape, dtype) the engine fits gradients to.
    """
    if type(data) is not ndarray:
        data = xp.asarray(data)
    if _fw.active:  # a dual level is open: the output gets a tangent (autograd/forward_ad.py)
        return forward_ad.record(record, cls, data, inputs, save, attrs)
    if not _gm.enabled:
        return _make(data)
    # Unrolled for one and two inputs (comprehensions are function calls in Python 3.11), with
    # `_edge_of`'s common case inlined: an input that is an earlier op's (non-view) result.
    if len(inputs) == 1:
        (a,) = inputs
        if not a._requires_grad:
            return _make(data)
        ad = a._data
        node = _new(cls)
        fn = a._grad_fn
        node._next = ((fn, a._output_nr) if fn is not None and a._view is None
                      and type(a) is Tensor else _edge_of(a),)
        node._meta = ((ad.shape, ad.dtype),)
    elif len(inputs) == 2:
        a, b = inputs
        ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
        if not (ta and a._requires_grad or tb and b._requires_grad):
            return _make(data)
        node = _new(cls)
        fn, fn2 = a._grad_fn if ta else None, b._grad_fn if tb else None
        node._next = (
            (fn, a._output_nr) if fn is not None and a._view is None and type(a) is Tensor
            else _edge_of(a),
            (fn2, b._output_nr) if fn2 is not None and b._view is None and type(b) is Tensor
            else _edge_of(b),
        )
        node._meta = (
            (a._data.shape, a._data.dtype) if ta else None,
            (b._data.shape, b._data.dtype) if tb else None,
        )
    else:
        if not any([isinstance(t, Tensor) and t._requires_grad for t in inputs]):
            return _make(data)
        node = _new(cls)
        node._next = tuple([_edge_of(t) for t in inputs])
        node._meta = tuple([
            (t._data.shape, t._data.dtype) if isinstance(t, Tensor) else None for t in inputs
        ])
    node._seq = next(_seq)
    node._hooks = None
    if attrs:
        node.__dict__.update(attrs)
        if not cls._exposed.issuperset(attrs):
            expose(cls, attrs)
    out = output(data, node)
    # A saved tensor is kept as (tensor, its version now), the op's own output as a
    # SavedOutput, other items as `_saved_item` says.
    if not save:
        node._saved = ()
    elif saved_hooks:  # saved_tensors_hooks are on: Node.save runs the pack hook
        node.save(*(SavedOutput.of_new(out) if s is OUT else s for s in save))
    elif len(save) == 1:
        (s,) = save
        node._saved = (SavedOutput.of_new(out) if s is OUT
                       else (s, s._vc[0]) if type(s) is Tensor and s._x is None
                       else _saved_item(s, out),)
    elif len(save) == 2:
        s, t = save
        node._saved = (
            (s, s._vc[0]) if type(s) is Tensor and s._x is None else _saved_item(s, out),
            (t, t._vc[0]) if type(t) is Tensor and t._x is None else _saved_item(t, out),
        )
    else:
        node._saved = tuple([_saved_item(s, out) for s in save])
    if _anomaly.enabled:
        anomaly_mode.record(node)
    return out


def output(data, node) -> Tensor:
    """A recorded op's output tensor: `make_tensor(data, True, node)` for grad mode on (so no
    inference tensor), written out: every recorded op calls it."""
    out = _new(Tensor)
    out._data = data
    out._requires_grad = True
    out._grad_fn = node
    out._grad = out._accum = out._view = out._x = None
    out._vc = _FRESH_VERSION
    out._output_nr = 0
    return out


def _saved_item(s, out: Tensor):
    """What a node keeps for one `save=` item: (tensor, version), its own output as a
    SavedOutput, or any other value as it is."""
    if isinstance(s, Tensor):
        if s._x is not None and "inference" in s._x:
            raise RuntimeError(INFERENCE_SAVED)
        return s, s._vc[0]
    return SavedOutput.of_new(out) if s is OUT else s


_NO_EDGE = (None, 0)


def _edge_of(t) -> tuple:
    """`t._edge()` for any operand, with the common cases first: a non-view result of an op, a
    constant, and a leaf whose gradient sink exists (None, 0 for non-tensors)."""
    if type(t) is Tensor and t._view is None:
        fn = t._grad_fn
        if fn is not None:
            return fn, t._output_nr
        if not t._requires_grad:  # a constant
            return _NO_EDGE
        ref = t._accum
        if ref is not None:
            fn = ref()
            if fn is not None:
                return fn, 0
    elif not isinstance(t, Tensor):
        return _NO_EDGE
    return t._edge()


def record_multi(cls, datas: list, inputs: tuple, save: tuple = (), differentiable=None,
                 materialize: bool = True, **attrs) -> tuple:
    """Like `record` for ops with several outputs (each output has its own output_nr).

    `save` may name outputs by `Out(i)`. `materialize=False`: outputs no gradient reaches give
    the formula None rather than zeros (PyTorch's undefined gradients)."""
    datas = [d if type(d) is ndarray else xp.asarray(d) for d in datas]
    if _fw.active:
        return forward_ad.record(record_multi, cls, datas, inputs, save, attrs, True,
                                 differentiable, materialize)
    if not _gm.enabled or not any(isinstance(t, Tensor) and t._requires_grad for t in inputs):
        return tuple(_make(d) for d in datas)
    node = cls()
    node._n_out = len(datas)
    if len(datas) != 1:
        node._plain = False  # the engine's direct `backward(grad)` call is for one output
    node._out_meta = [(d.shape, d.dtype) for d in datas] if materialize else [None] * len(datas)
    link(node, tuple(t._edge() if isinstance(t, Tensor) else _NO_EDGE for t in inputs))
    node._meta = tuple(
        (t._data.shape, t._data.dtype) if isinstance(t, Tensor) else None for t in inputs
    )
    node.__dict__.update(attrs)
    expose(cls, attrs)
    outs = tuple(
        _make(d, True, node, i) if differentiable is None or differentiable[i] else _make(d)
        for i, d in enumerate(datas)
    )
    if save:
        node.save(*(_saved_output(outs[s.index], node) if type(s) is Out else s for s in save))
    if anomaly_mode.state.enabled:
        anomaly_mode.record(node)
    return outs


def _saved_output(out: Tensor, node):
    """How a node keeps its own output: a SavedOutput, or the tensor itself when the output is
    not part of the graph (integer indices, pivots)."""
    return SavedOutput(out) if out._grad_fn is node else out


def needs_grad(*inputs) -> bool:
    """True when an op on these inputs will be recorded (always under forward-mode AD, which
    runs the op's backward formula to get its output's tangent)."""
    return _fw.active or (
        _gm.enabled and any(isinstance(t, Tensor) and t._requires_grad for t in inputs)
    )


def input_needs_grad(t) -> bool:
    """Whether an op must be able to compute the gradient of input t, e.g. to decide what to
    save: t requires grad, or forward-mode AD is on (t may carry a tangent)."""
    return isinstance(t, Tensor) and (t._requires_grad or _fw.active)


def check_kernel(dt, kinds: str, kernel: str) -> None:
    """PyTorch's error for a NumPy dtype `dt` of a kind (NumPy's letters) its CPU `kernel` does
    not cover, e.g. complex in floor division."""
    if dt.kind in kinds:
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{_dtype.FROM_NP[dt]._short}\''
        )


def check_tensor(x, fname: str, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


# --- dtype promotion ---------------------------------------------------------------------------
def _scalar_value(v):
    """NumPy scalars take part in promotion like Python scalars."""
    if isinstance(v, xp.generic):
        return v.item()
    return v


@functools.cache
def _promoted(a, a0: bool, b, b0: bool, default=None):
    """Result NumPy dtype of tensor a (0-dim if a0) with tensor or scalar-type b; `default` (the
    default float dtype, which a Python float promotes as) is part of the cache key."""
    da = _FROM_NP[a]
    if isinstance(b, type):  # a Python scalar type (NumPy dtypes compare equal to int, float)
        db = _dtype.scalar_dtype(b())
        tiers = ((), (da,), (db,)) if a0 else ((da,), (), (db,))
    else:
        db = _FROM_NP[b]
        dims = [d for d, z in ((da, a0), (db, b0)) if not z]
        zeros = [d for d, z in ((da, a0), (db, b0)) if z]
        tiers = (dims, zeros, ())
    return _dtype.result_type_of(*tiers).np


def _promoted_default_float(a, a0, b, b0, default=None):
    out = _promoted(a, a0, b, b0, default)
    return out if out.kind in "fc" else _dtype.get_default_dtype().np


def binary_operands(x, y, fname: str = "op", to_float: bool = False, as_array: bool = False):
    """NumPy operands of a binary op, promoted as PyTorch promotes (scalars stay Python scalars;
    `as_array`: a number with a float tensor becomes a 0-dim array, which NumPy takes faster)."""
    if isinstance(x, Tensor):
        a = x._data
        ty = type(y)
        if (ty is float or ty is int) and a.dtype.kind in "fc":
            # the common case: a Python number never changes a float tensor's dtype
            return a, (scalar_operand(y, a.dtype) if as_array else y)
        if isinstance(y, Tensor):
            b = y._data
            if a.shape != b.shape:
                check_broadcast(a.shape, b.shape)
            if a.dtype is b.dtype and (not to_float or a.dtype.kind in "fc"):
                return a, b
            promote = _promoted_default_float if to_float else _promoted
            dt = promote(a.dtype, a.ndim == 0, b.dtype, b.ndim == 0)
            return (a if a.dtype is dt else a.astype(dt)), (b if b.dtype is dt else b.astype(dt))
        y = _scalar_value(y)
        if type(y) not in _SCALARS:
            _bad_operand(fname, y)
        promote = _promoted_default_float if to_float else _promoted
        dt = promote(a.dtype, a.ndim == 0, type(y), False, _dtype.get_default_dtype())
        return (a if a.dtype is dt else a.astype(dt)), _cast_scalar(y, dt)
    x = _scalar_value(x)
    if type(x) not in _SCALARS:
        raise TypeError(
            f"{fname}(): argument 'input' (position 1) must be Tensor, not {type_name(x)}"
        )
    if isinstance(y, Tensor):
        b, a = binary_operands(y, x, fname, to_float)
        return a, b
    # torch.mul(2, 3): the first number acts as a 0-dim tensor
    return binary_operands(_make(xp.asarray(x, result_dtype(x).np)), y, fname, to_float)


def check_broadcast(sa: tuple, sb: tuple) -> None:
    """PyTorch's error for shapes that do not broadcast (checked from the last dim, as it does)."""
    n = max(len(sa), len(sb))
    for i in range(n - 1, -1, -1):
        da = sa[i - n + len(sa)] if i - n + len(sa) >= 0 else 1
        db = sb[i - n + len(sb)] if i - n + len(sb) >= 0 else 1
        if da != db and da != 1 and db != 1:
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                f"non-singleton dimension {i}"
            )


def _cast_scalar(v, dt):
    """A Python scalar in the result dtype; out-of-range ints wrap as in PyTorch."""
    if dt.kind in "iu" and type(v) is int and dt.itemsize < 8:
        return xp.array(v, dtype=xp.int64).astype(dt)[()]
    return v


def _bad_operand(fname: str, y) -> None:
    raise TypeError(f"{fname}(): argument 'other' (position 2) must be Tensor, not {type_name(y)}")


def type_name(v) -> str:
    """A type as PyTorch's argument errors print it (`str`, `numpy.ndarray`)."""
    t = type(v)
    if t.__module__ == "builtins":
        return t.__name__
    return f"{t.__module__.split('.')[0]}.{t.__name__}"


def result_dtype(*operands) -> _dtype.dtype:
    """PyTorch's `result_type` over any mix of tensors and scalars."""
    dims, zeros, scalars = [], [], []
    for o in operands:
        if isinstance(o, Tensor):
            (zeros if o._data.ndim == 0 else dims).append(o.dtype)
        else:
            scalars.append(_dtype.scalar_dtype(_scalar_value(o)))
    return _dtype.result_type_of(dims, zeros, scalars)


def result_type(tensor1, tensor2) -> _dtype.dtype:
    """`torch.result_type`: the dtype an arithmetic op on these two operands produces."""
    for v in (tensor1, tensor2):
        if not isinstance(_scalar_value(v), Tensor | bool | int | float | complex):
            raise TypeError(
                "result_type() received an invalid combination of arguments - got "
                f"({type(tensor1).__name__}, {type(tensor2).__name__})"
            )
    return result_dtype(tensor1, tensor2)


def promote_types(type1, type2) -> _dtype.dtype:
    """`torch.promote_types`: the smallest dtype both dtypes cast to."""
    _check_dtype(type1, "promote_types", "type1", 1)
    _check_dtype(type2, "promote_types", "type2", 2)
    return _dtype.promote_types(type1, type2)


def can_cast(from_, to) -> bool:
    """`torch.can_cast`: whether PyTorch's casting rules allow an in-place result cast."""
    _check_dtype(from_, "can_cast", "from_", 1)
    _check_dtype(to, "can_cast", "to", 2)
    return _dtype.can_cast(from_, to)


def _check_dtype(d, fname: str, arg: str, pos: int) -> None:
    if type(d) is not _dtype.dtype:
        raise TypeError(
            f"{fname}(): argument '{arg}' (position {pos}) must be torch.dtype, not "
            f"{type(d).__name__}"
        )


def float_data(x: Tensor):
    """Input data of a floating-point op: integers and bools become the default float dtype."""
    a = x._data
    if a.dtype.kind in "fc":
        return a
    return a.astype(_dtype.get_default_dtype().np)


def method(*names: str):
    """Attach the decorated function to Tensor under each of `names`."""

    def deco(fn):
        for name in names:
            setattr(Tensor, name, fn)
        return fn

    return deco
