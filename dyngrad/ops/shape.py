"""Shape ops. Most are *views*: they share memory and the version counter with their input.

A view records how to replay itself on its base (`ViewInfo.fn`), so a later in-place write
through the view can be recorded against the base (see `inplace.py`).
"""

from __future__ import annotations

import math
import warnings

from dyngrad._backend import xp
from dyngrad._size import Size
from dyngrad._tensor import Tensor, ViewInfo, _wrap_dim
from dyngrad.autograd import grad_mode
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import method, needs_grad, record, record_multi

__all__ = [
    "reshape", "flatten", "unflatten", "transpose", "swapaxes", "swapdims", "t", "permute",
    "movedim", "moveaxis", "squeeze", "unsqueeze", "broadcast_to", "broadcast_tensors",
    "broadcast_shapes", "narrow", "select", "unbind", "split", "chunk", "tensor_split", "cat",
    "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "flip",
    "fliplr", "flipud", "roll", "ravel", "atleast_1d", "atleast_2d", "atleast_3d", "as_strided",
    "diagonal", "row_stack", "adjoint",
]


def as_view(out: Tensor, input: Tensor, fn, creation: str | None = None) -> Tensor:
    """Mark `out` as a view of `input`: shared version counter, replayable from the base."""
    out._vc = input._own_version()
    if input._view is None:
        base, full = input, fn
    else:
        base, prev = input._view.base, input._view.fn
        full = _compose(prev, fn)
        inherited = input._view.creation
        if creation is None and inherited is not None and not inherited.startswith(
            "custom Function "
        ):
            creation = inherited  # a view of a no_grad or multi-output view is as restricted
    if creation is None and not grad_mode.state.enabled:
        creation = "no_grad"
    out._view = ViewInfo(base, full, creation)
    return out


def _compose(f, g):
    return lambda a: g(f(a))


def _view_op(cls, data, input: Tensor, fn, **attrs) -> Tensor:
    return as_view(record(cls, data, (input,), **attrs), input, fn)


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], list | tuple | Size):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return tuple(numel // known if s == -1 else s for s in shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# --- view / reshape ----------------------------------------------------------------------------
class ViewBackward0(Node):
    def backward(self, grad):
        return P.reshape(grad, self.self_sym_sizes)


class UnsafeViewBackward0(ViewBackward0):
    pass


class ReshapeAliasBackward0(ViewBackward0):
    """reshape of a non-contiguous tensor whose layout still allows a view."""


@method("view")
def view(self: Tensor, *shape) -> Tensor:
    """The same data with another shape; never copies (see `reshape`)."""
    from dyngrad import _dtype

    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise RuntimeError("view(dtype) is not supported by dyngrad")
    shape = _infer_shape(_shape_arg(shape), self._data.size)
    try:
        data = xp.reshape(self._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return _view_op(ViewBackward0, data, self, lambda a: P.reshape(a, shape),
                    self_sym_sizes=self._data.shape)


@method("reshape")
def reshape(input: Tensor, *shape) -> Tensor:
    """A view when the memory layout allows, else a copy (as PyTorch)."""
    if not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    shape = _infer_shape(_shape_arg(shape), input._data.size)
    try:
        data = xp.reshape(input._data, shape, copy=False)
    except ValueError:
        data = xp.reshape(input._data, shape)
        from dyngrad.ops.creation import clone

        copied = clone(input)
        return record(UnsafeViewBackward0, data, (copied,), self_sym_sizes=input._data.shape)
    cls = ViewBackward0 if input._data.flags.c_contiguous else ReshapeAliasBackward0
    return _view_op(cls, data, input, lambda a: P.reshape(a, shape),
                    self_sym_sizes=input._data.shape)


@method("view_as")
def view_as(self: Tensor, other: Tensor) -> Tensor:
    return view(self, other._data.shape)


@method("reshape_as")
def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return reshape(self, other._data.shape)


@method("flatten")
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    nd = input._data.ndim
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if nd == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._data.shape
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


@method("ravel")
def ravel(input: Tensor) -> Tensor:
    """contiguous() then view(-1), as PyTorch does (a copy for non-contiguous input)."""
    return view(input.contiguous(), (-1,))


@method("unflatten")
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    if input._data.ndim == 0:  # PyTorch's text goes on with its C++ source location
        _wrap_dim(dim, 0)
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
    d = _wrap_dim(dim, input._data.ndim)
    shape = input._data.shape
    sizes = tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if (known != shape[d] if -1 not in sizes else known == 0 or shape[d] % known):
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
            f"({shape[d]}) in the input tensor"
        )
    sizes = _infer_shape(sizes, shape[d])
    return view(input, shape[:d] + sizes + shape[d + 1:])


# --- transposes --------------------------------------------------------------------------------
class TransposeBackward0(Node):
    def backward(self, grad):
        if len(grad.shape) < 2:  # 0-D and 1-D "transposes" are identities
            return grad
        return P.transpose(grad, self.dim0, self.dim1)


class TBackward0(Node):
    def backward(self, grad):
        return P.transpose(grad, 0, -1) if len(self._meta[0][0]) == 2 else grad


class PermuteBackward0(Node):
    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return P.permute(grad, tuple(inverse))


@method("transpose", "swapaxes", "swapdims")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    nd = input._data.ndim
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    data = xp.swapaxes(input._data, d0, d1) if nd else input._data
    return _view_op(TransposeBackward0, data, input, lambda a: P.transpose(a, d0, d1) if nd else a,
                    dim0=d0, dim1=d1)


swapaxes = swapdims = transpose


@method("t")
def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-D and 1-D tensors are returned as they are)."""
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    data = input._data.T
    return _view_op(TBackward0, data, input, lambda a: P.transpose(a, 0, -1) if nd == 2 else a)


@method("permute")
def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dims (a view)."""
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_arg(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
            f"len(dims) = {len(dims)}"
        )
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_op(PermuteBackward0, xp.transpose(input._data, dims), input,
                    lambda a: P.permute(a, dims), dims=dims)


