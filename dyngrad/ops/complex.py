"""Complex numbers: parts, conjugation, argument, polar form and real <-> complex views.

`real`, `imag` and `view_as_real` are views into the complex tensor's memory (writable, as in
PyTorch: `z.real` is `view_as_real(z).select(-1, 0)`). PyTorch's `conj` is a lazy view with a
conjugate bit; NumPy has no conjugating view, so here it is a conjugated copy that reports
`is_conj()` (and that `resolve_conj` clones, as PyTorch does). Gradients follow PyTorch's
convention, the conjugate Wirtinger derivative: the gradient of `(z.abs() ** 2).sum()` is 2z.
"""

from __future__ import annotations

import math

from dyngrad._backend import xp
from dyngrad._dtype import FROM_NP
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import OUT, check_broadcast, check_tensor, float_data, method, record
from dyngrad.ops.arithmetic import _out
from dyngrad.ops.creation import clone
from dyngrad.ops.inplace import apply_inplace
from dyngrad.ops.shape import as_view, select

__all__ = [
    "real", "imag", "conj", "conj_physical", "conj_physical_", "resolve_conj", "resolve_neg",
    "is_conj", "is_neg", "is_complex", "angle", "polar", "complex", "view_as_real",
    "view_as_complex",
]

_NOT_RESOLVED = (
    "view_as_real doesn't work on unresolved conjugated tensors.  To resolve the conjugate "
    "tensor so you can view it as real, use self.resolve_conj(); however, be warned that the "
    "resulting tensor will NOT alias the original."
)


def _short(a) -> str:
    """The dtype's name in PyTorch's messages (`Float`, `ComplexDouble`)."""
    return FROM_NP[a.dtype]._short


def _finish(res: Tensor, out, name: str) -> Tensor:
    return res if out is None else _out(res, out, name)


# --- real <-> complex views --------------------------------------------------------------------
class ViewAsRealBackward0(Node):
    def backward(self, grad):
        return P.view_as_complex(grad)


class ViewAsComplexBackward0(Node):
    def backward(self, grad):
        return P.view_as_real(grad)


def _real_view(a):
    """view_as_real's replay on a base-like array or tensor (no conjugate-bit check)."""
    if isinstance(a, Tensor):
        return _as_real(a)
    return a[..., None].view(a.real.dtype)


def _as_real(input: Tensor) -> Tensor:
    return as_view(record(ViewAsRealBackward0, _real_view(input._data), (input,)), input,
                   _real_view)


def view_as_real(input) -> Tensor:
    """A complex tensor as a real one with a trailing dim of 2 (real, imaginary); a view."""
    check_tensor(input, "view_as_real")
    if is_conj(input):
        raise RuntimeError(_NOT_RESOLVED)
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _as_real(input)


def _complex_view(a):
    if isinstance(a, Tensor):
        return _as_complex(a)
    return a.view(P._COMPLEX_OF[a.dtype])[..., 0]


def _as_complex(input: Tensor) -> Tensor:
    return as_view(record(ViewAsComplexBackward0, _complex_view(input._data), (input,)), input,
                   _complex_view)


def view_as_complex(input) -> Tensor:
    """A real tensor whose last dim holds (real, imaginary) pairs, as a complex tensor; a view."""
    check_tensor(input, "view_as_complex")
    a = input._data
    if a.dtype.kind != "f" or a.dtype not in P._COMPLEX_OF:
        if a.dtype == xp.float16:
            raise NotImplementedError("complex32 (ComplexHalf) tensors are not supported")
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a "
            f"tensor of scalar type: {_short(a)}"
        )
    if a.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * a.itemsize) for s in a.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return _as_complex(input)


# --- real and imaginary parts ------------------------------------------------------------------
def real(input) -> Tensor:
    """The real part, a view; a real tensor is returned as it is."""
    check_tensor(input, "real")
    return select(_as_real(input), -1, 0) if input._data.dtype.kind == "c" else input


def imag(input) -> Tensor:
    """The imaginary part of a complex tensor, a view."""
    check_tensor(input, "imag")
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return select(_as_real(input), -1, 1)


def _part_property(part):
    def setter(self, value):
        part(self).copy_(value)

    return property(part, setter)


Tensor.real = _part_property(real)
Tensor.imag = _part_property(imag)


# --- conjugation -------------------------------------------------------------------------------
class ConjBackward0(Node):
    def backward(self, grad):
        return P.conj(grad)


class ConjPhysicalBackward0(Node):
    def backward(self, grad):
        return P.conj(grad)


class ConjPhysicalBackward1(ConjPhysicalBackward0):
    """The in-place form's node (PyTorch names it apart)."""


@method("is_conj")
def is_conj(input) -> bool:
    """Whether `input` came from `conj()` (PyTorch's conjugate bit)."""
    check_tensor(input, "is_conj")
    return input._x is not None and input._x.get("conj", False)


