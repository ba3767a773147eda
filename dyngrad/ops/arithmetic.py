"""Arithmetic: + - * / // % ** and negation, with their in-place and reflected forms.

Each node's `backward` is the derivative, written with operators that work on arrays and tensors
alike; the engine reduces broadcast gradients and casts dtypes, so no formula does.
"""

from __future__ import annotations

import operator

from dyngrad._backend import _operands, xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import BACKWARD_TWICE, Node
from dyngrad.ops import _fastpath
from dyngrad.ops import _poly as P
from dyngrad.ops._core import (
    OUT,
    _scalar_value,
    binary_operands,
    check_kernel,
    check_tensor,
    float_data,
    input_needs_grad,
    method,
    record,
)
from dyngrad.ops.inplace import apply_inplace

_ndarray = xp.ndarray
_REAL = frozenset((float, int, xp.float16, xp.float32, xp.float64))  # (NumPy's 0-dim results)


def _conj(x):
    """Complex gradients use the conjugate (PyTorch's convention); real ones skip the call."""
    cls = type(x)
    if cls is _ndarray:
        return x if x.dtype.kind != "c" else x.conj()
    if cls in _REAL:
        return x
    if isinstance(x, Tensor):
        return x.conj() if x.is_complex() else x
    if isinstance(x, complex) or getattr(x, "dtype", None) is not None and x.dtype.kind == "c":
        return xp.conj(x)
    return x


# --- add / sub ---------------------------------------------------------------------------------
class AddBackward0(Node):
    alpha = 1  # set on the node only when it differs, so most nodes need no attribute dict

    def backward(self, grad):
        return grad, (grad if self.alpha == 1 else grad * self.alpha)


class SubBackward0(Node):
    alpha = 1

    def backward(self, grad):
        return grad, (-grad if self.alpha == 1 else grad * -self.alpha)


class RsubBackward0(Node):
    alpha = 1

    def backward(self, grad):
        return (-grad if self.alpha == 1 else grad * -self.alpha), grad


class RsubBackward1(Node):
    alpha = 1

    def backward(self, grad):
        return -grad if self.alpha == 1 else grad * -self.alpha


def _is_bool(v) -> bool:
    if isinstance(v, Tensor):
        return v._data.dtype.kind == "b"
    return isinstance(v, bool | xp.bool_)


def _check_bool_sub(x, y) -> None:
    """PyTorch refuses `-` with a bool operand (tensor or Python bool), before any promotion."""
    bx, by = _is_bool(x), _is_bool(y)
    if bx and by:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead."
        )
    if bx or by:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _scaled(a, b, alpha, op):
    """`op(a, alpha * b)` in the dtype of `op(a, b)`, after PyTorch's checks on alpha."""
    dt = (a if hasattr(a, "dtype") else b).dtype  # the tensor's data (an array, or vmap's)
    if isinstance(alpha, bool):
        if dt.kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and dt.kind in "biu":
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    elif isinstance(alpha, complex) and dt.kind != "c":
        raise RuntimeError(
            "For non-complex input tensors, argument alpha must not be a complex number."
        )
    data = xp.asarray(op(a, alpha * b))
    return data if data.dtype == dt else data.astype(dt)


@method("add")
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other."""
    plain = type(alpha) is int and alpha == 1
    a, b = binary_operands(input, other, "add", as_array=plain)
    if plain:
        res = record(AddBackward0, a + b, (input, other))
    else:
        res = record(AddBackward0, _scaled(a, b, alpha, xp.add), (input, other), alpha=alpha)
    return res if out is None else _out(res, out, "add")


@method("sub", "subtract")
def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other."""
    _check_bool_sub(input, other)
    plain = type(alpha) is int and alpha == 1
    a, b = binary_operands(input, other, "sub", as_array=plain)
    if plain:
        res = record(SubBackward0, a - b, (input, other))
    else:
        res = record(SubBackward0, _scaled(a, b, alpha, xp.subtract), (input, other), alpha=alpha)
    return res if out is None else _out(res, out, "sub")


subtract = sub


