"""Gather and scatter: gather/scatter*, index_*, masked_*, take/put, nonzero, and the index
builders (meshgrid, cartesian_prod, combinations, block_diag, tril/triu_indices).

Each op is a NumPy kernel (`np_<name>`), the checks PyTorch makes (with its messages, in its
order) and a node named as PyTorch names it. `either.<name>` (end of the module) runs the kernel on
arrays and the op on tensors, so a backward formula such as
`either.scatter_add(zeros, dim, index, grad)` is plain NumPy in an ordinary backward and records a
graph under create_graph, as the `_poly` helpers do.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import (
    OUT,
    check_broadcast,
    check_tensor,
    method,
    needs_grad,
    record,
    result_dtype,
)
from dyngrad.ops.arithmetic import NotImplemented, _out  # noqa: A004 - PyTorch's node name
from dyngrad.ops.inplace import apply_inplace
from dyngrad.ops.shape import stack

__all__ = [
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
    "index_copy", "index_fill", "index_reduce", "masked_fill", "masked_select", "masked_scatter",
    "take", "take_along_dim", "put", "nonzero", "nonzero_static", "argwhere", "block_diag",
    "cartesian_prod", "combinations", "meshgrid", "tril_indices", "triu_indices",
]


def _finish(res: Tensor, out, name: str) -> Tensor:
    return res if out is None else _out(res, out, name)


def _needs(node: Node, i: int) -> bool:
    """Whether input i of `node` wants a gradient (skip formulas nobody reads)."""
    return node._next[i][0] is not None


def _nd(a) -> int:
    return max(a.ndim, 1)


def _size(a, d: int) -> int:
    """PyTorch's `ensure_nonempty_size`: a 0-dim tensor has size 1 in its one dim."""
    return a.shape[d] if a.ndim else 1


def _short(a) -> str:
    return _dtype.FROM_NP[a.dtype]._short


def _sizes(a) -> list:
    return list(a.shape)


# --- scalar values written into a tensor -------------------------------------------------------
_CPP = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "int64_t",
        "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
        "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def fill_value(value, dt):
    """`value` (a Python number) as a NumPy scalar of dtype `dt`, refusing what PyTorch refuses
    (a complex value for a real tensor, a value out of the dtype's range)."""
    if isinstance(value, xp.generic):
        value = value.item()
    if dt.kind == "b":
        return xp.bool_(value)
    bad = isinstance(value, complex) and dt.kind != "c"
    if not bad and dt.kind in "iu":
        info = xp.iinfo(dt)
        low = -info.max if dt.kind == "u" else info.min
        bad = value != value or not low <= value <= info.max  # NaN and inf are out of range
        value = int(value) if not bad else value
    elif not bad and dt.kind in "fc":
        mag = abs(value)
        bad = mag != float("inf") and mag == mag and mag > xp.finfo(dt).max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {_CPP[dt.name]} without overflow")
    if dt.kind == "u" and value < 0:
        value += 1 << (8 * dt.itemsize)
    return xp.asarray(value, dt)[()]


# --- NumPy kernels (also behind `either`) ------------------------------------------------------
def _along_key(index, dim: int) -> tuple:
    """The fancy index that pairs each entry of `index` with its position in the other dims."""
    nd = index.ndim
    return tuple(index if d == dim else
                 xp.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1))
                 for d, n in enumerate(index.shape))


def _region(a, shape: tuple):
    """a's leading corner of `shape` (the part an index of that shape can reach)."""
    return a[tuple(slice(0, n) for n in shape)]


def _as1d(a):
    return a.reshape(1) if a.ndim == 0 else a


_ndarray = xp.ndarray


def _batched(x) -> bool:
    """Whether x is an array NumPy hands to another library (under vmap, a batched array)."""
    return type(x) is not _ndarray and hasattr(x, "__array_function__")


def np_gather(a, dim: int, index):
    if not index.size:
        return xp.empty(index.shape, a.dtype)
    idx = _as1d(index)
    if type(idx) is not _ndarray and _batched(idx):
        # NumPy cannot index a plain array with a batched one; take_along_axis dispatches
        a = _as1d(a)
        reach = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(idx.shape))
        return xp.take_along_axis(a[reach], idx, dim).reshape(index.shape)
    key = _along_key(idx, dim)
    return _as1d(a)[key].reshape(index.shape)


def _copy_for(a, index, src=None):
    """A copy of a to scatter into: an ndarray even for a NumPy scalar (0-d results). Under vmap,
    a batched index or src makes it a copy per sample (batched at their levels too, as PyTorch's
    batching rules expand self), since batched values can only be written into a batched array:
    `where` with a condition batched like them (and true) makes that copy."""
    if (type(index) is _ndarray or not _batched(index)) and (
            type(src) is _ndarray or not _batched(src)):
        return xp.array(a, order="C")
    every = True
    for x in (index, src):
        if _batched(x):
            every = every & xp.ones_like(x, dtype=bool, shape=())
    return xp.where(every, a, a)


def _scatter_view(out, dim, index):
    """out (1-d if 0-dim) and the key of `index` into it."""
    return _as1d(out), _along_key(_as1d(index), dim)


def _src_values(src, index):
    if isinstance(src, xp.ndarray):
        return _region(_as1d(src), _as1d(index).shape)
    return src


def np_scatter(a, dim: int, index, src, reduce=None):
    out = _copy_for(a, index, src)
    if not index.size:
        return out
    view, key = _scatter_view(out, dim, index)
    v = _src_values(src, index)
    if reduce == "add":
        xp.add.at(view, key, v)
    elif reduce == "multiply":
        xp.multiply.at(view, key, v)
    else:
        view[key] = v
    return out


