"""Sorting and selection: sort, topk, kthvalue, median, mode, quantile, unique, histograms, diff,
cummax/cummin, logcumsumexp, searchsorted.

Every op that picks elements (sort, topk, kthvalue, median/mode along a dim, cummax) returns the
positions it picked, and its backward scatter-adds the gradient back to those positions (with
gather_scatter's array-or-tensor `either` helpers, so create_graph works). NaN sorts as the
largest value, as in PyTorch.

Ties: the indices of equal elements follow PyTorch's CPU algorithms (std::sort for an unstable
sort and for mode, nth_element / partial_sort for topk, a quickselect for kthvalue), re-run in
Python on the slices where ties matter (see `_BUDGET`); median along a dim is deterministic.
"""

from __future__ import annotations

import functools
import math
import operator

from dyngrad._backend import quiet, xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import OUT, check_kernel, check_tensor, method, record, result_dtype
from dyngrad.ops.arithmetic import NotImplemented as NoDerivative
from dyngrad.ops.arithmetic import _out
from dyngrad.ops.creation import zeros_like
from dyngrad.ops.gather_scatter import either
from dyngrad.ops.reduction import _evenly, _quiet, _return_type
from dyngrad.ops.shape import cat
from dyngrad.ops.unary import _kernel, _not_for

__all__ = [
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
    "nanquantile", "unique", "unique_consecutive", "bincount", "histc", "histogram",
    "histogramdd", "diff",
    "cummax", "cummin", "logcumsumexp", "searchsorted", "bucketize",
]

_make = Tensor._make
sort_type = _return_type("sort", ("values", "indices"))
topk_type = _return_type("topk", ("values", "indices"))
kthvalue_type = _return_type("kthvalue", ("values", "indices"))
median_type = _return_type("median", ("values", "indices"))
nanmedian_type = _return_type("nanmedian", ("values", "indices"))
mode_type = _return_type("mode", ("values", "indices"))
cummax_type = _return_type("cummax", ("values", "indices"))
cummin_type = _return_type("cummin", ("values", "indices"))
histogram_type = _return_type("histogram", ("hist", "bin_edges"))
histogramdd_type = _return_type("histogramdd", ("hist", "bin_edges"))


# --- gradients of picked values ----------------------------------------------------------------
class SortBackward0(Node):
    """Values picked at `indices` along `dim`: each gradient goes back to where its value came
    from (summed where one element was picked several times, as by cummax)."""

    _saved_names = ("indices",)
    _reduced = False  # True: the picked dim was dropped unless keepdim

    def backward(self, grad):
        (idx,) = self.saved_tensors
        shape = self._meta[0][0]
        if not shape:
            return grad
        idx = P.data(idx)
        if self._reduced and not self.keepdim:
            idx, grad = xp.expand_dims(idx, self.dim), P.unsqueeze(grad, self.dim)
        return either.scatter_add(P.zeros_like_shape(grad, shape), self.dim, idx, grad)


class SortBackward1(SortBackward0):
    """sort called with `stable=` (PyTorch's sort.stable overload)."""


class TopkBackward0(SortBackward0):
    pass


class CummaxBackward0(SortBackward0):
    pass


class CumminBackward0(SortBackward0):
    pass


class KthvalueBackward0(SortBackward0):
    _reduced = True


class MedianBackward1(KthvalueBackward0):
    pass


class NanmedianBackward1(KthvalueBackward0):
    pass


class ModeBackward0(KthvalueBackward0):
    pass


class MedianBackward0(Node):
    """Median of all elements: the gradient is shared by the elements equal to it."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        x, out = self.saved_tensors
        return _evenly(grad, x, out)


class NanmedianBackward0(MedianBackward0):
    pass


# --- helpers -----------------------------------------------------------------------------------
def _dim(dim, ndim: int) -> int:
    return _wrap_dim(operator.index(dim), ndim)


def _stable_order(a, d: int, descending: bool = False):
    """Stable argsort along d with NaN largest: last ascending, first descending."""
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    return n - 1 - xp.flip(xp.argsort(xp.flip(a, d), axis=d, kind="stable"), d)


def _rows(a, d: int):
    """a with dim d moved last, as (rows, size of d)."""
    moved = xp.moveaxis(a, d, -1)
    return moved.reshape(math.prod(moved.shape[:-1]), a.shape[d])


def _unrows(r, shape: tuple, d: int, keepdim: bool):
    """Per-row results of `_rows` back in place of dim d (kept as size 1 or dropped)."""
    rest = shape[:d] + shape[d + 1:]
    r = r.reshape(rest)
    return xp.expand_dims(r, d) if keepdim else r


def _picked(cls, rtype, input, values, idx, d: int, keepdim: bool, out=None, fname=""):
    """A (values, indices) named tuple, values recorded as picked at idx along d."""
    indices = _make(idx)
    attrs = {"keepdim": keepdim} if cls._reduced else {}
    values = record(cls, values, (input,), save=(indices,), dim=d, **attrs)
    return _tuple_out(rtype((values, indices)), out, fname)


def _tuple_out(res, out, fname: str):
    """Support out=(values, indices)."""
    if out is None:
        return res
    return type(res)(tuple(_out(r, o, fname) for r, o in zip(res, out, strict=True)))


def _check_numel_dim(fname: str, a, d: int) -> None:
    if a.ndim and a.shape[d] == 0:
        raise IndexError(f"{fname}: Expected reduction dim {d} to have non-zero size.")


# --- PyTorch's CPU algorithms, for the order of tied elements ------------------------------------
# Equal elements come out in an order that depends on the algorithm: std::sort (libstdc++'s
# introsort) for an unstable sort and for mode, std::nth_element / std::partial_sort for topk,
# a quickselect for kthvalue. dyngrad sorts stably with NumPy, then re-runs the algorithm in Python
# on the slices where ties can change the result, up to _BUDGET elements per call (beyond that
# the stable order stands: a documented difference in the indices of tied elements only).
_BUDGET = 200_000


def _asc(p, q) -> bool:
    """PyTorch's ascending (value, index) order: NaN largest."""
    return p[0] < q[0] or (q[0] != q[0] and p[0] == p[0])