def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input (the reflected `scalar - tensor`)."""
    _check_bool_sub(input, other)
    a, b = binary_operands(input, other, "rsub")
    cls = RsubBackward0 if isinstance(other, Tensor) else RsubBackward1
    inputs = (input, other) if isinstance(other, Tensor) else (input,)
    if type(alpha) is int and alpha == 1:
        return record(cls, b - a, inputs)
    return record(cls, _scaled(b, a, alpha, xp.subtract), inputs, alpha=alpha)


# --- mul / div ---------------------------------------------------------------------------------
class MulBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        need_x, need_y = self._next[0][0] is not None, self._next[1][0] is not None
        return (grad * _conj(y) if need_x else None), (grad * _conj(x) if need_y else None)


def _number(node, grad):
    """The number a tensor-and-number node keeps (its saved `other`), conjugated, as a 0-dim
    array of the gradient's dtype where the gradient is a float array (NumPy takes that in half
    the time of a Python number, and NEP 50 casts the number to that dtype anyway)."""
    saved = node._saved
    if saved is None:
        raise RuntimeError(BACKWARD_TWICE)
    v = saved[1]
    if type(v) is not float and type(v) is not int:
        return _conj(v)
    if type(grad) is _ndarray:  # the forward cached it (see _fastpath), unless 0 or nan
        return _operands[grad.dtype].get(v, v)
    return v


class _MulByScalarBackward(Node):
    """`tensor * number`: PyTorch's MulBackward0, the number kept as its saved `other`."""

    _saved_names = ("self", "other")

    def backward(self, grad):
        return grad * _number(self, grad), None


_MulByScalarBackward.__name__ = _MulByScalarBackward.__qualname__ = "MulBackward0"


@method("mul", "multiply")
def mul(input, other, *, out=None) -> Tensor:
    """input * other, elementwise with broadcasting."""
    a, b = binary_operands(input, other, "mul", as_array=True)
    if isinstance(input, Tensor) and not isinstance(other, Tensor):
        res = record(_MulByScalarBackward, a * b, (input, other), save=(None, other))
        return res if out is None else _out(res, out, "mul")
    # Each input's gradient needs only the *other* input: save just that, as PyTorch does, so an
    # in-place change to a value that is not needed raises no error at backward.
    save = (input if input_needs_grad(other) else None, other if input_needs_grad(input) else None)
    res = record(MulBackward0, a * b, (input, other), save=save)
    return res if out is None else _out(res, out, "mul")


multiply = mul


class DivBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        gx = grad / _conj(y)
        if self._next[1][0] is None:
            return gx, None
        return gx, -gx * _conj(x) / _conj(y)


class _DivByScalarBackward(Node):
    """`tensor / number`: PyTorch's DivBackward0, the number kept as its saved `other`."""

    _saved_names = ("self", "other")

    def backward(self, grad):
        return grad / _number(self, grad), None


class DivBackward1(Node):
    """div.Scalar: what PyTorch's own C++ kernels (losses, norms) record for `tensor / number`."""

    def backward(self, grad):
        return grad / self.other


def div_scalar(input: Tensor, other) -> Tensor:
    """input / a Python number, recorded as PyTorch's internal kernels record it."""
    a, b = binary_operands(input, other, "div", to_float=True)
    return record(DivBackward1, a / b, (input,), other=b)


_DivByScalarBackward.__name__ = _DivByScalarBackward.__qualname__ = "DivBackward0"


class DivBackward2(Node):
    """div with a `rounding_mode` keyword: zero gradient when rounding, the quotient's for None."""

    _saved_names = ("self", "other")
    rounding_mode = None

    def backward(self, grad):
        if self.rounding_mode is None:
            return DivBackward0.backward(self, grad)
        return tuple(None if n is None else P.zeros_like(grad) for n, _ in self._next)


_NO_MODE = "no rounding_mode given"  # PyTorch picks another overload when the keyword is passed


@method("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=_NO_MODE, out=None) -> Tensor:
    """input / other; `rounding_mode` 'trunc' or 'floor' rounds the quotient (no gradient)."""
    if rounding_mode is not _NO_MODE:
        return _div_mode(input, other, rounding_mode, out)
    a, b = binary_operands(input, other, "div", to_float=True, as_array=True)
    if isinstance(other, Tensor):
        save = (input if input_needs_grad(other) else None, other)
        res = record(DivBackward0, a / b, (input, other), save=save)
    else:
        res = record(_DivByScalarBackward, a / b, (input, other),
                     save=(None, _scalar_value(other)))
    return res if out is None else _out(res, out, "div")


divide = true_divide = div


def _div_mode(input, other, mode, out) -> Tensor:
    if mode is None:
        a, b = binary_operands(input, other, "div", to_float=True)
        res = record(DivBackward2, a / b, (input, other), save=(input, other))
        return res if out is None else _out(res, out, "div")
    if mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{mode}'"
        )
    a, b = binary_operands(input, other, "div")
    dt = _result_np_dtype(a, b)
    check_kernel(dt, "bc", f"div_{mode}_cpu")
    _check_int_division(dt, a, b)
    if mode == "floor":
        q = xp.floor_divide(a, b)
    elif dt.kind in "iu":
        q = xp.trunc(xp.true_divide(a, b)).astype(dt)
        q = xp.where(xp.abs(b) == 1, a * b, q) if xp.ndim(b) == 0 else q
    else:
        q = xp.trunc(a / b)
    res = record(DivBackward2, q, (input, other), rounding_mode=mode)
    return res if out is None else _out(res, out, "div")


