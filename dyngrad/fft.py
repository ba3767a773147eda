"""`torch.fft`: discrete Fourier transforms (NumPy's pocketfft) with PyTorch's gradients.

As in PyTorch, every transform is built from three primitives, each one graph node:
`_c2c` (complex to complex, either direction), `_r2c` (real to complex, forward, optionally
one-sided) and `_c2r` (one-sided Hermitian spectrum to real, inverse direction). Around them the
public functions cast (`ToCopyBackward0`), trim or zero-pad the input (`SliceBackward0`,
`ConstantPadNdBackward0`) and conjugate, exactly where PyTorch does, so the graphs, grad_fn names
and gradients match. A normalization mode is 0 (none), 1 (1/sqrt(n)) or 2 (1/n), applied in
either direction. The primitives' backward formulas are transforms again (the adjoint of a
forward transform is the unnormalized inverse with the same scaling), so they differentiate to
any order.
"""

from __future__ import annotations

import math

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, record
from dyngrad.ops.arithmetic import _out
from dyngrad.ops.complex import conj, conj_physical
from dyngrad.ops.creation import to_dtype
from dyngrad.ops.shape import roll, slice_dim

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2",
    "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftshift", "ifftshift",
    "fftfreq", "rfftfreq",
]

_NONE, _BY_ROOT_N, _BY_N = 0, 1, 2


# --- the primitives ----------------------------------------------------------------------------
def _scaled(a, sizes, norm: int):
    if norm == _NONE:
        return a
    n = math.prod(sizes)
    return a * (1 / n if norm == _BY_N else 1 / math.sqrt(n))


def _np_c2c(a, dims, norm, forward):
    if not dims:
        return a.copy()
    # NumPy's "backward" norm leaves the forward transform unscaled, "forward" the inverse.
    out = (xp.fft.fftn(a, axes=dims, norm="backward") if forward
           else xp.fft.ifftn(a, axes=dims, norm="forward"))
    return _scaled(out, [a.shape[d] for d in dims], norm)


def _np_r2c(a, dims, norm, onesided):
    out = xp.fft.rfftn(a, axes=dims) if onesided else xp.fft.fftn(a, axes=dims)
    return _scaled(out, [a.shape[d] for d in dims], norm)


def _np_c2r(a, dims, norm, last_dim_size):
    sizes = [a.shape[d] for d in dims[:-1]] + [last_dim_size]
    return _scaled(xp.fft.irfftn(a, s=sizes, axes=dims, norm="forward"), sizes, norm)


class FftC2CBackward0(Node):
    def backward(self, grad):
        return _c2c(grad, self.dim, self.normalization, not self.forward)


class FftR2CBackward0(Node):
    """PyTorch's fft_r2c_backward: zero-fill the dropped half of a one-sided spectrum, run the
    inverse complex transform with the same scaling, keep the real part."""

    def backward(self, grad):
        if self.onesided:
            d = self.dim[-1]
            missing = self.last_dim_size - grad.shape[d]
            if missing > 0:
                shape = list(grad.shape)
                shape[d] = missing
                grad = P.cat([grad, P.zeros_like_shape(grad, tuple(shape))], d)
        return P.real(_c2c(grad, self.dim, self.normalization, False))


class FftC2RBackward0(Node):
    """PyTorch's fft_c2r_backward: the one-sided forward transform of the gradient, with the bins
    that stand for two (a value and its conjugate mirror) doubled."""

    def backward(self, grad):
        g = _r2c(grad, self.dim, self.normalization, True)
        d = self.dim[-1]
        half = g.shape[d]
        doubled = grad.shape[d] - half
        if doubled <= 0:
            return g
        w = xp.ones(half, P.data(grad).dtype)
        w[1:1 + doubled] = 2
        return g * P.const(w.reshape((half,) + (1,) * (len(g.shape) - d - 1)), g)


def _c2c(x, dims, norm: int, forward: bool):
    """Complex transform over `dims` (array or tensor)."""
    if isinstance(x, Tensor):
        return record(FftC2CBackward0, _np_c2c(x._data, dims, norm, forward), (x,), dim=dims,
                      normalization=norm, forward=forward)
    return _np_c2c(x, dims, norm, forward)


