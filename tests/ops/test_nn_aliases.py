"""dyngrad/ops/nn_aliases.py against PyTorch: the neural-network ops torch exposes at top level
(torch.conv2d, torch.layer_norm, torch.kl_div, torch.embedding_bag, torch.lstm, ...) with ATen's
calling conventions: values, dtypes, grad_fn names, first and second order gradients, the extra
outputs, integer reductions and errors. Random ones compare shapes, dtypes and graphs."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.autograd.common import both, outcome, warned
from tests.harness import array, check_error, check_op, with_lib

X3 = array(2, 3, 8)
X4 = array(2, 4, 6, 6)
X5 = array(1, 2, 4, 4, 4)
W1, W2, W3 = array(5, 3, 3), array(5, 4, 3, 3), array(5, 2, 3, 3, 3)
B5 = array(5)
F64 = (np.float64,)


def lib_op(name, *args, **kwargs):
    """`lib.<name>(*tensors, *args, **kwargs)` for both libraries."""
    return with_lib(lambda lib, *ts: getattr(lib, name)(*ts, *args, **kwargs))


DIFFERENTIABLE = {
    "conv1d": (lib_op("conv1d", None, 1, 1), X3, W1),
    "conv1d_bias_same": (lib_op("conv1d", 1, "same"), X3, W1, B5),
    "conv2d": (lib_op("conv2d"), X4, W2),
    "conv3d": (lib_op("conv3d", None, 2), X5, W3),
    "conv_transpose1d": (lib_op("conv_transpose1d"), X3, array(3, 5, 3)),
    "conv_transpose2d": (lib_op("conv_transpose2d", None, 2, 1, 1), X4, array(4, 5, 3, 3)),
    "conv_transpose3d": (lib_op("conv_transpose3d"), X5, array(2, 5, 3, 3, 3)),
    "conv_tbc": (lib_op("conv_tbc"), array(8, 2, 3), array(3, 3, 5), B5),
    "conv_tbc_pad": (lib_op("conv_tbc", 1), array(8, 2, 3), array(3, 3, 5), B5),
    "convolution": (lib_op("convolution", [1, 1], [1, 0], [1, 1], False, [0, 0], 1), X4, W2,
                    B5),
    "convolution_transposed": (lib_op("convolution", [2], [0], [1], True, [1], 1), X3,
                               array(3, 5, 3), B5),
    "max_pool1d": (lib_op("max_pool1d", 2), X3),
    "max_pool1d_full": (lib_op("max_pool1d", 3, 1, 1, 1, True), X3),
    "max_pool2d": (lib_op("max_pool2d", 2), X4),
    "max_pool2d_stride": (lib_op("max_pool2d", 3, [2, 1]), X4),
    "max_pool3d": (lib_op("max_pool3d", 2), X5),
    "max_pool1d_with_indices": (lib_op("max_pool1d_with_indices", 2), X3),
    "avg_pool1d": (lib_op("avg_pool1d", 3, 2, 1, True, False), X3),
    "adaptive_avg_pool1d": (lib_op("adaptive_avg_pool1d", 3), X3),
    "adaptive_max_pool1d": (lib_op("adaptive_max_pool1d", 3), X3),
    "layer_norm": (lib_op("layer_norm", [8]), X3),
    "layer_norm_affine": (with_lib(lambda lib, x, w, b: lib.layer_norm(x, [8], w, b, 1e-3)),
                          X3, array(8), array(8)),
    "group_norm": (lib_op("group_norm", 3), X3),
    "group_norm_affine": (with_lib(lambda lib, x, w, b: lib.group_norm(x, 3, w, b, 1e-3)),
                          X3, array(3), array(3)),
    "rms_norm": (lib_op("rms_norm", [8]), X3),
    "rms_norm_weight": (with_lib(lambda lib, x, w: lib.rms_norm(x, [3, 8], w, 1e-4)), X3,
                        array(3, 8)),
    "bilinear": (lib_op("bilinear"), array(3, 8), array(3, 6), array(4, 8, 6), array(4)),
    "pdist": (lib_op("pdist", 3.0), array(4, 5)),
    "cosine_similarity": (lib_op("cosine_similarity", 2), X3, array(2, 3, 8)),
    "pairwise_distance": (lib_op("pairwise_distance", 1.5, 1e-6, True), array(3, 8),
                          array(3, 8)),
    "pixel_shuffle": (lib_op("pixel_shuffle", 2), X4),
    "pixel_unshuffle": (lib_op("pixel_unshuffle", 2), X4),
    "channel_shuffle": (lib_op("channel_shuffle", 2), X4),
    "selu": (lib_op("selu"), X3),
    "celu": (lib_op("celu", 2.0), X3),
    "threshold": (lib_op("threshold", 0.1, 2.0), X3),
    "hardshrink": (lib_op("hardshrink", 0.3), X3),
    "hardshrink_method": (lambda x: x.hardshrink(), X3),
    "prelu": (lib_op("prelu"), X3, np.array([0.25])),
    "prelu_method": (lambda x, w: x.prelu(w), X3, array(3)),
    "rrelu_eval": (lib_op("rrelu", 0.1, 0.3), X3),
    "selu_": (with_lib(lambda lib, x: lib.selu_(x * 1)), X3),
    "celu_": (with_lib(lambda lib, x: lib.celu_(x * 1, 0.5)), X3),
    "threshold_": (with_lib(lambda lib, x: lib.threshold_(x * 1, 0.1, 2.0)), X3),
    "rrelu_eval_": (with_lib(lambda lib, x: lib.rrelu_(x * 1)), X3),
    "dropout_eval": (lib_op("dropout", 0.5, False), X3),
    "alpha_dropout_eval": (lib_op("alpha_dropout", 0.5, False), X3),
    "feature_dropout_eval": (lib_op("feature_dropout", 0.5, False), X3),
    "dropout_p0": (lib_op("dropout", 0.0, True), X3),
    "dropout_p1": (lib_op("dropout", 1.0, True), X3),
    "native_dropout_eval": (lib_op("native_dropout", 0.5, False), X3),
    "native_dropout_p0": (lib_op("native_dropout", 0.0, True), X3),
    "kl_div": (lib_op("kl_div"), X3, array(2, 3, 8, low=0.1, high=1)),
    "kl_div_mean": (lib_op("kl_div", 1), X3, array(2, 3, 8, low=0.1, high=1)),
    "kl_div_sum_log_target": (lib_op("kl_div", 2, log_target=True), X3, array(2, 3, 8)),
    "margin_ranking_loss": (with_lib(lambda lib, a, b: lib.margin_ranking_loss(
        a, b, lib.tensor([1.0, -1.0, 1.0]), 0.5, 1)), array(3), array(3)),
    "triplet_margin_loss": (lib_op("triplet_margin_loss"), array(3, 5), array(3, 5),
                            array(3, 5)),
    "triplet_margin_loss_sum": (lib_op("triplet_margin_loss", 0.5, 1.5, 1e-6, True, 2),
                                array(3, 5), array(3, 5), array(3, 5)),
    "hinge_embedding_loss": (with_lib(lambda lib, a: lib.hinge_embedding_loss(
        a, lib.tensor([1.0, -1.0, -1.0]), 0.5, 2)), array(3)),
    "cosine_embedding_loss": (with_lib(lambda lib, a, b: lib.cosine_embedding_loss(
        a, b, lib.tensor([1.0, -1.0]))), array(2, 4), array(2, 4)),
    "poisson_nll_loss": (lib_op("poisson_nll_loss", True, False, 1e-8, 1), array(6),
                         array(6, low=0, high=3)),
    "poisson_nll_loss_full": (lib_op("poisson_nll_loss", False, True, 1e-8, 0),
                              array(6, low=0.5, high=2), array(6, low=1, high=3)),
    "bce_with_logits": (lib_op("binary_cross_entropy_with_logits"), X3,
                        array(2, 3, 8, low=0, high=1)),
    "bce_with_logits_weights": (with_lib(lambda lib, x, y: lib.binary_cross_entropy_with_logits(
        x, y, None, lib.ones(8) * 2, 1)), X3, array(2, 3, 8, low=0, high=1)),
    "grid_sampler": (with_lib(lambda lib, x: lib.grid_sampler(
        x, lib.tensor(_GRID), 0, 0, False)), X4),
    "grid_sampler_nearest_border": (with_lib(lambda lib, x: lib.grid_sampler(
        x, lib.tensor(_GRID), 1, 1, True)), X4),
    "affine_grid_generator": (lib_op("affine_grid_generator", [2, 4, 5, 6], False),
                              array(2, 2, 3)),
    "frobenius_norm": (lib_op("frobenius_norm", [1, 2]), X3),
    "frobenius_norm_keepdim": (lib_op("frobenius_norm", [1], True), X3),
    "nuclear_norm": (lib_op("nuclear_norm"), array(3, 4)),
    "nuclear_norm_keepdim": (lib_op("nuclear_norm", True), array(3, 4)),
    "nuclear_norm_dim": (lib_op("nuclear_norm", [1, 2]), X3),
    "norm_except_dim": (lib_op("norm_except_dim"), X3),
    "norm_except_dim_1": (lib_op("norm_except_dim", 2, 1), X3),
    "norm_except_dim_last": (lib_op("norm_except_dim", 3, 2), X3),
    "norm_except_dim_all": (lib_op("norm_except_dim", 2, -1), X3),
}
_GRID = (np.random.default_rng(3).uniform(-1, 1, (2, 3, 3, 2))).astype(np.float32)


@pytest.mark.filterwarnings("ignore:at::")  # frobenius_norm / nuclear_norm deprecations
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_differentiable(name):
    fn, *inputs = DIFFERENTIABLE[name]
    dtypes = (np.float32,) if name.startswith("grid_sampler") else (np.float32, np.float64)
    if name.startswith("grid_sampler"):
        inputs = [i.astype(np.float32) for i in inputs]
    check_op(fn, *inputs, dtypes=dtypes, gradgrad=not name.startswith(NO_GRADGRAD),
             noncontig=not name.startswith(CONTIGUOUS_ONLY))


NO_GRADGRAD = ("nuclear", "grid", "pdist")  # torch has no second derivative for these
# torch's conv_tbc views its input; its rms_norm returns a strided input's result as a clone
CONTIGUOUS_ONLY = ("conv_tbc", "rms_norm")


def test_norm_deprecations_warn_once():
    """frobenius_norm and nuclear_norm warn on their first call only, as PyTorch's TORCH_WARN_ONCE
    does (dyngrad's first call may already have happened in another test: compare the text)."""
    from dyngrad.ops import nn_aliases

    nn_aliases._warned.clear()
    x = dyngrad.ones(2, 3)
    _, first = warned(dyngrad.frobenius_norm, x, [1])
    _, second = warned(dyngrad.frobenius_norm, x, [1])
    _, th = warned(torch.frobenius_norm, torch.ones(2, 3), [1])
    assert len(first) == 1 and second == []
    assert th == [] or th == first
    assert first[0][1].startswith("at::frobenius_norm is deprecated and it is just left for JIT")


def test_integer_reduction_defaults_to_none():
    """Omitted, ATen's `reduction` is 0 (no reduction) through PyTorch's Python binding."""
    def prog(lib):
        x, t = lib.randn(2, 3), lib.rand(2, 3)
        return [lib.kl_div(x, t).shape, lib.margin_ranking_loss(x, x, lib.ones(2, 3)).shape,
                lib.hinge_embedding_loss(x, lib.ones(2, 3)).shape,
                lib.binary_cross_entropy_with_logits(x, t).shape,
                lib.triplet_margin_loss(x, x, x).shape,
                lib.cosine_embedding_loss(x, x, lib.ones(2)).shape]

    both(prog)


def test_normalizations_with_running_stats():
    def prog(lib):
        x = lib.tensor(X3, requires_grad=True)
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        w, b = lib.full((3,), 1.5, dtype=lib.float64), lib.full((3,), 0.5, dtype=lib.float64)
        out = [lib.batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5, False), rm.clone(), rv.clone()]
        out.append(lib.batch_norm(x, None, None, rm, rv, False, 0.1, 1e-5, False))
        out.append(lib.autograd.grad(out[0].sum() + out[3].pow(2).sum(), x)[0])
        out.append(lib.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False))
        out.append(lib.instance_norm(x, None, None, rm, rv, True, 0.3, 1e-5, False))
        return out + [rm, rv]

    both(prog)


