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
    # threshold_ saves a clone of its input (ThresholdBackward1), value above the threshold
    check_op(with_lib(lambda lib, x: lib.nn.functional.threshold_(x * 1, 0.1, 0.9)),
             array(6, away_from_zero=0.2))


def test_functional_relu_is_torch_relu():
    """F.relu is torch.relu (its checks; under create_graph its gradient's node)."""
    check_error(lambda lib: lib.nn.functional.relu(lib.tensor([True, False])))
    check_error(lambda lib: lib.nn.functional.relu(lib.tensor([1j])))

    def grad_fn_names(lib):
        x = lib.tensor([-1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(lib.nn.functional.relu(x).sum(), x, create_graph=True)
        return g.grad_fn.name(), lib.nn.functional.relu(x).grad_fn.name()

    assert grad_fn_names(dyngrad) == grad_fn_names(torch)



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
    # PyTorch builds circular padding from slice copies: grad_fn CopySlices
    for pad in ((1, 2, 2, 1), (-1, 1, -2, 1), (0, 0, 1, -2)):
        check_op(F("pad", pad=pad, mode="circular"), array(1, 2, 4, 5), dtypes=F64,
                 noncontig=False)
    check_op(F("pad", pad=(2, 1, 1, 1, 0, 2), mode="circular"), array(2, 3, 4, 3), dtypes=F64,
             noncontig=False)


def test_interpolate():
    for kw in ({"scale_factor": 2, "mode": "nearest"}, {"size": (5, 7), "mode": "bilinear"},
               {"size": (5, 3), "mode": "bilinear", "align_corners": True}):
        check_op(F("interpolate", **kw), array(1, 2, 3, 4), dtypes=F64, noncontig=False)


def test_linear_shape_error():
    check_error(lambda lib: lib.nn.functional.linear(lib.zeros(2, 3), lib.zeros(5, 4)))
    check_error(lambda lib: lib.nn.functional.linear(lib.zeros(7, 2, 3), lib.zeros(5, 4)))


# --- regressions found by the OpInfo conformance runner ----------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_empty(name):
    for shape, dim in (((0, 3), 0), ((0, 3), 1), ((2, 0), 1)):
        check_op(F(name, dim=dim), np.zeros(shape), dtypes=F64, noncontig=False)


def test_softmax_top_level_and_method():
    for name in ("softmax", "log_softmax"):
        check_op(with_lib(lambda lib, x, n=name: getattr(lib, n)(x, 1)), array(3, 4),
                 noncontig=False)
        check_op(with_lib(lambda lib, x, n=name: getattr(lib, n)(x, 0, lib.float64)),
                 array(3, 4, dtype=np.float32), dtypes=None, noncontig=False)
        check_op(with_lib(lambda lib, x, n=name: getattr(x, n)(-1, dtype=lib.float32)),
                 array(3, 4), dtypes=F64, noncontig=False)
    check_error(lambda lib: lib.softmax(lib.zeros(2)))


@pytest.mark.parametrize("n,kw", [
    (2, {"stride": 2, "output_padding": 2, "dilation": 3}),
    (2, {"stride": (1, 2), "output_padding": (1, 0), "dilation": 2, "groups": 2}),
    (3, {"stride": 2, "padding": 1, "output_padding": (2, 1, 0), "dilation": 3}),
], ids=str)
def test_conv_transpose_output_padding(n, kw):
    shape = (2, 4) + (3,) * n
    check_op(F(f"conv_transpose{n}d", **kw), array(*shape),
             array(4, 2 if "groups" in kw else 3, *(2,) * n), dtypes=F64, noncontig=False)


def test_instance_norm():
    def fn(lib, x, w, b):
        rm, rv = lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype)
        y = lib.nn.functional.instance_norm(x, rm, rv, w, b, momentum=0.3, eps=0.2)
        return y, rm, rv

    check_op(with_lib(fn), array(2, 3, 4, 5), array(3), array(3), dtypes=F64, noncontig=False)
    check_op(F("instance_norm"), array(2, 3, 4), dtypes=F64, noncontig=False)
    check_error(lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 3, 1)))


