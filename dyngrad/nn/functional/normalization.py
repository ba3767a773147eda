"""Batch, layer and group normalisation as primitives (one node each, as in PyTorch).

For y = (x - mean) * invstd over the reduced dims (M elements each), with dy = grad * weight:
    dx = invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
The backward recomputes mean and invstd from x with `_poly` helpers, so under `create_graph` the
same lines give second derivatives (the statistics depend on x too).
"""

from __future__ import annotations

import math

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, record, record_multi
from dyngrad.ops.inplace import bump_version

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
           "local_response_norm", "normalize"]


def _normalized_grad(x, grad, w, dims, eps):
    """(dx, xhat): the gradient through (x - mean) * invstd with batch statistics over `dims`."""
    m = math.prod(x.shape[d] for d in dims)
    mean = P.sum(x, dims, keepdim=True) / m
    xc = x - mean
    invstd = 1 / P.sqrt(P.sum(xc * xc, dims, keepdim=True) / m + eps)
    xhat = xc * invstd
    dy = grad if w is None else grad * w
    dx = invstd * (dy - P.sum(dy, dims, keepdim=True) / m
                   - xhat * (P.sum(dy * xhat, dims, keepdim=True) / m))
    return dx, xhat


def _affine_grads(node, grad, xhat, dims):
    """Gradients of weight and bias (summed over every dim they are broadcast along)."""
    gw = gb = None
    if node._next[1][0] is not None:
        gw = P.sum(grad * xhat, dims)
    if node._next[2][0] is not None:
        gb = P.sum(grad, dims)
    return gw, gb


class NativeBatchNormBackward0(Node):
    _saved_names = ("input", "weight")

    def backward(self, grad):
        x, w = self.saved_tensors
        shape = (1, -1) + (1,) * (x.ndim - 2)
        wb = None if w is None else P.reshape(w, shape)
        dims = (0,) + tuple(range(2, x.ndim))
        if self.training:
            dx, xhat = _normalized_grad(x, grad, wb, dims, self.eps)
        else:
            invstd = P.const(self.invstd.reshape(shape), x)
            xhat = (x - P.const(self.mean.reshape(shape), x)) * invstd
            dx = P.masked_by((grad if wb is None else grad * wb) * invstd, x,
                             "NativeBatchNormBackwardBackward0", undefined=True)
        gw, gb = _affine_grads(self, grad, xhat, dims)
        return dx, gw, gb



def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) by batch statistics (training) or running ones (eval);
    training also updates the running statistics in place (unbiased variance)."""
    check_tensor(input, "batch_norm")
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps)[0]


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                cls=NativeBatchNormBackward0):
    """(output, mean, invstd) of batch_norm: the statistics used (batch or running ones),
    recorded under node class `cls` (torch's native variants differ only in name)."""
    a = input._data
    if training and a.shape[0] * math.prod(a.shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}"
        )
    if a.size == 0:  # as PyTorch: a copy (never a view), with weight[0] and bias[0] applied
        out = input.clone()
        if weight is not None:
            out = out * weight[0]
        return (out if bias is None else out + bias[0]), None, None
    dims = (0,) + tuple(range(2, a.ndim))
    shape = (1, -1) + (1,) * (a.ndim - 2)
    if training:
        n = a.size // a.shape[1]
        mean = a.mean(axis=dims)
        var = a.var(axis=dims)
        if running_mean is not None:
            rm = running_mean._data
            rm *= 1 - momentum
            rm += momentum * mean
            bump_version(running_mean, "batch_norm")
        if running_var is not None:
            rv = running_var._data
            rv *= 1 - momentum
            rv += momentum * var * n / (n - 1)
            bump_version(running_var, "batch_norm")
    else:
        mean, var = running_mean._data, running_var._data
    invstd = 1 / xp.sqrt(var + eps)
    out = (a - mean.reshape(shape)) * invstd.reshape(shape)
    if weight is not None:
        out = out * weight._data.reshape(shape)
    if bias is not None:
        out = out + bias._data.reshape(shape)
    res = record(cls, out.astype(a.dtype, copy=False), (input, weight, bias),
                 save=(input, weight), training=training, eps=eps, mean=mean, invstd=invstd)
    return res, mean, invstd