def _T(self: Tensor) -> Tensor:
    """`x.T`: reverse all dims (PermuteBackward0 even on a matrix, as in PyTorch)."""
    nd = self._data.ndim
    if nd == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=3)
    elif nd != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.", UserWarning, stacklevel=3)
    return permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self: Tensor, name: str = "mT") -> Tensor:
    nd = self._data.ndim
    if nd == 1:  # (0-D: the identity, as PyTorch)
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           "Got 1-D tensor.")
    return transpose(self, -2, -1) if nd else self


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(lambda self: (transpose(self, 0, 1) if self._data.ndim == 2 else self).conj())
Tensor.mH = property(lambda self: _mT(self, "mH").conj())


_WARNED_ONCE: dict = {}


@method("adjoint")
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (conjugation is lazy); a 0-D tensor is
    conjugated, with PyTorch's deprecation warning (once per process, as PyTorch's)."""
    if input._data.ndim == 0:
        if not _WARNED_ONCE.get("adjoint"):
            _WARNED_ONCE["adjoint"] = True
            warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
                          UserWarning, stacklevel=2)
        return input.conj()
    if input._data.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input._data.ndim}-D tensor.")
    return _mT(input).conj()


@method("movedim", "moveaxis")
def movedim(input: Tensor, source, destination) -> Tensor:
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
            f"the same number of dims as destination ({dst} dims)")
    wrapped = {"source": [_wrap_dim(v, nd) for v in src],
               "destination": [_wrap_dim(v, nd) for v in dst]}
    for name, given in (("source", src), ("destination", dst)):
        if len(set(wrapped[name])) != len(given):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    src, dst = wrapped["source"], wrapped["destination"]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


# --- squeeze / unsqueeze / expand --------------------------------------------------------------
class SqueezeBackward0(Node):
    def backward(self, grad):
        return P.reshape(grad, self.self_sym_sizes)


SqueezeBackward1 = type("SqueezeBackward1", (SqueezeBackward0,), {})
SqueezeBackward2 = type("SqueezeBackward2", (SqueezeBackward0,), {})


class UnsqueezeBackward0(Node):
    def backward(self, grad):
        return P.reshape(grad, self._meta[0][0])


@method("squeeze")
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop dims of size 1 (all, or only `dim`)."""
    shape = input._data.shape
    nd = len(shape)
    if dim is None:
        dims, cls = tuple(i for i, s in enumerate(shape) if s == 1), SqueezeBackward0
    elif isinstance(dim, int):
        dims, cls = (_wrap_dim(dim, nd),), SqueezeBackward1
    else:
        dims, cls = tuple(_wrap_dim(d, nd) for d in dim), SqueezeBackward2
        for i, d in enumerate(dims):
            if d in dims[:i]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    dims = tuple(d for d in dims if nd and shape[d] == 1)
    new = tuple(s for i, s in enumerate(shape) if i not in dims)
    return _view_op(cls, input._data.reshape(new), input, lambda a: P.reshape(a, new),
                    self_sym_sizes=shape)


