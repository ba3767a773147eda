"""dyngrad/ops/igamma.py against PyTorch: the regularized incomplete gamma functions igamma and
igammac (and torch.special.gammainc / gammaincc): values over a wide range of a and x, edge
values, dtypes, the derivative in x (first and second order, and finite differences), and the
missing derivative in a."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.autograd.common import both
from tests.harness import check_error, check_op, fd_check, with_lib

rng = np.random.default_rng(7)
SMALL_A, SMALL_X = rng.uniform(0.1, 5, 40), rng.uniform(0.01, 10, 40)
LARGE_A, LARGE_X = rng.uniform(5, 300, 40), rng.uniform(1, 400, 40)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
@pytest.mark.parametrize("a,x", [(SMALL_A, SMALL_X), (LARGE_A, LARGE_X)], ids=["small", "large"])
def test_values_and_gradients(name, a, x):
    """Gradients flow to x only (a does not require grad), as PyTorch defines them."""
    check_op(name, a, x, requires_grad=(False, True))


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_methods_and_aliases(name):
    a, x = SMALL_A[:6], SMALL_X[:6]
    check_op("." + name, a, x, requires_grad=(False, True))
    special = "gammainc" if name == "igamma" else "gammaincc"
    check_op(with_lib(lambda lib, p, q: getattr(lib.special, special)(p, q)), a, x,
             requires_grad=(False, True))
    check_op(lambda p, q: getattr(p * 1, name + "_")(q), a, x, requires_grad=(False, True))


def test_edges_and_dtypes():
    a = [1.0, -2.0, 0.0, 0.0, float("inf"), 1.0, float("nan"), 0.0, float("inf"), 2.0, 1e-5]
    x = [-1.0, 2.0, 0.0, 1.0, 1.0, float("inf"), 1.0, float("inf"), float("inf"), 0.0, 10.0]

    def prog(lib):
        out = []
        for dt in (lib.float16, lib.float32, lib.float64):
            p, q = lib.tensor(a, dtype=dt), lib.tensor(x, dtype=dt)
            out += [lib.igamma(p, q), lib.igammac(p, q)]
        out.append(lib.igamma(lib.tensor([1.5], dtype=lib.float64), lib.tensor([2.0])))
        out.append(lib.igamma(lib.tensor([2, 3]), lib.tensor([1.5, 2.5])))
        out.append(lib.igammac(lib.tensor([[1.0], [2.0]]), lib.tensor([0.5, 1.5, 3.0])))
        return out

    both(prog)


def test_finite_differences():
    a = dyngrad.tensor(SMALL_A[:5])
    fd_check(lambda q: dyngrad.igamma(a, q), SMALL_X[:5])
    fd_check(lambda q: dyngrad.igammac(a, q), SMALL_X[:5])


def test_no_derivative_in_a():
    def fn(lib, name):
        a = lib.tensor([0.5, 2.0], requires_grad=True)
        return getattr(lib, name)(a, lib.tensor([1.0, 1.0], requires_grad=True)).sum().backward()

    for name in ("igamma", "igammac"):
        check_error(lambda lib, n=name: fn(lib, n))
        check_error(lambda lib, n=name: (lib.tensor([0.5, 2.0], requires_grad=True) * 1)
                    .__getattribute__(n + "_")(lib.tensor([1.0, 1.0])).sum().backward())


ERRORS = {
    "other_scalar": lambda t: t.igamma(t.tensor([1.0]), 2.0),
    "input_scalar": lambda t: t.igammac(2.0, t.tensor([1.0])),
    "integers": lambda t: t.igamma(t.tensor([1, 2]), t.tensor([1, 2])),
    "complex": lambda t: t.igamma(t.tensor([1j]), t.tensor([1j])),
    "complex_c": lambda t: t.igammac(t.tensor([1j]), t.tensor([1j])),
    "shapes": lambda t: t.igamma(t.ones(2), t.ones(3)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


def test_deep_tails():
    """Deep tails, where 1 - P would lose all digits: both functions stay accurate."""
    a = np.array([0.5, 3.0, 50.0, 200.0])
    x = np.array([40.0, 60.0, 5.0, 100.0])
    for name in ("igamma", "igammac"):
        d = getattr(dyngrad, name)(dyngrad.tensor(a), dyngrad.tensor(x)).numpy()
        t = getattr(torch, name)(torch.tensor(a), torch.tensor(x)).numpy()
        np.testing.assert_allclose(d, t, rtol=1e-9, atol=0)
