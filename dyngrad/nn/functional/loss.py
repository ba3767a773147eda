"""Loss functions. The common ones (MSE, NLL, BCE, Huber, smooth L1) are primitives with one node
each, as in PyTorch; cross-entropy is log_softmax + nll_loss; the rest are composed of tensor ops.
"""

from __future__ import annotations

import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.functional.activation import log_softmax
from dyngrad.ops import _poly as P
from dyngrad.ops._core import binary_operands, record
from dyngrad.ops.arithmetic import div_scalar

__all__ = [
    "mse_loss", "l1_loss", "nll_loss", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "huber_loss", "smooth_l1_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """Map the deprecated `size_average`/`reduce` flags onto `reduction`."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='"
        f"{_legacy(size_average, reduce)}' instead.", UserWarning, stacklevel=3)
    return _legacy(size_average, reduce)


def _legacy(size_average, reduce) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply `reduction` to an elementwise loss built from tensor ops."""
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _reduce_np(loss, reduction: str):
    if reduction == "mean":
        if not loss.size:
            return xp.asarray(xp.nan, loss.dtype)
        if loss.dtype.char == "e":  # float16: NumPy's mean sums in float32
            return loss.mean()
        return xp.add.reduce(loss, axis=None) / loss.size  # ndarray.mean, less its Python layer
    return loss.sum() if reduction == "sum" else loss


def _scale(grad, reduction: str, n: int):
    """The incoming gradient of a reduced loss, per element."""
    return grad / n if reduction == "mean" else grad



def _check_same_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=3)


# --- regression losses ---------------------------------------------------------------------------
class MseLossBackward0(Node):
    _saved_names = ("self", "target")

    def backward(self, grad):
        x, t = self.saved_tensors
        g = _scale(grad, self.reduction, self.n) * 2 * (x - t)
        return g, -g


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight=None) -> Tensor:
    """(input - target) ** 2, averaged (or summed, or kept) over elements."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    _check_same_size(input, target)
    a, b = binary_operands(input, target, "mse_loss")
    d = a - b
    return record(MseLossBackward0, _reduce_np(d * d, reduction), (input, target),
                  save=(input, target), reduction=reduction, n=d.size)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight=None) -> Tensor:
    """|input - target|, averaged (or summed, or kept) over elements."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    _check_same_size(input, target)
    return globals()["reduce"]((input - target).abs(), reduction)


class HuberLossBackward0(Node):
    _saved_names = ("self", "target")

    def backward(self, grad):
        x, t = self.saved_tensors
        d = x - t
        dd, delta = P.data(d), self.delta
        inner = P.where(dd < -delta, -delta, P.where(dd > delta, delta, d))
        g = _scale(grad, self.reduction, self.n) * inner
        return g, -g


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta * (|d| - delta / 2), with d = input - target."""
    check_reduction(reduction)
    _check_same_size(input, target)
    a, b = binary_operands(input, target, "huber_loss")
    d = xp.abs(a - b)
    loss = xp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return record(HuberLossBackward0, _reduce_np(loss, reduction), (input, target),
                  save=(input, target), reduction=reduction, n=d.size, delta=delta)


class SmoothL1LossBackward0(Node):
    _saved_names = ("self", "target")

    def backward(self, grad):
        x, t = self.saved_tensors
        d = x - t
        dd = P.data(d)
        inner = P.where(xp.abs(dd) < self.beta, d / self.beta, P.sign(d))
        g = _scale(grad, self.reduction, self.n) * inner
        return g, -g


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - beta / 2 (l1_loss when beta is 0)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    _check_same_size(input, target)
    a, b = binary_operands(input, target, "smooth_l1_loss")
    d = xp.abs(a - b)
    loss = xp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return record(SmoothL1LossBackward0, _reduce_np(loss, reduction), (input, target),
                  save=(input, target), reduction=reduction, n=d.size, beta=beta)


# --- classification losses -----------------------------------------------------------------------
def _check_target(input: Tensor, target: Tensor) -> None:
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype._short}"
        )
    batch_in = input.shape[0] if input.ndim > 1 else 1
    batch_t = target.shape[0] if target.ndim > 0 else 1
    if input.ndim > 1 and batch_in != batch_t or input.ndim == 1 and target.ndim != 0:
        raise ValueError(
            f"Expected input batch_size ({batch_in}) to match target batch_size ({batch_t})."
        )


class NllLossBackward0(Node):
    """Gradient: -weight[target] at the target class, divided by the total weight for 'mean'."""

    _saved_names = ("target", "weight")

    def backward(self, grad):
        coef = self.coef  # (N, C, ...) array: -w[t] / total at the target entry, else 0
        if self.reduction == "none":
            grad = P.unsqueeze(grad, 1) if coef.ndim > 1 else grad
        return grad * P.const(coef, grad)


