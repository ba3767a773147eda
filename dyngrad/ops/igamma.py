"""The regularized incomplete gamma functions: `igamma` P(a, x) and `igammac` Q(a, x) = 1 - P
(torch.special.gammainc / gammaincc), with in-place forms.

As in PyTorch only the derivative in x exists: d/dx P(a, x) = x^(a-1) e^-x / Gamma(a). Asking
for the gradient of `a` raises PyTorch's NotImplementedError during backward.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops import _special
from dyngrad.ops._core import binary_operands, check_tensor, method, record
from dyngrad.ops.arithmetic import _inplace, _out
from dyngrad.ops.unary import _kernel, _short

__all__ = ["igamma", "igammac"]


class IgammaBackward0(Node):
    _saved_names = ("self", "other")
    sign = 1

    def backward(self, grad):
        a, x = self.saved_tensors
        if self._next[0][0] is not None:
            raise NotImplementedError(
                f"the derivative for '{type(self).__name__[:-9].lower()}: input' is not "
                "implemented."
            )
        av = P.data(a)
        with xp.errstate(all="ignore"):
            lg = _special.lgamma(av)
        log_density = P.const(av - 1, x) * P.log(x) - x - P.const(lg, x)
        density = P.exp(log_density)
        return None, grad * density if self.sign > 0 else -grad * density


class IgammacBackward0(IgammaBackward0):
    sign = -1


def _incomplete(name: str, node, upper: bool):
    def fn(input, other, *, out=None):
        check_tensor(input, name)
        check_tensor(other, name, "other", 2)
        a, x = binary_operands(input, other, name)
        a, x = xp.asarray(a), xp.asarray(x)
        if a.dtype.kind != "f":
            raise NotImplementedError(_kernel(f"{name}_cpu").format(_short(a)))
        data = _special.gammainc(a, x, upper).astype(a.dtype)
        res = record(node, data, (input, other), save=(input, other))
        return res if out is None else _out(res, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The regularized {'upper' if upper else 'lower'} incomplete gamma function."
    method(name)(fn)
    setattr(Tensor, name + "_", _inplace(fn, name + "_"))
    return fn


igamma = _incomplete("igamma", IgammaBackward0, False)
igammac = _incomplete("igammac", IgammacBackward0, True)
