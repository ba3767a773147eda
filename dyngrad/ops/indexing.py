"""Indexing: `x[...]`, `x[...] = v`, copy_/fill_/zero_, and index_put.

As in PyTorch, integers, slices, `None` and `...` are applied first as views (select, slice,
unsqueeze); what remains (integer arrays, boolean masks) is one advanced-indexing step that copies.
"""

from __future__ import annotations

import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor, bump_version
from dyngrad.autograd import forward_ad
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_broadcast, method, record
from dyngrad.ops.gather_scatter import _batched
from dyngrad.ops.inplace import apply_inplace, check_inplace, check_overlap, write
from dyngrad.ops.shape import as_view, select, slice_dim, unsqueeze

_fw = forward_ad.state
_UINT8_INDEX = ("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                "instead.")
_ndarray = xp.ndarray

__all__ = ["index_put", "unravel_index"]


class AliasBackward0(Node):
    def backward(self, grad):
        return grad


def _alias(x: Tensor) -> Tensor:
    return as_view(record(AliasBackward0, x._data.view(), (x,)), x, lambda a: a)


def _normalize(index) -> list:
    """The index as a list of ints, slices, None, Ellipsis and integer/boolean arrays."""
    if not isinstance(index, tuple):
        if isinstance(index, list) and any(
            isinstance(i, slice | list | tuple | Tensor) or i is None or i is Ellipsis
            for i in index
        ):
            index = tuple(index)
        else:
            index = (index,)
    out = []
    for item in index:
        if isinstance(item, Tensor):
            data = item._data
            if data.dtype.kind == "i" and data.ndim == 0:
                if type(data) is not _ndarray and _batched(data) and data.level:
                    # Batched under vmap (one index per sample): an advanced index, as
                    # PyTorch's batching rule takes it (each sample's index may differ: no view).
                    out.append(data)
                else:
                    out.append(int(data))
            elif data.dtype.kind in "iub":
                if data.dtype == xp.uint8:  # a legacy byte mask (a 0-dim one: no warning)
                    if data.ndim:
                        warnings.warn(_UINT8_INDEX, UserWarning, stacklevel=3)
                    data = data.astype(bool)
                out.append(data)
            else:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
        elif isinstance(item, str) or isinstance(item, list | tuple) and any(
            isinstance(i, str) for i in item
        ):
            raise TypeError("new(): invalid data type 'str'")
        elif isinstance(item, list | tuple):
            arr = xp.asarray([i.item() if isinstance(i, Tensor) else i for i in item])
            if arr.dtype.kind not in "iub" and arr.size:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr.astype(xp.int64) if arr.dtype.kind != "b" else arr)
        elif isinstance(item, xp.ndarray):
            out.append(item)
        elif isinstance(item, bool | xp.bool_):
            out.append(xp.asarray(item))
        elif isinstance(item, int | xp.integer):
            out.append(int(item))
        elif item is None or item is Ellipsis or isinstance(item, slice):
            out.append(item)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got " + type(item).__name__ + ")"
            )
    return out


def _consumed(item) -> int:
    if isinstance(item, xp.ndarray):
        return item.ndim if item.dtype == xp.bool_ else 1
    return 0 if item is None else 1


def _basic(x: Tensor, index) -> tuple[Tensor, list]:
    """Apply ints, slices, None and ... as views; return the view and the advanced indices,
    one entry per remaining dim (None where a dim is not indexed)."""
    items = _normalize(index)  # each `...` (PyTorch allows several) spans the unindexed dims
    used = sum(_consumed(i) for i in items if i is not Ellipsis)
    nd = x._data.ndim
    if used > nd:
        if not nd and type(index) is slice:  # (PyTorch's messages for a lone int or slice)
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        if not nd and isinstance(index, int | xp.integer) and not isinstance(index, bool):
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    out, dim, advanced = x, 0, []
    bad_mask = None  # raised after the basic indexing, as PyTorch does (it shows that view)
    for pos, item in enumerate(items):
        if item is Ellipsis:
            skip = nd - used
            advanced.extend([None] * skip)
            dim += skip
        elif item is None:
            out = unsqueeze(out, dim)
            advanced.append(None)
            dim += 1
        elif isinstance(item, int):
            size = out._data.shape[dim]
            if not -size <= item < size:  # (PyTorch names the int's place in the index)
                raise IndexError(
                    f"index {item} is out of bounds for dimension {pos} with size {size}"
                )
            out = select(out, dim, item)
        elif isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("slice step cannot be zero" if item.step == 0
                                 else "step must be greater than zero")
            # PyTorch skips a slice only if it is literally 0 (or none) to the end or beyond,
            # step 1: `-n:` covers the dim too but is recorded (a SliceBackward0 or CopySlices).
            if not (item.start in (None, 0) and item.step in (None, 1) and (
                    item.stop is None or item.stop >= out._data.shape[dim])):
                out = slice_dim(out, dim, item.start, item.stop, item.step or 1)
            advanced.append(None)
            dim += 1
        elif item.dtype == xp.bool_ and item.ndim == 0:
            _check_mask(item)
            out = unsqueeze(out, dim)
            advanced.append(xp.zeros(int(item), xp.int64))
            dim += 1
        elif item.dtype == xp.bool_:
            _check_mask(item)
            shape = out._data.shape[dim:dim + item.ndim]
            if item.shape != shape and bad_mask is None:
                k = next(i for i, (a, b) in enumerate(zip(item.shape, shape, strict=False))
                         if a != b)
                bad_mask = (item.shape, k, dim + k)
            advanced.extend(xp.nonzero(item))
            dim += item.ndim
        else:
            advanced.append(item)  # bounds: `_check_bounds`, later, as PyTorch checks them
            dim += 1
    if bad_mask is not None:
        shape, k, at = bad_mask
        raise IndexError(
            f"The shape of the mask {list(shape)} at index {k} does not match the shape of the "
            f"indexed tensor {list(out._data.shape)} at index {at}"
        )
    return out, advanced


_MASK_ERROR = (
    "vmap: We do not support batching operators that can support dynamic shape. Attempting to "
    "batch over indexing with a boolean mask."
)


def _check_mask(mask) -> None:
    """PyTorch's error for a boolean mask batched under vmap (its result's shape would vary)."""
    if type(mask) is not _ndarray and _batched(mask) and mask.level:
        raise RuntimeError(_MASK_ERROR)


def _check_bounds(advanced: list, data) -> None:
    """PyTorch's error for an integer index out of range (the index at `advanced[d]` indexes
    dim d of the view, whose array is `data`)."""
    shape = data.shape
    for d, item in enumerate(advanced):
        if item is not None and item.dtype.kind != "b" and item.size:
            size = shape[d]
            batched = type(item) is not _ndarray  # under vmap: check every sample's indices
            values = _samples(item) if batched else item
            if values.max() >= size or values.min() < -size:
                bad = values.max() if values.max() >= size else values.min()
                # PyTorch numbers the index among the advanced ones (its kernel indexes with
                # them first), after the vmap levels the data and the index share
                dim = sum(a is not None for a in advanced[:d])
                if batched:
                    dim += _shared_levels(data, item)
                raise IndexError(
                    f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _samples(a):
    """The plain array of every sample of a batched array (its levels' batch dims in front)."""
    while type(a) is not _ndarray and hasattr(a, "value"):
        a = a.value
    return xp.asarray(a)


def _shared_levels(data, index) -> int:
    """How many vmap levels the data and a batched index share: PyTorch's batching rule indexes
    with an arange for each of them before the advanced indices (data lifted for the index, a
    stride-0 batch, does not count)."""
    own = set()
    while type(data) is not _ndarray and hasattr(data, "value"):
        if getattr(data, "level", 0) and data.value.strides[0]:
            own.add(data.level)
        data = data.value
    shared = 0
    while type(index) is not _ndarray and hasattr(index, "value"):
        shared += getattr(index, "level", 0) in own
        index = index.value
    return shared


def _advanced_key(advanced: list) -> tuple | None:
    """The NumPy key of the advanced indices (None when there are none), after PyTorch's check
    that they broadcast together."""
    last = max((i for i, a in enumerate(advanced) if a is not None), default=-1)
    if last < 0:
        return None
    arrays = [a for a in advanced if a is not None]
    try:
        xp.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(str(list(a.shape)) for a in arrays)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes "
            f"{shapes}"
        ) from None
    return tuple(slice(None) if a is None else a for a in advanced[: last + 1])


class IndexBackward0(Node):
    def backward(self, grad):
        shape, _ = self._meta[0]
        out = P.zeros_like_shape(grad, shape)
        if isinstance(out, Tensor):
            return index_put(out, self.key, grad, accumulate=True)
        if type(shape) is not tuple:  # input batched under vmap (a LevelShape): so may the key be
            out = _batched_for(out, self.key, grad, out)
        xp.add.at(out, self.key, grad)
        return out


# --- vmap: index arrays batched at levels the data is not ----------------------------------------
# Under vmap (of a backward: jacrev, jacfwd) a key may hold index arrays batched at a level that the
# array it indexes or writes into is not: `v[v.argsort()]`'s key is batched at the outer vmap while
# jacrev's cotangent is batched at the inner one. NumPy can neither index a plain array with a
# batched index nor write per-sample values into an array without a batch, so such an array is
# first batched at the key's levels too (as gather_scatter._copy_for does for the scatters, and as
# PyTorch's batching rules expand self): `where` with a true condition batched like the key.
def _batched_for(a, key, src=None, default=None):
    """A copy of `a` batched also at the levels of the batched index arrays in `key` and of `src`
    that `a` is not batched at; `default` when there are none."""
    every = True
    for x in (*key, src):
        if type(x) is not _ndarray and _batched(x) and x.level:  # (a Promotable's level is 0)
            from dyngrad.func._batched import has_level

            if not has_level(a, x.level):
                every = every & xp.ones_like(x, dtype=bool, shape=())
    return default if every is True else xp.where(every, a, a)


