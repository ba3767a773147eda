"""Reductions: sum, mean, prod, max/min, std/var, norms, logsumexp, cumulative ops, all/any.

A reduction's backward spreads the output gradient back over the reduced dims: the gradient is
reshaped with those dims kept (size 1) and broadcast against the input. Non-differentiable points
follow PyTorch: ties of a full max/min or of amax/amin share the gradient evenly, max along a dim
sends it to the returned index, and a norm's gradient at 0 is 0.
"""

from __future__ import annotations

import functools
import math
import operator
import warnings
from collections import namedtuple

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import (
    OUT,
    check_kernel,
    check_tensor,
    float_data,
    method,
    record,
    record_multi,
)
from dyngrad.ops.arithmetic import _conj, _out, div
from dyngrad.ops.inplace import apply_inplace

__all__ = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "aminmax", "std",
    "var", "std_mean", "var_mean", "logsumexp", "norm", "nansum", "nanmean", "cumsum", "cumprod",
    "all", "any", "count_nonzero",
]

_make = Tensor._make
_ALL = object()  # no `dim` argument at all: PyTorch records SumBackward0 instead of SumBackward1


# --- return types ------------------------------------------------------------------------------
def _return_type(name: str, fields: tuple):
    """A named tuple printed as PyTorch prints its `torch.return_types.<name>` structseqs."""

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
        return f"torch.return_types.{name}(\n{body})"

    base = namedtuple(name, fields)

    def __new__(cls, sequence):  # built from one sequence, like PyTorch's structseqs
        return base.__new__(cls, *sequence)

    return type(name, (base,), {"__slots__": (), "__new__": __new__, "__repr__": __repr__,
                                "__str__": __repr__})


max_type = _return_type("max", ("values", "indices"))
min_type = _return_type("min", ("values", "indices"))
aminmax_type = _return_type("aminmax", ("min", "max"))


def _quiet(backward):
    """Run a backward formula without NumPy's warnings: like PyTorch's, it may divide by zero
    where it then masks the result (and its own derivative then gives PyTorch's NaNs)."""

    @functools.wraps(backward)
    def run(self, *grads):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return backward(self, *grads)

    return run


# --- argument handling -------------------------------------------------------------------------
def _aliases(fname: str, dim, keepdim, extra: dict):
    """NumPy spellings PyTorch accepts: `axis` for `dim`, `keepdims` for `keepdim`."""
    for key, value in extra.items():
        if key == "axis":
            dim = value
        elif key == "keepdims":
            keepdim = value
        else:
            raise TypeError(f"{fname}() got an unexpected keyword argument '{key}'")
    return dim, keepdim


def _axes(dim, ndim: int):
    """The reduced dims as a sorted tuple of wrapped dims (NumPy's `axis`); None means all."""
    if dim is None or dim is _ALL:
        return None
    if isinstance(dim, list | tuple):
        if not dim:
            return None
        wrapped = [_wrap_dim(operator.index(d), ndim) for d in dim]
        for i, d in enumerate(wrapped):
            if d in wrapped[:i]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    else:
        wrapped = [_wrap_dim(operator.index(dim), ndim)]
    return () if ndim == 0 else tuple(sorted(wrapped))


def _kept_shape(shape: tuple, axes) -> tuple:
    """The result shape with the reduced dims kept as size 1."""
    return tuple(1 if axes is None or i in axes else s for i, s in enumerate(shape))


def _count(shape: tuple, axes) -> int:
    """How many elements each output element reduces."""
    if axes is None:
        return math.prod(shape)
    return math.prod(shape[i] for i in axes)


def _finish(data, shape: tuple, axes, keepdim: bool):
    """A result computed with keepdims=True, with the reduced dims dropped unless `keepdim`."""
    if keepdim:
        return data
    return data.reshape(tuple(s for i, s in enumerate(shape) if axes is not None and i not in axes))


def _restore(grad, node):
    """The output gradient with the reduced dims back as size 1, ready to broadcast."""
    if node.keepdim:
        return grad
    return P.reshape(grad, _kept_shape(node._meta[0][0], node.dim))


def _sum_data(input: Tensor, dtype):
    """Input data in the accumulation dtype: `dtype` if given, int64 for integers and bools."""
    a = input._data
    if dtype is not None:
        return a.astype(_dtype.as_dtype(dtype).np, copy=False)
    if a.dtype.kind in "biu":
        return a.astype(xp.int64)
    return a


