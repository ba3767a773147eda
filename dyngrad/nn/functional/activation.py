"""Activation functions: each a NumPy forward and a node whose formula is its derivative.

Formulas use `_poly` helpers, so `create_graph=True` differentiates them again. Masks (where an
input is above a threshold, ...) are arrays from `P.data`, never differentiated.
"""

from __future__ import annotations

import math
import warnings

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops import unary as _unary
from dyngrad.ops._core import OUT, check_tensor, float_data, method, record
from dyngrad.ops.inplace import apply_inplace
from dyngrad.ops.random import _rng

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "hardtanh", "hardtanh_", "elu", "elu_",
    "selu", "celu", "gelu", "silu", "mish", "softplus", "hardsigmoid", "hardswish", "softshrink",
    "hardshrink", "threshold", "threshold_", "logsigmoid", "softsign", "tanhshrink", "prelu",
    "rrelu", "glu", "softmax", "log_softmax", "softmin", "celu_", "selu_", "rrelu_", "sigmoid",
    "tanh", "gumbel_softmax",
]

def _inplace_or(fn, input, inplace: bool, *args):
    return apply_inplace(input, fn, *args, name=fn.__name__ + "_") if inplace else fn(input, *args)


# --- ReLU family ---------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0): `torch.relu` (its checks, its node), or `relu_` in place."""
    return _inplace_or(_unary.relu, input, inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, True)


class HardtanhBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        a = P.data(x)
        return P.masked_by(P.where((a > self.min_val) & (a < self.max_val), grad, 0.0), x,
                           "HardtanhBackwardBackward0")