def np_scatter_add(a, dim: int, index, src):
    out = _copy_for(a, index, src)
    if not index.size:
        return out
    view, key = _scatter_view(out, dim, index)
    xp.add.at(view, key, _src_values(src, index))
    return out


_REDUCE_AT = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum,
              "amin": xp.minimum}


def _identity(reduce: str, dt):
    """The value a reduction starts from when self is left out (include_self=False)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dt.kind in "fc":
        return -xp.inf if reduce == "amax" else xp.inf
    info = xp.iinfo(dt)
    return info.min if reduce == "amax" else info.max


def np_scatter_reduce(a, dim: int, index, src, reduce: str, include_self: bool = True):
    out = _copy_for(a, index, src)
    if not index.size:
        return out
    view, key = _scatter_view(out, dim, index)
    v = _src_values(src, index)
    if not include_self:
        view[key] = _identity(reduce, out.dtype)
    _REDUCE_AT[reduce].at(view, key, v)
    if reduce == "mean":
        count = xp.full_like(view, 1 if include_self else 0)
        xp.add.at(count, key, 1)
        count[count == 0] = 1
        if out.dtype.kind in "fc":
            view /= count
        else:
            view //= count
    return out


def np_index_select(a, dim: int, index):
    if a.ndim == 0:
        return a.copy()
    index = index.reshape(-1)
    if type(index) is not _ndarray and _batched(index) and index.level:
        from dyngrad.func._batched import has_level

        if not has_level(a, index.level):  # numpy.take dispatches on `a` only (as in np_take)
            a = _copy_for(a, index)
    return xp.take(a, index, axis=dim)


def _index_key(dim: int, index) -> tuple:
    return (slice(None),) * dim + (index.reshape(-1),)


def np_index_add(a, dim: int, index, src, alpha=1):
    out = _copy_for(a, index, src)
    view = _as1d(out)
    v = src if alpha == 1 else src * alpha
    xp.add.at(view, _index_key(dim, index), xp.reshape(v, _indexed_shape(view, dim, index)))
    return out


def _indexed_shape(a, dim, index) -> tuple:
    return a.shape[:dim] + (index.size,) + a.shape[dim + 1:]


def np_index_copy(a, dim: int, index, src):
    out = _copy_for(a, index, src)
    view = _as1d(out)
    view[_index_key(dim, index)] = xp.reshape(src, _indexed_shape(view, dim, index))
    return out


def np_index_fill(a, dim: int, index, value):
    out = _copy_for(a, index, value)
    _as1d(out)[_index_key(dim, index)] = value
    return out


def np_masked_select(a, mask):
    a, mask = xp.broadcast_arrays(a, mask)
    return a[mask]


def np_masked_scatter(a, mask, src):
    shape = xp.broadcast_shapes(a.shape, mask.shape)
    out = xp.broadcast_to(a, shape).copy()
    mask = xp.broadcast_to(mask, shape)
    out[mask] = src.reshape(-1)[: int(xp.count_nonzero(mask))]
    return out


def np_take(a, index):
    if type(index) is not _ndarray and _batched(index):  # as in np_gather
        return xp.take_along_axis(a.reshape(-1), index.reshape(-1), 0).reshape(index.shape)
    return a.reshape(-1)[index]


def np_put(a, index, src, accumulate=False):
    out = _copy_for(a, index, src)
    flat = out.reshape(-1)
    if accumulate:
        xp.add.at(flat, index.reshape(-1), src.reshape(-1))
    else:
        flat[index.reshape(-1)] = src.reshape(-1)
    return out


# --- checks ------------------------------------------------------------------------------------
def _int_index(index, fname: str) -> None:
    if index.dtype not in (xp.int64, xp.int32):
        raise RuntimeError(f"{fname}(): Expected dtype int32/int64 for index")


def _long_index(index, msg: str, exc=RuntimeError) -> None:
    if index.dtype != xp.int64:
        raise exc(msg.format(_short(index)))


def _check_bounds(index, size: int, dim: int, negative: bool = False, prefix: str = "",
                  exc=RuntimeError) -> None:
    """PyTorch's error for the first index outside [0, size) ([-size, size) if `negative`)."""
    if not index.size:
        return
    bad = (index < -size if negative else index < 0) | (index >= size)
    if bad.any():
        value = index.reshape(-1)[xp.argmax(bad.reshape(-1))]
        raise exc(f"{prefix}index {value} is out of bounds for dimension {dim} with size {size}")


def _scatter_checks(a, dim: int, index, src=None) -> None:
    """scatter_gather_dtype_check + scatter_shape_check, as PyTorch orders them."""
    if index.size:
        _int_index(index, "scatter")
    if src is not None and src.dtype != a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if not index.size:
        return
    if _nd(a) != _nd(index):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    wrong = any(d != dim and _size(index, d) > _size(a, d) for d in range(_nd(a)))
    if not wrong and src is not None:
        wrong = any(_size(index, d) > (src.shape[_wrap_dim(d, src.ndim)] if src.ndim else 1)
                    for d in range(_nd(a)))
    if src is not None and _nd(src) != _nd(index):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if wrong:
        msg = (f"Expected index {_sizes(index)} to be no larger than self {_sizes(a)} apart from "
               f"dimension {dim}")
        if src is not None:
            msg += f" and to be no larger size than src {_sizes(src)}"
        raise RuntimeError(msg)
    _check_bounds(index, _size(a, dim), dim)


def _check_differentiable(data, value: Tensor) -> None:
    """A value tensor that requires grad cannot be written into an integer or bool result."""
    if data.dtype.kind not in "fc" and needs_grad(value):
        raise RuntimeError(f"Autograd not support dtype: {_short(data)}")