def test_batch_norm_empty_and_single_value():
    def fn(lib, x):
        rm, rv = lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype)
        return lib.nn.functional.batch_norm(x, rm, rv, training=True)

    check_op(with_lib(fn), np.zeros((0, 3)), dtypes=F64, noncontig=False)
    check_error(lambda lib: lib.nn.functional.batch_norm(lib.zeros(1, 0), None, None,
                                                         training=True))


def test_linear_1d_input():
    check_op(F("linear"), array(4), array(5, 4), array(5), dtypes=F64, noncontig=False)


def test_pixel_shuffle():
    check_op(F("pixel_shuffle", upscale_factor=2), array(2, 8, 3, 2), noncontig=False)
    check_op(F("pixel_unshuffle", downscale_factor=2), array(3, 2, 4, 6), noncontig=False)
    check_op(F("pixel_shuffle", upscale_factor=3), array(9, 2, 2), dtypes=F64, noncontig=False)
    for fn, shape, r in (("pixel_shuffle", (4, 4), 2), ("pixel_shuffle", (5, 2, 2), 2),
                         ("pixel_shuffle", (4, 2, 2), 0), ("pixel_unshuffle", (1, 3, 4), 2),
                         ("pixel_unshuffle", (1, 4, 3), 2)):
        check_error(lambda lib, fn=fn, shape=shape, r=r: getattr(lib.nn.functional, fn)(
            lib.zeros(*shape), r))


def test_pairwise_distance():
    for p in (2.0, 1.0, 3.0):
        check_op(F("pairwise_distance", p=p), array(3, 4), array(3, 4), dtypes=F64,
                 noncontig=False)
    check_op(F("pairwise_distance", keepdim=True), array(4), array(2, 4), dtypes=F64,
             noncontig=False)


def test_prelu_ranks():
    for xs, ws in (((), (1,)), ((), ()), ((3,), (1,)), ((3,), ()), ((2, 3, 4), (3,))):
        check_op(F("prelu"), array(*xs, away_from_zero=0.05), array(*ws), dtypes=F64,
                 noncontig=False)
    check_error(lambda lib: lib.nn.functional.prelu(lib.zeros(2, 3), lib.zeros(1, 1)))


PRELU_ERRORS = {  # (input, weight) PyTorch refuses, each with its own check
    "float64 input": lambda lib: (lib.zeros(2, 3, dtype=lib.float64), lib.tensor([0.25])),
    "float64 weight": lambda lib: (lib.zeros(2, 3), lib.tensor([0.25], dtype=lib.float64)),
    "int input": lambda lib: (lib.zeros(2, 3, dtype=lib.int64), lib.tensor([1.0])),
    "int kernel": lambda lib: (lib.zeros(2, 3, dtype=lib.int64), lib.tensor([1])),
    "bool kernel": lambda lib: (lib.zeros(2, 3, dtype=lib.bool), lib.tensor([True])),
    "complex kernel": lambda lib: (lib.zeros(2, 3, dtype=lib.complex64), lib.tensor([1j])),
    "zero-dim input": lambda lib: (lib.tensor(1.0), lib.tensor([0.25, 0.5])),
    "channels": lambda lib: (lib.zeros(2, 3), lib.tensor([0.25, 0.5])),
    "dtype before rank": lambda lib: (lib.zeros(2, 3, dtype=lib.int64), lib.tensor([[1.0]])),
}


@pytest.mark.parametrize("case", list(PRELU_ERRORS))
def test_prelu_errors(case):
    check_error(lambda lib: lib.nn.functional.prelu(*PRELU_ERRORS[case](lib)))


def test_avg_pool2d_empty_stride():
    check_op(F("avg_pool2d", kernel_size=(2, 2), stride=(), divisor_override=-2), array(1, 1, 4, 4),
             dtypes=F64, noncontig=False)


