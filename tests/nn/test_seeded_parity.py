"""Seeded initialisation against PyTorch, value for value: after the same `manual_seed` (or with
a generator seeded alike), every `nn.init` initialiser and every module's default parameters
must be torch's bits (orthogonal_ to rounding: its QR is NumPy's, not PyTorch's LAPACK), and
the generators must be left where torch leaves them (the next draws agree too)."""

import math
import warnings

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.nn  # noqa: F401 - attaches dyngrad.nn


def _next_draws(lib, generator):
    """What the streams give next: a float64 normal also checks the cached Box-Muller value."""
    g = () if generator is None else (generator.get_state().numpy(),)
    return (lib.randn(3, dtype=lib.float64).numpy(), lib.rand(5).numpy(), *g)


def assert_same_draws(fn, seed=0, generator_seed=None, rtol=0.0, atol=0.0):
    """fn(lib, generator), after manual_seed(seed) and with the generator None or a fresh one
    seeded with `generator_seed`, gives the same arrays in both libraries (bit for bit unless a
    tolerance is given), and the streams continue identically."""
    results = []
    for lib in (dyngrad, torch):
        lib.manual_seed(seed)
        g = None if generator_seed is None else lib.Generator().manual_seed(generator_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(lib, g)
        arrays = [t.detach().numpy().copy() for t in (out if isinstance(out, list) else [out])]
        results.append((arrays, _next_draws(lib, g)))
    (ours, our_next), (theirs, their_next) = results
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        if rtol or atol:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(a, b)
    for a, b in zip(our_next, their_next, strict=True):
        np.testing.assert_array_equal(a, b)


def _fill(init, shape, dtype, **kw):
    """fn(lib, generator): `lib.nn.init.<init>` applied to an empty tensor of `shape`."""
    def fn(lib, g):
        t = lib.empty(*shape, dtype=getattr(lib, dtype))
        extra = {} if g is None else {"generator": g}
        out = getattr(lib.nn.init, init)(t, **kw, **extra)
        assert out is t
        return t

    return fn


RANDOM_INITS = [
    ("uniform_", {}), ("uniform_", {"a": -0.5, "b": 0.5}), ("normal_", {}),
    ("normal_", {"mean": 0.5, "std": 2.0}), ("trunc_normal_", {}),
    ("trunc_normal_", {"std": 0.02}), ("trunc_normal_", {"mean": 0.3, "std": 0.5}),
    ("trunc_normal_", {"a": -0.3, "b": 0.3}),  # under 30% of the mass: rejection sampling
    ("trunc_normal_", {"std": 2.0, "a": -0.5, "b": 0.5}),
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 5.0 / 3}),
    ("xavier_normal_", {}), ("xavier_normal_", {"gain": 1.7}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {}), ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("kaiming_normal_", {"nonlinearity": "tanh"}),
]
SHAPES = [(3, 5), (7, 13), (40, 30), (4, 3, 2, 2)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("init,kw", RANDOM_INITS, ids=str)
def test_random_init_matches_torch(init, kw, shape, dtype):
    for seed in (0, 1):
        assert_same_draws(_fill(init, shape, dtype, **kw), seed)


@pytest.mark.parametrize("init,kw", RANDOM_INITS, ids=str)
def test_random_init_with_generator_matches_torch(init, kw):
    assert_same_draws(_fill(init, (7, 13), "float32", **kw), seed=5, generator_seed=42)


@pytest.mark.parametrize("kw", [{}, {"a": -0.3, "b": 0.3}], ids=str)
def test_trunc_normal_of_a_transposed_view_draws_in_memory_order(kw):
    def fn(lib, g):
        w = lib.empty(9, 4)
        lib.nn.init.trunc_normal_(w.t(), **kw)
        return w

    for seed in range(3):
        assert_same_draws(fn, seed)


def test_trunc_normal_of_a_parameter_records_no_graph():
    def fn(lib, g):
        p = lib.nn.Parameter(lib.empty(5, 6))
        lib.nn.init.trunc_normal_(p)
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
        return p

    assert_same_draws(fn)


def test_trunc_normal_rejection_with_asymmetric_bounds():
    assert_same_draws(_fill("trunc_normal_", (7, 13), "float32", a=-0.2, b=0.3))


def test_normal_init_of_a_large_tensor():
    assert_same_draws(_fill("normal_", (200, 300), "float32"), seed=4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (8, 8), (40, 30), (4, 3, 2, 2)], ids=str)
