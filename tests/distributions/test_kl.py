"""kl_divergence against PyTorch: every registered pair (values and first- and second-order
gradients with respect to both distributions' parameters), the Bregman-divergence fallback for
exponential families, dispatch on subclasses, register_kl, and the errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.distributions.kl

import dyngrad
import dyngrad.distributions.kl
from tests.distributions.common import both, positive, real, unit
from tests.harness import check_error, check_op, with_lib


def _lower(raw):
    return raw.tril(-1) + raw.diagonal(dim1=-2, dim2=-1).exp().diag_embed()


# class name -> (make(D, *params), params()); parameter ranges chosen so that most cross-family
# divergences are finite (uniforms inside (0, 1) and above 0, Pareto alphas above 2, ...).
FACTORIES = {
    "Bernoulli": (lambda D, p: D.Bernoulli(p), lambda: [unit(3)]),
    "Beta": (lambda D, a, b: D.Beta(a, b), lambda: [positive(3), positive(3)]),
    "Binomial": (lambda D, p: D.Binomial(5, p), lambda: [unit(3)]),
    "Categorical": (lambda D, p: D.Categorical(p), lambda: [positive(3, 4)]),
    "Cauchy": (lambda D, loc, scale: D.Cauchy(loc, scale), lambda: [real(3), positive(3)]),
    "ContinuousBernoulli": (lambda D, p: D.ContinuousBernoulli(p),
                            lambda: [np.array([0.2, 0.4995, 0.8])]),
    "Dirichlet": (lambda D, a: D.Dirichlet(a), lambda: [positive(3, 4)]),
    "Exponential": (lambda D, rate: D.Exponential(rate), lambda: [positive(3)]),
    "Gamma": (lambda D, a, b: D.Gamma(a, b), lambda: [positive(3), positive(3)]),
    "Geometric": (lambda D, p: D.Geometric(p), lambda: [unit(3)]),
    "Gumbel": (lambda D, loc, scale: D.Gumbel(loc, scale), lambda: [real(3), positive(3)]),
    "HalfNormal": (lambda D, scale: D.HalfNormal(scale), lambda: [positive(3)]),
    "Independent": (lambda D, loc, scale: D.Independent(D.Normal(loc, scale), 1),
                    lambda: [real(3, 2), positive(3, 2)]),
    "Laplace": (lambda D, loc, scale: D.Laplace(loc, scale), lambda: [real(3), positive(3)]),
    "LowRankMultivariateNormal": (
        lambda D, loc, w, d: D.LowRankMultivariateNormal(loc, w, d),
        lambda: [real(2, 3), real(2, 3, 2, low=-1, high=1), positive(3)]),
    "MultivariateNormal": (lambda D, loc, raw: D.MultivariateNormal(loc, scale_tril=_lower(raw)),
                           lambda: [real(2, 3), real(3, 3, low=-0.5, high=0.5)]),
    "Normal": (lambda D, loc, scale: D.Normal(loc, scale), lambda: [real(3), positive(3)]),
    "OneHotCategorical": (lambda D, logits: D.OneHotCategorical(logits=logits),
                          lambda: [real(3, 4)]),
    "Pareto": (lambda D, scale, alpha: D.Pareto(scale, alpha),
               lambda: [positive(3, low=0.05, high=0.3), positive(3, low=2.5, high=4)]),
    "Poisson": (lambda D, rate: D.Poisson(rate), lambda: [positive(3)]),
    "TransformedDistribution": (lambda D, loc, scale: D.LogNormal(loc, scale),
                                lambda: [real(3), positive(3)]),
    "Uniform": (lambda D, low, high: D.Uniform(low, high),
                lambda: [unit(3, low=0.1, high=0.3), unit(3, low=0.6, high=0.9)]),
}
PAIRS = sorted((p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
               if p.__name__ != "ExponentialFamily")


def test_registered_pairs_match_torch():
    names = {(p.__name__, q.__name__) for p, q in dyngrad.distributions.kl._KL_REGISTRY}
    assert names == {(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY}


def _kl_case(p_name, q_name):
    make_p, params_p = FACTORIES[p_name]
    make_q, params_q = FACTORIES[q_name]
    a, b = params_p(), params_q()

    def run(lib, *ts):
        D = lib.distributions
        return D.kl_divergence(make_p(D, *ts[:len(a)]), make_q(D, *ts[len(a):]))

    return run, a + b


@pytest.mark.parametrize(("p_name", "q_name"), PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_matches_torch(p_name, q_name):
    run, params = _kl_case(p_name, q_name)
    check_op(with_lib(run), *params)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Exponential", "Poisson", "Beta"])
def test_bregman_divergence_equals_closed_form(name):
    """The exponential-family fallback (autograd through the log normalizer) gives the same KL
    as the closed form, in both libraries."""
    make, params = FACTORIES[name]
    a, b = params(), params()

    def run(lib, *ts):
        D = lib.distributions
        p, q = make(D, *ts[:len(a)]), make(D, *ts[len(a):])
        return lib.distributions.kl._kl_expfamily_expfamily(p, q), D.kl_divergence(p, q)

    check_op(with_lib(run), *a, *b)
    bregman, closed = run(dyngrad, *(dyngrad.from_numpy(x) for x in a + b))
    np.testing.assert_allclose(bregman.detach().numpy(), closed.detach().numpy(), rtol=1e-9)


def test_wishart_kl_through_bregman():
    """Wishart has no closed-form pair registered: the Bregman divergence applies."""
    def run(lib, df_p, raw_p, df_q, raw_q):
        D = lib.distributions
        return D.kl_divergence(D.Wishart(df_p, scale_tril=_lower(raw_p)),
                               D.Wishart(df_q, scale_tril=_lower(raw_q)))

    check_op(with_lib(run), np.array([4.0, 6.0]), real(3, 3, low=-0.5, high=0.5),
             np.array([5.0, 3.5]), real(3, 3, low=-0.5, high=0.5))


def test_kl_is_zero_for_equal_distributions_and_positive_otherwise():
    D = dyngrad.distributions
    loc, scale = dyngrad.tensor([0.3, -1.0]), dyngrad.tensor([0.5, 2.0])
    same = D.kl_divergence(D.Normal(loc, scale), D.Normal(loc, scale))
    assert same.abs().max().item() < 1e-7
    other = D.kl_divergence(D.Gamma(2.0, 3.0), D.Gamma(2.5, 1.0))
    assert other.item() > 0


def test_kl_infinite_where_supports_do_not_nest():
    def run(lib):
        D = lib.distributions
        return (D.kl_divergence(D.Uniform(lib.tensor([0.0, 0.2]), lib.tensor([1.0, 0.4])),
                                D.Uniform(lib.tensor([0.1, 0.0]), lib.tensor([1.0, 1.0]))),
                D.kl_divergence(D.Normal(0.0, 1.0), D.Exponential(1.0)),
                D.kl_divergence(D.Binomial(lib.tensor([6.0, 5.0]), lib.tensor([0.5, 0.5])),
                                D.Binomial(lib.tensor([5.0, 5.0]), lib.tensor([0.5, 0.5]))),
                D.kl_divergence(D.Categorical(lib.tensor([0.5, 0.5, 0.0])),
                                D.Categorical(lib.tensor([0.5, 0.0, 0.5]))))

    dg, th = both(run)
    for d, t in zip(dg, th, strict=True):
        np.testing.assert_array_equal(d.numpy(), t.numpy())
    assert np.isinf(dg[0].numpy()[0]) and np.isinf(dg[3].numpy())


def test_dispatch_on_subclasses_and_register_kl():
    """A subclass uses its base's pair until a more specific pair is registered."""
    for lib in (dyngrad, torch):
        D = lib.distributions

        class MyNormal(D.Normal):
            pass

        p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
        expected = D.kl_divergence(D.Normal(0.0, 1.0), q)
        assert D.kl_divergence(p, q).item() == pytest.approx(expected.item())
        registry = D.kl._KL_REGISTRY.copy()
        try:
            D.register_kl(MyNormal, D.Normal)(lambda p, q, lib=lib: lib.tensor(42.0))
            assert D.kl_divergence(p, q).item() == 42.0
            assert D.kl_divergence(D.Normal(0.0, 1.0), q).item() == pytest.approx(
                expected.item())
        finally:
            D.kl._KL_REGISTRY.clear()
            D.kl._KL_REGISTRY.update(registry)
            D.kl._KL_MEMOIZE.clear()


