"""nn.LinearCrossEntropyOptions and the chunked `linear_cross_entropy` / `LinearCrossEntropyLoss`
it selects, side by side with PyTorch: the options dataclass (fields, defaults, validation,
repr, equality, frozenness, `dataclasses.replace`, the call-time resolution), then the chunked
path's values, gradients, grad_fn chain, warnings and errors."""

import dataclasses
import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error

# forward values and gradients: float rounding only (atol scaled by the largest value, for
# gradients that are differences of nearly equal terms)
RTOL = {"float16": 2e-3, "float32": 1e-6, "float64": 1e-12}
SCALAR_NODE = "GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked_defaultBackward"
NONE_NODE = ("GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked_no_reduction_"
             "defaultBackward")


def options(lib, **kw):
    """lib.nn.LinearCrossEntropyOptions(**kw), with dtype names ("float32") as lib's dtypes."""
    kw = {k: getattr(lib, v) if k == "acc_dtype" and v is not None else v for k, v in kw.items()}
    return lib.nn.LinearCrossEntropyOptions(**kw)


def assert_close(d, t, what=""):
    t = t.detach().numpy()
    d = d.detach().numpy()
    assert d.dtype == t.dtype and d.shape == t.shape, what
    r = RTOL[str(t.dtype)]
    atol = r * float(np.nanmax(np.abs(t), initial=0)) if t.size else 0
    np.testing.assert_allclose(d, t, rtol=r, atol=atol, equal_nan=True, err_msg=what)


def node_names(fn, depth=3):
    """grad_fn's class name with its next_functions', `depth` levels down."""
    if fn is None:
        return None
    if depth == 0:
        return type(fn).__name__
    return type(fn).__name__, [(node_names(f, depth - 1), nr) for f, nr in fn.next_functions]


def compare(call, arrays, dtype="float64"):
    """call(lib, *leaves) in both libraries; leaves from `arrays` (floating ones in `dtype`,
    requiring grad; others as they are). Compares the loss (values, dtype, shape, grad_fn chain)
    and the leaves' gradients of sum(loss * g) for a random g. Returns (dyngrad, torch) losses."""
    outs, grads = [], []
    g = None
    for lib in (dyngrad, torch):
        leaves = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True)
                  if a.dtype.kind == "f" else lib.tensor(a) for a in arrays]
        out = call(lib, *leaves)
        outs.append(out)
        if g is None:
            g = array(*out.shape).astype(dtype)
        out.backward(lib.tensor(g))
        grads.append([x.grad for x in leaves if x.requires_grad])
    (d, t) = outs
    assert_close(d, t, "loss")
    assert node_names(d.grad_fn) == node_names(t.grad_fn)
    for i, (dg, tg) in enumerate(zip(*grads, strict=True)):
        assert (dg is None) == (tg is None), f"grad {i}"
        if tg is not None:
            assert_close(dg, tg, f"grad {i}")
    return d, t


def lce(**kw):
    """linear_cross_entropy(x, w, target, *rest, **kw) for `compare`: kw's `opts` are the
    options' settings, its `tensors` the keywords that take the extra leaves `rest`."""
    opts = kw.pop("opts", {})
    names = kw.pop("tensors", ())

    def call(lib, x, w, t, *rest):
        extra = dict(zip(names, rest, strict=True))
        return lib.nn.functional.linear_cross_entropy(x, w, t, options=options(lib, **opts),
                                                      **kw, **extra)

    return call


# --- the options dataclass -----------------------------------------------------------------------
def test_fields_defaults_and_repr():
    fields = [(f.name, f.default) for f in dataclasses.fields(torch.nn.LinearCrossEntropyOptions)]
    assert [(f.name, f.default) for f in
            dataclasses.fields(dyngrad.nn.LinearCrossEntropyOptions)] == fields
    assert dyngrad.nn.LinearCrossEntropyOptions.__slots__ == (
        torch.nn.LinearCrossEntropyOptions.__slots__)
    for kw in [{}, dict(batch_chunk_size=3, chunking_method=None), dict(acc_dtype="float32"),
               dict(allow_retain_graph=True, acc_policy="balanced",
                    chunking_method="aspect_ratio:4"),
               dict(acc_dtype="float16", acc_policy="compact")]:
        assert repr(options(dyngrad, **kw)) == repr(options(torch, **kw))
        assert str(options(dyngrad, **kw)) == str(options(torch, **kw))
    assert dyngrad.nn.modules.LinearCrossEntropyOptions is dyngrad.nn.LinearCrossEntropyOptions


