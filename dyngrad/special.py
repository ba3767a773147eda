"""`torch.special`: special functions with PyTorch's values, dtypes, grad_fn names and gradients.

Where PyTorch's function is an alias of a top-level one (expit is sigmoid, gammaln is lgamma, ...)
this module exports dyngrad's function itself. The rest are new ops: the modified Bessel
functions i0, i1 (and their exponentially scaled forms), erfcx, the normal distribution's
ndtr / ndtri / log_ndtr, entr, xlog1py and multigammaln. Their kernels run in float64 NumPy
(power series below |x| = 25, the asymptotic expansion above; a continued fraction for erfcx;
Newton steps on log ndtr for ndtri), accurate to double precision, and cast back to the input's
floating dtype. Integer inputs compute in the default float dtype, as in PyTorch.
"""

from __future__ import annotations

import math

from dyngrad._backend import quiet, xp
from dyngrad._dtype import FROM_NP
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn import functional as _F
from dyngrad.ops import _poly as P
from dyngrad.ops import unary as _unary
from dyngrad.ops._core import OUT, binary_operands, check_tensor, float_data, method, record
from dyngrad.ops._special import erfc as _np_erfc
from dyngrad.ops._special import erfinv as _np_erfinv
from dyngrad.ops._special import lgamma as _np_lgamma
from dyngrad.ops.arithmetic import _out
from dyngrad.ops.comparison import xlogy
from dyngrad.ops.igamma import igamma as gammainc
from dyngrad.ops.igamma import igammac as gammaincc
from dyngrad.ops.inplace import apply_inplace
from dyngrad.ops.reduction import logsumexp

__all__ = [
    "expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi",
    "polygamma", "multigammaln", "xlogy", "xlog1py", "log_softmax", "softmax", "logsumexp",
    "entr", "sinc", "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr", "expm1", "exp2",
    "log1p", "round", "gammainc", "gammaincc",
]

# --- aliases of dyngrad functions ----------------------------------------------------------------
expit = _unary.sigmoid
logit = _unary.logit
erf = _unary.erf
erfc = _unary.erfc
erfinv = _unary.erfinv
gammaln = _unary.lgamma
digamma = psi = _unary.digamma
polygamma = _unary.polygamma
sinc = _unary.sinc
expm1 = _unary.expm1
exp2 = _unary.exp2
log1p = _unary.log1p


def round(input, *, decimals: int = 0, out=None) -> Tensor:  # noqa: A001 - torch.special.round
    """torch.round with `decimals` always passed (so the node is RoundBackward1)."""
    return _unary.round(input, decimals=decimals, out=out)


def softmax(input, dim: int, *, dtype=None) -> Tensor:
    return _F.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim: int, *, dtype=None) -> Tensor:
    return _F.log_softmax(input, dim, dtype=dtype)


# --- float64 kernels -----------------------------------------------------------------------------
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_SERIES_MAX = 25.0  # |x| at or below: power series; above: asymptotic expansion


def _bessel(x, nu: int, scaled: bool):
    """I_nu(x) for nu = 0 or 1, or exp(-|x|) I_nu(x) when `scaled`, in float64."""
    x = xp.asarray(x, dtype=xp.float64)
    ax = xp.abs(x)
    small = ax <= _SERIES_MAX
    # sum_k (x^2 / 4)^k / (k! (k + nu)!), every term positive: no cancellation
    s = xp.where(small, ax, 0.0)
    q = s * s / 4
    term = xp.ones_like(s)
    series = term.copy()
    for k in range(1, 71):
        term = term * q / (k * (k + nu))
        series += term
    if nu:
        series *= s / 2
    # e^x / sqrt(2 pi x) * sum_k c_k, c_k = c_{k-1} ((2k - 1)^2 - 4 nu^2) / (8 k x)
    b = xp.where(small, _SERIES_MAX + 1, ax)
    c = xp.ones_like(b)
    asym = c.copy()
    for k in range(1, 46):
        c = c * ((2 * k - 1) ** 2 - 4 * nu * nu) / (8 * k * b)
        asym += c
    with xp.errstate(all="ignore"):
        if scaled:
            big = asym / xp.sqrt(2 * xp.pi * b)
            out = xp.where(small, xp.exp(-s) * series, big)
        else:
            big = xp.exp(b) * asym / xp.sqrt(2 * xp.pi * b)  # inf past exp's range, as torch
            out = xp.where(small, series, big)
    out = xp.where(xp.isnan(x), x, out)
    return xp.where(x < 0, -out, out) if nu else out