def _hardtanh(input, min_val, max_val):
    data = xp.clip(float_data(input), min_val, max_val)
    return record(HardtanhBackward0, data, (input,), save=(input,), min_val=min_val,
                  max_val=max_val)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]; gradient 0 at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _inplace_or(_hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


class LeakyReluBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return P.masked_by(P.where(P.data(x) > 0, grad, grad * self.negative_slope), x,
                           "LeakyReluBackwardBackward0")


def _leaky_relu(input, negative_slope):
    a = float_data(input)
    return record(LeakyReluBackward0, xp.where(a > 0, a, a * negative_slope), (input,),
                  save=(input,), negative_slope=negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    return _inplace_or(_leaky_relu, input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


class EluBackward0(Node):
    """d/dx: scale for x > 0, else input_scale * scale * alpha * exp(x * input_scale)."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        neg = grad * (self.input_scale * self.scale * self.alpha) * P.exp(x * self.input_scale)
        return P.where(P.data(x) > 0, grad * self.scale, neg)


class CeluBackward0(EluBackward0):
    pass


class EluBackward1(Node):
    """The in-place form, written with the saved result y: for x <= 0 the derivative is
    input_scale * (y + scale * alpha), which needs alpha >= 0 to tell x > 0 from y > 0."""

    _saved_names = ("result",)

    def backward(self, grad):
        if self.alpha < 0:
            raise RuntimeError(
                "In-place elu backward calculation is triggered with a negative slope which is "
                "not supported. This is caused by calling in-place forward function with a "
                "negative slope, please call out-of-place version instead.")
        (y,) = self.saved_tensors
        neg = grad * self.input_scale * (y + self.scale * self.alpha)
        return P.where(P.data(y) > 0, grad * self.scale, neg)


class CeluBackward1(EluBackward1):
    pass


def _elu_node(input, cls, alpha, scale, input_scale):
    a = float_data(input)
    with xp.errstate(over="ignore"):
        data = xp.where(a > 0, a * scale, xp.expm1(a * input_scale) * (alpha * scale))
    saved = OUT if issubclass(cls, EluBackward1) else input
    return record(cls, data, (input,), save=(saved,), alpha=alpha, scale=scale,
                  input_scale=input_scale)


def _elu_family(input, inplace: bool, op: str, alpha, scale, input_scale):
    """elu, selu or celu (`op`): one node, its Backward1 form when in place (as PyTorch)."""
    out_of_place, in_place = _ELU_NODES[op]
    if not inplace:
        return _elu_node(input, out_of_place, alpha, scale, input_scale)
    return apply_inplace(input, _elu_node, in_place, alpha, scale, input_scale, name=op + "_")


_ELU_NODES = {"elu": (EluBackward0, EluBackward1), "selu": (EluBackward0, EluBackward1),
              "celu": (CeluBackward0, CeluBackward1)}


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _elu_family(input, inplace, "elu", alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _elu_family(input, inplace, "selu", _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x / alpha) - 1)."""
    return _elu_family(input, inplace, "celu", alpha, 1.0, 1.0 / alpha)


def selu_(input):
    return selu(input, True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


class ThresholdBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return P.masked_by(P.where(P.data(x) > self.threshold, grad, 0.0), x,
                           "ThresholdBackwardBackward0")


class ThresholdBackward1(ThresholdBackward0):
    """The in-place form: it saves a clone of the input before the write, as PyTorch's."""


def _threshold(input, threshold_, value, cls=ThresholdBackward0):
    a = input._data
    saved = input.clone() if cls is ThresholdBackward1 else input
    return record(cls, xp.where(a > threshold_, a, xp.asarray(value, a.dtype)),
                  (input,), save=(saved,), threshold=threshold_)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value."""
    if inplace:
        return apply_inplace(input, _threshold, threshold, value, ThresholdBackward1,
                             name="threshold_")
    return _threshold(input, threshold, value)


def threshold_(input, threshold_, value):
    return threshold(input, threshold_, value, True)


class PreluKernelBackward0(Node):
    _saved_names = ("self", "weight")

    def backward(self, grad):
        x, w = self.saved_tensors
        pos = P.data(x) > 0
        gx = P.masked_by(P.where(pos, grad, grad * w), x, "PreluKernelBackwardBackward0")
        return gx, P.where(pos, 0.0, grad * x)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x, one weight per channel (dim 1) or one shared; as PyTorch, a
    weight whose rank differs from the input's is first viewed as (1, C, 1, ...)."""
    a, w = input._data, weight._data
    # PyTorch's checks, in its order
    if a.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype._short} and "
                           f"{weight.dtype._short}")
    if w.size != 1:
        if a.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = a.shape[1] if a.ndim > 1 else 1
        if channels != w.size:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{w.size} and channel size = {channels}."
            )
    if w.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    if a.dtype.kind not in "f":
        raise NotImplementedError(f'"prelu_cpu" not implemented for \'{input.dtype._short}\'')
    wb = weight
    if a.ndim != w.ndim:
        shape = [1] * a.ndim
        if a.ndim > 1:
            shape[1] = w.size
        wb = weight.reshape(shape)
    data = xp.where(a > 0, a, a * wb._data)
    return record(PreluKernelBackward0, data, (input, wb), save=(input, wb))


class RreluWithNoiseBackward0(Node):
    """grad * noise in training (noise: the drawn slopes, 1 where x > 0), else leaky ReLU's
    gradient with the mean slope."""

    _saved_names = ("self", "noise")

    # PyTorch's kernel takes x, so its create_graph gradient depends on x (see P.masked_by)
    _double = "RreluWithNoiseBackwardBackward0"

    def backward(self, grad):
        x, noise = self.saved_tensors
        g = grad * noise if self.training else P.where(P.data(x) > 0, grad, grad * self.slope)
        return g if self._double is None else P.masked_by(g, x, self._double)


class RreluWithNoiseBackward1(RreluWithNoiseBackward0):
    """The in-place form: the saved `x` is the result (same sign as the input)."""

    _saved_names = ("result", "noise")
    _double = None  # PyTorch records this form's gradient as a plain product


def _rrelu(input, lower, upper, training, cls=RreluWithNoiseBackward0):
    a = float_data(input)
    slope = (lower + upper) / 2
    if training and type(a) is xp.ndarray:
        # PyTorch's kernel draws one double slope per element <= 0, in order, between bounds
        # rounded to the type it computes in
        nonpositive = a <= 0
        noise = xp.ones(a.shape, a.dtype)
        acc = xp.float64 if a.dtype == xp.float64 else xp.float32
        draws = _rng(None).uniform((int(nonpositive.sum()),), xp.dtype(xp.float64),
                                   float(acc(lower)), float(acc(upper)))
        noise[nonpositive] = draws
        data = a * noise
    elif training:  # batched under vmap: a slope for every element, kept where it applies
        noise = dyngrad.empty(a.shape, dtype=input.dtype).uniform_(lower, upper)._data
        noise = xp.where(a > 0, 1.0, noise).astype(a.dtype)
        data = a * noise
    else:
        noise = xp.empty(a.shape, a.dtype)  # as PyTorch: allocated, unused outside training
        data = xp.where(a > 0, a, a * slope)
    saved = OUT if cls is RreluWithNoiseBackward1 else input
    return record(cls, data, (input,), save=(saved, Tensor._make(noise)), training=training,
                  slope=slope)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope in [lower, upper] (training) or their mean (eval); one
    RreluWithNoise node either way, as in PyTorch (and with PyTorch's slopes after the same
    manual_seed)."""
    if inplace:
        return apply_inplace(input, _rrelu, lower, upper, training, RreluWithNoiseBackward1,
                             name="rrelu_")
    return _rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


# --- smooth activations --------------------------------------------------------------------------
def _erf(x):
    """erf on arrays or tensors, through dyngrad's own differentiable erf."""
    if isinstance(x, Tensor):
        return x.erf()
    return dyngrad.erf(Tensor._make(xp.asarray(x)))._data


class GeluBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = P.tanh(k * (x + 0.044715 * x * x * x))
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        else:
            d = 0.5 * (1 + _erf(x * math.sqrt(0.5))) + x * P.exp(-0.5 * x * x) / math.sqrt(
                2 * math.pi)
        return grad * d


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the normal CDF); `approximate='tanh'` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    a = float_data(input)
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        data = 0.5 * a * (1 + xp.tanh(k * (a + 0.044715 * a**3)))
    else:
        data = 0.5 * a * (1 + _erf(a * math.sqrt(0.5)))
    return record(GeluBackward0, data, (input,), save=(input,), approximate=approximate)


class SiluBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        s = P.sigmoid(x)
        return grad * s * (1 + x * (1 - s))


def _silu(input):
    a = float_data(input)
    return record(SiluBackward0, a * P.sigmoid(a), (input,), save=(input,))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _inplace_or(_silu, input, inplace)


def _softplus_np(a, beta=1.0, threshold_=20.0):
    z = a * beta
    with xp.errstate(over="ignore"):
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
    return xp.where(z > threshold_, a, soft)


class MishBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        t = P.tanh(_softplus(x))
        return grad * (t + x * P.sigmoid(x) * (1 - t * t))


def _softplus(x):
    """softplus(x) on arrays or tensors (in a formula)."""
    if isinstance(x, Tensor):
        return softplus(x)
    return _softplus_np(x)


def _mish(input):
    a = float_data(input)
    return record(MishBackward0, a * xp.tanh(_softplus_np(a)), (input,), save=(input,))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _inplace_or(_mish, input, inplace)


class SoftplusBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        z = x * self.beta
        return P.where(P.data(z) > self.threshold, grad, grad * P.sigmoid(z))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    a = float_data(input)
    return record(SoftplusBackward0, _softplus_np(a, beta, threshold), (input,), save=(input,),
                  beta=beta, threshold=threshold)


class HardsigmoidBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        x = P.data(x)
        return P.where((x > -3) & (x < 3), grad / 6, 0.0)


def _hardsigmoid(input):
    a = float_data(input)
    return record(HardsigmoidBackward0, xp.clip(a + 3, 0, 6) / 6, (input,), save=(input,))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _inplace_or(_hardsigmoid, input, inplace)


class HardswishBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        xd = P.data(x)
        return P.where(xd < -3, 0.0, P.where(xd <= 3, grad * (x / 3 + 0.5), grad))


def _hardswish(input):
    a = float_data(input)
    return record(HardswishBackward0, a * xp.clip(a + 3, 0, 6) / 6, (input,), save=(input,))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _inplace_or(_hardswish, input, inplace)


class SoftshrinkBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return P.masked_by(P.where(xp.abs(P.data(x)) > self.lambd, grad, 0.0), x,
                           type(self).__name__[:-1] + "Backward0")


class HardshrinkBackward0(SoftshrinkBackward0):
    pass


def _check_lambd(lambd):
    if lambd < 0:
        raise RuntimeError(
            f"lambda must be greater or equal to 0, but found to be {lambd}."
        )


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    _check_lambd(lambd)
    a = float_data(input)
    data = xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, 0)).astype(a.dtype)
    return record(SoftshrinkBackward0, data, (input,), save=(input,), lambd=lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    a = float_data(input)
    data = xp.where(xp.abs(a) > lambd, a, 0).astype(a.dtype)
    return record(HardshrinkBackward0, data, (input,), save=(input,), lambd=lambd)


class LogSigmoidBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * P.sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    a = float_data(input)
    data = xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))
    return record(LogSigmoidBackward0, data, (input,), save=(input,))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


class GluBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved_tensors
        n = x.shape[self.dim] // 2
        a, b = _halves(x, self.dim, n)
        s = P.sigmoid(b)
        ga, gb = grad * s, grad * a * s * (1 - s)
        if isinstance(ga, Tensor):
            return dyngrad.cat([ga, gb], self.dim)
        return xp.concatenate([ga, gb], axis=self.dim)