class NativeLayerNormBackward0(Node):
    _saved_names = ("input", "weight")

    def backward(self, grad):
        x, w = self.saved_tensors
        nd = self.nd
        dims = tuple(range(x.ndim - nd, x.ndim))
        dx, xhat = _normalized_grad(x, grad, w, dims, self.eps)
        lead = tuple(range(x.ndim - nd))
        gw, gb = _affine_grads(self, grad, xhat, lead)
        return dx, gw, gb


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) dims, then scale and shift."""
    check_tensor(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    a = input._data
    nd = len(shape)
    if a.shape[a.ndim - nd:] != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    return _layer_norm(input, nd, weight, bias, eps)[0]


def _layer_norm(input, nd: int, weight, bias, eps):
    """(output, mean, rstd) of layer_norm over the last `nd` dims (statistics keep dims)."""
    a = input._data
    dims = tuple(range(a.ndim - nd, a.ndim))
    mean = a.mean(axis=dims, keepdims=True)
    xc = a - mean
    rstd = 1 / xp.sqrt((xc * xc).mean(axis=dims, keepdims=True) + eps)
    out = xc * rstd
    if weight is not None:
        out = out * weight._data
    if bias is not None:
        out = out + bias._data
    res = record(NativeLayerNormBackward0, out, (input, weight, bias), save=(input, weight),
                 nd=nd, eps=eps)
    return res, mean, rstd


class NativeGroupNormBackward0(Node):
    _saved_names = ("input", "weight")

    def backward(self, grad, gmean=None, grstd=None):
        x, w = self.saved_tensors
        n, c = x.shape[:2]
        g = self.groups
        grouped = (n, g, -1)
        dx = gw = gb = None
        if grad is not None:
            shape = (1, c) + (1,) * (x.ndim - 2)
            dy = grad if w is None else grad * P.reshape(w, shape)
            dx, xhat = _normalized_grad(P.reshape(x, grouped), P.reshape(dy, grouped), None,
                                        (2,), self.eps)
            dx, xhat = P.reshape(dx, x.shape), P.reshape(xhat, x.shape)
            gw, gb = _affine_grads(self, grad, xhat, (0,) + tuple(range(2, x.ndim)))
        # native_group_norm's statistics outputs count only together, as in PyTorch's formula
        if gmean is not None and grstd is not None:
            dx = _stats_grad(P.reshape(x, grouped), gmean, grstd, self.eps, dx, x.shape)
        return dx, gw, gb


def _stats_grad(xg, gmean, grstd, eps, dx, shape):
    """dx plus the gradient through the per-group mean and rstd of xg (n, groups, m)."""
    m = xg.shape[2]
    xc = xg - P.sum(xg, (2,), keepdim=True) / m
    rstd = 1 / P.sqrt(P.sum(xc * xc, (2,), keepdim=True) / m + eps)
    extra = P.reshape((P.unsqueeze(gmean, -1) - P.unsqueeze(grstd, -1) * (rstd * rstd * rstd)
                       * xc) / m, shape)
    return extra if dx is None else dx + extra


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each group of channels of each sample, then scale and shift per channel."""
    check_tensor(input, "group_norm")
    a = input._data
    n, c = a.shape[:2]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {input.shape} and num_groups={num_groups}"
        )
    return _group_norm(input, num_groups, weight, bias, eps)


def _group_norm(input, num_groups: int, weight, bias, eps, stats: bool = False):
    """group_norm's output, or with `stats` (output, mean, rstd) of one node (statistics of
    shape (N, num_groups), differentiable as torch's native_group_norm's)."""
    a = input._data
    n, c = a.shape[:2]
    g = a.reshape(n, num_groups, -1)
    mean = g.mean(axis=2, keepdims=True)
    gc = g - mean
    rstd = 1 / xp.sqrt((gc * gc).mean(axis=2, keepdims=True) + eps)
    out = (gc * rstd).reshape(a.shape)
    shape = (1, c) + (1,) * (a.ndim - 2)
    if weight is not None:
        out = out * weight._data.reshape(shape)
    if bias is not None:
        out = out + bias._data.reshape(shape)
    if not stats:
        return record(NativeGroupNormBackward0, out, (input, weight, bias), save=(input, weight),
                      groups=num_groups, eps=eps)
    return record_multi(NativeGroupNormBackward0, [out, mean[..., 0], rstd[..., 0]],
                        (input, weight, bias), (input, weight), materialize=False,
                        groups=num_groups, eps=eps)


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims: as PyTorch, a batch norm of
    the (1, N * C, ...) view with repeated weight, bias and running statistics, viewed back (the
    output's grad_fn is a ViewBackward0); the running statistics get the mean over the batch."""
    check_tensor(input, "instance_norm")
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}"
        )
    n, c = input.shape[:2]
    weight, bias = (None if t is None else t.repeat(n) for t in (weight, bias))
    stats = [None if t is None else Tensor._make(xp.tile(t._data, n))
             for t in (running_mean, running_var)]
    out = batch_norm(input.reshape(1, n * c, *input.shape[2:]), *stats, weight, bias,
                     use_input_stats, momentum, eps)
    for buf, rep in zip((running_mean, running_var), stats, strict=True):
        if buf is not None:
            buf._data[...] = rep._data.reshape(n, c).mean(0)
            bump_version(buf, "instance_norm")
    return out.view(input.shape)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the last dims, times weight (composed of tensor ops)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    dims = tuple(range(-len(shape), 0))
    if eps is None:
        eps = float(xp.finfo(input._data.dtype).eps)
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha / size * sum of x**2 over `size` neighbouring channels) ** beta."""
    from dyngrad.nn.functional.misc import pad
    from dyngrad.nn.functional.pooling import avg_pool2d

    div = (input * input).unsqueeze(1)
    if input.ndim == 3:
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = div.reshape(sizes[0], 1, sizes[1] + size - 1, -1)
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1).reshape(sizes)
    div = (div * alpha + k) ** beta
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom
