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
from dyngrad.ops import arithmetic
from dyngrad.ops._core import OUT, check_tensor, record
from dyngrad.ops.reduction import LinalgVectorNormBackward0, _axes

__all__ = [
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "embedding", "one_hot", "pad", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "native_channel_shuffle",
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "normalize",
    "cosine_similarity", "pairwise_distance", "pdist",
]


# --- linear maps ---------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias (an addmm for 2-d input, as in PyTorch)."""
    check_tensor(input, "linear")
    k = input._data.shape[-1] if input._data.ndim else 1
    if weight.ndim == 2 and k != weight._data.shape[1]:
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
    if input.ndim:  # 1-d and >2-d: an addmm of the (-1, k) view, viewed back
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


_ALPHA = 1.7580993408473766  # -SELU's negative saturation value


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool = False,
             alpha: bool = False) -> Tensor:
    """ATen's dropout: input times a Bernoulli(1 - p) noise (one draw per channel for feature
    dropout), scaled by 1 / (1 - p), or for alpha dropout scaled and shifted so SELU activations
    keep their mean and variance. The noise is PyTorch's after the same manual_seed."""
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = dyngrad.zeros((), dtype=input.dtype)
        return input.mul_(zero) if inplace else input * zero
    shape = input.shape
    if feature:
        if input.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = shape[:2] + (1,) * (input.ndim - 2)
    # drawn out of place (the same draw as bernoulli_): under vmap(randomness="different") the
    # noise comes out batched, which an unbatched buffer could not hold
    noise = dyngrad.bernoulli(dyngrad.empty(shape, dtype=input.dtype), 1 - p)
    if alpha:
        a = 1 / math.sqrt((_ALPHA**2 * p + 1) * (1 - p))
        b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
        noise.mul_(a)
    else:
        noise.div_(1 - p)
    out = input.mul_(noise) if inplace else input * noise
    return out.add_(b) if alpha else out


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p (training), scaling the rest by 1 / (1 - p)."""
    return _dropout(input, p, training, inplace)


def _unbatched(input, p, training, inplace):
    """Feature dropout of input with a batch dim of 1 added and removed (as PyTorch does)."""
    input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _dropout(input, p, training, inplace, feature=True)
    return out.squeeze_(0) if inplace else out.squeeze(0)


def _warn_dims(name: str, ndim: int, n: int) -> None:
    import warnings

    warnings.warn(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an "
        "error in a future release. To retain the behavior and silence this warning, please use "
        f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
        f"{n} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
        f"{n + 1}D or {n + 2}D inputs).", UserWarning, stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
            "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if input.ndim == 2:
        return _unbatched(input, p, training, inplace)
    return _dropout(input, p, training, inplace, feature=True)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1) of (N, C, H, W) input; as PyTorch, a 3-d input is taken as
    (N, C, L), not as an unbatched (C, H, W)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        _warn_dims("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        import warnings

        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) input; any other rank is taken as unbatched."""
    _check_p(p)
    if input.ndim not in (4, 5):
        _warn_dims("dropout3d", input.ndim, 3)
    if input.ndim != 5:
        return _unbatched(input, p, training, inplace)
    return _dropout(input, p, training, inplace, feature=True)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU activations' mean and variance."""
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels."""
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


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
    if not 1 <= n <= 3 or input.ndim not in (n + 1, n + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        return _circular_pad(input, pad)
    if mode == "reflect":
        for i in range(n):  # the last dim first, as PyTorch checks
            d, lo, hi = input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
            if lo >= input.shape[d] or hi >= input.shape[d]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding "
                    f"input dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                    f"{list(input.shape)}")
    idx = [_pad_index(size, lo, hi, mode) for size, (lo, hi) in
           zip(input.shape[-n:], pairs[-n:], strict=True)]
    mats = []
    for size, ix in zip(input.shape[-n:], idx, strict=True):
        m = xp.zeros((len(ix), size))
        m[xp.arange(len(ix)), ix] = 1
        mats.append(m)
    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad"}
    return separable(input, mats, f"{names[mode]}{n}DBackward0", saves_input=True)


def _pad_index(size: int, lo: int, hi: int, mode: str):
    pos = xp.arange(-lo, size + hi)
    if mode == "reflect":
        period = 2 * (size - 1)
        pos = xp.abs((pos % period + period) % period) if period else pos * 0
        return xp.where(pos >= size, period - pos, pos)
    if mode == "replicate":
        return xp.clip(pos, 0, size - 1)
    raise NotImplementedError(f"Unrecognised padding mode {mode}")


def _circular_pad(input: Tensor, pad) -> Tensor:
    """PyTorch's composition (so the grad_fn is its CopySlices): copy the input, cropped by any
    negative padding, into a new tensor, then wrap each padded border around from the copy."""
    n = len(pad) // 2
    dims = [input.ndim - 1 - i for i in range(n)]  # pad[2i], pad[2i + 1] pad dim dims[i]
    shape = list(input.shape)
    for i, d in enumerate(dims):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo > shape[d] or hi > shape[d]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if shape[d] + lo + hi < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
        shape[d] += lo + hi
    out = input.new_empty(shape)
    dst, src = out, input
    for i, d in enumerate(dims):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        dst = dst.narrow(d, max(lo, 0), shape[d] - max(lo, 0) - max(hi, 0))
        src = src.narrow(d, max(-lo, 0), input.shape[d] - max(-lo, 0) - max(-hi, 0))
    dst.copy_(src)
    for i, d in enumerate(dims):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo > 0:
            out.narrow(d, 0, lo).copy_(out.narrow(d, shape[d] - lo - max(hi, 0), lo))
        if hi > 0:
            out.narrow(d, shape[d] - hi, hi).copy_(out.narrow(d, max(lo, 0), hi))
    return out


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
def _shuffle(a, r: int):
    """(*, C r^2, H, W) -> (*, C, H r, W r) on an array."""
    *lead, c, h, w = a.shape
    n = len(lead)
    a = a.reshape(*lead, c // (r * r), r, r, h, w)
    a = a.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return xp.ascontiguousarray(a).reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(a, r: int):
    """(*, C, H r, W r) -> (*, C r^2, H, W) on an array."""
    *lead, c, h, w = a.shape
    n = len(lead)
    a = a.reshape(*lead, c, h // r, r, w // r, r)
    a = a.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return xp.ascontiguousarray(a).reshape(*lead, c * r * r, h // r, w // r)


def _check_shuffle(input, r: int, name: str, arg: str) -> None:
    check_tensor(input, name)
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {arg}, but got {r}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r); one node whose gradient is pixel_unshuffle."""
    r = upscale_factor
    _check_shuffle(input, r, "pixel_shuffle", "upscale_factor")
    if input.shape[-3] % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={input.shape[-3]} is not divisible by {r * r}")
    return linear_op(input, lambda a: _shuffle(a, r), lambda g: _unshuffle(g, r),
                     "PixelShuffleBackward0", "PixelUnshuffleBackward0")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W); one node whose gradient is pixel_shuffle."""
    r = downscale_factor
    _check_shuffle(input, r, "pixel_unshuffle", "downscale_factor")
    for what, d in (("height", -2), ("width", -1)):
        if input.shape[d] % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                f"input.size({d})={input.shape[d]} is not divisible by {r}")
    return linear_op(input, lambda a: _unshuffle(a, r), lambda g: _shuffle(g, r),
                     "PixelUnshuffleBackward0", "PixelShuffleBackward0")


def _cubic_weights(t):
    """Keys' cubic convolution weights (A = -0.75, as PyTorch) of the 4 taps around a point at
    fraction t past the second tap."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _channel_shuffle(a, groups: int):
    """(N, g * k, *) -> (N, k * g, *): channel i * k + j moves to j * g + i."""
    n, c = a.shape[:2]
    b = a.reshape(n, groups, c // groups, *a.shape[2:]).swapaxes(1, 2)
    return xp.ascontiguousarray(b).reshape(a.shape)


def _check_channel_shuffle(input: Tensor, groups: int) -> None:
    check_tensor(input, "channel_shuffle")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of `groups` groups; the gradient shuffles back (C / groups
    groups)."""
    _check_channel_shuffle(input, groups)
    c = input.shape[1]
    return linear_op(input, lambda a: _channel_shuffle(a, groups),
                     lambda g: _channel_shuffle(g, c // groups), "ChannelShuffleBackward0",
                     "ChannelShuffleBackward0")


# PyTorch's node for ops without a derivative, named after this op in its error
_NoDerivative = type("NotImplemented", (arithmetic.NotImplemented,),
                     {"op": "native_channel_shuffle"})


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """channel_shuffle's values, recorded (as PyTorch records them) with no derivative: backward
    through it raises."""
    _check_channel_shuffle(input, groups)
    return record(_NoDerivative, _channel_shuffle(input._data, groups), (input,))


def antialias_matrix(size: int, out: int, align_corners: bool, scale_factor):
    """(out, size) interpolation matrix of PyTorch's antialiased bilinear resampling: a
    triangle filter widened by the scale when downsampling, weights normalized per output."""
    if align_corners:
        scale = (size - 1) / (out - 1) if out > 1 else 0.0
    else:
        scale = 1 / scale_factor if scale_factor else size / out
    support = scale if scale >= 1 else 1.0
    inv = 1 / scale if scale >= 1 else 1.0
    w = xp.zeros((out, size))
    for i in range(out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), size)
        j = xp.arange(lo, hi)
        f = xp.maximum(0.0, 1 - xp.abs((j - center + 0.5) * inv))
        total = f.sum()
        w[i, lo:hi] = f / total if total else f
    return w


def _resample_matrix(size: int, out: int, mode: str, align_corners, scale):
    """The (out, size) matrix of one dim's resampling, with PyTorch's CPU index arithmetic
    (nearest modes compute their source index in float32, as its kernels do)."""
    m = xp.zeros((out, size))
    rows = xp.arange(out)
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        if not exact and out == size:
            idx = rows
        elif not exact and out == 2 * size:
            idx = rows >> 1
        else:
            s = xp.float32(1.0 / scale) if scale else xp.float32(size) / xp.float32(out)
            pos = ((rows + 0.5) * float(s)).astype(xp.float32) if exact else (
                rows.astype(xp.float32) * s)
            idx = xp.minimum(xp.floor(pos).astype(xp.int64), size - 1)
        m[rows, idx] = 1
        return m
    cubic = mode == "bicubic"
    if align_corners:
        src = rows * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        src = (rows + 0.5) * (1.0 / scale if scale else size / out) - 0.5
        if not cubic:
            src = xp.maximum(src, 0)
    lo = xp.minimum(xp.floor(src.astype(xp.float32)).astype(xp.int64), size - 1)
    t = xp.clip(src - lo, 0, 1)
    if cubic:
        for j, w in enumerate(_cubic_weights(t)):
            xp.add.at(m, (rows, xp.clip(lo - 1 + j, 0, size - 1)), w)
        return m
    xp.add.at(m, (rows, lo), 1 - t)
    xp.add.at(m, (rows, lo + (lo < size - 1)), t)
    return m


# mode -> (spatial rank it needs, or None for any of 1-3; node name)
_UPSAMPLE = {"nearest": (None, "UpsampleNearest{}DBackward0"),
             "nearest-exact": (None, "UpsampleNearestExact{}DBackward0"),
             "linear": (1, "UpsampleLinear1DBackward0"),
             "bilinear": (2, "UpsampleBilinear2DBackward0"),
             "bicubic": (2, "UpsampleBicubic2DBackward0"),
             "trilinear": (3, "UpsampleTrilinear3DBackward0")}
_RANK_NAMES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _output_size(input, size, scale_factor, mode, recompute_scale_factor):
    """PyTorch's (output_size, scale_factors) of an interpolate call, with its errors."""
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, list | tuple):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(v, int) for v in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(v) for v in size]}")
            output_size, scales = list(size), None
        else:
            output_size, scales = [size] * dim, None
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, list | tuple):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in (N, C, "
                    "d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = list(scale_factor)
        else:
            scales = [scale_factor] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or (mode == "area" and output_size is None):
        output_size = [math.floor(s * f) for s, f in zip(input.shape[2:], scales, strict=True)]
        scales = None
    if output_size is None:  # the kernels' own rounding of size * scale_factor
        output_size = [int(s * f) for s, f in zip(input.shape[2:], scales, strict=True)]
    return output_size, scales or [None] * dim


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor=None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) by `mode`: 'nearest', 'nearest-exact',
    'linear' / 'bilinear' / 'trilinear' (1, 2, 3 spatial dims), 'bicubic' (2) or 'area'
    (adaptive average pooling). Each is one linear node under PyTorch's name."""
    check_tensor(input, "interpolate")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    n = input.ndim - 2
    output_size, scales = _output_size(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if antialias and mode == "bilinear":
        mats = [antialias_matrix(s, o, align_corners, sc)
                for s, o, sc in zip(input.shape[2:], output_size, scales, strict=True)]
        return separable(input, mats, "UpsampleBilinear2DAaBackward0")
    if antialias:
        raise NotImplementedError(f"interpolate: antialias=True with mode='{mode}' is not "
                                  "supported by dyngrad")
    rank, name = _UPSAMPLE.get(mode, (-1, ""))
    if mode == "area" and 1 <= n <= 3:
        from dyngrad.nn.functional import pooling

        pool = (pooling.adaptive_avg_pool1d, pooling.adaptive_avg_pool2d,
                pooling.adaptive_avg_pool3d)[n - 1]
        return pool(input, output_size)
    if rank is None and 1 <= n <= 3 or rank == n:
        mats = [_resample_matrix(s, o, mode, align_corners, sc)
                for s, o, sc in zip(input.shape[2:], output_size, scales, strict=True)]
        return separable(input, mats, name.format(n))
    if mode in _RANK_NAMES.values() and 1 <= n <= 3:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{rank + 2}D input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
        "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
        f"nearest-exact (got {mode})")


def _deprecated(name: str) -> None:
    import warnings

    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated `interpolate`."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated `interpolate(..., mode='nearest')`."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated `interpolate(..., mode='bilinear', align_corners=True)`."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


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
    """||x1 - x2 + eps||_p along the last dim: as in PyTorch, aten::norm with a dim, whose node
    is NormBackward1 (linalg.vector_norm's formula under another name)."""
    diff = x1 - x2 + eps
    dim = max(x1.ndim, x2.ndim) - 1
    with dyngrad.no_grad():
        data = diff.norm(p, dim, keepdim=keepdim)._data
    return record(NormBackward1, data, (diff,), save=(diff, OUT), ord=float(p),
                  dim=_axes(dim, diff.ndim), keepdim=keepdim)


class NormBackward1(LinalgVectorNormBackward0):
    pass


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
