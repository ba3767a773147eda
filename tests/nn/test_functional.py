"""nn.functional against torch: values, grad_fn names, gradients and second-order gradients."""

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.nn  # noqa: F401 - attaches dyngrad.nn
from tests.harness import array, check_error, check_op, with_lib

F64 = (np.float64,)


def F(name, **kw):
    """`lib.nn.functional.<name>(*tensors, **kw)` on both libraries."""
    return with_lib(lambda lib, *ts: getattr(lib.nn.functional, name)(*ts, **kw))


ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("celu", {"alpha": 1.3}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("hardsigmoid", {}), ("hardswish", {}), ("softshrink", {"lambd": 0.3}),
    ("hardshrink", {"lambd": 0.3}), ("hardtanh", {"min_val": -0.5, "max_val": 0.8}),
    ("threshold", {"threshold": 0.1, "value": -2.0}), ("logsigmoid", {}), ("softsign", {}),
    ("tanhshrink", {}), ("glu", {"dim": 1}), ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": 0}), ("softmin", {"dim": 1}),
]


NO_TORCH_GRADGRAD = {"hardsigmoid"}


@pytest.mark.parametrize("name,kw", ACTIVATIONS, ids=lambda v: str(v))
def test_activation(name, kw):
    x = array(3, 4, low=-4, high=4, away_from_zero=0.05)
    # torch has no second derivative for hardsigmoid ("derivative for aten::hardsigmoid_backward
    # is not implemented"), so there is nothing to compare it with
    check_op(F(name, **kw), x, noncontig=False, gradgrad=name not in NO_TORCH_GRADGRAD)


def test_activation_inplace():
    check_op(with_lib(lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True)), array(5))



def test_prelu():
    check_op(F("prelu"), array(2, 3, 4, away_from_zero=0.05), array(3), noncontig=False)


LOSSES = [
    ("mse_loss", {}), ("mse_loss", {"reduction": "sum"}), ("mse_loss", {"reduction": "none"}),
    ("l1_loss", {}), ("huber_loss", {"delta": 0.5}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"reduction": "none"}),
]


@pytest.mark.parametrize("name,kw", LOSSES, ids=lambda v: str(v))
def test_regression_loss(name, kw):
    check_op(F(name, **kw), array(3, 4), array(3, 4, low=-1, high=1), noncontig=False)


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"ignore_index": 1}, {"label_smoothing": 0.2},
                                {"label_smoothing": 0.1, "ignore_index": 2}])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_and_nll(kw, weighted):
    target = np.array([0, 2, 1, 2, 3])
    w = np.array([0.5, 2.0, 1.0, 1.5])
    for name in ("cross_entropy", "nll_loss"):
        if name == "nll_loss" and "label_smoothing" in kw:
            continue

        def fn(lib, x, _n=name):
            weight = lib.from_numpy(w) if weighted else None
            return getattr(lib.nn.functional, _n)(x, lib.from_numpy(target), weight=weight, **kw)

        check_op(with_lib(fn), array(5, 4), dtypes=F64, noncontig=False)


def test_cross_entropy_spatial_and_probabilities():
    target = np.array([[[0, 2], [1, 1]], [[2, 0], [1, 2]]])
    check_op(with_lib(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.from_numpy(target))),
             array(2, 3, 2, 2), dtypes=F64, noncontig=False)
    probs = np.random.default_rng(0).dirichlet(np.ones(3), size=4)
    check_op(F("cross_entropy", label_smoothing=0.1), array(4, 3), probs, dtypes=F64,
             requires_grad=[True, False], noncontig=False)


def test_binary_cross_entropy():
    x = array(3, 4, low=0.05, high=0.95)
    t = array(3, 4, low=0, high=1)
    check_op(F("binary_cross_entropy"), x, t, dtypes=F64, noncontig=False)
    w = np.linspace(0.5, 2, 4)
    check_op(with_lib(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, pos_weight=lib.from_numpy(w), weight=lib.from_numpy(w[::-1].copy()))),
        array(3, 4), t, dtypes=F64, noncontig=False)
    check_op(F("binary_cross_entropy_with_logits", reduction="sum"), array(3, 4), t,
             dtypes=F64, noncontig=False)


def test_loss_errors():
    x = np.zeros((2, 3), np.float32)
    for t in ([0.0, 1.0], np.array([0, 1], np.int32), [0, 5], [[0, 1]]):
        t = np.array(t)
        check_error(lambda lib, t=t: lib.nn.functional.cross_entropy(lib.from_numpy(x),
                                                                      lib.from_numpy(t)))
    check_error(lambda lib: lib.nn.functional.mse_loss(lib.zeros(2), lib.zeros(2),
                                                       reduction="foo"))
    check_error(lambda lib: lib.nn.functional.binary_cross_entropy(lib.ones(2, 1), lib.ones(2)))


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2},
                                {"padding": "same"}])
