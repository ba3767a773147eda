"""The nn layers added to close the gap with torch.nn against torch: padding, Softmax2d, LP,
fractional and unpooling layers, InstanceNorm3d, the upsampling aliases, NLLLoss2d,
CrossMapLRN2d, Buffer, the lazy layers and AdaptiveLogSoftmaxWithLoss (reprs, state, values,
gradients, errors)."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.nn  # noqa: F401 - attaches dyngrad.nn
from tests.harness import array, check_error, check_op, copy_state, module_pair, with_lib

F64 = (np.float64,)


def layer(src: str, *extra):
    """`lib.nn.<src>` called on the tensors, then on `extra` (for both libraries)."""
    return with_lib(lambda lib, *ts: eval("lib.nn." + src)(*ts, *extra))


def test_every_layer_of_torch_nn_exists():
    missing = {n for n in dir(torch.nn) if not n.startswith("_")} - set(dir(dyngrad.nn))
    # multi-device, quantization and namespace entries that a CPU autograd library leaves out
    assert missing <= {"Container", "DataParallel", "SyncBatchNorm", "attention", "common_types",
                       "factory_kwargs", "grad", "intrinsic", "parallel", "qat", "quantizable",
                       "quantized"}, missing


LAYERS = [
    "ZeroPad1d(2)", "ZeroPad2d((1, 2, 3, 4))", "ZeroPad3d([1, 2, 3, 4, 5, 6])",
    "ConstantPad1d(2, 3.5)", "ConstantPad2d(1, 0)", "ConstantPad3d((1, 2, 3, 4, 5, 6), -1)",
    "ReflectionPad1d(2)", "ReflectionPad2d((1, 1, 2, 0))", "ReflectionPad3d(1)",
    "ReplicationPad1d((3, 1))", "ReplicationPad2d(2)", "ReplicationPad3d(1)", "CircularPad1d(1)",
    "CircularPad2d((1, 2, 0, 1))", "CircularPad3d(1)", "Softmax2d()", "LPPool1d(2, 3)",
    "LPPool2d(1.5, (2, 3), stride=1, ceil_mode=True)", "LPPool3d(2, 2)", "MaxUnpool1d(2)",
    "MaxUnpool2d((2, 3), stride=1, padding=1)", "MaxUnpool3d(2)",
    "FractionalMaxPool2d(2, output_size=3)", "FractionalMaxPool3d(2, output_ratio=0.5)",
    "FractionalMaxPool2d(2, output_size=3, _random_samples=lib.zeros(1, 2, 2))",
    "InstanceNorm3d(3)", "InstanceNorm3d(3, affine=True, track_running_stats=True)",
    "InstanceNorm1d(3, affine=True, bias=False)", "UpsamplingBilinear2d(scale_factor=2)",
    "UpsamplingNearest2d(size=(3, 4))", "NLLLoss2d(ignore_index=1)", "CrossMapLRN2d(3)",
    "CrossMapLRN2d(5, 1e-3, 0.5, 2)", "AdaptiveLogSoftmaxWithLoss(8, 10, [2, 6])",
    "AdaptiveLogSoftmaxWithLoss(16, 10, (3,), div_value=2.0, head_bias=True)",
    "LazyLinear(3)", "LazyConv1d(4, 3)", "LazyConv2d(4, 3, bias=False, padding=1)",
    "LazyConv3d(2, (1, 2, 3), groups=2)", "LazyConvTranspose1d(4, 3, stride=2)",
    "LazyConvTranspose2d(4, 3, output_padding=1, stride=2)",
    "LazyConvTranspose3d(4, 2, groups=2)", "LazyBatchNorm1d()", "LazyBatchNorm2d(affine=False)",
    "LazyBatchNorm3d(track_running_stats=False)", "LazyInstanceNorm1d()",
    "LazyInstanceNorm2d(bias=False)", "LazyInstanceNorm3d(affine=False)",
]


def _state(module):
    return {k: repr(v) if repr(v).startswith("<") else tuple(v.shape)
            for k, v in module.state_dict().items()}


@pytest.mark.parametrize("src", LAYERS)
def test_layer_repr_and_state(src):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NLLLoss2d's deprecation, empty Linear's init
        d, t = (eval("lib.nn." + src, {"lib": lib}) for lib in (dyngrad, torch))
    assert repr(d) == repr(t)
    assert _state(d) == _state(t)
    assert [type(p).__name__ for p in d.parameters()] == [
        type(p).__name__ for p in t.parameters()]
    assert [type(b).__name__ for b in d.buffers()] == [
        "Buffer" if type(b).__name__ == "Tensor" and getattr(b, "_is_buffer", False)
        else type(b).__name__ for b in t.buffers()]


# --- padding -------------------------------------------------------------------------------------
PADS = [
    ("ZeroPad1d(2)", (2, 3, 4)), ("ZeroPad2d((1, 0, -1, 2))", (3, 4, 5)),
    ("ZeroPad3d(1)", (1, 2, 2, 3, 2)), ("ConstantPad1d((2, -1), 1.5)", (3, 5)),
    ("ConstantPad2d(1, -2.0)", (1, 2, 3, 3)), ("ConstantPad3d((1, 0, 0, 2, 1, 1), 0.5)",
                                                (2, 2, 3, 2)),
    ("ReflectionPad1d((2, 1))", (2, 3, 4)), ("ReflectionPad2d(1)", (2, 3, 4)),
    ("ReflectionPad3d((1, 0, 1, 1, 0, 1))", (1, 2, 3, 3, 3)),
    ("ReplicationPad1d(3)", (3, 4)), ("ReplicationPad2d((2, 0, 1, 3))", (1, 2, 3, 3)),
    ("ReplicationPad3d(1)", (2, 2, 3, 2)), ("CircularPad1d((2, 1))", (2, 3, 4)),
    ("CircularPad2d(1)", (2, 3, 4)), ("CircularPad3d((1, 0, 1, 1, 0, 1))", (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("src, shape", PADS)
def test_padding(src, shape):
    check_op(layer(src), array(*shape))


@pytest.mark.parametrize("src, shape", [
    ("CircularPad1d(1)", (4,)), ("CircularPad2d(1)", (2, 3)),
    ("CircularPad3d(1)", (1, 2, 3, 4, 5, 6)),
    ("ReflectionPad1d(3)", (2, 3)), ("ReflectionPad2d(1)", (3,)), ("ReplicationPad3d(1)", (2, 3)),
    ("ReflectionPad2d((1, 1, 2, 2))", (1, 2, 3)), ("ReflectionPad3d(2)", (1, 2, 3, 3)),
    ("ConstantPad2d((1, 2, 3), 0.0)", (2, 3)), ("ZeroPad1d((1, 1, 1, 1, 1, 1, 1, 1))", (2, 3)),
])
def test_padding_errors(src, shape):
    check_error(lambda lib: eval("lib.nn." + src)(lib.zeros(*shape)))


# --- activation, pooling, resampling -------------------------------------------------------------
def test_softmax2d():
    check_op(layer("Softmax2d()"), array(2, 3, 2, 2))
    check_op(layer("Softmax2d()"), array(3, 2, 4))
    check_error(lambda lib: lib.nn.Softmax2d()(lib.zeros(2, 3)))


@pytest.mark.parametrize("src, shape", [
    ("LPPool1d(2, 3)", (2, 3, 8)), ("LPPool1d(1.5, 2, stride=1, ceil_mode=True)", (3, 7)),
    ("LPPool2d(2, (2, 3))", (2, 2, 5, 6)), ("LPPool2d(3, 2, stride=1)", (2, 4, 4)),
    ("LPPool3d(2, 2)", (1, 2, 4, 4, 4)), ("LPPool2d(float('inf'), 2)", (1, 2, 4, 4)),
])
def test_lp_pool_layers(src, shape):
    check_op(layer(src), array(*shape, low=0.1, high=2.0), noncontig=False)


@pytest.mark.parametrize("n, shape, kernel, stride", [
    (1, (2, 3, 8), 2, None), (2, (2, 2, 5, 6), 2, 1), (2, (3, 4, 4), (2, 2), None),
    (3, (1, 2, 4, 4, 4), 2, None),
])
def test_max_unpool(n, shape, kernel, stride):
    def f(lib, x):
        pooled, idx = getattr(lib.nn, f"MaxPool{n}d")(kernel, stride, return_indices=True)(x)
        return getattr(lib.nn, f"MaxUnpool{n}d")(kernel, stride)(pooled * 1, idx)

    check_op(with_lib(f), array(*shape), noncontig=False)


def test_max_unpool_output_size_and_errors():
    def f(lib, x):
        pooled, idx = lib.nn.MaxPool2d(2, return_indices=True)(x)
        return lib.nn.MaxUnpool2d(2)(pooled * 1, idx, output_size=[1, 2, 5, 5])

    check_op(with_lib(f), array(1, 2, 5, 5), dtypes=F64)
    check_error(lambda lib: lib.nn.MaxUnpool2d(2)(lib.zeros(1, 2, 2, 2),
                                                 lib.zeros(1, 2, 2, 2, dtype=lib.int64),
                                                 output_size=[9, 9]))


@pytest.mark.parametrize("n, shape, kw", [
    (2, (2, 3, 9, 8), {"output_size": (3, 4)}), (2, (3, 7, 7), {"output_ratio": 0.5}),
    (3, (1, 2, 6, 7, 5), {"output_size": 3}),
])
def test_fractional_max_pool_layers(n, shape, kw):
    batch = 1 if len(shape) == n + 1 else shape[0]
    u = array(batch, shape[-n - 1], n, low=0, high=1)

    def f(lib, x):
        cls = getattr(lib.nn, f"FractionalMaxPool{n}d")
        return cls(2, return_indices=True, _random_samples=lib.tensor(u), **kw)(x)

    check_op(with_lib(f), array(*shape), dtypes=F64, noncontig=False)
    m = getattr(dyngrad.nn, f"FractionalMaxPool{n}d")(2, **kw)  # windows drawn by dyngrad
    assert m(dyngrad.zeros(*shape)).shape == f(torch, torch.zeros(*shape).double())[0].shape


@pytest.mark.parametrize("samples, dtype", [
    ((1, 2, 2), None), ((2, 2), None), ((2, 3, 2), None), ((2, 2, 3), None), ((2, 2, 2, 1), None),
    ((2, 2, 2), "float64"),
])
def test_fractional_max_pool_sample_checks(samples, dtype):
    def f(lib):
        u = lib.rand(*samples, dtype=dtype and getattr(lib, dtype))
        return lib.nn.FractionalMaxPool2d(2, output_size=3, _random_samples=u)(
            lib.zeros(2, 2, 6, 6))

    check_error(f)


def test_fractional_max_pool_ignores_extra_samples():
    check_op(with_lib(lambda lib, x: lib.nn.FractionalMaxPool2d(
        2, output_size=3, _random_samples=lib.linspace(0, 1, 12, dtype=x.dtype).view(3, 2, 2))(x)),
        array(2, 2, 6, 6), dtypes=F64)


@pytest.mark.parametrize("args", [
    "2", "2, output_size=2, output_ratio=0.5", "2, output_ratio=1.5", "2, output_ratio=(0.5, 0)",
])
def test_fractional_max_pool_errors(args):
    check_error(lambda lib: eval(f"lib.nn.FractionalMaxPool2d({args})"))
    check_error(lambda lib: eval(f"lib.nn.FractionalMaxPool3d({args})"))
    check_error(lambda lib: lib.nn.FractionalMaxPool3d((2, 0, 1), output_size=2))
    check_error(lambda lib: lib.nn.FractionalMaxPool3d(0, output_size=2))


@pytest.mark.parametrize("src, shape", [
    ("UpsamplingNearest2d(scale_factor=2)", (1, 2, 3, 3)),
    ("UpsamplingNearest2d(size=(4, 5))", (2, 1, 2, 3)),
    ("UpsamplingBilinear2d(scale_factor=(2, 1.5))", (1, 2, 3, 4)),
    ("UpsamplingBilinear2d(size=5)", (1, 1, 3, 3)),
])
def test_upsampling_layers(src, shape):
    check_op(layer(src), array(*shape))
    assert eval("dyngrad.nn." + src).name == eval("torch.nn." + src).name


# --- normalisation -------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"affine": True, "bias": False},
                                {"track_running_stats": True, "momentum": 0.3}])
@pytest.mark.parametrize("train", [True, False])
def test_instance_norm3d(kw, train):
    d, t = module_pair("InstanceNorm3d", 3, **kw)
    d.train(train)
    t.train(train)
    check_op((d, t), array(2, 3, 2, 3, 2), noncontig=False, dtypes=F64)
    check_op((d, t), array(3, 2, 2, 3), noncontig=False, gradgrad=False, dtypes=F64)
    for (name, db), (_, tb) in zip(d.named_buffers(), t.named_buffers(), strict=True):
        np.testing.assert_allclose(db.numpy(), tb.numpy(), rtol=1e-10, err_msg=name)


def test_instance_norm_feature_checks():
    check_error(lambda lib: lib.nn.InstanceNorm3d(3)(lib.zeros(2, 3, 2)))
    check_error(lambda lib: lib.nn.InstanceNorm3d(3, affine=True)(lib.ones(2, 4, 2, 2, 2)))
    d, t = [[(w.category.__name__, str(w.message)) for w in caught] for caught in (
        _caught(lambda: dyngrad.nn.InstanceNorm2d(3)(dyngrad.randn(2, 4, 3, 3))),
        _caught(lambda: torch.nn.InstanceNorm2d(3)(torch.randn(2, 4, 3, 3))))]
    assert d == t and len(t) == 1


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return caught


@pytest.mark.parametrize("size, alpha, beta, k", [(3, 1e-2, 0.75, 1), (2, 0.1, 0.5, 2.0),
                                                   (5, 0.05, 0.9, 1.5), (4, 1e-4, 0.75, 1)])
def test_cross_map_lrn2d(size, alpha, beta, k):
    # torch's legacy backward writes through out= arguments, so it has no second derivative
    check_op(layer(f"CrossMapLRN2d({size}, {alpha}, {beta}, {k})"), array(2, 6, 3, 2),
             gradgrad=False)
    check_op(layer(f"CrossMapLRN2d({size}, {alpha}, {beta}, {k})"), array(1, 2, 2, 2),
             gradgrad=False, dtypes=F64)


def test_cross_map_lrn2d_errors():
    check_error(lambda lib: lib.nn.CrossMapLRN2d(3)(lib.zeros(2, 3, 4)))

    def size_one_backward(lib):
        x = lib.ones(1, 3, 2, 2, requires_grad=True)
        lib.nn.CrossMapLRN2d(1)(x).sum().backward()

    check_error(size_one_backward)

    def second_order(lib):
        x = lib.ones(1, 3, 2, 2, requires_grad=True)
        lib.autograd.grad(lib.nn.CrossMapLRN2d(3)(x).sum(), x, create_graph=True)

    check_error(second_order)


# --- losses --------------------------------------------------------------------------------------
def test_nll_loss2d_warns_and_matches_nll_loss():
    d, t = (_caught(lambda lib=lib: lib.nn.NLLLoss2d()) for lib in (dyngrad, torch))
    assert [(w.category, str(w.message)) for w in d] == [(w.category, str(w.message)) for w in t]
    assert len(t) == 1 and t[0].category is FutureWarning
    target = np.array([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])

    def f(lib, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = lib.nn.NLLLoss2d(weight=lib.tensor([1.0, 2.0, 0.5], dtype=x.dtype),
                                    ignore_index=1)
        return loss(x, lib.from_numpy(target))

    # torch's nll_loss2d backward wants a contiguous input
    check_op(with_lib(f), array(2, 3, 2, 2), dtypes=F64, noncontig=False)


# --- Buffer --------------------------------------------------------------------------------------
def _buffer_facts(lib) -> dict:
    m = lib.nn.Module()
    x = lib.ones(2, requires_grad=True)
    m.a = lib.nn.Buffer(x, persistent=False)
    m.b = lib.nn.Buffer(lib.zeros(3))
    m.a = lib.zeros(1)  # a plain tensor keeps the name's persistence
    m.b = lib.nn.Buffer(lib.ones(3), persistent=False)  # a Buffer brings its own
    empty, kept = lib.nn.Buffer(), lib.nn.Buffer(x)
    return {"buffers": sorted(m._buffers), "non_persistent": sorted(m._non_persistent_buffers_set),
            "state": list(m.state_dict()), "persistent": m.b.persistent,
            "is_buffer": [isinstance(t, lib.nn.Buffer) for t in (m.a, m.b, x, kept)],
            "empty": (tuple(empty.shape), empty.dtype == lib.float32),
            "kept": (kept.requires_grad, kept.is_leaf, kept.grad_fn is None)}


def test_buffer_registration():
    facts = _buffer_facts(torch)
    assert _buffer_facts(dyngrad) == facts
    assert facts["non_persistent"] == ["a", "b"] and facts["is_buffer"] == [False, True, False,
                                                                            True]


def test_buffer_shares_memory_survives_copy_and_pickle():
    x = dyngrad.zeros(3)
    b = dyngrad.nn.Buffer(x, persistent=False)
    x.add_(1)
    assert b.numpy().tolist() == [1.0, 1.0, 1.0]
    for clone in (copy.deepcopy(b), pickle.loads(pickle.dumps(b))):
        assert isinstance(clone, dyngrad.nn.Buffer) and clone.persistent is False
        assert clone.numpy().tolist() == [1.0, 1.0, 1.0]


def test_buffer_errors():
    def before_init(lib):
        class M(lib.nn.Module):
            def __init__(self):
                self.b = lib.nn.Buffer(lib.zeros(1))

        M()

    def taken_name(lib):
        m = lib.nn.Module()
        m.z = 1
        m.z = lib.nn.Buffer(lib.zeros(1))

    def not_a_tensor(lib):
        m = lib.nn.BatchNorm1d(2)
        m.running_mean = 3

    def as_parameter(lib):
        lib.nn.Linear(2, 2).weight = lib.nn.Buffer(lib.zeros(2, 2))

    for fn in (before_init, taken_name, not_a_tensor, as_parameter):
        check_error(fn)


# --- lazy layers ---------------------------------------------------------------------------------
LAZY = [
    ("LazyLinear(3)", (2, 4)), ("LazyLinear(2, bias=False)", (3, 2, 5)),
    ("LazyConv1d(4, 3)", (2, 3, 7)), ("LazyConv1d(4, 3)", (3, 7)),
    ("LazyConv2d(4, 3, padding=1, bias=False)", (2, 5, 5)),
    ("LazyConv3d(2, (1, 2, 2), groups=2)", (1, 4, 3, 4, 4)),
    ("LazyConvTranspose1d(4, 3, stride=2)", (2, 3, 5)),
    ("LazyConvTranspose2d(4, 3, 2, 1, 1)", (1, 2, 3, 3)),
    ("LazyConvTranspose3d(4, 2, groups=2)", (1, 2, 2, 3, 2)),
    ("LazyBatchNorm1d()", (4, 3)), ("LazyBatchNorm2d(affine=False)", (2, 3, 2, 2)),
    ("LazyBatchNorm3d(momentum=None)", (2, 2, 2, 2, 2)), ("LazyInstanceNorm1d()", (2, 3, 4)),
    ("LazyInstanceNorm2d(bias=False)", (2, 3, 3, 3)),
    ("LazyInstanceNorm3d(track_running_stats=False)", (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("src, shape", LAZY)
def test_lazy_layer(src, shape):
    x = array(*shape)
    d, t = eval("dyngrad.nn." + src).double(), eval("torch.nn." + src).double()
    assert d.has_uninitialized_params() and t.has_uninitialized_params()
    d(dyngrad.from_numpy(x))
    t(torch.from_numpy(x))
    assert type(d).__name__ == type(t).__name__ and repr(d) == repr(t)
    assert _state(d) == _state(t)
    assert [(n, p.dtype, type(p).__name__) for n, p in d.named_parameters()] == [
        (n, getattr(dyngrad, str(p.dtype)[6:]), type(p).__name__)
        for n, p in t.named_parameters()]
    assert not d._forward_pre_hooks
    copy_state(d, t)
    check_op((d, t), x, noncontig=False, dtypes=F64)


def test_lazy_default_init_statistics():
    torch.manual_seed(0)
    m = dyngrad.nn.LazyConv2d(8, 3)
    m(dyngrad.zeros(1, 5, 6, 6))
    bound = 1 / np.sqrt(5 * 9)
    w = m.weight.detach().numpy()
    assert w.shape == (8, 5, 3, 3) and np.abs(w).max() <= bound and w.std() > bound / 4
    bn = dyngrad.nn.LazyBatchNorm1d()
    bn(dyngrad.zeros(2, 3))
    assert bn.weight.tolist() == [1.0] * 3 and bn.num_batches_tracked.item() == 1


def test_lazy_state_dict_round_trip():
    for lib in (dyngrad, torch):
        m = lib.nn.LazyLinear(3)
        assert repr(m.state_dict()["weight"]) == "<UninitializedParameter>"
        m.load_state_dict(lib.nn.Linear(4, 3).state_dict())
        assert type(m).__name__ == "LazyLinear" and tuple(m.weight.shape) == (3, 4)
        m(lib.ones(1, 4))
        assert repr(m) == "Linear(in_features=4, out_features=3, bias=True)"
        bn = lib.nn.LazyBatchNorm1d()
        bn.load_state_dict(lib.nn.BatchNorm1d(5).state_dict())
        assert tuple(bn.running_var.shape) == (5,) and bn.running_var.dtype == lib.float32


def test_lazy_dtype_and_placeholders():
    for lib in (dyngrad, torch):
        p = lib.nn.UninitializedParameter(dtype=lib.float64)
        b = lib.nn.UninitializedBuffer()
        assert (repr(p), repr(b), p.requires_grad, b.requires_grad) == (
            "<UninitializedParameter>", "<UninitializedBuffer>", True, False)
        p.materialize((2, 3))
        b.materialize((4,), dtype=lib.float16)
        assert type(p).__name__ == "Parameter" and p.dtype == lib.float64 and p.shape == (2, 3)
        assert b.dtype == lib.float16 and tuple(b.shape) == (4,)
        assert isinstance(b, lib.nn.Buffer)
        m = lib.nn.LazyBatchNorm1d().double()
        m(lib.zeros(2, 3, dtype=lib.float64))
        assert m.running_mean.dtype == m.weight.dtype == lib.float64
    check_error(lambda lib: lib.nn.UninitializedParameter().shape)


@pytest.mark.parametrize("src, shape", [
    ("LazyConv2d(4, 3)", (5, 5)), ("LazyConv1d(4, 3, groups=2)", (1, 3, 5)),
    ("LazyConvTranspose3d(4, 3)", (2, 3)), ("LazyBatchNorm2d()", (2, 3)),
    ("LazyInstanceNorm1d()", (3,)),
])
def test_lazy_errors(src, shape):
    check_error(lambda lib: eval("lib.nn." + src)(lib.zeros(*shape)))


def test_lazy_conv_transpose_padding_mode():
    check_error(lambda lib: lib.nn.LazyConvTranspose2d(2, 3, padding_mode="reflect"))


# --- AdaptiveLogSoftmaxWithLoss ------------------------------------------------------------------
def _asm(lib, weights, **kw):
    """An AdaptiveLogSoftmaxWithLoss(6, 10, [2, 5]) holding `weights` (a state_dict of arrays)."""
    m = lib.nn.AdaptiveLogSoftmaxWithLoss(6, 10, [2, 5], div_value=2.0, **kw).double()
    m.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in weights.items()})
    return m


@pytest.mark.parametrize("head_bias", [False, True])
@pytest.mark.parametrize("target", [[0, 3, 9, 1, 7, 4], [0, 1, 1, 0, 1, 0], [8, 9, 5, 7, 6, 9]])
def test_adaptive_log_softmax(head_bias, target):
    t_module = torch.nn.AdaptiveLogSoftmaxWithLoss(6, 10, [2, 5], div_value=2.0,
                                                   head_bias=head_bias).double()
    weights = {k: v.numpy() for k, v in t_module.state_dict().items()}
    y = np.array(target)

    def forward(lib, x):
        return tuple(_asm(lib, weights, head_bias=head_bias)(x, lib.from_numpy(y)))

    check_op(with_lib(forward), array(6, 6), dtypes=F64)
    check_op(with_lib(lambda lib, x: _asm(lib, weights, head_bias=head_bias).log_prob(x)),
             array(6, 6), dtypes=F64)
    x = array(8, 6, low=-4, high=4)
    d, t = _asm(dyngrad, weights, head_bias=head_bias), _asm(torch, weights, head_bias=head_bias)
    assert d.predict(dyngrad.from_numpy(x)).tolist() == t.predict(torch.from_numpy(x)).tolist()
    # parameter gradients
    for m, lib in ((d, dyngrad), (t, torch)):
        m(lib.from_numpy(x[:6]), lib.from_numpy(y)).loss.backward()
    for (name, dp), (_, tp) in zip(d.named_parameters(), t.named_parameters(), strict=True):
        assert (dp.grad is None) == (tp.grad is None), name  # unused clusters get no gradient
        if tp.grad is not None:
            np.testing.assert_allclose(dp.grad.numpy(), tp.grad.numpy(), rtol=1e-10,
                                       atol=1e-14, err_msg=name)


def test_adaptive_log_softmax_unbatched_and_predict_branches():
    t_module = torch.nn.AdaptiveLogSoftmaxWithLoss(6, 10, [2, 5], div_value=2.0).double()
    weights = {k: v.numpy() for k, v in t_module.state_dict().items()}
    for target in (7, 1):
        check_op(with_lib(lambda lib, x, c=target: tuple(_asm(lib, weights)(x, lib.tensor(c)))),
                 array(6), dtypes=F64)
    with torch.no_grad():  # head scores that put every row, or no row, in the shortlist
        for rows in (slice(0, 2), slice(2, 4)):
            weights["head.weight"][rows] = 0.0
            x = array(5, 6)
            preds = [_asm(lib, weights).predict(lib.from_numpy(x)).tolist()
                     for lib in (dyngrad, torch)]
            assert preds[0] == preds[1]


@pytest.mark.parametrize("x, y", [((3, 6), [0, 1, 10]), ((3, 6), [0, 1]), ((3, 6), 1),
                                  ((6,), [1]), ((3, 6), [[0], [1], [2]]), ((3, 6), [0, -1, 3])])
def test_adaptive_log_softmax_forward_errors(x, y):
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(6, 10, [2, 5], div_value=2.0)(
        lib.zeros(*x), lib.tensor(y)))


@pytest.mark.parametrize("cutoffs", [[], [3, 2], [0, 3], [2, 10], [2, 2], [2.5]])
def test_adaptive_log_softmax_cutoff_errors(cutoffs):
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs))
