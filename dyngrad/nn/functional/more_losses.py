"""More losses: divergences, likelihoods, margin and embedding losses, and CTC.

Most are composed of tensor ops exactly as PyTorch composes them (so grad_fn names match, e.g.
`kl_div`, `poisson_nll_loss`, `cosine_embedding_loss`); the ones PyTorch runs as single kernels
(`soft_margin_loss`, `multi_margin_loss`, `multilabel_margin_loss`, `ctc_loss`) are one node each.
The latter three, like PyTorch's, cannot be differentiated twice. `linear_cross_entropy` with
`options` is PyTorch's chunked path: two custom Functions, named as its torch.library ops.
"""

from __future__ import annotations

import math
import warnings

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.function import Function
from dyngrad.autograd.node import Node
from dyngrad.nn.functional.activation import logsigmoid
from dyngrad.nn.functional.loss import (
    _reduce_np,
    _scale,
    check_reduction,
    cross_entropy,
    legacy_reduction,
)
from dyngrad.nn.functional.loss import reduce as _apply_reduction
from dyngrad.nn.functional.misc import linear, pairwise_distance
from dyngrad.ops import _poly as P
from dyngrad.ops._core import record
from dyngrad.ops.arithmetic import NotImplemented as _NoDerivative
from dyngrad.ops.linalg import _check_mm

__all__ = [
    "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
    "hinge_embedding_loss", "cosine_embedding_loss", "soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "ctc_loss", "linear_cross_entropy",
]


def _once_differentiable(value, grad, saved, op: str):
    """`value` as a backward result; under create_graph a node that refuses to differentiate
    again, as PyTorch's `NotImplemented` does."""
    if isinstance(grad, Tensor):
        return record(_NoDerivative, xp.asarray(value), (grad, saved), op=op)
    return value


def _size(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


# --- divergences and likelihoods -----------------------------------------------------------------
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: target * (log target - input); 'batchmean' divides the
    sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2)
    red = "sum" if reduction == "batchmean" else reduction
    check_reduction(red)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = dyngrad.xlogy(target, target) - target * input
    out = _apply_reduction(loss, red)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.shape[0]
    return out


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of `target` under Poisson(exp(input)) (or Poisson(input)), with
    Stirling's approximation of log(target!) when `full`."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # Stirling's term, differentiable in target as in PyTorch
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _apply_reduction(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 * (log var + (input - target)^2 / var), var clamped at eps (without cutting its
    gradient, as PyTorch)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * dyngrad.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape, strict=True) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with dyngrad.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


# --- margin and embedding losses -----------------------------------------------------------------
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    zeros = dyngrad.zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    loss = (dyngrad.where(target != 1, margin_clamp, zeros)
            + dyngrad.where(target != -1, input, zeros))
    return _apply_reduction(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    d = target.dim()
    if d not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if d == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(f"{d}D target tensor expects {want}D input tensors, but found inputs "
                           f"with sizes {_size(input1.shape)} and {_size(input2.shape)}.")
    prod_sum = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod_sum / (mag1 * mag2).sqrt()
    zeros = dyngrad.zeros_like(cos)
    loss = (dyngrad.where(target == 1, 1 - cos, zeros)
            + dyngrad.where(target == -1, (cos - margin).clamp_min(0), zeros))
    return _apply_reduction(loss, reduction)


class SoftMarginLossBackward0(Node):
    _saved_names = ("self", "target")

    def backward(self, grad):
        x, t = self.saved_tensors
        return _scale(grad, self.reduction, self.n) * -t * P.sigmoid(-t * x)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)) (two-class logistic loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if target.requires_grad:
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True.")
    x, t = xp.broadcast_arrays(input._data, target._data.astype(input._data.dtype))
    z = -t * x
    loss = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
    return record(SoftMarginLossBackward0, _reduce_np(loss, reduction), (input,),
                  save=(input, target), reduction=reduction, n=loss.size)


def _class_target(input: Tensor, target: Tensor, name: str):
    """(x as (N, C), target as (N,)) after PyTorch's checks."""
    x = input._data
    if target.dtype != dyngrad.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype._short}")
    x2 = x.reshape(1, -1) if x.ndim <= 1 else x
    t = target._data.reshape(-1)
    if t.shape[0] != x2.shape[0] or target.ndim > 1:
        raise RuntimeError(
            f"{name}: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size {_size((x2.shape[0],))}, but got "
            f"{_size(target.shape)}. Input has shape {_size(input.shape)}.")
    if t.size and (t.min() < 0 or t.max() >= x2.shape[1]):
        raise RuntimeError("target out of range")
    return x2, t


