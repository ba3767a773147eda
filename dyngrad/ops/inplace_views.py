"""In-place changes of a tensor's geometry: `squeeze_`, `unsqueeze_`, `t_`, `transpose_`
(`swapaxes_`, `swapdims_`), `as_strided_`, and `resize_` / `resize_as_` (plus the deprecated
out-of-place `resize` / `resize_as`).

The view forms keep the memory and take the geometry of the matching view; as in PyTorch they
count as in-place writes (the version goes up, leaves that require grad refuse them) and the
tensor's history becomes the view's node under its in-place name (`TBackward1`, ...). A view
stays a view of the same base, with its new geometry.
"""

from __future__ import annotations

import math
import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd import forward_ad, grad_mode
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops import shape as S
from dyngrad.ops._core import check_tensor, method, record
from dyngrad.ops.inplace import _take_history, bump_version, check_inplace
from dyngrad.ops.misc import _renamed


def _geometry_inplace(self: Tensor, view_op, node_name: str, name: str) -> Tensor:
    """Give self the geometry of `view_op(self)`, recorded as that view's node renamed."""
    if check_inplace(self, ()):
        out = view_op(self)
        node = out._grad_fn
        node.__class__ = _renamed(type(node), node_name)
    else:
        with grad_mode.no_grad():
            out = view_op(self)
        node = None
    if self._view is not None:
        self._view.fn = out._view.fn  # replaying on the base now gives the new geometry
    tangent = forward_ad.tangent_of(out)
    self._data = out._data
    bump_version(self, name)
    if tangent is not None and (self._view is None or self._x and "tangent" in self._x):
        self._extra()["tangent"] = (forward_ad.state.gen, tangent)
    if node is not None:
        _take_history(self, node)
    return self


@method("squeeze_")
def squeeze_(self: Tensor, dim=None) -> Tensor:
    suffix = 3 if dim is None else 4 if isinstance(dim, int) else 5
    return _geometry_inplace(self, lambda t: S.squeeze(t, dim), f"SqueezeBackward{suffix}",
                             "squeeze_")


@method("unsqueeze_")
def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    return _geometry_inplace(self, lambda t: S.unsqueeze(t, dim), "UnsqueezeBackward1",
                             "unsqueeze_")


@method("t_")
def t_(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _geometry_inplace(self, S.t, "TBackward1", "t_")


@method("transpose_", "swapaxes_", "swapdims_")
def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    return _geometry_inplace(self, lambda t: S.transpose(t, dim0, dim1), "TransposeBackward1",
                             "transpose_")


@method("as_strided_")
def as_strided_(self: Tensor, size, stride, storage_offset=None) -> Tensor:
    return _geometry_inplace(self, lambda t: S.as_strided(t, size, stride, storage_offset),
                             "AsStridedBackward1", "as_strided_")


def as_strided_fn(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """torch.as_strided_(t, ...): t.as_strided_(...)."""
    check_tensor(input, "as_strided_")
    return as_strided_(input, size, stride, storage_offset)


@method("set_")
def set_(self: Tensor, source=None) -> Tensor:
    """Make this tensor use `source`'s memory, sizes and strides (an empty tensor when None).
    dyngrad has no storage objects, so `source` is a tensor or None."""
    if source is not None:
        check_tensor(source, "set_", "source", 1)
    check_inplace(self, ())
    self._data = xp.zeros((0,), self._data.dtype) if source is None else source._data
    bump_version(self, "set_")
    return self


# --- resize ------------------------------------------------------------------------------------
_CHANNELS_LAST = "torch.channels_last"


def _storage(a):
    """The flat memory `a` views (copied when the root array is not contiguous) and a's offset
    into it, in elements."""
    root = a
    while isinstance(root.base, xp.ndarray):
        root = root.base
    dense = root.flags.c_contiguous or root.flags.f_contiguous
    flat = root.reshape(-1, order="A") if dense else root.ravel()
    start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return flat, start // a.itemsize


@method("resize_")
def resize_(self: Tensor, *size, memory_format=None) -> Tensor:
    """Reshape to `size` over the same memory in storage order, growing the memory (with zeros)
    when it is too small; a tensor that requires grad cannot be resized."""
    shape = S._shape_arg(size)
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if any(s < 0 for s in shape):
        raise RuntimeError("numel: integer multiplication overflow")
    if memory_format == _CHANNELS_LAST and len(shape) != 4:
        raise RuntimeError("required rank 4 tensor to use channels_last format")
    check_inplace(self, ())
    if shape == self._data.shape and memory_format is None:
        return self
    flat, offset = _storage(self._data)
    n = math.prod(shape)
    if offset + n > flat.size:
        grown = xp.zeros(offset + n, flat.dtype)
        grown[:flat.size] = flat
        flat = grown
    if memory_format == _CHANNELS_LAST:
        b, c, h, w = shape
        data = flat[offset:offset + n].reshape(b, h, w, c).transpose(0, 3, 1, 2)
    else:
        data = flat[offset:offset + n].reshape(shape)
    self._data = data
    bump_version(self, "resize_")
    return self


@method("resize_as_")
def resize_as_(self: Tensor, the_template, *, memory_format=None) -> Tensor:
    check_tensor(the_template, "resize_as_", "the_template", 1)
    return resize_(self, the_template._data.shape, memory_format=memory_format)


def resize_as_fn(input: Tensor, the_template, *, memory_format=None) -> Tensor:
    """torch.resize_as_(t, template): t.resize_as_(template)."""
    check_tensor(input, "resize_as_")
    check_tensor(the_template, "resize_as_", "the_template", 2)
    return resize_(input, the_template._data.shape, memory_format=memory_format)


class ResizeBackward(Node):
    """The deprecated out-of-place resize: the gradient takes the input's shape back."""

    def backward(self, grad):
        return P.reshape(grad, self._meta[0][0])


def _resize(self: Tensor, shape: tuple, what: str) -> Tensor:
    warnings.warn(f"non-inplace {what} is deprecated", UserWarning, stacklevel=3)
    n = self._data.size
    if math.prod(shape) != n:
        have = "x".join(str(s) for s in self._data.shape)
        want = "x".join(str(s) for s in shape)
        raise RuntimeError(
            f"requested resize to {want} ({math.prod(shape)} elements in total), but the given "
            f"tensor has a size of {have} ({n} elements). autograd's resize can only change the "
            "shape of a given tensor, while preserving the number of elements. "
        )
    a = self._data if self._data.flags.c_contiguous else xp.ascontiguousarray(self._data)
    out = record(ResizeBackward, a.reshape(shape), (self,))
    return S.as_view(out, self, lambda t: P.reshape(t, shape)) if a is self._data else out


@method("resize")
def resize(self: Tensor, *size) -> Tensor:
    """Deprecated: `self` with shape `size` (same number of elements), as a new tensor."""
    return _resize(self, S._shape_arg(size), "resize")


@method("resize_as")
def resize_as(self: Tensor, tensor) -> Tensor:
    check_tensor(tensor, "resize_as", "tensor", 1)
    return _resize(self, tensor._data.shape, "resize_as")
