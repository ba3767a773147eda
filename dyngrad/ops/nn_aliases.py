"""The neural-network ops torch also exposes at top level (`torch.conv2d`, `torch.dropout`,
`torch.layer_norm`, `torch.kl_div`, `torch.lstm`, ...), with their ATen signatures.

They run `dyngrad.nn.functional`'s implementations; what differs from the `F.*` spellings is the
calling convention: losses take `reduction` as ATen's integer (0 none, 1 mean, 2 sum; omitted, it
is 0, as PyTorch's Python binding makes it), dropouts take `(input, p, train)` with no defaults,
`embedding` takes the weight first, and a few return ATen's extra outputs.
"""

from __future__ import annotations

import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.nn import functional as F
from dyngrad.nn.functional._linear_op import linear_op
from dyngrad.nn.functional.misc import _dropout
from dyngrad.nn.functional.sparse import _bags
from dyngrad.nn.modules.rnn import _cell, _run
from dyngrad.ops import native
from dyngrad.ops._core import check_tensor, record
from dyngrad.ops.arithmetic import NotImplemented as _NoDerivative
from dyngrad.ops.misc import _renamed

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "conv_tbc", "convolution", "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
    "dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_dropout",
    "feature_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "native_dropout",
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "embedding",
    "embedding_bag", "bilinear", "pdist", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "native_channel_shuffle", "cosine_similarity", "pairwise_distance", "kl_div", "selu",
    "selu_", "celu", "celu_", "rrelu", "rrelu_", "threshold", "threshold_", "hardshrink",
    "prelu", "margin_ranking_loss", "triplet_margin_loss", "hinge_embedding_loss",
    "cosine_embedding_loss", "poisson_nll_loss", "binary_cross_entropy_with_logits", "ctc_loss",
    "grid_sampler", "affine_grid_generator", "native_norm", "frobenius_norm", "nuclear_norm",
    "norm_except_dim", "lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell",
    "rnn_tanh_cell", "rnn_relu_cell", "_safe_softmax",
]

# --- convolution and pooling: F's own signatures -----------------------------------------------
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = (
    F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)
bilinear, pdist, cosine_similarity, pairwise_distance = (
    F.bilinear, F.pdist, F.cosine_similarity, F.pairwise_distance)
pixel_shuffle, pixel_unshuffle, channel_shuffle = (
    F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle)
selu, celu, hardshrink, prelu, threshold = F.selu, F.celu, F.hardshrink, F.prelu, F.threshold
selu_, celu_ = F.selu_, F.celu_
_safe_softmax = F.activation._safe_softmax
Tensor.hardshrink = F.hardshrink
Tensor.prelu = F.prelu


def convolution(input, weight, bias, stride, padding, dilation, transposed: bool,
                output_padding, groups: int) -> Tensor:
    """The convolution behind conv*d and conv_transpose*d, chosen by weight's dimension."""
    n = weight.ndim - 2
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (F.conv1d, F.conv2d, F.conv3d)[n - 1](input, weight, bias, stride, padding, dilation,
                                                 groups)


def conv_tbc(input, weight, bias, pad: int = 0) -> Tensor:
    """1-D convolution of (time, batch, channels) input with a (width, in, out) weight."""
    out = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    out = out.permute(2, 0, 1)
    if out._grad_fn is not None:
        out._grad_fn.__class__ = _renamed(type(out._grad_fn), "ConvTbcBackward0")
    return out


def _stride(stride):
    return None if stride is None or (isinstance(stride, list | tuple) and not stride) else stride


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                        count_include_pad)


adaptive_avg_pool1d = F.adaptive_avg_pool1d


def adaptive_max_pool1d(input, output_size):
    """(values, indices)."""
    return F.adaptive_max_pool1d(input, output_size, True)


# --- dropout -----------------------------------------------------------------------------------
def _dropout_variant(name: str, feature: bool, alpha: bool, inplace: bool):
    def fn(input, p, train):
        check_tensor(input, name)
        if not 0 <= p <= 1:
            raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
        return _dropout(input, p, train, inplace, feature=feature, alpha=alpha)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, p, train): ATen's {'feature ' if feature else ''}" \
                 f"{'alpha ' if alpha else ''}dropout{' in place' if inplace else ''}."
    return fn