# --- gather ------------------------------------------------------------------------------------
class GatherBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        return either.scatter_add(P.zeros_like_shape(grad, self._meta[0][0]), self.dim, index, grad)


@method("gather")
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out=None) -> Tensor:
    """out[i][j] = input[index[i][j]][j] (for dim 0): values picked along `dim`."""
    check_tensor(input, "gather")
    check_tensor(index, "gather", "index", 3)
    a, idx = input._data, index._data
    d = _wrap_dim(dim, a.ndim)
    if idx.size:
        _int_index(idx, "gather")
        if _nd(a) != _nd(idx):
            raise RuntimeError(
                "Index tensor must have the same number of dimensions as input tensor")
        for i in range(_nd(a)):
            if i != d and _size(idx, i) > _size(a, i):
                raise RuntimeError(
                    f"Size does not match at dimension {i} expected index {_sizes(idx)} to be no "
                    f"larger than self {_sizes(a)} apart from dimension {d}")
        _check_bounds(idx, _size(a, d), d)
    res = record(GatherBackward0, np_gather(a, d, idx), (input,), save=(index,), dim=d)
    return _finish(res, out, "gather")


# --- scatter, scatter_add, scatter_reduce ------------------------------------------------------
def _src_grad(node, g):
    """The gradient of a scatter's src: g where the index reached, zeros in the rest of a src
    larger than the index (PyTorch's formula there gives a gradient of the wrong shape)."""
    shape = node._meta[1][0]
    if P.data(g).shape == shape:
        return g
    out = P.zeros_like_shape(g, shape)
    out[tuple(slice(0, n) for n in P.data(g).shape)] = g
    return out


class ScatterBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        d = self.dim
        return (either.scatter(grad, d, index, 0) if _needs(self, 0) else None,
                _src_grad(self, either.gather(grad, d, index)) if _needs(self, 1) else None)


class ScatterBackward1(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        return either.scatter(grad, self.dim, index, 0)


_REDUCE_WARNING = (
    "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
    "future PyTorch release. Use torch.scatter_reduce instead for more reduction options."
)


@method("scatter")
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None,
            out=None) -> Tensor:
    """A copy of input with `src` (a tensor, or one `value`) written at `index` along `dim`;
    `reduce='add'|'multiply'` combines instead of overwriting."""
    check_tensor(input, "scatter")
    check_tensor(index, "scatter", "index", 3)
    src = value if src is None else src
    a, idx = input._data, index._data
    d = _wrap_dim(dim, a.ndim)
    is_tensor = isinstance(src, Tensor)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if is_tensor:
            warnings.warn(_REDUCE_WARNING, UserWarning, stacklevel=2)
    _scatter_checks(a, d, idx, src._data if is_tensor else None)
    v = src._data if is_tensor else fill_value(src, a.dtype)
    data = np_scatter(a, d, idx, v, reduce)
    if reduce is not None:
        res = record(NotImplemented, data, (input, src) if is_tensor else (input,), op="scatter")
    elif is_tensor:
        res = record(ScatterBackward0, data, (input, src), save=(index,), dim=d)
    else:
        res = record(ScatterBackward1, data, (input,), save=(index,), dim=d)
    return _finish(res, out, "scatter")


@method("scatter_")
def scatter_(self: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None):
    return apply_inplace(self, scatter, dim, index, src, value=value, reduce=reduce,
                         name="scatter_")


class ScatterAddBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        return grad, (_src_grad(self, either.gather(grad, self.dim, index)) if _needs(self, 1)
                      else None)


@method("scatter_add")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor, *, out=None) -> Tensor:
    """A copy of input with `src` added at `index` along `dim` (repeated indices accumulate)."""
    check_tensor(input, "scatter_add")
    check_tensor(index, "scatter_add", "index", 3)
    check_tensor(src, "scatter_add", "src", 4)
    a, idx = input._data, index._data
    d = _wrap_dim(dim, a.ndim)
    _scatter_checks(a, d, idx, src._data)
    res = record(ScatterAddBackward0, np_scatter_add(a, d, idx, src._data), (input, src),
                 save=(index,), dim=d)
    return _finish(res, out, "scatter_add")


@method("scatter_add_")
def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return apply_inplace(self, scatter_add, dim, index, src, name="scatter_add_")