def _r2c(x, dims, norm: int, onesided: bool):
    """Forward transform of a real array or tensor; `onesided` keeps the last dim's first half."""
    if isinstance(x, Tensor):
        return record(FftR2CBackward0, _np_r2c(x._data, dims, norm, onesided), (x,), dim=dims,
                      normalization=norm, onesided=onesided, last_dim_size=x._data.shape[dims[-1]])
    return _np_r2c(x, dims, norm, onesided)


def _c2r(x: Tensor, dims, norm: int, last_dim_size: int) -> Tensor:
    return record(FftC2RBackward0, _np_c2r(x._data, dims, norm, last_dim_size), (x,), dim=dims,
                  normalization=norm)


# --- argument handling, as PyTorch's SpectralOps ------------------------------------------------
def _norm(norm, forward: bool) -> int:
    if norm is None or norm == "backward":
        return _NONE if forward else _BY_N
    if norm == "forward":
        return _BY_N if forward else _NONE
    if norm == "ortho":
        return _BY_ROOT_N
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _promote(x: Tensor, require_complex: bool) -> Tensor:
    """Integers become the default float dtype; complex is required by some transforms."""
    dt = x.dtype
    if dt.is_complex:
        return x
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    if dt not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"Unsupported dtype {dt._short}")
    if require_complex:
        dt = dt.to_complex()
    return to_dtype(x, dt)


def _wrap(dim: int, ndim: int) -> int:
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _wrap_dim(dim, ndim)


def _resize(x: Tensor, dims, sizes) -> Tensor:
    """Trim (slice views) or zero-pad (one constant_pad_nd) `x` to `sizes` along `dims`."""
    pad = [0] * (2 * x.ndim)
    for d, n in zip(dims, sizes, strict=True):
        have = x._data.shape[d]
        if have < n:
            pad[len(pad) - 2 * d - 1] = n - have
        elif have > n:
            x = slice_dim(x, d, 0, n)
    if any(pad):
        from dyngrad.nn.functional import pad as f_pad

        x = f_pad(x, pad)
    return x


def _check_n(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _shape_and_dims(x: Tensor, s, dim) -> tuple[list, list]:
    """PyTorch's canonicalize_fft_shape_and_dim_args: the signal sizes and the dims."""
    nd = x.ndim
    shape_in = x._data.shape
    if isinstance(dim, int):
        dim = [dim]
    if isinstance(s, int):
        s = [s]
    dims = None
    if dim is not None:
        dims = [_wrap(d, nd) for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        if dim is not None and len(dim) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} "
                               "dimensions.")
        if dims is None:
            dims = list(range(nd - len(s), nd))
        shape = [shape_in[d] if n == -1 else n for n, d in zip(s, dims, strict=True)]
    elif dims is None:
        dims, shape = list(range(nd)), list(shape_in)
    else:
        shape = [shape_in[d] for d in dims]
    for n in shape:
        _check_n(n)
    return shape, dims


def _c2r_shape_and_dims(name: str, x: Tensor, s, dim) -> tuple[list, list, int]:
    """The sizes and dims of a Hermitian (c2r) transform, and its output's last-dim size."""
    shape, dims = _shape_and_dims(x, s, dim)
    if not shape:
        raise RuntimeError(f"{name} must transform at least one axis")
    if s is None or (s if isinstance(s, int) else s[-1]) == -1:
        last = 2 * (x._data.shape[dims[-1]] - 1)
    else:
        last = shape[-1]
    _check_n(last)
    shape[-1] = last // 2 + 1
    return shape, dims, last


def _finish(res: Tensor, out, name: str) -> Tensor:
    return res if out is None else _out(res, out, name)


def _short(x: Tensor) -> str:
    return x.dtype._short


# --- one-dimensional transforms ----------------------------------------------------------------
def _fft_c2c(name, input, n, dim, norm, forward, out):
    if not input.is_complex():
        raise RuntimeError(f"{name} expects a complex input tensor, but got {_short(input)}")
    d = _wrap(dim, input.ndim)
    size = input._data.shape[d] if n is None else n
    _check_n(size)
    x = input if n is None else _resize(input, [d], [n])
    return _finish(_c2c(x, (d,), _norm(norm, forward), forward), out, name)