dropout = _dropout_variant("dropout", False, False, False)
dropout_ = _dropout_variant("dropout_", False, False, True)
alpha_dropout = _dropout_variant("alpha_dropout", False, True, False)
alpha_dropout_ = _dropout_variant("alpha_dropout_", False, True, True)
feature_dropout = _dropout_variant("feature_dropout", True, False, False)
feature_dropout_ = _dropout_variant("feature_dropout_", True, False, True)
feature_alpha_dropout = _dropout_variant("feature_alpha_dropout", True, True, False)
feature_alpha_dropout_ = _dropout_variant("feature_alpha_dropout_", True, True, True)


def native_dropout(input, p: float, train) -> tuple:
    """(output, mask): the kept elements scaled by 1 / (1 - p), and where they were kept
    (train=False keeps everything)."""
    from dyngrad.ops.random import _rng

    check_tensor(input, "native_dropout")
    a = input._data
    if train is False:
        keep, scale = xp.ones(a.shape, bool), 1.0
    else:
        keep = _rng(None).bernoulli(a.shape, 1 - p)
        scale = 0.0 if p == 1 else 1 / (1 - p)
    factor = keep * scale
    out = linear_op(input, lambda v: (v * factor).astype(v.dtype, copy=False),
                    lambda g: (g * factor).astype(g.dtype, copy=False),
                    "NativeDropoutBackward0", "NativeDropoutBackwardBackward0")
    return out, Tensor._make(keep)


# --- normalization -----------------------------------------------------------------------------
def batch_norm(input, weight, bias, running_mean, running_var, training: bool, momentum: float,
               eps: float, cudnn_enabled: bool) -> Tensor:
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-05,
               cudnn_enable: bool = True) -> Tensor:
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-05,
               cudnn_enabled: bool = True) -> Tensor:
    return F.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


rms_norm = F.rms_norm


# --- embeddings --------------------------------------------------------------------------------
def embedding(weight, indices, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of `weight` at `indices` (weight first; a negative padding_idx means none)."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


_MODES = ("sum", "mean", "max")


def embedding_bag(weight, indices, offsets, scale_grad_by_freq: bool = False, mode: int = 0,
                  sparse: bool = False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None) -> tuple:
    """(output, offset2bag, bag_size, max_indices): ATen's four results (the last three as
    PyTorch's CPU kernel fills them in float64)."""
    out = F.embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                          mode=_MODES[mode], sparse=sparse,
                          per_sample_weights=per_sample_weights,
                          include_last_offset=include_last_offset, padding_idx=padding_idx)
    idx, starts, ends = _bags(indices, offsets, include_last_offset)
    idx = idx.astype(xp.int64)
    bag_of = xp.searchsorted(ends, xp.arange(idx.size), side="right")
    n_bags = starts.size
    keep = bag_of < n_bags
    if padding_idx is not None:
        keep &= idx != (padding_idx % weight.shape[0])
    sizes = xp.bincount(bag_of[keep], minlength=n_bags)[:n_bags].astype(xp.int64)
    if mode == 2:
        w = weight._data
        max_indices = xp.zeros((n_bags, w.shape[1]), xp.int64)
        for b in range(n_bags):
            rows = idx[(bag_of == b) & keep]
            if rows.size:
                max_indices[b] = rows[w[rows].argmax(0)]
    else:
        max_indices = sizes.copy() if mode == 1 else xp.zeros(n_bags, xp.int64)
    if mode == 0:
        sizes = xp.zeros(n_bags, xp.int64)
    return out, Tensor._make(bag_of), Tensor._make(sizes), Tensor._make(max_indices)


def native_channel_shuffle(input, groups: int) -> Tensor:
    """channel_shuffle's values; PyTorch defines no derivative for it."""
    data = F.channel_shuffle(input.detach(), groups)._data
    return record(_NoDerivative, data, (input,), op="native_channel_shuffle")


# --- activations -------------------------------------------------------------------------------
def threshold_(input, threshold, value) -> Tensor:
    """threshold in place, recorded as PyTorch's in-place node (ThresholdBackward1)."""
    out = F.threshold_(input, threshold, value)
    if out._grad_fn is not None and type(out._grad_fn).__name__ == "ThresholdBackward0":
        out._grad_fn.__class__ = _renamed(type(out._grad_fn), "ThresholdBackward1")
    return out


