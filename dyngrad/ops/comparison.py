"""Comparisons, logical and bitwise ops, `where`, and elementwise functions of two tensors
(maximum/minimum, atan2, hypot, logaddexp, xlogy, lerp, addcmul, addcdiv, ...).

Comparisons and logical ops give bool tensors that never require grad. The differentiable binary
functions follow PyTorch's formulas and conventions: `maximum` splits the gradient of a tie
evenly, `fmax` gives it to the input, `where` routes it by the (never differentiated) condition.
"""

from __future__ import annotations

import warnings

from dyngrad._backend import quiet, xp
from dyngrad._tensor import Tensor, _c_name
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import (
    OUT,
    _scalar_value,
    binary_operands,
    check_broadcast,
    check_tensor,
    method,
    record,
    result_dtype,
)
from dyngrad.ops.arithmetic import NotImplemented as NoDerivative
from dyngrad.ops.arithmetic import _conj, _inplace, _out
from dyngrad.ops.inplace import apply_inplace, check_inplace, write
from dyngrad.ops.unary import _kernel, _not_for, _short

_NUMBERS = (bool, int, float, complex, xp.generic)
_OPERANDS = (Tensor, *_NUMBERS)


def _finish(res: Tensor, out, name: str) -> Tensor:
    return res if out is None else _out(res, out, name)


def _both_tensors(name: str, input, other, arg: str = "other") -> None:
    check_tensor(input, name)
    check_tensor(other, name, arg, 2)


# --- comparisons -------------------------------------------------------------------------------
class _ZeroGrad(Node):
    """An in-place comparison (`x.lt_(y)`): PyTorch records it, with a zero gradient."""

    def backward(self, grad):
        return tuple(None if n is None else P.zeros_like(grad) for n, _ in self._next)


