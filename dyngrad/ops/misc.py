"""The rest of torch's operator namespace: `*_copy` variants of the views, splits, scatters into a
region (diagonal, select, slice, as_strided), padding, fill, and math that has no other home
(fmod, ldexp, frexp, cov, trapezoid, gradient, renorm, addbmm, addr, cdist, dist).

Ops PyTorch writes as compositions of other ops (cov, trapezoid, gradient, ...) are composed the
same way here, so their grad_fn names and every derivative follow from the ops they use.
"""

from __future__ import annotations

import math
import warnings

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim, make_tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops import shape as S
from dyngrad.ops._core import (
    OUT,
    binary_operands,
    check_kernel,
    check_tensor,
    method,
    record,
    record_multi,
)
from dyngrad.ops.arithmetic import (
    _check_bool_sub,
    _check_int_division,
    _conj,
    _result_np_dtype,
    div_scalar,
)
from dyngrad.ops.gather_scatter import either
from dyngrad.ops.inplace import apply_inplace
from dyngrad.ops.reduction import _quiet, _return_type, norm_grad

__all__ = [
    "chain_matmul",
    "expand_copy", "diagonal_copy", "alias_copy", "as_strided_copy", "narrow_copy", "view_copy",
    "permute_copy", "unbind_copy", "unfold_copy", "squeeze_copy", "unsqueeze_copy",
    "transpose_copy", "t_copy", "split_copy", "split_with_sizes", "split_with_sizes_copy",
    "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk", "hsplit", "vsplit", "dsplit",
    "diag_embed", "diagflat", "diagonal_scatter", "select_scatter", "slice_scatter",
    "as_strided_scatter", "constant_pad_nd", "slice", "fill", "zero_", "fmod", "ldexp",
    "nextafter", "frexp", "cov", "corrcoef", "trapz", "trapezoid", "cumulative_trapezoid",
    "renorm", "gradient", "addbmm", "addr", "cdist", "dist", "ldexp_", "_softmax_backward_data",
    "vander", "select_copy", "slice_copy", "detach_copy", "view_as_real_copy",
    "view_as_complex_copy",
]

# --- *_copy: a view's values in fresh memory ---------------------------------------------------
_RENAMED: dict = {}


def _renamed(cls, name: str):
    """`cls` under another name: PyTorch's *_copy ops record the view's own formula as
    `<View>Backward0_copy` (narrow_copy: `NarrowCopyBackward0`)."""
    key = (cls, name)
    if key not in _RENAMED:
        _RENAMED[key] = type(name, (cls,), {"__module__": __name__, "__qualname__": name})
    return _RENAMED[key]


def _copied(input: Tensor, view, name: str | None = None):
    """Fresh tensors holding the values of `view` (one view of `input`, or a tuple of views made
    by one op), recorded by that op's node renamed to its *_copy name."""
    views = (view,) if isinstance(view, Tensor) else tuple(view)
    node = views[0]._grad_fn if views else None
    if node is not None and node is not input._grad_fn:
        node.__class__ = _renamed(type(node), name or type(node).__name__ + "_copy")
    outs = tuple(make_tensor(xp.array(v._data, order="C"), v._requires_grad, v._grad_fn,
                             v._output_nr) for v in views)
    for v, out in zip(views, outs, strict=True):
        if v._x is not None and "tangent" in v._x:  # forward-mode AD: the tangent, copied too
            gen, tangent = v._x["tangent"]
            out._extra()["tangent"] = (gen, tangent.clone())
    return outs[0] if isinstance(view, Tensor) else outs


def expand_copy(input: Tensor, size, *, implicit: bool = False) -> Tensor:
    check_tensor(input, "expand_copy")
    return _copied(input, S.expand(input, size))


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    check_tensor(input, "diagonal_copy")
    return _copied(input, S.diagonal(input, offset, dim1, dim2))


class AliasBackward0(Node):
    def backward(self, grad):
        return grad


def alias_copy(input: Tensor) -> Tensor:
    check_tensor(input, "alias_copy")
    return record(_renamed(AliasBackward0, "AliasBackward0_copy"), input._data.copy(), (input,))


class _StridedRead(Node):
    """Output element j read input element `index[j]` (-1: storage outside the input, no
    gradient): gradients add up where they were read (as_strided_copy)."""

    def backward(self, grad):
        shape = self._meta[0][0]
        inside = self.index >= 0
        read = P.where(inside, grad, 0.0) if not inside.all() else grad
        out = either.put(P.zeros_like_shape(grad, shape), xp.maximum(self.index, 0), read, True)
        return P.reshape(out, shape)


def _strided_index(numel: int, itemsize: int, size, stride, offset: int):
    """The storage positions an as_strided(size, stride, offset) view reads, with PyTorch's
    checks against a storage of `numel` elements."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(st < 0 for st in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}"
        )
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    need = 1 + offset + sum((n - 1) * st for n, st in zip(size, stride, strict=True)) \
        if all(size) else 0
    if need > numel:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {need * itemsize} are out of "
            f"bounds for storage of size {numel * itemsize}"
        )
    index = xp.full(size, offset, xp.int64)
    for d, (n, st) in enumerate(zip(size, stride, strict=True)):
        index += (xp.arange(n) * st).reshape((n,) + (1,) * (len(size) - d - 1))
    return index


def as_strided_copy(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """as_strided (sizes and strides in the input's storage, as PyTorch), in fresh memory."""
    check_tensor(input, "as_strided_copy")
    a = input._data
    base = a
    while isinstance(base.base, xp.ndarray):
        base = base.base
    own, strides = input.storage_offset(), input.stride()
    if base.flags.c_contiguous and min(strides, default=0) >= 0:
        storage = base.reshape(-1)
    else:  # memory NumPy laid out otherwise (reversed, column-major): as if contiguous
        storage, own, strides = xp.ascontiguousarray(a).reshape(-1), 0, None
    offset = own if storage_offset is None else int(storage_offset)
    index = _strided_index(storage.size, a.itemsize, size, stride, offset)
    owner = xp.full(storage.size, -1, xp.int64)  # which input element sits at each position
    if strides is None:
        owner[:] = xp.arange(a.size)
    else:
        owner[_strided_index(storage.size, a.itemsize, a.shape, strides, own)] = \
            xp.arange(a.size).reshape(a.shape)
    return record(_renamed(_StridedRead, "AsStridedBackward0_copy"), storage[index], (input,),
                  index=owner[index])


@method("narrow_copy")
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    check_tensor(input, "narrow_copy")
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd)
    size = input._data.shape[d]
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    start = start + size if start < 0 else start
    if length < 0 or start > size - length:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    return _copied(input, S.slice_dim(input, d, start, start + length), "NarrowCopyBackward0")