def _desc(p, q) -> bool:
    return p[0] > q[0] or (p[0] != p[0] and q[0] == q[0])


def _less(p, q) -> bool:
    """mode's plain `<` (NaN compares false both ways, with std::sort's consequences)."""
    return p[0] < q[0]


def _insertion_sort(a: list, first: int, last: int, comp) -> None:
    for i in range(first + 1, last):
        val = a[i]
        if comp(val, a[first]):
            a[first + 1:i + 1] = a[first:i]
            a[first] = val
        else:
            _linear_insert(a, i, comp)


def _linear_insert(a: list, last: int, comp) -> None:
    val, prev = a[last], last - 1
    while comp(val, a[prev]):
        a[last] = a[prev]
        last, prev = prev, prev - 1
    a[last] = val


def _partition_pivot(a: list, first: int, last: int, comp) -> int:
    """Median of three (first + 1, middle, last - 1) to `first`, then Hoare's partition."""
    x, y, z = first + 1, first + (last - first) // 2, last - 1
    if comp(a[x], a[y]):
        m = y if comp(a[y], a[z]) else z if comp(a[x], a[z]) else x
    else:
        m = x if comp(a[x], a[z]) else z if comp(a[y], a[z]) else y
    a[first], a[m] = a[m], a[first]
    lo, hi, pivot = first + 1, last, a[first]
    while True:
        while comp(a[lo], pivot):
            lo += 1
        hi -= 1
        while comp(pivot, a[hi]):
            hi -= 1
        if lo >= hi:
            return lo
        a[lo], a[hi] = a[hi], a[lo]
        lo += 1


def _adjust_heap(a: list, first: int, hole: int, length: int, value, comp) -> None:
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if comp(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and comp(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole, parent = parent, (parent - 1) // 2
    a[first + hole] = value


def _heap_select(a: list, first: int, middle: int, last: int, comp) -> None:
    length = middle - first
    for parent in range((length - 2) // 2, -1, -1) if length > 1 else ():
        _adjust_heap(a, first, parent, length, a[first + parent], comp)
    for i in range(middle, last):
        if comp(a[i], a[first]):
            value, a[i] = a[i], a[first]
            _adjust_heap(a, first, 0, length, value, comp)


def _partial_sort(a: list, first: int, middle: int, last: int, comp) -> None:
    _heap_select(a, first, middle, last, comp)
    while middle - first > 1:
        middle -= 1
        value, a[middle] = a[middle], a[first]
        _adjust_heap(a, first, 0, middle - first, value, comp)


def _lg2(n: int) -> int:
    return n.bit_length() - 1


def _std_sort(a: list, comp) -> None:
    """std::sort: introsort down to slices of 16, then one insertion sort pass."""
    n = len(a)
    stack = [(0, n, 2 * _lg2(n))] if n > 1 else []
    while stack:
        first, last, depth = stack.pop()
        while last - first > 16:
            if depth == 0:
                _partial_sort(a, first, last, last, comp)
                break
            depth -= 1
            cut = _partition_pivot(a, first, last, comp)
            stack.append((cut, last, depth))
            last = cut
    _insertion_sort(a, 0, min(n, 16), comp)
    for i in range(16, n):
        _linear_insert(a, i, comp)


def _nth_element(a: list, nth: int, comp) -> None:
    first, last = 0, len(a)
    depth = 2 * _lg2(last)
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last, comp)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, comp)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, comp)


def _gt_or_nan(x, y) -> bool:
    return (x != x and y == y) or x > y


