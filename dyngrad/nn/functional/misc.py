"""Linear maps, dropout, embeddings, padding, resampling and attention.

Most are compositions of tensor ops (so PyTorch's grad_fn names and every derivative come for
free); embedding, padding and upsampling are linear primitives (`linear_op`, `separable`).
"""

from __future__ import annotations

import math

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.functional._linear_op import linear_op, separable
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, record

__all__ = [
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "embedding", "one_hot", "pad", "pixel_shuffle", "pixel_unshuffle",
    "interpolate", "upsample", "normalize", "cosine_similarity", "pairwise_distance", "pdist",
]


# --- linear maps ---------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias (an addmm for 2-d input, as in PyTorch)."""
    check_tensor(input, "linear")
    k = input.shape[-1] if input.ndim else 1
    if weight.ndim == 2 and k != weight.shape[1]:
        rows = math.prod(input.shape[:-1]) if input.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
            f"{weight.shape[1]}x{weight.shape[0]})"
        )
    wt = weight.t()
    if bias is None:
        return input.mm(wt) if input.ndim == 2 else input.matmul(wt)
    if input.ndim == 2:
        return dyngrad.addmm(bias, input, wt)
    if input.ndim > 2:
        out = dyngrad.addmm(bias, input.reshape(-1, k), wt)
        return out.view(*input.shape[:-1], out.shape[-1])
    return input.matmul(wt) + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """y_o = x1 @ W_o @ x2 + b_o."""
    out = dyngrad.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


# --- dropout -------------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input: Tensor, p: float, shape) -> Tensor:
    """Bernoulli(1 - p) mask scaled by 1 / (1 - p), drawn with dyngrad's generator."""
    if p == 1:
        return dyngrad.zeros(shape, dtype=input.dtype)
    keep = dyngrad.empty(shape, dtype=input.dtype).bernoulli_(1 - p)
    return keep.div_(1 - p)