class ScatterReduceBackward0(Node):
    """PyTorch's scatter_reduce backward. IndexReduceBackward0 reuses it by redefining how a
    value is read at each source position (`take`, `read`) and spread back (`spread`)."""

    _saved_names = ("self", "index", "src", "result")

    def backward(self, grad):
        self_, index, src, result = self.saved_tensors
        g_self, g_src = self.formula(grad, self_, index, self.reached(src, index), result)
        if not self.include_self:
            g_self = self.clear(g_self, index)
        return g_self, _src_grad(self, g_src)

    def formula(self, grad, self_, index, src, result):
        ix = P.data(index)
        if self.reduce == "sum":
            return grad, self.take(grad, index)
        if self.reduce == "mean":
            g = P.data(grad)
            count = self.spread(xp.full(g.shape, 1 if self.include_self else 0, g.dtype), ix,
                                xp.ones(P.data(src).shape, g.dtype))
            count[count == 0] = 1
            return (grad / P.const(count, grad),
                    self.take(grad, index) / P.const(self.read(count, ix), grad))
        if self.reduce == "prod":  # zeros need care: a lone zero's gradient is the others' product
            s, v = P.data(self_), P.data(src)
            masked_self = P.where(s == 0, 1.0, self_)
            g_self = grad * self.reduce_again(masked_self, index, src) / masked_self
            src_zero = v == 0
            zeros = self.read(self.spread(xp.zeros(s.shape, s.dtype), ix,
                                          src_zero.astype(s.dtype)), ix)
            single = src_zero & (zeros == 1)
            others = self.reduce_again(self_, index, P.where(single, 1.0, src))
            g_src = P.where(single, self.take(grad * others, index),
                            self.take(grad * result, index) / P.where(src_zero, 1.0, src))
            return g_self, g_src
        # amax, amin: the elements equal to the result share its gradient evenly
        s, v, r = P.data(self_), P.data(src), P.data(result)
        self_is = (s == r).astype(s.dtype)
        src_is = (v == self.read(r, ix)).astype(s.dtype)
        shared = grad / P.const(self.spread(self_is, ix, src_is), grad)
        return shared * P.const(self_is, grad), self.take(shared, index) * P.const(src_is, grad)

    def reached(self, src, index):
        """The part of src the index reaches (all of it unless src is larger)."""
        shape = P.data(index).shape
        if P.data(src).shape == shape or not shape:
            return src
        return src[tuple(slice(0, n) for n in shape)]

    def take(self, x, index):
        return either.gather(x, self.dim, index)

    def read(self, x, ix):
        return np_gather(x, self.dim, ix)

    def spread(self, x, ix, v):
        return np_scatter_add(x, self.dim, ix, v)

    def reduce_again(self, x, index, src):
        return either.scatter_reduce(x, self.dim, index, src, "prod",
                                     include_self=self.include_self)

    def clear(self, g, index):
        return either.scatter(g, self.dim, index, 0)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


@method("scatter_reduce")
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True, out=None) -> Tensor:
    """A copy of input where `src` is reduced (sum, prod, mean, amax, amin) into the positions
    `index` names along `dim`, together with input's own value unless include_self=False."""
    check_tensor(input, "scatter_reduce")
    check_tensor(index, "scatter_reduce", "index", 3)
    check_tensor(src, "scatter_reduce", "src", 4)
    if reduce not in _REDUCES:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    a, idx = input._data, index._data
    d = _wrap_dim(dim, a.ndim)
    _scatter_checks(a, d, idx, src._data)
    data = np_scatter_reduce(a, d, idx, src._data, reduce, include_self)
    res = record(ScatterReduceBackward0, data, (input, src),
                 save=(input, index, src, OUT), dim=d, reduce=reduce, include_self=include_self)
    return _finish(res, out, "scatter_reduce")


@method("scatter_reduce_")
def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    return apply_inplace(self, scatter_reduce, dim, index, src, reduce,
                         include_self=include_self, name="scatter_reduce_")


# --- index_select, index_add, index_copy, index_fill, index_reduce -----------------------------
class IndexSelectBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        return either.index_add(P.zeros_like_shape(grad, self._meta[0][0]), self.dim, index, grad)