def _quickselect(row: list, k: int) -> int:
    """kthvalue's index: PyTorch's quickselect (Sedgewick's median-of-three partitioning)."""
    vals, idx = list(row), list(range(len(row)))

    def swap(i, j):
        vals[i], vals[j] = vals[j], vals[i]
        idx[i], idx[j] = idx[j], idx[i]

    lo, hi = 0, len(vals) - 1
    while hi > lo:
        if hi == lo + 1:
            if _gt_or_nan(vals[lo], vals[hi]):
                swap(lo, hi)
            break
        swap((lo + hi) >> 1, lo + 1)
        if _gt_or_nan(vals[lo + 1], vals[hi]):
            swap(lo + 1, hi)
        if _gt_or_nan(vals[lo], vals[hi]):
            swap(lo, hi)
        if _gt_or_nan(vals[lo + 1], vals[lo]):
            swap(lo + 1, lo)
        i, j, pivot = lo + 1, hi, vals[lo]
        while True:
            i += 1
            while _gt_or_nan(pivot, vals[i]):
                i += 1
            j -= 1
            while _gt_or_nan(vals[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


def _items(row) -> list:
    """A slice as PyTorch's (value, index) pairs, in Python numbers."""
    return list(zip(row.tolist(), range(len(row)), strict=True))


def _tied(ranked):
    """Per row of sorted values: whether two neighbours are equal (NaNs count as equal)."""
    eq = ranked[:, 1:] == ranked[:, :-1]
    if ranked.dtype.kind == "f":
        eq |= xp.isnan(ranked[:, 1:]) & xp.isnan(ranked[:, :-1])
    return eq.any(1)


def _redo(mask, n: int):
    """The rows to re-run in Python, or none when that would exceed the budget."""
    rows = xp.flatnonzero(mask)
    return rows if len(rows) * n <= _BUDGET else rows[:0]


# --- sort / argsort / msort --------------------------------------------------------------------
def _from_rows(r, shape: tuple, d: int):
    """Rows (of any length) back in place of dim d: the inverse of `_rows`."""
    return xp.moveaxis(r.reshape(shape[:d] + shape[d + 1:] + r.shape[1:]), -1, d)


def _sort_data(input, dim, descending: bool, stable: bool, fname: str):
    check_tensor(input, fname)
    a = input._data
    d = _dim(dim, a.ndim)
    if a.dtype.kind == "c":
        raise RuntimeError(" Sort does not support complex dtypes on CPU")
    if not a.ndim:
        return a.copy(), xp.zeros((), xp.int64), d
    order = _stable_order(a, d, descending)
    n = a.shape[d]
    radix = a.ndim == 1 and n >= 32768 and a.dtype.kind in "iu" and not descending  # stable
    if not stable and n > 16 and not radix:  # std::sort: insertion sort (stable) up to 16
        rows, orows = _rows(a, d), _rows(order, d).copy()
        todo = _redo(_tied(xp.take_along_axis(rows, orows, 1)), n)
        for r in todo:
            items = _items(rows[r])
            _std_sort(items, _desc if descending else _asc)
            orows[r] = [i for _, i in items]
        if len(todo):
            order = _from_rows(orows, a.shape, d)
    return xp.take_along_axis(a, order, d), order, d


_UNSET = object()


@method("sort")
def sort(input, dim=-1, descending=False, *, stable=_UNSET, out=None):
    """(values, indices) sorted along `dim`; NaN counts as the largest value."""
    values, idx, d = _sort_data(input, dim, descending, stable is True, "sort")
    cls = SortBackward0 if stable is _UNSET else SortBackward1
    return _picked(cls, sort_type, input, values, idx, d, True, out, "sort")


@method("argsort")
def argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor:
    """The indices that sort `input` along `dim`."""
    return _make(_sort_data(input, dim, descending, stable, "argsort")[1])


@method("msort")
def msort(input, *, out=None) -> Tensor:
    """`input` sorted along its first dim."""
    res = sort(input, 0).values
    return res if out is None else _out(res, out, "msort")


# --- topk / kthvalue ---------------------------------------------------------------------------
@method("topk")
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: A002
    """The k largest (or smallest) elements along `dim`, as (values, indices)."""
    check_tensor(input, "topk")
    a = input._data
    d = _dim(dim, a.ndim)
    if not 0 <= k <= (a.shape[d] if a.ndim else 1):
        raise RuntimeError("selected index k out of range")
    if a.dtype.kind == "c":
        raise RuntimeError(" topk does not support complex dtypes on CPU")
    if a.dtype == xp.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if not a.ndim:
        values, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        n, rows = a.shape[d], _rows(a, d)
        full = _stable_order(rows, 1, largest)
        top = full[:, :k].copy()
        # ties in or at the edge of the top k, or an unsorted result, depend on the algorithm
        need = (_tied(xp.take_along_axis(rows, full[:, :k + 1], 1)) if sorted
                else xp.ones(len(rows), bool))
        comp = _desc if largest else _asc
        for r in _redo(need, n) if k else ():
            items = _items(rows[r])
            if k * 64 <= n:
                _partial_sort(items, 0, k, n, comp)
            else:
                _nth_element(items, k - 1, comp)
                if sorted:
                    head = items[:k - 1]
                    _std_sort(head, comp)
                    items[:k - 1] = head
            top[r] = [i for _, i in items[:k]]
        idx = _from_rows(top, a.shape, d)
        values = xp.take_along_axis(a, idx, d)
    return _picked(TopkBackward0, topk_type, input, values, idx, d, True, out, "topk")


@method("kthvalue")
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element along `dim` (NaN largest), as (values, indices)."""
    check_tensor(input, "kthvalue")
    a = input._data
    d = _dim(dim, a.ndim)
    _not_for(a, "bc", NotImplementedError, _kernel("kthvalue_cpu"))
    _check_numel_dim("kthvalue()", a, d)
    if not 0 < k <= (a.shape[d] if a.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if not a.ndim:
        return _picked(KthvalueBackward0, kthvalue_type, input, a.copy(),
                       xp.zeros((), xp.int64), d, keepdim, out, "kthvalue")
    rows = _rows(a, d)
    order = _stable_order(rows, 1)
    ranked = xp.take_along_axis(rows, order, 1)
    idx = order[:, k - 1].copy()
    value = ranked[:, k - 1:k]
    tied = (ranked == value).sum(1) > 1
    if a.dtype.kind == "f":
        tied |= xp.isnan(value[:, 0]) & (xp.isnan(ranked).sum(1) > 1)
    for r in _redo(tied, a.shape[d]):
        idx[r] = _quickselect(rows[r].tolist(), k - 1)
    values = rows[xp.arange(len(idx)), idx]
    return _picked(KthvalueBackward0, kthvalue_type, input, _unrows(values, a.shape, d, keepdim),
                   _unrows(idx, a.shape, d, keepdim), d, keepdim, out, "kthvalue")


# --- median / nanmedian / mode -----------------------------------------------------------------
def _median_all(input, ignore_nan: bool) -> Tensor:
    a = input._data
    _not_for(a, "bc", NotImplementedError, _kernel("median_cpu"))
    flat = xp.sort(a.reshape(-1))  # NaN last
    count = flat.size - int(xp.isnan(flat).sum()) if a.dtype.kind == "f" else flat.size
    if not flat.size and a.dtype.kind in "iu":  # PyTorch's NaN cast to an integer on x86
        data = xp.asarray(xp.iinfo(a.dtype).min if a.dtype.kind == "i" else 0, a.dtype)
    elif not flat.size or (count < flat.size and not ignore_nan):
        data = xp.asarray(xp.nan, a.dtype)
    else:
        data = flat[max(count - 1, 0) // 2]
    cls = NanmedianBackward0 if ignore_nan else MedianBackward0
    return record(cls, data, (input,), save=(input, OUT))


def _median_dim(input, dim, keepdim: bool, out, fname: str, ignore_nan: bool):
    a = input._data
    d = _dim(dim, a.ndim)
    _not_for(a, "bc", NotImplementedError, _kernel("median_out"))
    _check_numel_dim("median()", a, d)
    rows = _rows(a, d) if a.ndim else a.reshape(1, 1)
    order = _stable_order(rows, 1)  # (value, index) order, NaN last
    nans = xp.isnan(rows) if a.dtype.kind == "f" else xp.zeros(rows.shape, bool)
    count = rows.shape[1] - nans.sum(1)
    pos = xp.maximum(count - 1, 0) // 2
    idx = order[xp.arange(len(pos)), pos]
    if not ignore_nan:  # PyTorch's median returns the first NaN of a slice that has one
        idx = xp.where(nans.any(1), xp.argmax(nans, 1), idx)
    values = rows[xp.arange(len(idx)), idx]
    if a.ndim:
        values, idx = _unrows(values, a.shape, d, keepdim), _unrows(idx, a.shape, d, keepdim)
    else:
        values, idx = values.reshape(()), idx.reshape(())
    cls, rtype = (NanmedianBackward1, nanmedian_type) if ignore_nan else (MedianBackward1,
                                                                          median_type)
    return _picked(cls, rtype, input, values, idx, d, keepdim, out, fname)


@method("median")
def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median of all elements; along `dim`, (values, indices). NaN wins."""
    check_tensor(input, "median")
    if dim is None:
        return _median_all(input, False)
    return _median_dim(input, dim, keepdim, out, "median", False)


@method("nanmedian")
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """median ignoring NaNs (NaN only where a slice is all NaN)."""
    check_tensor(input, "nanmedian")
    if dim is None:
        return _median_all(input, True)
    return _median_dim(input, dim, keepdim, out, "nanmedian", True)


@method("mode")
def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along `dim` (the smallest of equally frequent ones) and the index
    of its last occurrence."""
    check_tensor(input, "mode")
    a = input._data
    d = _dim(dim, a.ndim)
    _not_for(a, "c", NotImplementedError, _kernel("mode_cpu"))
    _check_numel_dim("mode()", a, d)
    if not a.ndim:
        return _picked(ModeBackward0, mode_type, input, a.copy(), xp.zeros((), xp.int64), d,
                       keepdim, out, "mode")
    rows = _rows(a, d)
    n = rows.shape[1]
    order = _stable_order(rows, 1)
    ranked = xp.take_along_axis(rows, order, 1)
    pos = xp.arange(n)
    new = xp.ones(ranked.shape, bool)
    new[:, 1:] = ranked[:, 1:] != ranked[:, :-1]  # NaN != NaN: each NaN is its own run
    last = xp.ones(ranked.shape, bool)
    last[:, :-1] = new[:, 1:]
    start = xp.maximum.accumulate(xp.where(new, pos, 0), axis=1)
    length = xp.where(last, pos - start + 1, 0)
    best = xp.argmax(length, 1)  # the first longest run: the smallest value
    r = xp.arange(len(best))
    idx = order[r, best]
    # std::sort decides which of equal values ends a run (beyond 16) and where NaNs go
    need = xp.isnan(rows).any(1) if a.dtype.kind == "f" else xp.zeros(len(best), bool)
    if n > 16:
        need |= length[r, best] > 1
    for i in _redo(need, n):
        items = _items(rows[i])
        _std_sort(items, _less)
        top = run = 0
        for j, (v, at) in enumerate(items):
            run += 1
            if j == n - 1 or items[j + 1][0] != v:
                if run > top:
                    idx[i], top = at, run
                run = 0
    values = rows[r, idx]
    return _picked(ModeBackward0, mode_type, input, _unrows(values, a.shape, d, keepdim),
                   _unrows(idx, a.shape, d, keepdim), d, keepdim, out, "mode")


# --- quantile / nanquantile --------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


class SqueezeBackward4(Node):
    """The last step of quantile (PyTorch squeezes its result in place)."""

    def backward(self, grad):
        return P.reshape(grad, self._meta[0][0])


def _squeeze_last(t: Tensor) -> Tensor:
    return record(SqueezeBackward4, t._data.reshape(t._data.shape[:-1]), (t,))


def _quantile(fname, input, q, dim, keepdim, interpolation, out, ignore_nan) -> Tensor:
    """PyTorch's algorithm, built from differentiable ops (sort, gather, lerp) so that the
    gradient reaches both the input and a tensor q."""
    check_tensor(input, fname)
    if not isinstance(q, Tensor):
        q = float(q)
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q:g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    a = input._data
    d = None if dim is None else _dim(dim, a.ndim)
    if not a.size:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if isinstance(q, Tensor) and q._data.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if a.dtype not in (xp.float32, xp.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if not isinstance(q, Tensor):
        q = _make(xp.asarray(q, a.dtype))
    if q._data.dtype != a.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if out is not None and out._data.dtype != a.dtype:
        raise RuntimeError("quantile() out tensor must be same dtype as the input tensor")
    if not ((q._data >= 0) & (q._data <= 1)).all():
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    if d is None:
        ranked = sort(input.flatten()).values
    elif d == a.ndim - 1:
        ranked = sort(input).values
    else:
        ranked = sort(input.unsqueeze(-1).transpose(d, -1)).values
    if d is not None and a.ndim:
        rest = list(a.shape)
        if keepdim:
            rest[d] = 1
        else:
            del rest[d]
    else:
        rest = [1] * a.ndim if keepdim else []
    n = ranked._data.shape[-1]
    ranked = ranked.reshape(tuple(rest) + (n,))
    nans = xp.isnan(ranked._data)
    if ignore_nan:  # ranks among the non-NaN values (0 when all are NaN: the result is NaN)
        count = (n - nans.sum(-1, keepdims=True) - 1).astype(a.dtype)
        ranks = q * _make(count)
        ranks = P.where(ranks._data < 0, 0.0, ranks)
    else:  # a slice with a NaN gets its last (NaN) value
        ranks = P.where(nans.any(-1, keepdims=True), float(n - 1), q * (n - 1))
    r = ranks._data
    if interpolation == "lower":
        r = xp.floor(r)
    elif interpolation == "higher":
        r = xp.ceil(r)
    elif interpolation == "nearest":
        r = xp.round(r)  # half to even, as PyTorch's round
    below = r.astype(xp.int64)
    last = ranked._data.ndim - 1
    values = either.gather(ranked, last, below)
    if interpolation in ("linear", "midpoint"):
        if interpolation == "linear":
            weights = ranks - _make(below.astype(a.dtype))
        else:
            weights = _make(xp.full(r.shape, 0.5, a.dtype))
        values = values.lerp(either.gather(ranked, last, xp.ceil(r).astype(xp.int64)), weights)
    if q._data.ndim:
        values = values.unsqueeze(0).transpose(0, -1)
    res = _squeeze_last(values)
    return res if out is None else _out(res, out, fname)


@method("quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None) -> Tensor:
    """The q-th quantiles (q a number or 1-D tensor, leading the result) along `dim` or of all
    elements; a slice with a NaN gives NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, False)


@method("nanquantile")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear",
                out=None) -> Tensor:
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, True)