EMBEDDINGS = array(10, 3)


def test_embeddings():
    def prog(lib):
        w = lib.tensor(EMBEDDINGS, requires_grad=True)
        idx = lib.tensor([[1, 2], [3, 9]])
        out = [lib.embedding(w, idx), lib.embedding(w, idx, 2), lib.embedding(w, idx, -1)]
        out.append(lib.autograd.grad(out[1].sum(), w)[0])
        flat, offsets = lib.tensor([1, 2, 3, 4, 5]), lib.tensor([0, 2, 2])
        for mode in (0, 1, 2):
            out.append(lib.embedding_bag(w, flat, offsets, False, mode))
            out.append(lib.embedding_bag(w, flat, lib.tensor([0, 2, 2, 5]), False, mode, False,
                                         None, True))
            out.append(lib.embedding_bag(w, flat, offsets, False, mode, False, None, False, 2))
        psw = lib.tensor([0.5, 1.0, 2.0, 1.0, 3.0], dtype=lib.float64)
        out.append(lib.embedding_bag(w, flat, offsets, False, 0, False, psw))
        out.append(lib.autograd.grad(out[-1][0].sum(), w)[0])
        return out

    both(prog)


def test_native_channel_shuffle():
    def prog(lib):
        x = lib.tensor(X4, requires_grad=True)
        y = lib.native_channel_shuffle(x, 2)
        return [y, type(y.grad_fn).__name__, outcome(lambda: y.sum().backward())]

    both(prog)