def _float_only(input: Tensor, fname: str, dtype=None):
    """Data of an op defined only on floating/complex inputs (mean, nanmean)."""
    if dtype is not None:
        return input._data.astype(_dtype.as_dtype(dtype).np, copy=False)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{fname}(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype._short}"
        )
    return input._data


# --- sum / mean / nansum / nanmean -------------------------------------------------------------
class SumBackward0(Node):
    def backward(self, grad):
        return P.expand(grad, self._meta[0][0])


class SumBackward1(Node):
    def backward(self, grad):
        return P.expand(_restore(grad, self), self._meta[0][0])


@method("sum")
def sum(input, dim=_ALL, keepdim=False, *, dtype=None, **aliases) -> Tensor:  # noqa: A001
    """Sum over `dim` (an int, a tuple of ints, or all dims); integers and bools sum to int64."""
    check_tensor(input, "sum")
    dim, keepdim = _aliases("sum", dim, keepdim, aliases)
    a = _sum_data(input, dtype)
    if dim is _ALL:
        return record(SumBackward0, xp.add.reduce(a, axis=None), (input,))
    axes = _axes(dim, a.ndim)
    # add.reduce, not xp.sum: the same C loop without numpy.sum's Python-level dispatch (~1 us)
    data = _finish(xp.add.reduce(a, axis=axes, keepdims=True), a.shape, axes, keepdim)
    return record(SumBackward1, data, (input,), dim=axes, keepdim=keepdim)


class NansumBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return P.where(xp.isnan(P.data(x)), 0.0, P.expand(_restore(grad, self), self._meta[0][0]))


@method("nansum")
def nansum(input, dim=None, keepdim=False, *, dtype=None, **aliases) -> Tensor:
    """Sum treating NaNs as zero."""
    check_tensor(input, "nansum")
    dim, keepdim = _aliases("nansum", dim, keepdim, aliases)
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    a = _sum_data(input, dtype)
    axes = _axes(dim, a.ndim)
    data = _finish(xp.nansum(a, axis=axes, keepdims=True), a.shape, axes, keepdim)
    return record(NansumBackward0, data, (input,), save=(input,), dim=axes, keepdim=keepdim)


class MeanBackward0(Node):
    def backward(self, grad):
        shape = self._meta[0][0]
        n = math.prod(shape)
        return P.expand(grad / n if n else grad, shape)


class MeanBackward1(Node):
    def backward(self, grad):
        shape = self._meta[0][0]
        n = _count(shape, self.dim)
        g = _restore(grad, self)
        return P.expand(g / n if n else g, shape)


@method("mean")
def mean(input, dim=_ALL, keepdim=False, *, dtype=None, **aliases) -> Tensor:
    """Arithmetic mean over `dim` (floating and complex inputs only, unless `dtype` is given)."""
    check_tensor(input, "mean")
    dim, keepdim = _aliases("mean", dim, keepdim, aliases)
    a = _float_only(input, "mean", dtype)
    axes = None if dim is _ALL else _axes(dim, a.ndim)
    # (an empty mean's 0 / 0 warning is filtered: see _backend.py)
    data = xp.add.reduce(a, axis=axes, keepdims=True) / _count(a.shape, axes)
    data = _finish(data.astype(a.dtype, copy=False), a.shape, axes, keepdim)
    if dim is _ALL:
        return record(MeanBackward0, data, (input,))
    return record(MeanBackward1, data, (input,), dim=axes, keepdim=keepdim)


@method("nanmean")
def nanmean(input, dim=None, keepdim=False, *, dtype=None, **aliases) -> Tensor:
    """Mean of the non-NaN elements: nansum / count, recorded as PyTorch records it (a division)."""
    check_tensor(input, "nanmean")
    dim, keepdim = _aliases("nanmean", dim, keepdim, aliases)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{input.dtype._short}"
        )
    total = nansum(input, dim, keepdim, dtype=dtype)
    axes = _axes(dim, input._data.ndim)
    count = (~xp.isnan(input._data)).sum(axis=axes, keepdims=True)
    count = _finish(count, input._data.shape, axes, keepdim).astype(total._data.dtype)
    return div(total, _make(count))


# --- prod --------------------------------------------------------------------------------------
def _along(x, d: int, start: int, stop: int):
    """x[start:stop] along dim d (a view of an array, a recorded slice of a tensor)."""
    return x[(slice(None),) * d + (slice(start, stop),)]