def _np_i0(a):
    return _bessel(a, 0, False)


def _np_i0e(a):
    return _bessel(a, 0, True)


def _np_i1(a):
    return _bessel(a, 1, False)


def _np_i1e(a):
    return _bessel(a, 1, True)


_CF_MIN = 4.0  # erfcx: exp(x^2) erfc(x) below, the continued fraction at and above


def _np_erfcx(a):
    """exp(x^2) erfc(x); a continued fraction for large x (no overflow, no underflow)."""
    x = xp.asarray(a, dtype=xp.float64)
    with xp.errstate(all="ignore"):
        # erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))
        ax = xp.abs(x)
        mid = ax < _CF_MIN
        y = xp.where(mid, _CF_MIN, ax)
        t = y.copy()
        for k in range(60, 0, -1):
            t = y + (k / 2) / t
        tail = 1 / (t * _SQRT_PI)  # erfcx(|x|)
        xm = xp.where(mid, x, 0.0)
        direct = xp.exp(xm * xm) * _np_erfc(xm)
        # erfcx(-x) = 2 exp(x^2) - erfcx(x), overflowing to inf for x below about -26.6
        out = xp.where(mid, direct, xp.where(x > 0, tail, 2 * xp.exp(x * x) - tail))
        return xp.where(xp.isnan(x), x, out)


def _np_log_ndtr(a):
    """log of the standard normal CDF, accurate in both tails (as PyTorch computes it)."""
    x = xp.asarray(a, dtype=xp.float64)
    t = x * _SQRT1_2
    with xp.errstate(all="ignore"):
        left = x < -1
        tl = xp.where(left, t, -1.0)
        low = xp.log(_np_erfcx(-tl) / 2) - tl * tl
        high = xp.log1p(-_np_erfc(xp.where(left, 0.0, t)) / 2)
    return xp.where(left, low, high)


def _np_ndtri(a):
    """The inverse of the standard normal CDF: a first guess, then Newton steps on log ndtr.

    For p > 1/2 it uses ndtri(p) = -ndtri(1 - p) (1 - p is exact there); on the lower half
    log ndtr is concave, so Newton's iterates approach the root monotonically.
    """
    p = xp.asarray(a, dtype=xp.float64)
    upper = p > 0.5
    q = xp.where(upper, 1 - p, p)
    inside = (q > 0) & (q <= 0.5)
    qi = xp.where(inside, q, 0.5)
    with xp.errstate(all="ignore"):
        ln = xp.log(qi)
        tail = -xp.sqrt(-2 * ln - xp.log(-2 * ln) - math.log(2 * math.pi))
        x = xp.where(qi < 1e-8, tail, math.sqrt(2) * _np_erfinv(2 * qi - 1))
        for _ in range(8):
            step = (_np_log_ndtr(x) - ln) * (_SQRT_PI * _SQRT1_2) * _np_erfcx(-x * _SQRT1_2)
            x = x - xp.where(xp.isfinite(step), step, 0.0)
        out = xp.where(inside, x, xp.where(q == 0, -xp.inf, xp.nan))
    return xp.where(upper, -out, out)


def _np_entr(a):
    with xp.errstate(all="ignore"):
        out = xp.where(a > 0, -a * xp.log(xp.where(a > 0, a, 1)), xp.where(a == 0, 0, -xp.inf))
    return xp.where(xp.isnan(a), a, out).astype(a.dtype, copy=False)


# --- polymorphic forms for backward formulas (NumPy on arrays, recorded ops on tensors) ----------
def _either(name: str, kernel):
    def fn(x):
        if isinstance(x, Tensor):
            return globals()[name](x)
        return kernel(x).astype(x.dtype, copy=False)

    return fn


_i0, _i0e, _i1, _i1e = (_either(n, k) for n, k in (("i0", _np_i0), ("i0e", _np_i0e),
                                                   ("i1", _np_i1), ("i1e", _np_i1e)))


def _eps_of(x) -> float:
    return float(xp.finfo(P.data(x).dtype).eps)


# --- nodes ---------------------------------------------------------------------------------------
class I0Backward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * _i1(x)