def _fft_r2c(name, input, n, dim, norm, forward, onesided, out):
    if input.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got {_short(input)}")
    x = _promote(input, False)
    d = _wrap(dim, x.ndim)
    size = x._data.shape[d] if n is None else n
    _check_n(size)
    if n is not None:
        x = _resize(x, [d], [n])
    res = _r2c(x, (d,), _norm(norm, forward), onesided)
    if not forward:  # the inverse of a real signal: the conjugate of its forward transform
        res = conj(res) if out is None else conj_physical(res)
    return _finish(res, out, name)


def _fft_c2r(name, input, n, dim, norm, forward, out):
    x = _promote(input, True)
    d = _wrap(dim, x.ndim)
    last = 2 * (x._data.shape[d] - 1) if n is None else n
    _check_n(last)
    if n is not None:
        x = _resize(x, [d], [last // 2 + 1])
    if forward:  # hfft: the c2r transform runs in the inverse direction, so conjugate first
        x = conj(x)
    return _finish(_c2r(x, (d,), _norm(norm, forward), last), out, name)


def _input(input, name: str) -> None:
    check_tensor(input, f"fft_{name}")


def fft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """The one-dimensional discrete Fourier transform."""
    _input(input, "fft")
    if input.is_complex():
        return _fft_c2c("fft", input, n, dim, norm, True, out)
    return _fft_r2c("fft", input, n, dim, norm, True, False, out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """The one-dimensional inverse discrete Fourier transform."""
    _input(input, "ifft")
    if input.is_complex():
        return _fft_c2c("ifft", input, n, dim, norm, False, out)
    return _fft_r2c("ifft", input, n, dim, norm, False, False, out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """The transform of a real signal: only the n // 2 + 1 non-redundant frequencies."""
    _input(input, "rfft")
    return _fft_r2c("rfft", input, n, dim, norm, True, True, out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """The inverse of rfft: a real signal of length n (default 2 * (input size - 1))."""
    _input(input, "irfft")
    return _fft_c2r("irfft", input, n, dim, norm, False, out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: real."""
    _input(input, "hfft")
    return _fft_c2r("hfft", input, n, dim, norm, True, out)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """The inverse of hfft: the first half of a Hermitian-symmetric signal."""
    _input(input, "ihfft")
    return _fft_r2c("ihfft", input, n, dim, norm, False, True, out)


# --- n-dimensional transforms ------------------------------------------------------------------
def _fftn_c2c(input, s, dim, norm, forward, out, name):
    _input(input, name)
    shape, dims = _shape_and_dims(input, s, dim)
    x = _resize(_promote(input, True), dims, shape)
    return _finish(_c2c(x, tuple(dims), _norm(norm, forward), forward), out, name)


def fftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The discrete Fourier transform over `dim` (default: all dims, or the last len(s))."""
    return _fftn_c2c(input, s, dim, norm, True, out, "fftn")


def ifftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The inverse discrete Fourier transform over several dims."""
    return _fftn_c2c(input, s, dim, norm, False, out, "ifftn")


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    return _fftn_c2c(input, s, dim, norm, True, out, "fft2")


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    return _fftn_c2c(input, s, dim, norm, False, out, "ifft2")


def _real_signal(input, s, dim, name: str, kind: str, complex_error: str):
    """The real input of rfftn / ihfftn (`kind`), promoted and resized to `s`, and its dims;
    `complex_error` (formatted with the dtype) rejects a complex input."""
    _input(input, name)
    if input.is_complex():
        raise RuntimeError(complex_error.format(_short(input)))
    shape, dims = _shape_and_dims(input, s, dim)
    if not shape:
        raise RuntimeError(f"{kind} must transform at least one axis")
    return _resize(_promote(input, False), dims, shape), dims


def _hermitian_signal(input, s, dim, name: str, kind: str):
    """The complex input of irfftn / hfftn (`kind`), promoted and resized to the one-sided
    sizes, its dims, and the output's last-dim size."""
    _input(input, name)
    shape, dims, last = _c2r_shape_and_dims(kind, input, s, dim)
    return _resize(_promote(input, True), dims, shape), dims, last


def _rfftn(input, s, dim, norm, out, name):
    x, dims = _real_signal(input, s, dim, name, "rfftn",
                           "rfftn expects a real-valued input tensor, but got {}")
    return _finish(_r2c(x, tuple(dims), _norm(norm, True), True), out, name)


def rfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The n-dimensional transform of a real signal, one-sided in the last dim."""
    return _rfftn(input, s, dim, norm, out, "rfftn")


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    return _rfftn(input, s, dim, norm, out, "rfft2")


def _irfftn(input, s, dim, norm, out, name):
    x, dims, last = _hermitian_signal(input, s, dim, name, "irfftn")
    return _finish(_c2r(x, tuple(dims), _norm(norm, False), last), out, name)


def irfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The inverse of rfftn (the last dim's output size defaults to 2 * (input size - 1))."""
    return _irfftn(input, s, dim, norm, out, "irfftn")


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    return _irfftn(input, s, dim, norm, out, "irfft2")


def _hfftn(input, s, dim, norm, out, name):
    x, dims, last = _hermitian_signal(input, s, dim, name, "hfftn")
    mode = _norm(norm, True)
    if len(dims) > 1:
        x = _c2c(x, tuple(dims[:-1]), mode, True)
    return _finish(_c2r(conj(x), (dims[-1],), mode, last), out, name)


def hfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The n-dimensional transform of a Hermitian-symmetric signal (real output)."""
    return _hfftn(input, s, dim, norm, out, "hfftn")


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    return _hfftn(input, s, dim, norm, out, "hfft2")


def _ihfftn(input, s, dim, norm, out, name):
    x, dims = _real_signal(input, s, dim, name, "ihfftn",
                           "Only supports floating-point dtypes, but found: {}")
    mode = _norm(norm, False)
    res = _r2c(x, (dims[-1],), mode, True)
    if len(dims) == 1:
        return _finish(conj(res) if out is None else conj_physical(res), out, name)
    return _finish(_c2c(conj_physical(res), tuple(dims[:-1]), mode, False), out, name)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The inverse of hfftn: one-sided in the last dim."""
    return _ihfftn(input, s, dim, norm, out, "ihfftn")


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    return _ihfftn(input, s, dim, norm, out, "ihfft2")


# --- helpers -----------------------------------------------------------------------------------
def _shifted(input, dim, name: str, shift) -> Tensor:
    check_tensor(input, f"fft_{name}")
    nd = input.ndim
    if dim is None:
        dims = list(range(nd))
    else:
        dims = [_wrap_dim(d, nd) for d in ([dim] if isinstance(dim, int) else dim)]
    if not dims:
        raise RuntimeError("`shifts` required")
    return roll(input, [shift(input._data.shape[d]) for d in dims], dims)


def fftshift(input, dim=None) -> Tensor:
    """Move the zero frequency to the middle (roll each dim by half its size)."""
    return _shifted(input, dim, "fftshift", lambda n: n // 2)


def ifftshift(input, dim=None) -> Tensor:
    """The inverse of fftshift."""
    return _shifted(input, dim, "ifftshift", lambda n: (n + 1) // 2)


def _freq(k, n: int, d: float, dtype, requires_grad: bool, name: str) -> Tensor:
    dt = _dtype.get_default_dtype() if dtype is None else dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    if dt.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{dt._short}'")
    data = k.astype(dt.np) * dt.np.type(1.0 / (n * d))
    return Tensor._make(data).requires_grad_(requires_grad)


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point transform: [0, 1, ..., -(n // 2), ..., -1] / (d n)."""
    k = xp.concatenate([xp.arange((n + 1) // 2), xp.arange(-(n // 2), 0)])
    return _finish(_freq(k, n, d, dtype, requires_grad, "fftfreq"), out, "fftfreq")


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of rfft: [0, 1, ..., n // 2] / (d n)."""
    k = xp.arange(n // 2 + 1)
    return _finish(_freq(k, n, d, dtype, requires_grad, "rfftfreq"), out, "rfftfreq")