def test_equality_hash_frozen_and_replace():
    Opts = dyngrad.nn.LinearCrossEntropyOptions
    assert Opts(batch_chunk_size=2) == Opts(batch_chunk_size=2) != Opts(batch_chunk_size=3)
    assert hash(Opts(acc_dtype=dyngrad.float32)) == hash(Opts(acc_dtype=dyngrad.float32))
    assert Opts() != torch.nn.LinearCrossEntropyOptions()
    assert len({Opts(), Opts(), Opts(allow_retain_graph=True)}) == 2
    check_error(lambda lib: setattr(options(lib), "acc_policy", "compact"))
    check_error(lambda lib: setattr(options(lib), "other", 1))
    check_error(lambda lib: delattr(options(lib), "acc_dtype"))
    o = Opts(batch_chunk_size=4)
    assert dataclasses.replace(o, allow_retain_graph=True) == Opts(batch_chunk_size=4,
                                                                allow_retain_graph=True)
    assert o == Opts(batch_chunk_size=4)  # unchanged
    check_error(lambda lib: dataclasses.replace(options(lib), batch_chunk_size=0))
    check_error(lambda lib: dataclasses.replace(options(lib), acc_policy="fast"))
    check_error(lambda lib: dataclasses.replace(options(lib), chunk=2))
    assert dataclasses.asdict(Opts(acc_dtype=dyngrad.float64))["acc_dtype"] is dyngrad.float64


@pytest.mark.parametrize("kw", [
    dict(acc_policy="fast"), dict(acc_policy=None), dict(chunking_method="aspect_ratio:0"),
    dict(chunking_method="aspect"), dict(chunking_method="aspect_ratio:x"),
    dict(chunking_method="aspect_ratio:"), dict(chunking_method="aspect_ratio:-2"),
    dict(batch_chunk_size=0), dict(batch_chunk_size=-3), dict(batch_chunk_size=2.0),
    dict(batch_chunk_size="4"), dict(acc_dtype="int64"), dict(acc_dtype="complex64"),
])
def test_validation_errors(kw):
    check_error(lambda lib: options(lib, **kw))


def test_valid_settings():
    for kw in [dict(chunking_method=None), dict(chunking_method="aspect_ratio"),
               dict(chunking_method="aspect_ratio:16"), dict(batch_chunk_size=True),
               dict(acc_dtype="float64"), dict(acc_policy="accurate")]:
        options(dyngrad, **kw)


@pytest.mark.parametrize("kw", [
    {}, dict(batch_chunk_size=3), dict(batch_chunk_size=100), dict(chunking_method=None),
    dict(chunking_method="aspect_ratio"), dict(chunking_method="aspect_ratio:3"),
    dict(acc_policy="balanced"), dict(acc_dtype="float32"), dict(acc_policy="accurate"),
    dict(batch_chunk_size=8, chunking_method="aspect_ratio:2"),
])
@pytest.mark.parametrize("shape", [(37, 8, 1000), (5, 16, 4), (0, 3, 7), (64, 2, 2)])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("device", ["cpu", None])
def test_resolution_for_a_call(kw, shape, dtype, device):
    """`_adjust`: "auto" and None resolved per (device, dtype) and shapes as PyTorch does."""
    def adjust(lib):
        dev = None if device is None else lib.device(device)
        try:
            return repr(options(lib, **kw)._adjust(*shape, getattr(lib, dtype), dev))
        except ValueError as e:  # explicit size and method disagree
            return str(e)

    assert adjust(dyngrad) == adjust(torch)


def test_chunk_size_conflict():
    check_error(lambda lib: lib.nn.functional.linear_cross_entropy(
        lib.ones(8, 2), lib.ones(40, 2), lib.zeros(8, dtype=lib.int64),
        options=options(lib, batch_chunk_size=3, chunking_method="aspect_ratio")))


# --- the chunked path --------------------------------------------------------------------------
CHUNKINGS = [dict(batch_chunk_size=2), dict(batch_chunk_size=3, acc_policy="accurate"), {},
             dict(chunking_method="aspect_ratio"), dict(batch_chunk_size=1, acc_policy="balanced"),
             dict(batch_chunk_size=100)]