def _apply_mask(input: Tensor, mask: Tensor, inplace: bool) -> Tensor:
    return input.mul_(mask) if inplace else input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p (training), scaling the rest by 1 / (1 - p)."""
    _check_p(p)
    if not training or p == 0:
        return input
    return _apply_mask(input, _dropout_mask(input, p, input.shape), inplace)


def _feature_dropout(input, p, training, inplace, n: int, name: str):
    _check_p(p)
    if not training or p == 0:
        return input
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"{name}: Expected {n + 1}D or {n + 2}D input, but received a {input.ndim}D input."
        )
    batched = input.ndim == n + 2
    shape = input.shape[: 2 if batched else 1] + (1,) * n
    return _apply_mask(input, _dropout_mask(input, p, shape), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) input."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


_ALPHA = 1.7580993408473766  # -SELU's negative saturation value


def _alpha_dropout(input, p, training, shape):
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = dyngrad.empty(shape, dtype=input.dtype).bernoulli_(1 - p)
    a = 1 / math.sqrt((_ALPHA**2 * p + 1) * (1 - p))
    b = keep.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
    return input * keep.mul_(a) + b


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU activations' mean and variance."""
    return _alpha_dropout(input, p, training, input.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels."""
    return _alpha_dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


# --- embeddings ----------------------------------------------------------------------------------
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of `weight` picked by integer `input`; the padding row gets no gradient."""
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{input.dtype.legacy} instead (while checking "
            "arguments for embedding)"
        )
    idx = input._data
    num = weight.shape[0]
    if idx.size and (idx.min() < -num or idx.max() >= num):
        raise IndexError("index out of range in self")
    idx = idx % num
    if max_norm is not None:
        _renorm_rows(weight, xp.unique(idx), max_norm, norm_type)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    counts = xp.bincount(idx.ravel(), minlength=num) if scale_grad_by_freq else None

    def take(w):
        return w[idx]

    def take_masked(w):  # the adjoint of `put`, which gives the padding row no gradient
        if padding_idx is None:
            return w[idx]
        return xp.where((idx == padding_idx)[..., None], 0, w[idx])

    def put(g):
        g = g.reshape(-1, g.shape[-1])
        if counts is not None:
            g = g / counts[idx.ravel()][:, None]
        out = xp.zeros((num, g.shape[-1]), g.dtype)
        xp.add.at(out, idx.ravel(), g)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    return linear_op(weight, take_masked, put, "EmbeddingBackward0", forward=take)


def _renorm_rows(weight: Tensor, rows, max_norm: float, norm_type: float) -> None:
    """Rescale in place the looked-up rows whose norm exceeds max_norm (as PyTorch does)."""
    w = weight._data
    norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] *= scale[:, None].astype(w.dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(..., num_classes) int64 tensor with a 1 at each index."""
    if tensor.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    idx = tensor._data
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((idx[..., None] == xp.arange(num_classes)).astype(xp.int64))


# --- padding -------------------------------------------------------------------------------------
def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims; `pad` lists (left, right) from the last dim backwards."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n = len(pad) // 2
    if n > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           "dimension but got padding length " f"{len(pad)} and input of dimension "
                           f"{input.ndim}")
    pairs = [(0, 0)] * (input.ndim - n) + [(pad[2 * i], pad[2 * i + 1]) for i in range(n)][::-1]
    if mode == "constant":
        return _constant_pad(input, pairs, 0.0 if value is None else value)
    idx = [_pad_index(size, lo, hi, mode) for size, (lo, hi) in
           zip(input.shape[-n:], pairs[-n:], strict=True)]
    mats = []
    for size, ix in zip(input.shape[-n:], idx, strict=True):
        m = xp.zeros((len(ix), size))
        m[xp.arange(len(ix)), ix] = 1
        mats.append(m)
    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}
    return separable(input, mats, f"{names[mode]}{n}DBackward0")


def _pad_index(size: int, lo: int, hi: int, mode: str):
    pos = xp.arange(-lo, size + hi)
    if mode == "reflect":
        period = 2 * (size - 1)
        pos = xp.abs((pos % period + period) % period) if period else pos * 0
        return xp.where(pos >= size, period - pos, pos)
    if mode == "replicate":
        return xp.clip(pos, 0, size - 1)
    if mode == "circular":
        return pos % size
    raise NotImplementedError(f"Unrecognised padding mode {mode}")


def _constant_pad(input: Tensor, pairs, value) -> Tensor:
    keep = tuple(slice(max(lo, 0), max(lo, 0) + s + min(lo, 0) + min(hi, 0))
                 for s, (lo, hi) in zip(input.shape, pairs, strict=True))
    cut = tuple(slice(-min(lo, 0), s - (-min(hi, 0))) for s, (lo, hi) in
                zip(input.shape, pairs, strict=True))
    out_shape = tuple(s + lo + hi for s, (lo, hi) in zip(input.shape, pairs, strict=True))

    def fwd(a):
        out = xp.zeros(out_shape, a.dtype)
        out[keep] = a[cut]
        return out

    def adj(g):
        out = xp.zeros(input.shape, g.dtype)
        out[cut] = g[keep]
        return out

    out = linear_op(input, fwd, adj, "ConstantPadNdBackward0")
    if value:
        border = xp.ones(out_shape, bool)
        border[keep] = False
        out._data[border] = value
    return out


# --- resampling ----------------------------------------------------------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def _resample_matrix(size: int, out: int, mode: str, align_corners, scale):
    m = xp.zeros((out, size))
    rows = xp.arange(out)
    if mode == "nearest":
        s = size / out if scale is None else 1 / scale
        m[rows, xp.minimum(xp.floor(rows * s).astype(int), size - 1)] = 1
        return m
    if align_corners:
        src = rows * ((size - 1) / (out - 1)) if out > 1 else rows * 0.0
    else:
        s = size / out if scale is None else 1 / scale
        src = xp.maximum((rows + 0.5) * s - 0.5, 0)
    lo = xp.minimum(xp.floor(src).astype(int), size - 1)
    hi = xp.minimum(lo + 1, size - 1)
    frac = src - lo
    xp.add.at(m, (rows, lo), 1 - frac)
    xp.add.at(m, (rows, hi), frac)
    return m


_UPSAMPLE = {("nearest", 1): "UpsampleNearest1DBackward0",
             ("nearest", 2): "UpsampleNearest2DBackward0",
             ("linear", 1): "UpsampleLinear1DBackward0",
             ("bilinear", 2): "UpsampleBilinear2DBackward0"}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor=None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims: 'nearest', 'linear' (1-d) or 'bilinear' (2-d)."""
    n = input.ndim - 2
    if (mode, n) not in _UPSAMPLE:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs "
            f"{ {'linear': 3, 'bilinear': 4}.get(mode, 3) }D input"
        )
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = [None] * n
    if size is None:
        sf = scale_factor if isinstance(scale_factor, tuple | list) else [scale_factor] * n
        size = [int(math.floor(s * f)) for s, f in zip(input.shape[2:], sf, strict=True)]
        scales = list(sf) if not recompute_scale_factor else scales
    size = [size] * n if isinstance(size, int) else list(size)
    mats = [_resample_matrix(s, o, mode, align_corners, sc)
            for s, o, sc in zip(input.shape[2:], size, scales, strict=True)]
    return separable(input, mats, _UPSAMPLE[(mode, n)])