def _per_sample_grad(grad, reduction: str, n: int, shape):
    g = P.data(grad)
    if reduction == "none":
        return g.reshape(shape)
    return xp.broadcast_to(g / n if reduction == "mean" else g, shape)


class MultiMarginLossBackward0(Node):
    _saved_names = ("self", "target", "weight")

    def backward(self, grad):
        x, _, _ = self.saved_tensors
        g = _per_sample_grad(grad, self.reduction, self.coef.shape[0], (self.coef.shape[0], 1))
        value = (self.coef * g).reshape(self.in_shape)
        return _once_differentiable(value, grad, x, "multi_margin_loss_backward")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: sum over j != y of max(0, margin - x[y] + x[j])^p, over C."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = _class_target(input, target, "multi_margin_loss")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype._short} but found "
                           f"{weight.dtype._short}")
    n, c = x.shape
    rows = xp.arange(n)
    z = margin - x[rows, t][:, None] + x
    z[rows, t] = 0
    active = z > 0
    w = xp.ones(n, x.dtype) if weight is None else weight._data[t]
    loss = ((xp.where(active, z, 0) ** p) * w[:, None]).sum(1) / c
    coef = xp.where(active, p * xp.where(active, z, 0) ** (p - 1), 0) * w[:, None] / c
    coef[rows, t] = -coef.sum(1)
    if reduction == "none" and input.ndim <= 1:
        loss = loss.reshape(())
    return record(MultiMarginLossBackward0, _reduce_np(loss, reduction), (input,),
                  save=(input, target, weight), reduction=reduction,
                  coef=coef.astype(x.dtype), in_shape=input.shape)