def _ones_at(x, d: int):
    """Ones shaped like x with dim d of size 1, of x's kind."""
    shape = list(P.data(x).shape)
    shape[d] = 1
    return P.zeros_like_shape(x, tuple(shape)) + 1


def _exclusive_cumprod(x, d: int):
    """prod_{l < i} x_l along d (1 at i = 0), without division, so exact with zeros."""
    n = P.data(x).shape[d]
    return P.cat([_ones_at(x, d), P.cumprod(_along(x, d, 0, n - 1), d)], d)


def _prod_grad(g, x, out, axis):
    """d prod / d x_i = the product of the other elements: out / x_i, or, when x holds zeros,
    exclusive running products from both ends (PyTorch's choice; exact at any order)."""
    if not (P.data(x) == 0).any():
        return g * _conj(out / x)
    shape = P.data(x).shape
    v, d = (P.reshape(x, (-1,)), 0) if axis is None else (x, axis)
    others = _exclusive_cumprod(v, d) * P.flip(_exclusive_cumprod(P.flip(v, d), d), d)
    return g * _conj(P.reshape(others, shape) if axis is None else others)


class ProdBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        x, out = self.saved_tensors
        return _prod_grad(grad, x, out, None)


class ProdBackward1(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        x, out = self.saved_tensors
        if not self.keepdim:
            grad, out = P.unsqueeze(grad, self.dim), P.unsqueeze(out, self.dim)
        return _prod_grad(grad, x, out, self.dim if P.data(x).ndim else None)


@method("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None, **aliases) -> Tensor:
    """Product of all elements, or along one dim; integers and bools multiply in int64."""
    check_tensor(input, "prod")
    dim, keepdim = _aliases("prod", dim, keepdim, aliases)
    a = _sum_data(input, dtype)
    if dim is None:
        return record(ProdBackward0, xp.prod(a), (input,), save=(input, OUT))
    if not isinstance(dim, int):
        raise TypeError(
            f"prod(): argument 'dim' (position 1) must be int, not {type(dim).__name__}"
        )
    d = _wrap_dim(dim, a.ndim)
    axes = (d,) if a.ndim else ()
    data = _finish(xp.prod(a, axis=axes, keepdims=True), a.shape, axes, keepdim)
    return record(ProdBackward1, data, (input,), save=(input, OUT), dim=d,
                  keepdim=keepdim or not a.ndim)


# --- max / min ---------------------------------------------------------------------------------
def _evenly(g, x, value):
    """The gradient of a full max/min: shared evenly by the elements equal to the result."""
    xd, vd = P.data(x), P.data(value)
    mask = xp.isnan(xd) if xp.isnan(vd).any() else xd == vd
    return P.where(mask, g / P.const(mask.sum(dtype=xd.dtype), g), 0.0)


class MaxBackward1(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        x, out = self.saved_tensors
        return _evenly(grad, x, out)


class MinBackward1(MaxBackward1):
    pass


class MaxBackward0(Node):
    """Max/min along a dim: the gradient goes to the index that was returned."""

    _saved_names = ("indices",)

    def backward(self, grad):
        (idx,) = self.saved_tensors
        shape = self._meta[0][0]
        if not shape:
            return grad
        d, idx = self.dim, P.data(idx)
        if not self.keepdim:
            idx, grad = xp.expand_dims(idx, d), P.unsqueeze(grad, d)
        hit = xp.arange(shape[d]).reshape((-1,) + (1,) * (len(shape) - d - 1)) == idx
        return P.where(hit, grad, 0.0)


class MinBackward0(MaxBackward0):
    pass


def _empty_full(fname: str) -> RuntimeError:
    return RuntimeError(
        f"{fname}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
        "reduction dim with the 'dim' argument."
    )


def _check_nonempty_dims(fname: str, shape: tuple, axes) -> None:
    for d in range(len(shape)) if axes is None else axes:
        if shape[d] == 0:
            raise IndexError(f"{fname}: Expected reduction dim {d} to have non-zero size.")


def _max_min(fname: str, input, dim, keepdim, other, extra: dict):
    check_tensor(input, fname)
    dim, keepdim = _aliases(fname, dim, keepdim, extra)
    if isinstance(dim, Tensor) or other is not None:
        from dyngrad.ops import comparison

        binary = comparison.maximum if fname == "max" else comparison.minimum
        return binary(input, dim if other is None else other)
    is_max = fname == "max"
    a = input._data
    if dim is None:
        if a.size == 0:
            raise _empty_full(fname)
        check_kernel(a.dtype, "c", f"{fname}_all")
        data = xp.max(a) if is_max else xp.min(a)
        return record(MaxBackward1 if is_max else MinBackward1, data, (input,), save=(input, OUT))
    d = _wrap_dim(operator.index(dim), a.ndim)
    if not a.ndim:
        values, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        _check_nonempty_dims(f"{fname}()", a.shape, (d,))
        if a.dtype.kind == "c":
            raise RuntimeError(f"{fname}(): does not support complex input")
        idx = (xp.argmax if is_max else xp.argmin)(a, axis=d, keepdims=True)
        values = xp.take_along_axis(a, idx, d)
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
    indices = _make(idx)
    cls = MaxBackward0 if is_max else MinBackward0
    values = record(cls, values, (input,), save=(indices,), dim=d, keepdim=keepdim)
    return (max_type if is_max else min_type)((values, indices))


@method("max")
def max(input, dim=None, keepdim=False, *, other=None, **aliases):  # noqa: A001
    """The largest element; along `dim`, (values, indices); with a tensor, `maximum`."""
    return _max_min("max", input, dim, keepdim, other, aliases)


@method("min")
def min(input, dim=None, keepdim=False, *, other=None, **aliases):  # noqa: A001
    """The smallest element; along `dim`, (values, indices); with a tensor, `minimum`."""
    return _max_min("min", input, dim, keepdim, other, aliases)


def _share_by_count(g, x, value, axes):
    """amax/amin's gradient: split evenly among the elements equal to the (kept-dims) result.
    Written as PyTorch writes it, (g / count) * mask, so a NaN result gives NaN gradients."""
    xd = P.data(x)
    mask = xd == P.data(value)
    count = mask.sum(axis=axes, keepdims=True, dtype=xd.dtype)
    return (g / P.const(count, g)) * P.const(mask.astype(xd.dtype), g)


class AmaxBackward0(Node):
    _saved_names = ("self", "result")

    @_quiet
    def backward(self, grad):
        x, out = self.saved_tensors
        return _share_by_count(_restore(grad, self), x, _restore(out, self), self.dim)


class AminBackward0(AmaxBackward0):
    pass


def _amax_amin(fname: str, input, dim, keepdim, extra: dict) -> Tensor:
    check_tensor(input, fname)
    dim, keepdim = _aliases(fname, dim, keepdim, extra)
    a = input._data
    axes = _axes(dim, a.ndim)
    if a.size == 0:
        if axes is None:
            raise _empty_full(fname)
        _check_nonempty_dims(f"{fname}()", a.shape, axes)
    check_kernel(a.dtype, "c", f"{fname[1:]}_values_cpu")
    data = (xp.max if fname == "amax" else xp.min)(a, axis=axes, keepdims=True)
    cls = AmaxBackward0 if fname == "amax" else AminBackward0
    return record(cls, _finish(data, a.shape, axes, keepdim), (input,), save=(input, OUT),
                  dim=axes, keepdim=keepdim)


@method("amax")
def amax(input, dim=(), keepdim=False, **aliases) -> Tensor:
    """Maximum over `dim` (all dims by default); ties share the gradient evenly."""
    return _amax_amin("amax", input, dim, keepdim, aliases)


@method("amin")
def amin(input, dim=(), keepdim=False, **aliases) -> Tensor:
    """Minimum over `dim` (all dims by default); ties share the gradient evenly."""
    return _amax_amin("amin", input, dim, keepdim, aliases)


class AminmaxBackward0(Node):
    _saved_names = ("self",)

    @_quiet
    def backward(self, grad_min, grad_max):
        (x,) = self.saved_tensors
        low = _share_by_count(_restore(grad_min, self), x, self.low, self.dim)
        return low + _share_by_count(_restore(grad_max, self), x, self.high, self.dim)


@method("aminmax")
def aminmax(input, *, dim=None, keepdim=False, **aliases):
    """(min, max) in one pass, as `torch.return_types.aminmax`."""
    check_tensor(input, "aminmax")
    dim, keepdim = _aliases("aminmax", dim, keepdim, aliases)
    a = input._data
    axes = None if dim is None else _axes(dim, a.ndim)
    if a.size == 0:
        if axes is None:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                "no identity."
            )
        _check_nonempty_dims("aminmax", a.shape, axes)
    check_kernel(a.dtype, "c", "aminmax_cpu")
    low = xp.min(a, axis=axes, keepdims=True)
    high = xp.max(a, axis=axes, keepdims=True)
    outs = record_multi(AminmaxBackward0, [_finish(low, a.shape, axes, keepdim),
                                           _finish(high, a.shape, axes, keepdim)], (input,),
                        save=(input,), dim=axes, keepdim=keepdim, low=low, high=high)
    return aminmax_type(outs)


def _arg(fname: str, input, dim, keepdim, extra: dict) -> Tensor:
    check_tensor(input, fname)
    dim, keepdim = _aliases(fname, dim, keepdim, extra)
    a = input._data
    if a.dtype.kind in "bc":
        kind = "bool" if a.dtype.kind == "b" else "complex"
        raise RuntimeError(f"{fname}(): does not support {kind} input")
    fn = xp.argmax if fname == "argmax" else xp.argmin
    if dim is None:
        if a.size == 0:
            raise IndexError(
                f"{fname}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        idx = xp.asarray(fn(a), dtype=xp.int64)
        return _make(idx.reshape((1,) * a.ndim) if keepdim else idx)
    d = _wrap_dim(operator.index(dim), a.ndim)
    if not a.ndim:
        return _make(xp.zeros((), xp.int64))
    _check_nonempty_dims(f"{fname}()", a.shape, (d,))
    return _make(fn(a, axis=d, keepdims=keepdim).astype(xp.int64, copy=False))


@method("argmax")
def argmax(input, dim=None, keepdim=False, **aliases) -> Tensor:
    """Index of the largest element (of the flattened input when `dim` is None)."""
    return _arg("argmax", input, dim, keepdim, aliases)


@method("argmin")
def argmin(input, dim=None, keepdim=False, **aliases) -> Tensor:
    """Index of the smallest element (of the flattened input when `dim` is None)."""
    return _arg("argmin", input, dim, keepdim, aliases)


# --- var / std ---------------------------------------------------------------------------------
def _var_args(fname: str, input, dim, unbiased, keepdim, correction, extra: dict):
    """PyTorch's overloads: var(x, unbiased), var(x, dim, unbiased, keepdim), var(x, dim, *,
    correction, keepdim)."""
    check_tensor(input, fname)
    dim, keepdim = _aliases(fname, dim, keepdim, extra)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return _axes(dim, input._data.ndim), keepdim, correction


def _var_data(fname: str, a, axes, correction, stacklevel: int = 3):
    """Variance (dims kept), warning as PyTorch does when there are no degrees of freedom."""
    n = _count(a.shape, axes)
    dof = n - correction
    if dof <= 0:
        warnings.warn(
            f"{fname}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).", UserWarning,
            stacklevel=stacklevel,
        )
    with xp.errstate(invalid="ignore", divide="ignore"):
        dev = a - xp.sum(a, axis=axes, keepdims=True) / n
        sq = (dev * dev.conj()).real if a.dtype.kind == "c" else dev * dev
        out = xp.sum(sq, axis=axes, keepdims=True) / (dof if dof > 0 else 0)
    return out.astype(sq.dtype, copy=False)


def _var_grad(g, x, axes, correction):
    """d var / d x = 2 (x - mean) / (N - correction), times the kept-dims gradient `g`."""
    n = _count(P.data(x).shape, axes)
    dof = n - correction
    scale = 2.0 / dof if dof else math.inf  # (a negative dof too, as PyTorch)
    return (scale * g) * (x - P.sum(x, axes, True) / n)


def _std_to_var_grad(g, std):
    """The gradient of std, as a gradient of var: g / (2 std), 0 where std == 0."""
    return P.where(P.data(std) == 0, 0.0, g / (std * 2))


class VarBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return _var_grad(_restore(grad, self), x, self.dim, self.correction)


class StdBackward0(Node):
    _saved_names = ("self", "result")

    @_quiet
    def backward(self, grad):
        x, out = self.saved_tensors
        g = _std_to_var_grad(_restore(grad, self), _restore(out, self))
        return _var_grad(g, x, self.dim, self.correction)


@method("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **aliases) -> Tensor:
    """Variance over `dim`, with Bessel's correction by default (`correction=1`)."""
    axes, keepdim, c = _var_args("var", input, dim, unbiased, keepdim, correction, aliases)
    data = _var_data("var", input._data, axes, c)
    return record(VarBackward0, _finish(data, input._data.shape, axes, keepdim), (input,),
                  save=(input,), dim=axes, keepdim=keepdim, correction=c)


@method("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **aliases) -> Tensor:
    """Standard deviation over `dim`, with Bessel's correction by default (`correction=1`)."""
    axes, keepdim, c = _var_args("std", input, dim, unbiased, keepdim, correction, aliases)
    data = xp.sqrt(_var_data("std", input._data, axes, c))
    return record(StdBackward0, _finish(data, input._data.shape, axes, keepdim), (input,),
                  save=(input, OUT), dim=axes, keepdim=keepdim, correction=c)


class VarMeanBackward0(Node):
    _saved_names = ("self",)

    @_quiet
    def backward(self, grad_var, grad_mean):
        saved = self.saved_tensors
        x, shape = saved[0], self._meta[0][0]
        g = _restore(grad_var, self)
        if self.std:
            g = _std_to_var_grad(g, _restore(saved[1], self))
        g = _var_grad(g, x, self.dim, self.correction)
        return g + P.expand(_restore(grad_mean, self) / _count(shape, self.dim), shape)


class StdMeanBackward0(VarMeanBackward0):
    pass


def _moments(fname: str, input, dim, unbiased, keepdim, correction, extra: dict) -> tuple:
    axes, keepdim, c = _var_args(fname, input, dim, unbiased, keepdim, correction, extra)
    a = input._data
    spread = _var_data(fname, a, axes, c, stacklevel=4)
    is_std = fname == "std_mean"
    if is_std:
        spread = xp.sqrt(spread)
    with xp.errstate(invalid="ignore", divide="ignore"):
        avg = (xp.sum(a, axis=axes, keepdims=True) / _count(a.shape, axes)).astype(a.dtype)
    cls = StdMeanBackward0 if is_std else VarMeanBackward0
    return record_multi(cls, [_finish(spread, a.shape, axes, keepdim),
                              _finish(avg, a.shape, axes, keepdim)], (input,),
                        (input, OUT) if is_std else (input,), dim=axes, keepdim=keepdim,
                        correction=c, std=is_std)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **aliases):
    """(var, mean) over `dim`."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, aliases)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **aliases):
    """(std, mean) over `dim`."""
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, aliases)


# --- logsumexp ---------------------------------------------------------------------------------
class LogsumexpBackward0(Node):
    _saved_names = ("self", "result")

    @_quiet
    def backward(self, grad):
        x, out = self.saved_tensors
        return _restore(grad, self) * _conj(P.exp(x - _restore(out, self)))


@method("logsumexp")
def logsumexp(input, dim, keepdim=False, **aliases) -> Tensor:
    """log(sum(exp(input))) over `dim`, computed stably by shifting by the maximum."""
    check_tensor(input, "logsumexp")
    dim, keepdim = _aliases("logsumexp", dim, keepdim, aliases)
    a = float_data(input)
    axes = _axes(dim, a.ndim)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if _count(a.shape, axes) == 0:
            data = xp.log(xp.sum(xp.exp(a), axis=axes, keepdims=True))
        else:
            m = xp.max(a, axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(a.dtype, copy=False)
            data = xp.log(xp.sum(xp.exp(a - m), axis=axes, keepdims=True)) + m
    return record(LogsumexpBackward0, _finish(data, a.shape, axes, keepdim), (input,),
                  save=(input, OUT), dim=axes, keepdim=keepdim)


# --- norms -------------------------------------------------------------------------------------
class LinalgVectorNormBackward0(Node):
    _saved_names = ("self", "result")

    @_quiet
    def backward(self, grad):
        x, out = self.saved_tensors
        return norm_grad(x, _restore(grad, self), _restore(out, self), self.ord, self.dim)

    @_quiet
    def jvp(self, t):
        """The tangent sum(d norm / dx * t): PyTorch's, 0 at a zero norm (where the gradient's
        derivative in the output gradient, which the double-vjp trick would use, is NaN)."""
        x, out = self.saved_tensors
        norm = _restore(out, self)
        d = norm_grad(x, P.const(xp.ones_like(P.data(norm)), norm), norm, self.ord, self.dim)
        if d is None:  # p = 0: a step function
            return None
        dt = _conj(d) * t
        return P.sum(P.real(dt) if dt.is_complex() else dt, self.dim, keepdim=self.keepdim)


def norm_grad(x, g, norm, p: float, dims):
    """Gradient of the p-norm of x over `dims` (PyTorch's norm_backward): g and norm have the
    reduced dims kept as size 1; None for p = 0, whose gradient PyTorch leaves undefined."""
    if p == 0:
        return None
    if p == 1:
        return P.sgn(x) * g
    zero = P.data(norm) == 0
    if p == 2:
        return g * P.where(zero, 0.0, x / norm)
    if math.isinf(p):
        ax = xp.abs(P.data(x))
        mask = (ax == P.data(norm)) | xp.isnan(ax)
        count = mask.sum(axis=dims, keepdims=True, dtype=ax.dtype)
        return P.sgn(x) * P.where(mask, g / P.const(count, g), 0.0)
    if p < 1:
        scaled = P.sgn(x) * P.where(P.data(x) == 0, 0.0, P.abs(x) ** (p - 1))
        return scaled * g * norm ** (1 - p)
    scale = P.where(zero, 0.0, g / norm ** (p - 1))
    if p < 2:
        return P.sgn(x) * P.abs(x) ** (p - 1) * scale
    return x * P.abs(x) ** (p - 2) * scale


def _vector_norm(input, p, dim, keepdim, dtype) -> Tensor:
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{input.dtype._short}"
        )
    a = input._data if dtype is None else input._data.astype(_dtype.as_dtype(dtype).np)
    axes = _axes(dim, a.ndim)
    mag = xp.abs(a)
    p = float(p)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 2:
            data = xp.sqrt(xp.sum(mag * mag, axis=axes, keepdims=True))
        elif p == 1:
            data = xp.sum(mag, axis=axes, keepdims=True)
        elif p == 0:
            data = xp.sum(mag != 0, axis=axes, keepdims=True).astype(mag.dtype)
        elif math.isinf(p):
            if a.size == 0:
                _check_inf_norm(a.shape, axes)
            data = (xp.max if p > 0 else xp.min)(mag, axis=axes, keepdims=True)
        else:
            data = xp.sum(mag ** p, axis=axes, keepdims=True) ** (1 / p)
    data = _finish(data.astype(mag.dtype, copy=False), a.shape, axes, keepdim)
    return record(LinalgVectorNormBackward0, data, (input,), save=(input, OUT), ord=p, dim=axes,
                  keepdim=keepdim)


def _check_inf_norm(shape: tuple, axes) -> None:
    if axes is None:
        raise RuntimeError(
            "linalg.vector_norm cannot compute the inf norm on an empty tensor because the "
            "operation does not have an identity"
        )
    for d in axes:
        if shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the inf norm on the dimension {d}because this "
                "dimension is empty and the operation does not have an identity"
            )


@method("norm")
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None) -> Tensor:
    """Vector p-norm over `dim` (all elements by default); 'fro' is the 2-norm."""
    check_tensor(input, "norm")
    if p is None or p == "fro":
        if dim is not None and not isinstance(dim, int) and len(dim) > 2:
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}"
            )
        p = 2
    elif p == "nuc":  # the sum of singular values, over the last two dims or `dim`
        from dyngrad.ops.decompositions import matrix_norm

        all_dims = tuple(range(input._data.ndim))  # PyTorch: all dims, refused unless two
        return matrix_norm(input, "nuc", all_dims if dim is None else dim, keepdim, dtype=dtype)
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): invalid norm type {p!r}; expected a number, 'fro' or 'nuc'")
    result = _vector_norm(input, p, dim, keepdim, dtype)
    return result if out is None else _out(result, out, "norm")


# --- cumulative --------------------------------------------------------------------------------
def _rev_cumsum(x, d):
    return P.flip(P.cumsum(P.flip(x, d), d), d)


class CumsumBackward0(Node):
    def backward(self, grad):
        if not self._meta[0][0]:
            return grad
        return _rev_cumsum(grad, self.dim)


def _cumprod_grad_exact(g, x, d: int):
    """sum_{j >= k} g_j prod_{l <= j, l != k} x_l for each k, from differentiable ops only, so
    valid at every order with zeros in x (PyTorch's O(n^2) formula under create_graph)."""
    n = P.data(x).shape[d]
    cols = []
    for k in range(n):
        omitted = P.prod(_along(x, d, 0, k), d, keepdim=True) if k else _ones_at(x, d)
        if k < n - 1:
            omitted = P.cat([omitted, omitted * P.cumprod(_along(x, d, k + 1, n), d)], d)
        cols.append(P.sum(_along(g, d, k, n) * _conj(omitted), d, True))
    return P.cat(cols, d)


class CumprodBackward0(Node):
    """sum_{j >= i} g_j out_j / x_i; with zeros in x, the first zero of each slice is handled
    exactly (and, under create_graph, every element through `_cumprod_grad_exact`)."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        x, out = self.saved_tensors
        d = self.dim
        xd = P.data(x)
        if not xd.ndim:
            return grad
        zero = xd == 0
        if not zero.any():
            return _rev_cumsum(grad * _conj(out), d) / _conj(x)
        if P.is_tensor(x):
            return _cumprod_grad_exact(grad, x, d)
        seen = xp.cumsum(zero, axis=d)
        before = seen == 0  # ahead of the slice's first zero
        first = zero & (seen == 1)
        head = P.where(before, _rev_cumsum(grad * _conj(out), d) / _conj(P.where(before, x, 1.0)),
                       0.0)
        skip = P.cumprod(P.where(first, 1.0, x), d)  # products with the first zero left out
        return head + P.where(first, _rev_cumsum(grad * _conj(skip), d), 0.0)


def _cumulative(fname: str, np_fn, cls, input, dim, dtype, extra: dict) -> Tensor:
    check_tensor(input, fname)
    dim, _ = _aliases(fname, dim, False, extra)
    if dim is None:
        raise TypeError(f'{fname}() missing 1 required positional arguments: "dim"')
    a = _sum_data(input, dtype)
    d = _wrap_dim(operator.index(dim), a.ndim)
    data = np_fn(a, axis=d) if a.ndim else a.copy()
    save = (input, OUT) if cls is CumprodBackward0 else ()
    return record(cls, data, (input,), save=save, dim=d)


@method("cumsum")
def cumsum(input, dim=None, *, dtype=None, **aliases) -> Tensor:
    """Running sum along `dim`."""
    return _cumulative("cumsum", xp.cumsum, CumsumBackward0, input, dim, dtype, aliases)


@method("cumprod")
def cumprod(input, dim=None, *, dtype=None, **aliases) -> Tensor:
    """Running product along `dim`."""
    return _cumulative("cumprod", xp.cumprod, CumprodBackward0, input, dim, dtype, aliases)


def _inplace(fn, name: str):
    def method_(self, *args, **kwargs):
        return apply_inplace(self, fn, *args, name=name, **kwargs)

    method_.__name__ = name
    return method_


Tensor.cumsum_ = _inplace(cumsum, "cumsum_")
Tensor.cumprod_ = _inplace(cumprod, "cumprod_")


# --- logical reductions ------------------------------------------------------------------------
def _logical(fname: str, np_fn, input, dim, keepdim, extra: dict) -> Tensor:
    check_tensor(input, fname)
    dim, keepdim = _aliases(fname, dim, keepdim, extra)
    a = input._data
    axes = _axes(dim, a.ndim)
    data = _finish(np_fn(a, axis=axes, keepdims=True), a.shape, axes, keepdim)
    return _make(data.astype(xp.uint8) if a.dtype == xp.uint8 else data)


@method("all")
def all(input, dim=None, keepdim=False, **aliases) -> Tensor:  # noqa: A001
    """True if every element is nonzero (uint8 in, uint8 out, as in PyTorch)."""
    return _logical("all", xp.all, input, dim, keepdim, aliases)


@method("any")
def any(input, dim=None, keepdim=False, **aliases) -> Tensor:  # noqa: A001
    """True if some element is nonzero (uint8 in, uint8 out, as in PyTorch)."""
    return _logical("any", xp.any, input, dim, keepdim, aliases)


@method("count_nonzero")
def count_nonzero(input, dim=None, **aliases) -> Tensor:
    """How many elements are nonzero, over `dim` (all dims by default)."""
    check_tensor(input, "count_nonzero")
    dim, _ = _aliases("count_nonzero", dim, False, aliases)
    a = input._data
    axes = _axes(dim, a.ndim)
    return _make(xp.asarray(xp.count_nonzero(a, axis=axes), dtype=xp.int64))
