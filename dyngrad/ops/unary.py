"""Elementwise functions of one tensor: exp/log, trigonometric, rounding, special functions, clamp.

Most functions are one line of a table: forward, PyTorch's node name, what PyTorch saves (`self`
or `result`) and the derivative as `derivatives.yaml` writes it (complex gradients conjugated, as
PyTorch does). Floating functions of integer tensors compute in the default float dtype. Every
function is also a Tensor method, and has an in-place `name_` form where PyTorch has one.
NumPy lacks erf, lgamma, digamma, polygamma and erfinv: they live in `_special`.
"""

from __future__ import annotations

import builtins
import math

from dyngrad._backend import ONE, ZERO, quiet, xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node, SavedOutput, engine_state
from dyngrad.ops import _fastpath, _special
from dyngrad.ops import _poly as P
from dyngrad.ops._core import (
    OUT,
    check_broadcast,
    check_tensor,
    float_data,
    method,
    record,
    result_dtype,
    type_name,
)
from dyngrad.ops.arithmetic import _conj, _inplace, _out, pow
from dyngrad.ops.inplace import apply_inplace

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _short(a) -> str:
    from dyngrad._dtype import FROM_NP

    return FROM_NP[a.dtype]._short


def _not_for(a, kinds: str, exc, msg: str) -> None:
    """PyTorch's error when `a`'s dtype kind is in `kinds` ('{}' in msg: the dtype's C name)."""
    if a.dtype.kind in kinds:
        raise exc(msg.format(_short(a)))


def _kernel(name: str) -> str:
    return f'"{name}" not implemented for ' + "'{}'"


_OUT_ONLY = (OUT,)


def _finish(res: Tensor, out, name: str) -> Tensor:
    return res if out is None else _out(res, out, name)


# --- nodes from one-line formulas --------------------------------------------------------------
def _node(name: str, saved: str | None, formula):
    """A node class whose backward is `formula(grad, saved_value)` (`formula(grad)` when nothing is
    saved); `saved` names what PyTorch saves: "self" (the input) or "result" (the output)."""
    if saved is None:
        def backward(self, grad):
            return formula(grad)
    else:
        def backward(self, grad):
            # `saved_tensors`' common case, written out (a third of all nodes run this line)
            saved = self._saved
            if saved and not engine_state.create_graph:
                (item,) = saved
                if type(item) is SavedOutput:
                    if item.version[0] == item.saved_version:
                        return formula(grad, item.data)
                elif type(item) is tuple and item[0]._vc[0] == item[1]:
                    return formula(grad, item[0]._data)
            (v,) = self.saved_tensors
            return formula(grad, v)
    saved_names = () if saved is None else (saved,)
    return type(name, (Node,), {"_saved_names": saved_names, "backward": backward,
                                "__module__": __name__})


def _acosh_grad(g, x):
    """1 / sqrt(x^2 - 1); for complex x, 1 / (sqrt(x + 1) sqrt(x - 1)) (PyTorch's branch)."""
    if P.data(x).dtype.kind == "c":
        return g * _conj((x + 1) ** -0.5 * (x - 1) ** -0.5)
    return g * (x * x - 1) ** -0.5


# --- floating-point functions ------------------------------------------------------------------
def _float_fn(name: str, compute, node: str, saved: str | None, formula, no_complex=None):
    """`name(input, *, out=None)`: `compute` on the input as floats, recorded as a node `node`
    with derivative `formula` (see `_node`). `no_complex` is PyTorch's (exception, message) for
    functions it does not define on complex tensors."""
    cls = _node(node, saved, formula)

    save_result = saved == "result"
    save_self = saved == "self"

    def fn(input, *, out=None):
        if not isinstance(input, Tensor):
            check_tensor(input, name)
        a = input._data
        if a.dtype.kind not in "fc":
            a = float_data(input)
        elif no_complex is not None:
            _not_for(a, "c", *no_complex)
        data = compute(a)  # FP warnings are filtered (see dyngrad/_backend.py)
        save = _OUT_ONLY if save_result else (input,) if save_self else ()
        res = record(cls, data, (input,), save=save)
        return res if out is None else _out(res, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}; integer inputs give the default float dtype."
    return _fastpath.unary(fn, cls, compute, saved)


