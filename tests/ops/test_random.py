"""Random ops against PyTorch: shapes, dtypes, grad_fn names, zero gradients and errors, plus
seeding and distribution sanity (seeded values: tests/ops/test_random_stream.py)."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import check_error


def _meta(out):
    outs = out if isinstance(out, tuple) else (out,)
    return [(str(t.dtype), tuple(t.shape), t.requires_grad,
             None if t.grad_fn is None else type(t.grad_fn).__name__,
             None if t.grad_fn is None else
             [None if f is None else type(f).__name__ for f, _ in t.grad_fn.next_functions])
            for t in outs]


def same_meta(fn):
    """fn(lib) gives tensors of the same dtype, shape, requires_grad and graph on both sides."""
    assert _meta(fn(dyngrad)) == _meta(fn(torch))


FACTORIES = {
    "rand": lambda t: t.rand(2, 3),
    "rand_tuple": lambda t: t.rand((2, 3)),
    "rand_list_f64": lambda t: t.rand([4], dtype=t.float64),
    "rand_size": lambda t: t.rand(t.Size([2, 1])),
    "rand_f16": lambda t: t.rand(5, dtype=t.float16),
    "rand_complex": lambda t: t.rand(3, dtype=t.complex64),
    "rand_scalar_shape": lambda t: t.rand(()),
    "rand_empty": lambda t: t.rand(0, 3),
    "rand_requires_grad": lambda t: t.rand(2, requires_grad=True),
    "randn": lambda t: t.randn(3, 4),
    "randn_complex": lambda t: t.randn(2, dtype=t.complex128),
    "randn_generator": lambda t: t.randn(2, generator=t.Generator().manual_seed(1)),
    "randint_high": lambda t: t.randint(5, (3,)),
    "randint_low_high": lambda t: t.randint(-3, 3, (2, 2)),
    "randint_kw": lambda t: t.randint(low=2, high=5, size=(2,)),
    "randint_high_kw_size": lambda t: t.randint(5, size=(2,)),
    "randint_float": lambda t: t.randint(0, 10, (3,), dtype=t.float32),
    "randint_uint8": lambda t: t.randint(0, 256, (3,), dtype=t.uint8),
    "randperm": lambda t: t.randperm(6),
    "randperm_float": lambda t: t.randperm(4, dtype=t.float32),
    "randperm_zero": lambda t: t.randperm(0),
    "rand_like": lambda t: t.rand_like(t.ones(2, 3, dtype=t.float64)),
    "randn_like_rg": lambda t: t.randn_like(t.ones(2, requires_grad=True)),
    "randint_like": lambda t: t.randint_like(t.ones(2, 2), 5),
    "randint_like_low": lambda t: t.randint_like(t.ones(2, dtype=t.int32), 2, 5),
    "normal_floats": lambda t: t.normal(0.0, 1.0, (2, 2)),
    "normal_floats_f64": lambda t: t.normal(0.0, 1.0, size=(2,), dtype=t.float64),
    "normal_tensors": lambda t: t.normal(t.zeros(3), t.ones(3)),
    "normal_broadcast": lambda t: t.normal(t.zeros(2, 1), t.ones(3)),
    "normal_tensor_float": lambda t: t.normal(t.zeros(3), 2.0),
    "normal_float_tensor": lambda t: t.normal(0.0, t.ones(3)),
    "bernoulli": lambda t: t.bernoulli(t.full((3,), 0.5)),
    "bernoulli_p": lambda t: t.bernoulli(t.ones(3), 0.3),
    "bernoulli_method": lambda t: t.full((2,), 0.5, dtype=t.float64).bernoulli(),
    "multinomial": lambda t: t.multinomial(t.tensor([0.2, 0.8]), 1),
    "multinomial_2d": lambda t: t.multinomial(t.ones(2, 3), 2),
    "multinomial_replacement": lambda t: t.multinomial(t.tensor([0.2, 0.8]), 5, replacement=True),
    "multinomial_method": lambda t: t.ones(4, dtype=t.float16).multinomial(2),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_factory_dtype_and_shape(name):
    same_meta(FACTORIES[name])


def test_factories_follow_default_dtype():
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
    for fn in (lambda t: t.rand(2), lambda t: t.randn(2), lambda t: t.normal(0.0, 1.0, (2,)),
               lambda t: t.randint(3, (2,)), lambda t: t.randperm(3)):
        same_meta(fn)


def _graph(kind):
    """A random op applied to tensors that require grad, with its gradient."""

    def fn(lib):
        x = lib.tensor([0.2, 0.5, 0.7], requires_grad=True)
        y = {
            "normal_tensor_float": lambda: lib.normal(x, 1.0),
            "normal_tensors": lambda: lib.normal(x, x),
            "normal_float_tensor": lambda: lib.normal(2.0, x),
            "bernoulli": lambda: lib.bernoulli(x * 1),
            "uniform_": lambda: (x * 1).uniform_(),
            "normal_": lambda: (x * 1).normal_(),
            "bernoulli_float": lambda: (x * 1).bernoulli_(0.5),
            "bernoulli_tensor": lambda: (x * 1).bernoulli_(x * 1),
            "random_": lambda: (x * 1).random_(),
            "random_to": lambda: (x * 1).random_(3),
            "random_from_to": lambda: (x * 1).random_(1, 3),
            "exponential_": lambda: (x * 1).exponential_(),
            "cauchy_": lambda: (x * 1).cauchy_(),
            "log_normal_": lambda: (x * 1).log_normal_(),
            "geometric_": lambda: (x * 1).geometric_(0.5),
        }[kind]()
        y.backward(lib.full((3,), 2.0))
        return y, x.grad

    return fn


@pytest.mark.parametrize("kind", [
    "normal_tensor_float", "normal_tensors", "normal_float_tensor", "bernoulli", "uniform_",
    "normal_", "bernoulli_float", "bernoulli_tensor", "random_", "random_to", "random_from_to",
    "exponential_", "cauchy_", "log_normal_", "geometric_",
])
def test_grad_fn_and_zero_gradient(kind):
    """Random ops record PyTorch's node names and pass back zero gradients."""
    fn = _graph(kind)
    dg_y, dg_grad = fn(dyngrad)
    th_y, th_grad = fn(torch)
    assert _meta(dg_y) == _meta(th_y)
    assert dg_grad.tolist() == th_grad.tolist() == [0.0, 0.0, 0.0]