class NllLoss2DBackward0(NllLossBackward0):
    pass


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] * weight[target[n]], over a batch (class dim 1)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    _check_target(input, target)
    if input.ndim == 3 or input.ndim > 4:  # PyTorch runs these as 4-d (N, C, 1, -1) and views
        n, c = input.shape[:2]
        out = nll_loss(input.reshape(n, c, 1, -1), target.reshape(n, 1, -1), weight,
                       ignore_index=ignore_index, reduction=reduction)
        return out.view(target.shape) if reduction == "none" else out
    x, t = input._data, target._data.astype(xp.int64)
    if x.ndim == 1:  # a single sample (C,) and a 0-dim target
        x, t = x[None], t[None]
    n_classes = x.shape[1]
    if t.shape != (x.shape[0], *x.shape[2:]):
        raise RuntimeError(
            f"Expected target size {_size_text((x.shape[0], *x.shape[2:]))}, got "
            f"{_size_text(t.shape)}"
        )
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"Target {t[bad].flat[0]} is out of bounds.")
    safe_t = xp.where(valid, t, 0)
    w = xp.ones(n_classes, x.dtype) if weight is None else weight._data.astype(x.dtype)
    wt = xp.where(valid, w[safe_t], 0).astype(x.dtype)
    picked = xp.take_along_axis(x, safe_t[:, None], axis=1)[:, 0]
    losses = -picked * wt
    if reduction == "none":
        data, coef_scale = losses, -wt
    elif reduction == "sum":
        data, coef_scale = losses.sum(), -wt
    else:
        total = wt.sum()
        with xp.errstate(invalid="ignore", divide="ignore"):
            data = losses.sum() / total
            coef_scale = -wt / total
    coef = xp.zeros_like(x)
    xp.put_along_axis(coef, safe_t[:, None], coef_scale[:, None], axis=1)
    if input._data.ndim == 1:
        coef, data = coef[0], data[0] if reduction == "none" else data
    cls = NllLoss2DBackward0 if x.ndim == 4 else NllLossBackward0
    return record(cls, xp.asarray(data, x.dtype), (input,),
                  save=(target, weight), coef=coef, reduction=reduction)


def _size_text(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, 1), target): class indices, or class probabilities when
    `target` is floating point with input's shape."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    if target.is_floating_point() and target.shape == input.shape:
        return _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    return _smoothed(nll, logp, target, weight, ignore_index, reduction, label_smoothing,
                     class_dim)


def _class_weight(weight, ndim: int, class_dim: int) -> Tensor:
    shape = [1] * ndim
    shape[class_dim] = -1
    return weight.reshape(shape)


def _cross_entropy_probs(logp, target, weight, reduction, eps, class_dim):
    n_classes = logp.shape[class_dim]
    if eps > 0:
        target = target * (1 - eps) + eps / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_weight(weight, logp.ndim, class_dim)
    if reduction == "mean":
        return div_scalar(-terms.sum(), logp.numel() // n_classes if logp.ndim > 1 else 1)
    return -terms.sum() if reduction == "sum" else -terms.sum(class_dim)


def _smoothed(nll, logp, target, weight, ignore_index, reduction, eps, class_dim):
    """(1 - eps) * nll + eps / C * (the loss against the uniform distribution), as PyTorch."""
    n_classes = logp.shape[class_dim]
    ignore = Tensor._make(target._data == ignore_index)
    terms = logp if weight is None else logp * _class_weight(weight, logp.ndim, class_dim)
    smooth = -terms.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        keep = target._data != ignore_index
        if weight is None:
            denom = float(keep.sum())
        else:
            denom = float(weight._data[target._data[keep]].sum())
        ret = div_scalar(smooth.sum(), denom)
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - eps) + ret * (eps / n_classes)


class BinaryCrossEntropyBackward0(Node):
    _saved_names = ("self", "target", "weight")

    def backward(self, grad):
        x, t, w = self.saved_tensors
        g = _scale(grad, self.reduction, self.n)
        if w is not None:
            g = g * w
        denom = (1 - x) * x  # clamped below at 1e-12 as PyTorch does, differentiably
        gx = g * (x - t) / P.where(P.data(denom) < 1e-12, 1e-12, denom)
        if self._next[1][0] is None:
            return gx, None, None
        gt = g * (P.log(1 - x) - P.log(x))
        return gx, gt, None


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-(t log x + (1 - t) log(1 - x)), logs clamped at -100 as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    x, t = binary_operands(input, target, "binary_cross_entropy")
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with xp.errstate(divide="ignore"):
        loss = -(t * xp.maximum(xp.log(x), -100) + (1 - t) * xp.maximum(xp.log1p(-x), -100))
    if weight is not None:
        loss = loss * weight._data
    return record(BinaryCrossEntropyBackward0, _reduce_np(loss, reduction),
                  (input, target, weight), save=(input, target, weight), reduction=reduction,
                  n=loss.size)


class BinaryCrossEntropyWithLogitsBackward0(Node):
    _saved_names = ("self", "target", "weight", "pos_weight")

    def backward(self, grad):
        x, t, w, pw = self.saved_tensors
        g = _scale(grad, self.reduction, self.n)
        if w is not None:
            g = g * w
        s = P.sigmoid(x)
        if pw is None:
            gx, gt = g * (s - t), g * -x
        else:
            gx = g * ((t * (pw - 1) + 1) * s - pw * t)
            gt = g * ((pw - 1) * _log1pexp(-x) - x)
        return gx, gt, None, None


def _log1pexp(z):
    """log(1 + exp(z)) = softplus(z), on arrays or tensors."""
    from dyngrad.nn.functional.activation import _softplus

    return _softplus(z)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    x, t = binary_operands(input, target, "binary_cross_entropy_with_logits")
    sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # softplus(-x)
    if pos_weight is None:
        loss = (1 - t) * x + sp
    else:
        loss = (1 - t) * x + (1 + (pos_weight._data - 1) * t) * sp
    if weight is not None:
        loss = loss * weight._data
    return record(BinaryCrossEntropyWithLogitsBackward0, _reduce_np(loss, reduction),
                  (input, target, weight, pos_weight), save=(input, target, weight, pos_weight),
                  reduction=reduction, n=loss.size)
