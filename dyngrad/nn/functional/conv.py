"""Convolutions (1-d, 2-d, 3-d, transposed) as one primitive: im2col by stride tricks + tensordot.

A convolution `y = F(x, w)` is bilinear, and so are its two gradients: `gx = Bx(g, w)` (the
transposed convolution) and `gw = Bw(x, g)`. The gradients of each of the three are again among
the three, so one node class, parameterised by which of them it computes, gives derivatives of
every order at NumPy speed:

    F(x, w):  dx = Bx(u, w), dw = Bw(x, u)
    Bx(g, w): dg = F(u, w),  dw = Bw(u, g)
    Bw(x, g): dx = Bx(g, u), dg = F(x, u)
"""

from __future__ import annotations

import itertools

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.functional._composite import composite
from dyngrad.nn.functional.misc import pad
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, record

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv_tbc"]

_as_strided = xp.lib.stride_tricks.as_strided


class Geometry:
    """Sizes of one convolution: spatial dims, stride, padding (lo, hi), dilation, groups; `out`
    (the output's spatial size) is given by a transposed convolution, whose output_padding may
    make the input one window longer than its own input's size implies."""

    def __init__(self, x_shape, w_shape, stride, pad, dilation, groups, out=None):
        self.x_shape, self.w_shape = tuple(x_shape), tuple(w_shape)
        self.stride, self.pad, self.dilation, self.groups = stride, pad, dilation, groups
        self.k = self.w_shape[2:]
        self.out = tuple(out) if out is not None else tuple(
            (n + lo + hi - d * (k - 1) - 1) // s + 1
            for n, (lo, hi), d, k, s in zip(x_shape[2:], pad, dilation, self.k, stride,
                                             strict=True)
        )

    def windows(self, x):
        """View (N, C, *out, *k) of the zero-padded input."""
        if any(lo or hi for lo, hi in self.pad):
            x = xp.pad(x, [(0, 0), (0, 0), *self.pad])
        s = x.strides
        nd = len(self.k)
        shape = x.shape[:2] + self.out + self.k
        strides = s[:2] + tuple(s[2 + i] * self.stride[i] for i in range(nd)) + tuple(
            s[2 + i] * self.dilation[i] for i in range(nd))
        return _as_strided(x, shape, strides, writeable=False)

    def groups_of(self, a, axis: int):
        """`a` split into the convolution's groups along `axis` (views, no copies)."""
        if self.groups == 1:
            return [a]
        size = a.shape[axis] // self.groups
        lead = (slice(None),) * axis
        return [a[(*lead, slice(g * size, (g + 1) * size))] for g in range(self.groups)]


def _forward(x, w, geo: Geometry):
    """y[n, o, *p] = sum over c, k of x_pad[n, c, p * stride + k * dilation] * w[o, c, k]."""
    nd = len(geo.k)
    cols = geo.windows(x)
    outs = []
    for cg, wg in zip(geo.groups_of(cols, 1), geo.groups_of(w, 0),
                      strict=True):
        axes_c = [1] + list(range(2 + nd, 2 + 2 * nd))
        y = xp.tensordot(cg, wg, axes=(axes_c, list(range(1, 2 + nd))))  # (N, *out, Og)
        outs.append(xp.moveaxis(y, -1, 1))
    y = outs[0] if len(outs) == 1 else xp.concatenate(outs, axis=1)
    return xp.ascontiguousarray(y)


def _grad_input(g, w, geo: Geometry):
    """The transposed convolution: scatter g * w back onto the input positions."""
    nd = len(geo.k)
    n, c = geo.x_shape[:2]
    padded = [s + lo + hi for s, (lo, hi) in zip(geo.x_shape[2:], geo.pad, strict=True)]
    out = xp.zeros((n, c, *padded), dtype=xp.result_type(g, w))
    cg = c // geo.groups
    for gi, (gg, wg) in enumerate(zip(geo.groups_of(g, 1),
                                      geo.groups_of(w, 0), strict=True)):
        cols = xp.tensordot(gg, wg, axes=([1], [0]))  # (N, *out, Cg, *k)
        cols = xp.moveaxis(cols, 1 + nd, 1)  # (N, Cg, *out, *k)
        for idx in itertools.product(*(range(k) for k in geo.k)):
            sl = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, d, s, o in zip(idx, geo.dilation, geo.stride, geo.out, strict=True))
            out[(slice(None), slice(gi * cg, (gi + 1) * cg), *sl)] += cols[(Ellipsis, *idx)]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(geo.x_shape[2:], geo.pad, strict=True))
    return out[(slice(None), slice(None), *crop)]


def _grad_weight(x, g, geo: Geometry):
    """gw[o, c, k] = sum over n, p of g[n, o, p] * x_pad[n, c, p * stride + k * dilation]."""
    nd = len(geo.k)
    cols = geo.windows(x)
    axes = [0] + list(range(2, 2 + nd))
    outs = [xp.tensordot(gg, cg, axes=(axes, axes))
            for gg, cg in zip(geo.groups_of(g, 1), geo.groups_of(cols, 1),
                              strict=True)]
    return outs[0] if len(outs) == 1 else xp.concatenate(outs, axis=0)


_KERNELS = {"F": _forward, "Bx": _grad_input, "Bw": _grad_weight}
# For each kind, (kind, operands) of the gradient wrt its first and second operand; "u" is the
# incoming gradient, "a"/"b" the node's operands.
_RULES = {
    "F": (("Bx", "u", "b"), ("Bw", "a", "u")),
    "Bx": (("F", "u", "b"), ("Bw", "u", "a")),
    "Bw": (("Bx", "b", "u"), ("F", "a", "u")),
}