@method("index_select")
def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """The slices of input at `index` along `dim`."""
    check_tensor(input, "index_select")
    check_tensor(index, "index_select", "index", 3)
    a, idx = input._data, index._data
    d = _wrap_dim(dim, a.ndim)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype not in (xp.int64, xp.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if a.ndim == 0 and idx.size != 1:
        raise RuntimeError(
            f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    _index_select_bounds(a, d, idx)
    res = record(IndexSelectBackward0, np_index_select(a, d, idx), (input,), save=(index,), dim=d)
    return _finish(res, out, "index_select")


def _index_select_bounds(a, d: int, idx) -> None:
    """index_select's out-of-range errors, which differ between PyTorch's kernels."""
    size = _size(a, d)
    bad = (idx < 0) | (idx >= size)
    if a.ndim > 1 and idx.size and not a.size and not size:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if not bad.any():
        return
    value = idx.reshape(-1)[xp.argmax(bad.reshape(-1))]
    if a.ndim > 1 and d == 1:
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={value} axis_dim={size}")
    if a.ndim > 1 and not a.size:
        raise IndexError(f"index_select(): index {value} out of range for tensor of size "
                         f"{_sizes(a)} at dimension {d}")
    raise IndexError("index out of range in self")


def _index_source_checks(a, d: int, idx, src, fname: str) -> None:
    """index_add / index_reduce: the index is a vector of int32/int64, the source has the shape
    of self except along dim, where it has one slice per index."""
    if idx.ndim > 1:
        raise IndexError(
            f"{fname}(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
            f"{_short(idx)} and size: {_sizes(idx)}")
    if idx.dtype not in (xp.int64, xp.int32):
        raise RuntimeError(
            f"{fname}(): Expected dtype int32/int64 for index but got: {_short(idx)}")
    if src.dtype != a.dtype:
        raise RuntimeError(f"{fname}(): self ({_short(a)}) and source ({_short(src)}) must have "
                           "the same scalar type")
    if d != 0 and d >= src.ndim:
        raise RuntimeError(f"{fname}(): Indexing dim {d} is out of bounds of the source tensor "
                           f"with dim {src.ndim}")
    if idx.size != (src.shape[d] if src.ndim else 1):
        if not src.ndim:  # PyTorch fails while formatting its message
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        raise RuntimeError(
            f"{fname}(): Number of indices ({idx.size}) should be equal to source.size(dim): "
            f"({src.shape[d]}), for dim: {d}")
    if src.ndim != a.ndim or any(src.shape[i] != a.shape[i] for i in range(a.ndim) if i != d):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {_sizes(a)} source.shape = {_sizes(src)}")


def _index_add_bounds(a, d: int, idx, alpha) -> None:
    """index_add's out-of-range errors, which differ between PyTorch's kernels."""
    if a.ndim > 1 and alpha == 1 and d in (0, a.ndim - 1):
        _check_bounds(idx, a.shape[d], d)
    elif idx.size and ((idx < 0) | (idx >= _size(a, d))).any():
        raise IndexError("index out of range in self")


class IndexAddBackward0(Node):
    _saved_names = ("index",)
    alpha = 1

    def backward(self, grad):
        (index,) = self.saved_tensors
        if not _needs(self, 1):
            return grad, None
        g_src = either.index_select(grad, self.dim, index)
        return grad, (g_src if self.alpha == 1 else g_src * self.alpha)


@method("index_add")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1,
              out=None) -> Tensor:
    """A copy of input with alpha * source added at `index` along `dim`."""
    check_tensor(input, "index_add")
    check_tensor(index, "index_add", "index", 3)
    check_tensor(source, "index_add", "source", 4)
    a, idx, src = input._data, index._data, source._data
    d = _wrap_dim(dim, a.ndim)
    _index_source_checks(a, d, idx, src, "index_add_")
    _index_add_bounds(a, d, idx, alpha)
    data = np_index_add(a, d, idx, src, alpha if alpha == 1 else fill_value(alpha, a.dtype))
    attrs = {} if alpha == 1 else {"alpha": alpha}
    res = record(IndexAddBackward0, data, (input, source), save=(index,), dim=d, **attrs)
    return _finish(res, out, "index_add")


@method("index_add_")
def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    return apply_inplace(self, index_add, dim, index, source, alpha=alpha, name="index_add_")


class IndexCopyBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        d = self.dim
        return (either.index_fill(grad, d, index, 0) if _needs(self, 0) else None,
                either.index_select(grad, d, index) if _needs(self, 1) else None)


@method("index_copy")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor, *, out=None) -> Tensor:
    """A copy of input with the slices of source written at `index` along `dim`."""
    check_tensor(input, "index_copy")
    check_tensor(index, "index_copy", "index", 3)
    check_tensor(source, "index_copy", "source", 4)
    a, idx, src = input._data, index._data, source._data
    d = _wrap_dim(dim, a.ndim)
    if idx.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
    if src.ndim == 0 and idx.size != 1:
        raise IndexError("index_copy_(): When source is scalar, index should have one element "
                         f"(got {idx.size})")
    if a.ndim and src.ndim and a.ndim != src.ndim:
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality "
            f"must match. Source dimensionality ({src.ndim}), destination dimensionality "
            f"({a.ndim})")
    _long_index(idx, "index_copy_(): Expected a long tensor for index, but got {}")
    if src.dtype != a.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {_short(a)} and (source) {_short(src)}")
    if _slice_shape(a, d) != _slice_shape(src, d):
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. Destination "
            f"slice shape: {_shape_str(_slice_shape(a, d))} at dimension {d} and source slice "
            f"shape: {_shape_str(_slice_shape(src, d))} at dimension 0.")
    if src.ndim and idx.size != src.shape[d]:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({src.shape[d]})")
    _check_bounds(idx, _size(a, d), d, prefix="index_copy_(): ", exc=IndexError)
    res = record(IndexCopyBackward0, np_index_copy(a, d, idx, src), (input, source),
                 save=(index,), dim=d)
    return _finish(res, out, "index_copy")


def _slice_shape(a, d: int) -> tuple:
    return a.shape[:d] + a.shape[d + 1:]


def _shape_str(shape: tuple) -> str:
    return " ".join(str(s) for s in shape)


@method("index_copy_")
def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    return apply_inplace(self, index_copy, dim, index, source, name="index_copy_")


class IndexFillBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        return either.index_fill(grad, self.dim, index, 0)