def _in_float64(fn):
    """A float64 special function applied to any float dtype (the result keeps the input's)."""
    return lambda a: fn(a).astype(a.dtype, copy=False)


def _sigmoid(a):
    if a.dtype.kind == "c":
        return 1 / (1 + xp.exp(-a))
    return P.np_sigmoid(a)


def _sinc(a):
    px = xp.pi * a
    return xp.where(a == 0, a.dtype.type(1), xp.sin(px) / xp.where(a == 0, 1, px))


def _sinc_grad(g, x):
    """(cos(pi x) pi x - sin(pi x)) / (pi x^2), and 0 at x = 0 (the 0 / 0 masked, as PyTorch)."""
    px = math.pi * x
    d = quiet(lambda: (px * P.cos(px) - P.sin(px)) / (px * x))
    return P.where(P.data(x) == 0, 0.0, g * _conj(d))


def _no_complex(name: str, kernel: str | None = None):
    return NotImplementedError, _kernel(kernel or f"{name}_vml_cpu")


_RSQRT_PI = 0.5 * math.sqrt(math.pi)

# One line per function: forward, node name, what it saves, derivative (derivatives.yaml's).
exp = _float_fn("exp", xp.exp, "ExpBackward0", "result", lambda g, y: g * _conj(y))
exp2 = _float_fn("exp2", xp.exp2, "Exp2Backward0", "result", lambda g, y: g * _conj(y) * _LN2)
expm1 = _float_fn("expm1", xp.expm1, "Expm1Backward0", "result", lambda g, y: g * _conj(y + 1))
log = _float_fn("log", xp.log, "LogBackward0", "self", lambda g, x: g / _conj(x))
log2 = _float_fn("log2", xp.log2, "Log2Backward0", "self", lambda g, x: g / (_conj(x) * _LN2))
log10 = _float_fn("log10", xp.log10, "Log10Backward0", "self",
                  lambda g, x: g / (_conj(x) * _LN10))
log1p = _float_fn("log1p", xp.log1p, "Log1PBackward0", "self", lambda g, x: g / _conj(x + 1))
sqrt = _float_fn("sqrt", xp.sqrt, "SqrtBackward0", "result", lambda g, y: g / (2 * _conj(y)))
rsqrt = _float_fn("rsqrt", lambda a: 1 / xp.sqrt(a), "RsqrtBackward0", "result",
                  lambda g, y: -0.5 * g * _conj(y * y * y))
sin = _float_fn("sin", xp.sin, "SinBackward0", "self", lambda g, x: g * _conj(P.cos(x)))
cos = _float_fn("cos", xp.cos, "CosBackward0", "self", lambda g, x: g * -_conj(P.sin(x)))
tan = _float_fn("tan", xp.tan, "TanBackward0", "result", lambda g, y: g * _conj(1 + y * y))
asin = _float_fn("asin", xp.arcsin, "AsinBackward0", "self",
                 lambda g, x: g * _conj((1 - x * x) ** -0.5))
acos = _float_fn("acos", xp.arccos, "AcosBackward0", "self",
                 lambda g, x: g * -_conj((1 - x * x) ** -0.5))
atan = _float_fn("atan", xp.arctan, "AtanBackward0", "self", lambda g, x: g / _conj(x * x + 1))
sinh = _float_fn("sinh", xp.sinh, "SinhBackward0", "self", lambda g, x: g * _conj(P.cosh(x)))
cosh = _float_fn("cosh", xp.cosh, "CoshBackward0", "self", lambda g, x: g * _conj(P.sinh(x)))
tanh = _float_fn("tanh", xp.tanh, "TanhBackward0", "result",
                 lambda g, y: g * _conj(ONE[y.dtype] - y * y))
