"""Discrete distributions against PyTorch: log_prob, entropy, moments, enumerate_support, the
probs <-> logits conversions, and the gradients with respect to probs or logits."""

import numpy as np
import pytest

import dyngrad
from tests.distributions.common import both, check_dist, counts, positive, real, unit
from tests.harness import array, assert_same_outputs, check_error, check_op, with_lib


def _simplex(*shape):
    p = array(*shape, low=0.2, high=1.0)
    return p / p.sum(-1, keepdims=True)


def _labels(*shape, k=3):
    return array(*shape, low=0, high=k - 1, dtype=np.int64)


def _one_hot(*shape, k=3):
    return np.eye(k)[_labels(*shape, k=k)]


def _binary(*shape):
    return array(*shape, dtype=bool).astype(np.float64)


# name -> (make(D, *params), params(), value(), methods); values never require grad
CASES = {
    "Bernoulli_probs": (lambda D, p: D.Bernoulli(probs=p),
                        lambda: [np.array([0.1, 0.5, 0.7, 0.95])], lambda: _binary(3, 4),
                        "log_prob entropy mean mode variance enumerate_support logits"),
    "Bernoulli_logits": (lambda D, logits: D.Bernoulli(logits=logits), lambda: [real(4)],
                         lambda: _binary(4), "log_prob entropy mean mode variance probs"),
    "Categorical_probs": (lambda D, p: D.Categorical(probs=p), lambda: [positive(2, 3)],
                          lambda: _labels(5, 2),
                          "log_prob entropy perplexity mean mode variance enumerate_support logits "
                          "probs"),
    "Categorical_logits": (lambda D, logits: D.Categorical(logits=logits),
                           lambda: [real(2, 3)], lambda: _labels(2),
                           "log_prob entropy mode enumerate_support probs logits"),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(probs=p), lambda: [_simplex(2, 3)],
                          lambda: _one_hot(4, 2),
                          "log_prob entropy mean mode variance enumerate_support"),
    "OneHotCategorical_logits": (lambda D, logits: D.OneHotCategorical(logits=logits),
                                 lambda: [real(2, 3)], lambda: _one_hot(2),
                                 "log_prob entropy mean mode"),
    "Binomial_probs": (lambda D, n, p: D.Binomial(n, probs=p),
                       lambda: [np.full(4, 6.0), unit(4)], lambda: counts(4, high=6),
                       "log_prob entropy mean mode variance enumerate_support"),
    "Binomial_logits": (lambda D, n, logits: D.Binomial(n, logits=logits),
                        lambda: [np.array([3.0, 6.0, 6.0, 9.0]), real(4)],
                        lambda: np.array([0.0, 2.0, 6.0, 4.0]), "log_prob mean mode variance"),
    "Geometric_probs": (lambda D, p: D.Geometric(probs=p), lambda: [unit(4)],
                        lambda: counts(4), "log_prob entropy mean mode variance"),
    "Geometric_logits": (lambda D, logits: D.Geometric(logits=logits), lambda: [real(4)],
                         lambda: counts(4), "log_prob entropy mean variance"),
    "NegativeBinomial_probs": (lambda D, r, p: D.NegativeBinomial(r, probs=p),
                               lambda: [positive(4, high=5), unit(4)], lambda: counts(4),
                               "log_prob mean mode variance"),
    "NegativeBinomial_logits": (lambda D, r, logits: D.NegativeBinomial(r, logits=logits),
                                lambda: [positive(4, high=5), real(4)], lambda: counts(4),
                                "log_prob mean mode variance"),
    "Poisson": (lambda D, rate: D.Poisson(rate), lambda: [positive(4, high=6)],
                lambda: counts(4, high=8), "log_prob mean mode variance"),
    "Multinomial_probs": (lambda D, p: D.Multinomial(5, probs=p), lambda: [positive(2, 3)],
                          lambda: np.array([[1.0, 2.0, 2.0], [5.0, 0.0, 0.0]]),
                          "log_prob entropy mean variance"),
    "Multinomial_logits": (lambda D, logits: D.Multinomial(4, logits=logits),
                           lambda: [real(2, 3)], lambda: np.array([[1.0, 3.0, 0.0]]),
                           "log_prob entropy mean variance"),
}
PAIRS = [(name, method) for name, case in CASES.items() for method in case[3].split()]


@pytest.mark.parametrize(("name", "method"), PAIRS, ids=[f"{n}-{m}" for n, m in PAIRS])
def test_method_matches_torch(name, method):
    make, params, value, _ = CASES[name]
    params = params()
    if method == "log_prob":
        rg = [True] * len(params) + [False]
        check_dist(make, method, params, value(), requires_grad=rg)
    else:
        check_dist(make, method, params)


@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_shapes(expand):
    def run(lib):
        D = lib.distributions
        return (D.Bernoulli(lib.full((2, 3), 0.3)).enumerate_support(expand),
                D.Categorical(lib.ones(2, 4)).enumerate_support(expand),
                D.OneHotCategorical(lib.ones(2, 4)).enumerate_support(expand),
                D.Binomial(3, lib.full((2,), 0.5)).enumerate_support(expand))

    assert_same_outputs(*both(run), "enumerate_support")


def _total_mass(lib, p):
    d = lib.distributions.Binomial(4, probs=p)
    return d.log_prob(d.enumerate_support()).exp().sum(0)


def test_log_prob_of_enumerated_support_sums_to_one():
    """The probabilities over the whole support add up to 1 (as in PyTorch, gradient ~0)."""
    p = unit(3)
    check_op(with_lib(_total_mass), p, dtypes=(np.float64,))
    np.testing.assert_allclose(_total_mass(dyngrad, dyngrad.from_numpy(p)).numpy(), 1.0,
                               rtol=1e-12)


def test_zero_probabilities():
    """Impossible categories: log_prob -inf there, entropy finite (0 log 0 = 0)."""
    check_dist(lambda D, p: D.Categorical(probs=p), "entropy", [np.array([0.0, 0.4, 0.6])],
               grad=False)
    check_dist(lambda D, p: D.Categorical(probs=p), "log_prob", [np.array([0.0, 0.4, 0.6])],
               np.array([0, 1, 2]), grad=False)
    check_dist(lambda D, p: D.Geometric(probs=p), "log_prob", [np.array([1.0, 0.5])],
               np.array([0.0, 3.0]), requires_grad=[True, False])
    check_dist(lambda D, logits: D.Multinomial(3, logits=logits), "log_prob",
               [np.array([-np.inf, 0.0, 1.0])], np.array([0.0, 1.0, 2.0]),
               requires_grad=[False, False])


def test_binomial_inhomogeneous_entropy_raises():
    check_error(lambda lib: lib.distributions.Binomial(
        lib.tensor([2.0, 3.0]), probs=lib.tensor([0.5, 0.5])).entropy())
    check_error(lambda lib: lib.distributions.Binomial(
        lib.tensor([2.0, 3.0]), probs=lib.tensor([0.5, 0.5])).enumerate_support())