class IndexFillBackward1(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        d = self.dim
        g_value = None
        if _needs(self, 1):
            size = P.data(grad).shape[d] if P.data(grad).ndim else 1
            once = P.const(xp.unique(P.data(index) % size), grad)  # each filled slice once
            g_value = P.sum(either.index_select(grad, d, once), None)
        return either.index_fill(grad, d, index, 0), g_value


@method("index_fill")
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of input with the slices at `index` along `dim` set to `value`."""
    check_tensor(input, "index_fill")
    check_tensor(index, "index_fill", "index", 3)
    a, idx = input._data, index._data
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        v = value._data.astype(a.dtype)
    else:
        v = fill_value(value, a.dtype)
    d = _wrap_dim(dim, a.ndim)
    _long_index(idx, "index_fill_(): Expected dtype int64 for index.", IndexError)
    if idx.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    _check_bounds(idx, _size(a, d), d, negative=True, exc=IndexError)
    data = np_index_fill(a, d, idx, v)
    if isinstance(value, Tensor):
        _check_differentiable(data, value)
        return record(IndexFillBackward1, data, (input, value), save=(index,), dim=d)
    return record(IndexFillBackward0, data, (input,), save=(index,), dim=d)


@method("index_fill_")
def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    return apply_inplace(self, index_fill, dim, index, value, name="index_fill_")


class IndexReduceBackward0(ScatterReduceBackward0):
    """scatter_reduce's formula, read with index_select and spread with index_add along dim."""

    def reached(self, src, index):
        return src

    def take(self, x, index):
        return either.index_select(x, self.dim, index)

    def read(self, x, ix):
        return np_index_select(x, self.dim, ix)

    def spread(self, x, ix, v):
        return np_index_add(x, self.dim, ix, v)

    def reduce_again(self, x, index, src):
        return _index_reduce_any(x, self.dim, index, src, "prod", self.include_self)

    def clear(self, g, index):
        return either.index_fill(g, self.dim, index, 0)


def _index_reduce_any(x, dim, index, src, reduce, include_self):
    """index_reduce on arrays or tensors (the prod formula reduces again)."""
    if any(isinstance(v, Tensor) for v in (x, index, src)):
        x, index, src = (v if isinstance(v, Tensor) else Tensor._make(xp.asarray(v))
                         for v in (x, index, src))
        return index_reduce(x, dim, index, src, reduce, include_self=include_self)
    return np_index_reduce(x, dim, index, src, reduce, include_self)


def _expanded_index(dim: int, index, src_shape):
    """index_reduce's vector index as the scatter index of a source of `src_shape`."""
    nd = len(src_shape)
    if nd == 0:
        return index.reshape(())
    shape = (1,) * dim + (index.size,) + (1,) * (nd - dim - 1)
    return xp.broadcast_to(index.reshape(shape), src_shape)


def np_index_reduce(a, dim: int, index, src, reduce: str, include_self: bool = True):
    return np_scatter_reduce(a, dim, _expanded_index(dim, index, src.shape), src, reduce,
                             include_self)


_INDEX_REDUCES = ("prod", "mean", "amax", "amin")
_BETA_WARNED: list = []


@method("index_reduce")
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True, out=None) -> Tensor:
    """A copy of input with the slices of source reduced (prod, mean, amax, amin) into the
    slices at `index` along `dim`."""
    check_tensor(input, "index_reduce")
    check_tensor(index, "index_reduce", "index", 3)
    check_tensor(source, "index_reduce", "source", 4)
    if not _BETA_WARNED:  # once per process, as PyTorch's TORCH_WARN_ONCE
        _BETA_WARNED.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=2)
    if reduce not in _INDEX_REDUCES:
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    a, idx, src = input._data, index._data, source._data
    d = _wrap_dim(dim, a.ndim)
    _index_source_checks(a, d, idx, src, "index_reduce_")
    if not include_self:  # PyTorch first fills the indexed slices (index_fill_'s check)
        _check_bounds(idx, _size(a, d), d, negative=True, exc=IndexError)
    if ((idx < 0) | (idx >= _size(a, d))).any():
        raise IndexError("index out of range in self")
    data = np_index_reduce(a, d, idx, src, reduce, include_self)
    res = record(IndexReduceBackward0, data, (input, source), save=(input, index, source, OUT),
                 dim=d, reduce=reduce, include_self=include_self)
    return _finish(res, out, "index_reduce")


@method("index_reduce_")
def index_reduce_(self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    return apply_inplace(self, index_reduce, dim, index, source, reduce,
                         include_self=include_self, name="index_reduce_")


# --- masked_fill, masked_select, masked_scatter ------------------------------------------------
_C_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
           "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
           "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


class MaskedFillBackward0(Node):
    _saved_names = ("mask",)

    def backward(self, grad):
        (mask,) = self.saved_tensors
        return P.where(P.data(mask), 0.0, grad)


class MaskedFillBackward1(Node):
    _saved_names = ("mask",)

    def backward(self, grad):
        (mask,) = self.saved_tensors
        m = P.data(mask)
        return (P.where(m, 0.0, grad) if _needs(self, 0) else None,
                P.sum(P.where(m, grad, 0.0), None) if _needs(self, 1) else None)


@method("masked_fill")
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of input with `value` where mask is True (input and mask broadcast)."""
    check_tensor(input, "masked_fill")
    check_tensor(mask, "masked_fill", "mask", 2)
    a, m = input._data, mask._data
    if m.dtype != xp.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_C_TYPE[m.dtype.name]}")
    check_broadcast(m.shape, a.shape)
    is_tensor = isinstance(value, Tensor)
    if is_tensor:
        if value._data.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        v = value._data.astype(a.dtype)
    else:
        v = fill_value(value, a.dtype)
    data = xp.where(m, v, a)
    if is_tensor:
        _check_differentiable(data, value)
        return record(MaskedFillBackward1, data, (input, value), save=(mask,))
    return record(MaskedFillBackward0, data, (input,), save=(mask,))


@method("masked_fill_")
def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    if isinstance(mask, Tensor):
        check_broadcast(self._data.shape, mask._data.shape)  # (the in-place op's operand order)
    return apply_inplace(self, masked_fill, mask, value, name="masked_fill_")


class MaskedSelectBackward0(Node):
    _saved_names = ("mask",)

    def backward(self, grad):
        (mask,) = self.saved_tensors
        return either.masked_scatter(P.zeros_like_shape(grad, self.shape), mask, grad)


@method("masked_select")
def masked_select(input: Tensor, mask: Tensor, *, out=None) -> Tensor:
    """The elements of input where mask is True, as a 1-D tensor (input and mask broadcast)."""
    check_tensor(input, "masked_select")
    check_tensor(mask, "masked_select", "mask", 2)
    a, m = input._data, mask._data
    if m.dtype != xp.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    check_broadcast(m.shape, a.shape)
    shape = xp.broadcast_shapes(a.shape, m.shape)
    res = record(MaskedSelectBackward0, np_masked_select(a, m), (input,), save=(mask,),
                 shape=shape)
    return _finish(res, out, "masked_select")


class MaskedScatterBackward0(Node):
    _saved_names = ("mask",)

    def backward(self, grad):
        (mask,) = self.saved_tensors
        m = P.data(mask)
        g_src = None
        if _needs(self, 1):
            shape = self._meta[1][0]
            chosen = either.masked_select(grad, mask)
            rest = P.zeros_like_shape(chosen, (math.prod(shape) - P.data(chosen).size,))
            g_src = P.reshape(P.cat([chosen, rest], 0), shape)
        return P.where(m, 0.0, grad) if _needs(self, 0) else None, g_src


@method("masked_scatter")
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of input with the leading elements of source written, in order, where mask is
    True (input and mask broadcast)."""
    check_tensor(input, "masked_scatter")
    check_tensor(mask, "masked_scatter", "mask", 2)
    check_tensor(source, "masked_scatter", "source", 3)
    a, m, src = input._data, mask._data, source._data
    if m.dtype == xp.uint8:
        warnings.warn("masked_scatter_ received a mask with dtype torch.uint8, this behavior is "
                      "now deprecated,please use a mask with dtype torch.bool instead.",
                      UserWarning, stacklevel=2)
        m = m.astype(bool)
        mask = Tensor._make(m)
    elif m.dtype != xp.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_short(m)}")
    if src.dtype != a.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{_short(a)} and {_short(src)}")
    check_broadcast(m.shape, a.shape)
    if int(xp.count_nonzero(xp.broadcast_to(m, xp.broadcast_shapes(a.shape, m.shape)))) > \
            src.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return record(MaskedScatterBackward0, np_masked_scatter(a, m, src), (input, source),
                  save=(mask,))