def _comparison(name: str, np_op, ordered: bool):
    """`name(input, other, *, out=None)` -> bool tensor; `ordered` ones refuse complex input."""

    def fn(input, other, *, out=None):
        check_tensor(input, name)
        a, b = binary_operands(input, other, name)
        if ordered:
            _not_for(a, "c", NotImplementedError, _kernel(f"{name}_cpu"))
        return _finish(Tensor._make(xp.asarray(np_op(a, b))), out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `{name}` after PyTorch's type promotion, as a bool tensor."
    stem = name.capitalize()
    nodes = (type(f"{stem}Backward0", (_ZeroGrad,), {}), type(f"{stem}Backward1", (_ZeroGrad,), {}))

    def inplace(self, other):
        def op(t, o):
            data = fn(t, o)._data.astype(t._data.dtype)
            if isinstance(o, Tensor):
                return record(nodes[1], data, (t, o))
            return record(nodes[0], data, (t,))

        return apply_inplace(self, op, other, name=f"{name}_")

    return fn, inplace


def _dunder(fn):
    """An operator: anything but a tensor or a number gives NotImplemented (so `t == None` is
    False and `t < 'a'` raises Python's TypeError)."""

    def op(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return fn(self, other)

    return op


eq, _eq_ = _comparison("eq", xp.equal, False)
ne, _ne_ = _comparison("ne", xp.not_equal, False)
lt, _lt_ = _comparison("lt", xp.less, True)
le, _le_ = _comparison("le", xp.less_equal, True)
gt, _gt_ = _comparison("gt", xp.greater, True)
ge, _ge_ = _comparison("ge", xp.greater_equal, True)
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge
for _names, _fn, _fn_ in ((("eq",), eq, _eq_), (("ne", "not_equal"), ne, _ne_),
                          (("lt", "less"), lt, _lt_), (("le", "less_equal"), le, _le_),
                          (("gt", "greater"), gt, _gt_), (("ge", "greater_equal"), ge, _ge_)):
    for _name in _names:
        setattr(Tensor, _name, _fn)
        setattr(Tensor, _name + "_", _fn_)
Tensor.__eq__, Tensor.__ne__ = _dunder(eq), _dunder(ne)
Tensor.__lt__, Tensor.__le__ = _dunder(lt), _dunder(le)
Tensor.__gt__, Tensor.__ge__ = _dunder(gt), _dunder(ge)


@method("equal")
def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements (compared after promotion)."""
    _both_tensors("equal", input, other)
    if input._data.shape != other._data.shape:
        return False
    a, b = binary_operands(input, other, "equal")
    return bool(xp.array_equal(a, b))


def _check_close_args(input, other, rtol, atol) -> None:
    _both_tensors("isclose", input, other)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{_short(input._data)} did not match {_short(other._data)}")
    check_broadcast(input._data.shape, other._data.shape)
    for name, v in (("rtol", rtol), ("atol", atol)):
        if v < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {v:g}")


@method("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (equal infinities are close)."""
    _check_close_args(input, other, rtol, atol)
    a, b = input._data, other._data
    if a.dtype.kind == "b":
        return Tensor._make(xp.asarray(a == b))
    close = quiet(lambda: xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    return Tensor._make(xp.asarray(close))


@method("allclose")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True if every element of input is close to other's (see `isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


# --- logical and bitwise -----------------------------------------------------------------------
def _logical(name: str, np_op):
    def fn(input, other, *, out=None):
        _both_tensors(name, input, other)
        check_broadcast(input._data.shape, other._data.shape)
        return _finish(Tensor._make(xp.asarray(np_op(input._data, other._data))), out, name)

    def inplace(self, other):
        # PyTorch writes the result without recording anything: the history stays as it was.
        check_inplace(self, (other,))
        write(self, fn(self, other), f"{name}_")
        return self

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} of the truth values (nonzero is True), as a bool tensor."
    setattr(Tensor, name, fn)
    setattr(Tensor, name + "_", inplace)
    return fn


logical_and = _logical("logical_and", xp.logical_and)
logical_or = _logical("logical_or", xp.logical_or)
logical_xor = _logical("logical_xor", xp.logical_xor)


@method("logical_not")
def logical_not(input, *, out=None) -> Tensor:
    """Elementwise not of the truth values, as a bool tensor."""
    check_tensor(input, "logical_not")
    return _finish(Tensor._make(xp.asarray(xp.logical_not(input._data))), out, "logical_not")


def _logical_not_(self):
    check_inplace(self, ())
    write(self, logical_not(self), "logical_not_")
    return self


Tensor.logical_not_ = _logical_not_


def _bitwise(name: str, np_op, symbol: str):
    def fn(input, other, *, out=None):
        if not isinstance(input, Tensor):
            check_tensor(other, name, "other", 2)  # a number first is fine, as in PyTorch
        a, b = binary_operands(input, other, name)
        dt = a.dtype if isinstance(input, Tensor) else xp.asarray(b).dtype
        if dt.kind not in "biu":
            raise NotImplementedError(_kernel(f"{name}_cpu").format(_short(xp.empty(0, dt))))
        return _finish(Tensor._make(xp.asarray(np_op(a, b))), out, name)

    def op(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return fn(self, other)

    def rop(self, other):
        if not isinstance(other, _NUMBERS):
            return NotImplemented
        return fn(other, self)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `{symbol}` of integer or bool tensors."
    setattr(Tensor, name, fn)
    setattr(Tensor, name + "_", _inplace(fn, name + "_"))
    setattr(Tensor, f"__{symbol}__", op)
    setattr(Tensor, f"__r{symbol}__", rop)
    setattr(Tensor, f"__i{symbol}__", getattr(Tensor, name + "_"))
    return fn


bitwise_and = _bitwise("bitwise_and", xp.bitwise_and, "and")
bitwise_or = _bitwise("bitwise_or", xp.bitwise_or, "or")
bitwise_xor = _bitwise("bitwise_xor", xp.bitwise_xor, "xor")


@method("bitwise_not")
def bitwise_not(input, *, out=None) -> Tensor:
    """Elementwise `~`: logical not for bool tensors, two's-complement not for integers."""
    check_tensor(input, "bitwise_not")
    a = input._data
    _not_for(a, "fc", NotImplementedError, _kernel("bitwise_not_cpu"))
    return _finish(Tensor._make(xp.invert(a)), out, "bitwise_not")


def _invert(self) -> Tensor:
    if self._data.dtype.kind not in "biu":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return bitwise_not(self)


Tensor.__invert__ = _invert
Tensor.bitwise_not_ = _inplace(bitwise_not, "bitwise_not_")


# --- where -------------------------------------------------------------------------------------
class WhereBackward0(Node):
    _saved_names = ("condition",)

    def backward(self, grad):
        (c,) = self.saved_tensors
        c = P.data(c)
        need_x, need_y = (n is not None for n, _ in self._next)
        return (P.where(c, grad, 0.0) if need_x else None,
                P.where(c, 0.0, grad) if need_y else None)


def _where_value(v, name: str, pos: int, out):
    """A tensor, or a number (not with out=, which only PyTorch's all-tensor form takes)."""
    if isinstance(v, Tensor):
        return v
    v = _scalar_value(v)
    if not isinstance(v, bool | int | float | complex) or out is not None:
        raise TypeError(f"where(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(v).__name__}")
    return v


@method("where")
def _where_method(self, condition, other) -> Tensor:
    return where(condition, self, other)


def where(condition, input=None, other=None, *, out=None):
    """input where condition else other (scalars allowed, promoted as in PyTorch); with only a
    condition, the indices of its nonzero elements (one tensor per dimension)."""
    check_tensor(condition, "where", "condition")
    c = condition._data
    if input is None and other is None:
        return tuple(Tensor._make(i) for i in xp.nonzero(xp.atleast_1d(c)))
    if c.dtype == xp.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and "
                      "will be removed in a future version of PyTorch. Use a boolean condition "
                      "instead.", UserWarning, stacklevel=2)
        c = c.astype(bool)
    elif c.dtype != xp.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_short(c)}")
    input, other = _where_value(input, "input", 2, out), _where_value(other, "other", 3, out)
    dt = result_dtype(input, other).np
    shape = c.shape
    values = []
    for v in (input, other):
        if isinstance(v, Tensor):
            check_broadcast(shape, v._data.shape)
            shape = xp.broadcast_shapes(shape, v._data.shape)
            v = v._data.astype(dt, copy=False)
        values.append(v)
    data = xp.where(c, *values)
    if data.dtype != dt:
        data = data.astype(dt)
    return _finish(record(WhereBackward0, data, (input, other), save=(condition,)), out, "where")


# --- maximum, minimum, fmax, fmin --------------------------------------------------------------
class MaximumBackward0(Node):
    """A tie splits the gradient evenly between the two inputs."""

    _saved_names = ("self", "other")
    _pick = staticmethod(xp.greater)

    def backward(self, grad):
        x, y = (P.data(v) for v in self.saved_tensors)
        half = P.where(x == y, grad * 0.5, grad)
        return P.where(self._pick(y, x), 0.0, half), P.where(self._pick(x, y), 0.0, half)


class MinimumBackward0(MaximumBackward0):
    _pick = staticmethod(xp.less)


class FmaxBackward0(Node):
    """The gradient goes to the input that fmax returns (the input on a tie, the non-NaN one)."""

    _saved_names = ("self", "other")
    _keep = staticmethod(xp.greater_equal)

    def backward(self, grad):
        x, y = (P.data(v) for v in self.saved_tensors)
        to_x = self._keep(x, y) | xp.isnan(y)
        return P.where(to_x, grad, 0.0), P.where(to_x, 0.0, grad)


class FminBackward0(FmaxBackward0):
    _keep = staticmethod(xp.less_equal)


def _extremum(name: str, np_op, node):
    def fn(input, other, *, out=None):
        _both_tensors(name, input, other)
        if input.is_complex() or other.is_complex():  # checked before the shapes, as PyTorch
            raise RuntimeError(f"{name} not implemented for complex tensors.")
        a, b = binary_operands(input, other, name)
        res = record(node, np_op(a, b), (input, other), save=(input, other))
        return _finish(res, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} of two tensors."
    return method(name)(fn)


maximum = _extremum("maximum", xp.maximum, MaximumBackward0)
minimum = _extremum("minimum", xp.minimum, MinimumBackward0)
fmax = _extremum("fmax", xp.fmax, FmaxBackward0)
fmin = _extremum("fmin", xp.fmin, FminBackward0)


# --- heaviside and copysign --------------------------------------------------------------------
@method("heaviside")
def heaviside(input, values, *, out=None) -> Tensor:
    """0 where input < 0, 1 where input > 0, `values` where input == 0 (NaN gives 0)."""
    _both_tensors("heaviside", input, values, "values")
    a, v = input._data, values._data
    if a.dtype.kind == "c" or v.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if a.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    check_broadcast(a.shape, v.shape)
    data = xp.where(a == 0, v, a > 0).astype(a.dtype)
    return _finish(record(NoDerivative, data, (input, values), op="heaviside"), out, "heaviside")


class CopysignBackward0(Node):
    """|input| with other's sign: the gradient is grad * sign flip, 0 where input is 0."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        x, y = self.saved_tensors
        ratio = quiet(lambda: y / x)  # 0 / 0 where input is 0, masked as PyTorch masks it
        gx = grad * P.where(P.data(x) == 0, 0.0, ratio)
        return gx if len(self._next) == 1 else (gx, P.zeros_like(grad))


class CopysignBackward1(CopysignBackward0):
    """copysign with a scalar `other`."""


@method("copysign")
def copysign(input, other, *, out=None) -> Tensor:
    """|input| with the sign of other (a tensor or number); the result is floating point."""
    check_tensor(input, "copysign")
    a, b = binary_operands(input, other, "copysign", to_float=True)
    _not_for(a, "c", NotImplementedError, _kernel("copysign_cpu"))
    data = xp.copysign(a, b)
    if isinstance(other, Tensor):
        res = record(CopysignBackward0, data, (input, other), save=(input, OUT))
    else:
        res = record(CopysignBackward1, data, (input,), save=(input, OUT))
    return _finish(res, out, "copysign")


# --- atan2, hypot, logaddexp -------------------------------------------------------------------
def _float_pair(name: str, input, other, kernel: str | None):
    """Both operands as floats; `kernel` set: PyTorch refuses non-float results by that name."""
    _both_tensors(name, input, other)
    a, b = binary_operands(input, other, name, to_float=kernel is None)
    if kernel is not None:
        _not_for(a, "biu", NotImplementedError, _kernel(kernel))
    return a, b


class Atan2Backward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        r = grad / (x * x + y * y)
        return r * y, r * -x


@method("atan2", "arctan2")
def atan2(input, other, *, out=None) -> Tensor:
    """The angle of the point (other, input): atan(input / other) in the right quadrant."""
    a, b = _float_pair("atan2", input, other, None)
    _not_for(a, "c", NotImplementedError, _kernel("atan2_cpu"))
    res = record(Atan2Backward0, xp.arctan2(a, b), (input, other), save=(input, other))
    return _finish(res, out, "atan2")


arctan2 = atan2


class HypotBackward0(Node):
    _saved_names = ("self", "other", "result")

    def backward(self, grad):
        x, y, r = self.saved_tensors
        return grad * x / r, grad * y / r


@method("hypot")
def hypot(input, other, *, out=None) -> Tensor:
    """sqrt(input**2 + other**2), without overflow."""
    a, b = _float_pair("hypot", input, other, "hypot_cpu")
    _not_for(a, "c", NotImplementedError, _kernel("hypot_cpu"))
    res = record(HypotBackward0, xp.hypot(a, b), (input, other), save=(input, other, OUT))
    return _finish(res, out, "hypot")


class LogaddexpBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        return grad / _conj(1 + P.exp(y - x)), grad / _conj(1 + P.exp(x - y))


class Logaddexp2Backward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        return grad / (1 + 2 ** (y - x)), grad / (1 + 2 ** (x - y))


@method("logaddexp")
def logaddexp(input, other, *, out=None) -> Tensor:
    """log(exp(input) + exp(other)), computed without overflow."""
    a, b = _float_pair("logaddexp", input, other, "logaddexp_cpu")
    if a.dtype.kind == "c":
        data = quiet(lambda: xp.log(xp.exp(a) + xp.exp(b)))
    else:
        data = xp.logaddexp(a, b)
    res = record(LogaddexpBackward0, data, (input, other), save=(input, other))
    return _finish(res, out, "logaddexp")


@method("logaddexp2")
def logaddexp2(input, other, *, out=None) -> Tensor:
    """log2(2**input + 2**other), computed without overflow."""
    a, b = _float_pair("logaddexp2", input, other, "logaddexp2_cpu")
    _not_for(a, "c", NotImplementedError, _kernel("logaddexp2_cpu"))
    res = record(Logaddexp2Backward0, xp.logaddexp2(a, b), (input, other), save=(input, other))
    return _finish(res, out, "logaddexp2")


# --- xlogy -------------------------------------------------------------------------------------
def _xlogy_grad(grad, x, y):
    """d xlogy / d input: xlogy(grad, other), but 0 where input == 0 and other <= 0."""
    g, yd = P.data(grad), P.data(y)
    zero = ((g == 0) & ~xp.isnan(yd)) | ((P.data(x) == 0) & (yd <= 0))
    return P.where(zero, 0.0, grad * quiet(P.log, y))


def _xlogy_tangent(tx, x, y):
    """PyTorch's forward formula: xlogy(tx, y), 0 where x == 0 and y <= 0. (Its backward
    formula masks by the gradient's values, which the double-vjp trick sets to 0.)"""
    return P.where((P.data(x) == 0) & (P.data(y) <= 0), 0.0, xlogy(tx, y))


class XlogyBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        return _xlogy_grad(grad, x, y), quiet(lambda: grad * x / y)  # NaN at 0 / 0, silently

    def jvp(self, tx, ty):
        x, y = self.saved_tensors
        out = None if tx is None else _xlogy_tangent(tx, x, y)
        if ty is not None:
            dy = quiet(lambda: ty * x / y)
            out = dy if out is None else out + dy
        return out


class XlogyBackward1(Node):
    """xlogy with a scalar `self`."""

    _saved_names = ("other",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad * self.self / y


class XlogyBackward2(Node):
    """xlogy with a scalar `other`."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return _xlogy_grad(grad, x, xp.float64(self.other))

    def jvp(self, tx):
        (x,) = self.saved_tensors
        return _xlogy_tangent(tx, x, self.other)


@method("xlogy")
def xlogy(input, other, *, out=None) -> Tensor:
    """input * log(other), and 0 where input == 0 (unless other is NaN)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        check_tensor(input, "xlogy")
    a, b = binary_operands(input, other, "xlogy", to_float=True)
    _not_for(xp.asarray(a), "c", NotImplementedError, _kernel("xlogy_cpu"))
    data = quiet(lambda: xp.where((a == 0) & ~xp.isnan(b), 0, a * xp.log(b)))
    data = data.astype(xp.result_type(a, b), copy=False)
    if not isinstance(input, Tensor):
        res = record(XlogyBackward1, data, (other,), save=(other,), self=input)
    elif not isinstance(other, Tensor):
        res = record(XlogyBackward2, data, (input,), save=(input,), other=other)
    else:
        res = record(XlogyBackward0, data, (input, other), save=(input, other))
    return _finish(res, out, "xlogy")


# --- lerp, addcmul, addcdiv --------------------------------------------------------------------
class LerpBackward0(Node):
    """lerp with a scalar weight."""

    def backward(self, grad):
        w = self.weight
        return grad * (1 - w), grad * w


class LerpBackward1(Node):
    _saved_names = ("self", "end", "weight")

    def backward(self, grad):
        x, end, w = self.saved_tensors
        return grad * (1 - w), grad * w, grad * (end - x)


def _check_same_dtype(input, other, arg: str) -> None:
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input.dtype)} for `{arg}` but got dtype "
                           f"{_c_name(other.dtype)}")


