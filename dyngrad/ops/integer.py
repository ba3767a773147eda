"""Integer-only elementwise ops: `gcd`, `lcm` and the bit shifts (`<<`, `>>`), with their
in-place forms. Integer results never require grad.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.ops._core import binary_operands, check_tensor, method
from dyngrad.ops.arithmetic import _inplace, _out
from dyngrad.ops.unary import _kernel, _short

__all__ = ["gcd", "gcd_", "lcm", "lcm_", "bitwise_left_shift", "bitwise_right_shift"]


def _finish(data, out, name: str) -> Tensor:
    res = Tensor._make(xp.asarray(data))
    return res if out is None else _out(res, out, name)


def _integers(kernel: str, a, b):
    """The operands, refused as PyTorch refuses them when their common dtype is not an integer."""
    dt = a.dtype if isinstance(a, xp.ndarray) else xp.asarray(b).dtype
    if dt.kind not in "iu":
        raise NotImplementedError(_kernel(kernel).format(_short(xp.empty(0, dt))))
    return a, b


@method("gcd")
def gcd(input, other, *, out=None) -> Tensor:
    """Greatest common divisor, elementwise (non-negative; gcd(0, 0) is 0)."""
    check_tensor(input, "gcd")
    check_tensor(other, "gcd", "other", 2)
    a, b = _integers("gcd_cpu", *binary_operands(input, other, "gcd"))
    return _finish(xp.gcd(a, b), out, "gcd")


@method("lcm")
def lcm(input, other, *, out=None) -> Tensor:
    """Least common multiple, elementwise: |a / gcd(a, b) * b| (wrapping as the dtype does)."""
    check_tensor(input, "lcm")
    check_tensor(other, "lcm", "other", 2)
    a, b = _integers("lcm_cpu", *binary_operands(input, other, "lcm"))
    g = xp.gcd(a, b)
    zero = g == 0
    return _finish(xp.abs(xp.where(zero, 0, a // xp.where(zero, 1, g)) * b), out, "lcm")


def _shift(name: str, kernel: str, left: bool):
    def fn(input, other, *, out=None):
        if not isinstance(input, Tensor):
            check_tensor(other, name, "other", 2)
        a, b = _integers(kernel, *binary_operands(input, other, name))
        a, b = xp.asarray(a), xp.asarray(b)
        outside = (b < 0) | (b >= a.dtype.itemsize * 8)  # C's undefined shifts: PyTorch's
        n = xp.where(outside, 0, b).astype(a.dtype)  # fixed results
        if left:
            data = xp.where(outside, 0, xp.left_shift(a, n))
        else:
            fill = xp.where(a < 0, -1, 0) if a.dtype.kind == "i" else 0
            data = xp.where(outside, fill, xp.right_shift(a, n))
        return _finish(data.astype(a.dtype, copy=False), out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {'left' if left else 'right'} shift of integers."
    return fn


bitwise_left_shift = _shift("bitwise_left_shift", "lshift_cpu", True)
bitwise_right_shift = _shift("bitwise_right_shift", "rshift_cpu", False)


def _operator(fn):
    def op(self, other):
        if not isinstance(other, Tensor | bool | int | float | xp.generic):
            return NotImplemented
        return fn(self, other)

    def rop(self, other):
        if not isinstance(other, bool | int | float | xp.generic):
            return NotImplemented
        return fn(other, self)

    return op, rop


for _name, _fn in (("gcd", gcd), ("lcm", lcm), ("bitwise_left_shift", bitwise_left_shift),
                   ("bitwise_right_shift", bitwise_right_shift)):
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", _inplace(_fn, _name + "_"))
gcd_, lcm_ = Tensor.gcd_, Tensor.lcm_
Tensor.__lshift__, Tensor.__rlshift__ = _operator(bitwise_left_shift)
Tensor.__rshift__, Tensor.__rrshift__ = _operator(bitwise_right_shift)
Tensor.__ilshift__ = Tensor.bitwise_left_shift_
Tensor.__irshift__ = Tensor.bitwise_right_shift_