def test_conv2d(kw):
    check_op(F("conv2d", **kw), array(2, 4, 6, 5), array(6, 2 if "groups" in kw else 4, 3, 2),
             array(6), dtypes=F64, noncontig=False)


def test_conv1d_and_transposed():
    check_op(F("conv1d", stride=2, padding=1), array(2, 3, 7), array(4, 3, 3), array(4),
             dtypes=F64, noncontig=False)
    check_op(F("conv_transpose2d", stride=2, padding=1, output_padding=1), array(2, 4, 3, 3),
             array(4, 3, 3, 3), array(3), dtypes=F64, noncontig=False)
    check_op(F("conv_transpose1d", stride=3), array(2, 4, 5), array(4, 2, 2), dtypes=F64,
             noncontig=False)


@pytest.mark.parametrize("name,kw", [
    ("max_pool2d", {"kernel_size": 2}), ("max_pool2d", {"kernel_size": 3, "stride": 2,
                                                         "padding": 1, "ceil_mode": True}),
    ("avg_pool2d", {"kernel_size": 2}), ("avg_pool2d", {"kernel_size": 3, "stride": 2,
                                                         "padding": 1, "ceil_mode": True}),
    ("avg_pool2d", {"kernel_size": 3, "padding": 1, "count_include_pad": False}),
    ("adaptive_avg_pool2d", {"output_size": (3, 2)}), ("adaptive_max_pool2d",
                                                        {"output_size": 3}),
    ("adaptive_avg_pool2d", {"output_size": 1}),
], ids=lambda v: str(v))
def test_pool2d(name, kw):
    check_op(F(name, **kw), array(2, 3, 7, 6), dtypes=F64, noncontig=False)


def test_pool1d():
    for name, kw in (("max_pool1d", {"kernel_size": 2}), ("avg_pool1d", {"kernel_size": 3}),
                     ("adaptive_avg_pool1d", {"output_size": 3})):
        check_op(F(name, **kw), array(2, 3, 8), dtypes=F64, noncontig=False)


def test_max_pool_indices():
    x = dyngrad.from_numpy(array(1, 2, 4, 4))
    out, idx = dyngrad.nn.functional.max_pool2d(x, 2, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.from_numpy(x.numpy()), 2,
                                                  return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())


def test_batch_norm():
    def train(lib, x, w, b):
        rm, rv = lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype)
        y = lib.nn.functional.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)
        return y, rm, rv

    check_op(with_lib(train), array(4, 3, 2, 2), array(3), array(3), dtypes=F64,
             noncontig=False)

    def evaluate(lib, x, w, b):
        rm = lib.linspace(-1, 1, 3, dtype=x.dtype)
        rv = lib.linspace(0.5, 2, 3, dtype=x.dtype)
        return lib.nn.functional.batch_norm(x, rm, rv, w, b, training=False)

    check_op(with_lib(evaluate), array(4, 3, 5), array(3), array(3), dtypes=F64,
             noncontig=False)


def test_layer_and_group_norm():
    check_op(with_lib(lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3, 4), w, b)),
             array(2, 3, 4), array(3, 4), array(3, 4), dtypes=F64, noncontig=False)
    check_op(with_lib(lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b)),
             array(2, 4, 3), array(4), array(4), dtypes=F64, noncontig=False)


def test_linear_embedding_pad():
    check_op(F("linear"), array(2, 3, 4), array(5, 4), array(5), dtypes=F64, noncontig=False)
    check_op(F("linear"), array(3, 4), array(5, 4), dtypes=F64, noncontig=False)
    idx = np.array([[0, 2, 2], [4, 0, 1]])
    check_op(with_lib(lambda lib, w: lib.nn.functional.embedding(lib.from_numpy(idx), w,
                                                                 padding_idx=2)),
             array(5, 3), dtypes=F64, noncontig=False)
    for mode in ("constant", "reflect", "replicate"):
        check_op(F("pad", pad=(1, 2, 2, 1), mode=mode), array(1, 2, 4, 5), dtypes=F64,
                 noncontig=False)
    # PyTorch builds circular padding from slice copies (grad_fn CopySlices): compare values only
    check_op(with_lib(lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), mode="circular") * 1),
             array(1, 2, 4, 5), dtypes=F64, noncontig=False)


def test_interpolate():
    for kw in ({"scale_factor": 2, "mode": "nearest"}, {"size": (5, 7), "mode": "bilinear"},
               {"size": (5, 3), "mode": "bilinear", "align_corners": True}):
        check_op(F("interpolate", **kw), array(1, 2, 3, 4), dtypes=F64, noncontig=False)


def test_linear_shape_error():
    check_error(lambda lib: lib.nn.functional.linear(lib.zeros(2, 3), lib.zeros(5, 4)))
    check_error(lambda lib: lib.nn.functional.linear(lib.zeros(7, 2, 3), lib.zeros(5, 4)))
