"""The module system against torch: registration, iteration, state_dict, repr, hooks, errors."""

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.nn  # noqa: F401 - attaches dyngrad.nn
from tests.harness import check_error
from tests.harness import copy_state as copy_params


def build(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(16, 10),
        nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Tanh()]),
        nn.ModuleDict({"act": nn.GELU(approximate="tanh")}),
    )


def test_repr_and_state_dict_keys():
    d, t = build(dyngrad), build(torch)
    assert repr(d) == repr(t)
    ds, ts = d.state_dict(), t.state_dict()
    assert list(ds) == list(ts)
    assert [tuple(v.shape) for v in ds.values()] == [tuple(v.shape) for v in ts.values()]
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in d.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in d.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in d.named_children()] == [n for n, _ in t.named_children()]


LAYERS = [
    "Identity()", "Linear(3, 4)", "Linear(3, 4, bias=False)", "Bilinear(2, 3, 4)",
    "Conv1d(2, 3, 3, stride=2)", "Conv2d(2, 4, (3, 2), padding='same', dilation=2, groups=2)",
    "Conv2d(1, 2, 3, padding=1, padding_mode='reflect')", "ConvTranspose2d(2, 3, 3, stride=2)",
    "MaxPool2d(3, 2, 1, ceil_mode=True)", "MaxPool1d(2)", "AvgPool2d(2)", "AvgPool1d(3)",
    "AdaptiveAvgPool2d((1, 1))", "AdaptiveMaxPool2d(2)", "BatchNorm1d(3)",
    "BatchNorm2d(3, affine=False)", "LayerNorm(4)", "LayerNorm((2, 3), elementwise_affine=False)",
    "GroupNorm(2, 4)", "InstanceNorm2d(3)", "RMSNorm(4)", "LocalResponseNorm(2)",
    "Embedding(10, 3)", "Embedding(10, 3, padding_idx=0, max_norm=1.0)",
    "Upsample(scale_factor=2)", "PixelShuffle(2)", "Flatten()", "Unflatten(1, (2, 3))",
    "Dropout(0.2)", "Dropout2d()", "AlphaDropout(0.1)", "ReLU()", "ReLU(inplace=True)", "ReLU6()",
    "LeakyReLU(0.2)", "PReLU(3)", "RReLU()", "ELU(alpha=0.5)", "SELU()", "CELU()", "GELU()",
    "SiLU()", "Mish()", "Sigmoid()", "Tanh()", "Softplus(beta=2)", "Softsign()", "Softshrink()",
    "Hardshrink(0.3)", "Hardtanh(-2, 2)", "Hardsigmoid()", "Hardswish()", "Tanhshrink()",
    "Threshold(0.1, 20)", "GLU()", "LogSigmoid()", "Softmax(dim=1)", "LogSoftmax(1)",
    "Softmin(0)", "MSELoss()", "L1Loss(reduction='sum')", "CrossEntropyLoss(label_smoothing=0.1)",
    "NLLLoss()", "BCELoss()", "BCEWithLogitsLoss()", "HuberLoss()", "SmoothL1Loss()",
]


@pytest.mark.parametrize("src", LAYERS)
def test_layer_repr_and_state(src):
    d, t = eval("dyngrad.nn." + src), eval("torch.nn." + src)
    assert repr(d) == repr(t)
    assert {k: tuple(v.shape) for k, v in d.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert [type(p).__name__ for p in d.parameters()] == ["Parameter"] * len(list(t.parameters()))


def test_parameter_repr_and_containers():
    p = dyngrad.nn.Parameter(dyngrad.zeros(2))
    assert repr(p) == repr(torch.nn.Parameter(torch.zeros(2)))
    assert p.requires_grad and p.is_leaf
    for lib in (dyngrad, torch):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.zeros(1)])
        pd = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.zeros(2, 3))})
        if lib is dyngrad:
            d_reprs = (repr(pl), repr(pd), list(pl.state_dict()), list(pd.state_dict()))
        else:
            assert d_reprs == (repr(pl), repr(pd), list(pl.state_dict()), list(pd.state_dict()))
    ml = dyngrad.nn.ModuleList([dyngrad.nn.ReLU()] * 3 + [dyngrad.nn.Tanh()])
    assert repr(ml) == repr(torch.nn.ModuleList([torch.nn.ReLU()] * 3 + [torch.nn.Tanh()]))
    seq = dyngrad.nn.Sequential(dyngrad.nn.ReLU(), dyngrad.nn.Tanh(), dyngrad.nn.Sigmoid())
    t_seq = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Sigmoid())
    assert repr(seq[1:]) == repr(t_seq[1:])
    del seq[0]
    assert list(seq._modules) == ["0", "1"]