class SpecialI0EBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        x, y = self.saved_tensors
        return grad * (_i1e(x) - P.sgn(x) * y)


class SpecialI1Backward0(Node):
    """PyTorch's i1_backward: i0(x) - i1(x) / x, and 0.5 where |x| <= eps (0 / 0 there)."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        x, y = self.saved_tensors
        eps = _eps_of(x)
        normal = xp.abs(P.data(x)) > eps
        safe = P.where(normal, x, eps)
        return grad * P.where(normal, _i0(safe) - y / safe, 0.5)


class SpecialI1EBackward0(Node):
    """PyTorch's i1e_backward: i0e(x) - i1e(x) (sgn(x) + 1 / x), and 0.5 where |x| <= eps."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        x, y = self.saved_tensors
        eps = _eps_of(x)
        normal = xp.abs(P.data(x)) > eps
        safe = P.where(normal, x, eps)
        return grad * P.where(normal, _i0e(safe) - y * (P.sgn(safe) + 1 / safe), 0.5)


class SpecialErfcxBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        x, y = self.saved_tensors
        return (2.0 * x * y - 2.0 / _SQRT_PI) * grad


class SpecialNdtriBackward0(Node):
    _saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad * _SQRT_2PI * P.exp(y * y / 2)


class SpecialLogNdtrBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        x, y = self.saved_tensors
        return grad / _SQRT_2PI * P.exp(-(y + x * x / 2))


class SpecialEntrBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * -(1 + quiet(P.log, x))


def _elementwise(name: str, kernel, node, save, kernel_name: str):
    """`name(input, *, out=None)`: a float64 kernel on a floating (not complex) input."""

    def fn(input, *, out=None):
        check_tensor(input, name)
        a = float_data(input)
        if a.dtype.kind == "c":
            raise NotImplementedError(
                f"\"{kernel_name}\" not implemented for '{FROM_NP[a.dtype]._short}'")
        data = kernel(a).astype(a.dtype, copy=False)
        saved = tuple(input if s == "self" else OUT for s in save)
        res = record(node, data, (input,), save=saved)
        return res if out is None else _out(res, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} (integer inputs give the default float dtype)."
    return fn


i0 = _elementwise("i0", _np_i0, I0Backward0, ("self",), "i0_vml_cpu")
i0e = _elementwise("i0e", _np_i0e, SpecialI0EBackward0, ("self", "result"), "i0e_cpu")
i1 = _elementwise("i1", _np_i1, SpecialI1Backward0, ("self", "result"), "i1_cpu")
i1e = _elementwise("i1e", _np_i1e, SpecialI1EBackward0, ("self", "result"), "i1e_cpu")
erfcx = _elementwise("erfcx", _np_erfcx, SpecialErfcxBackward0, ("self", "result"), "erfcx_cpu")
ndtri = _elementwise("ndtri", _np_ndtri, SpecialNdtriBackward0, ("result",), "ndtri_cpu")
log_ndtr = _elementwise("log_ndtr", _np_log_ndtr, SpecialLogNdtrBackward0, ("self", "result"),
                        "log_ndtr_cpu")
entr = _elementwise("entr", _np_entr, SpecialEntrBackward0, ("self",), "entr_cpu")

Tensor.i0 = i0
Tensor.i0_ = lambda self: apply_inplace(self, i0, name="i0_")


# --- ndtr: PyTorch's composite (1 + erf(x / sqrt(2))) / 2 --------------------------------------
class MulBackward1(Node):
    """tensor * number, recorded inside a composite op (PyTorch's mul.Scalar)."""

    def backward(self, grad):
        return grad * self.other


class AddBackward1(Node):
    """tensor + number, recorded inside a composite op (PyTorch's add.Scalar)."""

    def backward(self, grad):
        return grad


def ndtr(input, *, out=None) -> Tensor:
    """The standard normal CDF, computed as PyTorch does: (1 + erf(x / sqrt(2))) * 0.5."""
    check_tensor(input, "ndtr")
    a = float_data(input)
    scaled = record(MulBackward1, a * _SQRT1_2, (input,), other=_SQRT1_2)
    e = erf(scaled)
    shifted = record(AddBackward1, 1 + e._data, (e,))
    res = record(MulBackward1, shifted._data * 0.5, (shifted,), other=0.5)
    return res if out is None else _out(res, out, "ndtr")


