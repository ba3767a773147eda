"""The nn.functional pieces added to close the gap with torch.nn.functional: lp_pool*,
affine_grid, gumbel_softmax, adaptive_max_pool*_with_indices, celu_/selu_/rrelu_ (and the
in-place ELU family's Backward1 nodes), sigmoid/tanh, conv_tbc and native_channel_shuffle."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.nn  # noqa: F401 - attaches dyngrad.nn
from tests.harness import array, check_error, check_op, with_lib

F64 = (np.float64,)


def F(name, *args, **kw):
    """`lib.nn.functional.<name>(*tensors, *args, **kw)` on both libraries."""
    return with_lib(lambda lib, *ts: getattr(lib.nn.functional, name)(*ts, *args, **kw))


def test_every_name_of_torch_functional_exists():
    missing = {n for n in dir(torch.nn.functional) if not n.startswith("_")} - set(
        dir(dyngrad.nn.functional))
    # typing helpers, torch internals and CUDA-only matmuls are not part of the layer API
    assert missing <= {
        "BroadcastingList1", "BroadcastingList2", "BroadcastingList3", "Callable", "DType",
        "GRID_SAMPLE_INTERPOLATION_MODES", "GRID_SAMPLE_PADDING_MODES", "Optional",
        "ScalingType", "SwizzleType", "TYPE_CHECKING", "Tensor", "assert_int_or_pair",
        "boolean_dispatch", "dataclasses", "grad", "grouped_mm", "handle_torch_function",
        "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
        "importlib", "math", "np", "reproducibility_notes", "scaled_grouped_mm", "scaled_mm",
        "sparse_support_notes", "tf32_notes", "torch", "warnings"}, missing


# --- lp_pool -------------------------------------------------------------------------------------
LP_CASES = [
    ("lp_pool1d", (2, 3, 9), 2, 3, {}),
    ("lp_pool1d", (3, 8), 3, 2, {"stride": 1}),
    ("lp_pool1d", (2, 2, 8), 1.5, 3, {"stride": 2, "ceil_mode": True}),
    ("lp_pool2d", (2, 2, 6, 7), 2, (2, 3), {}),
    ("lp_pool2d", (2, 5, 5), 1.5, 2, {"stride": (1, 2), "ceil_mode": True}),
    ("lp_pool3d", (1, 2, 4, 5, 4), 2, 2, {"stride": 1}),
    ("lp_pool3d", (2, 4, 4, 5), 3, (2, 1, 2), {}),
]


@pytest.mark.parametrize("name, shape, p, kernel, kw", LP_CASES)
def test_lp_pool(name, shape, p, kernel, kw):
    # positive inputs: a fractional or odd power of a negative sum has no real root
    check_op(F(name, p, kernel, **kw), array(*shape, low=0.2, high=2.0), noncontig=False)


@pytest.mark.parametrize("p", [float("inf"), -float("inf")])
@pytest.mark.parametrize("name, shape", [("lp_pool1d", (2, 3, 8)), ("lp_pool2d", (1, 2, 6, 6)),
                                         ("lp_pool3d", (1, 2, 4, 4, 4))])
def test_lp_pool_infinite_norm(name, shape, p):
    check_op(F(name, p, 2), array(*shape, away_from_zero=0.1), noncontig=False)


def test_lp_pool_even_power_of_negative_inputs():
    check_op(F("lp_pool2d", 2, 2), array(2, 3, 4, 4), noncontig=False)


# --- affine_grid ---------------------------------------------------------------------------------
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("theta_shape, size", [((2, 2, 3), (2, 3, 4, 5)),
                                               ((1, 2, 3), [1, 1, 1, 3]),
                                               ((2, 3, 4), (2, 1, 2, 3, 4))])
def test_affine_grid(theta_shape, size, align_corners):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unit-size warning is compared below
        check_op(F("affine_grid", size, align_corners), array(*theta_shape))


def _warnings_of(fn):
    """(category name, message) of every warning fn(lib) gives, per library."""
    out = []
    for lib in (dyngrad, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn(lib)
        out.append([(w.category.__name__, str(w.message)) for w in caught])
    return out


def test_affine_grid_warnings():
    for fn in (lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2)),
               lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (1, 1, 1, 2), True)):
        d, t = _warnings_of(fn)
        assert d == t and len(t) == 1


@pytest.mark.parametrize("theta, size", [
    ((2, 2, 3), (3, 1, 4, 4)), ((2, 2, 3), (2, 1, 4)), ((2, 2, 3), (2, 1, 4, 4, 4)),
    ((2, 3, 4), [2, 1, 4, 4]), ((2, 2, 3), [2, 1, 0, 4]), ((2, 2, 2), (2, 1, 3, 3)),
])
def test_affine_grid_errors(theta, size):
    check_error(lambda lib: lib.nn.functional.affine_grid(lib.zeros(*theta), size, False))
    check_error(lambda lib: lib.nn.functional.affine_grid(lib.zeros(2, 2, 3, dtype=lib.int64),
                                                          (2, 1, 3, 3), False))


# --- gumbel_softmax (random: properties, not torch's values) -------------------------------------
@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_soft_and_hard(dim):
    x = dyngrad.from_numpy(array(4, 5)).requires_grad_()
    w = dyngrad.from_numpy(array(4, 5))
    dyngrad.manual_seed(7)
    soft = dyngrad.nn.functional.gumbel_softmax(x, tau=0.5, dim=dim)
    dyngrad.manual_seed(7)
    hard = dyngrad.nn.functional.gumbel_softmax(x, tau=0.5, hard=True, dim=dim)
    t_hard = torch.nn.functional.gumbel_softmax(torch.zeros(4, 5, requires_grad=True), hard=True)
    assert hard.shape == soft.shape == x.shape and hard.dtype == soft.dtype == x.dtype
    assert type(soft.grad_fn).__name__ == "SoftmaxBackward0"
    assert type(hard.grad_fn).__name__ == type(t_hard.grad_fn).__name__ == "AddBackward0"
    np.testing.assert_allclose(soft.detach().numpy().sum(dim), 1.0)
    one_hot = dyngrad.nn.functional.one_hot(soft.argmax(dim), x.shape[dim]).double()
    np.testing.assert_array_equal(hard.detach().numpy(),
                                  (one_hot if dim == -1 else one_hot.T).numpy())
    # straight-through: the hard sample's gradient is the soft sample's
    g_soft, = dyngrad.autograd.grad((soft * w).sum(), x)
    g_hard, = dyngrad.autograd.grad((hard * w).sum(), x)
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-12, atol=1e-14)
    assert np.abs(g_soft.numpy()).max() > 0


def test_gumbel_softmax_is_random_and_warns_on_eps():
    x = dyngrad.zeros(3, 6)
    a, b = (dyngrad.nn.functional.gumbel_softmax(x) for _ in range(2))
    assert not np.allclose(a.numpy(), b.numpy())
    d, t = _warnings_of(lambda lib: lib.nn.functional.gumbel_softmax(lib.zeros(2, 3), eps=0.1))
    assert d == t and len(t) == 1


# --- adaptive_max_pool*_with_indices -------------------------------------------------------------
@pytest.mark.parametrize("name, shape, size", [
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), 3),
    ("adaptive_max_pool2d_with_indices", (2, 5, 6), (2, 4)),
    ("adaptive_max_pool3d_with_indices", (1, 2, 4, 5, 3), 2),
])
def test_adaptive_max_pool_with_indices(name, shape, size):
    check_op(F(name, size), array(*shape), noncontig=False)
    check_op(F(name, size, False), array(*shape), noncontig=False, grad=False)


# --- in-place ELU family, rrelu_, sigmoid and tanh -----------------------------------------------
@pytest.mark.parametrize("name, kw", [("celu_", {}), ("celu_", {"alpha": 0.6}), ("selu_", {}),
                                      ("elu_", {"alpha": 1.5}), ("rrelu_", {}),
                                      ("rrelu_", {"lower": 0.2, "upper": 0.4})])
def test_inplace_activation(name, kw):
    def f(lib, x):
        return getattr(lib.nn.functional, name)(x * 1, **kw)

    check_op(with_lib(f), array(3, 4, away_from_zero=0.05), noncontig=False)


@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_inplace_flag_records_backward1(name):
    check_op(with_lib(lambda lib, x: getattr(lib.nn.functional, name)(x * 1, inplace=True)),
             array(2, 5, away_from_zero=0.05), noncontig=False)


@pytest.mark.parametrize("name", ["elu_", "celu_"])
def test_inplace_elu_negative_alpha_has_no_backward(name):
    def f(lib):
        x = lib.ones(3, requires_grad=True)
        getattr(lib.nn.functional, name)(x * 1, alpha=-0.5).sum().backward()

    check_error(f)


def test_rrelu_inplace_training_draws_slopes():
    x = dyngrad.from_numpy(-np.ones((50,))).requires_grad_()
    y = dyngrad.nn.functional.rrelu_(x * 1, 0.1, 0.3, training=True)
    t = torch.nn.functional.rrelu_(-torch.ones(50, requires_grad=True) * 1, training=True)
    assert type(y.grad_fn).__name__ == type(t.grad_fn).__name__
    v = -y.detach().numpy()
    assert ((v >= 0.1) & (v <= 0.3)).all() and len(set(v.tolist())) > 1


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_tanh_are_plain_aliases(name):
    check_op(F(name), array(3, 4))
    d, t = _warnings_of(lambda lib: getattr(lib.nn.functional, name)(lib.zeros(2)))
    assert d == t == []  # no deprecation warning in torch 2.13
    assert getattr(dyngrad.nn.functional, name) is not getattr(dyngrad, name)


# --- conv_tbc ------------------------------------------------------------------------------------
@pytest.mark.parametrize("pad", [0, 1, 2, -1])
def test_conv_tbc(pad):
    # torch's conv_tbc views its input, so it refuses the harness's strided layouts
    check_op(F("conv_tbc", pad), array(6, 2, 3), array(3, 3, 4), array(4), noncontig=False)


def test_conv_tbc_empty_time_and_errors():
    check_op(F("conv_tbc", -2), array(5, 2, 3), array(2, 3, 4), array(4), dtypes=F64)
    i, w, b = (3, 2, 3), (3, 3, 4), (4,)
    for shapes in [((2, 3), w, b), (i, (3, 4), b), (i, w, (1, 4)), (i, (3, 2, 4), b),
                   (i, w, (3,)), (i, (5, 3, 4), b)]:
        check_error(lambda lib, s=shapes: lib.nn.functional.conv_tbc(*(lib.zeros(*x) for x in s)))


# --- native_channel_shuffle ----------------------------------------------------------------------
def test_native_channel_shuffle():
    check_op(F("native_channel_shuffle", 3), array(2, 6, 3), grad=False)
    check_op(F("native_channel_shuffle", 2), array(1, 4, 2, 3), grad=False)

    def backward(lib):
        x = lib.ones(2, 4, 3, requires_grad=True)
        lib.nn.functional.native_channel_shuffle(x, 2).sum().backward()

    check_error(backward)
    for shape, groups in [((2, 6, 3), 4), ((2, 6, 3), 0), ((6,), 2)]:
        check_error(lambda lib, s=shape, g=groups:
                    lib.nn.functional.native_channel_shuffle(lib.zeros(*s), g))