# --- unique / unique_consecutive ---------------------------------------------------------------
class _NoDerivative(Node):
    _op = ""

    def backward(self, grad):
        raise NotImplementedError(f"the derivative for '{self._op}' is not implemented.")


class Unique2Backward0(_NoDerivative):
    _op = "_unique2"


class UniqueDimBackward0(_NoDerivative):
    _op = "unique_dim"


class UniqueConsecutiveBackward0(_NoDerivative):
    _op = "unique_consecutive"


def _unique_result(cls, input, values, inverse, counts, return_inverse, return_counts):
    """The unique values (recorded: their gradient is not implemented), plus what was asked."""
    res = (record(cls, values, (input,)),)
    if return_inverse:
        res += (_make(inverse.astype(xp.int64)),)
    if return_counts:
        res += (_make(counts.astype(xp.int64)),)
    return res if len(res) > 1 else res[0]


def _unique_dim(a, dim) -> int:
    if not a.ndim:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, a.ndim)
    if not a.size and a.shape[d]:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    return d


def _unique_slices_with_nan(a, d: int):
    """unique along d as PyTorch's kernel does it: std::sort of the slices by a lexicographic `<`
    in which a NaN decides nothing, then runs of equal slices (a NaN is never equal)."""
    n = a.shape[d]
    flat = xp.moveaxis(a, d, 0).reshape(n, -1)
    rows = flat.tolist()

    def less(i, j):
        for x, y in zip(rows[i], rows[j], strict=True):
            if x < y:
                return True
            if x > y:
                return False
        return False

    order = list(range(n))
    _std_sort(order, less)
    ranked = flat[order]
    new = xp.ones(n, bool)
    new[1:] = ~(ranked[1:] == ranked[:-1]).all(1)
    starts = xp.flatnonzero(new)
    inverse = xp.empty(n, xp.int64)
    inverse[order] = xp.cumsum(new) - 1
    return (xp.take(a, xp.asarray(order)[starts], axis=d), inverse,
            xp.diff(xp.append(starts, n)))