INTERPOLATE = [
    ("nearest-exact", 3, {"size": 5}), ("nearest-exact", 4, {"scale_factor": 0.6}),
    ("nearest-exact", 5, {"scale_factor": 1.7}), ("nearest", 5, {"size": (3, 7, 2)}),
    ("nearest", 4, {"scale_factor": 1.7, "recompute_scale_factor": True}),
    ("bicubic", 4, {"size": (5, 3), "align_corners": True}),
    ("bicubic", 4, {"scale_factor": 1.7}), ("bicubic", 4, {"scale_factor": 0.6}),
    ("trilinear", 5, {"size": (3, 5, 4)}), ("trilinear", 5, {"scale_factor": 1.7,
                                                            "align_corners": True}),
    ("area", 3, {"size": 3}), ("area", 4, {"scale_factor": 0.6}), ("area", 5, {"size": 2}),
    ("linear", 3, {"scale_factor": 2.5}),
]


@pytest.mark.parametrize("mode,ndim,kw", INTERPOLATE, ids=str)
def test_interpolate_modes(mode, ndim, kw):
    shape = (2, 3, 4, 5, 6)[:ndim]
    check_op(F("interpolate", mode=mode, **kw), array(*shape), dtypes=F64, noncontig=False)


def test_interpolate_errors():
    for kw in ({"mode": "bilinear", "size": 3}, {"mode": "bicubic", "size": 3},
               {"mode": "nearest", "size": 3, "align_corners": True}, {"mode": "nearest"},
               {"mode": "linear", "size": (3, 4)},
               {"mode": "linear", "size": 4, "antialias": True}):
        check_error(lambda lib, kw=kw: lib.nn.functional.interpolate(lib.zeros(1, 2, 3), **kw))


# Dropout and rrelu: shapes, dtypes, grad_fn names, which elements or channels share a draw and
# the relation between output and gradient (their seeded values: tests/ops/test_random_stream.py).
def _structure(dg, th):
    assert tuple(dg.shape) == tuple(th.shape) and str(dg.dtype) == str(th.dtype)
    names = [t.grad_fn and type(t.grad_fn).__name__ for t in (dg, th)]
    assert names[0] == names[1], names


@pytest.mark.parametrize("name,shape,kw", [
    ("dropout", (4, 5), {}), ("dropout", (4, 5), {"p": 1.0}), ("dropout", (4, 5), {"p": 0.0}),
    ("dropout1d", (3, 6), {}), ("dropout1d", (2, 3, 6), {}),
    ("dropout2d", (3, 4, 6), {}), ("dropout2d", (2, 3, 4, 5), {}),
    ("dropout3d", (3, 4, 5, 6), {}), ("dropout3d", (3, 4, 5, 6), {"training": False}),
    ("dropout3d", (2, 3, 2, 4, 5), {"p": 1.0}),
    ("alpha_dropout", (4, 5), {"training": True}),
    ("feature_alpha_dropout", (2, 3, 4), {"training": True}),
    ("feature_alpha_dropout", (2, 3, 4), {"training": True, "p": 1.0}),
], ids=str)
def test_dropout_structure(name, shape, kw):
    import warnings

    x = array(*shape, away_from_zero=0.1)
    outs = []
    for lib in (dyngrad, torch):
        t = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = getattr(lib.nn.functional, name)(t, **kw)
        (g,) = lib.autograd.grad(y.sum(), t)
        outs.append((y, g))
    _structure(outs[0][0], outs[1][0])
    y, g = (v.detach().numpy() for v in outs[0])
    p = kw.get("p", 0.5)
    if "alpha" in name or not kw.get("training", True) or p in (0.0, 1.0):
        # the gradient is the multiplier, constant along the dims a draw covers
        assert outs[0][1].shape == outs[1][1].shape
        if p in (0.0, 1.0) or not kw.get("training", True):
            np.testing.assert_allclose(g, outs[1][1].numpy())
        return
    np.testing.assert_allclose(y, x * g)  # the output is the input times the gradient (the mask)
    assert set(np.unique(g)) <= {0.0, 1 / (1 - p)}
    channel = (name != "dropout") and (x.ndim > {"dropout1d": 2, "dropout2d": 2,
                                                 "dropout3d": 4}[name] or name == "dropout2d")
    if channel:  # one draw per (sample, channel), or per channel when unbatched
        lead = 2 if name == "dropout2d" or x.ndim == {"dropout1d": 3, "dropout3d": 5}[name] else 1
        flat = g.reshape(g.shape[:lead] + (-1,))
        assert (flat == flat[..., :1]).all()


