"""functional_call (parameters swapped for one call, tied weights, strict keys) and
stack_module_state."""

import numpy as np
import pytest
import torch

import dyngrad as dg
from tests.harness import check_error


def _tied(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2, bias=False)
            self.b = lib.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    return Tied()


def test_call_with_other_parameters_and_restore():
    m = dg.nn.Linear(3, 2)
    w, b = dg.ones(2, 3, requires_grad=True), dg.zeros(2)
    out = dg.func.functional_call(m, {"weight": w, "bias": b}, dg.ones(3))
    assert out.tolist() == [3.0, 3.0] and out.grad_fn is not None
    assert isinstance(m.weight, dg.nn.Parameter) and m.weight is not w
    out2 = dg.func.functional_call(m, ({"weight": w}, {"bias": b}), args=(dg.ones(1, 3),),
                                   kwargs={})
    assert out2.tolist() == [[3.0, 3.0]]


def _grad_of_call(lib):
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2).double()
    params = {k: lib.tensor(np.arange(v.numel(), dtype=np.float64).reshape(tuple(v.shape)))
              for k, v in m.named_parameters()}
    x = lib.tensor(np.linspace(-1, 1, 3))
    return lib.func.grad(lambda p: lib.func.functional_call(m, p, (x,)).pow(2).sum())(params)


def test_grad_through_functional_call_matches_torch():
    expected, got = _grad_of_call(torch), _grad_of_call(dg)
    for k in expected:
        np.testing.assert_allclose(got[k].numpy(), expected[k].numpy())


def test_tied_weights():
    for lib in (torch, dg):
        m = _tied(lib)
        eye = lib.eye(2)
        assert lib.func.functional_call(m, {"a.weight": eye}, (lib.ones(2),)).tolist() == [1, 1]
        untied = lib.func.functional_call(m, {"a.weight": eye}, (lib.ones(2),), tie_weights=False)
        assert untied.tolist() != [1.0, 1.0]
        assert type(m.a.weight).__name__ == "Parameter"


ERRORS = {
    "strict": lambda lib: lib.func.functional_call(
        lib.nn.Linear(2, 2), {"weight": lib.ones(2, 2), "foo": lib.ones(1)}, (lib.ones(2),),
        strict=True),
    "not_dict": lambda lib: lib.func.functional_call(lib.nn.Linear(2, 2), 3, (lib.ones(2),)),
    "not_dicts": lambda lib: lib.func.functional_call(lib.nn.Linear(2, 2), [3], (lib.ones(2),)),
    "repeated_key": lambda lib: lib.func.functional_call(
        lib.nn.Linear(2, 2), ({"weight": lib.ones(2, 2)}, {"weight": lib.ones(2, 2)}),
        (lib.ones(2),)),
    "tied_conflict": lambda lib: lib.func.functional_call(
        _tied(lib), {"a.weight": lib.eye(2), "b.weight": lib.zeros(2, 2)}, (lib.ones(2),)),
    "stack_empty": lambda lib: lib.func.stack_module_state([]),
    "stack_classes": lambda lib: lib.func.stack_module_state([lib.nn.Linear(2, 2),
                                                              lib.nn.Tanh()]),
    "stack_modes": lambda lib: lib.func.stack_module_state([lib.nn.Linear(2, 2),
                                                            lib.nn.Linear(2, 2).eval()]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    check_error(ERRORS[name])


def test_stack_module_state():
    models = [dg.nn.BatchNorm1d(3) for _ in range(4)]
    params, buffers = dg.func.stack_module_state(models)
    assert sorted(params) == ["bias", "weight"]
    assert sorted(buffers) == ["num_batches_tracked", "running_mean", "running_var"]
    assert tuple(params["weight"].shape) == (4, 3) and params["weight"].is_leaf
    assert params["weight"].requires_grad and not buffers["running_mean"].requires_grad