@method("unique")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (or slices along `dim`), always sorted as on PyTorch's CPU; NaNs
    are all distinct."""
    check_tensor(input, "unique")
    a = input._data
    check_kernel(a.dtype, "c", "unique" if dim is None else "unique_dim")
    if dim is None:
        values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        return _unique_result(Unique2Backward0, input, values, inverse.reshape(a.shape), counts,
                              return_inverse, return_counts)
    d = _unique_dim(a, dim)
    if not a.size:
        values, inverse, counts = a.copy(), xp.zeros(0, xp.int64), xp.zeros(0, xp.int64)
    elif a.dtype.kind == "f" and xp.isnan(a).any() and a.size <= _BUDGET:
        values, inverse, counts = _unique_slices_with_nan(a, d)
    else:
        values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=d)
    return _unique_result(UniqueDimBackward0, input, values, inverse.reshape(-1), counts,
                          return_inverse, return_counts)


@method("unique_consecutive")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The first element (or slice along `dim`) of every run of equal consecutive ones."""
    check_tensor(input, "unique_consecutive")
    a = input._data
    check_kernel(a.dtype, "c", "unique" if dim is None else "unique_dim")
    if dim is None:
        d, view = 0, a.reshape(-1)
    else:
        d, view = _unique_dim(a, dim), a
    n = view.shape[d]
    rows = xp.moveaxis(view, d, 0).reshape(n, view.size // n if n else 0)
    new = xp.ones(n, bool)
    new[1:] = (rows[1:] != rows[:-1]).any(1)
    starts = xp.flatnonzero(new)
    inverse = xp.cumsum(new) - 1
    counts = xp.diff(xp.append(starts, n))
    if dim is None:
        inverse = inverse.reshape(a.shape)
    return _unique_result(UniqueConsecutiveBackward0, input, xp.take(view, starts, axis=d),
                          inverse, counts, return_inverse, return_counts)


# --- bincount / histc / histogram --------------------------------------------------------------
@method("bincount")
def bincount(input, weights=None, minlength=0) -> Tensor:
    """How often each non-negative integer occurs (or the sum of its weights)."""
    check_tensor(input, "bincount")
    a = input._data
    _not_for(a, "fcb", NotImplementedError, _kernel("bincount_cpu"))
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if a.ndim == 1 and not a.size:
        return _make(xp.zeros(minlength, xp.int64))
    if a.ndim != 1 or a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _make(xp.bincount(a, minlength=minlength).astype(xp.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = xp.float32 if w.dtype == xp.float32 else xp.float64
    data = xp.bincount(a, w.astype(dt), minlength=minlength).astype(dt)
    return record(NoDerivative, data, (weights,), op="bincount")


def _cfmt(v: float) -> str:
    """A double as C++ streams print it."""
    if v != v:
        return "-nan" if xp.signbit(v) else "nan"
    return f"{v:g}"


def _bin_counts(a, edges, weight, density: bool):
    """PyTorch's histogram kernel: bin = the last edge <= x (the last bin includes its right
    edge), elements outside the edges and NaNs skipped."""
    flat = a.reshape(-1)
    keep = (flat >= edges[0]) & (flat <= edges[-1])
    nb = len(edges) - 1
    pos = xp.minimum(xp.searchsorted(edges, flat[keep], "right") - 1, nb - 1)
    w = None if weight is None else weight.reshape(-1)[keep]
    hist = xp.bincount(pos, w, minlength=nb).astype(a.dtype)
    if density:  # (NaN for an empty histogram, silently, as in PyTorch)
        hist = quiet(lambda: (hist / hist.sum() / xp.diff(edges)).astype(a.dtype))
    return hist


@method("histc")
def histc(input, bins=100, min=0, max=0, *, out=None) -> Tensor:  # noqa: A002
    """Counts in `bins` equal bins over [min, max] (the data's range when min == max)."""
    check_tensor(input, "histc")
    a = input._data
    _not_for(a, "biuc", NotImplementedError, _kernel("histogram_cpu"))
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(xp.min(a)), float(xp.max(a))
        if lo != lo or hi != hi:  # PyTorch's reduction produces the negative default NaN
            lo = hi = -xp.nan
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_cfmt(lo)}, {_cfmt(hi)}] is not finite")
    if not lo < hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    dt = a.dtype.type
    lo, hi = dt(lo), dt(hi)
    flat = a.reshape(-1)
    flat = flat[(flat >= lo) & (flat <= hi)]
    with xp.errstate(over="ignore"):  # (x - lo) * bins / (hi - lo), in the input dtype
        pos = ((flat - lo) * dt(bins) / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    res = _make(xp.bincount(pos, minlength=bins).astype(a.dtype))
    return res if out is None else _out(res, out, "histc")


@method("histogram")
def histogram(input, bins, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """(hist, bin_edges): counts (or weights) in `bins` equal bins over `range` (default: the
    data's range), or in the bins between the given edges (a tensor)."""
    check_tensor(input, "histogram")
    a = input._data
    _not_for(a, "biuc", NotImplementedError, _kernel("histogramdd"))
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.dtype != a.dtype:
            raise RuntimeError(
                "torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                f"but got input with dtype {_c_type(a)} and bins for dimension 0 with dtype "
                f"{_c_type(edges)}"
            )
    else:
        if bins <= 0:
            raise RuntimeError(
                f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif a.size:
            lo, hi = float(xp.min(a)), float(xp.max(a))
        else:
            lo, hi = 0.0, 1.0
        if not (xp.isfinite(lo) and xp.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_cfmt(lo)}, "
                               f"{_cfmt(hi)}] is not finite")
        if lo > hi:
            raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                               f"{_cfmt(lo)} max {_cfmt(hi)} for dimension 0")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = _linspace(lo, hi, bins + 1, a.dtype)
    w = None
    if weight is not None:
        w = weight._data
        if w.shape != a.shape:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided it should have the same shape "
                "as the input tensor excluding its innermost dimension, but got input with shape "
                f"{list(a.shape) + [1]} and weight with shape {list(w.shape)}"
            )
    hist = _bin_counts(a, edges, w, density)
    inputs = (input,) if weight is None else (input, weight)
    res = histogram_type((record(NoDerivative, hist, inputs, op="histogram"),
                          record(NoDerivative, edges.copy(), inputs, op="histogram")))
    return _tuple_out(res, out, "histogram")


def _dd_edges(col, bins, lo_hi, d: int):
    """The bin edges of dimension d: the given tensor's values, or `bins` equal bins over
    `lo_hi` (default: the column's range; a single value gets the bins around it)."""
    if isinstance(bins, Tensor):
        return bins._data
    if lo_hi is not None:
        lo, hi = float(lo_hi[0]), float(lo_hi[1])
    elif col.size:
        lo, hi = float(xp.min(col)), float(xp.max(col))
    else:
        lo, hi = 0.0, 1.0
    if lo > hi:
        raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                           f"{_cfmt(lo)} max {_cfmt(hi)} for dimension {d}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return _linspace(lo, hi, bins + 1, col.dtype)


def histogramdd(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges) of the points in input's rows (the innermost dim holds a point's D
    coordinates): counts (or weights) in a D-dimensional grid of bins."""
    check_tensor(input, "histogramdd")
    a = input._data
    if a.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    _not_for(a, "biuc", NotImplementedError, _kernel("histogramdd"))
    n_dims = a.shape[-1]
    per_dim = list(bins) if isinstance(bins, list | tuple) else [bins] * n_dims
    if len(per_dim) != n_dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    points = a.reshape(-1, n_dims)
    edges = [_dd_edges(points[:, d], b, None if range is None else range[2 * d:2 * d + 2], d)
             for d, b in enumerate(per_dim)]
    keep = xp.ones(len(points), bool)
    for d, e in enumerate(edges):
        keep &= (points[:, d] >= e[0]) & (points[:, d] <= e[-1])
    sizes = tuple(len(e) - 1 for e in edges)
    pos = tuple(xp.minimum(xp.searchsorted(e, points[keep, d], "right") - 1, n - 1)
                for d, (e, n) in enumerate(zip(edges, sizes, strict=True)))
    w = None if weight is None else weight._data.reshape(-1)[keep]
    flat = xp.ravel_multi_index(pos, sizes) if sizes else xp.zeros(0, xp.int64)
    hist = xp.bincount(flat, w, minlength=math.prod(sizes)).reshape(sizes).astype(a.dtype)
    if density:
        volume = functools.reduce(xp.multiply.outer, [xp.diff(e) for e in edges])
        hist = quiet(lambda: (hist / hist.sum() / volume).astype(a.dtype))
    inputs = (input,) if weight is None else (input, weight)
    return histogramdd_type((record(NoDerivative, hist, inputs, op="histogramdd"),
                             tuple(record(NoDerivative, e.copy(), inputs, op="histogramdd")
                                   for e in edges)))


_C_TYPES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "float16": "c10::Half"}


def _c_type(a) -> str:
    return _C_TYPES.get(a.dtype.name, a.dtype.name)


def _linspace(lo: float, hi: float, steps: int, dt):
    """PyTorch's linspace: from the start for the first half, from the end for the second."""
    step = (hi - lo) / (steps - 1)
    i = xp.arange(steps)
    half = steps // 2
    return xp.where(i < half, lo + step * i, hi - step * (steps - 1 - i)).astype(dt)