def _result_np_dtype(a, b):
    """The dtype of an op on binary_operands' results (one of them is an array)."""
    return a.dtype if type(a) is xp.ndarray else xp.asarray(b).dtype


def _check_int_division(dt, a, b) -> None:
    """PyTorch's error for an integer division by zero (none when the result is empty)."""
    if dt.kind in "iu" and xp.size(a) and xp.size(b) and xp.any(xp.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")


class ReciprocalBackward0(Node):
    _saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        return -grad * _conj(y * y)


@method("reciprocal")
def reciprocal(input) -> Tensor:
    """1 / input."""
    a = float_data(input)
    return record(ReciprocalBackward0, xp.reciprocal(a), (input,), save=(OUT,))


def rdiv(input, other) -> Tensor:
    """`scalar / tensor`, recorded as PyTorch does: reciprocal(tensor) * scalar."""
    return mul(reciprocal(input), other)


# --- floor division and remainder --------------------------------------------------------------
class NotImplemented(Node):  # noqa: A001 - PyTorch's node name for ops without a derivative
    op = "floor_divide"

    def backward(self, grad):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


def _tensors(*values) -> tuple:
    return tuple(v for v in values if isinstance(v, Tensor))


@method("floor_divide")
def floor_divide(input, other, *, out=None) -> Tensor:
    """input // other, rounded towards minus infinity (PyTorch records no usable derivative)."""
    a, b = binary_operands(input, other, "floor_divide")
    dt = _result_np_dtype(a, b)
    check_kernel(dt, "bc", "div_floor_cpu")
    _check_int_division(dt, a, b)
    res = record(NotImplemented, xp.floor_divide(a, b), _tensors(input, other))
    return res if out is None else _out(res, out, "floor_divide")


class RemainderBackward0(Node):
    def backward(self, grad):
        return grad


class RemainderBackward1(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        return grad, -grad * P.floor(x / y)


@method("remainder")
def remainder(input, other, *, out=None) -> Tensor:
    """Python-style modulus: the result has the sign of `other`."""
    a, b = binary_operands(input, other, "remainder")
    dt = _result_np_dtype(a, b)
    check_kernel(dt, "bc", "remainder_cpu")
    _check_int_division(dt, a, b)
    data = xp.remainder(a, b)
    if not isinstance(input, Tensor):  # number % tensor: PyTorch has no derivative for it
        res = record(NotImplemented, data, (other,), op="remainder")
    elif isinstance(other, Tensor):
        res = record(RemainderBackward1, data, (input, other), save=(input, other))
    else:
        res = record(RemainderBackward0, data, (input,))
    return res if out is None else _out(res, out, "remainder")


# --- pow ---------------------------------------------------------------------------------------
class PowBackward0(Node):
    """x ** c for a scalar c: c * x ** (c - 1)."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        c = self.exponent
        if c == 0:
            return P.zeros_like(grad)
        return grad * _conj(c * x ** (c - 1))


class PowBackward1(Node):
    """x ** y for tensors: (y * x ** (y - 1), x ** y * log x), with 0 where x == 0 and y >= 0."""

    _saved_names = ("self", "exponent", "result")

    def backward(self, grad):
        x, y, out = self.saved_tensors
        gx = grad * _conj(P.where(P.data(y) == 0, 0.0, y * x ** (y - 1)))
        if self._next[1][0] is None:
            return gx, None
        safe = (P.data(x) == 0) & (P.data(y) >= 0)
        gy = grad * _conj(P.where(safe, 0.0, out * P.log(P.where(safe, 1.0, x))))
        return gx, gy


class PowBackward2(Node):
    """c ** y for a scalar base c: c ** y * log c."""

    _saved_names = ("result",)

    def backward(self, grad):
        (out,) = self.saved_tensors
        c = self.self
        if c == 0:  # 0 ** y: zero gradient where y >= 0 (result 0 or 1), as PyTorch defines it
            return P.where(P.data(out) <= 1, 0.0, grad * out * xp.log(c + 0j).real)
        return grad * _conj(out * xp.log(complex(c)) if isinstance(c, complex) else out
                            * float(xp.log(c)))


def _check_scalar_exponent(a, e) -> None:
    if a.dtype.kind in "iu" and isinstance(e, int) and not isinstance(e, bool):
        if e < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if e > xp.iinfo(a.dtype).max:
            raise RuntimeError(
                f"value cannot be converted to type {a.dtype.name}_t without overflow"
            )


def _power(a, b):
    """a ** b with PyTorch's integer rule: a negative exponent gives 0, except for bases 1 and -1
    (NumPy refuses negative integer powers)."""
    dt = _result_np_dtype(a, b)
    if dt.kind in "iu":
        neg = xp.asarray(b) < 0
        if neg.any():
            ones = xp.where(xp.asarray(b) % 2 == 0, 1, -1)
            special = xp.where(xp.asarray(a) == 1, 1, xp.where(xp.asarray(a) == -1, ones, 0))
            return xp.where(neg, special, xp.power(a, xp.where(neg, 0, b))).astype(dt)
    return xp.power(a, b)  # FP warnings are filtered (see dyngrad/_backend.py)


def _no_bool_pow(a, b) -> None:
    if _result_np_dtype(a, b).kind == "b":
        raise NotImplementedError('"pow" not implemented for \'Bool\'')


@method("pow")
def pow(input, exponent, *, out=None) -> Tensor:  # noqa: A001 - torch.pow
    """input ** exponent; either side may be a scalar."""
    a, b = binary_operands(input, exponent, "pow")
    if not isinstance(input, Tensor):
        _no_bool_pow(a, b)
        res = record(PowBackward2, _power(a, b), (exponent,), save=(OUT,), self=input)
    elif isinstance(exponent, Tensor):
        _no_bool_pow(a, b)
        res = record(PowBackward1, _power(a, b), (input, exponent), save=(input, exponent, OUT))
    else:
        _check_scalar_exponent(a, exponent)
        if exponent == 2 and type(exponent) is not bool:
            data = a * a
        else:
            data = _power(a, b)
            if a.dtype.kind == "b":  # bool ** bool stays bool (x ** True is x)
                data = data.astype(xp.bool_)
        res = record(PowBackward0, data, (input,), save=(input,), exponent=exponent)
    return res if out is None else _out(res, out, "pow")


def float_power(input, exponent) -> Tensor:
    """pow computed in double precision (complex128 for complex inputs)."""
    from dyngrad import _dtype

    def up(v):
        if isinstance(v, Tensor):
            return v.to(_dtype.complex128 if v.is_complex() else _dtype.float64)
        return v

    return pow(up(input), up(exponent))


# --- negation ----------------------------------------------------------------------------------
class NegBackward0(Node):
    def backward(self, grad):
        return -grad


@method("neg", "negative")
def neg(input, *, out=None) -> Tensor:
    """-input."""
    check_tensor(input, "neg")
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    res = record(NegBackward0, -input._data, (input,))
    return res if out is None else _out(res, out, "neg")


negative = neg
Tensor.__neg__ = _fastpath.unary(neg, NegBackward0, operator.neg, None)


@method("positive", "__pos__")
def positive(input) -> Tensor:
    """+input: the input itself (not a copy), as PyTorch returns it."""
    check_tensor(input, "positive")
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _out(result: Tensor, out, fname: str) -> Tensor:
    """Support `out=`: write the result into `out` (resizing it as PyTorch does)."""
    if result._grad_fn is not None:
        raise RuntimeError(
            f"{fname}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    if out._data.shape != result._data.shape:
        out._data = xp.empty(result._data.shape, out._data.dtype)
    from dyngrad.ops.inplace import write

    write(out, result, "out=")
    return out


# --- operators and in-place forms --------------------------------------------------------------
# (commutative: the reflected form is the same call)
Tensor.__add__ = Tensor.__radd__ = _fastpath.binary(add, AddBackward0, operator.add, None)
Tensor.__sub__ = _fastpath.binary(sub, SubBackward0, operator.sub, None)
Tensor.__rsub__ = rsub
Tensor.__mul__ = Tensor.__rmul__ = _fastpath.binary(mul, MulBackward0, operator.mul, "cross",
                                                    _MulByScalarBackward)
Tensor.__truediv__ = _fastpath.binary(div, DivBackward0, operator.truediv, "div",
                                      _DivByScalarBackward)
Tensor.__rtruediv__ = Tensor.__rdiv__ = rdiv
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda self, other: remainder(other, self)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, base: pow(base, self)
Tensor.__abs__ = lambda self: self.abs()
Tensor.__array_priority__ = 1000  # `numpy_scalar * tensor` defers to the tensor, as in PyTorch


def _inplace(fn, name: str):
    def method_(self, *args, **kwargs):
        return apply_inplace(self, fn, *args, name=name, **kwargs)

    method_.__name__ = name
    return method_


for _name, _fn in (("add_", add), ("sub_", sub), ("subtract_", sub), ("mul_", mul),
                   ("multiply_", mul), ("div_", div), ("divide_", div), ("true_divide_", div),
                   ("floor_divide_", floor_divide), ("remainder_", remainder), ("pow_", pow),
                   ("neg_", neg), ("negative_", neg), ("reciprocal_", reciprocal),
                   ("float_power_", float_power)):
    setattr(Tensor, _name, _inplace(_fn, _name))

Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__imod__ = Tensor.remainder_
Tensor.__ipow__ = Tensor.pow_
Tensor.float_power = float_power