asinh = _float_fn("asinh", xp.arcsinh, "AsinhBackward0", "self",
                  lambda g, x: g * _conj((x * x + 1) ** -0.5))
acosh = _float_fn("acosh", xp.arccosh, "AcoshBackward0", "self", _acosh_grad)
atanh = _float_fn("atanh", xp.arctanh, "AtanhBackward0", "self",
                  lambda g, x: g / _conj(1 - x * x))
sigmoid = _float_fn("sigmoid", _sigmoid, "SigmoidBackward0", "result",
                    lambda g, y: g * _conj((ONE[y.dtype] - y) * y))
sinc = _float_fn("sinc", _sinc, "SincBackward0", "self", _sinc_grad)
erf = _float_fn("erf", _in_float64(_special.erf), "ErfBackward0", "self",
                lambda g, x: _TWO_OVER_SQRT_PI * P.exp(-(x * x)) * g, _no_complex("erf"))
erfc = _float_fn("erfc", _in_float64(_special.erfc), "ErfcBackward0", "self",
                 lambda g, x: -_TWO_OVER_SQRT_PI * P.exp(-(x * x)) * g, _no_complex("erfc"))
erfinv = _float_fn("erfinv", _in_float64(_special.erfinv), "ErfinvBackward0", "self",
                   lambda g, x: _RSQRT_PI * P.exp(P.erfinv(x) ** 2) * g, _no_complex("erfinv"))
lgamma = _float_fn("lgamma", _in_float64(_special.lgamma), "LgammaBackward0", "self",
                   lambda g, x: g * P.digamma(x), _no_complex("lgamma"))
digamma = _float_fn("digamma", _in_float64(_special.digamma), "DigammaBackward0", "self",
                    lambda g, x: g * P.polygamma(1, x), _no_complex("digamma", "digamma"))
deg2rad = _float_fn("deg2rad", lambda a: a * (math.pi / 180), "Deg2RadBackward0", None,
                    lambda g: g * (math.pi / 180),
                    (RuntimeError, "deg2rad is not supported for complex tensors."))
rad2deg = _float_fn("rad2deg", lambda a: a * (180 / math.pi), "Rad2DegBackward0", None,
                    lambda g: g * (180 / math.pi),
                    (RuntimeError, "rad2deg is not supported for complex tensors."))


def _no_inplace_derivative(op: str):
    """PyTorch records asinh_, acosh_ and atanh_ (as ...Backward1) but cannot differentiate them."""

    def formula(grad):
        raise NotImplementedError(f"the derivative for 'inplace version of {op}' is not "
                                  "implemented.")

    return formula


class PolygammaBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * P.polygamma(self.n + 1, x)


class PolygammaBackward1(PolygammaBackward0):
    """polygamma_'s node (PyTorch names the in-place form's node apart)."""


def polygamma(n: int, input, *, out=None) -> Tensor:
    """The n-th derivative of digamma (`polygamma(0, x)` is `digamma(x)`)."""
    return _finish(_polygamma(n, input, PolygammaBackward0), out, "polygamma")