# --- diff --------------------------------------------------------------------------------------
def _check_diff_operand(input: Tensor, other, dim) -> None:
    if other is None:
        return
    d = _dim(dim, input._data.ndim)
    if other._data.ndim != input._data.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i, (s, t) in enumerate(zip(input._data.shape, other._data.shape, strict=True)):
        if i != d and s != t:
            raise RuntimeError(
                "diff expects the shape of tensor to prepend or append to match that of input "
                f"except along the differencing dimension; input.size({i}) = {s}, but got "
                f"tensor.size({i}) = {t}"
            )


@method("diff")
def diff(input, n=1, dim=-1, prepend=None, append=None) -> Tensor:
    """n-th forward difference along `dim` (XOR for bools), after prepend/append are joined."""
    check_tensor(input, "diff")
    if type(n) is not int:
        raise TypeError(f"diff(): argument 'n' must be int, not {type(n).__name__}")
    if input._data.ndim < 1:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    _check_diff_operand(input, prepend, dim)
    _check_diff_operand(input, append, dim)
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, input, append) if t is not None]
        input = cat(parts, dim)
    if n == 0:
        return zeros_like(input).copy_(input)
    d = _dim(dim, input._data.ndim)
    size = input._data.shape[d]
    res = input
    for length in range(size - 1, size - 1 - min(n, size), -1):  # PyTorch stops at length 0
        hi, lo = res.narrow(d, 1, length), res.narrow(d, 0, length)
        res = hi.logical_xor(lo) if res._data.dtype == xp.bool_ else hi - lo
    return res