@method("masked_scatter_")
def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    check_tensor(mask, "masked_scatter_", "mask", 1)
    shape, mshape = self._data.shape, mask._data.shape
    if len(mshape) > len(shape):  # PyTorch expands the mask to self's shape
        raise RuntimeError(
            f"expand(CPUBoolType{{{list(mshape)}}}, size={list(shape)}): the number of sizes "
            f"provided ({len(shape)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({len(mshape)})")
    if any(m != 1 and m != n for m, n in zip(mshape[::-1], shape[::-1], strict=False)):
        mask.expand(shape)  # raises PyTorch's error
    return apply_inplace(self, masked_scatter, mask, source, name="masked_scatter_")


# --- take, take_along_dim, put -----------------------------------------------------------------
def _take_bounds(idx, n: int, fname: str) -> None:
    if idx.size and not n:
        raise IndexError("take(): tried to take from an empty tensor" if fname == "take" else
                         "put_(): Tried to put elements into an empty tensor")
    if idx.size:
        bad = (idx < -n) | (idx >= n)
        if bad.any():
            value = idx.reshape(-1)[xp.argmax(bad.reshape(-1))]
            raise IndexError(f"out of range: tried to access index {value} on a tensor of {n} "
                             "elements.")


class TakeBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        return either.put(P.zeros_like_shape(grad, self._meta[0][0]), index, grad, True)


@method("take")
def take(input: Tensor, index: Tensor, *, out=None) -> Tensor:
    """input.flatten()[index], shaped like index (negative indices count from the end)."""
    check_tensor(input, "take")
    check_tensor(index, "take", "index", 2)
    a, idx = input._data, index._data
    _long_index(idx, "take(): Expected a long tensor for index, but got {}")
    _take_bounds(idx, a.size, "take")
    res = record(TakeBackward0, np_take(a, idx), (input,), save=(index,))
    return _finish(res, out, "take")


@method("take_along_dim")
def take_along_dim(input: Tensor, indices: Tensor, dim=None, *, out=None) -> Tensor:
    """NumPy's take_along_axis: gather after broadcasting input and indices (except along dim);
    with no dim, gather from the flattened input."""
    check_tensor(input, "take_along_dim")
    check_tensor(indices, "take_along_dim", "indices", 2)
    a, idx = input._data, indices._data
    _long_index(idx, "torch.take_along_dim(): dtype of indices should be Long but got {}")
    if dim is None:
        res = gather(input.view(-1), 0, indices.view(-1))
        return _finish(res, out, "take_along_dim")
    if a.ndim != idx.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {a.ndim} dimensions for input, and {idx.ndim} dimensions for "
            "indices")
    d = _wrap_dim(dim, a.ndim)
    if not a.ndim:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    want = a.shape[:d] + (idx.shape[d],) + a.shape[d + 1:]
    check_broadcast(want, idx.shape)
    idx_shape = xp.broadcast_shapes(want, idx.shape)
    want = idx.shape[:d] + (a.shape[d],) + idx.shape[d + 1:]
    check_broadcast(want, a.shape)
    a_shape = xp.broadcast_shapes(want, a.shape)
    if a.shape[d]:  # along a dim, PyTorch reads indices modulo the size (-1 is the last)
        indices = Tensor._make(idx % a.shape[d])
    res = gather(input.broadcast_to(a_shape), d, indices.broadcast_to(idx_shape))
    return _finish(res, out, "take_along_dim")


class PutBackward0(Node):
    _saved_names = ("index",)

    def backward(self, grad):
        (index,) = self.saved_tensors
        shape = self._meta[1][0]
        g_self = g_src = None
        if _needs(self, 0):
            g_self = grad if self.accumulate else either.put(
                grad, index, P.zeros_like_shape(grad, shape), False)
        if _needs(self, 1):
            g_src = P.reshape(either.take(grad, index), shape)
        return g_self, g_src


@method("put")
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with source's values written (or added) at flat positions `index`."""
    check_tensor(input, "put")
    check_tensor(index, "put", "index", 2)
    check_tensor(source, "put", "source", 3)
    a, idx, src = input._data, index._data, source._data
    _long_index(idx, "put_(): Expected a long tensor for index, but got {}")
    if src.dtype != a.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_short(a)} and source.dtype = {_short(src)}")
    if src.size != idx.size:
        raise IndexError("put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {src.size}, index.numel() = "
                         f"{idx.size}")
    _take_bounds(idx, a.size, "put")
    return record(PutBackward0, np_put(a, idx, src, accumulate), (input, source), save=(index,),
                  accumulate=accumulate)


@method("put_")
def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    return apply_inplace(self, put, index, source, accumulate, name="put_")