def rrelu(input, lower=0.125, upper=1.0 / 3, training: bool = False, generator=None) -> Tensor:
    return F.rrelu(input, lower, upper, training)


def rrelu_(input, lower=0.125, upper=1.0 / 3, training: bool = False, generator=None) -> Tensor:
    return F.rrelu_(input, lower, upper, training)


# --- losses, with ATen's integer reduction -----------------------------------------------------
def _reduction(fname: str, value, pos: int) -> str:
    if type(value) is not int:
        raise TypeError(f"{fname}(): argument 'reduction' (position {pos}) must be int, not "
                        f"{type(value).__name__}")
    return ("none", "mean", "sum")[value]


def kl_div(input, target, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    r = _reduction("kl_div", reduction, 3)
    out = F.kl_div(input, target, reduction="none", log_target=log_target)
    return out if r == "none" else out.mean() if r == "mean" else out.sum()


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: int = 0):
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction("margin_ranking_loss", reduction, 5))


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-06, swap: bool = False, reduction: int = 0):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction("triplet_margin_loss", reduction, 8))


def hinge_embedding_loss(input, target, margin: float = 1.0, reduction: int = 0):
    return F.hinge_embedding_loss(input, target, margin,
                                  reduction=_reduction("hinge_embedding_loss", reduction, 4))


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: int = 0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction("cosine_embedding_loss", reduction, 5))


def poisson_nll_loss(input, target, log_input: bool, full: bool, eps: float, reduction: int):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction("poisson_nll_loss", reduction, 6))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction: int = 0):
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction("binary_cross_entropy_with_logits",
                                                    reduction, 5), pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction("ctc_loss", reduction, 6), zero_infinity)


# --- grids -------------------------------------------------------------------------------------
def grid_sampler(input, grid, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """grid_sampler_2d or _3d by the input's dimension (modes as torch's enum numbers)."""
    fn = native.grid_sampler_3d if input.ndim == 5 else native.grid_sampler_2d
    return fn(input, grid, interpolation_mode, padding_mode, align_corners)


def affine_grid_generator(theta, size, align_corners: bool) -> Tensor:
    return F.affine_grid(theta, list(size), align_corners)


# --- norms -------------------------------------------------------------------------------------
def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """PyTorch implements native_norm for sparse tensors only; a dense tensor is refused."""
    name = "aten::native_norm" if dim is None else "aten::native_norm.ScalarOpt_dim_dtype"
    raise NotImplementedError(
        f"Could not run '{name}' with arguments from the 'CPU' backend. This could be because the "
        "operator doesn't exist for this backend, or was omitted during the selective/custom "
        "build process (if using custom build). If you are a Facebook employee using PyTorch on "
        "mobile, please visit https://fburl.com/ptmfixes for possible resolutions. "
        f"'{name}' is only available for sparse tensors, which dyngrad does not have."
    )


_warned = set()


def _deprecated_once(name: str, instead: str) -> None:
    if name not in _warned:
        _warned.add(name)
        warnings.warn(f"at::{name} is deprecated and it is just left for JIT compatibility. It "
                      f"will be removed in a future PyTorch release. Please use `{instead}` "
                      "instead", UserWarning, stacklevel=3)


def _aten_norm(v, p, dim=None, keepdim: bool = False) -> Tensor:
    """v.norm(p[, dim, keepdim]) recorded as ATen's norm (NormBackward0, or 1 with dims)."""
    out = v.norm(p) if dim is None else v.norm(p, dim, keepdim)
    if out._grad_fn is not None:
        name = "NormBackward0" if dim is None else "NormBackward1"
        out._grad_fn.__class__ = _renamed(type(out._grad_fn), name)
    return out


def frobenius_norm(input, dim, keepdim: bool = False) -> Tensor:
    """Deprecated: the 2-norm over `dim` (one or two dims)."""
    _deprecated_once("frobenius_norm", "linalg.vector_norm(A, 2., dim, keepdim)")
    return _aten_norm(input, 2, dim, keepdim)


def nuclear_norm(input, dim=None, keepdim: bool = False) -> Tensor:
    """Deprecated: the sum of singular values over two dims (the last two by default)."""
    from dyngrad import linalg

    _deprecated_once("nuclear_norm", "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else tuple(dim), keepdim)


def norm_except_dim(v, pow: int = 2, dim: int = 0) -> Tensor:  # noqa: A002 - ATen's name
    """The `pow`-norm over every dim but `dim`, shaped to broadcast against v (dim=-1: the norm
    of everything, as weight_norm uses it)."""
    if dim == -1:
        return _aten_norm(v, pow)
    last = v.ndim - 1
    if dim == 0:
        shape = (v.shape[0],) + (1,) * last
        return _aten_norm(v.contiguous().view(v.shape[0], -1), pow, 1).view(shape)
    if dim == last:
        shape = (1,) * last + (v.shape[last],)
        return _aten_norm(v.contiguous().view(-1, v.shape[last]), pow, 0).view(shape)
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


# --- recurrent layers --------------------------------------------------------------------------
class _FlatWeights:
    """What dyngrad.nn's recurrence reads from a module, built from ATen's flat `params`."""

    def __init__(self, mode, params, has_biases, num_layers, dropout, train, bidirectional):
        self.mode, self.num_layers, self.dropout = mode, num_layers, dropout
        self.bidirectional, self.training = bidirectional, train
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if has_biases else [])
        per = len(params) // (num_layers * (2 if bidirectional else 1))
        if per == len(names) + 1:
            names.append("weight_hr")  # an LSTM with projections
        self._all_weights = []
        params = iter(params)
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:2 if bidirectional else 1]:
                layer_names = [f"{n}_l{layer}{suffix}" for n in names]
                for n in layer_names:
                    setattr(self, n, next(params))
                self._all_weights.append(layer_names)