# --- cummax / cummin / logcumsumexp ------------------------------------------------------------
def _cum_extreme(fname: str, input, dim, out):
    check_tensor(input, fname)
    a = input._data
    d = _dim(dim, a.ndim)
    _not_for(a, "c", NotImplementedError, _kernel(f"{fname}_cpu"))
    is_max = fname == "cummax"
    if not a.ndim:
        values, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        values = (xp.maximum if is_max else xp.minimum).accumulate(a, axis=d)  # NaN sticks
        hit = a == values  # where the running extreme was (re)set: ties take the later index
        if a.dtype.kind == "f":
            hit |= xp.isnan(a)
        pos = xp.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - d - 1))
        idx = xp.maximum.accumulate(xp.where(hit, pos, 0), axis=d).astype(xp.int64)
    cls, rtype = (CummaxBackward0, cummax_type) if is_max else (CumminBackward0, cummin_type)
    return _picked(cls, rtype, input, values, idx, d, True, out, fname)


@method("cummax")
def cummax(input, dim, *, out=None):
    """Running maximum along `dim` and where it was attained (NaN propagates)."""
    return _cum_extreme("cummax", input, dim, out)


@method("cummin")
def cummin(input, dim, *, out=None):
    """Running minimum along `dim` and where it was attained (NaN propagates)."""
    return _cum_extreme("cummin", input, dim, out)


