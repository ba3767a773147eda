"""dyngrad.jit: TorchScript's entry points as eager no-ops. What they return computes what
torch's scripted/traced objects compute; the queries, decorators, isinstance, fork/wait and the
errors match torch.jit's."""
# ruff: noqa: UP006, UP007, UP045 - typing.List/Optional/Union spellings are test inputs

import typing
import warnings

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.jit
from tests.harness import check_error

# TorchScript's deprecation warnings (and torch's TracerWarning) are checked where they are the
# subject (test_deprecation_warnings), and silenced elsewhere
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")]


def _double(x):
    return x * 2


class _Net(torch.nn.Module):
    """A module with data-dependent control flow (which a real trace would freeze)."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x):
        y = self.lin(x)
        return y.relu() if x.sum() > 0 else -y


def _pair():
    th = _Net()
    dg = dyngrad.nn.Linear(3, 2)
    with dyngrad.no_grad():
        dg.weight.copy_(dyngrad.from_numpy(th.lin.weight.detach().numpy()))
        dg.bias.copy_(dyngrad.from_numpy(th.lin.bias.detach().numpy()))
    return th, dg


def test_is_scripting_and_is_tracing():
    assert dyngrad.jit.is_scripting() is torch.jit.is_scripting() is False
    assert dyngrad.jit.is_tracing() is torch.jit.is_tracing() is False


def test_script_returns_its_argument():
    m = dyngrad.nn.Linear(2, 2)
    assert dyngrad.jit.script(m) is m
    assert dyngrad.jit.script(_double) is _double
    assert not isinstance(m, dyngrad.jit.ScriptModule)


def test_script_computes_what_torch_script_computes():
    x = np.array([1.5, -2.0], dtype=np.float32)
    th = torch.jit.script(_double)(torch.from_numpy(x))
    dg = dyngrad.jit.script(_double)(dyngrad.from_numpy(x))
    assert dg.tolist() == th.tolist()


def test_trace_returns_the_module_which_stays_eager():
    th, dg = _pair()
    x = np.array([[1.0, 2.0, -0.5]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's TracerWarning about the branch
        traced = torch.jit.trace(th, torch.from_numpy(x))
    assert dyngrad.jit.trace(dg, dyngrad.from_numpy(x)) is dg
    assert dyngrad.jit.trace_module(dg, {"forward": dyngrad.from_numpy(x)}) is dg
    np.testing.assert_allclose(dg(dyngrad.from_numpy(x)).relu().detach().numpy(),
                               traced(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    # the other branch: eager dyngrad follows it, as torch's eager module does
    neg = -x
    np.testing.assert_allclose((-dg(dyngrad.from_numpy(neg))).detach().numpy(),
                               th(torch.from_numpy(neg)).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("decorator", ["ignore", "unused", "export", "script_method",
                                       "interface"])
def test_decorators_return_the_function(decorator):
    fn = getattr(dyngrad.jit, decorator)(_double)
    assert fn is _double
    assert getattr(torch.jit, decorator)


def test_ignore_drop_warns_as_torch():
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn = L.jit.ignore(drop=True)(_double)
        return fn(3), [(w.category.__name__, str(w.message)) for w in caught]

    assert run(dyngrad) == run(torch)


def test_annotate_and_final():
    assert dyngrad.jit.annotate(list, [1]) == torch.jit.annotate(list, [1]) == [1]
    assert dyngrad.jit.Final is torch.jit.Final is typing.Final


def test_attribute():
    assert repr(dyngrad.jit.Attribute(3, int)) == repr(torch.jit.Attribute(3, int))
    assert dyngrad.jit.Attribute(3, int).value == 3


ISINSTANCE = [
    ([1, 2], list[int]), ([1, "a"], list[int]), ({"a": 1}, dict[str, int]),
    ({"a": "b"}, dict[str, int]), (None, typing.Optional[int]), ((1, "a"), tuple[int, str]),
    ((1,), tuple[int, str]), ([[1]], list[list[int]]), (None, typing.Optional[list[int]]),
    ([None], list[typing.Optional[int]]), (3, typing.Union[int, str]), ("a", int | str),
    (3.0, int | str), (3, int), (3, (int, str)),
    ([1], typing.List[int]),
]


@pytest.mark.parametrize("obj,target", ISINSTANCE, ids=str)
def test_isinstance(obj, target):
    assert dyngrad.jit.isinstance(obj, target) == torch.jit.isinstance(obj, target)


@pytest.mark.parametrize("target", [list, dict, tuple, typing.List, typing.Dict,
                                    typing.Tuple, typing.Optional, typing.Union], ids=str)
def test_isinstance_bare_containers(target):
    check_error(lambda L: L.jit.isinstance([1], target))


def test_isinstance_empty_container_warns():
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = L.jit.isinstance([], list[int]), L.jit.isinstance({}, dict[str, int])
        return result, [str(w.message) for w in caught]

    assert run(dyngrad) == run(torch)


def test_fork_and_wait():
    def run(L):
        fut = L.jit.fork(lambda a, b=1: a + b, 2, b=3)
        return fut.wait(), L.jit.wait(fut), fut.done(), fut.value()

    assert run(dyngrad) == run(torch) == (5, 5, True, 5)


def test_fusion_settings():
    saved = torch.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)])
    try:
        def run(L):
            first = L.jit.set_fusion_strategy([("DYNAMIC", 3)])
            return first, L.jit.set_fusion_strategy(first), L.jit.onednn_fusion_enabled()

        assert run(dyngrad) == run(torch)
    finally:
        torch.jit.set_fusion_strategy(saved)


def test_strict_fusion_warns_eagerly():
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with L.jit.strict_fusion():
                pass
        return [(w.category.__name__, str(w.message)) for w in caught]

    assert run(dyngrad) == run(torch)


def test_freeze_needs_eval_mode():
    th, dg = _pair()
    with pytest.raises(RuntimeError) as th_err:
        torch.jit.freeze(torch.jit.script(th))
    with pytest.raises(RuntimeError) as dg_err:
        dyngrad.jit.freeze(dg)
    assert str(dg_err.value) == str(th_err.value)
    assert dyngrad.jit.freeze(dg.eval()) is dg
    assert dyngrad.jit.optimize_for_inference(dg.train()) is dg and not dg.training


def test_isinstance_ellipsis_tuple():
    check_error(lambda L: L.jit.isinstance((1, 2), tuple[int, ...]))


def test_save_and_load_are_not_available(tmp_path):
    """A deliberate difference: there are no TorchScript archives."""
    with pytest.raises(NotImplementedError, match="state_dict"):
        dyngrad.jit.save(dyngrad.nn.Linear(3, 2), str(tmp_path / "m.pt"))
    with pytest.raises(NotImplementedError, match="load_state_dict"):
        dyngrad.jit.load(str(tmp_path / "m.pt"))


def test_error_classes():
    assert issubclass(dyngrad.jit.Error, Exception) and issubclass(torch.jit.Error, Exception)
    assert issubclass(dyngrad.jit.TracerWarning, Warning)
    assert issubclass(torch.jit.TracerWarning, Warning)
    assert issubclass(dyngrad.jit.ScriptModule, dyngrad.nn.Module)


DEPRECATED = {
    "script": lambda L: L.jit.script(_double),
    "trace": lambda L: L.jit.trace(_double, L.ones(1)),
    "trace_module": lambda L: L.jit.trace_module(L.nn.Linear(2, 2), {"forward": L.ones(2)}),
    "fork": lambda L: L.jit.fork(_double, 1),
    "wait": lambda L: L.jit.wait(L.jit.fork(_double, 1)),
    "set_fusion_strategy": lambda L: L.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)]),
    "ignore": lambda L: L.jit.ignore(_double),
    "annotate": lambda L: L.jit.annotate(int, 3),
}


@pytest.mark.parametrize("name", DEPRECATED)
def test_deprecation_warnings(name):
    """Each entry point warns as torch 2.13's does (torch repeats some warnings: compared as
    sets)."""

    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            DEPRECATED[name](L)
        return {(w.category.__name__, str(w.message)) for w in caught
                if w.category.__name__ != "TracerWarning"}

    assert run(dyngrad) == run(torch)


def test_save_and_load_warn_first(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in (lambda: dyngrad.jit.save(None, str(tmp_path / "a")),
                     lambda: dyngrad.jit.load(str(tmp_path / "a"))):
            with pytest.raises(NotImplementedError):
                call()
    assert [str(w.message) for w in caught] == [
        "`torch.jit.save` is deprecated. Please switch to `torch.export`.",
        "`torch.jit.load` is deprecated. Please switch to `torch.export`.",
    ]