class ConvolutionBackward0(Node):
    _saved_names = ("input", "weight")

    def backward(self, grad):
        a, b = self.saved_tensors
        env = {"u": grad, "a": a, "b": b}
        grads = [None, None, None]
        for i, (kind, p, q) in enumerate(_RULES[self.kind]):
            if self._next[i][0] is not None:
                grads[i] = _conv_op(kind, env[p], env[q], self.geo)
        if grads[0] is not None:  # PyTorch's kernel takes the input (derivative undefined)
            grads[0] = P.masked_by(grads[0], a, "ConvolutionBackwardBackward0", undefined=True)
        if len(self._next) == 3 and self._next[2][0] is not None:
            grads[2] = P.sum(grad, tuple(i for i in range(grad.ndim) if i != 1))
        return tuple(grads[: len(self._next)])


class ConvolutionBackwardBackward0(ConvolutionBackward0):
    pass


def _conv_op(kind: str, a, b, geo: Geometry, bias=None, cls=ConvolutionBackwardBackward0):
    """Run kernel `kind` on arrays, or record it as a node when given tensors."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return _KERNELS[kind](a, b, geo)
    a, b = (t if isinstance(t, Tensor) else Tensor._make(t) for t in (a, b))
    data = _KERNELS[kind](P.data(a), P.data(b), geo)
    inputs = (a, b) if bias is None else (a, b, bias)
    if bias is not None:
        data = data + bias._data.reshape((1, -1) + (1,) * (data.ndim - 2))
    return record(cls, data, inputs, save=(a, b), kind=kind, geo=geo)


def _tuple(v, n: int) -> tuple:
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    return v * n if len(v) == 1 else v


def _pairs(padding, x_shape, k, dilation, n: int):
    if padding == "valid":
        return ((0, 0),) * n
    if padding == "same":
        out = []
        for kk, d in zip(k, dilation, strict=True):
            total = d * (kk - 1)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    return tuple((p, p) for p in _tuple(padding, n))


def _check(input, weight, bias, groups, n: int, name: str, transposed: bool = False) -> None:
    check_tensor(input, name)
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got input "
            f"of size: {list(input.shape)}"
        )
    c = input.shape[1] if input.ndim == n + 2 else input.shape[0]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if c != expected:
        shape = list(input.shape)
        if transposed:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                f"{shape} to have {weight.shape[0]} channels, but got {c} channels instead"
            )
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{shape} "
            f"to have {weight.shape[1] * groups} channels, but got {c} channels instead"
        )


def _conv(n: int, name: str, input, weight, bias, stride, padding, dilation, groups):
    _check(input, weight, bias, groups, n, name)
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride, dilation = _tuple(stride, n), _tuple(dilation, n)
    pad = _pairs(padding, input.shape, weight.shape[2:], dilation, n)
    geo = Geometry(input.shape, weight.shape, stride, pad, dilation, groups)
    if any(o <= 0 for o in geo.out):
        padded = [s + lo + hi for s, (lo, hi) in zip(input.shape[2:], pad, strict=True)]
        ks = [d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:], strict=True)]
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, ks))}). Kernel size can't be greater than "
            "actual input size"
        )
    out = _conv_op("F", input, weight, geo, bias, ConvolutionBackward0)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d convolution (cross-correlation) over (N, C, L)."""
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d convolution (cross-correlation) over (N, C, H, W)."""
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d convolution (cross-correlation) over (N, C, D, H, W)."""
    return _conv(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_t(n, name, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check(input, weight, bias, groups, n, name, transposed=True)
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride, dilation = _tuple(stride, n), _tuple(dilation, n)
    padding, output_padding = _tuple(padding, n), _tuple(output_padding, n)
    k = weight.shape[2:]
    spatial = tuple((i - 1) * s - 2 * p + d * (kk - 1) + op + 1 for i, s, p, d, kk, op in zip(
        input.shape[2:], stride, padding, dilation, k, output_padding, strict=True))
    x_shape = (input.shape[0], weight.shape[1] * groups, *spatial)
    geo = Geometry(x_shape, weight.shape, stride, tuple((p, p) for p in padding), dilation,
                   groups, input.shape[2:])
    out = _conv_op("Bx", input, weight, geo, bias, ConvolutionBackward0)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The gradient of conv1d with respect to its input, as a layer (`deconvolution`)."""
    return _conv_t(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The gradient of conv2d with respect to its input, as a layer (`deconvolution`)."""
    return _conv_t(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """The gradient of conv3d with respect to its input, as a layer (`deconvolution`)."""
    return _conv_t(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


def _tbc(input, weight, bias, ends: int):
    """out[t] = bias + sum over k of x[t + k] @ weight[k], x the (time, batch, channel) input
    with `ends` zeros added at both ends of time."""
    x = pad(input, (0, 0, 0, 0, ends, ends))
    steps = x.shape[0] - weight.shape[0] + 1
    out = bias
    for k in range(weight.shape[0]):
        out = out + x[k:k + steps].matmul(weight[k])
    return out


def conv_tbc(input, weight, bias, pad: int = 0) -> Tensor:
    """1-d convolution of (time, batch, in_channels) input with a (kernel_width, in_channels,
    out_channels) weight, `pad` zeros (or, when negative, a crop) at both ends of time."""
    if input.ndim != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.ndim != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if bias.shape[0] != weight.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    steps = input.shape[0] + 2 * pad - weight.shape[0] + 1
    if steps < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {steps}: "
                           f"[{steps}, {input.shape[1]}, {weight.shape[2]}]")
    return composite("ConvTbcBackward0", lambda x, w, b: _tbc(x, w, b, pad), input, weight,
                     bias)