def _take(x, key):
    """x[key] for the NumPy key of a recorded node under vmap (a formula's gradient: an array, or
    a tensor under create_graph and forward AD), x batched at the key's levels first."""
    if not isinstance(x, Tensor):
        return _batched_for(x, key, None, x)[key]
    data = _batched_for(x._data, key)
    if data is not None:
        from dyngrad.func.vmap import LiftBackward

        x = record(LiftBackward, data, (x,))  # identity for autograd, as vmap.lift
    return record(IndexBackward0, x._data[key], (x,), key=key)


def getitem(self: Tensor, index) -> Tensor:
    """x[index], with PyTorch's semantics for every kind of index."""
    if type(index) is slice and self._data.ndim and (index.step is None or index.step > 0):
        # A lone slice is always applied, even a full one (PyTorch: SliceBackward0, not alias).
        return slice_dim(self, 0, index.start, index.stop, index.step or 1)
    view, advanced = _basic(self, index)
    key = _advanced_key(advanced)
    if key is None:
        return view if view is not self else _alias(self)
    _check_bounds(advanced, view._data)
    return record(IndexBackward0, view._data[key], (view,), key=key)


def setitem(self: Tensor, index, value) -> None:
    """x[index] = value, recorded as copy_ into a view (CopySlices) or as index_put_."""
    if not isinstance(value, Tensor):
        if not isinstance(value, bool | int | float | complex | xp.generic | xp.ndarray):
            value = xp.asarray(value)
        value = Tensor._make(xp.asarray(value, dtype=self._data.dtype))
    if value._data.ndim == 0:  # PyTorch's masked_fill_ path takes no byte mask
        mask = _only_advanced(index)
        if isinstance(mask, Tensor) and mask._data.dtype == xp.uint8 and mask._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"
            )
    view, advanced = _basic(self, index)  # records nothing unless the write is recorded
    key = _advanced_key(advanced)
    value = _fit_value(value, view._data.shape if key is None else None)
    if key is not None and not (value._data.ndim == 0 and _is_mask(index)):
        _check_put_dtype(view, value)  # (a 0-dim value under a mask is cast, by masked_fill_)
    _check_bounds(advanced, view._data)
    # Forward-mode AD goes the op's way even when nothing is recorded: the op gives the tangent.
    if not check_inplace(view, (value,)) and not _fw.active:
        src = value._data
        if key is None:
            src = xp.broadcast_to(src, view._data.shape).astype(view._data.dtype, copy=False)
            write(view, Tensor._make(src), "__setitem__")
        else:
            _put(view._data, key, src)
            bump_version(view, "__setitem__")
        return
    if key is None:  # as PyTorch: fill_ with a 0-dim value, else copy_
        check_overlap(view._data, "copy_")  # PyTorch's setitem copies, so an expanded region
        view.fill_(value) if value._data.ndim == 0 else view.copy_(value)
    else:
        apply_inplace(view, index_put, key, value, name="index_put_")


def _only_advanced(index):
    """The index's advanced part (a tensor or list) when it has exactly one, else None."""
    items = index if isinstance(index, tuple) else (index,)
    advanced = [i for i in items if not (
        i is None or i is Ellipsis or isinstance(i, slice)
        or isinstance(i, int | xp.integer) and not isinstance(i, bool))]
    return advanced[0] if len(advanced) == 1 else None


def _is_mask(index) -> bool:
    """Whether PyTorch writes a 0-dim value through `index` with masked_fill_ (casting it):
    the index's only advanced part is one boolean tensor or list."""
    a = _only_advanced(index)
    if isinstance(a, Tensor):
        return a._data.dtype == xp.bool_
    return isinstance(a, list) and bool(a) and all(type(v) is bool for v in a)


def _fit_value(value: Tensor, shape: tuple | None) -> Tensor:
    """The value of an assignment with leading 1-dims dropped, then expanded to `shape` (a
    basic index's target; PyTorch's expand error if it does not fit)."""
    vshape = value._data.shape
    lead = 0
    while lead < len(vshape) and vshape[lead] == 1:
        lead += 1
    if lead:
        value = value.reshape(vshape[lead:])
    if shape is not None and value._data.ndim and value._data.shape != shape:
        value = value.expand(shape)
    return value