def _recurrent(mode: str, input, batch_sizes, hx, cx, params, has_biases, num_layers, dropout,
               train, bidirectional, batch_first):
    weights = _FlatWeights(mode, params, has_biases, num_layers, dropout, train, bidirectional)
    if batch_first and batch_sizes is None:
        input = input.transpose(0, 1)
    out, h, c = _run(weights, input, hx, cx, batch_sizes)
    if batch_first and batch_sizes is None:
        out = out.transpose(0, 1)
    return out, h, c


def lstm(input, *args) -> tuple:
    """(output, h_n, c_n): `lstm(input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)` or the packed `lstm(data, batch_sizes, hx, params, ...)`."""
    batch_sizes, args = (args[0], args[1:]) if isinstance(args[0], Tensor) else (None, args)
    (h0, c0), params, *rest = args
    return _recurrent("LSTM", input, batch_sizes, h0, c0, params, *rest,
                      *([False] if batch_sizes is not None else []))


def _simple(mode: str, name: str):
    def fn(input, *args) -> tuple:
        batch_sizes, rest = (args[0], args[1:]) if isinstance(args[1], Tensor) else (None, args)
        hx, params, *options = rest
        out, h, _ = _recurrent(mode, input, batch_sizes, hx, None, params, *options,
                               *([False] if batch_sizes is not None else []))
        return out, h

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"(output, h_n): `{name}(input, hx, params, has_biases, num_layers, dropout, "
                  f"train, bidirectional, batch_first)` or the packed `{name}(data, batch_sizes, "
                  "hx, params, ...)`.")
    return fn


gru = _simple("GRU", "gru")
rnn_tanh = _simple("RNN_TANH", "rnn_tanh")
rnn_relu = _simple("RNN_RELU", "rnn_relu")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> tuple:
    """One LSTM step: (h', c') from hx = (h, c)."""
    h, c = hx
    return _cell("LSTM", F.linear(input, w_ih, b_ih), h, c, w_hh, b_hh)


def _simple_cell(mode: str, name: str):
    def fn(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
        return _cell(mode, F.linear(input, w_ih, b_ih), hx, None, w_hh, b_hh)[0]

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"One {mode.lower().replace('_', ' ')} step."
    return fn


gru_cell = _simple_cell("GRU", "gru_cell")
rnn_tanh_cell = _simple_cell("RNN_TANH", "rnn_tanh_cell")
rnn_relu_cell = _simple_cell("RNN_RELU", "rnn_relu_cell")