def test_bernoulli_with_p_has_no_derivative():
    def fn(t):
        x = t.ones(3, requires_grad=True)
        t.bernoulli(x, 0.3).backward(t.ones(3))

    check_error(fn)


def test_inplace_fills_follow_inplace_rules():
    check_error(lambda t: t.ones(3, requires_grad=True).uniform_())
    check_error(lambda t: t.ones(3, requires_grad=True).normal_())
    for lib in (dyngrad, torch):
        w = lib.zeros(2, 3, requires_grad=True)
        with lib.no_grad():
            w.uniform_(-1, 1)
            w[0].normal_(5.0, 0.1)
        assert w.is_leaf and w.requires_grad and w.grad_fn is None and w._version == 2
        values = w.detach().numpy()
        assert (values[0] > 4).all() and (np.abs(values[1]) <= 1).all()


RANDOM_ERRORS = [
    lambda t: t.rand(2, dtype=t.int64),
    lambda t: t.rand(2, dtype=t.bool),
    lambda t: t.randn(2, dtype=t.int64),
    lambda t: t.rand(-1),
    lambda t: t.rand_like(t.ones(2, dtype=t.int64)),
    lambda t: t.randint(5, 3),
    lambda t: t.randint(3, 1, (2,)),
    lambda t: t.randint(0, 10, (3,), requires_grad=True),
    lambda t: t.randint(0, 300, (3,), dtype=t.uint8),
    lambda t: t.randint(-300, 3, (3,), dtype=t.int8),
    lambda t: t.randint(0, 2**40, (3,), dtype=t.int32),
    lambda t: t.randint(2**63, (1,)),
    lambda t: t.randperm(-1),
    lambda t: t.normal(0.0, -1.0, (2,)),
    lambda t: t.normal(t.zeros(3), -1.0),
    lambda t: t.normal(t.zeros(3), -t.ones(3)),
    lambda t: t.normal(t.zeros(3), t.ones(2)),
    lambda t: t.normal(t.zeros(3, dtype=t.int64), 1.0),
    lambda t: t.bernoulli(t.full((3,), 1.5)),
    lambda t: t.bernoulli(t.ones(3, dtype=t.int64)),
    lambda t: t.multinomial(t.tensor([0.2, 0.8]), 3),
    lambda t: t.multinomial(t.tensor([0.0, 0.0]), 1),
    lambda t: t.multinomial(t.tensor([-1.0, 2.0]), 1),
    lambda t: t.multinomial(t.tensor([1.0, float("nan")]), 1),
    lambda t: t.multinomial(t.ones(2, 3, 4), 2),
    lambda t: t.multinomial(t.tensor(1.0), 1),
    lambda t: t.multinomial(t.tensor([1, 2]), 1),
    lambda t: t.multinomial(t.ones(3), 0),
    lambda t: t.multinomial(t.ones(2, 0), 1),
    lambda t: t.zeros(3, dtype=t.int64).uniform_(),
    lambda t: t.zeros(3, dtype=t.int32).uniform_(),
    lambda t: t.zeros(3, dtype=t.bool).normal_(),
    lambda t: t.zeros(3).uniform_(2, 1),
    lambda t: t.zeros(3).uniform_(2.5, 1),
    lambda t: t.zeros(3).normal_(0, -1),
    lambda t: t.zeros(3).bernoulli_(1.5),
    lambda t: t.zeros(3).exponential_(-1),
    lambda t: t.zeros(3).exponential_(0),
    lambda t: t.zeros(3, dtype=t.int64).exponential_(),
    lambda t: t.zeros(3, dtype=t.int64).cauchy_(),
    lambda t: t.zeros(3).cauchy_(0, -1),
    lambda t: t.zeros(3, dtype=t.int64).log_normal_(),
    lambda t: t.zeros(3).log_normal_(0, 0),
    lambda t: t.zeros(3).geometric_(0),
    lambda t: t.zeros(3).geometric_(1.5),
    lambda t: t.zeros(3).random_(5, 2),
    lambda t: t.zeros(3, dtype=t.uint8).random_(0, 300),
    lambda t: t.zeros(3, dtype=t.uint8).random_(-1, 3),
    lambda t: t.manual_seed(2**64),
    lambda t: t.manual_seed(-(2**63) - 1),
    lambda t: t.manual_seed("a"),
    lambda t: t.Generator().set_state(t.zeros(3)),
    lambda t: t.Generator().set_state([1]),
]