def _check_put_dtype(dst: Tensor, value: Tensor) -> None:
    if value._data.dtype != dst._data.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{dst.dtype._short} for the destination and {value.dtype._short} for the source."
        )


def _put(out, key, v) -> None:
    """out[key] = v, with PyTorch's error when v does not broadcast to the indexed shape."""
    try:
        out[key] = v
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(xp.shape(v))} cannot be broadcast to "
            f"indexing result of shape {list(out[key].shape)}"
        ) from None


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


# --- index_put ---------------------------------------------------------------------------------
class IndexPutBackward0(Node):
    _vmapped = False  # (see _VmappedIndexPutBackward0)

    def backward(self, grad):
        key = self.key
        g_values = _take(grad, key) if self._vmapped else grad[key]
        if self.accumulate:
            return grad, g_values
        if isinstance(grad, Tensor):
            g_self = index_put(grad, key, P.zeros_like_shape(grad, ()), accumulate=False)
        else:
            g_self = _batched_for(grad, key) if self._vmapped else None
            if g_self is None:
                g_self = grad.copy()
            g_self[key] = 0
        return g_self, g_values


class _VmappedIndexPutBackward0(IndexPutBackward0):
    """index_put recorded under vmap: its key may be batched at levels the gradient is not."""

    _vmapped = True


_VmappedIndexPutBackward0.__name__ = _VmappedIndexPutBackward0.__qualname__ = "IndexPutBackward0"


def _key_of(indices) -> tuple:
    if isinstance(indices, tuple) and all(
        isinstance(i, slice | xp.ndarray) or i is None for i in indices
    ):
        return indices
    return tuple(i._data if isinstance(i, Tensor) else i for i in indices)


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of input with `values` put at `indices` (summed there when accumulate)."""
    key = _key_of(indices)
    a = input._data
    v = values._data if isinstance(values, Tensor) else values
    out = _batched_for(a, key, v)  # None but under vmap
    if out is None:
        out = a.copy()
    if accumulate:
        xp.add.at(out, key, v)
    else:
        _put(out, key, v)
    cls = IndexPutBackward0 if type(out) is _ndarray else _VmappedIndexPutBackward0
    return record(cls, out, (input, values), key=key, accumulate=accumulate)


Tensor.index_put = index_put


@method("index_put_")
def index_put_(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    return apply_inplace(self, index_put, indices, values, accumulate, name="index_put_")


# --- copy_ / fill_ / zero_ ---------------------------------------------------------------------
class CopyBackwards(Node):
    def backward(self, grad):
        return P.zeros_like(grad), grad


def _copy(self: Tensor, src: Tensor) -> Tensor:
    data = xp.broadcast_to(src._data, self._data.shape).astype(self._data.dtype)
    return record(CopyBackwards, data, (self, src))


@method("copy_")
def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy src's values (broadcast, cast) into self."""
    if not isinstance(src, Tensor):
        raise TypeError(
            f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}"
        )
    shape = self._data.shape
    if src._data.shape != shape:
        check_broadcast(shape, src._data.shape)
        wide = xp.broadcast_shapes(shape, src._data.shape)
        if wide != shape:
            raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                               f"shape {list(wide)}")
    return apply_inplace(self, _copy, src, name="copy_")


class FillBackward2(Node):
    def backward(self, grad):
        return P.zeros_like(grad)


class FillBackward3(Node):
    def backward(self, grad):
        return P.zeros_like(grad), P.sum(grad, None)


def _fill(self: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions."
            )
        data = xp.full(self._data.shape, value._data, self._data.dtype)
        return record(FillBackward3, data, (self, value))
    return record(FillBackward2, xp.full(self._data.shape, value, self._data.dtype), (self,))


class ZeroBackward0(Node):
    def backward(self, grad):
        return P.zeros_like(grad)


def _zero(self: Tensor) -> Tensor:
    return record(ZeroBackward0, xp.zeros_like(self._data), (self,))


@method("fill_")
def fill_(self: Tensor, value) -> Tensor:
    return apply_inplace(self, _fill, value, name="fill_")


@method("zero_")
def zero_(self: Tensor) -> Tensor:
    return apply_inplace(self, _zero, name="zero_")


def unravel_index(indices, shape) -> tuple:
    """The coordinates, in a tensor of `shape`, of flat `indices` (one int64 tensor per dim;
    indices wrap around modulo the number of elements, as PyTorch's arithmetic makes them)."""
    if indices.is_complex() or indices.is_floating_point() or indices.dtype.name == "bool":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    a = indices._data.astype(xp.int64)
    coords, step = [], 1
    for s in reversed(shape):
        coords.append(Tensor._make(xp.asarray(a // step % s if s else a * 0)))
        step *= s
    return tuple(reversed(coords))
