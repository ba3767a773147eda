"""Repetition and rotation: repeat, tile, repeat_interleave, rot90, and Tensor.unfold (a view)."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, method, record
from dyngrad.ops.gather_scatter import either, index_select
from dyngrad.ops.shape import _shape_arg, as_view

__all__ = ["repeat_interleave", "tile", "rot90"]


# --- repeat, tile ------------------------------------------------------------------------------
class RepeatBackward0(Node):
    """Each input element got one copy per repetition: sum the copies."""

    def backward(self, grad):
        shape = self._meta[0][0]
        reps = self.repeats
        padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
        split = tuple(x for r, s in zip(reps, padded, strict=True) for x in (r, s))
        summed = P.sum(P.reshape(grad, split), tuple(range(0, 2 * len(reps), 2)))
        return P.reshape(summed, shape)


@method("repeat")
def repeat(self: Tensor, *sizes, repeats=None) -> Tensor:
    """The tensor tiled `sizes[i]` times along dim i (extra leading sizes add dims)."""
    if repeats is not None:
        sizes = (repeats,)
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _shape_arg(sizes)
    shape = self._data.shape
    if len(reps) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    padded = (1,) * (len(reps) - len(shape)) + shape
    out_shape = [r * s for r, s in zip(reps, padded, strict=True)]
    for n in out_shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {out_shape}")
    return record(RepeatBackward0, xp.tile(self._data, reps), (self,), repeats=reps)


def tile(input: Tensor, dims) -> Tensor:
    """repeat, with `dims` padded by leading 1s to the tensor's number of dims."""
    check_tensor(input, "tile")
    if isinstance(dims, int):
        raise TypeError("tile(): argument 'dims' (position 2) must be tuple of ints, not int")
    reps = _shape_arg((tuple(dims),))
    return repeat(input, (1,) * (input._data.ndim - len(reps)) + reps)


@method("tile")
def _tile(self: Tensor, *dims, **kwargs) -> Tensor:
    """`x.tile(2, 3)`, `x.tile((2, 3))` or `x.tile(dims=(2, 3))`."""
    return tile(self, _shape_arg(dims or (kwargs["dims"],)))


# --- repeat_interleave -------------------------------------------------------------------------
def _int_repeats(input: Tensor, repeats: int, dim, output_size) -> Tensor:
    """PyTorch's composite: unsqueeze, expand, clone, view (ViewBackward0)."""
    x = input.flatten() if dim is None else input
    d = _wrap_dim(0 if dim is None else dim, x._data.ndim)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = x._data.shape
    if output_size is not None and output_size != shape[d] * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected "
                           f"{shape[d] * repeats} but got {output_size}")
    y = x.unsqueeze(d + 1).expand(shape[:d + 1] + (repeats,) + shape[d + 1:]).clone()
    return y.view(shape[:d] + (shape[d] * repeats,) + shape[d + 1:])


def _repeat_indices(repeats: Tensor, output_size=None) -> Tensor:
    """repeat_interleave(repeats): each position i, repeats[i] times."""
    r = repeats._data
    if r.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if r.dtype.kind not in "iu":
        from dyngrad import _dtype

        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{_dtype.FROM_NP[r.dtype]._short}'")
    r = r.reshape(-1)
    if r.size and r.min() < 0:
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != int(r.sum()):
        raise RuntimeError("allocated size does not match required size")
    return Tensor._make(xp.repeat(xp.arange(r.size, dtype=r.dtype), r))


@method("repeat_interleave")
def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (or slice along `dim`) repeated `repeats` times in place; with only a
    tensor of counts, the indices 0, 1, ... each repeated that many times."""
    check_tensor(input, "repeat_interleave")
    if repeats is None:
        return _repeat_indices(input, output_size)
    if not isinstance(repeats, Tensor):
        return _int_repeats(input, int(repeats), dim, output_size)
    x = input.flatten() if dim is None else input
    shown = 0 if dim is None else dim
    if not x._data.ndim:
        raise IndexError(f"Dimension specified as {shown} but tensor has no dimensions")
    d = _wrap_dim(shown, x._data.ndim)
    n = x._data.shape[d]
    r = repeats._data
    if r.ndim == 0 or r.shape == (1,):
        repeats = Tensor._make(xp.broadcast_to(r.reshape(1), (n,)))
    elif r.ndim == 1 and r.shape[0] != n:
        raise RuntimeError("repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {r.shape[0]} and input.size({shown}) = {n}")
    return index_select(x, d, _repeat_indices(repeats, output_size))


# --- rot90 -------------------------------------------------------------------------------------
def _rotate(x, k: int, d0: int, d1: int):
    """x rotated k quarter turns from dim d0 towards d1 (arrays or tensors)."""
    k %= 4
    if k == 1:
        return P.transpose(P.flip(x, (d1,)), d0, d1)
    if k == 2:
        return P.flip(x, (d0, d1))
    if k == 3:
        return P.transpose(P.flip(x, (d0,)), d0, d1)
    return x


class Rot90Backward0(Node):
    def backward(self, grad):
        return _rotate(grad, -self.k, self.d0, self.d1)


@method("rot90")
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by k quarter turns in the plane of `dims`, from the first dim towards the second."""
    check_tensor(input, "rot90")
    dims = list(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = _wrap_dim(dims[0], nd), _wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                           f"dim1 = {dims[1]}")
    data = _rotate(input._data, k, d0, d1)
    if k % 4 == 0 or k % 4 == 2:  # flips copy; a quarter turn is a transposed copy, as PyTorch
        data = data.copy()
    else:
        data = xp.swapaxes(xp.swapaxes(data, d0, d1).copy(), d0, d1)
    return record(Rot90Backward0, data, (input,), k=k % 4, d0=d0, d1=d1)


# --- unfold ------------------------------------------------------------------------------------
def _unfold_array(a, d: int, size: int, step: int):
    """The windows of `a` along d as a strided view (windows in dim d, elements last)."""
    if a.ndim == 0:
        return xp.lib.stride_tricks.as_strided(a, (size,), (a.itemsize,))
    shape = a.shape[:d] + ((a.shape[d] - size) // step + 1,) + a.shape[d + 1:] + (size,)
    strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


class UnfoldBackward0(Node):
    """Each window adds its gradient back where it was read (windows may overlap)."""

    def backward(self, grad):
        shape = self._meta[0][0]
        if not shape:
            return P.sum(grad, 0)
        d, size, step = self.dimension, self.size, self.step
        nd = len(shape)
        windows = P.data(grad).shape[d]
        order = tuple(range(d + 1)) + (nd,) + tuple(range(d + 1, nd))
        flat = P.reshape(P.permute(grad, order), shape[:d] + (windows * size,) + shape[d + 1:])
        index = (xp.arange(windows)[:, None] * step + xp.arange(size)).reshape(-1)
        return either.index_add(P.zeros_like_shape(grad, shape), d, index, flat)


@method("unfold")
def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of `size` elements, `step` apart, along `dimension` (a view): that dim
    becomes the window count and a last dim of `size` is added."""
    a = self._data
    d = _wrap_dim(dimension, a.ndim)
    longest = a.shape[d] if a.ndim else 1
    if size > longest:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {longest} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")

    def fn(base):
        if isinstance(base, Tensor):
            return unfold(base, d, size, step)
        return _unfold_array(base, d, size, step)

    out = record(UnfoldBackward0, _unfold_array(a, d, size, step), (self,), dimension=d,
                 size=size, step=step)
    return as_view(out, self, fn)
