"""Max, average, power-average and adaptive pooling over 1-d, 2-d and 3-d windows.

Windows are strided views of the (padded) input, as in convolution. Average pooling is linear,
and max pooling's gradient is linear in the incoming gradient (a scatter to the argmax), so their
gradients go through `linear_op` and stay differentiable.
"""

from __future__ import annotations

import itertools
import math

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.functional._linear_op import linear_op, separable
from dyngrad.nn.functional.activation import relu
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, record, record_multi
from dyngrad.ops.random import rand

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices"]

_as_strided = xp.lib.stride_tricks.as_strided


def _tuple(v, n: int) -> tuple:
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    return v * n if len(v) == 1 else v


def _out_size(size, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    if ceil_mode:
        out = -(-(size + 2 * p - eff) // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return (size + 2 * p - eff) // s + 1


class _Pool:
    """Geometry of one pooling call over the last n dims of (N, C, *spatial)."""

    def __init__(self, shape, n, kernel_size, stride, padding, dilation, ceil_mode, name):
        self.shape, self.n = tuple(shape), n
        self.k = _tuple(kernel_size, n)
        empty = stride is None or not isinstance(stride, int) and not len(stride)
        self.s = _tuple(kernel_size if empty else stride, n)
        self.p = _tuple(padding, n)
        self.d = _tuple(dilation, n)
        spatial = self.shape[-n:]
        for k, p in zip(self.k, self.p, strict=True):
            if p > k // 2:
                raise RuntimeError(
                    f"pad should be at most half of effective kernel size, but got pad={p}, "
                    f"kernel_size={k} and dilation={self.d[0]}"
                )
        self.out = tuple(_out_size(*a, ceil_mode) for a in zip(
            spatial, self.k, self.s, self.p, self.d, strict=True))
        if any(o <= 0 for o in self.out):
            raise RuntimeError(
                f"Given input size: ({'x'.join(map(str, self.shape[-n - 1:]))}). Calculated "
                f"output size: ({'x'.join(map(str, (self.shape[-n - 1], *self.out)))}). Output "
                "size is too small"
            )
        # pad the far side too when ceil_mode lets the last window hang over the edge
        self.pads = tuple(
            (p, max(p, (o - 1) * s + d * (k - 1) + 1 - n_ - p))
            for n_, k, s, p, d, o in zip(spatial, self.k, self.s, self.p, self.d, self.out,
                                         strict=True))

    def windows(self, a, fill):
        """View (..., *out, *k) of `a` padded with `fill`."""
        lead = a.ndim - self.n
        return self.strided(xp.pad(a, [(0, 0)] * lead + list(self.pads), constant_values=fill))

    def strided(self, a):
        lead = a.ndim - self.n
        st = a.strides
        shape = a.shape[:lead] + self.out + self.k
        strides = st[:lead] + tuple(st[lead + i] * self.s[i] for i in range(self.n)) + tuple(
            st[lead + i] * self.d[i] for i in range(self.n))
        return _as_strided(a, shape, strides, writeable=False)

    def scatter_windows(self, cols, dtype):
        """Adjoint of `windows` (fill 0): add each window's values back to its positions."""
        lead = cols.ndim - 2 * self.n
        padded = [n_ + lo + hi for n_, (lo, hi) in zip(self.shape[-self.n:], self.pads,
                                                         strict=True)]
        out = xp.zeros(cols.shape[:lead] + tuple(padded), dtype)
        for idx in itertools.product(*(range(k) for k in self.k)):
            sl = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, d, s, o in zip(idx, self.d, self.s, self.out, strict=True))
            out[(Ellipsis, *sl)] += cols[(Ellipsis, *idx)]
        crop = tuple(slice(lo, lo + n_) for n_, (lo, _) in zip(self.shape[-self.n:], self.pads,
                                                                 strict=True))
        return out[(Ellipsis, *crop)]


def _check_input(input, n: int, name: str) -> None:
    check_tensor(input, name)
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"{name}: Expected {n + 1}D or {n + 2}D (batch mode) tensor for input, but got: "
            f"{list(input.shape)}"
        )