@pytest.mark.parametrize("fn", RANDOM_ERRORS, ids=lambda f: "")
def test_errors(fn):
    check_error(fn)


def test_state_size_error():
    with pytest.raises(RuntimeError, match="but found the input RNG state size to be 3"):
        dyngrad.Generator().set_state(dyngrad.zeros(3, dtype=dyngrad.uint8))


# --- seeding -----------------------------------------------------------------------------------
def test_manual_seed_repeats_every_sampler():
    def draw():
        return [dyngrad.rand(3), dyngrad.randn(2, 2), dyngrad.randint(0, 100, (4,)),
                dyngrad.randperm(5), dyngrad.normal(dyngrad.zeros(3), 1.0),
                dyngrad.bernoulli(dyngrad.full((5,), 0.5)),
                dyngrad.multinomial(dyngrad.ones(6), 3), dyngrad.empty(3).uniform_(),
                dyngrad.empty(3).normal_(), dyngrad.empty(3).exponential_()]

    dyngrad.manual_seed(1234)
    first = [t.tolist() for t in draw()]
    dyngrad.manual_seed(1234)
    assert [t.tolist() for t in draw()] == first


def test_seed_values():
    for lib in (dyngrad, torch):
        assert lib.Generator().initial_seed() == 67280421310721
        assert lib.manual_seed(5).initial_seed() == 5 == lib.initial_seed()
        assert lib.default_generator.initial_seed() == 5
        assert lib.manual_seed(-1).initial_seed() == 2**64 - 1
        assert lib.manual_seed(True).initial_seed() == 1
        assert lib.manual_seed(1.5).initial_seed() == 1
        assert lib.manual_seed(2**63).initial_seed() == 2**63
        assert isinstance(lib.manual_seed(0), lib.Generator)
        assert lib.Generator().manual_seed(3).initial_seed() == 3
        assert str(lib.Generator().device) == "cpu"
        s = lib.seed()
        assert s == lib.initial_seed() and 0 <= s < 2**64


def test_generators_are_independent_streams():
    g = dyngrad.Generator().manual_seed(7)
    a = dyngrad.rand(4, generator=g)
    dyngrad.manual_seed(0)
    dyngrad.rand(10)  # the default stream moves; g's does not care
    g2 = dyngrad.Generator().manual_seed(7)
    assert dyngrad.rand(4, generator=g2).tolist() == a.tolist()
    assert dyngrad.rand(4, generator=g).tolist() != a.tolist()


