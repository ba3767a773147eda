"""Univariate continuous distributions against PyTorch: log_prob, cdf, icdf, entropy and the
moments, with the same parameters and evaluation points in both libraries, and their first- and
second-order gradients with respect to the parameters (and the value)."""

import numpy as np
import pytest

from tests.distributions.common import check_dist, positive, real, unit
from tests.harness import array, check_error


def _pareto_values():
    return array(4, low=2.6, high=6.0)  # above every scale drawn by positive()


# name -> (make(D, *params), params(), value(), methods, {method: params without gradient})
# The incomplete gamma function has no derivative in its first argument (nor in PyTorch).
F64 = {"dtypes": (np.float64,)}
CASES = {
    "Normal": (lambda D, loc, scale: D.Normal(loc, scale), lambda: [real(4), positive(4)],
               lambda: real(4), "log_prob cdf icdf entropy perplexity mean mode variance stddev",
               {}),
    "Uniform": (lambda D, low, high: D.Uniform(low, high),
                lambda: [real(4, low=-2, high=-1), real(4, low=1, high=2)],
                lambda: real(4, low=-0.9, high=0.9),
                "log_prob cdf icdf entropy mean mode variance stddev", {}),
    "Gamma": (lambda D, a, b: D.Gamma(a, b), lambda: [positive(4), positive(4)],
              lambda: positive(4, low=0.1), "log_prob cdf entropy mean mode variance stddev",
              {"cdf": [0]}),
    "Chi2": (lambda D, df: D.Chi2(df), lambda: [positive(4, high=5)],
             lambda: positive(4, low=0.1), "log_prob cdf entropy mean mode variance",
             {"cdf": [0]}),
    "Exponential": (lambda D, rate: D.Exponential(rate), lambda: [positive(4)],
                    lambda: positive(4, low=0.1),
                    "log_prob cdf icdf entropy mean mode variance stddev", {}),
    "Laplace": (lambda D, loc, scale: D.Laplace(loc, scale), lambda: [real(4), positive(4)],
                lambda: real(4) + 5.0, "log_prob cdf icdf entropy mean mode variance stddev", {}),
    "Cauchy": (lambda D, loc, scale: D.Cauchy(loc, scale), lambda: [real(4), positive(4)],
               lambda: real(4), "log_prob cdf icdf entropy mean mode variance", {}),
    "LogNormal": (lambda D, loc, scale: D.LogNormal(loc, scale),
                  lambda: [real(4, low=-1, high=1), positive(4, high=1.5)],
                  lambda: positive(4, low=0.2), "log_prob cdf icdf entropy mean mode variance",
                  {}),
    "HalfNormal": (lambda D, scale: D.HalfNormal(scale), lambda: [positive(4)],
                   lambda: positive(4, low=0.1), "log_prob cdf icdf entropy mean mode variance",
                   {}),
    "HalfCauchy": (lambda D, scale: D.HalfCauchy(scale), lambda: [positive(4)],
                   lambda: positive(4, low=0.1), "log_prob cdf icdf entropy mean mode variance",
                   {}),
    "Gumbel": (lambda D, loc, scale: D.Gumbel(loc, scale), lambda: [real(4), positive(4)],
               lambda: real(4), "log_prob cdf icdf entropy perplexity mean mode variance stddev",
               {}),
    # df on both sides of 1 and 2, where the mean and variance change form.
    "StudentT": (lambda D, df, loc, scale: D.StudentT(df, loc, scale),
                 lambda: [np.array([0.7, 1.5, 3.0, 6.0]), real(4), positive(4)],
                 lambda: real(4), "log_prob entropy mean mode variance", {}),
    "Beta": (lambda D, a, b: D.Beta(a, b), lambda: [positive(4, low=0.6, high=3)] * 2,
             lambda: unit(4), "log_prob entropy mean mode variance", {}),
    "Kumaraswamy": (lambda D, a, b: D.Kumaraswamy(a, b),
                    lambda: [positive(4, low=1.2, high=3), positive(4, low=1.2, high=3)],
                    lambda: unit(4), "log_prob cdf icdf entropy mean mode variance", {}),
    "Weibull": (lambda D, scale, k: D.Weibull(scale, k), lambda: [positive(4), positive(4)],
                lambda: positive(4, low=0.2), "log_prob cdf icdf entropy mean mode variance",
                {}),
    "Pareto": (lambda D, scale, alpha: D.Pareto(scale, alpha),
               lambda: [positive(4), positive(4, low=2.5, high=5)], _pareto_values,
               "log_prob cdf icdf entropy mean mode variance", {}),
    # concentration on both sides of 3.75, where the Bessel approximation changes form.
    "VonMises": (lambda D, loc, kappa: D.VonMises(loc, kappa),
                 lambda: [real(4, low=-1, high=1), np.array([0.3, 2.0, 4.5, 9.0])],
                 lambda: real(4, low=-3, high=3), "log_prob mean mode variance", {}),
    "ContinuousBernoulli_probs": (
        lambda D, p: D.ContinuousBernoulli(probs=p), lambda: [np.array([0.1, 0.4995, 0.7, 0.95])],
        lambda: unit(4), "log_prob cdf icdf entropy mean variance stddev", {}),
    "ContinuousBernoulli_logits": (
        lambda D, logits: D.ContinuousBernoulli(logits=logits), lambda: [real(4)],
        lambda: unit(4), "log_prob cdf icdf entropy mean variance", {}),
    "FisherSnedecor": (lambda D, d1, d2: D.FisherSnedecor(d1, d2),
                       lambda: [np.array([1.5, 3.0, 5.0, 8.0]), np.array([1.5, 3.0, 5.0, 8.0])],
                       lambda: positive(4, low=0.1), "log_prob mean mode variance", {}),
    "InverseGamma": (lambda D, a, b: D.InverseGamma(a, b),
                     lambda: [np.array([0.7, 1.5, 2.5, 4.0]), positive(4)],
                     lambda: positive(4, low=0.2), "log_prob cdf entropy mean mode variance",
                     {"cdf": [0]}),
    "GeneralizedPareto": (
        lambda D, loc, scale, xi: D.GeneralizedPareto(loc, scale, xi),
        lambda: [real(4, low=-1, high=0), positive(4), np.array([-0.2, 0.0, 0.3, 0.7])],
        lambda: positive(4, low=0.2, high=1.0), "log_prob cdf icdf entropy mean variance mode",
        {}),
    "RelaxedBernoulli": (lambda D, t, p: D.RelaxedBernoulli(t, probs=p),
                         lambda: [positive(4, low=0.3, high=2), unit(4)], lambda: unit(4),
                         "log_prob", {}),
    "RelaxedBernoulli_logits": (lambda D, t, logits: D.RelaxedBernoulli(t, logits=logits),
                                lambda: [positive(4, low=0.3, high=2), real(4)],
                                lambda: unit(4), "log_prob", {}),
}
# check_op options by (name, method). ContinuousBernoulli's variance is ~1/12 while its terms'
# second derivatives are large and cancel: float32 second-order gradients carry rounding noise
# (~1e-4) in both libraries. GeneralizedPareto compares its float64 concentration with a float32
# zero, which PyTorch rejects (test_generalized_pareto_float64_error).
OPTIONS = {
    ("ContinuousBernoulli_probs", "variance"): F64, ("ContinuousBernoulli_probs", "stddev"): F64,
    ("ContinuousBernoulli_logits", "variance"): F64,
    ("GeneralizedPareto", "log_prob"): {"dtypes": (np.float32,)},
    ("GeneralizedPareto", "cdf"): {"dtypes": (np.float32,)},
}
PAIRS = [(name, method) for name, case in CASES.items() for method in case[3].split()]