# --- max pooling ---------------------------------------------------------------------------------
class _MaxPoolBackward(Node):
    """Gradient: the incoming gradient added at each window's argmax (a linear scatter)."""

    def backward(self, grad, _grad_indices=None):
        x, _ = self.saved_tensors  # checks x's version, as PyTorch's kernel reading it does
        return P.masked_by(linear_op(grad, self.scatter, self.gather, self.scatter_name), x,
                           self.scatter_name)


class MaxPool2DWithIndicesBackward0(_MaxPoolBackward):
    pass


class MaxPool3DWithIndicesBackward0(_MaxPoolBackward):
    pass


def _max_pool(n, name, cls, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    _check_input(input, n, name)
    a = input._data
    geo = _Pool(a.shape, n, kernel_size, stride, padding, dilation, ceil_mode, name)
    neg = -xp.inf if a.dtype.kind == "f" else xp.iinfo(a.dtype).min
    cols = geo.windows(a, neg)
    flat = cols.reshape(cols.shape[: a.ndim] + (-1,))
    arg = flat.argmax(axis=-1)
    nan = xp.isnan(flat).any(axis=-1) if a.dtype.kind == "f" else None
    if nan is not None and nan.any():
        arg = xp.where(nan, xp.isnan(flat).argmax(axis=-1), arg)
    out = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    # flat input index of each argmax: window origin + offset inside the window
    spatial = a.shape[-n:]
    pos = []
    offs = xp.unravel_index(arg, geo.k)
    for i in range(n):
        origin = xp.arange(geo.out[i]) * geo.s[i] - geo.p[i]
        origin = origin.reshape((-1,) + (1,) * (n - 1 - i))
        pos.append(origin + offs[i] * geo.d[i])
    index = xp.zeros(arg.shape, xp.int64)
    for i in range(n):
        index = index * spatial[i] + pos[i]
    lead = a.shape[:-n]
    size = math.prod(spatial)

    def scatter(g):
        rows = xp.arange(math.prod(lead)).reshape(lead + (1,) * n) * size
        flat_idx = (rows + index).ravel()
        res = xp.bincount(flat_idx, weights=g.ravel(), minlength=math.prod(lead) * size)
        return res.reshape(a.shape).astype(g.dtype)

    def gather(g):
        return xp.take_along_axis(g.reshape(lead + (size,)), index.reshape(lead + (-1,)),
                                  axis=-1).reshape(index.shape)

    idx_t = Tensor._make(index)
    if not return_indices:
        return record(cls, out, (input,), save=(input, idx_t), scatter=scatter, gather=gather,
                      scatter_name=cls.__name__.replace("Backward0", "BackwardBackward0"))
    res, _ = record_multi(cls, [out, index], (input,), save=(input, idx_t),
                          differentiable=(True, False), scatter=scatter, gather=gather,
                          scatter_name=cls.__name__.replace("Backward0", "BackwardBackward0"))
    return res, idx_t


def _as_2d(input, fn, *args):
    """PyTorch runs 1-d pooling as 2-d pooling on (N, C, 1, L) and squeezes the result."""
    out = fn(input.unsqueeze(-2), *args)
    if isinstance(out, tuple):
        return tuple(o.squeeze(-2) for o in out)
    return out.squeeze(-2)


def _pair1(v, first):
    return (first, v if isinstance(v, int) else tuple(v)[0])


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding 1-d windows; `return_indices` also gives each argmax's position."""
    _check_input(input, 1, "max_pool1d")
    stride = kernel_size if stride in (None, []) else stride
    return _as_2d(input, max_pool2d, _pair1(kernel_size, 1), _pair1(stride, 1),
                  _pair1(padding, 0), _pair1(dilation, 1), ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding 2-d windows; `return_indices` also gives each argmax's position."""
    return _max_pool(2, "max_pool2d", MaxPool2DWithIndicesBackward0, input, kernel_size, stride,
                     padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding 3-d windows; `return_indices` also gives each argmax's position."""
    return _max_pool(3, "max_pool3d", MaxPool3DWithIndicesBackward0, input, kernel_size, stride,
                     padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


class MaxPool2DWithIndicesBackwardBackward0(Node):
    """max_pool2d_with_indices_backward's node: for grad_output, the gradient gathered back at
    the indices; for the input, zero."""

    def backward(self, grad):
        return (linear_op(grad, self.gather, self.scatter, "MaxPool2DWithIndicesBackward0"),
                P.zeros_like(grad))


def max_pool2d_with_indices_backward(grad_output, input, kernel_size, stride, padding, dilation,
                                     ceil_mode, indices) -> Tensor:
    """ATen's max_pool2d backward as an op (`torch.ops.aten`): each plane of `grad_output` added
    into zeros shaped like `input` at `indices` (flat positions in the plane). Linear in
    grad_output; `input` is an input with derivative zero, as in PyTorch."""
    check_tensor(grad_output, "max_pool2d_with_indices_backward")
    shape, index = input._data.shape, indices._data
    plane = shape[-2] * shape[-1]
    lead = shape[:-2]
    rows = xp.arange(math.prod(lead)).reshape(lead + (1, 1)) * plane

    def scatter(g):
        sums = xp.bincount((rows + index).ravel(), weights=g.ravel(),
                           minlength=math.prod(lead) * plane)
        return sums.reshape(shape).astype(g.dtype)

    def gather(g):
        return xp.take_along_axis(g.reshape(lead + (plane,)), index.reshape(lead + (-1,)),
                                  axis=-1).reshape(index.shape)

    return record(MaxPool2DWithIndicesBackwardBackward0, scatter(grad_output._data),
                  (grad_output, input), scatter=scatter, gather=gather)


# --- average pooling -----------------------------------------------------------------------------
def _avg_pool(n, name, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_input(input, n, name)
    a = input._data
    if a.dtype.kind not in "fc":
        raise RuntimeError(f'"{name}" not implemented for \'{input.dtype._short}\'')
    geo = _Pool(a.shape, n, kernel_size, stride, padding, 1, ceil_mode, name)
    if divisor_override:
        div = xp.asarray(float(divisor_override), a.dtype)
    else:
        # window sizes: inside input+padding when counting padding, else inside the input
        inside = xp.pad(xp.ones(a.shape[-n:], a.dtype), [(p, p) for p in geo.p],
                        constant_values=1 if count_include_pad else 0)
        inside = xp.pad(inside, [(0, hi - p) for (_, hi), p in zip(geo.pads, geo.p, strict=True)])
        div = geo.strided(inside).sum(axis=tuple(range(-n, 0)))
    axes = tuple(range(-n, 0))

    def pool(x):
        return geo.windows(x, 0).sum(axis=axes) / div

    def unpool(g):
        cols = xp.broadcast_to((g / div)[(Ellipsis,) + (None,) * n], g.shape + geo.k)
        return geo.scatter_windows(cols, g.dtype)

    return linear_op(input, pool, unpool, f"AvgPool{n}DBackward0", saves_input=True)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over sliding 1-d windows."""
    _check_input(input, 1, "avg_pool1d")
    stride = kernel_size if stride in (None, []) else stride
    return _as_2d(input, avg_pool2d, _pair1(kernel_size, 1), _pair1(stride, 1),
                  _pair1(padding, 0), ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over sliding 2-d windows."""
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over sliding 3-d windows."""
    return _avg_pool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# --- adaptive pooling ----------------------------------------------------------------------------
def _bins(size: int, out: int):
    """PyTorch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_matrix(size: int, out: int, dtype):
    m = xp.zeros((out, size), dtype)
    for i, (lo, hi) in enumerate(_bins(size, out)):
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive_avg(n, input, output_size, name):
    _check_input(input, n, name)
    a = input._data
    outs = tuple(s if o is None else o for s, o in zip(a.shape[-n:], _tuple(output_size, n),
                                                        strict=True))
    mats = [_adaptive_matrix(s, o, a.dtype) for s, o in zip(a.shape[-n:], outs, strict=True)]
    return separable(input, mats, f"AdaptiveAvgPool{n}DBackward0", saves_input=True)


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Mean over `output_size` near-equal windows covering the input."""
    _check_input(input, 1, "adaptive_avg_pool1d")
    return _as_2d(input, adaptive_avg_pool2d, _pair1(output_size, 1))


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Mean over an `output_size` grid of near-equal windows covering the input."""
    if output_size in (1, (1, 1), [1, 1]) and input.ndim in (3, 4):
        return input.mean((-2, -1), keepdim=True)  # PyTorch's shortcut, a plain mean
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Mean over an `output_size` grid of near-equal 3-d windows covering the input."""
    if output_size in (1, (1, 1, 1), [1, 1, 1]) and input.ndim in (4, 5):
        return input.mean((-3, -2, -1), keepdim=True)  # PyTorch's shortcut, a plain mean
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


def _adaptive_max(n, input, output_size, return_indices, name):
    _check_input(input, n, name)
    a = input._data
    outs = tuple(s if o is None else o for s, o in zip(a.shape[-n:], _tuple(output_size, n),
                                                        strict=True))
    bins = [_bins(s, o) for s, o in zip(a.shape[-n:], outs, strict=True)]
    lead = a.shape[:-n]
    values = xp.empty(lead + outs, a.dtype)
    index = xp.empty(lead + outs, xp.int64)
    spatial = a.shape[-n:]
    for cell in itertools.product(*(range(o) for o in outs)):
        ranges = [bins[i][c] for i, c in enumerate(cell)]
        win = a[(Ellipsis, *(slice(lo, hi) for lo, hi in ranges))]
        flat = win.reshape(lead + (-1,))
        arg = flat.argmax(axis=-1)
        values[(Ellipsis, *cell)] = xp.take_along_axis(flat, arg[..., None], -1)[..., 0]
        offs = xp.unravel_index(arg, win.shape[-n:])
        idx = xp.zeros(arg.shape, xp.int64)
        for i in range(n):
            idx = idx * spatial[i] + ranges[i][0] + offs[i]
        index[(Ellipsis, *cell)] = idx
    cls = AdaptiveMaxPool3DBackward0 if n == 3 else AdaptiveMaxPool2DBackward0
    return _record_max(cls, input, values, index, n, return_indices)


def _record_max(cls, input, values, index, n: int, return_indices: bool):
    """Record a max pooling whose maxima `values` sit at the flat in-plane positions `index`
    (over the last n dims of input); its gradient scatters to those positions."""
    a = input._data
    lead = a.shape[:-n]
    size = math.prod(a.shape[-n:])

    def scatter(g):
        rows = xp.arange(math.prod(lead)).reshape(lead + (1,) * n) * size
        res = xp.bincount((rows + index).ravel(), weights=g.ravel(),
                          minlength=math.prod(lead) * size)
        return res.reshape(a.shape).astype(g.dtype)

    def gather(g):
        return xp.take_along_axis(g.reshape(lead + (size,)), index.reshape(lead + (-1,)),
                                  axis=-1).reshape(index.shape)

    idx_t = Tensor._make(index)
    res, _ = record_multi(cls, [values, index], (input,), save=(input, idx_t),
                          differentiable=(True, False), scatter=scatter, gather=gather,
                          scatter_name=cls.__name__.replace("Backward0", "BackwardBackward0"))
    return (res, idx_t) if return_indices else res


class AdaptiveMaxPool2DBackward0(_MaxPoolBackward):
    pass


class AdaptiveMaxPool3DBackward0(_MaxPoolBackward):
    pass


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over `output_size` near-equal windows covering the input."""
    _check_input(input, 1, "adaptive_max_pool1d")
    return _as_2d(input, adaptive_max_pool2d, _pair1(output_size, 1), return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over an `output_size` grid of near-equal windows covering the input."""
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over an `output_size` grid of near-equal 3-d windows covering the input."""
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d's (values, indices), whatever `return_indices` says."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool2d's (values, indices), whatever `return_indices` says."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool3d's (values, indices), whatever `return_indices` says."""
    return adaptive_max_pool3d(input, output_size, True)


# --- power-average pooling -----------------------------------------------------------------------
def _lp_pool(n, input, norm_type, kernel_size, stride, ceil_mode):
    """(sum over each window of x**p) ** (1/p), composed as PyTorch composes it (so the grad_fn
    names match): an average pool of x**p times the window size, its negative values clamped
    to 0; p = +-inf is a max pool of |x| (a min pool for -inf)."""
    max_pool = (max_pool1d, max_pool2d, max_pool3d)[n - 1]
    avg_pool = (avg_pool1d, avg_pool2d, avg_pool3d)[n - 1]
    if isinstance(norm_type, int | float) and math.isinf(norm_type):
        if norm_type > 0:
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    size = math.prod(_tuple(kernel_size, n))
    return (out.sign() * relu(out.abs())).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """The p-norm of each sliding 1-d window (p = `norm_type`)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """The p-norm of each sliding 2-d window (p = `norm_type`)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """The p-norm of each sliding 3-d window (p = `norm_type`)."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# --- max unpooling -------------------------------------------------------------------------------
def _unpool_output_size(input, kernel_size, stride, padding, output_size) -> list:
    """PyTorch's default output size ((in - 1) * stride + kernel - 2 * padding), or the given
    one (with or without its (N, C) dims) when within one stride of it."""
    n = len(kernel_size)
    default = [(input.shape[-n + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
               for d in range(n)]
    if output_size is None:
        return default
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, "
                         f"but it has a length of '{len(output_size)}'")
    for d in range(n):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(
                f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    return list(output_size)


def _max_unpool(n, input, indices, kernel_size, stride, padding, output_size):
    """Scatter each value to its flat index in a zero (N, C, *output_size) tensor; the gradient
    gathers from those indices (MaxUnpool{n}DBackward0)."""
    check_tensor(input, f"max_unpool{n}d")
    k = _tuple(kernel_size, n)
    s = k if stride is None else _tuple(stride, n)
    return _unpool(n, input, indices, _unpool_output_size(input, k, s, _tuple(padding, n),
                                                          output_size))


def _unpool(n, input, indices, out):
    out = tuple(out)
    if indices.dtype.name != "int64":
        raise RuntimeError(
            f"elements in indices should be type int64 but got: {indices.dtype._short}")
    if indices.shape != input.shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, "
                           f"but got a tensor with {input.ndim} dimensions.")
    lead, size = input.shape[:-n], math.prod(out)
    idx = indices._data.reshape(lead + (-1,))
    bad = (idx < 0) | (idx >= size)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {idx[bad][0]} (output volumes are of "
                           f"size {'x'.join(map(str, out))})")

    def scatter(a):  # the output: a value written twice to one place keeps the last write
        res = xp.zeros(lead + (size,), a.dtype)
        xp.put_along_axis(res, idx, a.reshape(lead + (-1,)), axis=-1)
        return res.reshape(lead + out)

    def scatter_add(a):  # the adjoint of gather, which sums values sent to one place
        rows = xp.arange(math.prod(lead)).reshape(lead + (1,)) * size
        res = xp.bincount((rows + idx).ravel(), weights=a.ravel(),
                          minlength=math.prod(lead) * size)
        return res.astype(a.dtype).reshape(lead + out)

    def gather(g):
        return xp.take_along_axis(g.reshape(lead + (size,)), idx, axis=-1).reshape(input.shape)

    return linear_op(input, scatter_add, gather, f"MaxUnpool{n}DBackward0", forward=scatter)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool1d: values back at their argmax positions, zeros elsewhere (as
    PyTorch, a max_unpool2d of the input with a trailing dim of 1)."""
    k = _tuple(kernel_size, 1)
    s = k if stride is None else _tuple(stride, 1)
    size = _unpool_output_size(input, k, s, _tuple(padding, 1), output_size)
    return _unpool(2, input.unsqueeze(-1), indices.unsqueeze(-1), [*size, 1]).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d: values back at their argmax positions, zeros elsewhere."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool3d: values back at their argmax positions, zeros elsewhere."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# --- fractional max pooling --------------------------------------------------------------------
def _intervals(u, size: int, out: int, pool: int):
    """Window starts along one dim for samples u (planes,): PyTorch's pseudo-random sequence
    int((i + u) * alpha) - int(u * alpha), the last window ending at the input's end."""
    starts = xp.full(u.shape + (out,), size - pool, xp.int64)
    if out > 1:
        alpha = (size - pool) / (out - 1)
        i = xp.arange(out - 1)
        starts[:, :-1] = ((i + u[:, None]) * alpha).astype(xp.int64) - (
            (u * alpha).astype(xp.int64))[:, None]
    return starts


def _check_samples(samples, input, batch: int, planes: int, n: int) -> None:
    """PyTorch's checks on given `_random_samples` (batch, planes, n); extra rows are unused."""
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.ndim}")
    if samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != planes:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != n:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {n}; got "
                           f"{samples.shape[2]}.")


def _fractional_max(n, input, kernel_size, output_size, output_ratio, return_indices,
                    _random_samples):
    name = f"fractional_max_pool{n}d"
    _check_input(input, n, name)
    a = input._data
    spatial = a.shape[-n:]
    kernel = _tuple(kernel_size, n)
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an "
                             "output_ratio")
        outs = tuple(int(s * r) for s, r in zip(spatial, _tuple(output_ratio, n), strict=True))
    else:
        outs = _tuple(output_size, n)
    where = f"{name}()" if n == 2 else f"{name}_out()"
    for s, o, k, dim in zip(spatial, outs, kernel, ("time", "height", "width")[3 - n:],
                            strict=True):
        if o + k - 1 > s:
            raise RuntimeError(f"{where}: pool {dim} {k} too large relative to input {dim} {s}")
    planes = a.shape[-n - 1]
    batch = 1 if a.ndim == n + 1 else a.shape[0]
    if _random_samples is None:
        _random_samples = rand(batch, planes, n, dtype=input.dtype)
    else:
        _check_samples(_random_samples, input, batch, planes, n)
    u = _random_samples._data[:batch].reshape(-1, n)
    count = u.shape[0]
    # the samples are given W first (then H, for 2-d), T first (then H, W) for 3-d
    order = (1, 0) if n == 2 else (0, 1, 2)
    starts = [_intervals(u[:, order[d]], spatial[d], outs[d], kernel[d]) for d in range(n)]
    # flat in-plane index of every (plane, out cell, kernel offset)
    shape = (count,) + outs + kernel
    index = xp.zeros(shape, xp.int64)
    for d in range(n):
        pos = starts[d].reshape((count,) + tuple(outs[d] if j == d else 1 for j in range(n))
                                + (1,) * n)
        off = xp.arange(kernel[d]).reshape((1,) * (1 + n) + tuple(
            kernel[d] if j == d else 1 for j in range(n)))
        index = index * spatial[d] + pos + off
    flat = a.reshape(count, -1)
    win = xp.take_along_axis(flat, index.reshape(count, -1), axis=1).reshape(
        (count,) + outs + (-1,))
    cand = index.reshape((count,) + outs + (-1,))
    arg = xp.where(xp.isnan(win).any(-1), xp.isnan(win).argmax(-1), win.argmax(-1))[..., None]
    values = xp.take_along_axis(win, arg, -1)[..., 0].reshape(a.shape[:-n] + outs)
    index = xp.take_along_axis(cand, arg, -1)[..., 0].reshape(a.shape[:-n] + outs)
    cls = FractionalMaxPool3DBackward0 if n == 3 else FractionalMaxPool2DBackward0
    return _record_max(cls, input, values, index, n, return_indices)


class FractionalMaxPool2DBackward0(_MaxPoolBackward):
    pass


class FractionalMaxPool3DBackward0(_MaxPoolBackward):
    pass


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over kernel_size windows at pseudo-random starts (one random sample per plane and
    dim, drawn unless `_random_samples` (N, C, 2) gives them), output_size (or ratio) of them."""
    return _fractional_max(2, input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """fractional_max_pool2d over 3-d windows (`_random_samples` of shape (N, C, 3))."""
    return _fractional_max(3, input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_max(2, input, kernel_size, output_size, output_ratio, True,
                           _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_max(3, input, kernel_size, output_size, output_ratio, True,
                           _random_samples)