@pytest.mark.parametrize("gain", [1, 1.5])
def test_orthogonal_matches_torch_to_rounding(shape, dtype, gain):
    # the Gaussian draws are torch's; QR by different LAPACKs (and, for float32, NumPy's in
    # double precision against torch's in single) leaves rounding-level differences
    tol = 2e-6 if dtype == "float32" else 1e-14
    for seed in (0, 1):
        assert_same_draws(_fill("orthogonal_", shape, dtype, gain=gain), seed, atol=tol * gain)
    assert_same_draws(_fill("orthogonal_", shape, dtype, gain=gain), 3, generator_seed=9,
                      atol=tol * gain)


@pytest.mark.parametrize("shape,sparsity", [((3, 5), 0.3), ((10, 4), 0.5), ((40, 30), 0.1)],
                         ids=str)
@pytest.mark.parametrize("generator_seed", [None, 7])
def test_sparse_matches_torch(shape, sparsity, generator_seed):
    # the normals come from `generator`, the zeroed rows from the global generator (as torch)
    assert_same_draws(_fill("sparse_", shape, "float32", sparsity=sparsity), 2, generator_seed)


@pytest.mark.parametrize("init,shape,kw", [
    ("constant_", (3, 4), {"val": 0.1}), ("ones_", (2, 3, 4), {}), ("zeros_", (5,), {}),
    ("eye_", (3, 5), {}), ("eye_", (4, 2), {}), ("dirac_", (4, 3, 3), {}),
    ("dirac_", (4, 3, 3, 3), {"groups": 2}), ("dirac_", (2, 3, 3, 2, 3), {}),
], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deterministic_init_matches_torch_and_draws_nothing(init, shape, kw, dtype):
    def fn(lib, g):
        t = lib.empty(*shape, dtype=getattr(lib, dtype))
        return getattr(lib.nn.init, init)(t, **kw)

    assert_same_draws(fn)


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)], ids=str)
def test_calculate_gain(args):
    assert dyngrad.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_zero_element_kaiming_is_a_no_op_that_draws_nothing():
    def fn(lib, g):
        t = lib.empty(0, 3)
        lib.nn.init.kaiming_uniform_(t)
        lib.nn.init.kaiming_normal_(t)
        lib.nn.init.orthogonal_(t)
        return t

    assert_same_draws(fn)