@method("unsqueeze")
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at `dim`."""
    d = _wrap_dim(dim, input._data.ndim + 1)
    new = input._data.shape[:d] + (1,) + input._data.shape[d:]
    return _view_op(UnsqueezeBackward0, input._data.reshape(new), input,
                    lambda a: P.reshape(a, new), dim=d)


class ExpandBackward0(Node):
    def backward(self, grad):
        return grad  # the engine sums the broadcast dims away


@method("expand")
def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast size-1 dims to `sizes` without copying (-1 keeps a dim)."""
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.{input.dtype.legacy}{{{list(shape)}}}, size={list(sizes)}): the number "
            "of sizes provided (" + str(len(sizes)) + ") must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in reversed(list(enumerate(sizes))):  # PyTorch checks from the last dim
        have = shape[i - lead] if i >= lead else None
        if s == -1:
            if have is None:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            s = have
        elif have is not None and have != 1 and have != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        target.append(s)
    target = tuple(target[::-1])
    return _view_op(ExpandBackward0, _expanded(input._data, target), input,
                    lambda a: _expanded(a, target) if type(a) is xp.ndarray else
                    P.expand(a, target), self_sym_sizes=shape)


def _expanded(a, shape: tuple):
    """`a` broadcast to `shape` as a view that is writable when `a` is (NumPy's broadcast_to
    is read-only): PyTorch lets fill_ and zero_ write through an expanded tensor."""
    if type(a) is not xp.ndarray or not a.flags.writeable:
        return xp.broadcast_to(a, shape)
    lead = len(shape) - a.ndim
    strides = (0,) * lead + tuple(0 if n == 1 and s != 1 else st
                                  for n, s, st in zip(a.shape, shape[lead:], a.strides,
                                                      strict=True))
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


@method("expand_as")
def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return expand(self, other._data.shape)


@method("broadcast_to")
def broadcast_to(input: Tensor, size) -> Tensor:
    return expand(input, tuple(size))


def broadcast_shapes(*shapes) -> Size:
    """The shape all `shapes` broadcast to, or PyTorch's error naming the first misfit."""
    result: list = []
    for i, shape in enumerate(shapes):
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        new = [1] * (len(dims) - len(result)) + result
        for k in range(-1, -len(dims) - 1, -1):
            if dims[k] == 1 or dims[k] == new[k]:
                continue
            if new[k] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {dims[k]} at {k}! Mismatching "
                    f"argument at index {i} had {shape}; but expected shape should be "
                    f"broadcastable to {result}"
                )
            new[k] = dims[k]
        result = new
    return Size(result)


def broadcast_tensors(*tensors) -> tuple:
    """Each tensor expanded to the common shape (itself when it already has it, as PyTorch)."""
    from dyngrad.ops._core import check_broadcast

    tensors = _flat_args(tensors)
    shape = tensors[0]._data.shape
    for t in tensors[1:]:
        check_broadcast(shape, t._data.shape)
        shape = xp.broadcast_shapes(shape, t._data.shape)
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


# --- select / narrow / slice / diagonal --------------------------------------------------------
class SelectBackward0(Node):
    def backward(self, grad):
        shape, dtype = self._meta[0]
        out = P.zeros_like_shape(grad, shape)
        return _scatter_into(out, grad, (slice(None),) * self.dim + (self.index, Ellipsis))