def test_get_and_set_state():
    for lib in (dyngrad, torch):
        g = lib.Generator().manual_seed(11)
        state = g.get_state()
        assert state.dtype == lib.uint8 and state.dim() == 1
        a = lib.randn(5, generator=g)
        assert g.set_state(state) is g
        assert lib.randn(5, generator=g).tolist() == a.tolist()
        assert g.initial_seed() == 11
        saved = lib.get_rng_state()
        b = lib.rand(3)
        lib.set_rng_state(saved)
        assert lib.rand(3).tolist() == b.tolist()


def test_fork_rng_restores_default_stream():
    from dyngrad.ops.random import fork_rng

    dyngrad.manual_seed(3)
    expected = dyngrad.rand(3).tolist()
    dyngrad.manual_seed(3)
    with fork_rng():
        dyngrad.rand(100)
    assert dyngrad.rand(3).tolist() == expected


# --- distributions -----------------------------------------------------------------------------
N = 20000


def test_uniform_and_normal_statistics():
    dyngrad.manual_seed(0)
    u = dyngrad.rand(N, dtype=dyngrad.float64).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    h = dyngrad.rand(N, dtype=dyngrad.float16).numpy()
    assert h.max() < 1
    z = dyngrad.randn(N).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    c = dyngrad.randn(N, dtype=dyngrad.complex128).numpy()
    assert abs(np.mean(np.abs(c) ** 2) - 1) < 0.05
    w = dyngrad.empty(N).uniform_(-2, 3).numpy()
    assert -2 <= w.min() and w.max() < 3 and abs(w.mean() - 0.5) < 0.05
    n = dyngrad.empty(N).normal_(4, 0.5).numpy()
    assert abs(n.mean() - 4) < 0.02 and abs(n.std() - 0.5) < 0.02
    m = dyngrad.normal(dyngrad.tensor([0.0, 10.0]).reshape(2, 1), dyngrad.tensor(2.0).expand(N))
    assert np.allclose(m.numpy().mean(axis=1), [0, 10], atol=0.1)
    assert np.allclose(m.numpy().std(axis=1), [2, 2], atol=0.1)
    e = dyngrad.empty(N).exponential_(4).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01
    ln = dyngrad.empty(N).log_normal_(0, 0.5).numpy()
    assert abs(np.log(ln).std() - 0.5) < 0.02
    geo = dyngrad.empty(N).geometric_(0.25).numpy()
    assert geo.min() >= 1 and abs(geo.mean() - 4) < 0.15


def test_integer_ranges():
    dyngrad.manual_seed(0)
    r = dyngrad.randint(-3, 4, (N,)).numpy()
    assert set(np.unique(r)) == set(range(-3, 4))
    p = dyngrad.randperm(50).numpy()
    assert sorted(p) == list(range(50))
    assert set(np.unique(dyngrad.empty(N).random_(3).numpy())) == {0, 1, 2}
    assert set(np.unique(dyngrad.empty(N).random_(-2, 1).numpy())) == {-2, -1, 0}
    f = dyngrad.empty(N).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2**24 and np.all(f == np.round(f))
    b = dyngrad.zeros(N, dtype=dyngrad.bool).random_().numpy()
    assert 0.45 < b.mean() < 0.55
    u8 = dyngrad.zeros(N, dtype=dyngrad.uint8).random_().numpy()
    assert u8.max() > 250 and u8.min() < 5


def test_bernoulli_and_multinomial():
    dyngrad.manual_seed(0)
    probs = dyngrad.tensor([0.0, 0.25, 1.0]).expand(N, 3)
    b = dyngrad.bernoulli(probs).numpy()
    assert np.allclose(b.mean(axis=0), [0, 0.25, 1], atol=0.02)
    assert abs(dyngrad.zeros(N).bernoulli_(0.3).numpy().mean() - 0.3) < 0.02
    picks = dyngrad.multinomial(dyngrad.tensor([0.0, 1.0, 3.0]), N, replacement=True).numpy()
    assert np.allclose(np.bincount(picks, minlength=3) / N, [0, 0.25, 0.75], atol=0.02)
    rows = dyngrad.multinomial(dyngrad.ones(100, 5), 5).numpy()
    assert all(sorted(row) == [0, 1, 2, 3, 4] for row in rows)
    assert dyngrad.multinomial(dyngrad.tensor([0.0, 1.0, 0.0]), 1).tolist() == [1]
    first = dyngrad.multinomial(dyngrad.tensor([1.0, 0.0, 9.0]).expand(N, 3), 1).numpy()
    assert abs((first == 2).mean() - 0.9) < 0.02 and not (first == 1).any()


