"""`CrossMapLRN2d`'s autograd Function (its grad_fn is a `CrossMapLRN2dBackward`, as PyTorch's).

PyTorch keeps this legacy (Lua Torch) layer as it was, window quirks included, with a
hand-written backward that is not the exact derivative of its forward and has no derivative
itself; all three are reproduced:

* forward: scale[c] = k + alpha / size * sum of x[j]**2 over j in {0} and
  [max(1, c - pre + 1), min(c + pre - 1, C - 1)], pre = (size - 1) // 2 + 1 (channel 0 is never
  dropped from the running sum); out = x * scale**-beta.
* backward: grad_x[c] = scale[c]**-beta * g[c] - 2 alpha beta / size * x[c] * (sum of
  g * out / scale over channels [c - post, c - post + size - 1]), post = (size + 1) // 2.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd import grad_mode
from dyngrad.autograd.function import Function


def _channel_sums(a, lo, hi):
    """sum of a[:, j] for j in [lo[c], hi[c]] (clipped to the channels), for every channel c."""
    n = a.shape[1]
    cs = xp.concatenate([xp.zeros_like(a[:, :1]), xp.cumsum(a, axis=1)], axis=1)
    lo, hi = xp.clip(lo, 0, n), xp.clip(hi + 1, 0, n)
    return cs[:, xp.maximum(hi, lo)] - cs[:, lo]


class CrossMapLRN2d(Function):
    @staticmethod
    def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        x = input._data
        c = xp.arange(x.shape[1])
        pre = (size - 1) // 2 + 1
        sq = x * x
        window = _channel_sums(sq, xp.maximum(1, c - pre + 1), c + pre - 1) + sq[:, :1]
        scale = window * (alpha / size) + k
        out = x * scale ** -beta
        ctx.size, ctx.alpha, ctx.beta, ctx.scale = size, alpha, beta, scale
        ctx.save_for_backward(input, Tensor._make(out))
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_mode.is_grad_enabled():  # create_graph: PyTorch's out= kernels refuse to record
            raise RuntimeError("mul(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        input, output = ctx.saved_tensors
        x, g, scale, size = input._data, grad_output._data, ctx.scale, ctx.size
        channels, post = x.shape[1], (size + 1) // 2
        if post + channels > channels + size - 1:  # size 1: PyTorch's padded buffer is too short
            raise RuntimeError(f"start ({post}) + length ({channels}) exceeds dimension size "
                               f"({channels + size - 1}).")
        c = xp.arange(channels)
        first = c - post
        ratio = _channel_sums(g * output._data / scale, first, first + size - 1)
        grad = scale ** -ctx.beta * g - (2 * ctx.alpha * ctx.beta / size) * x * ratio
        return Tensor._make(grad.astype(x.dtype)), None, None, None, None