def test_ambiguous_dispatch_warns():
    messages = []
    for lib in (dyngrad, torch):
        D = lib.distributions

        class A(D.Normal):
            pass

        class B(D.Normal):
            pass

        registry = D.kl._KL_REGISTRY.copy()
        try:
            D.register_kl(A, D.Normal)(lambda p, q, lib=lib: lib.tensor(1.0))
            D.register_kl(D.Normal, B)(lambda p, q, lib=lib: lib.tensor(2.0))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                D.kl_divergence(A(0.0, 1.0), B(0.0, 1.0))
            messages.append([str(w.message) for w in caught])
        finally:
            D.kl._KL_REGISTRY.clear()
            D.kl._KL_REGISTRY.update(registry)
            D.kl._KL_MEMOIZE.clear()
    assert messages[0] == messages[1] and len(messages[0]) == 1


def test_kl_errors():
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Normal(0.0, 1.0), lib.distributions.Categorical(lib.ones(3))))
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Binomial(2, lib.tensor([0.5])),
        lib.distributions.Binomial(3, lib.tensor([0.5]))))
    for name, (make, params) in FACTORIES.items():
        if name in ("MultivariateNormal", "LowRankMultivariateNormal"):
            a = params()
            check_error(lambda lib, make=make, a=a: lib.distributions.kl_divergence(
                make(lib.distributions, *(lib.from_numpy(x) for x in a)),
                lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2).double())))
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.MultivariateNormal(lib.zeros(3), lib.eye(3)),
        lib.distributions.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(2))))
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(2)),
        lib.distributions.LowRankMultivariateNormal(lib.zeros(3), lib.ones(3, 1), lib.ones(3))))
    # Different exponential families without a closed form: no Bregman divergence.
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Poisson(lib.ones(1)),
        lib.distributions.Wishart(lib.tensor(3.0), lib.eye(2))))
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2, 2), 1.0), 1),
        lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2, 2), 1.0), 2)),
        match="type")
    check_error(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.LogNormal(0.0, 1.0), lib.distributions.HalfNormal(1.0)), match="type")


def test_kl_docstring_lists_pairs():
    assert dyngrad.distributions.kl_divergence.__doc__.count(":class:") == 2 * len(PAIRS) + 2
