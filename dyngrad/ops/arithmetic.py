"""Arithmetic: + - * / // % ** and negation, with their in-place and reflected forms.

Each node's `backward` is the derivative, written with operators that work on arrays and tensors
alike; the engine reduces broadcast gradients and casts dtypes, so no formula does.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import binary_operands, check_tensor, method, record
from dyngrad.ops.inplace import apply_inplace


def _conj(x):
    """Complex gradients use the conjugate (PyTorch's convention); real ones skip the call."""
    cls = type(x)
    if cls is xp.ndarray:
        return x if x.dtype.kind != "c" else x.conj()
    if cls is float or cls is int:
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


class RsubBackward1(Node):
    def backward(self, grad):
        return -grad if self.alpha == 1 else grad * -self.alpha


def _check_bool_sub(a, b) -> None:
    if getattr(a, "dtype", None) == xp.bool_ and getattr(b, "dtype", xp.bool_) == xp.bool_:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead."
        )


@method("add")
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other."""
    a, b = binary_operands(input, other, "add")
    if alpha == 1:
        res = record(AddBackward0, a + b, (input, other))
    else:
        res = record(AddBackward0, a + alpha * b, (input, other), alpha=alpha)
    return res if out is None else _out(res, out)


@method("sub", "subtract")
def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other."""
    a, b = binary_operands(input, other, "sub")
    _check_bool_sub(a, b)
    if alpha == 1:
        res = record(SubBackward0, a - b, (input, other))
    else:
        res = record(SubBackward0, a - alpha * b, (input, other), alpha=alpha)
    return res if out is None else _out(res, out)


subtract = sub


def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input (the reflected `scalar - tensor`)."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    a, b = binary_operands(input, other, "rsub")
    return record(RsubBackward1, b - a if alpha == 1 else b - alpha * a, (input,), alpha=alpha)


# --- mul / div ---------------------------------------------------------------------------------
class MulBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        need_x, need_y = self._next[0][0] is not None, self._next[1][0] is not None
        return (grad * _conj(y) if need_x else None), (grad * _conj(x) if need_y else None)


@method("mul", "multiply")
def mul(input, other, *, out=None) -> Tensor:
    """input * other, elementwise with broadcasting."""
    a, b = binary_operands(input, other, "mul")
    res = record(MulBackward0, a * b, (input, other), save=(input, other))
    return res if out is None else _out(res, out)


multiply = mul


class DivBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        x, y = self.saved_tensors
        gx = grad / _conj(y)
        if self._next[1][0] is None:
            return gx, None
        return gx, -gx * _conj(x) / _conj(y)


class DivBackward1(Node):
    def backward(self, grad):
        return grad / self.other