def view_copy(input: Tensor, size) -> Tensor:
    """The values reshaped (PyTorch's view_copy also accepts layouts `view` refuses)."""
    check_tensor(input, "view_copy")
    a = input._data
    shape = S._infer_shape(S._shape_arg((size,)), a.size)
    return record(_renamed(S.ViewBackward0, "ViewBackward0_copy"), a.reshape(shape).copy(),
                  (input,), self_sym_sizes=a.shape)


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    check_tensor(input, "select_copy")
    return _copied(input, S.select(input, dim, index))


def slice_copy(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    check_tensor(input, "slice_copy")
    return _copied(input, slice(input, dim, start, end, step))


def detach_copy(input: Tensor) -> Tensor:
    """A copy of the values; PyTorch records it with no derivative (NotImplemented)."""
    from dyngrad.ops.arithmetic import NotImplemented as NoDerivative

    check_tensor(input, "detach_copy")
    return record(NoDerivative, input._data.copy(), (input,), op="detach_copy")


def view_as_real_copy(input: Tensor) -> Tensor:
    from dyngrad.ops.complex import view_as_real

    check_tensor(input, "view_as_real_copy")
    return _copied(input, view_as_real(input))


def view_as_complex_copy(input: Tensor) -> Tensor:
    from dyngrad.ops.complex import view_as_complex

    check_tensor(input, "view_as_complex_copy")
    if input._requires_grad:
        raise RuntimeError("view_as_complex_copy does not support automatic differentiation for "
                           "outputs with complex dtype.")
    return _copied(input, view_as_complex(input))


def permute_copy(input: Tensor, dims) -> Tensor:
    check_tensor(input, "permute_copy")
    return _copied(input, S.permute(input, dims))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple:
    check_tensor(input, "unbind_copy")
    return _copied(input, S.unbind(input, dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    check_tensor(input, "unfold_copy")
    return _copied(input, input.unfold(dimension, size, step))


def squeeze_copy(input: Tensor, dim=None) -> Tensor:
    check_tensor(input, "squeeze_copy")
    return _copied(input, S.squeeze(input, dim))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    check_tensor(input, "unsqueeze_copy")
    return _copied(input, S.unsqueeze(input, dim))


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    check_tensor(input, "transpose_copy")
    return _copied(input, S.transpose(input, dim0, dim1))


def t_copy(input: Tensor) -> Tensor:
    check_tensor(input, "t_copy")
    return _copied(input, S.t(input))


def split_copy(input: Tensor, split_size: int, dim: int = 0) -> tuple:
    check_tensor(input, "split_copy")
    return _copied(input, S.split(input, split_size, dim))


def split_with_sizes_copy(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    check_tensor(input, "split_with_sizes_copy")
    return _copied(input, S.split(input, list(split_sizes), dim))


# --- splits ------------------------------------------------------------------------------------
@method("split_with_sizes")
def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Pieces of the listed sizes along `dim`, as views."""
    check_tensor(input, "split_with_sizes")
    return S.split(input, list(split_sizes), dim)


class UnsafeSplitBackward0(Node):
    def backward(self, *grads):
        return P.cat(list(grads), self.dim)


class UnsafeSplitWithSizesBackward0(UnsafeSplitBackward0):
    pass


def _unsafe(cls, views: tuple, input: Tensor, dim: int) -> tuple:
    """The pieces share the input's memory but are not tracked as views (in-place writes to
    them are not checked), as PyTorch's unsafe_split."""
    return record_multi(cls, [v._data for v in views], (input,),
                        dim=_wrap_dim(dim, input._data.ndim))


@method("unsafe_split")
def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple:
    check_tensor(input, "unsafe_split")
    from dyngrad.autograd import grad_mode

    with grad_mode.no_grad():
        views = S.split(input, split_size, dim)
    return _unsafe(UnsafeSplitBackward0, views, input, dim)


@method("unsafe_split_with_sizes")
def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    check_tensor(input, "unsafe_split_with_sizes")
    from dyngrad.autograd import grad_mode

    with grad_mode.no_grad():
        views = S.split(input, list(split_sizes), dim)
    return _unsafe(UnsafeSplitWithSizesBackward0, views, input, dim)


@method("unsafe_chunk")
def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    check_tensor(input, "unsafe_chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[_wrap_dim(dim, input._data.ndim)]
    return unsafe_split(input, max(1, -(-n // chunks)), dim)


def _split_along(fname: str, input: Tensor, sections, dim: int, min_dims: int) -> tuple:
    """hsplit / vsplit / dsplit: tensor_split along one dim, an int needing an exact divisor."""
    check_tensor(input, fname)
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(
            f"torch.{fname} requires a tensor with at least {min_dims} dimension, but got a "
            f"tensor with {nd} dimensions!"
        )
    if isinstance(sections, int):
        size = input._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(
                f"torch.{fname} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {sections}!"
            )
    return S.tensor_split(input, sections, dim)


@method("hsplit")
def hsplit(input: Tensor, indices_or_sections) -> tuple:
    nd = input._data.ndim if isinstance(input, Tensor) else 0
    return _split_along("hsplit", input, indices_or_sections, 0 if nd == 1 else 1, 1)


@method("vsplit")
def vsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


@method("dsplit")
def dsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


# --- diagonals ---------------------------------------------------------------------------------
class DiagEmbedBackward0(Node):
    def backward(self, grad):
        return P.diagonal(grad, self.offset, self.dim1, self.dim2)


@method("diag_embed")
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The last dim of `input` placed on the `offset` diagonal of two new dims (dim1, dim2)."""
    check_tensor(input, "diag_embed")
    a = input._data
    nd = a.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (a.shape[-1] if a.ndim else 1) + abs(offset)
    rest = list(a.shape[:-1])
    for d in sorted((d1, d2)):
        rest.insert(d, n)
    out = xp.zeros(rest, a.dtype)
    S._diag_view(out, offset, d1, d2)[...] = a
    return record(DiagEmbedBackward0, out, (input,), offset=offset, dim1=d1, dim2=d2)


@method("diagflat")
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A matrix with the flattened input on its `offset` diagonal."""
    check_tensor(input, "diagflat")
    return diag_embed(S.reshape(input, (-1,)), offset, 0, 1)


# --- scatters into a region (diagonal, select, slice, as_strided) ------------------------------
class _RegionScatter(Node):
    """out = input with the region at flat positions `index` replaced by src: the region's
    gradient goes to src, the rest to input."""

    def backward(self, grad):
        need_in, need_src = (n is not None for n, _ in self._next)
        g_in = P.where(self.mask, 0.0, grad) if need_in else None
        g_src = either.take(grad, self.index) if need_src else None
        return g_in, g_src


DiagonalScatterBackward0 = type("DiagonalScatterBackward0", (_RegionScatter,), {})
SelectScatterBackward0 = type("SelectScatterBackward0", (_RegionScatter,), {})
SliceScatterBackward0 = type("SliceScatterBackward0", (_RegionScatter,), {})


class AsStridedScatterBackward0(_RegionScatter):
    """PyTorch's formula (as_strided_scatter_backward) gives input the gradient *inside* the
    region, where the true derivative is zero, and zero outside it; reproduced as it is (its
    forward-mode tangent is the true one, so `jvp` cannot come from this formula)."""

    def backward(self, grad):
        g_in, g_src = _RegionScatter.backward(self, grad)
        return (None if g_in is None else P.where(self.mask, grad, 0.0)), g_src

    def jvp(self, t_in, t_src):
        """PyTorch's forward-mode tangent is the true one: t_in with t_src scattered in."""
        t_in, t_src = (Tensor._make(xp.zeros(*meta)) if t is None else t
                       for t, meta in zip((t_in, t_src), self._meta, strict=True))
        return _region_scatter(_RegionScatter, t_in, t_src, self.index)


def _region_scatter(cls, input: Tensor, src: Tensor, index) -> Tensor:
    """input's values with src written at the flat positions `index` (src's shape must match)."""
    if tuple(src._data.shape) != index.shape:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {list(index.shape)}"
        )
    a = input._data
    out = a.copy()
    out.reshape(-1)[index.reshape(-1)] = src._data.reshape(-1)
    mask = xp.zeros(a.shape, bool)
    mask.reshape(-1)[index.reshape(-1)] = True
    return record(cls, out, (input, src), index=index, mask=mask)


def _positions(a):
    return xp.arange(a.size).reshape(a.shape)


@method("diagonal_scatter")
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """input with its `offset` diagonal (over dim1, dim2) replaced by src."""
    check_tensor(input, "diagonal_scatter")
    check_tensor(src, "diagonal_scatter", "src", 2)
    nd = input._data.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    index = S._diag_view(_positions(input._data), offset, d1, d2).copy()
    return _region_scatter(DiagonalScatterBackward0, input, src, index)


@method("select_scatter")
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """input with the slice at `index` along `dim` replaced by src."""
    check_tensor(input, "select_scatter")
    check_tensor(src, "select_scatter", "src", 2)
    pos = make_tensor(_positions(input._data))
    return _region_scatter(SelectScatterBackward0, input, src,
                           S.select(pos, dim, index)._data.copy())


@method("slice_scatter")
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,
                  step: int = 1) -> Tensor:
    """input with input[..., start:end:step, ...] (along `dim`) replaced by src."""
    check_tensor(input, "slice_scatter")
    check_tensor(src, "slice_scatter", "src", 2)
    pos = slice(make_tensor(_positions(input._data)), dim, start, end, step)
    return _region_scatter(SliceScatterBackward0, input, src, pos._data.copy())


@method("as_strided_scatter")
def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset=None) -> Tensor:
    """input (as a contiguous tensor) with its as_strided(size, stride) region replaced by src."""
    check_tensor(input, "as_strided_scatter")
    check_tensor(src, "as_strided_scatter", "src", 2)
    a = input._data
    index = _strided_index(a.size, a.itemsize, size, stride,
                           0 if storage_offset is None else int(storage_offset))
    return _region_scatter(AsStridedScatterBackward0, input, src, index)


# --- padding, slicing, fill --------------------------------------------------------------------
def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    """Pad (or, with negative amounts, crop) the last len(pad) // 2 dims with `value`."""
    check_tensor(input, "constant_pad_nd")
    pad = [int(p) for p in pad]
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > nd:
        raise RuntimeError(
            "Length of pad should be no more than twice the number of dimensions of the input. "
            f"Pad length is {len(pad)}while the input has {nd}dimensions."
        )
    n = len(pad) // 2
    pairs = [(0, 0)] * (nd - n) + [(pad[2 * i], pad[2 * i + 1]) for i in range(n)][::-1]
    for size, (lo, hi) in zip(input._data.shape, pairs, strict=True):
        if size + min(lo, 0) < 0 or size + min(lo, 0) + min(hi, 0) < 0:  # PyTorch narrows first
            raise RuntimeError("narrow(): length must be non-negative.")
    from dyngrad.nn.functional.misc import _constant_pad

    return _constant_pad(input, pairs, value)


def slice(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:  # noqa: A001
    """input[..., start:end:step, ...] along `dim` (a view), as aten's slice."""
    check_tensor(input, "slice")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return S.slice_dim(input, dim, start, end, step)


@method("sum_to_size")
def sum_to_size(self: Tensor, *size) -> Tensor:
    """The sum of this tensor down to `size` (the shape it was broadcast from)."""
    shape = S._shape_arg(size)
    have = self._data.shape
    lead = len(have) - len(shape)
    if lead < 0 or any(s != h and s != 1 for s, h in zip(shape, have[lead:], strict=True)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(have)}}}.")
    if not shape:
        return self.sum()
    dims = list(range(lead)) + [i + lead for i, s in enumerate(shape)
                                if s == 1 and have[i + lead] != 1]
    out = self.sum(dims, keepdim=True) if dims else self
    return S.view(out, shape) if lead else out


class FillBackward0(Node):
    def backward(self, grad):
        return P.zeros_like(grad)


class FillBackward1(Node):
    def backward(self, grad):
        return P.zeros_like(grad), P.sum(grad, None)


def fill(input: Tensor, value) -> Tensor:
    """A tensor like input, every element `value` (a number or a 0-dim tensor)."""
    check_tensor(input, "fill")
    a = input._data
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions."
            )
        return record(FillBackward1, xp.full(a.shape, value._data, a.dtype), (input, value))
    return record(FillBackward0, xp.full(a.shape, value, a.dtype), (input,))


@method("fill_diagonal_")
def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write fill_value on the main diagonal (of a matrix, or of a tensor whose dims are all
    equal), through diagonal views; `wrap` restarts the diagonal below a tall matrix's
    square, every ncols + 1 rows."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    height, width = shape[0], shape[1]
    starts = range(0, height, width + 1) if wrap and len(shape) == 2 else (0,)
    for start in starts:  # each block of rows below the first square restarts the diagonal
        d = self[start:] if start else self
        for _ in range(len(shape) - 1):
            d = S.diagonal(d, 0, 0, 1)
        d.fill_(fill_value)
    return self


def zero_(input: Tensor) -> Tensor:
    """torch.zero_(t): t.zero_()."""
    check_tensor(input, "zero_")
    return input.zero_()


# --- fmod / ldexp / nextafter / frexp ----------------------------------------------------------
class FmodBackward0(Node):
    def backward(self, grad):
        return grad


class FmodBackward1(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        quotient = xp.trunc(P.data(x) / P.data(y))  # piecewise constant: never differentiated
        return grad, -grad * P.const(quotient, grad)


@method("fmod")
def fmod(input, other, *, out=None) -> Tensor:
    """C's fmod: the remainder of input / other with the sign of input."""
    check_tensor(input, "fmod")
    a, b = binary_operands(input, other, "fmod")
    dt = _result_np_dtype(a, b)
    check_kernel(dt, "bc", "fmod_cpu")
    _check_int_division(dt, a, b)
    data = xp.fmod(a, b)
    if isinstance(other, Tensor):
        res = record(FmodBackward1, data, (input, other), save=(input, other))
    else:
        res = record(FmodBackward0, data, (input,))
    return _finish(res, out, "fmod")


def _finish(res: Tensor, out, fname: str) -> Tensor:
    from dyngrad.ops.arithmetic import _out

    return res if out is None else _out(res, out, fname)


class LdexpBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, e = self.saved_tensors
        if P.data(e).dtype.kind in "biu":  # PyTorch's integer power: 2 ** -n is 0
            ints = P.data(e)
            scale = P.const(xp.where(ints < 0, 0, 2 ** xp.maximum(ints, 0)), grad)
        else:
            scale = 2.0 ** e
        gx = grad * scale
        return gx, (gx * x * math.log(2.0) if self._next[1][0] is not None else None)


@method("ldexp")
def ldexp(input, other, *, out=None) -> Tensor:
    """input * 2 ** other."""
    check_tensor(input, "ldexp")
    check_tensor(other, "ldexp", "other", 2)
    e = other._data
    e_dt = e.dtype if e.dtype.kind in "fc" else _dtype.get_default_dtype().np
    power = make_tensor(xp.exp2(e).astype(e_dt, copy=False))
    a, b = binary_operands(input, power, "ldexp")
    res = record(LdexpBackward0, a * b, (input, other), save=(input, other))
    return _finish(res, out, "ldexp")


class NextafterBackward0(Node):
    def backward(self, grad):
        return grad, P.zeros_like(grad)


@method("nextafter")
def nextafter(input, other, *, out=None) -> Tensor:
    """The next floating-point value after input towards other."""
    check_tensor(input, "nextafter")
    check_tensor(other, "nextafter", "other", 2)
    a, b = binary_operands(input, other, "nextafter")
    dt = _result_np_dtype(a, b)
    if dt.kind not in "f":
        raise NotImplementedError(
            f'"nextafter_cpu" not implemented for \'{_dtype.FROM_NP[dt]._short}\''
        )
    res = record(NextafterBackward0, xp.nextafter(a, b), (input, other))
    return _finish(res, out, "nextafter")


frexp_type = _return_type("frexp", ("mantissa", "exponent"))


class FrexpBackward0(Node):
    def backward(self, grad, _grad_exponent=None):
        return grad / P.const(xp.exp2(self.exponent).astype(P.data(grad).dtype), grad)


@method("frexp")
def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, 0.5 <= |mantissa| < 1."""
    check_tensor(input, "frexp")
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = xp.frexp(a)
    e = e.astype(xp.int32)
    res = frexp_type(record_multi(FrexpBackward0, [m, e], (input,), differentiable=[True, False],
                                  exponent=e))
    if out is not None:
        for o, r in zip(out, res, strict=True):
            _finish(r, o, "frexp")
        return frexp_type(out)
    return res


# --- cov / corrcoef ----------------------------------------------------------------------------
def _weights_check(w: Tensor, kind: str, n: int, floating: bool) -> None:
    if w._data.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {kind} to have one or fewer dimensions but got {kind} with "
            f"{w._data.ndim} dimensions"
        )
    if floating and w._data.dtype.kind != "f":
        raise RuntimeError(
            f"cov(): expected {kind} to have floating point dtype but got {kind} with "
            f"{w.dtype._short} dtype"
        )
    if not floating and w._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"cov(): expected {kind} to have integral dtype but got {kind} with "
            f"{w.dtype._short} dtype"
        )
    if w._data.size != n:
        raise RuntimeError(
            f"cov(): expected {kind} to have the same numel as there are observations in the "
            f"input but got {w._data.size} != {n}"
        )
    if n and w._data.min() < 0:
        raise RuntimeError(f"cov(): {kind} cannot be negative")


@method("cov")
def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance matrix of the variables in input's rows (observations in its columns),
    computed as PyTorch composes it."""
    check_tensor(input, "cov")
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(
            "cov(): expected input to have two or fewer dimensions but got an input with "
            f"{nd} dimensions"
        )
    if input._data.dtype == xp.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = S.view(input, (1, -1)) if nd < 2 else input
    n = x._data.shape[1]
    w = None
    if fweights is not None:
        _weights_check(fweights, "fweights", n, False)
        w = fweights
    if aweights is not None:
        _weights_check(aweights, "aweights", n, True)
        w = aweights if w is None else w * aweights
    long = _dtype.int64.np
    if w is None:
        w_sum = make_tensor(xp.asarray(n, long))
    else:
        w_sum = w.sum()
        if not w_sum._data:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x if w is None else x * w).sum(1) / w_sum
    if w is None:
        norm_factor = make_tensor(xp.asarray(n - correction, long))
    elif correction == 0:
        norm_factor = w_sum
    elif aweights is None:
        norm_factor = w_sum - correction
    elif fweights is None and n == 1 and correction == 1:
        norm_factor = make_tensor(xp.asarray(0, long))
    else:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    if norm_factor._data <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = make_tensor(xp.zeros_like(norm_factor._data))
    if n == 1 and (fweights is None) != (aweights is None):
        x = make_tensor(xp.zeros(x._data.shape, x._data.dtype if x._data.dtype.kind in "fc"
                                 else _dtype.float32.np))
    else:
        x = x - avg.unsqueeze(1)
    c = x.mm((x if w is None else x * w).t().conj())
    if c.is_complex() and 1 in x._data.shape:  # a vector: drop the imaginary rounding noise
        c = _complex_real_only(c)
    return (c / norm_factor).squeeze()


def _complex_real_only(c: Tensor) -> Tensor:
    """complex(real(c), 0): PyTorch drops the rounding noise in the imaginary part."""
    from dyngrad.ops.complex import complex as make_complex
    from dyngrad.ops.creation import zeros_like

    re = c.real
    return make_complex(re, zeros_like(re))


@method("corrcoef")
def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in input's rows, clipped to [-1, 1]."""
    check_tensor(input, "corrcoef")
    if input._data.ndim > 2:
        raise RuntimeError(
            "corrcoef(): expected input to have two or fewer dimensions but got an input with "
            f"{input._data.ndim} dimensions"
        )
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = c.diagonal()
    std = (d.real if d.is_complex() else d).sqrt()
    c = c / std.view(-1, 1)
    c = c / std.view(1, -1)
    if c.is_complex():
        from dyngrad.ops.complex import complex as make_complex

        return make_complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


# --- trapezoid rule ----------------------------------------------------------------------------
def _mul_scalar(t: Tensor, value: float) -> Tensor:
    """t * a number, recorded as PyTorch's C++ composites record it (MulBackward1)."""
    from dyngrad.special import MulBackward1

    a, b = binary_operands(t, value, "mul")
    return record(MulBackward1, a * b, (t,), other=b)


def _spacing(y: Tensor, x: Tensor, d: int, fname: str) -> Tensor:
    """The differences of the sample points x along d, shaped to broadcast against y's."""
    if y._data.dtype == xp.bool_ or x._data.dtype == xp.bool_:
        raise RuntimeError(
            f"{fname}: received a bool input for `x` or `y`, but bool is not supported"
        )
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[d]:
            raise RuntimeError(f"{fname}: There must be one `x` value for each sample point")
        shape = [1] * y._data.ndim
        shape[d] = x._data.shape[0]
        x = S.view(x, shape)
    elif x._data.ndim < y._data.ndim:
        x = S.view(x, (1,) * (y._data.ndim - x._data.ndim) + x._data.shape)
    return S.slice_dim(x, d, 1, None) - S.slice_dim(x, d, 0, -1)


def _check_dx(y: Tensor, dx, fname: str) -> None:
    if y._data.dtype == xp.bool_:
        raise RuntimeError(f"{fname}: received a bool input for `y`, but bool is not supported")
    if isinstance(dx, bool | complex):
        raise RuntimeError(f"{fname}: Currently, we only support dx as a real number.")


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule along `dim`, at sample points x (or a constant spacing dx)."""
    check_tensor(y, "trapezoid", "y")
    d = _wrap_dim(dim, y._data.ndim)
    if y._data.shape[d] == 0:
        from dyngrad.ops.creation import zeros

        return zeros(y._data.shape[:d] + y._data.shape[d + 1:], dtype=y.dtype)
    if x is not None:
        step = _spacing(y, x, d, "trapezoid")
        left, right = S.slice_dim(y, d, 0, -1), S.slice_dim(y, d, 1, None)
        return div_scalar(((left + right) * step).sum(d), 2.0)
    dx = 1 if dx is None else dx
    _check_dx(y, dx, "trapezoid")
    ends = (S.select(y, d, 0) + S.select(y, d, -1)) * 0.5
    return _mul_scalar(y.sum(d) - ends, float(dx))


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """trapezoid (its older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoid-rule integral along `dim` (one element shorter than y there)."""
    check_tensor(y, "cumulative_trapezoid", "y")
    d = _wrap_dim(dim, y._data.ndim)
    left, right = S.slice_dim(y, d, 0, -1), S.slice_dim(y, d, 1, None)
    if x is not None:
        step = _spacing(y, x, d, "cumulative_trapezoid")
        return div_scalar(((left + right) * step).cumsum(d), 2.0)
    dx = 1 if dx is None else dx
    _check_dx(y, dx, "cumulative_trapezoid")
    return _mul_scalar(left + right, float(dx) / 2.0).cumsum(d)


# --- gradient ----------------------------------------------------------------------------------
def _gradient_dims(input: Tensor, dim, n_spacing, edge_order: int) -> list:
    """The dims to differentiate along, after PyTorch's checks on spacing, dim and edge_order."""
    nd = input._data.ndim
    if input._data.dtype == xp.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    dims = list(range(nd)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if n_spacing is not None and dim is None and n_spacing != nd:
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
            f"equal to 'self.dim() = {nd}', since dim argument was not given, but got a list of "
            f"length {n_spacing}"
        )
    if n_spacing is not None and dim is not None and n_spacing != len(dims):
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
            f"arguments to have the same length, but got a spacing argument of length {n_spacing} "
            f"and a dim argument of length {len(dims)}."
        )
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    wrapped = [_wrap_dim(d, nd) for d in dims]
    for i, d in enumerate(wrapped):
        if d in wrapped[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    for d in wrapped:
        if input._data.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
    return wrapped


def _gradient_uniform(f: Tensor, d: int, h, edge_order: int) -> Tensor:
    def part(start, end=None):
        return S.slice_dim(f, d, start, end)

    center = div_scalar(part(2) - part(0, -2), h)
    if edge_order == 1:
        first = div_scalar(part(1, 2) - part(0, 1), h)
        last = div_scalar(part(-1) - part(-2, -1), h)
    else:
        first = div_scalar(-1.5 * part(0, 1) + 2 * part(1, 2) - 0.5 * part(2, 3), h)
        last = div_scalar(0.5 * part(-3, -2) - 2 * part(-2, -1) + 1.5 * part(-1), h)
    return S.cat([first, div_scalar(center, 2), last], d)


def _gradient_coordinates(f: Tensor, d: int, coords: Tensor, edge_order: int) -> Tensor:
    if coords._data.ndim != 1:
        raise RuntimeError(
            "torch.gradient expected each element of spacing to have one dimension, but got an "
            f"element with {coords._data.ndim} dimensions!"
        )

    def part(start, end=None):
        return S.slice_dim(f, d, start, end)

    shape = [1] * f._data.ndim
    shape[d] = -1
    h = coords.diff(1, 0)
    h1, h2 = S.slice_dim(h, 0, 0, -1), S.slice_dim(h, 0, 1, None)
    a = (-h2 / (h1 * (h1 + h2))).reshape(shape)
    b = ((h2 - h1) / (h1 * h2)).reshape(shape)
    c = (h1 / (h2 * (h1 + h2))).reshape(shape)
    center = a * part(0, -2) + b * part(1, -1) + c * part(2)
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / h[0]
        last = (part(-1) - part(-2, -1)) / h[-1]
    else:
        a = -(2.0 * h[0] + h[1]) / (h[0] * (h[0] + h[1]))
        b = (h[0] + h[1]) / (h[0] * h[1])
        c = -h[0] / (h[1] * (h[0] + h[1]))
        first = a * part(0, 1) + b * part(1, 2) + c * part(2, 3)
        a = h[-1] / (h[-2] * (h[-1] + h[-2]))
        b = -(h[-1] + h[-2]) / (h[-1] * h[-2])
        c = (2 * h[-1] + h[-2]) / (h[-1] * (h[-1] + h[-2]))
        last = a * part(-3, -2) + b * part(-2, -1) + c * part(-1)
    return S.cat([first, center, last], d)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """Estimated derivatives of a function sampled at `input` along each dim (central
    differences inside, one-sided at the edges), with unit, scalar, per-dim or coordinate
    spacing."""
    check_tensor(input, "gradient")
    if isinstance(spacing, list | tuple):
        n_spacing, values = len(spacing), list(spacing)
    else:
        n_spacing = None if spacing is None or dim is not None and isinstance(dim, int) else (
            input._data.ndim if dim is None else len(dim))
        values = None
    dims = _gradient_dims(input, dim, n_spacing, edge_order)
    if values is None:
        h = 1.0 if spacing is None else spacing
        values = [h] * len(dims)
    out = []
    for d, h in zip(dims, values, strict=True):
        if isinstance(h, Tensor):
            out.append(_gradient_coordinates(input, d, h, edge_order))
        else:
            out.append(_gradient_uniform(input, d, h, edge_order))
    return tuple(out)


# --- renorm ------------------------------------------------------------------------------------
def _keep_norm(x, p: float, dims: tuple):
    """The p-norm over dims (kept as size 1), on arrays or (differentiably) tensors."""
    if isinstance(x, Tensor):
        from dyngrad.ops.reduction import _vector_norm

        return _vector_norm(x, p, dims, True, None)
    mag = xp.abs(x)
    if math.isinf(p):
        return xp.max(mag, axis=dims, keepdims=True)
    return xp.sum(mag ** p, axis=dims, keepdims=True) ** (1 / p)


class RenormBackward0(Node):
    _saved_names = ("self",)

    @_quiet
    def backward(self, grad):
        (x,) = self.saved_tensors
        dims, p, maxnorm = self.dims, self.p, self.maxnorm
        norm = _keep_norm(x, p, dims)
        inner = P.sum(_conj(x) * grad, dims, keepdim=True)
        nb = norm_grad(x, P.real(inner), norm, p, dims)
        inv = 1 / (norm + 1e-7)
        factor = inv * maxnorm
        over = P.data(norm) > maxnorm
        if nb is None:
            return P.where(over, factor * grad, grad)
        return P.where(over, factor * grad - (factor * inv) * nb, grad)


@method("renorm")
def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Each slice along `dim` whose p-norm exceeds maxnorm scaled down to norm maxnorm."""
    check_tensor(input, "renorm")
    if isinstance(p, complex):
        raise RuntimeError("renorm: p must be real-valued")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if isinstance(maxnorm, complex):
        raise RuntimeError("renorm: maxnorm must be real-valued")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {float(maxnorm):g}")
    a = input._data
    if a.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {a.ndim} dimensions")
    if a.dtype.kind not in "fc":
        raise NotImplementedError(f'"renorm_cpu" not implemented for \'{input.dtype._short}\'')
    d = _wrap_dim(dim, a.ndim)
    dims = tuple(i for i in range(a.ndim) if i != d)
    norm = _keep_norm(a, float(p), dims)
    factor = xp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    data = (a * factor).astype(a.dtype, copy=False)
    return record(RenormBackward0, data, (input,), save=(input,), dims=dims, p=float(p),
                  maxnorm=maxnorm)


# --- addbmm / addr -----------------------------------------------------------------------------
class AddbmmBackward0(Node):
    _saved_names = ("batch1", "batch2")

    def backward(self, grad):
        b1, b2 = self.saved_tensors
        need = [n is not None for n, _ in self._next]
        gi = (grad if self.beta == 1 else grad * self.beta) if need[0] else None
        g = P.expand(P.unsqueeze(grad, 0), (self.batches,) + tuple(P.data(grad).shape))
        g1 = P.matmul(g, P.transpose(_conj(b2), 1, 2)) * self.alpha if need[1] else None
        g2 = P.matmul(P.transpose(_conj(b1), 1, 2), g) * self.alpha if need[2] else None
        return gi, g1, g2


def _scaled_add(cls, input: Tensor, product, inputs: tuple, beta, alpha, **attrs) -> Tensor:
    """beta * input + alpha * product, input broadcast to the product's shape."""
    if input._data.shape != product.shape:
        from dyngrad.autograd import grad_mode

        with grad_mode.no_grad():
            S.expand(input, product.shape)  # PyTorch's error when input does not broadcast
    if alpha != 1:
        product = product * alpha
    data = product if beta == 0 else (input._data if beta == 1 else input._data * beta) + product
    data = xp.broadcast_to(data, product.shape).astype(product.dtype, copy=False)
    return record(cls, data, (input, *inputs), save=inputs, beta=beta, alpha=alpha, **attrs)


@method("addbmm")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
           out=None) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    check_tensor(input, "addbmm")
    check_tensor(batch1, "addbmm", "batch1", 2)
    check_tensor(batch2, "addbmm", "batch2", 3)
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    s1, s2 = batch1._data.shape, batch2._data.shape
    if s1[0] != s2[0]:
        raise RuntimeError(
            f"batch1 and batch2 must have same number of batches, got {s1[0]} and {s2[0]}"
        )
    if s1[2] != s2[1]:
        raise RuntimeError(
            f"Incompatible matrix sizes for bmm ({s1[1]}x{s1[2]} and {s2[1]}x{s2[2]})"
        )
    product = xp.matmul(batch1._data, batch2._data).sum(0)
    res = _scaled_add(AddbmmBackward0, input, product, (batch1, batch2), beta, alpha,
                      batches=s1[0])
    return _finish(res, out, "addbmm")


class AddrBackward0(Node):
    _saved_names = ("vec1", "vec2")

    def backward(self, grad):
        v1, v2 = self.saved_tensors
        need = [n is not None for n, _ in self._next]
        gi = (grad if self.beta == 1 else grad * _conj(self.beta)) if need[0] else None
        g = grad if self.alpha == 1 else grad * _conj(self.alpha)
        g1 = P.matmul(g, _conj(v2)) if need[1] else None
        g2 = P.matmul(P.transpose(g, 0, 1), _conj(v1)) if need[2] else None
        return gi, g1, g2


@method("addr")
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    check_tensor(input, "addr")
    check_tensor(vec1, "addr", "vec1", 2)
    check_tensor(vec2, "addr", "vec2", 3)
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    product = xp.multiply.outer(vec1._data, vec2._data)
    return _finish(_scaled_add(AddrBackward0, input, product, (vec1, vec2), beta, alpha), out,
                   "addr")


# --- cdist / dist ------------------------------------------------------------------------------
_CDIST_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


class CdistBackward0(Node):
    """d dist(x1_i, x2_j) / d x1_i for each p (PyTorch's kernel: 0 where the distance is 0,
    every maximal coordinate gets the full gradient for p = inf)."""

    _saved_names = ("x1", "x2", "result")

    @_quiet
    def backward(self, grad):
        x1, x2, dist = self.saved_tensors
        shape1, shape2 = self.shape1, self.shape2
        x1, x2 = P.expand(x1, shape1), P.expand(x2, shape2)
        diff = P.unsqueeze(x1, -2) - P.unsqueeze(x2, -3)  # (..., r1, r2, c)
        g = P.unsqueeze(grad, -1)
        r = P.unsqueeze(dist, -1)
        p = self.p
        zero = P.data(r) == 0
        if p == 0:
            w = P.zeros_like(diff * g)
        elif p == 1:
            w = P.sign(diff) * g
        elif p == 2:
            w = P.where(zero, 0.0, diff * g / P.where(zero, 1.0, r))
        elif math.isinf(p):
            w = P.sign(diff) * g * P.const(xp.abs(P.data(diff)) == P.data(r), g)
        elif p < 2:
            drop = zero | ((P.data(diff) == 0) & (p < 1))
            safe = P.where(drop, 1.0, r)
            w = P.where(drop, 0.0, P.sign(diff) * P.abs(diff) ** (p - 1) * g / safe ** (p - 1))
        else:
            safe = P.where(zero, 1.0, r)
            w = P.where(zero, 0.0, diff * P.abs(diff) ** (p - 2) * g / safe ** (p - 1))
        need = [n is not None for n, _ in self._next]
        return (P.sum(w, -2) if need[0] else None), (-P.sum(w, -3) if need[1] else None)


class EuclideanDistBackward0(Node):
    _saved_names = ("x1", "x2", "result")

    @_quiet
    def backward(self, grad):
        x1, x2, res = self.saved_tensors
        zero = P.data(res) == 0
        ratio = P.where(zero, 0.0, grad / P.where(zero, 1.0, res))
        g1 = x1 * P.sum(ratio, -1, keepdim=True) - P.matmul(ratio, x2)
        g2 = x2 * P.unsqueeze(P.sum(ratio, -2), -1) - P.matmul(P.transpose(ratio, -2, -1), x1)
        return g1, g2


def _euclidean(x1: Tensor, x2: Tensor, shape: tuple) -> Tensor:
    """PyTorch's matrix-product route for p = 2: sqrt(max(|a|^2 - 2 a.b + |b|^2, 0))."""
    a, b = x1._data, x2._data
    a_sq = (a * a).sum(-1, keepdims=True)
    b_sq = (b * b).sum(-1, keepdims=True)
    left = xp.concatenate([a * -2, a_sq, xp.ones_like(a_sq)], -1)
    right = xp.concatenate([b, xp.ones_like(b_sq), b_sq], -1)
    data = xp.sqrt(xp.maximum(left @ xp.swapaxes(right, -1, -2), 0))
    return S.view(record(EuclideanDistBackward0, data, (x1, x2), save=(x1, x2, OUT)), shape)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of x1 and each row of x2 (batched)."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2", 2)
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _CDIST_MODES[compute_mode]
    a, b = x1._data, x2._data
    for name, t in (("X1", a), ("X2", b)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: "
            f"{b.shape[-1]}"
        )
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{t.dtype._short}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {x1.dtype._short} but found {x2.dtype._short}")
    r1, r2, c = a.shape[-2], b.shape[-2], a.shape[-1]
    batch = tuple(xp.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    shape = batch + (r1, r2)
    mm = p == 2 and (mode == 1 or mode == 0 and (r1 > 25 or r2 > 25))
    if mm and a.size and b.size and math.prod(batch) and r1 and r2 and c:
        if math.prod(batch) == 1:
            return _euclidean(x1, x2, shape)
        e1 = S.view(x1.expand(batch + (r1, c)).contiguous(), (-1, r1, c))
        e2 = S.view(x2.expand(batch + (r2, c)).contiguous(), (-1, r2, c))
        return _euclidean(e1, e2, shape)
    a, b = xp.broadcast_to(a, batch + (r1, c)), xp.broadcast_to(b, batch + (r2, c))
    diff = xp.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        data = (diff != 0).sum(-1).astype(a.dtype)
    elif math.isinf(p):
        data = diff.max(-1, initial=0.0)
    elif p == 1:
        data = diff.sum(-1)
    elif p == 2:
        data = xp.sqrt((diff * diff).sum(-1))
    else:
        data = (diff ** p).sum(-1) ** (1 / p)
    return record(CdistBackward0, data, (x1, x2), save=(x1, x2, OUT), p=float(p),
                  shape1=batch + (r1, c), shape2=batch + (r2, c))


class DistBackward0(Node):
    _saved_names = ("self", "other", "result")

    @_quiet
    def backward(self, grad):
        x, y, out = self.saved_tensors
        d = x - y
        dims = tuple(range(len(P.data(d).shape)))
        g = norm_grad(d, P.reshape(grad, (1,) * len(dims)), P.reshape(out, (1,) * len(dims)),
                      self.p, dims)
        if g is None:
            return None, None
        return g, -g


@method("dist")
def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The p-norm of input - other (broadcast)."""
    check_tensor(input, "dist")
    check_tensor(other, "dist", "other", 2)
    _check_bool_sub(input, other)  # PyTorch computes input - other first
    a, b = binary_operands(input, other, "dist")
    if a.dtype.kind in "iu":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {_dtype.FROM_NP[a.dtype]._short} instead.")
    d = xp.abs(a - b)
    p = float(p)
    if p == 0:
        data = (d != 0).sum().astype(d.dtype)
    elif math.isinf(p):
        data = (d.max() if p > 0 else d.min()) if d.size else xp.asarray(0.0, d.dtype)
    elif p == 2:
        data = xp.sqrt((d * d).sum())
    else:
        data = (d ** p).sum() ** (1 / p)
    return record(DistBackward0, xp.asarray(data, d.dtype), (input, other),
                  save=(input, other, OUT), p=p)


# --- softmax's backward as an op ----------------------------------------------------------------
def _softmax_grad(g, y, dim: int):
    return y * (g - P.sum(g * y, dim, keepdim=True))


class SoftmaxBackwardDataBackward0(Node):
    _saved_names = ("grad_output", "output")

    def backward(self, grad):
        g, y = self.saved_tensors
        d = self.dim
        need = [n is not None for n, _ in self._next]
        g_out = _softmax_grad(grad, y, d) if need[0] else None
        g_y = (g * grad - P.sum(y * g, d, keepdim=True) * grad
               - g * P.sum(y * grad, d, keepdim=True)) if need[1] else None
        return g_out, g_y


def _softmax_backward_data(grad_output: Tensor, output: Tensor, dim: int,
                           input_dtype) -> Tensor:
    """The input gradient of softmax from its output's gradient and its output (aten's
    _softmax_backward_data), itself differentiable; in grad_output's dtype, as on the CPU."""
    check_tensor(grad_output, "_softmax_backward_data", "grad_output")
    check_tensor(output, "_softmax_backward_data", "output", 2)
    g, y = grad_output._data, output._data
    d = _wrap_dim(dim, max(y.ndim, 1)) if y.ndim else None  # 0-d: the sum is the element
    data = _softmax_grad(g, y, d).astype(g.dtype, copy=False)  # the CPU kernel's dtype
    return record(SoftmaxBackwardDataBackward0, data, (grad_output, output),
                  save=(grad_output, output), dim=d)


def ldexp_(input: Tensor, other: Tensor) -> Tensor:
    """torch.ldexp_(t, other): t.ldexp_(other)."""
    return input.ldexp_(other)


# --- in-place forms ----------------------------------------------------------------------------
def _inplace(fn, name: str):
    def method_(self, *args, **kwargs):
        return apply_inplace(self, fn, *args, name=name, **kwargs)

    method_.__name__ = name
    return method_


for _name, _fn in (("fmod_", fmod), ("ldexp_", ldexp), ("nextafter_", nextafter),
                   ("renorm_", renorm), ("addbmm_", addbmm), ("addr_", addr)):
    setattr(Tensor, _name, _inplace(_fn, _name))


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-D matrices (deprecated in PyTorch for `torch.linalg.multi_dot`)."""
    from dyngrad.ops.creation import clone
    from dyngrad.ops.decompositions import multi_dot

    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
        "multiple parameters.",
        UserWarning,
        stacklevel=2,
    )
    if len(matrices) == 1:
        return clone(matrices[0])
    return multi_dot(list(matrices))


def vander(x: Tensor, N=None, increasing: bool = False) -> Tensor:
    """Columns x^0, x^1, ..., x^(N-1) (reversed unless `increasing`), in x's dtype promoted
    with int64; composed as PyTorch composes it (a cumulative product written in place)."""
    from dyngrad.ops.creation import empty

    check_tensor(x, "vander", "x")
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = _dtype.promote_types(x.dtype, _dtype.int64)
    out = empty((x.shape[0], n), dtype=dt)
    if n > 0:
        out.select(1, 0).fill_(1)
    if n > 1:
        out[:, 1:] = x.unsqueeze(1)
        out[:, 1:].cumprod_(1)
    return out if increasing else out.flip(1)