@method("lerp")
def lerp(input, end, weight, *, out=None) -> Tensor:
    """input + weight * (end - input), computed from the nearer end for accuracy."""
    _both_tensors("lerp", input, end, "end")
    _check_same_dtype(input, end, "end")
    tensor_w = isinstance(weight, Tensor)
    if tensor_w and weight._data.ndim:
        _check_same_dtype(input, weight, "weight")
    a, b = input._data, end._data
    _not_for(a, "biu", NotImplementedError,
             _kernel("lerp_kernel_tensor" if tensor_w else "lerp_kernel_scalar"))
    check_broadcast(a.shape, b.shape)
    w = weight._data.astype(a.dtype, copy=False) if tensor_w else weight
    if tensor_w:
        check_broadcast(xp.broadcast_shapes(a.shape, b.shape), w.shape)
    diff = b - a
    data = xp.where(xp.abs(w) < 0.5, a + w * diff, b - diff * (1 - w)).astype(a.dtype, copy=False)
    if tensor_w:
        res = record(LerpBackward1, data, (input, end, weight), save=(input, end, weight))
    else:
        res = record(LerpBackward0, data, (input, end), weight=weight)
    return _finish(res, out, "lerp")


def _addc_operands(name: str, input, tensor1, tensor2, value):
    check_tensor(input, name)
    check_tensor(tensor1, name, "tensor1", 2)
    check_tensor(tensor2, name, "tensor2", 3)
    shape = input._data.shape
    for t in (tensor1, tensor2):
        check_broadcast(shape, t._data.shape)
        shape = xp.broadcast_shapes(shape, t._data.shape)
    dt = result_dtype(input, tensor1, tensor2).np
    if isinstance(value, Tensor):
        value = value.item()
    value = dt.type(value).item() if dt.kind in "iu" else value
    return (*(t._data.astype(dt, copy=False) for t in (input, tensor1, tensor2)), value)