class SliceBackward0(Node):
    def backward(self, grad):
        shape, dtype = self._meta[0]
        out = P.zeros_like_shape(grad, shape)
        return _scatter_into(out, grad,
                             (slice(None),) * self.dim + (slice(self.start, self.end, self.step),))


def _scatter_into(out, grad, index):
    """out with `grad` written at `index`, differentiably when tensors are involved."""
    if isinstance(out, Tensor):
        out[index] = grad
        return out
    out[index] = grad
    return out


@method("select")
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` along `dim`, with that dim removed (a view)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
            f"dimension {d}"
        )
    i = index % size
    key = (slice(None),) * d + (i, Ellipsis)  # the Ellipsis keeps a 0-d result a view
    return _view_op(SelectBackward0, input._data[key], input, lambda a: a[key], dim=d, index=i)


def slice_dim(input: Tensor, dim: int, start, end, step: int = 1) -> Tensor:
    """input[..., start:end:step, ...] along `dim` (a view, recorded as SliceBackward0)."""
    d = _wrap_dim(dim, input._data.ndim)
    s, e, st = slice(start, end, step).indices(input._data.shape[d])
    e = max(e, s)
    key = (slice(None),) * d + (slice(s, e, st),)
    return _view_op(SliceBackward0, input._data[key], input, lambda a: a[key], dim=d, start=s,
                    end=e, step=st)


@method("narrow")
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(start, Tensor):
        start = start.item()
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_dim(input, d, start, start + length)


class DiagonalBackward0(Node):
    def backward(self, grad):
        shape, _ = self._meta[0]
        out = P.zeros_like_shape(grad, shape)
        region = diagonal(out, self.offset, self.dim1, self.dim2) if isinstance(out, Tensor) else \
            _diag_view(out, self.offset, self.dim1, self.dim2)
        if isinstance(region, Tensor):
            region.copy_(grad)
        else:
            region[...] = grad
        return out


def _diag_view(a, offset, d1, d2):
    """A writable diagonal view of an ndarray (NumPy's `diagonal` is read-only)."""
    n1, n2 = a.shape[d1], a.shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    keep = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = tuple(a.shape[i] for i in keep) + (length,)
    if length == 0:
        return xp.empty(shape, a.dtype)
    start = [slice(None)] * a.ndim
    start[d2 if offset >= 0 else d1] = slice(abs(offset), None)
    shifted = a[tuple(start)]
    strides = tuple(a.strides[i] for i in keep) + (a.strides[d1] + a.strides[d2],)
    return xp.lib.stride_tricks.as_strided(shifted, shape, strides)


@method("diagonal")
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal (a view), as the last dim."""
    nd = input._data.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    data = _diag_view(input._data, offset, d1, d2)
    return _view_op(DiagonalBackward0, data, input,
                    lambda a: diagonal(a, offset, d1, d2) if isinstance(a, Tensor)
                    else _diag_view(a, offset, d1, d2), offset=offset, dim1=d1, dim2=d2)


@method("as_strided")
def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view with explicit sizes and strides (in elements), as PyTorch's as_strided."""
    from dyngrad.ops.inplace import AsStridedBackward0

    a = input._data
    item = a.itemsize
    offset = input.storage_offset() if storage_offset is None else storage_offset
    size, stride = tuple(size), tuple(stride)
    if type(a) is xp.ndarray or getattr(a, "level", 0) == 0:
        flat = _storage(a)
        _check_geometry(size, stride, offset, item, flat.size)
        data = xp.lib.stride_tricks.as_strided(flat[offset:], size,
                                               tuple(s * item for s in stride))
    else:  # under vmap
        data = _batched_as_strided(a, size, stride, offset)

    def fn(a):  # replayed on a gradient (CopySlices): the same geometry in *its* storage
        if isinstance(a, Tensor):
            return as_strided(a, size, stride, offset)
        return xp.lib.stride_tricks.as_strided(_storage(a)[offset:], size,
                                               tuple(s * a.itemsize for s in stride))

    if not needs_grad(input):
        return as_view(record(AsStridedBackward0, data, (input,)), input, fn)
    index, keep = _input_positions(input, offset + _positions(size, stride))
    return as_view(record(AsStridedBackward0, data, (input,), fn=fn, index=index, keep=keep),
                   input, fn)


def _storage(a):
    """The memory array `a` views: its root array, flat in storage order (a view when the root
    is dense, C- or Fortran-ordered). as_strided's strides and offset count in it."""
    while isinstance(a.base, xp.ndarray):
        a = a.base
    dense = a.flags.c_contiguous or a.flags.f_contiguous
    return a.reshape(-1, order="A") if dense else a.ravel()


def _batched_as_strided(a, size: tuple, stride: tuple, offset: int):
    """PyTorch's vmap rule of as_strided on a batched array `a`: every sample's view of the same
    geometry in its own storage (the physical storage shifted by the sample's batch stride, so
    `offset` counts as for sample 0), which must lie inside the sample's own memory."""
    from dyngrad._tensor import _storage_offset
    from dyngrad.func._batched import BatchedArray

    if len(size) != len(stride):
        raise RuntimeError(f"Tensor.as_strided(size, stride, ...): size and stride must have the "
                           f"same length! Got size {list(size)} and stride {list(stride)}")
    value, item = a.value, a.itemsize
    base = _storage_offset(value)
    end = _storage_end(size, stride, offset)
    have = _storage_end(tuple(a.shape), tuple(s // item for s in a.strides), base)
    if end >= 0:
        head = (f"result = tensor.as_strided({list(size)}, {list(stride)}, {offset}) can access "
                f"memory outside of `tensor`. ")
        tail = (" This is not supported inside of vmap, please try to rewrite the `as_strided` "
                "call as a sequence of PyTorch view operations")
        if have < 0:
            raise RuntimeError(head + "`tensor` has no storage but the passed-in (size, stride, "
                               "storage_offset) imply a result with some storage." + tail)
        if offset < base or end > have:
            raise RuntimeError(head + f"`result` can access some memory in range [{offset}, "
                               f"{end}], but `tensor` can only access some memory in range "
                               f"[{base}, {have}]." + tail)
    size, stride = (value.shape[0], *size), (value.strides[0] // item, *stride)
    if type(value) is BatchedArray:  # nested vmaps: the enclosing one's rule
        return BatchedArray(_batched_as_strided(value, size, stride, offset), a.level)
    flat = _storage(value)
    _check_geometry(size, stride, offset, item, flat.size)
    return BatchedArray(xp.lib.stride_tricks.as_strided(flat[offset:], size,
                                                        tuple(s * item for s in stride)), a.level)


def _storage_end(size: tuple, stride: tuple, offset: int) -> int:
    """One past the last storage position a geometry reaches (-1 when it holds no element)."""
    n = 1 + sum((k - 1) * s for k, s in zip(size, stride, strict=True))
    return -1 if 0 in size or n + offset < 0 else n + offset


def _check_geometry(size: tuple, stride: tuple, offset: int, item: int, storage: int) -> None:
    """PyTorch's checks of an as_strided geometry, in its order: it must lie inside the
    storage (NumPy would read past the end of the buffer)."""
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if 0 in size:
        return
    need = item * (offset + 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True)))
    if need > item * storage:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {item} requiring a storage size of {need} are out of bounds for "
            f"storage of size {item * storage}"
        )


def _positions(size: tuple, stride: tuple):
    """Storage position (in elements) of each element of a (size, stride) geometry, offset 0."""
    return xp.asarray(sum((xp.arange(n) * s).reshape((-1,) + (1,) * (len(size) - k - 1))
                          for k, (n, s) in enumerate(zip(size, stride, strict=True))),
                      dtype=xp.int64)


def _input_positions(input: Tensor, storage):
    """For storage positions of a view, the flat index of the input element at each (where
    gradients scatter-add, so overlapping elements add up), and a mask of the positions that
    lie inside the input at all (None when all do): PyTorch drops the others' gradients."""
    where = input.storage_offset() + _positions(input._data.shape, input.stride())
    lo = int(where.min()) if where.size else 0
    table = xp.full(int(where.max()) - lo + 1 if where.size else 0, -1, xp.int64)
    table[where.reshape(-1) - lo] = xp.arange(where.size)
    rel = storage - lo
    inside = (rel >= 0) & (rel < table.size)
    index = xp.where(inside, table[xp.where(inside, rel, 0)] if table.size else -1, -1)
    keep = index >= 0
    return (index, None) if keep.all() else (index[keep], keep)


# --- multi-output views ------------------------------------------------------------------------
class UnbindBackward0(Node):
    def backward(self, *grads):
        if isinstance(grads[0], Tensor):
            return stack(list(grads), self.dim)
        return xp.stack(grads, self.dim)


class SplitBackward0(Node):
    def backward(self, *grads):
        if isinstance(grads[0], Tensor):
            return cat(list(grads), self.dim)
        return xp.concatenate(grads, self.dim)


SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (SplitBackward0,), {})


def _multi_view(cls, input: Tensor, keys: list, creation: str, **attrs) -> tuple:
    datas = [input._data[k] for k in keys]
    outs = record_multi(cls, datas, (input,), **attrs)
    return tuple(as_view(o, input, (lambda key: lambda a: a[key])(k), creation)
                 for o, k in zip(outs, keys, strict=True))


@method("unbind")
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """All slices along `dim`, as views."""
    if input._data.ndim == 0:  # (wrapped as for one dim first, as PyTorch)
        raise IndexError(f"Dimension specified as {_wrap_dim(dim, 0)} but tensor has no "
                         "dimensions")
    d = _wrap_dim(dim, input._data.ndim)
    keys = [(slice(None),) * d + (i, Ellipsis) for i in range(input._data.shape[d])]
    return _multi_view(UnbindBackward0, input, keys, "Unbind", dim=d)


@method("split")
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Chunks of `split_size` (or of the listed sizes) along `dim`, as views."""
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n:
            raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
        cls, name = SplitBackward0, "Split"
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {dim}), but got split_sizes={sizes}"
            )
        cls, name = SplitWithSizesBackward0, "SplitWithSizes"
    keys, start = [], 0
    for s in sizes:
        keys.append((slice(None),) * d + (slice(start, start + s),))
        start += s
    return _multi_view(cls, tensor, keys, name, dim=d)


@method("chunk")
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` equal pieces along `dim` (the last may be smaller)."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[_wrap_dim(dim, input._data.ndim)]
    if n == 0:  # PyTorch: `chunks` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