@pytest.mark.parametrize("opts", CHUNKINGS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_gradients_and_grad_fn(opts, reduction, dtype):
    target = np.array([1, 0, 3, 2, 1, 3, 0])
    compare(lce(reduction=reduction, opts=opts), [array(7, 3), array(4, 3), target], dtype)
    compare(lce(reduction=reduction, opts=opts, tensors=("linear_bias",)),
            [array(7, 3), array(4, 3), target, array(4)], dtype)
    weighted = lce(reduction=reduction, opts=opts, tensors=("weight",), ignore_index=3)
    compare(weighted, [array(7, 3), array(4, 3), target, array(4, low=0.5, high=2)], dtype)
    # a class-weight tensor requiring grad is an edge of the node, and gets no gradient
    both = lce(reduction=reduction, opts=opts, tensors=("linear_bias", "weight"), ignore_index=0)
    compare(both, [array(7, 3), array(4, 3), target, array(4), array(4, low=0.5, high=2)], dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_wide_vocabulary(reduction):
    """More classes than features, as the chunked path is meant for (auto chunk sizes)."""
    target = array(50, low=0, high=199, dtype=np.int64)
    for opts in [{}, dict(chunking_method="aspect_ratio:4"), dict(acc_policy="accurate")]:
        for dtype in ["float32", "float64"]:
            compare(lce(reduction=reduction, opts=opts, tensors=("linear_bias",)),
                    [array(50, 6), array(200, 6), target, array(200)], dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_unbatched_input(reduction):
    """1-D input: a batch of one whose result is squeezed (SqueezeBackward1 over the node)."""
    d, t = compare(lce(reduction=reduction, opts=dict(batch_chunk_size=2),
                       tensors=("linear_bias",)),
                   [array(3), array(5, 3), np.array(4), array(5)])
    assert type(t.grad_fn).__name__ == "SqueezeBackward1"
    assert t.shape == ()


HALF_SETTINGS = [
    {}, dict(acc_policy="accurate"), dict(acc_policy="balanced"), dict(acc_policy="compact"),
    dict(acc_dtype="float32"), dict(acc_policy="balanced", acc_dtype="float32", batch_chunk_size=3),
    dict(acc_policy="compact", acc_dtype="float32", batch_chunk_size=4),
]


@pytest.mark.parametrize("opts", HALF_SETTINGS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float16(opts, reduction):
    """float16, alone or accumulated in float32 ("auto" does so on the CPU), per policy."""
    target = array(20, low=0, high=29, dtype=np.int64)
    compare(lce(reduction=reduction, opts=opts, tensors=("linear_bias",)),
            [array(20, 8), array(30, 8), target, array(30)], "float16")


def test_grad_fn_chain():
    """The custom op's node: an edge per tensor input (target's and an unused class weight's
    are None); a non-leaf input's history follows."""
    def f(lib, reduction, x_op=lambda x: x):
        x = lib.ones(4, 3, requires_grad=True)
        w = lib.ones(5, 3, requires_grad=True)
        b = lib.zeros(5, requires_grad=True)
        return lib.nn.functional.linear_cross_entropy(
            x_op(x), w, lib.tensor([0, 1, 2, 3]), linear_bias=b, weight=lib.ones(5),
            reduction=reduction, options=options(lib))

    for reduction in ["mean", "sum", "none"]:
        for x_op in [lambda x: x, lambda x: x * 2, lambda x: x.t().t()]:
            d, t = (node_names(f(lib, reduction, x_op).grad_fn, 4) for lib in (dyngrad, torch))
            assert d == t
    assert node_names(f(dyngrad, "sum").grad_fn, 0) == SCALAR_NODE
    assert node_names(f(dyngrad, "none").grad_fn, 0) == NONE_NODE


def test_no_graph_without_grad():
    def f(lib, grad, reduction):
        return lib.nn.functional.linear_cross_entropy(
            lib.ones(3, 2, requires_grad=grad), lib.ones(4, 2), lib.tensor([0, 1, 2]),
            reduction=reduction, options=options(lib))

    for reduction in ["mean", "none"]:
        out = f(dyngrad, False, reduction)
        assert out.grad_fn is None and not out.requires_grad
        for lib in (dyngrad, torch):
            with lib.no_grad():
                assert f(lib, True, reduction).grad_fn is None


def test_backward_twice():
    def twice(lib, reduction, allow=False, retain=False):
        x = lib.ones(5, 3, requires_grad=True)
        w = lib.tensor(np.arange(12.0).reshape(4, 3) / 10, dtype=lib.float32, requires_grad=True)
        out = lib.nn.functional.linear_cross_entropy(
            x, w, lib.tensor([0, 1, 2, 3, 0]), reduction=reduction,
            options=options(lib, batch_chunk_size=2, allow_retain_graph=allow))
        out.sum().backward(retain_graph=retain)
        out.sum().backward()
        return x.grad, w.grad

    for reduction in ["mean", "sum"]:
        # the precomputed gradients are consumed in place, even with retain_graph=True
        check_error(lambda lib, r=reduction: twice(lib, r))
        check_error(lambda lib, r=reduction: twice(lib, r, retain=True))
        for dg, tg in zip(twice(dyngrad, reduction, allow=True),
                          twice(torch, reduction, allow=True), strict=True):
            assert_close(dg, tg)
    check_error(lambda lib: twice(lib, "none"))  # saved inputs freed
    for dg, tg in zip(twice(dyngrad, "none", retain=True), twice(torch, "none", retain=True),
                      strict=True):
        assert_close(dg, tg)


def test_gradient_of_gradient():
    """Not supported, as in PyTorch: the scalar reductions' gradients are the stored ones times
    the upstream gradient (MulBackward0 when that one requires grad); 'none' refuses."""
    def grads(lib, reduction, go_grad):
        x = lib.ones(3, 2, requires_grad=True)
        w = lib.tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.0], [1.0, 2.0]], requires_grad=True)
        out = lib.nn.functional.linear_cross_entropy(x, w, lib.tensor([0, 1, 2]),
                                                     reduction=reduction, options=options(lib))
        go = lib.ones(out.shape, requires_grad=go_grad)
        return lib.autograd.grad(out, (x, w), go, create_graph=True)

    for reduction in ["mean", "sum"]:
        for go_grad in [False, True]:
            d, t = grads(dyngrad, reduction, go_grad), grads(torch, reduction, go_grad)
            assert [node_names(g.grad_fn, 0) for g in d] == [node_names(g.grad_fn, 0) for g in t]
            for dg, tg in zip(d, t, strict=True):
                assert_close(dg, tg)
    check_error(lambda lib: grads(lib, "none", True))


def test_forward_ad():
    """PyTorch's custom op has no forward-mode formula: an error when autograd records the op,
    no tangent when it does not."""
    def tangent(lib, w_grad):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(lib.ones(3, 2), lib.ones(3, 2))
            out = lib.nn.functional.linear_cross_entropy(
                x, lib.ones(4, 2, requires_grad=w_grad), lib.tensor([0, 1, 2]),
                options=options(lib))
            return fw.unpack_dual(out).tangent

    assert tangent(dyngrad, False) is None and tangent(torch, False) is None
    check_error(lambda lib: tangent(lib, True))


def test_empty_batch_and_all_ignored():
    for reduction in ["mean", "sum", "none"]:
        compare(lce(reduction=reduction, opts={}), [array(0, 3), array(4, 3),
                                                    np.zeros(0, np.int64)])
        compare(lce(reduction=reduction, opts=dict(batch_chunk_size=2), ignore_index=2),
                [array(3, 3), array(4, 3), np.array([2, 2, 2])])


def test_errors():
    def call(lib, target, dtype="float32", weight=False, **opts):
        dt = getattr(lib, dtype)
        return lib.nn.functional.linear_cross_entropy(
            lib.ones(5, 3, dtype=dt, requires_grad=True), lib.ones(4, 3, dtype=dt),
            lib.tensor(target), weight=lib.ones(4, dtype=dt) if weight else None,
            options=options(lib, batch_chunk_size=2, **opts))

    check_error(lambda lib: call(lib, [0, 1, 2, 3, 1], acc_dtype="float64"))
    check_error(lambda lib: call(lib, [0, 1, 2, 3, 1], dtype="float64", acc_dtype="float32"))
    check_error(lambda lib: call(lib, [0, 1, 2, 3, 1], dtype="float16", acc_dtype="float64"))
    check_error(lambda lib: call(lib, [0, 1, 2, 3, 4]))       # class out of range
    check_error(lambda lib: call(lib, [0, 1, 2, 3, -1]))
    check_error(lambda lib: call(lib, [0, 1, 4, 3, 1], weight=True))
    check_error(lambda lib: call(lib, [0, 1, 2, 3]))          # fewer targets than rows
    check_error(lambda lib: call(lib, 1))                     # not one class per row
    check_error(lambda lib: call(lib, [[0, 1]] * 5))
    check_error(lambda lib: call(lib, [[0, 1]] * 5, weight=True))
    check_error(lambda lib: lib.nn.functional.linear_cross_entropy(  # as mm
        lib.ones(2, 3), lib.ones(4, 3, dtype=lib.float64), lib.tensor([0, 1]),
        options=options(lib)))
    check_error(lambda lib: lib.nn.functional.linear_cross_entropy(  # checks come first
        lib.ones(2, 3), lib.ones(4, 2), lib.tensor([0, 1]), options=options(lib)))


FALLBACKS = [
    (dict(label_smoothing=0.1), lambda lib: lib.tensor([0, 1, 2, 3, 1])),
    (dict(reduction="sum"), lambda lib: lib.ones(5, 4) / 4),             # class probabilities
    (dict(reduction="none", weight=True), lambda lib: lib.ones(5, 4) / 4),
    (dict(bias_shape=(4, 2)), lambda lib: lib.tensor(np.arange(10).reshape(5, 2) % 4)),  # K-dim
    (dict(reduction="batchmean"), lambda lib: lib.tensor([0, 1, 2, 3, 1])),
]


@pytest.mark.parametrize("kw, target", FALLBACKS)
def test_fallback_to_reference_path(kw, target):
    """Configurations the chunked path lacks: PyTorch's warning (pointing at the caller), then
    the reference path's result or error."""
    def call(lib):
        kw2 = dict(kw)
        shape = kw2.pop("bias_shape", None)
        x = lib.tensor(array(5, 3, rng=np.random.default_rng(0)), dtype=lib.float32,
                       requires_grad=True)
        w = lib.tensor(array(4, *(shape[1:] if shape else ()), 3, rng=np.random.default_rng(1)),
                       dtype=lib.float32, requires_grad=True)
        if kw2.pop("weight", False):
            kw2["weight"] = lib.tensor([1.0, 2.0, 0.5, 1.5])
        if shape:
            kw2["linear_bias"] = lib.zeros(shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = lib.nn.functional.linear_cross_entropy(
                    x, w, target(lib), options=options(lib, batch_chunk_size=2), **kw2)
            except Exception as e:  # noqa: BLE001 - the reference path's error is the result
                out = e
        return out, [(w.category, str(w.message), w.filename) for w in caught]

    (d, d_warn), (t, t_warn) = call(dyngrad), call(torch)
    assert d_warn == t_warn and len(t_warn) == 1 and t_warn[0][2] == __file__
    if isinstance(t, Exception):
        assert type(d) is type(t) and str(d) == str(t)
        return
    assert_close(d, t)
    assert type(d.grad_fn).__name__ == type(t.grad_fn).__name__


# --- the module --------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("bias", [False, True])
def test_module(reduction, bias):
    def make(lib):
        lib.manual_seed(7)
        return lib.nn.LinearCrossEntropyLoss(
            3, 6, bias=bias, reduction=reduction, weight=lib.ones(6) * 2, ignore_index=1,
            dtype=lib.float64, options=options(lib, batch_chunk_size=2))

    d, t = make(dyngrad), make(torch)
    assert repr(d) == repr(t)
    assert d.state_dict().keys() == t.state_dict().keys()
    for k, v in t.state_dict().items():
        assert_close(d.state_dict()[k], v, k)
    target = np.array([0, 1, 5, 2, 1])
    compare(lambda lib, x, tg: (d if lib is dyngrad else t)(x, tg), [array(5, 3), target])
    for k, p in t.named_parameters():
        assert_close(dict(d.named_parameters())[k].grad, p.grad, k)


def test_module_k_dimensional_falls_back():
    def run(lib):
        lib.manual_seed(1)
        m = lib.nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True,
                                          options=options(lib))
        x = lib.ones(5, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = m(x, lib.tensor(np.arange(10).reshape(5, 2) % 4))
        return out, [str(w.message) for w in caught]

    (d, dw), (t, tw) = run(dyngrad), run(torch)
    assert dw == tw and len(tw) == 1
    assert_close(d, t)


def test_module_errors():
    check_error(lambda lib: lib.nn.LinearCrossEntropyLoss(3, 4, weight=lib.ones(3)))
    check_error(lambda lib: lib.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5))


def test_logits_are_built_a_chunk_at_a_time(monkeypatch):
    """No more than batch_chunk_size rows of logits exist at once (softmax sums see chunks)."""
    from dyngrad.nn.functional import more_losses

    rows = []

    def recording_sum(a, axis, dtype):
        if axis == 1:
            rows.append(a.shape)
        return sum_(a, axis, dtype)

    sum_ = more_losses._sum
    monkeypatch.setattr(more_losses, "_sum", recording_sum)
    for reduction, size in [("mean", 3), ("none", 4)]:
        rows.clear()
        x = dyngrad.ones(10, 2, requires_grad=True)
        out = dyngrad.nn.functional.linear_cross_entropy(
            x, dyngrad.ones(50, 2), dyngrad.zeros(10, dtype=dyngrad.int64), reduction=reduction,
            options=dyngrad.nn.LinearCrossEntropyOptions(batch_chunk_size=size))
        out.sum().backward()
        chunks = [3, 3, 3, 1] if size == 3 else [4, 4, 2] * 2  # 'none': forward and backward
        assert rows == [(n, 50) for n in chunks]