class MultilabelMarginLossBackward0(Node):
    _saved_names = ("self", "target", "is_target")

    def backward(self, grad):
        x, _, _ = self.saved_tensors
        g = _per_sample_grad(grad, self.reduction, self.coef.shape[0], (self.coef.shape[0], 1))
        value = (self.coef * g).reshape(self.in_shape)
        return _once_differentiable(value, grad, x, "multilabel_margin_loss_backward")


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """For each target class j (listed in `target` up to the first -1) and each non-target
    class i: max(0, 1 - (x[j] - x[i])), summed and divided by C."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    x = input._data
    x2 = x.reshape(1, -1) if x.ndim <= 1 else x
    t = target._data.reshape(x2.shape[0], -1) if target.ndim <= 1 else target._data
    if target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {_size(target.shape)} for input of size: "
                           f"{_size(input.shape)}")
    n, c = x2.shape
    if ((t < -1) | (t >= c)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    loss = xp.zeros(n, x2.dtype)
    coef = xp.zeros_like(x2)
    is_target = xp.zeros_like(x2)
    for i in range(n):
        stop = xp.nonzero(t[i] < 0)[0]
        labels = t[i, :stop[0] if stop.size else c]
        is_target[i, labels] = 1
        others = is_target[i] == 0
        z = 1 - (x2[i, labels][:, None] - x2[i][None, :])
        active = (z > 0) & others[None, :]
        loss[i] = xp.where(active, z, 0).sum() / c
        xp.add.at(coef[i], labels, -active.sum(1) / c)
        coef[i] += active.sum(0) / c
    if reduction == "none" and input.ndim <= 1:
        loss = loss.reshape(())
    return record(MultilabelMarginLossBackward0, _reduce_np(loss, reduction), (input,),
                  save=(input, target, Tensor._make(is_target.reshape(x.shape))),
                  reduction=reduction, coef=coef, in_shape=input.shape)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of each class from logits, averaged over classes."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _apply_reduction(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)

    def dist(a, b):
        return pairwise_distance(a, b, p, eps)

    return _triplet(anchor, positive, negative, dist, margin, swap, reduction)


def _check_triplet_dims(anchor, positive, negative) -> None:
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not (a == p and p == n):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = dyngrad.minimum(dist_neg, dist(positive, negative))
    return _apply_reduction(dyngrad.clamp_min(margin + dist_pos - dist_neg, 0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any distance function (pairwise_distance by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    return _triplet(anchor, positive, negative, dist, margin, swap, reduction)


# --- connectionist temporal classification -------------------------------------------------------
def _lengths(v, name: str) -> list:
    if isinstance(v, Tensor):
        return [int(a) for a in v._data.reshape(-1)]
    if isinstance(v, int):
        return [v]
    return [int(a) for a in v]


def _shift(a, k: int):
    """a moved k places right (k > 0) or left, filled with -inf."""
    out = xp.full_like(a, -xp.inf)
    if k > 0:
        out[k:] = a[:-k]
    else:
        out[:k] = a[-k:]
    return out


def _ctc_one(lp, labels, blank: int):
    """log-alpha (T, S') and -log p(labels) for one sequence; lp is (T, C)."""
    ext = xp.full(2 * len(labels) + 1, blank, dtype=xp.int64)
    ext[1::2] = labels
    skip = (ext != blank) & (ext != _shift(ext.astype(float), 2))
    T = lp.shape[0]
    alpha = xp.full((T, ext.size), -xp.inf, lp.dtype)
    alpha[0, 0] = lp[0, blank]
    if ext.size > 1:
        alpha[0, 1] = lp[0, ext[1]]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = xp.logaddexp(prev, _shift(prev, 1))
        alpha[t] = xp.logaddexp(a, xp.where(skip, _shift(prev, 2), -xp.inf)) + lp[t, ext]
    end = alpha[T - 1, -1] if ext.size == 1 else xp.logaddexp(alpha[T - 1, -1], alpha[T - 1, -2])
    return alpha, ext, skip, -end


def _ctc_grad_one(lp, alpha, ext, skip, nll):
    """d nll / d lp as PyTorch computes it (assuming lp came from log_softmax): exp(lp) minus
    the posterior of each class at each step."""
    T = lp.shape[0]
    beta = xp.full_like(alpha, -xp.inf)
    beta[T - 1, -1] = lp[T - 1, ext[-1]]
    if ext.size > 1:
        beta[T - 1, -2] = lp[T - 1, ext[-2]]
    skip_next = _shift(skip.astype(float), -2) > 0
    for t in range(T - 2, -1, -1):
        nxt = beta[t + 1]
        b = xp.logaddexp(nxt, _shift(nxt, -1))
        beta[t] = xp.logaddexp(b, xp.where(skip_next, _shift(nxt, -2), -xp.inf)) + lp[t, ext]
    post = xp.full(lp.shape, -xp.inf, lp.dtype)
    t_idx = xp.repeat(xp.arange(T), ext.size)
    xp.logaddexp.at(post, (t_idx, xp.tile(ext, T)), (alpha + beta).reshape(-1))
    with xp.errstate(invalid="ignore", over="ignore"):
        return xp.exp(lp) - xp.exp(post + nll - lp)


class CtcLossBackward0(Node):
    _saved_names = ("log_probs", "targets")

    def backward(self, grad):
        lp_t, _ = self.saved_tensors
        lp = P.data(lp_t)
        g = P.data(grad)
        out = xp.zeros_like(lp)
        for b, (T, labels) in enumerate(zip(self.in_lengths, self.labels, strict=True)):
            nll = self.nll[b]
            if T == 0 or (self.zero_infinity and xp.isinf(nll)):
                continue
            alpha, ext, skip, _ = _ctc_one(lp[:T, b], labels, self.blank)
            out[:T, b] = _ctc_grad_one(lp[:T, b], alpha, ext, skip, nll) * g[b]
        return _once_differentiable(out, grad, lp_t, "_ctc_loss_backward")


def _ctc_labels(targets: Tensor, target_lengths: list, batch: int) -> list:
    t = targets._data
    if t.ndim == 2:
        need = max(target_lengths, default=0)
        if t.shape[1] < need:
            raise RuntimeError(
                f"Expected tensor to have size at least {need} at dimension 1, but got size "
                f"{t.shape[1]} for argument #2 'targets' (while checking arguments for "
                "ctc_loss_allocate_outputs)")
        return [t[b, :n] for b, n in enumerate(target_lengths)]
    offsets = xp.concatenate([[0], xp.cumsum(target_lengths)]).astype(int)
    return [t[offsets[b]:offsets[b + 1]] for b in range(batch)]


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification: -log of the total probability of all alignments
    of each target to its input (forward algorithm in log space)."""
    check_reduction(reduction)
    batched = log_probs.dim() == 3
    lp_t = log_probs if batched else log_probs.unsqueeze(1)
    if not batched:
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
    in_lengths = _lengths(input_lengths, "input_lengths")
    tg_lengths = _lengths(target_lengths, "target_lengths")
    lp = lp_t._data
    T, N = lp.shape[:2]
    for v in in_lengths:
        if v > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                               f"{v} (while checking arguments for ctc_loss_allocate_outputs)")
    labels = _ctc_labels(targets, tg_lengths, N)
    nll = xp.zeros(N, lp.dtype)
    for b in range(N):
        nll[b] = _ctc_one(lp[:in_lengths[b], b], labels[b], blank)[3] if in_lengths[b] else (
            0.0 if tg_lengths[b] == 0 else xp.inf)
    res = record(CtcLossBackward0, nll, (lp_t,), save=(lp_t, targets), in_lengths=in_lengths,
                 labels=labels, nll=nll.copy(), blank=blank, zero_infinity=zero_infinity)
    if zero_infinity:
        res = dyngrad.where(res == float("inf"), dyngrad.zeros((), dtype=res.dtype), res)
    if reduction == "mean":
        lengths = dyngrad.tensor(tg_lengths, dtype=res.dtype).clamp_min(1)
        return (res / lengths).mean()
    if reduction == "sum":
        return res.sum()
    return res if batched else res.squeeze(0)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target). With `options` (an
    `nn.LinearCrossEntropyOptions`), PyTorch's chunked path where it applies (class-index
    targets, (C, in_features) weight, no label smoothing), else the reference path with a
    warning."""
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        if (reduction in ("mean", "sum", "none") and label_smoothing == 0.0
                and target.dtype == dyngrad.int64 and not out_features):
            return _linear_cross_entropy_chunked(input, linear_weight, target, linear_bias,
                                                 weight, reduction, ignore_index, options)
        bias_shape = None if linear_bias is None else tuple(linear_bias.shape)
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
            "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features "
            f"== (). Got reduction={reduction!r}, label_smoothing={label_smoothing}, "
            f"target.dtype={target.dtype}, out_features={out_features}, tracing=False, "
            f"linear_bias.shape={bias_shape}.", stacklevel=2)
    if out_features:
        linear_weight = linear_weight.reshape(math.prod(out_features, start=classes), in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(math.prod(out_features, start=classes))
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)


