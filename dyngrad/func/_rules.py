"""Batching rules for NumPy functions (`__array_function__`): `RULES` maps a NumPy function to
a rule called with the function, the vmap level and the user's arguments (see `_dispatch.py` for
the conventions). Functions without a rule run the per-sample fallback loop.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.func._batched import BatchedArray
from dyngrad.func._dispatch import (
    _DYNAMIC,
    _MUTATING,
    _align,
    _at,
    _axes,
    _axis,
    _batch_size,
    _inplace_error,
    _is_array,
    _ndim,
    _pad,
    _plain,
    _top,
    _unbatched,
    _wrap,
    _writable,
    loop,
)

BA = BatchedArray
RULES: dict = {}


def rule(*funcs):
    def deco(fn):
        for f in funcs:
            RULES[f] = fn
        return fn
    return deco


def function(func, args, kwargs):
    mutates = func.__name__ in _MUTATING
    args = tuple(a if mutates and i == 0 else _plain(a) for i, a in enumerate(args))
    kwargs = {k: v if k == "out" else _plain(v) for k, v in kwargs.items()}
    level = _top(args[1:] if mutates else args, {k: v for k, v in kwargs.items() if k != "out"})
    size = _batch_size(args, kwargs, level) if level else 0
    if mutates:
        args = (_writable(args[0], level, size), *args[1:])
    if kwargs.get("out") is not None:
        kwargs["out"] = _writable(kwargs["out"], level, size)
    level = max(level, _top(args, kwargs))
    if not level:
        return func(*args, **kwargs)
    fn = RULES.get(func)
    if fn is None:
        return loop(func, f"{func.__module__}.{func.__name__}", args, kwargs, level)
    return fn(func, level, *args, **kwargs)


def _no_out(args, kwargs) -> bool:
    return kwargs.get("out") is None and not any(_is_array(x) for x in args)


@rule(xp.sum, xp.prod, xp.mean, xp.std, xp.var, xp.max, xp.min, xp.amax, xp.amin, xp.any,
      xp.all, xp.nansum, xp.nanprod, xp.nanmean, xp.nanstd, xp.nanvar, xp.nanmax, xp.nanmin,
      xp.median, xp.nanmedian, xp.ptp, xp.count_nonzero)
def _reduction(func, level, a, axis=None, *args, **kwargs):
    if not _at(a, level) or not _no_out(args, kwargs) or _is_array(kwargs.get("where")):
        return loop(func, f"numpy.{func.__name__}", (a, axis, *args), kwargs, level)
    return BA(func(a.value, _axes(axis, a.ndim), *args, **kwargs), level)


def _flat_axis(a: BA, axis):
    """(physical array, physical axis) for functions whose axis=None means the flattened array."""
    if axis is None:
        return a.value.reshape(a.value.shape[0], -1), 1
    return a.value, _axis(axis, a.ndim)


@rule(xp.argmax, xp.argmin, xp.nanargmax, xp.nanargmin)
def _arg_reduction(func, level, a, axis=None, out=None, *, keepdims=False):
    if not _at(a, level) or out is not None:
        return loop(func, f"numpy.{func.__name__}", (a, axis), {"keepdims": keepdims}, level)
    value, ax = _flat_axis(a, axis)
    res = func(value, ax, keepdims=keepdims)
    if keepdims and axis is None:
        res = res.reshape((res.shape[0],) + (1,) * a.ndim)
    return BA(res, level)


@rule(xp.cumsum, xp.cumprod, xp.nancumsum, xp.nancumprod)
def _scan(func, level, a, axis=None, dtype=None, out=None):
    if not _at(a, level) or out is not None:
        return loop(func, f"numpy.{func.__name__}", (a, axis, dtype), {}, level)
    value, ax = _flat_axis(a, axis)
    return BA(func(value, ax, dtype), level)


@rule(xp.sort, xp.argsort)
def _sort(func, level, a, axis=-1, kind=None, order=None, **kwargs):
    value, ax = _flat_axis(a, axis)
    return BA(func(value, ax, kind, order, **kwargs), level)


@rule(xp.partition, xp.argpartition)
def _partition(func, level, a, kth, axis=-1, **kwargs):
    if _is_array(kth) and type(kth) is BA:
        return loop(func, f"numpy.{func.__name__}", (a, kth, axis), kwargs, level)
    value, ax = _flat_axis(a, axis)
    return BA(func(value, kth, ax, **kwargs), level)


@rule(xp.quantile, xp.percentile, xp.nanquantile, xp.nanpercentile)
def _quantile(func, level, a, q, axis=None, out=None, *args, **kwargs):
    if not _at(a, level) or type(q) is BA or out is not None:
        return loop(func, f"numpy.{func.__name__}", (a, q, axis, out, *args), kwargs, level)
    res = func(a.value, q, _axes(axis, a.ndim), None, *args, **kwargs)
    return BA(xp.moveaxis(res, xp.ndim(q), 0) if xp.ndim(q) else res, level)


@rule(xp.diff)
def _diff(func, level, a, n=1, axis=-1, **kwargs):
    if kwargs or not _at(a, level):
        return loop(func, "numpy.diff", (a, n, axis), kwargs, level)
    return BA(func(a.value, n, _axis(axis, a.ndim)), level)


# --- shapes ------------------------------------------------------------------------------------
@rule(xp.reshape)
def _reshape(func, level, a, shape=None, order="C", **kwargs):
    if shape is None:
        shape = kwargs.pop("newshape")
    shape = (shape,) if isinstance(shape, int | xp.integer) else tuple(shape)
    return BA(func(a.value, (a.value.shape[0], *shape), order=order, **kwargs), level)


@rule(xp.ravel)
def _ravel(func, level, a, order="C"):
    return BA(a.value.reshape(a.value.shape[0], -1, order=order), level)


@rule(xp.transpose)
def _transpose(func, level, a, axes=None):
    nd = a.ndim
    axes = range(nd - 1, -1, -1) if axes is None else axes
    return BA(func(a.value, (0, *(_axis(ax, nd) for ax in axes))), level)


@rule(xp.swapaxes)
def _swapaxes(func, level, a, axis1, axis2):
    return BA(func(a.value, _axis(axis1, a.ndim), _axis(axis2, a.ndim)), level)


@rule(xp.moveaxis)
def _moveaxis(func, level, a, source, destination):
    nd = a.ndim
    return BA(func(a.value, _axes(source, nd), _axes(destination, nd)), level)


@rule(xp.expand_dims)
def _expand_dims(func, level, a, axis):
    axes = axis if isinstance(axis, tuple | list) else (axis,)
    nd = a.ndim + len(axes)
    return BA(func(a.value, tuple(_axis(ax, nd) for ax in axes)), level)


@rule(xp.squeeze)
def _squeeze(func, level, a, axis=None):
    if axis is None:
        axis = tuple(i for i, s in enumerate(a.shape) if s == 1)
    return BA(func(a.value, _axes(axis, a.ndim)), level)


@rule(xp.broadcast_to)
def _broadcast_to(func, level, array, shape, subok=False):
    shape = (shape,) if isinstance(shape, int | xp.integer) else tuple(shape)
    value = _pad(array.value, len(shape) - array.ndim)
    return BA(func(value, (value.shape[0], *shape)), level)


@rule(xp.broadcast_arrays)
def _broadcast_arrays(func, level, *args, subok=False):
    shape = xp.broadcast_shapes(*(tuple(xp.shape(a)) for a in args))
    return tuple(xp.broadcast_to(a, shape) for a in args)


@rule(xp.flip)
def _flip(func, level, m, axis=None):
    return BA(func(m.value, _axes(axis, m.ndim)), level)


@rule(xp.roll)
def _roll(func, level, a, shift, axis=None):
    if type(shift) is BA:
        return loop(func, "numpy.roll", (a, shift, axis), {}, level)
    if axis is None:
        flat = a.value.reshape(a.value.shape[0], -1)
        return BA(func(flat, shift, 1).reshape(a.value.shape), level)
    return BA(func(a.value, shift, _axes(axis, a.ndim)), level)


@rule(xp.diagonal)
def _diagonal(func, level, a, offset=0, axis1=0, axis2=1):
    return BA(func(a.value, offset, _axis(axis1, a.ndim), _axis(axis2, a.ndim)), level)


@rule(xp.trace)
def _trace(func, level, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if out is not None:
        return loop(func, "numpy.trace", (a, offset, axis1, axis2, dtype, out), {}, level)
    return BA(func(a.value, offset, _axis(axis1, a.ndim), _axis(axis2, a.ndim), dtype), level)


@rule(xp.tril, xp.triu)
def _tri(func, level, m, k=0):
    if m.ndim < 2:
        return loop(func, f"numpy.{func.__name__}", (m, k), {}, level)
    return BA(func(m.value, k), level)


@rule(xp.concatenate)
def _concatenate(func, level, arrays, axis=0, out=None, **kwargs):
    arrays = list(arrays)
    if out is not None:
        return loop(func, "numpy.concatenate", (arrays, axis, out), kwargs, level)
    if axis is None:
        arrays = [xp.ravel(x) for x in arrays]
        axis = 0
    nd = _ndim(arrays[0])
    return BA(func(_unbatched(arrays, level), _axis(axis, nd), **kwargs), level)


@rule(xp.stack)
def _stack_rule(func, level, arrays, axis=0, out=None, **kwargs):
    arrays = list(arrays)
    if out is not None:
        return loop(func, "numpy.stack", (arrays, axis, out), kwargs, level)
    nd = _ndim(arrays[0]) + 1
    return BA(func(_unbatched(arrays, level), _axis(axis, nd), **kwargs), level)


@rule(xp.split, xp.array_split)
def _split(func, level, ary, indices_or_sections, axis=0):
    if type(indices_or_sections) is BA:
        return loop(func, f"numpy.{func.__name__}", (ary, indices_or_sections, axis), {}, level)
    return [BA(p, level) for p in func(ary.value, indices_or_sections, _axis(axis, ary.ndim))]


@rule(xp.atleast_1d, xp.atleast_2d, xp.atleast_3d)
def _atleast(func, level, *arys):
    n = {xp.atleast_1d: 1, xp.atleast_2d: 2, xp.atleast_3d: 3}[func]
    out = []
    for a in arys:
        if not _at(a, level) or a.ndim >= n:
            out.append(func(a) if not _at(a, level) else a)
            continue
        shape = {0: (1,) * n, 1: ((1, a.shape[0], 1) if n == 3 else (1, a.shape[0])),
                 2: a.shape + (1,)}[a.ndim]
        out.append(xp.reshape(a, shape))
    return out[0] if len(out) == 1 else tuple(out)


@rule(xp.tile)
def _tile(func, level, A, reps):  # noqa: N803 - NumPy's name
    reps = (reps,) if isinstance(reps, int | xp.integer) else tuple(reps)
    nd = max(A.ndim, len(reps))
    value = _pad(A.value, nd - A.ndim)
    return BA(func(value, (1,) * (nd - len(reps) + 1) + reps), level)


@rule(xp.repeat)
def _repeat(func, level, a, repeats, axis=None):
    if type(repeats) is BA:
        return loop(func, "numpy.repeat", (a, repeats, axis), {}, level)
    value, ax = _flat_axis(a, axis)
    return BA(func(value, repeats, ax), level)


@rule(xp.pad)
def _pad_rule(func, level, array, pad_width, mode="constant", **kwargs):
    if not _at(array, level) or any(type(v) is BA for v in kwargs.values()):
        return loop(func, "numpy.pad", (array, pad_width, mode), kwargs, level)
    widths = xp.broadcast_to(xp.asarray(pad_width), (array.ndim, 2)).tolist()
    return BA(func(array.value, [[0, 0], *widths], mode, **kwargs), level)


@rule(xp.lib.stride_tricks.sliding_window_view)
def _windows(func, level, x, window_shape, axis=None, **kwargs):
    shape = (window_shape,) if isinstance(window_shape, int) else tuple(window_shape)
    axes = tuple(range(x.ndim)) if axis is None else axis
    return BA(func(x.value, shape, _axes(axes, x.ndim), **kwargs), level)


# --- elementwise functions ---------------------------------------------------------------------
def _elementwise_fn(func, level, arrays: list, *args, **kwargs):
    """func(*arrays, *args) for a function that broadcasts its array arguments elementwise."""
    nd = max(_ndim(x) for x in arrays)
    return _wrap(func(*(_align(x, level, nd) for x in arrays), *args, **kwargs), level)


@rule(xp.where)
def _where(func, level, condition, *xy):
    if not xy:
        raise RuntimeError(_DYNAMIC.format("nonzero"))
    return _elementwise_fn(func, level, [condition, *xy])


@rule(xp.clip)
def _clip(func, level, a, *bounds, out=None, **kwargs):
    if out is not None:
        return loop(func, "numpy.clip", (a, *bounds), {"out": out, **kwargs}, level)
    lo = bounds[0] if bounds else kwargs.pop("min", kwargs.pop("a_min", None))
    hi = bounds[1] if len(bounds) > 1 else kwargs.pop("max", kwargs.pop("a_max", None))
    return _elementwise_fn(func, level, [a, lo, hi], **kwargs)


@rule(xp.isclose)
def _isclose(func, level, a, b, *args, **kwargs):
    return _elementwise_fn(func, level, [a, b], *args, **kwargs)


@rule(xp.allclose)
def _allclose(func, level, a, b, *args, **kwargs):
    close = xp.isclose(a, b, *args, **kwargs)
    return xp.all(close)


@rule(xp.array_equal)
def _array_equal(func, level, a1, a2, equal_nan=False):
    if xp.shape(a1) != xp.shape(a2):
        return False
    same = a1 == a2
    if equal_nan:
        same = same | (xp.isnan(a1) & xp.isnan(a2))
    return xp.all(same)


@rule(xp.nan_to_num, xp.real, xp.imag, xp.angle, xp.round, xp.around, xp.isneginf, xp.isposinf,
      xp.real_if_close, xp.sinc, xp.i0, xp.fix)
def _unary(func, level, x, *args, **kwargs):
    if kwargs.get("out") is not None or any(_is_array(v) for v in args):
        return loop(func, f"numpy.{func.__name__}", (x, *args), kwargs, level)
    return BA(func(x.value, *args, **kwargs), level)


@rule(xp.unravel_index)
def _unravel(func, level, indices, shape, order="C"):
    return _wrap(func(indices.value, shape, order), level)


@rule(xp.interp, xp.isin)
def _first_elementwise(func, level, x, *args, **kwargs):
    if not _at(x, level) or any(_is_array(v) and type(v) is BA for v in args):
        return loop(func, f"numpy.{func.__name__}", (x, *args), kwargs, level)
    return BA(func(x.value, *args, **kwargs), level)


@rule(xp.nonzero, xp.argwhere, xp.flatnonzero, xp.unique)
def _dynamic(func, level, *args, **kwargs):
    """Output sizes that depend on the values: per sample, when every sample agrees on them
    (dyngrad's own tie and bounds checks); otherwise PyTorch's error."""
    try:
        return loop(func, func.__name__, args, kwargs, level, warn=False)
    except ValueError:
        name = func.__name__ if func is not xp.unique else "_unique2"
        raise RuntimeError(_DYNAMIC.format(name)) from None


# --- metadata and construction -----------------------------------------------------------------
@rule(xp.shape)
def _shape(func, level, a):
    return a.shape


@rule(xp.ndim)
def _ndim_rule(func, level, a):
    return a.ndim


@rule(xp.size)
def _size(func, level, a, axis=None):
    return a.size if axis is None else a.shape[axis]


@rule(xp.result_type)
def _result_type(func, level, *arrays_and_dtypes):
    return func(*(a.dtype if type(a) is BA else a for a in arrays_and_dtypes))


@rule(xp.iscomplexobj, xp.isrealobj)
def _dtype_test(func, level, x):
    return func(x.value)


@rule(xp.can_cast)
def _can_cast(func, level, from_, to, casting="safe"):
    return func(from_.dtype if type(from_) is BA else from_, to, casting)


@rule(xp.zeros_like, xp.ones_like, xp.empty_like)
def _like(func, level, a, dtype=None, order="K", subok=True, shape=None, **kwargs):
    shape = a.shape if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
    return BA(func(a.value, dtype, order, subok, (a.value.shape[0], *shape), **kwargs), level)


@rule(xp.full_like)
def _full_like(func, level, a, fill_value, dtype=None, order="K", subok=True, shape=None,
               **kwargs):
    if not _at(a, level):
        return loop(func, "numpy.full_like", (a, fill_value, dtype, order, subok, shape), kwargs,
                    level)
    out = xp.empty_like(a, dtype, order, subok, shape)
    out[...] = fill_value
    return out


@rule(xp.copy)
def _copy(func, level, a, order="K", subok=False):
    return BA(func(a.value, order), level)


@rule(xp.copyto)
def _copyto(func, level, dst, src, casting="same_kind", where=True):
    if not _at(dst, level):
        _inplace_error(dst, _batch_size((src, where), {}, level), src)
    nd = dst.ndim
    func(dst.value, _align(src, level, nd), casting, _align(where, level, nd))


# --- gathers and scatters ----------------------------------------------------------------------
@rule(xp.take)
def _take(func, level, a, indices, axis=None, out=None, mode="raise"):
    if out is not None or (_at(a, level) and _at(indices, level) and mode != "raise"):
        return loop(func, "numpy.take", (a, indices, axis, out, mode), {}, level)
    if _at(a, level) and _at(indices, level):  # indexing, which batches both
        if axis is None:
            return xp.ravel(a)[indices]
        return a[(slice(None),) * (_axis(axis, a.ndim) - 1) + (indices,)]
    # numpy.take dispatches on `a` only: `function` takes indices batched at a lower level too
    if _at(a, level):
        value, ax = _flat_axis(a, axis)
        return BA(function(func, (value, indices, ax), {"mode": mode}), level)
    ax = 0 if axis is None else axis % xp.ndim(a)
    res = function(func, (a if axis is not None else xp.ravel(a), indices.value, ax),
                   {"mode": mode})
    return BA(xp.moveaxis(res, ax, 0), level)


def _lift(x, level):
    """Physical array of x (batch dim first; size 1 when x is unbatched)."""
    return x.value if _at(x, level) else xp.expand_dims(x, 0)


@rule(xp.take_along_axis)
def _take_along_axis(func, level, arr, indices, axis=-1):
    if axis is None:
        return loop(func, "numpy.take_along_axis", (arr, indices, axis), {}, level)
    nd = _ndim(arr)
    return BA(func(_lift(arr, level), _lift(indices, level), _axis(axis, nd)), level)


@rule(xp.put_along_axis)
def _put_along_axis(func, level, arr, indices, values, axis):
    if not _at(arr, level):
        _inplace_error(arr, _batch_size((indices, values), {}, level), indices)
    if axis is None:
        return loop(func, "numpy.put_along_axis", (arr, indices, values, axis), {}, level)
    nd = arr.ndim
    func(arr.value, _lift(indices, level), _align(values, level, nd), _axis(axis, nd))


# --- contractions ------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@rule(xp.einsum)
def _einsum(func, level, *operands, out=None, **kwargs):
    spec = operands[0]
    if not isinstance(spec, str) or "..." in spec or out is not None:
        return loop(func, "numpy.einsum", operands, {"out": out, **kwargs}, level)
    spec = spec.replace(" ", "")
    ins, _, output = spec.partition("->")
    subs = ins.split(",")
    if "->" not in spec:
        letters = "".join(subs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    free = next(c for c in _LETTERS if c not in spec)
    args = operands[1:]
    new = [free + s if _at(x, level) else s for s, x in zip(subs, args, strict=True)]
    values = [x.value if _at(x, level) else x for x in args]
    return BA(func(f"{','.join(new)}->{free}{output}", *values, **kwargs), level)


def _contract(a, b, a_axes, b_axes):
    """tensordot as einsum, so that the batching rule of einsum applies."""
    na, nb = _ndim(a), _ndim(b)
    sa = _LETTERS[:na]
    sb = list(_LETTERS[na:na + nb])
    for i, j in zip(a_axes, b_axes, strict=True):
        sb[j % nb] = sa[i % na]
    sb = "".join(sb)
    out = "".join(c for c in sa if c not in sb) + "".join(c for c in sb if c not in sa)
    return xp.einsum(f"{sa},{sb}->{out}", a, b)


@rule(xp.tensordot)
def _tensordot(func, level, a, b, axes=2):
    if isinstance(axes, int | xp.integer):
        na = _ndim(a)
        a_axes, b_axes = list(range(na - axes, na)), list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, int | xp.integer) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, int | xp.integer) else list(b_axes)
    return _contract(a, b, a_axes, b_axes)


@rule(xp.dot)
def _dot(func, level, a, b, out=None):
    na, nb = _ndim(a), _ndim(b)
    if out is not None:
        return loop(func, "numpy.dot", (a, b, out), {}, level)
    if na == 0 or nb == 0:
        return xp.multiply(a, b)
    return _contract(a, b, [na - 1], [max(nb - 2, 0)])


@rule(xp.outer)
def _outer(func, level, a, b, out=None):
    if out is not None:
        return loop(func, "numpy.outer", (a, b, out), {}, level)
    return xp.multiply(xp.reshape(a, (-1, 1)), xp.reshape(b, (1, -1)))


@rule(xp.vdot)
def _vdot(func, level, a, b):
    return xp.sum(xp.conj(xp.ravel(a)) * xp.ravel(b))


# --- linear algebra and FFT --------------------------------------------------------------------
@rule(xp.linalg.inv, xp.linalg.det, xp.linalg.slogdet, xp.linalg.cholesky, xp.linalg.eigh,
      xp.linalg.eigvalsh, xp.linalg.eig, xp.linalg.eigvals, xp.linalg.svd, xp.linalg.qr,
      xp.linalg.pinv, xp.linalg.matrix_power, xp.linalg.matrix_rank, xp.linalg.svdvals)
def _stacked(func, level, a, *args, **kwargs):
    """Functions of the last two dims that accept stacks of matrices."""
    if not _at(a, level) or a.ndim < 2 or any(type(v) is BA for v in (*args,
                                                                       *kwargs.values())):
        return loop(func, f"numpy.linalg.{func.__name__}", (a, *args), kwargs, level)
    return _wrap(func(a.value, *args, **kwargs), level)


@rule(xp.linalg.solve)
def _solve(func, level, a, b):
    vector = _ndim(b) == 1
    pa = a.value if _at(a, level) else a
    pb = b.value if _at(b, level) else b
    if vector:
        pb = xp.expand_dims(pb, -1)
    loop_a, loop_b = _ndim(a) - 2, max(_ndim(b), 2) - 2
    top = max(loop_a, loop_b)
    if _at(a, level):
        pa = _pad(pa, top - loop_a)
    if _at(b, level):
        pb = _pad(pb, top - loop_b)
    if not _at(a, level):
        pa = xp.expand_dims(pa, 0)
    if not _at(b, level):
        pb = xp.expand_dims(pb, 0)
    res = func(pa, pb)
    return BA(res[..., 0] if vector else res, level)


@rule(xp.linalg.norm)
def _norm(func, level, x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    if axis is None:
        if ord is None:
            total = xp.sum(xp.abs(x) ** 2, axis=None, keepdims=keepdims)
            return xp.sqrt(total)
        axis = tuple(range(x.ndim))
    return BA(func(x.value, ord, _axes(axis, x.ndim), keepdims), level)


def _fft_n(func, level, a, s=None, axes=None, norm=None, out=None):
    if out is not None or not _at(a, level):
        return loop(func, f"numpy.fft.{func.__name__}", (a, s, axes, norm, out), {}, level)
    if axes is None:
        axes = tuple(range(a.ndim)) if s is None else tuple(range(a.ndim - len(s), a.ndim))
    return BA(func(a.value, s, _axes(axes, a.ndim), norm), level)


def _fft_1(func, level, a, n=None, axis=-1, norm=None, out=None):
    if out is not None or not _at(a, level):
        return loop(func, f"numpy.fft.{func.__name__}", (a, n, axis, norm, out), {}, level)
    return BA(func(a.value, n, _axis(axis, a.ndim), norm), level)


for _name in ("fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2"):
    RULES[getattr(xp.fft, _name)] = _fft_n
for _name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
    RULES[getattr(xp.fft, _name)] = _fft_1


def as_strided(x, shape=None, strides=None, subok=False, writeable=True):
    """`numpy.lib.stride_tricks.as_strided` (as dyngrad's `xp` has it): on a batched array,
    the same strided view of every sample."""
    x = _plain(x)
    if type(x) is not BA:
        return _AS_STRIDED(x, shape, strides, subok, writeable)
    value = x.value
    shape = x.shape if shape is None else tuple(shape)
    strides = x.strides if strides is None else tuple(strides)
    return BA(as_strided(value, (value.shape[0], *shape), (value.strides[0], *strides), subok,
                         writeable), x.level)


_AS_STRIDED = xp.lib.stride_tricks.as_strided


@rule(xp.bincount)
def _bincount(func, level, x, weights=None, minlength=0):
    """Each sample's counts in its own block of one bincount call (blocks as long as the longest
    sample's counts, or minlength)."""
    size = _batch_size((x, weights), {}, level)
    n = x.shape[-1]
    px = xp.broadcast_to(x.value if _at(x, level) else x, (size, n))
    length = max(minlength, int(px.max()) + 1 if px.size else 0)
    flat = (px + xp.arange(size)[:, None] * length).ravel()
    if weights is not None:
        weights = xp.broadcast_to(weights.value if _at(weights, level) else weights,
                                  (size, n)).ravel()
    return BA(func(flat, weights, minlength=size * length).reshape(size, length), level)