# --- nonzero, argwhere -------------------------------------------------------------------------
@method("nonzero")
def nonzero(input: Tensor, *, out=None, as_tuple: bool = False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or (as_tuple) one 1-D
    tensor per dim."""
    check_tensor(input, "nonzero")
    a = input._data
    if as_tuple:
        return tuple(Tensor._make(i) for i in xp.nonzero(_as1d(a)))
    return _finish(Tensor._make(xp.argwhere(a).astype(xp.int64, copy=False)), out, "nonzero")


@method("nonzero_static")
def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1, out=None) -> Tensor:
    """nonzero with exactly `size` rows: cut short, or padded with `fill_value`."""
    check_tensor(input, "nonzero_static")
    if type(fill_value) is not int:
        raise TypeError("nonzero_static(): argument 'fill_value' must be int, not "
                        f"{type(fill_value).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = xp.argwhere(input._data).astype(xp.int64, copy=False)[:size]
    data = xp.full((size, input._data.ndim), fill_value, xp.int64)
    data[:len(found)] = found
    return _finish(Tensor._make(data), out, "nonzero_static")


@method("argwhere")
def argwhere(input: Tensor) -> Tensor:
    """nonzero(input): an (n, ndim) tensor of the indices of the nonzero elements."""
    check_tensor(input, "argwhere")
    return nonzero(input)


# --- block_diag, meshgrid, cartesian_prod, combinations ----------------------------------------
class BlockDiagBackward0(Node):
    def backward(self, grad):
        out, r, c = [], 0, 0
        for shape, _ in self._meta:
            rows, cols = (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else shape
            out.append(P.reshape(grad[r:r + rows, c:c + cols], shape))
            r, c = r + rows, c + cols
        return tuple(out)


def block_diag(*tensors) -> Tensor:
    """The tensors (scalars and vectors as one row) along the diagonal of a zero matrix."""
    for i, t in enumerate(tensors):
        check_tensor(t, "block_diag", "tensors", 1)
        if t._data.ndim > 2:
            raise RuntimeError("torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t._data.ndim} dimensions")
    dt = result_dtype(*tensors).np if tensors else _dtype.get_default_dtype().np
    blocks = [t._data.reshape(1, -1) if t._data.ndim < 2 else t._data for t in tensors]
    rows = sum(b.shape[0] for b in blocks)
    data = xp.zeros((rows if tensors else 1, sum(b.shape[1] for b in blocks)), dt)
    r = c = 0
    for b in blocks:
        data[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return record(BlockDiagBackward0, data, tensors)


def _tensor_list(tensors) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return list(tensors[0])
    return list(tensors)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids of the 0-D / 1-D tensors ('ij': dim i follows tensor i; 'xy': the first
    two dims are swapped, as in NumPy)."""
    tensors = _tensor_list(tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        check_tensor(t, "meshgrid", "tensors", 1)
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    if any(t._data.dtype != tensors[0]._data.dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(t._data.size for t in tensors)
    n = len(tensors)
    grids = [t.view((1,) * i + (-1,) + (1,) * (n - i - 1)).expand(shape)
             for i, t in enumerate(tensors)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _check_vector(t) -> None:
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {_sizes(t._data)}")


def cartesian_prod(*tensors) -> Tensor:
    """All tuples of one element from each 1-D tensor, as rows, in lexicographic order."""
    for t in tensors:
        check_tensor(t, "cartesian_prod", "tensors", 1)
        _check_vector(t)
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.flatten() for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The r-length combinations of input's elements (itertools.combinations order), as rows."""
    check_tensor(input, "combinations")
    _check_vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(xp.empty(0, input._data.dtype))
    n = input._data.size
    grids = xp.meshgrid(*([xp.arange(n)] * r), indexing="ij")
    mask = xp.ones((n,) * r, bool)
    for lo, hi in zip(grids, grids[1:], strict=False):
        mask &= lo <= hi if with_replacement else lo < hi
    keep = Tensor._make(mask)
    return stack([g.masked_select(keep) for g in meshgrid([input] * r, indexing="ij")], 1)


# --- tril_indices, triu_indices ----------------------------------------------------------------
def _tri_indices(name: str, row: int, col: int, offset: int, dtype) -> Tensor:
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dt = _dtype.int64 if dtype is None else dtype
    if dt.category != _dtype._INT:
        raise NotImplementedError(f'"{name}" not implemented for \'{dt._short}\'')
    fn = xp.tril_indices if name == "tril_indices" else xp.triu_indices
    return Tensor._make(xp.stack(fn(row, offset, col)).astype(dt.np).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory=False) -> Tensor:
    """The (2, N) coordinates of the lower triangle (on and below diagonal `offset`), row by row."""
    return _tri_indices("tril_indices", row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory=False) -> Tensor:
    """The (2, N) coordinates of the upper triangle (on and above diagonal `offset`), row by row."""
    return _tri_indices("triu_indices", row, col, offset, dtype)


# --- array-or-tensor versions, for backward formulas -------------------------------------------
def _either(name: str):
    """`name(x, ...)`: the NumPy kernel on arrays; the op (which records) as soon as a tensor is
    among the arguments, arrays there (indices, masks, zeros; batched ones under vmap too)
    becoming constant tensors."""
    op, kernel = globals()[name], globals()["np_" + name]

    def fn(*args, **kwargs):
        if any(isinstance(a, Tensor) for a in args):
            return op(*(Tensor._make(a) if isinstance(a, xp.ndarray) or _batched(a) else a
                        for a in args), **kwargs)
        return kernel(*args, **kwargs)

    fn.__name__ = name
    return fn


either = SimpleNamespace(**{name: _either(name) for name in (
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
    "index_fill", "masked_select", "masked_scatter", "take", "put")})