def test_forward_matches_torch_after_loading_weights():
    torch.manual_seed(0)
    t = build(torch)[:7].double()
    d = build(dyngrad)[:7].double()
    copy_params(d, t)
    x = np.random.default_rng(0).standard_normal((3, 1, 4, 4))
    for mode in ("train", "eval"):
        getattr(t, mode)()
        getattr(d, mode)()
        if mode == "train":
            t[5].p = d[5].p = 0.0  # (the two generators are not seeded alike here)
        tx, dx = torch.from_numpy(x).requires_grad_(), dyngrad.from_numpy(x).requires_grad_()
        ty, dy = t(tx), d(dx)
        np.testing.assert_allclose(dy.detach().numpy(), ty.detach().numpy(), rtol=1e-10)
        (ty * ty).sum().backward()
        (dy * dy).sum().backward()
        np.testing.assert_allclose(dx.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-12)
        for (name, dp), (_, tp) in zip(d.named_parameters(), t.named_parameters(), strict=True):
            np.testing.assert_allclose(dp.grad.numpy(), tp.grad.numpy(), rtol=1e-8, atol=1e-12,
                                       err_msg=name)
        for (name, db), (_, tb) in zip(d.named_buffers(), t.named_buffers(), strict=True):
            np.testing.assert_allclose(db.numpy(), tb.numpy(), rtol=1e-10, err_msg=name)
        t.zero_grad()
        d.zero_grad()
        assert all(p.grad is None for p in d.parameters())


def test_load_state_dict_errors():
    def load(lib, state):
        lib.nn.Linear(2, 3).load_state_dict(state)

    check_error(lambda lib: load(lib, {"weight": lib.zeros(3, 2), "foo": lib.zeros(1)}))
    check_error(lambda lib: load(lib, {"weight": lib.zeros(3, 3), "bias": lib.zeros(3)}))
    res = dyngrad.nn.Linear(2, 3).load_state_dict({"weight": dyngrad.zeros(3, 2)}, strict=False)
    t_res = torch.nn.Linear(2, 3).load_state_dict({"weight": torch.zeros(3, 2)}, strict=False)
    assert repr(res) == repr(t_res)
    assert repr(dyngrad.nn.Linear(2, 3).load_state_dict(dyngrad.nn.Linear(2, 3).state_dict())) \
        == "<All keys matched successfully>"


def test_attribute_errors():
    check_error(lambda lib: setattr(lib.nn.Linear(2, 3), "weight", lib.zeros(3, 2)))
    check_error(lambda lib: lib.nn.Linear(2, 3).nothing)
    check_error(lambda lib: lib.nn.Module()(1))


def test_modes_dtype_apply():
    m = dyngrad.nn.Sequential(dyngrad.nn.Linear(2, 2), dyngrad.nn.BatchNorm1d(2))
    assert m.eval() is m and not m[1].training
    m.train()
    assert m[1].training
    m.double()
    assert m[0].weight.dtype == dyngrad.float64
    assert m[1].num_batches_tracked.dtype == dyngrad.int64
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Sequential"]


def test_hooks():
    calls = {}
    for lib in (dyngrad, torch):
        lin = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            lin.weight.copy_(lib.ones(2, 3, dtype=lib.float64))
            lin.bias.copy_(lib.ones(2, dtype=lib.float64))
        log = calls.setdefault(lib.__name__, [])
        lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        lin.register_forward_hook(lambda m, args, out: out + 1)
        lin.register_full_backward_hook(
            lambda m, gi, go, log=log: log.append((gi[0].numpy().tolist(),
                                                  go[0].numpy().tolist())))
        x = lib.ones(1, 3, dtype=lib.float64, requires_grad=True)
        y = lin(x)
        y.sum().backward()
        log.append((y.detach().numpy().tolist(), x.grad.numpy().tolist()))
    y_d = calls["dyngrad"][-1][0]
    assert calls["dyngrad"][-1] == calls["torch"][-1], calls
    assert calls["dyngrad"] == calls["torch"], calls
    assert y_d[0][0] != 0