# --- the chunked linear_cross_entropy ------------------------------------------------------------
# PyTorch runs it as two torch.library custom ops, `torch_nn::_linear_cross_entropy_batch_chunked`
# (mean, sum) and `..._no_reduction` (none); their autograd Functions, and so the loss's grad_fn,
# are named GeneratedBackwardFor_torch_nn_<op>_default(Backward). The loop below follows the CPU
# path of PyTorch's chunk loop step by step, in the same dtypes, so the values round alike.
_CHUNKED_TWICE = ("linear_cross_entropy chunked backward called twice; retain_graph=True / "
                  "double backward are not supported.")


def _linear_cross_entropy_chunked(input, linear_weight, target, linear_bias, weight, reduction,
                                  ignore_index, options):
    """The chunked op on (N, in_features) input (a 1-D input is a batch of one, squeezed after),
    with `options` resolved for these shapes."""
    batched = input.ndim == 2
    if not batched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    opts = options._adjust(num_batches=input.shape[0], in_features=input.shape[1],
                           num_classes=linear_weight.shape[0], dtype=input.dtype,
                           device=input.device)
    tensors = (input, linear_weight, target, linear_bias, weight)
    settings = (ignore_index, opts.batch_chunk_size, opts.acc_policy, opts.acc_dtype)
    needs = [t is not None and t.requires_grad for t in tensors]
    if not (dyngrad.is_grad_enabled() and any(needs)):
        # PyTorch's custom op runs no autograd kernel then: no node (and no forward-AD tangent)
        result = Tensor._make(_chunked_loop(*tensors, reduction, *settings)[0])
    elif reduction == "none":
        result = _ChunkedNoReduction.apply(*tensors, *settings)
    else:
        result = _ChunkedLoss.apply(*tensors, *settings, reduction, opts.allow_retain_graph,
                                    needs[0], needs[1], needs[3])
    return result if batched else result.squeeze(0)


def _sum(a, axis, dtype):
    """a summed along axis into dtype; PyTorch sums float16 in float32, rounding once."""
    if dtype != xp.float16:
        return a.sum(axis, dtype=dtype)
    return a.sum(axis, dtype=xp.float32).astype(dtype)


def _index_add_rows(a, index, src) -> None:
    """a[index[i]] += src[i] for rows i, as PyTorch's index_add_ (alpha 1): float16 accumulates
    in float32, rounded once (elsewhere, as with alpha -1 or 1-D, each addition is rounded, as
    NumPy's add.at does)."""
    if a.dtype != xp.float16:
        xp.add.at(a, index, src)
        return
    wide = a.astype(xp.float32)
    xp.add.at(wide, index, src.astype(xp.float32))
    a[...] = wide