def _meta(out):
    outs = out if isinstance(out, tuple) else (out,)
    return [(str(t.dtype), tuple(t.shape), t.requires_grad,
             None if t.grad_fn is None else type(t.grad_fn).__name__) for t in outs]


RANDOM = {
    "dropout": lambda t, x: t.dropout(x, 0.5, True),
    "dropout_kw": lambda t, x: t.dropout(x, p=0.3, train=True),
    "dropout_": lambda t, x: t.dropout_(x * 1, 0.5, True),
    "alpha_dropout": lambda t, x: t.alpha_dropout(x, 0.5, True),
    "alpha_dropout_": lambda t, x: t.alpha_dropout_(x * 1, 0.5, True),
    "feature_dropout": lambda t, x: t.feature_dropout(x, 0.5, True),
    "feature_dropout_": lambda t, x: t.feature_dropout_(x * 1, 0.5, True),
    "feature_alpha_dropout": lambda t, x: t.feature_alpha_dropout(x, 0.5, True),
    "feature_alpha_dropout_": lambda t, x: t.feature_alpha_dropout_(x * 1, 0.5, True),
    "native_dropout": lambda t, x: t.native_dropout(x, 0.5, True),
    "native_dropout_none": lambda t, x: t.native_dropout(x, 0.5, None),
    "rrelu_train": lambda t, x: t.rrelu(x, 0.1, 0.3, True),
    "rrelu_train_": lambda t, x: t.rrelu_(x * 1, 0.1, 0.3, True),
}