@method("tensor_split")
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor):  # a 0-dim tensor is a count, 1-D are indices
        data = indices_or_sections._data
        indices_or_sections = int(data) if data.ndim == 0 else data.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds, start = [], 0
        for size in sizes:
            bounds.append((start, start + size))
            start += size
    else:  # slice semantics, as NumPy's array_split: negative indices count from the end
        idx = [0] + [int(i) for i in indices_or_sections] + [n]
        bounds = [slice(a, b).indices(n)[:2] for a, b in zip(idx, idx[1:], strict=False)]
    # plain slices (SliceBackward0), not a multi-output split
    return tuple(slice_dim(input, d, a, max(a, b)) for a, b in bounds)


# --- joining -----------------------------------------------------------------------------------
class CatBackward0(Node):
    def backward(self, grad):
        out, start = [], 0
        for shape, _ in self._meta:
            size = shape[self.dim] if len(shape) > 1 or shape != (0,) else 0
            key = (slice(None),) * self.dim + (slice(start, start + size),)
            out.append(grad[key] if len(shape) == len(grad.shape)
                       else P.zeros_like_shape(grad, shape))  # a skipped legacy empty tensor
            start += size
        return tuple(out)


def _same_dtype(tensors) -> list:
    from dyngrad.ops._core import result_dtype

    dt = result_dtype(*tensors).np
    return [t._data if t._data.dtype == dt else t._data.astype(dt) for t in tensors]