@method("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """input / other; `rounding_mode` 'trunc' or 'floor' rounds the quotient (no gradient)."""
    if rounding_mode is not None:
        return _rounded_div(input, other, rounding_mode)
    a, b = binary_operands(input, other, "div", to_float=True)
    if isinstance(other, Tensor):
        res = record(DivBackward0, a / b, (input, other), save=(input, other))
    else:
        res = record(DivBackward1, a / b, (input,), other=b)
    return _out(res, out)


divide = true_divide = div


def _rounded_div(input, other, mode: str) -> Tensor:
    if mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{mode}'"
        )
    a, b = binary_operands(input, other, "div")
    if a.dtype.kind in "iu" and xp.any(xp.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    if mode == "floor":
        q = xp.floor_divide(a, b)
    elif a.dtype.kind in "iu":
        q = xp.trunc(xp.true_divide(a, b)).astype(a.dtype)
        q = xp.where(xp.abs(b) == 1, a * b, q) if xp.ndim(b) == 0 else q
    else:
        q = xp.trunc(a / b)
    return _zero_grad_result(q, input, other, "DivBackward2")


def _zero_grad_result(data, input, other, name: str) -> Tensor:
    """Rounded quotients have zero gradient almost everywhere; PyTorch records them anyway."""
    cls = _ZERO_GRAD_NODES.setdefault(name, type(name, (ZeroGrad,), {}))
    return record(cls, data, (input, other))


class ZeroGrad(Node):
    def backward(self, grad):
        return tuple(None if n is None else P.zeros_like(grad) for n, _ in self._next)


_ZERO_GRAD_NODES: dict = {}


class ReciprocalBackward0(Node):
    _saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        return -grad * _conj(y * y)


@method("reciprocal")
def reciprocal(input) -> Tensor:
    """1 / input."""
    from dyngrad.ops._core import OUT, float_data

    a = float_data(input)
    with xp.errstate(divide="ignore"):
        return record(ReciprocalBackward0, 1 / a, (input,), save=(OUT,))


def rdiv(input, other) -> Tensor:
    """`scalar / tensor`, recorded as PyTorch does: reciprocal(tensor) * scalar."""
    return mul(reciprocal(input), other)


# --- floor division and remainder --------------------------------------------------------------
class NotImplemented(Node):  # noqa: A001 - PyTorch's node name for floor_divide
    def backward(self, grad):
        raise RuntimeError(
            "the derivative for 'floor_divide' is not implemented."
        )


@method("floor_divide")
def floor_divide(input, other, *, out=None) -> Tensor:
    """input // other, rounded towards minus infinity (PyTorch records no usable derivative)."""
    a, b = binary_operands(input, other, "floor_divide")
    if a.dtype.kind in "iu" and xp.any(xp.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    return _out(record(NotImplemented, xp.floor_divide(a, b), (input, other)), out)


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
    if a.dtype.kind in "iu" and xp.any(xp.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    data = xp.remainder(a, b)
    if isinstance(other, Tensor):
        res = record(RemainderBackward1, data, (input, other), save=(input, other))
    else:
        res = record(RemainderBackward0, data, (input,))
    return _out(res, out)


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
        if c == 0:
            return P.where(P.data(out) == 0, 0.0, grad * out * xp.log(c + 0j).real)
        return grad * _conj(out * xp.log(complex(c)) if isinstance(c, complex) else out
                            * float(xp.log(c)))


def _check_int_pow(a, e) -> None:
    if a.dtype.kind in "iu" and isinstance(e, int) and e < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


@method("pow")
def pow(input, exponent, *, out=None) -> Tensor:  # noqa: A001 - torch.pow
    """input ** exponent; either side may be a scalar."""
    from dyngrad.ops._core import OUT

    if not isinstance(input, Tensor):
        a, b = binary_operands(input, exponent, "pow")
        with xp.errstate(divide="ignore", invalid="ignore"):
            data = xp.power(a, b)
        return _out(record(PowBackward2, data, (exponent,), save=(OUT,), self=input), out)
    a, b = binary_operands(input, exponent, "pow")
    if isinstance(exponent, Tensor):
        if a.dtype.kind in "iu" and xp.any(b < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with xp.errstate(divide="ignore", invalid="ignore"):
            data = xp.power(a, b)
        res = record(PowBackward1, data, (input, exponent), save=(input, exponent, OUT))
        return _out(res, out)
    _check_int_pow(a, exponent)
    with xp.errstate(divide="ignore", invalid="ignore"):
        data = a * a if exponent == 2 else xp.power(a, b)
    return _out(record(PowBackward0, data, (input,), save=(input,), exponent=exponent), out)


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


@method("neg", "negative", "__neg__")
def neg(input, *, out=None) -> Tensor:
    """-input."""
    check_tensor(input, "neg")
    if input._data.dtype == xp.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _out(record(NegBackward0, -input._data, (input,)), out)


negative = neg


@method("positive", "__pos__")
def positive(input) -> Tensor:
    return input


def _out(result: Tensor, out) -> Tensor:
    """Support `out=`: write the result into `out` (resizing it as PyTorch does)."""
    if out is None:
        return result
    if out._data.shape != result._data.shape:
        out._data = xp.empty(result._data.shape, out._data.dtype)
    from dyngrad.ops.inplace import write

    write(out, result, "out=")
    return out


# --- operators and in-place forms --------------------------------------------------------------
Tensor.__add__ = Tensor.__radd__ = add  # commutative, so the reflected form is the same call
Tensor.__sub__ = sub
Tensor.__rsub__ = rsub
Tensor.__mul__ = Tensor.__rmul__ = mul
Tensor.__truediv__ = div
Tensor.__rtruediv__ = rdiv
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = lambda self, other: floor_divide(_as_tensor_like(other, self), self)
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda self, other: remainder(_as_tensor_like(other, self), self)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, base: pow(base, self)
Tensor.__abs__ = lambda self: self.abs()


def _as_tensor_like(value, like: Tensor) -> Tensor:
    from dyngrad.ops._core import result_dtype

    return Tensor._make(xp.asarray(value, dtype=result_dtype(value, like).np))


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