@pytest.mark.parametrize("name", RANDOM)
def test_random_meta(name):
    fn = RANDOM[name]
    assert _meta(fn(dyngrad, dyngrad.tensor(X3, requires_grad=True))) == _meta(
        fn(torch, torch.tensor(X3, requires_grad=True)))


def test_dropout_values():
    """Kept elements scaled by 1 / (1 - p), dropped ones zero; feature dropout drops whole
    channels; native_dropout's mask says which were kept and its backward applies the same."""
    x = dyngrad.ones(200, 50, 4, requires_grad=True)
    y = dyngrad.dropout(x, 0.25, True).detach().numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.01
    f = dyngrad.feature_dropout(x, 0.5, True).detach().numpy()
    assert np.all(f == f[..., :1])
    out, mask = dyngrad.native_dropout(x, 0.25, True)
    np.testing.assert_array_equal(out.detach().numpy(), mask.numpy() / np.float32(0.75))
    g = dyngrad.autograd.grad(out.sum(), x)[0].numpy()
    np.testing.assert_array_equal(g, mask.numpy() / np.float32(0.75))


RNN_PARAMS = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _flat_params(lib, mode, layers, bidirectional, seed, hidden=4, inp=3):
    rng = np.random.default_rng(seed)
    g = RNN_PARAMS[mode] * hidden
    out = []
    for layer in range(layers):
        for _ in range(2 if bidirectional else 1):
            size = inp if layer == 0 else hidden * (2 if bidirectional else 1)
            for shape in ((g, size), (g, hidden), (g,), (g,)):
                out.append(lib.tensor(rng.uniform(-0.5, 0.5, shape), requires_grad=True))
    return out