class AddcmulBackward0(Node):
    _saved_names = ("tensor1", "tensor2")

    def backward(self, grad):
        t1, t2 = self.saved_tensors
        return grad, grad * _conj(t2 * self.value), grad * _conj(t1 * self.value)


@method("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """input + value * tensor1 * tensor2."""
    a, b, c, value = _addc_operands("addcmul", input, tensor1, tensor2, value)
    _not_for(a, "b", NotImplementedError, _kernel("addcmul_cpu_out"))
    res = record(AddcmulBackward0, a + value * (b * c), (input, tensor1, tensor2),
                 save=(tensor1, tensor2), value=value)
    return _finish(res, out, "addcmul")


class AddcdivBackward0(Node):
    _saved_names = ("tensor1", "tensor2")

    def backward(self, grad):
        t1, t2 = self.saved_tensors
        g1 = grad * self.value / _conj(t2)
        return grad, g1, -g1 * _conj(t1 / t2)


@method("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """input + value * tensor1 / tensor2 (a true division, so integer operands are refused)."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes."
        )
    a, b, c, value = _addc_operands("addcdiv", input, tensor1, tensor2, value)
    data = quiet(lambda: a + value * (b / c))
    res = record(AddcdivBackward0, data, (input, tensor1, tensor2), save=(tensor1, tensor2),
                 value=value)
    return _finish(res, out, "addcdiv")