# --- modules' default initialisation -------------------------------------------------------------
MODULES = [
    "Linear(5, 3)", "Linear(5, 3, bias=False)", "Linear(0, 3)", "Bilinear(2, 3, 4)",
    "Bilinear(2, 3, 4, bias=False)", "Conv1d(2, 3, 3)", "Conv1d(2, 3, 3, padding='same')",
    "Conv2d(2, 4, 3, groups=2)", "Conv2d(2, 3, 3, padding=1, padding_mode='circular', bias=False)",
    "Conv2d(4, 4, 3, groups=4)", "Conv3d(2, 3, 2)", "ConvTranspose1d(2, 3, 3)",
    "ConvTranspose2d(4, 2, 3, groups=2)", "ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)",
    "ConvTranspose3d(2, 3, 2)", "Embedding(10, 4)", "Embedding(10, 4, padding_idx=2)",
    "Embedding(10, 4, max_norm=1.0)", "EmbeddingBag(10, 4)",
    "EmbeddingBag(10, 4, padding_idx=0, mode='sum')", "RNN(3, 4, 2)",
    "RNN(3, 4, 2, nonlinearity='relu', bias=False, bidirectional=True)",
    "LSTM(3, 4, 2, bidirectional=True)", "LSTM(3, 4, proj_size=2)",
    "LSTM(3, 6, 2, bidirectional=True, proj_size=3)", "GRU(3, 4)",
    "GRU(3, 4, 3, bidirectional=True, batch_first=True)", "RNNCell(3, 4)", "LSTMCell(3, 4)",
    "GRUCell(3, 4)", "MultiheadAttention(8, 2)", "MultiheadAttention(8, 2, kdim=3, vdim=5)",
    "MultiheadAttention(8, 2, add_bias_kv=True)",
    "MultiheadAttention(6, 3, add_bias_kv=True, kdim=4, vdim=4)",
    "MultiheadAttention(8, 2, bias=False, batch_first=True)", "LayerNorm(4)",
    "LayerNorm((3, 4), bias=False)", "BatchNorm1d(3)", "BatchNorm2d(3)",
    "BatchNorm3d(2, affine=False)", "GroupNorm(2, 4)", "InstanceNorm1d(3, affine=True)",
    "RMSNorm(4)", "PReLU(3)", "TransformerEncoderLayer(8, 2, 16)",
    "TransformerEncoderLayer(8, 2, 16, bias=False)", "TransformerDecoderLayer(8, 2, 16)",
    "TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)",
    "TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2)", "Transformer(8, 2, 1, 1, 16)",
    "Transformer(8, 2, 2, 2, 16, norm_first=True, bias=False)",
    "AdaptiveLogSoftmaxWithLoss(8, 10, [4, 8])",
    "AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0, head_bias=True)",
    "Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))",
]


def _build(lib, spec):
    return eval(f"nn.{spec}", {"nn": lib.nn})


def _state(module):
    return list(module.state_dict().values())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", MODULES)
def test_module_default_init_matches_torch(spec, dtype):
    assert list(_build(dyngrad, spec).state_dict()) == list(_build(torch, spec).state_dict())

    def fn(lib, g):
        lib.set_default_dtype(getattr(lib, dtype))
        return _state(_build(lib, spec))

    assert_same_draws(fn, 3)


@pytest.mark.parametrize("spec", ["Linear(5, 3)", "Conv2d(2, 3, 3)", "LSTM(3, 4, 2)",
                                  "Embedding(6, 2)", "Bilinear(2, 3, 4)"])
def test_reset_parameters_redraws_as_torch(spec):
    def fn(lib, g):
        m = _build(lib, spec)
        m.reset_parameters()
        return _state(m)

    assert_same_draws(fn, 11)


@pytest.mark.parametrize("spec,shape", [
    ("LazyLinear(3)", (2, 4)), ("LazyConv2d(3, 2)", (2, 4, 5, 5)),
    ("LazyConvTranspose1d(3, 2)", (2, 4, 5)), ("LazyBatchNorm1d()", (2, 4, 5)),
    ("LazyInstanceNorm1d(affine=True)", (2, 4, 5)),
])
def test_lazy_module_init_matches_torch(spec, shape):
    def fn(lib, g):
        m = _build(lib, spec)
        m(lib.ones(*shape))
        return _state(m)

    assert_same_draws(fn, 4)


# --- end to end ---------------------------------------------------------------------------------
def _train(lib, momentum):
    """Seeded data, model and shuffled batches; dropout draws in every step."""
    nn, data = lib.nn, lib.utils.data
    lib.manual_seed(0)
    x, y = lib.randn(40, 6), lib.randn(40, 2)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=8, shuffle=True)
    losses = []
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses, [p.detach().numpy() for p in model.parameters()], lib.rand(4).numpy()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_seeded_training_matches_torch(momentum):
    ours, theirs = _train(dyngrad, momentum), _train(torch, momentum)
    assert len(ours[0]) == len(theirs[0]) == 10
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for a, b in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours[2], theirs[2])  # the same number of draws was made