@method("cat")
def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dim (1-D empty tensors are skipped, as in PyTorch)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    ref = next((t for t in tensors if t._data.shape != (0,)), tensors[0])
    d = _wrap_dim(dim, ref._data.ndim)
    datas = [a for a, t in zip(_same_dtype(tensors), tensors, strict=True)
             if t._data.shape != (0,) or ref._data.shape == (0,)]
    for i, t in enumerate(tensors):
        s = t._data.shape
        if s == (0,) and ref._data.shape != (0,):
            continue
        if len(s) != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and {len(s)}"
            )
        for k, (a, b) in enumerate(zip(s, ref._data.shape, strict=True)):
            if k != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {b} but "
                    f"got size {a} for tensor number {i} in the list."
                )
    return record(CatBackward0, xp.concatenate(datas, d), tuple(tensors), dim=d)


concat = concatenate = cat


class StackBackward0(Node):
    def backward(self, grad):
        return tuple(P.select(grad, self.dim, i) for i in range(len(self._meta)))


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, len(shape) + 1)
    return record(StackBackward0, xp.stack(_same_dtype(tensors), d), tuple(tensors), dim=d)


def atleast_1d(*tensors):
    out = [t if t._data.ndim >= 1 else reshape(t, (1,)) for t in _flat_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = []
    for t in _flat_args(tensors):
        if t._data.ndim == 0:
            t = reshape(t, (1, 1))
        elif t._data.ndim == 1:
            t = unsqueeze(t, 0)
        out.append(t)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    out = []
    for t in _flat_args(tensors):
        nd = t._data.ndim
        if nd == 0:
            t = reshape(t, (1, 1, 1))
        elif nd == 1:
            t = unsqueeze(unsqueeze(t, 0), -1)
        elif nd == 2:
            t = unsqueeze(t, -1)
        out.append(t)
    return out[0] if len(out) == 1 else tuple(out)


def _flat_args(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return list(tensors[0])
    return list(tensors)


def hstack(tensors) -> Tensor:
    ts = atleast_1d(*tensors)
    ts = [ts] if isinstance(ts, Tensor) else ts
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    ts = atleast_2d(*tensors)
    return cat([ts] if isinstance(ts, Tensor) else ts, 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    ts = atleast_3d(*tensors)
    return cat([ts] if isinstance(ts, Tensor) else ts, 2)


def column_stack(tensors) -> Tensor:
    ts = [reshape(t, (-1, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(ts, 1)


# --- flips and rolls ---------------------------------------------------------------------------
class FlipBackward0(Node):
    def backward(self, grad):
        return flip(grad, self.dims) if isinstance(grad, Tensor) else xp.flip(grad, self.dims)


@method("flip")
def flip(input: Tensor, *dims, **kwargs) -> Tensor:
    """Reverse the order along `dims` (a copy, as in PyTorch)."""
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dims = tuple(_wrap_dim(d, input._data.ndim) for d in _shape_arg(dims))
    for i, d in enumerate(dims):
        if d in dims[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if input._data.ndim == 0:
        dims = ()
    return record(FlipBackward0, xp.flip(input._data, dims).copy(), (input,), dims=dims)


@method("fliplr")
def fliplr(input: Tensor) -> Tensor:
    return flip(input, (1,))


@method("flipud")
def flipud(input: Tensor) -> Tensor:
    return flip(input, (0,))


class RollBackward0(Node):
    def backward(self, grad):
        neg = tuple(-s for s in self.shifts)
        if isinstance(grad, Tensor):
            return roll(grad, neg, self.dims)
        return xp.roll(grad, neg, self.dims)


@method("roll")
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is not None and not isinstance(dims, int) and len(dims) == 0:
        dims = None
    n_shifts = 1 if isinstance(shifts, int) else len(shifts)
    n_dims = 0 if dims is None else 1 if isinstance(dims, int) else len(dims)
    if n_shifts != n_dims and (n_dims or n_shifts != 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {n_shifts}, dims:{n_dims}")
    if dims is not None and input._data.ndim == 0:
        first = dims if isinstance(dims, int) else dims[0]
        raise IndexError(f"Dimension specified as {first} but tensor has no dimensions")
    if dims is None:  # roll the flattened tensor, one RollBackward0 as in PyTorch
        shift = shifts if isinstance(shifts, int) else shifts[0]
        return record(RollBackward0, xp.roll(input._data, shift), (input,), shifts=(shift,),
                      dims=None)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = tuple(_wrap_dim(d, input._data.ndim) for d in ((dims,) if isinstance(dims, int)
                                                             else dims))
    return record(RollBackward0, xp.roll(input._data, shifts, dims), (input,), shifts=shifts,
                  dims=dims)