# --- isin --------------------------------------------------------------------------------------
def _isin_error(elements, test_elements) -> TypeError:
    return TypeError(
        f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
        f"{type(test_elements).__name__}), but expected one of:\n"
        " * (Tensor elements, Tensor test_elements, *, bool assume_unique = False, bool invert = "
        "False, Tensor out = None)\n"
        " * (Number element, Tensor test_elements, *, bool assume_unique = False, bool invert = "
        "False, Tensor out = None)\n"
        " * (Tensor elements, Number test_element, *, bool assume_unique = False, bool invert = "
        "False, Tensor out = None)\n"
    )


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False,
         out=None) -> Tensor:
    """Whether each element of `elements` occurs in `test_elements` (compared in their promoted
    dtype; NaN is never found). Either may be a number, not both."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise _isin_error(elements, test_elements)
    dt = result_dtype(elements, test_elements).np
    a, b = (xp.asarray(v._data if isinstance(v, Tensor) else v).astype(dt, copy=False)
            for v in (elements, test_elements))
    if dt.kind in "bc":
        raise RuntimeError("Unsupported input type encountered for isin(): "
                           f"{_short(xp.empty(0, dt))}")
    found = xp.isin(a, b, assume_unique=assume_unique, invert=invert)
    return _finish(Tensor._make(xp.asarray(found)), out, "isin")


# --- in-place forms ----------------------------------------------------------------------------
for _name, _fn in (("copysign_", copysign), ("atan2_", atan2), ("arctan2_", atan2),
                   ("hypot_", hypot), ("xlogy_", xlogy), ("heaviside_", heaviside),
                   ("lerp_", lerp), ("addcmul_", addcmul), ("addcdiv_", addcdiv)):
    setattr(Tensor, _name, _inplace(_fn, _name))
xlogy_ = Tensor.xlogy_

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "equal", "isclose", "allclose", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "where", "maximum",
    "minimum", "fmax", "fmin", "heaviside", "copysign", "atan2", "arctan2", "hypot", "logaddexp",
    "logaddexp2", "xlogy", "xlogy_", "lerp", "addcmul", "addcdiv", "isin",
]