def _polygamma(n: int, input, node) -> Tensor:
    check_tensor(input, "polygamma", "input", 2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    a = float_data(input)
    _not_for(a, "c", NotImplementedError, _kernel("polygamma"))
    data = quiet(_special.polygamma, n, a).astype(a.dtype, copy=False)
    return record(node, data, (input,), save=(input,), n=n)


class LogitBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        d = quiet(lambda: grad / (x * (1 - x)))  # infinite at 0 and 1, masked below
        v = P.data(x)
        if self.eps is None or self.eps < 0:
            return P.where((v < 0) | (v > 1), math.nan, d)
        return P.where((v < self.eps) | (v > 1 - self.eps), 0.0, d)


@method("logit")
def logit(input, eps=None, *, out=None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    check_tensor(input, "logit")
    a = float_data(input)
    _not_for(a, "c", NotImplementedError, _kernel("logit_cpu"))
    p = a if eps is None or eps < 0 else xp.clip(a, eps, 1 - eps)
    data = quiet(lambda: xp.log(p / (1 - p)))
    return _finish(record(LogitBackward0, data, (input,), save=(input,), eps=eps), out, "logit")


# --- abs, sign and angle -----------------------------------------------------------------------
AbsBackward0 = _node("AbsBackward0", "self", lambda g, x: g * P.sgn(x))


@method("abs", "absolute")
def abs(input, *, out=None) -> Tensor:  # noqa: A001 - torch.abs
    """|input|; the magnitude (a real tensor) for complex input. abs'(0) is 0."""
    check_tensor(input, "abs")
    a = input._data
    _not_for(a, "b", NotImplementedError, _kernel("abs_cpu"))
    return _finish(record(AbsBackward0, xp.abs(a), (input,), save=(input,)), out, "abs")


absolute = abs


# Piecewise-constant functions: the gradient is zero wherever it exists.
SignBackward0 = _node("SignBackward0", None, P.zeros_like)


class SgnBackward0(Node):
    """sgn(z) = z / |z|: zero gradient for reals; for complex,
    (g - conj(g) sgn(z)^2) / (2 |z|), and 0 at z = 0."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        x, s = self.saved_tensors
        if not P.data(x).dtype.kind == "c":
            return P.zeros_like(grad)
        mag = P.abs(x)
        zero = P.data(mag) == 0
        safe = P.where(zero, 1.0, mag)
        return P.where(zero, 0.0, (grad - _conj(grad) * s * s) / (2 * safe))


def _real_sign(a):
    if a.dtype.kind == "b":
        return a.copy()
    s = xp.sign(a, out=xp.empty_like(a))  # an array even for 0-d input
    if a.dtype.kind == "f":
        s[xp.isnan(a)] = 0  # PyTorch's sign(nan) is 0
    return s


@method("sign")
def sign(input, *, out=None) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for NaN)."""
    check_tensor(input, "sign")
    a = input._data
    _not_for(a, "c", NotImplementedError, "Unlike NumPy, torch.sign is not intended to support "
             "complex numbers. Please use torch.sgn instead.")
    return _finish(record(SignBackward0, _real_sign(a), (input,)), out, "sign")


@method("sgn")
def sgn(input, *, out=None) -> Tensor:
    """sign for real tensors; z / |z| (0 at 0) for complex ones."""
    check_tensor(input, "sgn")
    a = input._data
    data = P.sgn(a) if a.dtype.kind == "c" else _real_sign(a)
    return _finish(record(SgnBackward0, data, (input,), save=(input, OUT)), out, "sgn")


# --- rounding ----------------------------------------------------------------------------------
def _rounding(name: str, np_fn, node_name: str):
    node = _node(node_name, None, P.zeros_like)

    def fn(input, *, out=None):
        check_tensor(input, name)
        a = input._data
        _not_for(a, "b", NotImplementedError, _kernel(f"{name}_vml_cpu"))
        _not_for(a, "c", NotImplementedError, f"{name} is not supported for complex inputs")
        data = np_fn(a) if a.dtype.kind == "f" else a.copy()
        return _finish(record(node, data, (input,)), out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}; integer tensors come back unchanged (as a copy)."
    return fn


ceil = _rounding("ceil", xp.ceil, "CeilBackward0")
floor = _rounding("floor", xp.floor, "FloorBackward0")
trunc = _rounding("trunc", xp.trunc, "TruncBackward0")
fix = trunc
RoundBackward0 = _node("RoundBackward0", None, P.zeros_like)
RoundBackward1 = _node("RoundBackward1", None, P.zeros_like)  # round(decimals=...)


@method("round")
def round(input, *, decimals: int | None = None, out=None) -> Tensor:  # noqa: A001 - torch.round
    """Round half to even, to `decimals` decimal places (negative: to tens, hundreds, ...)."""
    check_tensor(input, "round")
    a = input._data
    _not_for(a, "bc", NotImplementedError, _kernel("round_vml_cpu"))
    if decimals is None:
        data = xp.rint(a) if a.dtype.kind == "f" else a.copy()
        return _finish(record(RoundBackward0, data, (input,)), out, "round")
    _not_for(a, "iu", NotImplementedError, _kernel("round_cpu" if decimals else "round_vml_cpu"))
    ten = a.dtype.type(10.0 ** builtins.abs(decimals))
    data = quiet(lambda: xp.rint(a * ten) / ten if decimals >= 0 else xp.rint(a / ten) * ten)
    return _finish(record(RoundBackward1, data, (input,), decimals=decimals), out, "round")


FracBackward0 = _node("FracBackward0", None, lambda g: g)


@method("frac")
def frac(input, *, out=None) -> Tensor:
    """input - trunc(input), with the sign of input."""
    check_tensor(input, "frac")
    a = input._data
    _not_for(a, "biuc", NotImplementedError, _kernel("frac_cpu"))
    data = quiet(lambda: a - xp.trunc(a))
    return _finish(record(FracBackward0, data, (input,)), out, "frac")


@method("square")
def square(input, *, out=None) -> Tensor:
    """input ** 2 (PyTorch computes it, and records it, as pow)."""
    check_tensor(input, "square")
    return pow(input, 2, out=out)


# --- relu and clamp ----------------------------------------------------------------------------
def _threshold_grad(g, y):
    """g where y > 0, else 0 (relu's gradient; relu'(0) = 0), as PyTorch's threshold_backward."""
    if type(y) is xp.ndarray:  # a plain backward (the rest is for create_graph's tensors)
        return P.zero_where(y <= ZERO[y.dtype], g)
    y_ = P.data(y)
    return P.masked_by(P.zero_where(y_ <= ZERO[y_.dtype], g), y, "ThresholdBackwardBackward0")


ReluBackward0 = _node("ReluBackward0", "result", _threshold_grad)


def relu(input) -> Tensor:
    """max(input, 0); relu'(0) is 0."""
    check_tensor(input, "relu")
    a = input._data
    if a.dtype.kind in "bc":
        _not_for(a, "b", RuntimeError, "Boolean inputs not supported for relu")
        _not_for(a, "c", NotImplementedError, "clamp is not supported for complex types")
    return record(ReluBackward0, xp.maximum(a, ZERO[a.dtype]), (input,), save=(OUT,))


relu = method("relu")(_fastpath.unary(relu, ReluBackward0, lambda a: xp.maximum(a, ZERO[a.dtype]),
                                       "result"))


def _clamp_mask(x, lo, hi):
    """Where the input passes its gradient through clamp: inside [lo, hi], bounds included."""
    keep = True
    if lo is not None:
        keep = x >= lo
    if hi is not None:
        keep = keep & (x <= hi)
    return keep


class ClampBackward1(Node):
    """clamp with scalar bounds."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return P.where(_clamp_mask(P.data(x), self.min, self.max), grad, 0.0)


class ClampMinBackward0(ClampBackward1):
    max = None


class ClampMaxBackward0(ClampBackward1):
    min = None


class ClampBackward0(Node):
    """clamp with tensor bounds: a bound gets the gradient where it is the result."""

    _saved_names = ("self", "min", "max")

    def backward(self, grad):
        x, lo, hi = (None if v is None else P.data(v) for v in self.saved_tensors)
        need = [n is not None for n, _ in self._next]
        gx = P.where(_clamp_mask(x, lo, hi), grad, 0.0) if need[0] else None
        glo = ghi = None
        if lo is not None and need[1]:
            at_lo = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = P.where(at_lo, grad, 0.0)
        if hi is not None and need[2]:
            at_hi = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = P.where(at_hi, grad, 0.0)
        return gx, glo, ghi


class ClampMinBackward1(Node):
    _saved_names = ("self", "min")

    def backward(self, grad):
        x, lo = (P.data(v) for v in self.saved_tensors)
        return P.where(x >= lo, grad, 0.0), P.where(x < lo, grad, 0.0)


class ClampMaxBackward1(Node):
    _saved_names = ("self", "max")

    def backward(self, grad):
        x, hi = (P.data(v) for v in self.saved_tensors)
        return P.where(x <= hi, grad, 0.0), P.where(x > hi, grad, 0.0)


def _clamp_arg_error(fname: str, args: tuple) -> TypeError:
    got = ", ".join(type_name(a) if not isinstance(a, Tensor) else "Tensor" for a in args)
    return TypeError(
        f"{fname}() received an invalid combination of arguments - got ({got}), but expected one "
        f"of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
        f" * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n"
    )


def _clamp_data(input, lo, hi):
    """The clamped data, in the dtype PyTorch's promotion gives input and bounds together."""
    dt = result_dtype(*(v for v in (input, lo, hi) if v is not None)).np
    a = input._data.astype(dt, copy=False)
    bounds = []
    for v in (lo, hi):
        if isinstance(v, Tensor):
            check_broadcast(a.shape, v._data.shape)
            v = v._data.astype(dt, copy=False)
        bounds.append(v)
    lo, hi = bounds
    if lo is not None:
        a = xp.maximum(a, lo)
    if hi is not None:
        a = xp.minimum(a, hi)
    return a.astype(dt, copy=False)


@method("clamp", "clip")
def clamp(input, min=None, max=None, *, out=None) -> Tensor:  # noqa: A002 - torch's names
    """Limit input to [min, max]; the bounds are both scalars or both tensors (or None).
    At a bound the gradient passes (PyTorch's choice); with min > max every result is max."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input._data.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    tensors = [isinstance(v, Tensor) for v in (min, max) if v is not None]
    if any(tensors) and not all(tensors):
        raise _clamp_arg_error("clamp", (input, min, max))
    data = _clamp_data(input, min, max)
    if any(tensors):
        res = record(ClampBackward0, data, (input, min, max), save=(input, min, max))
    else:
        res = record(ClampBackward1, data, (input,), save=(input,), min=min, max=max)
    return _finish(res, out, "clamp")


clip = clamp


@method("clamp_min")
def clamp_min(input, min) -> Tensor:  # noqa: A002
    """max(input, min)."""
    check_tensor(input, "clamp_min")
    if isinstance(min, Tensor):
        return record(ClampMinBackward1, _clamp_data(input, min, None), (input, min),
                      save=(input, min))
    return record(ClampMinBackward0, _clamp_data(input, min, None), (input,), save=(input,),
                  min=min)


@method("clamp_max")
def clamp_max(input, max) -> Tensor:  # noqa: A002
    """min(input, max)."""
    check_tensor(input, "clamp_max")
    if isinstance(max, Tensor):
        return record(ClampMaxBackward1, _clamp_data(input, None, max), (input, max),
                      save=(input, max))
    return record(ClampMaxBackward0, _clamp_data(input, None, max), (input,), save=(input,),
                  max=max)


# --- NaN / infinity handling and tests ---------------------------------------------------------
NanToNumBackward0 = _node("NanToNumBackward0", "self",
                          lambda g, x: P.where(xp.isfinite(P.data(x)), g, 0.0))


@method("nan_to_num")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None) -> Tensor:
    """Replace NaN by `nan` and +-inf by `posinf` / `neginf` (default: the dtype's extremes)."""
    check_tensor(input, "nan_to_num")
    a = input._data
    if a.dtype.kind in "fc":
        data = xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    else:
        data = a.copy()
    return _finish(record(NanToNumBackward0, data, (input,), save=(input,)), out, "nan_to_num")


def _predicate(name: str, np_fn, complex_error=None):
    """A bool-valued test, never recorded."""

    def fn(input) -> Tensor:
        check_tensor(input, name)
        a = input._data
        if complex_error is not None:
            _not_for(a, "c", *complex_error)
        if a.dtype.kind not in "fc":
            return Tensor._make(np_fn(a.astype(xp.float32)))
        return Tensor._make(np_fn(a))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, as a bool tensor."
    return method(name)(fn)


isnan = _predicate("isnan", xp.isnan)
isinf = _predicate("isinf", xp.isinf)
isfinite = _predicate("isfinite", xp.isfinite)
isposinf = _predicate("isposinf", xp.isposinf,
                      (RuntimeError, "isposinf does not support complex inputs."))
isneginf = _predicate("isneginf", xp.isneginf,
                      (RuntimeError, "isneginf does not support complex inputs."))
signbit = _predicate("signbit", xp.signbit,
                     (NotImplementedError, "signbit is not implemented for complex tensors."))


# --- methods and in-place forms ----------------------------------------------------------------
_ALIASES = {"arcsin": asin, "arccos": acos, "arctan": atan, "arcsinh": asinh, "arccosh": acosh,
            "arctanh": atanh}
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = _ALIASES.values()
_METHODS = {"exp": exp, "exp2": exp2, "expm1": expm1, "log": log, "log2": log2, "log10": log10,
            "log1p": log1p, "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "tan": tan,
            "asin": asin, "acos": acos, "atan": atan, "sinh": sinh, "cosh": cosh, "tanh": tanh,
            "asinh": asinh, "acosh": acosh, "atanh": atanh, "sigmoid": sigmoid, "sinc": sinc,
            "erf": erf, "erfc": erfc, "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma,
            "deg2rad": deg2rad, "rad2deg": rad2deg, "ceil": ceil, "floor": floor,
            "trunc": trunc, "fix": trunc, **_ALIASES}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.polygamma = lambda self, n: polygamma(n, self)
Tensor.polygamma_ = lambda self, n: apply_inplace(
    self, lambda t: _polygamma(n, t, PolygammaBackward1), name="polygamma_")

_INPLACE = {**_METHODS, "abs": abs, "absolute": abs, "sign": sign, "sgn": sgn, "round": round,
            "frac": frac, "square": square, "relu": relu, "clamp": clamp, "clip": clip,
            "clamp_min": clamp_min, "clamp_max": clamp_max, "nan_to_num": nan_to_num,
            "logit": logit}
for _names, _f, _op in ((("asinh", "arcsinh"), xp.arcsinh, "asinh"),
                        (("acosh", "arccosh"), xp.arccosh, "acosh"),
                        (("atanh", "arctanh"), xp.arctanh, "atanh")):
    _fn = _float_fn(_op, _f, f"{_op.capitalize()}Backward1", None, _no_inplace_derivative(_op))
    _INPLACE.update(dict.fromkeys(_names, _fn))
for _name, _fn in _INPLACE.items():
    setattr(Tensor, _name + "_", _inplace(_fn, _name + "_"))

# torch.<name>_ exists for these (not for sign, sgn, erfinv, lgamma, digamma, absolute)
_TORCH_INPLACE = [n for n in _INPLACE
                  if n not in ("sign", "sgn", "erfinv", "lgamma", "digamma", "absolute")]
for _name in _TORCH_INPLACE:
    globals()[_name + "_"] = getattr(Tensor, _name + "_")

__all__ = [
    "abs", "absolute", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "sigmoid", "relu",
    "clamp", "clip", "clamp_min", "clamp_max", "sign", "sgn", "ceil", "floor", "round", "trunc",
    "fix", "frac", "square", "erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma",
    "deg2rad", "rad2deg", "logit", "sinc", "nan_to_num",
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit",
] + [n + "_" for n in _TORCH_INPLACE]