def _halves(x, dim: int, n: int):
    if isinstance(x, Tensor):
        return x.narrow(dim, 0, n), x.narrow(dim, n, n)
    return xp.split(x, [n], axis=dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of `input` along `dim`."""
    a = float_data(input)
    if a.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = dim % a.ndim
    if a.shape[dim] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim} is size {a.shape[dim]}"
        )
    first, second = xp.split(a, 2, axis=dim)
    return record(GluBackward0, first * P.sigmoid(second), (input,), save=(input,), dim=dim)


# --- softmax family ------------------------------------------------------------------------------
class SoftmaxBackward0(Node):
    _saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        gy = grad * y
        return gy - y * P.sum(gy, self.dim, keepdim=True)


class SafeSoftmaxBackward0(SoftmaxBackward0):
    """_safe_softmax's node: softmax's derivative (zero along rows that were all -inf)."""


class LogSoftmaxBackward0(Node):
    _saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad - P.exp(y) * P.sum(grad, self.dim, keepdim=True)


def _softmax_dim(ndim: int) -> int:
    """PyTorch's legacy implicit dim (with its deprecation warning)."""
    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include "
        "dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input, dim, dtype, name):
    check_tensor(input, name)
    if dim is None:
        dim = _softmax_dim(input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    a = float_data(input)
    nd = max(a.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})"
        )
    return input, a, dim % nd if a.ndim else 0


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (shifted by the max, so it never overflows)."""
    input, a, dim = _softmax_input(input, dim, dtype, "softmax")
    if a.ndim == 0:
        return record(SoftmaxBackward0, xp.ones_like(a), (input,), save=(OUT,), dim=dim)
    e = xp.exp(_shifted(a, dim))
    return record(SoftmaxBackward0, e / e.sum(axis=dim, keepdims=True), (input,), save=(OUT,),
                  dim=dim)


def _safe_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """softmax, but 0 instead of NaN along rows that are all -inf (attention's fully masked
    rows); PyTorch's `torch._safe_softmax`."""
    input, a, dim = _softmax_input(input, dim, dtype, "_safe_softmax")
    if a.ndim == 0:
        return record(SafeSoftmaxBackward0, xp.ones_like(a), (input,), save=(OUT,), dim=dim)
    masked = (a == -xp.inf).all(axis=dim, keepdims=True)
    e = xp.exp(_shifted(xp.where(masked, 0, a), dim))
    y = xp.where(masked, 0, e / e.sum(axis=dim, keepdims=True)).astype(a.dtype, copy=False)
    return record(SafeSoftmaxBackward0, y, (input,), save=(OUT,), dim=dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """x - logsumexp(x) along `dim`: a primitive, since log(softmax(x)) underflows to -inf."""
    input, a, dim = _softmax_input(input, dim, dtype, "log_softmax")
    if a.ndim == 0:
        return record(LogSoftmaxBackward0, xp.zeros_like(a), (input,), save=(OUT,), dim=dim)
    return record(LogSoftmaxBackward0, _log_softmax_np(a, dim), (input,), save=(OUT,), dim=dim)


def _shifted(a, dim: int):
    """a minus its max along `dim` (a copy of an empty `a`, which has no max)."""
    return a - a.max(axis=dim, keepdims=True) if a.size else a.copy()


def _log_softmax_np(a, dim: int):
    shifted = _shifted(a, dim)
    return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x)."""
    if dim is None:
        dim = _softmax_dim(input.ndim)
    return softmax(-(input if dtype is None else input.to(dtype)), dim)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) for Gumbel(0, 1) noise g drawn from dyngrad's generator; with
    `hard`, the one-hot of its argmax, whose gradient is the soft sample's (straight-through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    noise = -dyngrad.empty_like(logits).exponential_().log()
    soft = ((logits + noise) / tau).softmax(dim)
    if not hard:
        return soft
    one_hot = dyngrad.zeros_like(logits).scatter_(dim, soft.argmax(dim, keepdim=True), 1.0)
    return one_hot - soft.detach() + soft


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)): PyTorch keeps `F.sigmoid` as a plain alias of `Tensor.sigmoid`."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(x): PyTorch keeps `F.tanh` as a plain alias of `Tensor.tanh`."""
    return input.tanh()


def _required_dim(dim, name: str) -> None:
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')


@method("softmax")
def tensor_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """`torch.softmax` / `Tensor.softmax`: F.softmax with torch's (input, dim, dtype) order and
    no implicit dim."""
    _required_dim(dim, "softmax")
    return softmax(input, dim, dtype=dtype)


@method("log_softmax")
def tensor_log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """`torch.log_softmax` / `Tensor.log_softmax`."""
    _required_dim(dim, "log_softmax")
    return log_softmax(input, dim, dtype=dtype)