@method("conj")
def conj(input) -> Tensor:
    """The complex conjugate, flagged `is_conj()`; a real tensor is returned as it is."""
    check_tensor(input, "conj")
    if input._data.dtype.kind != "c":
        return input
    out = record(ConjBackward0, xp.conj(input._data), (input,))
    if not is_conj(input):  # conj(conj(z)) has no conjugate bit
        out._extra()["conj"] = True
    return out


@method("resolve_conj")
def resolve_conj(input) -> Tensor:
    """A copy without the conjugate bit (same values); `input` itself when it has none."""
    check_tensor(input, "resolve_conj")
    return clone(input) if is_conj(input) else input


@method("is_neg")
def is_neg(input) -> bool:
    """PyTorch's negative bit; dyngrad never creates lazily negated tensors."""
    check_tensor(input, "is_neg")
    return False


@method("resolve_neg")
def resolve_neg(input) -> Tensor:
    check_tensor(input, "resolve_neg")
    return input


def _conj_physical(input, node) -> Tensor:
    return record(node, xp.conj(input._data), (input,))


@method("conj_physical")
def conj_physical(input, *, out=None) -> Tensor:
    """The complex conjugate, computed now (no conjugate bit); real tensors are returned."""
    check_tensor(input, "conj_physical")
    if input._data.dtype.kind != "c":
        return input if out is None else _finish(clone(input), out, "conj_physical")
    return _finish(_conj_physical(input, ConjPhysicalBackward0), out, "conj_physical")


@method("conj_physical_")
def conj_physical_(input) -> Tensor:
    check_tensor(input, "conj_physical_")
    if input._data.dtype.kind != "c":
        return input
    return apply_inplace(input, _conj_physical, ConjPhysicalBackward1, name="conj_physical_")


def is_complex(input) -> bool:
    check_tensor(input, "is_complex")
    return input._data.dtype.kind == "c"


# --- argument, polar form, complex from parts --------------------------------------------------
class AngleBackward0(Node):
    """Zero for real inputs; for complex, grad * z / |z|^2 * 1j (0 at z = 0)."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        if P.data(x).dtype.kind != "c":
            return P.zeros_like(grad)
        mag2 = P.abs(x) ** 2
        zero = P.data(mag2) == 0
        return P.where(zero, 0.0, grad * x / P.where(zero, 1.0, mag2) * 1j)


@method("angle")
def angle(input, *, out=None) -> Tensor:
    """The argument of each element: pi for negative reals, 0 otherwise (NaN stays NaN)."""
    check_tensor(input, "angle")
    a = float_data(input)
    if a.dtype.kind == "c":
        data = xp.angle(a)
    else:
        data = xp.where(a < 0, a.dtype.type(math.pi), xp.where(xp.isnan(a), a, 0)).astype(a.dtype)
    return _finish(record(AngleBackward0, data, (input,), save=(input,)), out, "angle")


def _check_parts(a: Tensor, b: Tensor, fname: str) -> None:
    """PyTorch's checks on the two real tensors `complex` and `polar` combine."""
    check_tensor(a, fname, "real" if fname == "complex" else "abs", 1)
    check_tensor(b, fname, "imag" if fname == "complex" else "angle", 2)
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_short(a._data)} and {_short(b._data)}")
    if da != db:
        raise RuntimeError(f"Expected object of scalar type {_short(a._data)} but got scalar type "
                           f"{_short(b._data)} for second argument")
    if da == xp.float16:
        raise NotImplementedError(f'"{fname}_cpu" not implemented for \'Half\'')
    if a._data.shape != b._data.shape:
        check_broadcast(a._data.shape, b._data.shape)


class ComplexBackward0(Node):
    def backward(self, grad):
        return P.real(grad), P.imag(grad)


def complex(real, imag, *, out=None) -> Tensor:  # noqa: A001 - torch.complex
    """real + 1j * imag, from two real tensors of the same dtype (broadcast together)."""
    _check_parts(real, imag, "complex")
    re, im = real._data, imag._data
    data = xp.empty(xp.broadcast_shapes(re.shape, im.shape), P._COMPLEX_OF[re.dtype])
    data.real, data.imag = re, im
    return _finish(record(ComplexBackward0, data, (real, imag)), out, "complex")


class PolarBackward0(Node):
    """PyTorch's polar_backward: Re(conj(g) sgn(z)) for abs, Re(conj(g) z 1j) for angle."""

    _saved_names = ("result",)

    def backward(self, grad):
        (z,) = self.saved_tensors
        g = P.conj(grad)
        return P.real(g * P.sgn(z)), P.real(g * (z * 1j))


def polar(abs, angle, *, out=None) -> Tensor:  # noqa: A002 - torch's argument names
    """abs * (cos(angle) + 1j * sin(angle))."""
    _check_parts(abs, angle, "polar")
    r, t = abs._data, angle._data
    data = xp.empty(xp.broadcast_shapes(r.shape, t.shape), P._COMPLEX_OF[r.dtype])
    data.real, data.imag = r * xp.cos(t), r * xp.sin(t)
    return _finish(record(PolarBackward0, data, (abs, angle), save=(OUT,)), out, "polar")