# --- xlog1py -------------------------------------------------------------------------------------
def _np_xlog1py(a, b):
    with xp.errstate(all="ignore"):
        return xp.where((a == 0) & ~xp.isnan(b), 0, a * xp.log1p(b))


def _xlog1py_grad(grad, x, y, zero_mask):
    """xlog1py(grad, other), set to 0 where `zero_mask` (input == 0 and other <= -1). The
    grad == 0 test only matters where log1p(other) is infinite or NaN, and is limited to there,
    so the formula stays linear in grad (forward-mode AD relies on it)."""
    g, yd = P.data(grad), P.data(y)
    zero = ((g == 0) & (yd <= -1)) | zero_mask
    return P.where(zero, 0.0, grad * quiet(P.log, 1 + y))


class SpecialXlog1PyBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        mask = (P.data(x) == 0) & (P.data(y) <= -1)
        return _xlog1py_grad(grad, x, y, mask), quiet(lambda: grad * x / (y + 1))


class SpecialXlog1PyBackward1(Node):
    """xlog1py with a scalar `self`."""

    _saved_names = ("other",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        return quiet(lambda: grad * self.self / (y + 1))


class SpecialXlog1PyBackward2(Node):
    """xlog1py with a scalar `other`."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        y = xp.float64(self.other)
        mask = (P.data(x) == 0) & (y <= -1)
        return _xlog1py_grad(grad, x, y, mask)


def xlog1py(input, other, *, out=None) -> Tensor:
    """input * log1p(other), and 0 where input == 0 (unless other is NaN)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"special_xlog1py() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor other, *, Tensor out = None)\n"
            " * (Number self, Tensor other, *, Tensor out = None)\n"
            " * (Tensor input, Number other, *, Tensor out = None)\n")
    a, b = binary_operands(input, other, "special_xlog1py", to_float=True)
    dt = xp.result_type(a, b)
    if dt.kind == "c":
        raise NotImplementedError(f"\"xlog1py_cpu\" not implemented for '{FROM_NP[dt]._short}'")
    data = _np_xlog1py(a, b).astype(dt, copy=False)
    if not isinstance(input, Tensor):
        res = record(SpecialXlog1PyBackward1, data, (other,), save=(other,), self=input)
    elif not isinstance(other, Tensor):
        res = record(SpecialXlog1PyBackward2, data, (input,), save=(input,), other=other)
    else:
        res = record(SpecialXlog1PyBackward0, data, (input, other), save=(input, other))
    return res if out is None else _out(res, out, "xlog1py")


# --- multigammaln (torch.mvlgamma) ---------------------------------------------------------------
class MvlgammaBackward0(Node):
    """PyTorch's mvlgamma_backward: grad * sum_j digamma(x - j / 2), j = 0 .. p - 1."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        shifts = xp.arange(-self.p / 2 + 0.5, 0.5, 0.5, dtype=P.data(x).dtype)
        return grad * P.sum(P.digamma(P.unsqueeze(x, -1) + P.const(shifts, x)), -1)


def _mvlgamma(input, p: int) -> Tensor:
    check_tensor(input, "mvlgamma")
    if input._data.dtype == xp.bool_:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    a = float_data(input)
    if a.dtype.kind == "c":
        raise NotImplementedError(f"\"lgamma_vml_cpu\" not implemented for "
                                  f"'{FROM_NP[a.dtype]._short}'")
    shifts = xp.arange(-p / 2 + 0.5, 0.5, 0.5)
    terms = _np_lgamma(a.astype(xp.float64)[..., None] + shifts)
    data = (terms.sum(-1) + p * (p - 1) * math.log(math.pi) / 4).astype(a.dtype)
    return record(MvlgammaBackward0, data, (input,), save=(input,), p=p)


def multigammaln(input, p: int, *, out=None) -> Tensor:
    """The multivariate log-gamma function of dimension p."""
    res = _mvlgamma(input, p)
    return res if out is None else _out(res, out, "mvlgamma")


mvlgamma = multigammaln
method("mvlgamma")(lambda self, p: _mvlgamma(self, p))
Tensor.mvlgamma_ = lambda self, p: apply_inplace(self, _mvlgamma, p, name="mvlgamma_")