def _sub_matmul(c, a, b):
    """c - a @ b, rounded once in float16 (which PyTorch's addmm accumulates in float32)."""
    if c.dtype != xp.float16:
        return c - a @ b
    return (c.astype(xp.float32) - a.astype(xp.float32) @ b.astype(xp.float32)).astype(c.dtype)


def _chunked_loop(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
                  batch_chunk_size, acc_policy, acc_dtype, needs=(False, False, False),
                  grad_output=None):
    """(loss, grad_input, grad_linear_weight, grad_linear_bias) as NumPy arrays, computed
    `batch_chunk_size` rows at a time; a gradient not in `needs` is None. The loss is the
    reduced one for mean/sum, per sample for 'none' without `grad_output`; with it ('none''s
    backward), the loss is None and the gradients are those of sum(loss * grad_output)."""
    if input.dtype is not acc_dtype and not (input.dtype is dyngrad.float16
                                             and acc_dtype is dyngrad.float32):
        raise RuntimeError(
            "linear_cross_entropy supports float32 acc_dtype with float16/bfloat16 inputs, but "
            f"got {acc_dtype} acc_dtype and {input.dtype} inputs.")
    x, lw, t = input._data, linear_weight._data, target._data
    if t.ndim == 0:  # PyTorch's errors for a target that is not one class per row
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if t.ndim > 1 and weight is not None:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if t.ndim > 1:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    dt, acc = x.dtype, acc_dtype.np
    mixed = dt != acc
    # float16 with float32 accumulation: 'accurate' computes logits and the input gradient in
    # float32, 'balanced' and 'compact' in float16; softmax sums, class weights and the loss
    # always accumulate in acc_dtype.
    wd = acc if mixed and acc_policy == "accurate" else dt
    staged = needs[1] and not (acc_policy == "compact" and wd == dt)  # (C, F) weight-grad scratch
    n, classes = x.shape[0], lw.shape[0]
    mask = t == ignore_index
    if ignore_index < 0 or ignore_index >= classes:
        t = xp.where(mask, 0, t)
    if weight is None:
        w = (~mask).astype(acc)
    elif t.size and (t.min() < 0 or t.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")
    else:
        w = xp.where(mask, 0, weight._data[t]).astype(acc)
    # w: each row's signed share of the loss (-weight / total weight for mean)
    if reduction == "mean":
        total = _sum(w, None, acc)
        w = w / (xp.nan if total == 0 else -total)
    elif reduction == "sum":
        w = -w
    elif grad_output is not None:
        w = -w * grad_output.astype(acc)
    per_sample = reduction == "none" and grad_output is None
    # the logits' operands: cast only when accumulating float16 in float32
    x_w, lw_w = (x.astype(wd, copy=False), lw.astype(wd)) if mixed else (x, lw)
    bias = None if linear_bias is None else linear_bias._data.astype(wd, copy=False)
    if per_sample:
        loss = xp.empty(n, dt)
    else:
        loss = None if reduction == "none" else xp.zeros((), acc)
    gi = xp.empty(x.shape, wd) if needs[0] else None
    gw = xp.zeros(lw.shape, dt) if needs[1] else None
    gb = xp.zeros(classes, dt) if needs[2] else None
    for s in range(0, n, batch_chunk_size):
        e = min(s + batch_chunk_size, n)
        if e > t.shape[0]:
            raise RuntimeError(
                f"start ({s}) + length ({e - s}) exceeds dimension size ({t.shape[0]}).")
        tc, wc = t[s:e], w[s:e]
        _check_mm(x_w.shape, lw_w.T.shape, x_w.dtype, lw_w.dtype)
        bad = (tc < 0) | (tc >= classes)
        if bad.any():
            raise RuntimeError(f"index {tc[bad][0]} is out of bounds for dimension 1 with size "
                               f"{classes}")
        logits = x_w[s:e] @ lw_w.T
        if bias is not None:
            logits += bias
        logits -= logits.max(1, keepdims=True)  # softmax stability
        picked = logits[xp.arange(e - s), tc].astype(acc)
        denom = _sum(xp.exp(logits, out=logits), 1, acc)
        if per_sample:
            loss[s:e] = (xp.log(denom) - picked) * wc
            continue
        if loss is not None:
            loss += wc @ picked
            loss -= wc @ xp.log(denom)
        if not any(needs):
            continue
        logits *= (wc / denom).astype(wd)[:, None]  # softmax scaled by each row's share
        if needs[2]:
            part = xp.zeros(classes, acc) if mixed else gb
            part -= _sum(logits, 0, part.dtype)
            xp.add.at(part, tc, wc)
            if mixed:
                gb += part.astype(dt)
        if needs[0]:
            gi[s:e] = _sub_matmul(lw_w[tc] * wc.astype(wd)[:, None], logits, lw_w)
        if needs[1]:
            x_acc = x[s:e].astype(acc, copy=False)
            if staged:
                part = logits.astype(acc, copy=False).T @ x_acc
                xp.add.at(part, tc, -(x_acc * wc[:, None]))
                gw -= part
            else:
                gw[...] = _sub_matmul(gw, logits.T, x[s:e])
                _index_add_rows(gw, tc, (x_acc * wc[:, None]).astype(dt))
    if reduction == "mean" and n == 0:
        loss = xp.asarray(xp.nan, acc)
    if loss is not None:
        loss = loss.astype(dt)
    return loss, None if gi is None else gi.astype(dt), gw, gb


def _torch_library_op(op: str):
    """Class decorator: the Function renamed as torch.library names the autograd Function of
    the custom op `torch_nn::<op>`, so that its nodes are named as PyTorch's
    (`GeneratedBackwardFor_torch_nn_<op>_defaultBackward`)."""
    return lambda fn: type(f"GeneratedBackwardFor_torch_nn_{op}_default", (fn,), {})


@_torch_library_op("_linear_cross_entropy_batch_chunked")
class _ChunkedLoss(Function):
    """Mean and sum: the forward computes the loss and all wanted gradients; the backward scales
    them by the upstream gradient, in place (so only once) unless allow_retain_graph."""

    @staticmethod
    def forward(ctx, input, linear_weight, target, linear_bias, weight, ignore_index,
                batch_chunk_size, acc_policy, acc_dtype, reduction, allow_retain_graph, *needs):
        loss, *grads = _chunked_loop(input, linear_weight, target, linear_bias, weight,
                                     reduction, ignore_index, batch_chunk_size, acc_policy,
                                     acc_dtype, needs)
        ctx.allow_retain_graph = allow_retain_graph
        # by position of the forward input (input, linear_weight, linear_bias); None once used
        ctx.grads = {i: Tensor._make(g) for i, g in zip((0, 1, 3), grads, strict=True)
                     if g is not None}
        return Tensor._make(loss)

    @staticmethod
    def backward(ctx, grad_output):
        result = [None] * 14
        for i, g in ctx.grads.items():
            if ctx.allow_retain_graph:
                result[i] = g * grad_output
            elif g is None:
                raise RuntimeError(_CHUNKED_TWICE)
            else:
                result[i] = g.mul_(grad_output)
        if not ctx.allow_retain_graph:
            ctx.grads = dict.fromkeys(ctx.grads)
        return tuple(result)


@_torch_library_op("_linear_cross_entropy_batch_chunked_no_reduction")
class _ChunkedNoReduction(Function):
    """'none': the forward computes the per-sample loss only and saves its inputs; the backward
    runs the chunk loop again with the upstream gradient folded into each row's weight."""

    @staticmethod
    def forward(ctx, input, linear_weight, target, linear_bias, weight, ignore_index,
                batch_chunk_size, acc_policy, acc_dtype):
        ctx.save_for_backward(input, linear_weight, target, linear_bias, weight)
        ctx.settings = (ignore_index, batch_chunk_size, acc_policy, acc_dtype)
        loss = _chunked_loop(input, linear_weight, target, linear_bias, weight, "none",
                             *ctx.settings)[0]
        return Tensor._make(loss)

    @staticmethod
    def backward(ctx, grad_output):
        input, linear_weight, target, linear_bias, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        needs = (needs[0], needs[1], linear_bias is not None and needs[3])
        result = [None] * 9
        if not any(needs):
            return tuple(result)
        if grad_output.requires_grad and dyngrad.is_grad_enabled():
            # PyTorch's loop writes into buffers with out=, which autograd refuses
            raise RuntimeError("div(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        _, *grads = _chunked_loop(input, linear_weight, target, linear_bias, weight, "none",
                                  *ctx.settings, needs, grad_output._data)
        for i, g in zip((0, 1, 3), grads, strict=True):
            if g is not None:
                result[i] = Tensor._make(g)
        return tuple(result)