@pytest.mark.parametrize(("name", "method"), PAIRS, ids=[f"{n}-{m}" for n, m in PAIRS])
def test_method_matches_torch(name, method):
    make, params, value, _, frozen = CASES[name]
    params = params()
    if method in ("log_prob", "cdf"):
        value = value()
    elif method == "icdf":
        value = unit(4)
    else:
        value = None
    requires_grad = [i not in frozen.get(method, []) for i in range(len(params))]
    if value is not None:
        requires_grad.append(True)
    check_dist(make, method, params, value, requires_grad=requires_grad,
               **OPTIONS.get((name, method), {}))


def test_generalized_pareto_float64_error():
    """PyTorch compares the concentration with a float32 zero: float64 parameters raise."""
    check_error(lambda lib: lib.distributions.GeneralizedPareto(
        lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64),
        lib.zeros(2, dtype=lib.float64)).log_prob(lib.ones(2, dtype=lib.float64)))


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Gumbel"])
def test_scalar_parameters(name):
    """Python numbers as parameters: a batch shape of () and the default dtype."""
    make, params, value, _, _ = CASES[name]
    floats = [float(p[0]) for p in params()]
    check_dist(lambda D: make(D, *floats), "log_prob", [], value()[:1].reshape(()))
    check_dist(lambda D: make(D, *floats), "entropy", [])


def test_broadcast_and_expand():
    """Parameters broadcast against each other; expand shares them over new batch dims."""
    check_dist(lambda D, loc, scale: D.Normal(loc, scale).expand((3, 2, 4)), "log_prob",
               [real(2, 1), positive(4)], real(3, 1, 4))
    check_dist(lambda D, a, b: D.Gamma(a, b).expand((2, 3)), "entropy",
               [positive(3), positive(1)])
    check_dist(lambda D, a, b: D.Beta(a, b).expand((2, 3)), "log_prob",
               [positive(3), positive(3)], unit(2, 3))


def test_float32_extreme_tails():
    """Far in the tails (float32): the log density stays finite and equal to PyTorch's."""
    check_dist(lambda D, loc, scale: D.Normal(loc, scale), "log_prob",
               [np.zeros(3), np.ones(3)], np.array([-30.0, 0.0, 40.0]), dtypes=(np.float32,))
    check_dist(lambda D, rate: D.Exponential(rate), "log_prob", [np.ones(2)],
               np.array([0.0, 80.0]))