# --- poisson and binomial ----------------------------------------------------------------------
POISSON_BINOMIAL = {
    "poisson": lambda t: t.poisson(t.tensor([1.0, 2.0])),
    "poisson_f64": lambda t: t.poisson(t.full((2, 3), 4.0, dtype=t.float64)),
    "poisson_f16": lambda t: t.poisson(t.tensor([1.0], dtype=t.float16)),
    "poisson_grad": lambda t: t.poisson(t.tensor([1.0, 3.0], requires_grad=True)),
    "poisson_generator": lambda t: t.poisson(t.ones(2), t.Generator().manual_seed(3)),
    "binomial": lambda t: t.binomial(t.tensor([10.0, 5.0]), t.tensor([0.5, 0.1])),
    "binomial_broadcast": lambda t: t.binomial(t.full((2, 3), 4.0), t.tensor([0.5])),
    "binomial_grad": lambda t: t.binomial(t.tensor([10.0, 5.0], requires_grad=True),
                                          t.tensor([0.5, 0.1], requires_grad=True)),
}


@pytest.mark.parametrize("name", POISSON_BINOMIAL)
def test_poisson_binomial_meta(name):
    same_meta(POISSON_BINOMIAL[name])


def test_poisson_binomial_edge_values():
    """Deterministic cases: rate 0, probabilities 0, 1 (and beyond), NaN, count 0 or negative,
    an infinite rate (PyTorch casts its sampler's int64 overflow)."""
    from tests.autograd.common import both

    both(lambda t: [t.poisson(t.tensor([0.0, float("inf")])),
                    t.binomial(t.tensor([10.0, 5.0, 7.0, 0.0, -3.0]),
                               t.tensor([1.5, -0.1, 0.0, 0.5, 0.5])),
                    t.binomial(t.tensor([10.0, 5.0]), t.tensor([float("nan"), 1.0]))])


def test_poisson_binomial_gradients():
    """poisson: a zero gradient; binomial: no derivative at all (PyTorch's NotImplemented)."""
    from tests.autograd.common import both, outcome

    def prog(lib):
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        g = lib.autograd.grad(lib.poisson(x).sum(), x)[0]
        c = lib.tensor([4.0], requires_grad=True)
        return g, outcome(lambda: lib.binomial(c, lib.tensor([0.5])).sum().backward())

    both(prog)


def test_poisson_binomial_statistics():
    """Sample means and variances within five standard errors of the exact moments."""
    dyngrad.manual_seed(0)
    n = 200_000
    for rate in (0.5, 3.5, 300.5):
        s = dyngrad.poisson(dyngrad.full((n,), rate, dtype=dyngrad.float64)).numpy()
        assert abs(s.mean() - rate) < 5 * np.sqrt(rate / n)
        assert abs(s.var() - rate) < 5 * rate * np.sqrt(2 / n) + 5 * np.sqrt(rate / n)
        assert np.all(s == np.round(s)) and s.min() >= 0
    for count, p in ((10.0, 0.3), (8.0, 0.9), (1000.0, 0.01)):
        trials = np.floor(count)
        s = dyngrad.binomial(dyngrad.full((n,), count, dtype=dyngrad.float64),
                             dyngrad.full((n,), p, dtype=dyngrad.float64)).numpy()
        var = trials * p * (1 - p)
        assert abs(s.mean() - trials * p) < 5 * np.sqrt(var / n)
        assert s.min() >= 0 and s.max() <= trials


POISSON_BINOMIAL_ERRORS = {
    "poisson_negative": lambda t: t.poisson(t.tensor([-1.0, 2.0])),
    "poisson_nan": lambda t: t.poisson(t.tensor([float("nan")])),
    "poisson_long": lambda t: t.poisson(t.tensor([1, 2])),
    "poisson_complex": lambda t: t.poisson(t.tensor([1j])),
    "poisson_number": lambda t: t.poisson(3.0),
    "binomial_long_count": lambda t: t.binomial(t.tensor([10, 5]), t.tensor([0.5, 0.1])),
    "binomial_dtypes": lambda t: t.binomial(t.tensor([10.0]), t.tensor([0.5], dtype=t.float64)),
    "binomial_shapes": lambda t: t.binomial(t.ones(2), t.full((3,), 0.5)),
    "binomial_number": lambda t: t.binomial(t.ones(2), 0.5),
}


@pytest.mark.parametrize("name", POISSON_BINOMIAL_ERRORS)
def test_poisson_binomial_errors(name):
    check_error(POISSON_BINOMIAL_ERRORS[name])