@pytest.mark.parametrize("kw", [{}, {"training": True}, {"training": True, "inplace": True},
                                {"inplace": True}, {"lower": 0.2, "upper": 0.2,
                                                    "training": True}], ids=str)
def test_rrelu(kw):
    x = array(4, 5, away_from_zero=0.1)
    res = []
    for lib in (dyngrad, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.rrelu(t * 1, **kw)
        (g,) = lib.autograd.grad(y, t, lib.ones_like(y))
        res.append((y, g))
    _structure(res[0][0], res[1][0])
    y, g = (v.detach().numpy() for v in res[0])
    np.testing.assert_allclose(y, x * g)
    lower, upper = kw.get("lower", 1 / 8), kw.get("upper", 1 / 3)
    assert (g[x > 0] == 1).all() and ((g[x < 0] >= lower) & (g[x < 0] <= upper)).all()
    if not kw.get("training") or lower == upper:
        np.testing.assert_allclose(y, res[1][0].detach().numpy())


@pytest.mark.parametrize("name,kw", [
    ("max_pool3d", {"kernel_size": 2}), ("max_pool3d", {"kernel_size": (3, 2, 2), "stride": 2,
                                                         "padding": 1, "ceil_mode": True}),
    ("avg_pool3d", {"kernel_size": 2}), ("avg_pool3d", {"kernel_size": 3, "padding": 1,
                                                         "count_include_pad": False}),
    ("adaptive_avg_pool3d", {"output_size": (3, 2, 1)}), ("adaptive_avg_pool3d",
                                                           {"output_size": 1}),
    ("adaptive_max_pool3d", {"output_size": (2, None, 3)}),
], ids=str)
def test_pool3d(name, kw):
    check_op(F(name, **kw), array(2, 2, 5, 4, 6), dtypes=F64, noncontig=False)
    check_op(F(name, **kw), array(2, 5, 4, 6), dtypes=F64, noncontig=False)


def test_pool3d_modules():
    x = array(2, 3, 4, 5, 6)
    for make in (lambda nn: nn.AvgPool3d(2), lambda nn: nn.MaxPool3d(2, padding=1),
                 lambda nn: nn.AdaptiveAvgPool3d((2, 3, None)),
                 lambda nn: nn.AdaptiveMaxPool3d(2), lambda nn: nn.ChannelShuffle(3)):
        assert repr(make(dyngrad.nn)) == repr(make(torch.nn))
        check_op(with_lib(lambda lib, t, make=make: make(lib.nn)(t)), x, dtypes=F64,
                 noncontig=False, gradgrad=False)


def test_channel_shuffle():
    check_op(F("channel_shuffle", groups=3), array(2, 6, 3, 2), noncontig=False)
    for shape, g in (((2, 4), 2), ((2, 5, 3), 2), ((2, 4, 3), 0)):
        check_error(lambda lib, shape=shape, g=g: lib.nn.functional.channel_shuffle(
            lib.zeros(*shape), g))


@pytest.mark.parametrize("n,shape,kw", [(1, (6,), {}), (2, (6, 8), {}), (3, (4, 6, 2), {}),
                                        (2, (7, 9), {"output_size": (1, 2, 7, 9)})], ids=str)
def test_max_unpool(n, shape, kw):
    x = array(1, 2, *shape)
    _, idx = getattr(torch.nn.functional, f"max_pool{n}d")(torch.from_numpy(x), 2,
                                                          return_indices=True)
    v = array(*idx.shape)

    def fn(lib, t):
        return getattr(lib.nn.functional, f"max_unpool{n}d")(t, lib.from_numpy(idx.numpy()), 2,
                                                               **kw)

    check_op(with_lib(fn), v, dtypes=F64, noncontig=False)
    check_error(lambda lib: lib.nn.functional.max_unpool2d(
        lib.zeros(1, 1, 2, 2), lib.tensor([[[[0, 1], [2, 99]]]]), 2))
    check_error(lambda lib: lib.nn.functional.max_unpool2d(
        lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, output_size=(9, 9)))