def _rev_logcumsumexp(x, d: int):
    return P.flip(P.logcumsumexp(P.flip(x, d), d), d)


def _logcumsumexp_grad_linear(g, x, out, d: int):
    """sum_{i >= j} g_i exp(x_j - out_i) as one (n, n) product per slice (each factor <= 1).
    Linear in g, so it differentiates exactly even at g = 0, where log|g| cannot (forward AD
    differentiates a backward formula at a zero gradient); O(n^2) memory, used on tensors only."""
    xs, outs, gs = (P.transpose(v, d, -1) for v in (x, out, g))
    n = P.data(xs).shape[-1]
    keep = xp.tril(xp.ones((n, n), bool))  # [i, j]: i >= j
    w = P.exp(P.where(keep, P.unsqueeze(xs, -2) - P.unsqueeze(outs, -1), float("-inf")))
    return P.transpose(P.einsum("...i,...ij->...j", gs, w), d, -1)


class LogcumsumexpBackward0(Node):
    """d out_i / d x_j = exp(x_j - out_i) for i >= j. A plain backward sums it in log space,
    positive and negative gradients apart, as PyTorch does (no overflow, O(n)); under
    create_graph the linear form above, whose derivatives are the same wherever g != 0."""

    _saved_names = ("self", "result")

    @_quiet
    def backward(self, grad):
        x, out = self.saved_tensors
        g, d = P.data(grad), self.dim
        if not g.ndim or not g.size:
            return grad
        if P.is_tensor(grad):
            return _logcumsumexp_grad_linear(grad, x, out, d)
        lowest = float(xp.finfo(g.dtype).min)
        log_abs = P.log(P.abs(grad))
        pos = P.where(g > 0, log_abs, lowest)
        neg = P.where(g < 0, log_abs, lowest)
        return (P.exp(_rev_logcumsumexp(pos - out, d) + x)
                - P.exp(_rev_logcumsumexp(neg - out, d) + x))


@method("logcumsumexp")
def logcumsumexp(input, dim, *, out=None) -> Tensor:
    """log(cumsum(exp(input))) along `dim`, computed stably."""
    check_tensor(input, "logcumsumexp")
    a = input._data
    d = _dim(dim, a.ndim)
    _not_for(a, "biu", NotImplementedError, _kernel("logcumsumexp_out_cpu"))
    if a.dtype.kind == "c":
        raise NotImplementedError("dyngrad: logcumsumexp of complex tensors is not supported")
    data = quiet(xp.logaddexp.accumulate, a, d) if a.ndim else a.copy()
    res = record(LogcumsumexpBackward0, data, (input,), save=(input, OUT), dim=d)
    return res if out is None else _out(res, out, "logcumsumexp")


# --- searchsorted / bucketize ------------------------------------------------------------------
def _bisect(b, v, right: bool):
    """PyTorch's binary search, vectorized: per row of b (..., n) and of v (..., m), the first
    position whose boundary is > v (right) or >= v (left); comparisons with NaN are false, so
    NaN boundaries and values behave exactly as in PyTorch."""
    n = b.shape[-1]
    b2 = b.reshape(-1, n)
    v2 = v.reshape(b2.shape[0], -1) if b.ndim > 1 else v.reshape(1, -1)
    rows = xp.arange(b2.shape[0])[:, None]
    lo = xp.zeros(v2.shape, xp.int64)
    hi = xp.full(v2.shape, n, xp.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo.reshape(v.shape)
        mid = (lo + hi) >> 1
        m = b2[rows, xp.minimum(mid, n - 1)]
        go_right = ~(m > v2) if right else ~(m >= v2)
        lo = xp.where(active & go_right, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None,
                 sorter=None) -> Tensor:
    """Where `input` would be inserted into the innermost dim of `sorted_sequence` to keep it
    sorted (after the equal elements when right / side='right')."""
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               f"got side of {side} while right was True")
        right = side == "right"
    b = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    v = xp.asarray(input) if scalar else input._data
    if sorter is not None and sorter._data.shape != b.shape:
        raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, "
                           f"but got boundary tensor {list(b.shape)}and got sorter tensor "
                           f"{list(sorter._data.shape)}")
    if not b.ndim:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if b.ndim > 1 and (v.ndim != b.ndim or v.shape[:-1] != b.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(b.shape)} and input value tensor {list(v.shape)}"
        )
    if sorter is not None:
        s = sorter._data
        if s.dtype != xp.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but "
                               f"got dtype {sorter.dtype._short}")
        if s.size and (s.min() < 0 or s.max() >= b.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        b = xp.take_along_axis(b, s, -1)
    dt = result_dtype(sorted_sequence, input).np
    for arr in (b, v):
        _not_for(arr, "c", NotImplementedError, _kernel("searchsorted_out_cpu"))
    pos = _bisect(b.astype(dt, copy=False), v.astype(dt, copy=False), right) if b.shape[-1] \
        else xp.zeros(v.shape, xp.int64)
    res = _make(pos.astype(xp.int32 if out_int32 else xp.int64))
    return res if out is None else _out(res, out, "searchsorted")


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None) -> Tensor:
    """The bucket of each element: i with boundaries[i-1] < x <= boundaries[i] (< and <= swapped
    when right)."""
    check_tensor(boundaries, "bucketize", "boundaries", 2)
    if boundaries._data.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)