RNN_CASES = {
    "rnn_tanh": ("RNN", "rnn_tanh", 1, False, False),
    "rnn_relu_2_layers": ("RNN", "rnn_relu", 2, False, False),
    "gru_bidirectional": ("GRU", "gru", 1, True, False),
    "gru_batch_first": ("GRU", "gru", 2, False, True),
    "lstm": ("LSTM", "lstm", 1, False, False),
    "lstm_bidirectional_batch_first": ("LSTM", "lstm", 2, True, True),
}


@pytest.mark.parametrize("name", RNN_CASES)
def test_recurrent(name):
    """Outputs and gradients with PyTorch's flat parameter lists (the LSTM output's grad_fn is a
    fused MKLDNN node in PyTorch, so only values and gradients are compared there)."""
    mode, fname, layers, bidirectional, batch_first = RNN_CASES[name]

    def prog(lib):
        params = _flat_params(lib, mode, layers, bidirectional, 1)
        x = lib.tensor(array(5, 2, 3, rng=np.random.default_rng(2)), requires_grad=True)
        if batch_first:
            x = x.transpose(0, 1)
        dirs = 2 if bidirectional else 1
        h0 = lib.tensor(array(layers * dirs, 2, 4, rng=np.random.default_rng(3)))
        hx = (h0, h0 * 0.5) if mode == "LSTM" else h0
        outs = getattr(lib, fname)(x, hx, params, True, layers, 0.0, False, bidirectional,
                                   batch_first)
        loss = sum((o * o).sum() for o in outs)
        grads = lib.autograd.grad(loss, [x] + params)
        return [o.detach() for o in outs], list(grads)

    both(prog)


CELLS = {
    "lstm_cell": lambda lib, x, h, w_ih, w_hh, b: lib.lstm_cell(x, (h, h * 2), w_ih, w_hh, b, b),
    "gru_cell": lambda lib, x, h, w_ih, w_hh, b: lib.gru_cell(x, h, w_ih[:12], w_hh[:12],
                                                              b[:12], b[:12]),
    "rnn_tanh_cell": lambda lib, x, h, w_ih, w_hh, b: lib.rnn_tanh_cell(x, h, w_ih[:4],
                                                                        w_hh[:4], b[:4]),
    "rnn_relu_cell": lambda lib, x, h, w_ih, w_hh, b: lib.rnn_relu_cell(x, h, w_ih[:4],
                                                                        w_hh[:4]),
}


@pytest.mark.parametrize("name", CELLS)
def test_cells(name):
    check_op(with_lib(CELLS[name]), array(2, 3), array(2, 4), array(16, 3), array(16, 4),
             array(16), noncontig=False)


ERRORS = {
    "dropout_p": lambda t: t.dropout(t.ones(2), 1.5, True),
    "dropout_missing_train": lambda t: t.dropout(t.ones(2), 0.5),
    "feature_dropout_1d": lambda t: t.feature_dropout(t.ones(3), 0.5, True),
    "kl_div_str": lambda t: t.kl_div(t.ones(2), t.ones(2), "mean"),
    "bce_reduction_str": lambda t: t.binary_cross_entropy_with_logits(t.ones(2), t.ones(2),
                                                                       None, None, "sum"),
    "native_norm": lambda t: t.native_norm(t.ones(2)),
    "frobenius_norm_no_dim": lambda t: t.frobenius_norm(t.ones(2)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    match = "type" if name in ("native_norm", "dropout_missing_train",
                               "frobenius_norm_no_dim") else "exact"
    check_error(ERRORS[name], match=match)