upsample = interpolate


# --- distances ----------------------------------------------------------------------------------
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p, eps) along dim."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom if out is None else dyngrad.div(input, denom, out=out)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1 / max(||x1||, eps), x2 / max(||x2||, eps)> along dim, as PyTorch computes it: the
    clamp is applied without recording, so the gradient flows as if the norms were unclamped."""
    if eps < 0:
        raise RuntimeError(f"eps must be non-negative, got: {eps}")
    x1, x2 = dyngrad.broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clone()
    n2 = x2.norm(2, dim, keepdim=True).clone()
    with dyngrad.no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim."""
    return (x1 - x2 + eps).norm(p, max(x1.ndim, x2.ndim) - 1, keepdim=keepdim)


class PdistBackwardBackward0(Node):
    def backward(self, grad):
        raise NotImplementedError("the derivative for '_pdist_backward' is not implemented.")


class PdistBackward0(Node):
    """d dist_ij / d x_i = sign(d) |d|^(p-1) / dist^(p-1) (0 where dist is 0), minus for x_j."""

    _saved_names = ("self",)

    def backward(self, grad):
        (x_t,) = self.saved_tensors
        x, g, p = P.data(x_t), P.data(grad), self.p
        i, j = xp.triu_indices(x.shape[0], 1)
        diff = x[i] - x[j]
        dist = self.dist[:, None]
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                coef = xp.zeros_like(diff)
            elif p == 1:
                coef = xp.sign(diff)
            elif p == 2:
                coef = diff / dist
            elif p == math.inf:
                coef = xp.sign(diff) * (xp.abs(diff) == dist)
            else:
                coef = xp.sign(diff) * xp.abs(diff) ** (p - 1) / dist ** (p - 1)
        coef = xp.where((dist == 0) | ((diff == 0) & (p < 1)), 0, coef) * g[:, None]
        out = xp.zeros_like(x)
        xp.add.at(out, i, coef)
        xp.add.at(out, j, -coef)
        if isinstance(grad, Tensor):
            return record(PdistBackwardBackward0, out, (grad, x_t))
        return out


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between all pairs of rows (upper triangle, row-major)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    x = input._data
    i, j = xp.triu_indices(x.shape[0], 1)
    dist = _vector_norm(x[i] - x[j], p)
    return record(PdistBackward0, dist, (input,), save=(input,), p=p, dist=dist)


def _vector_norm(d, p: float):
    """The p-norm of each row of d (p may be 0 or inf)."""
    a = xp.abs(d)
    if p == math.inf:
        return a.max(-1, initial=0)
    if p == 0:
        return (a != 0).sum(-1).astype(d.dtype)
    return (a ** p).sum(-1) ** (1 / p)
