"""Sampling: the shapes, dtypes and autograd flags of sample / rsample against PyTorch (the
values differ by design: dyngrad draws from its own generator), statistical checks of the draws
against the analytic laws (fixed seed, tolerances of a few standard errors), and the pathwise
gradients of rsample against the analytic derivatives of the moments."""

import math
import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.distributions.common import both
from tests.harness import assert_same_outputs

N = 20_000


def _p(lib, values, requires_grad=True, dtype=None):
    return lib.tensor(values, dtype=dtype or lib.float64, requires_grad=requires_grad)


# name -> make(lib, D); parameters require grad, float64
FAMILIES = {
    "Normal": lambda lib, D: D.Normal(_p(lib, [0.5, -1.0]), _p(lib, [1.0, 2.0])),
    "Uniform": lambda lib, D: D.Uniform(_p(lib, [-1.0, 0.0]), _p(lib, [1.0, 3.0])),
    "Bernoulli": lambda lib, D: D.Bernoulli(_p(lib, [0.2, 0.7])),
    "Categorical": lambda lib, D: D.Categorical(_p(lib, [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])),
    "OneHotCategorical": lambda lib, D: D.OneHotCategorical(_p(lib, [0.2, 0.3, 0.5])),
    "OneHotCategoricalStraightThrough": lambda lib, D: D.OneHotCategoricalStraightThrough(
        _p(lib, [0.2, 0.3, 0.5])),
    "Beta": lambda lib, D: D.Beta(_p(lib, [0.5, 2.0]), _p(lib, [1.5, 3.0])),
    "Gamma": lambda lib, D: D.Gamma(_p(lib, [0.3, 4.0]), _p(lib, [1.0, 2.0])),
    "Chi2": lambda lib, D: D.Chi2(_p(lib, [1.0, 5.0])),
    "Dirichlet": lambda lib, D: D.Dirichlet(_p(lib, [[0.5, 1.0, 2.0], [3.0, 1.0, 1.0]])),
    "Exponential": lambda lib, D: D.Exponential(_p(lib, [0.5, 2.0])),
    "Laplace": lambda lib, D: D.Laplace(_p(lib, [0.0, 1.0]), _p(lib, [1.0, 0.5])),
    "LogNormal": lambda lib, D: D.LogNormal(_p(lib, [0.0, 0.5]), _p(lib, [0.5, 0.25])),
    "Cauchy": lambda lib, D: D.Cauchy(_p(lib, [0.0, 1.0]), _p(lib, [1.0, 0.5])),
    "HalfNormal": lambda lib, D: D.HalfNormal(_p(lib, [1.0, 2.0])),
    "HalfCauchy": lambda lib, D: D.HalfCauchy(_p(lib, [1.0, 2.0])),
    "Gumbel": lambda lib, D: D.Gumbel(_p(lib, [0.0, 1.0]), _p(lib, [1.0, 2.0])),
    "StudentT": lambda lib, D: D.StudentT(_p(lib, [5.0, 8.0]), _p(lib, [0.0, 1.0]),
                                          _p(lib, [1.0, 2.0])),
    "Poisson": lambda lib, D: D.Poisson(_p(lib, [0.5, 4.0])),
    "Binomial": lambda lib, D: D.Binomial(_p(lib, [5.0, 10.0], False), _p(lib, [0.3, 0.6])),
    "Geometric": lambda lib, D: D.Geometric(_p(lib, [0.3, 0.6])),
    "NegativeBinomial": lambda lib, D: D.NegativeBinomial(_p(lib, [2.0, 5.0]),
                                                          _p(lib, [0.3, 0.6])),
    "Multinomial": lambda lib, D: D.Multinomial(6, _p(lib, [0.2, 0.3, 0.5])),
    "MultivariateNormal": lambda lib, D: D.MultivariateNormal(
        _p(lib, [1.0, -1.0]), scale_tril=_p(lib, [[1.0, 0.0], [0.5, 2.0]])),
    "LowRankMultivariateNormal": lambda lib, D: D.LowRankMultivariateNormal(
        _p(lib, [1.0, -1.0]), _p(lib, [[1.0], [0.5]]), _p(lib, [0.5, 1.0])),
    "Independent": lambda lib, D: D.Independent(D.Normal(_p(lib, [0.0, 1.0]),
                                                         _p(lib, [1.0, 2.0])), 1),
    "MixtureSameFamily": lambda lib, D: D.MixtureSameFamily(
        D.Categorical(_p(lib, [0.3, 0.7])), D.Normal(_p(lib, [-2.0, 2.0]), _p(lib, [0.5, 1.0]))),
    "RelaxedBernoulli": lambda lib, D: D.RelaxedBernoulli(_p(lib, 0.5), _p(lib, [0.2, 0.7])),
    "RelaxedOneHotCategorical": lambda lib, D: D.RelaxedOneHotCategorical(
        _p(lib, 0.5), _p(lib, [0.2, 0.3, 0.5])),
    "ContinuousBernoulli": lambda lib, D: D.ContinuousBernoulli(_p(lib, [0.2, 0.4995, 0.8])),
    "Kumaraswamy": lambda lib, D: D.Kumaraswamy(_p(lib, [2.0, 0.5]), _p(lib, [3.0, 1.5])),
    "Weibull": lambda lib, D: D.Weibull(_p(lib, [1.0, 2.0]), _p(lib, [1.5, 3.0])),
    "Pareto": lambda lib, D: D.Pareto(_p(lib, [1.0, 2.0]), _p(lib, [5.0, 6.0])),
    "VonMises": lambda lib, D: D.VonMises(_p(lib, [0.5, -2.0]), _p(lib, [0.5, 8.0])),
    "Wishart": lambda lib, D: D.Wishart(_p(lib, [4.0, 6.0]), scale_tril=_p(
        lib, [[1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.2, 0.3, 2.0]])),
    "LKJCholesky": lambda lib, D: D.LKJCholesky(3, _p(lib, [0.5, 2.0])),
    "FisherSnedecor": lambda lib, D: D.FisherSnedecor(_p(lib, [5.0, 8.0]), _p(lib, [10.0, 12.0])),
    "InverseGamma": lambda lib, D: D.InverseGamma(_p(lib, [3.0, 5.0]), _p(lib, [1.0, 2.0])),
    "LogisticNormal": lambda lib, D: D.LogisticNormal(_p(lib, [0.0, 1.0]), _p(lib, [1.0, 0.5])),
    # float32: PyTorch's GeneralizedPareto rejects float64 parameters (test_univariate)
    "GeneralizedPareto": lambda lib, D: D.GeneralizedPareto(
        *(_p(lib, v, dtype=lib.float32) for v in ([0.0, 1.0], [1.0, 2.0], [0.0, 0.2]))),
}


def _meta(t):
    return tuple(t.shape), str(t.dtype), t.requires_grad, t.grad_fn is None


# PyTorch's Wishart.rsample tests its draws for validity instead of singularity, so it warns
# "Singular sample detected" on every call (and redraws); dyngrad warns only for singular draws.
@pytest.mark.filterwarnings("ignore:Singular sample detected")
@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("sample_shape", [(), (4,), (2, 3)])
def test_sample_shapes_and_dtypes(name, sample_shape):
    """sample (no graph) and rsample (in the graph) have PyTorch's shapes and dtypes; the flags
    has_rsample / has_enumerate_support and the batch and event shapes agree too."""
    def run(lib):
        d = FAMILIES[name](lib, lib.distributions)
        out = [d.has_rsample, d.has_enumerate_support, tuple(d.batch_shape),
               tuple(d.event_shape), _meta(d.sample(sample_shape))]
        if d.has_rsample:
            out.append(_meta(d.rsample(sample_shape)))
        return out

    dg, th = both(run)
    assert dg == th


@pytest.mark.filterwarnings("ignore:Singular sample detected")
@pytest.mark.parametrize("name", list(FAMILIES))
def test_expand_and_log_prob_of_draws(name):
    """dyngrad's draws lie in PyTorch's support (PyTorch validates them), and an expanded
    distribution scores them as PyTorch's does."""
    x = FAMILIES[name](dyngrad, dyngrad.distributions).sample((5,)).numpy()

    def run(lib):
        d = FAMILIES[name](lib, lib.distributions)
        value = lib.from_numpy(x.copy())
        wide = d.expand((2,) + tuple(d.batch_shape))
        extra = 1 + len(d.batch_shape) + len(d.event_shape)
        return (d.log_prob(value), wide.log_prob(value.unsqueeze(1)), tuple(wide.batch_shape),
                bool(d.support.check(value).all()) if name != "MixtureSameFamily" else True,
                value.dim() == extra)

    dg, th = both(run)
    assert_same_outputs(dg, th, name, atol=1e-6)
    assert dg[3] and dg[4]


def test_wishart_redraws_singular_samples():
    """A draw that is not positive definite is redrawn, with one warning."""
    d = dyngrad.distributions.Wishart(dyngrad.tensor(4.0), dyngrad.eye(2))
    draw = d._bartlett_sampling
    calls = []

    def first_singular(shape=()):
        calls.append(shape)
        out = draw(shape)
        return out * 0 if len(calls) == 1 else out

    d._bartlett_sampling = first_singular
    with pytest.warns(UserWarning, match="Singular sample detected."):
        x = d.rsample((3,))
    assert len(calls) == 2 and bool(d.support.check(x).all())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dyngrad.distributions.Wishart(dyngrad.tensor(4.0), dyngrad.eye(2)).rsample((3,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sample_dtypes_follow_parameters(dtype):
    def run(lib):
        D, dt = lib.distributions, getattr(lib, dtype)
        one = lib.ones(2, dtype=dt)
        return [str(x.dtype) for x in (
            D.Normal(one, one).rsample(), D.Gamma(one, one).rsample(), D.Beta(one, one).rsample(),
            D.Dirichlet(one).rsample(), D.Bernoulli(one / 2).sample(), D.Poisson(one).sample(),
            D.Categorical(one).sample(), D.Exponential(one).rsample(), D.Laplace(one, one).sample(),
            D.Geometric(one / 2).sample(), D.VonMises(one, one).sample(),
            D.StudentT(one).rsample(), D.Binomial(2, one / 2).sample())]

    dg, th = both(run)
    assert dg == th


def test_scalar_parameters_sample_in_default_dtype():
    dg, th = both(lambda lib: [_meta(lib.distributions.Normal(0.0, 1.0).sample((3,))),
                               _meta(lib.distributions.Gamma(2.0, 1.0).sample()),
                               _meta(lib.distributions.Beta(2.0, 1.0).rsample((2,)))])
    assert dg == th


def test_generator_streams_are_reproducible():
    """Draws follow dyngrad's global seed."""
    D = dyngrad.distributions
    dyngrad.manual_seed(3)
    a = D.Gamma(dyngrad.tensor([0.5, 2.0]), 1.0).sample((5,))
    dyngrad.manual_seed(3)
    b = D.Gamma(dyngrad.tensor([0.5, 2.0]), 1.0).sample((5,))
    assert np.array_equal(a.numpy(), b.numpy())


# --- statistics of the draws ------------------------------------------------------------------
def _draws(d, n=N):
    return d.sample((n,)).detach().numpy()


def _ks_distance(draws, cdf_values):
    """max |F_n - F| over the sorted draws of each batch column."""
    n = draws.shape[0]
    draws, cdf_values = draws.reshape(n, -1), cdf_values.reshape(n, -1)
    order = np.argsort(draws, axis=0)
    f = np.take_along_axis(cdf_values, order, axis=0)
    grid = np.arange(1, n + 1)[:, None] / n
    return np.max(np.maximum(grid - f, f - (grid - 1 / n)), axis=0)


CDF_FAMILIES = ["Normal", "Uniform", "Gamma", "Chi2", "Exponential", "Laplace", "Cauchy",
                "LogNormal", "HalfNormal", "HalfCauchy", "Gumbel", "Kumaraswamy", "Weibull",
                "Pareto", "ContinuousBernoulli", "GeneralizedPareto", "MixtureSameFamily"]


@pytest.mark.parametrize("name", CDF_FAMILIES)
def test_draws_follow_the_cdf(name):
    """Kolmogorov-Smirnov: the empirical CDF of 20,000 draws stays within 1.95 / sqrt(n) of
    the distribution's CDF (the 0.1% critical value)."""
    d = FAMILIES[name](dyngrad, dyngrad.distributions)
    x = d.sample((N,))
    with dyngrad.no_grad():
        cdf = d.cdf(x).numpy()
    distance = _ks_distance(x.numpy(), cdf)
    assert np.all(distance < 1.95 / math.sqrt(N)), distance


MOMENT_FAMILIES = ["Beta", "Dirichlet", "StudentT", "Poisson", "Binomial", "Geometric",
                   "NegativeBinomial", "Multinomial", "MultivariateNormal", "Bernoulli",
                   "LowRankMultivariateNormal", "Independent", "Wishart", "FisherSnedecor",
                   "InverseGamma", "OneHotCategorical", "VonMises"]


@pytest.mark.parametrize("name", MOMENT_FAMILIES)
def test_draws_have_the_analytic_mean_and_variance(name):
    """The sample mean is within 5 standard errors of the mean; the sample variance within
    5 standard errors (estimated from the draws' fourth moments) of the variance."""
    d = FAMILIES[name](dyngrad, dyngrad.distributions)
    x = _draws(d)
    if name == "VonMises":  # circular moments: E[cos(x - loc)] = 1 - circular variance
        x = np.cos(x - d.loc.detach().numpy())
        mean, var = 1 - d.variance.detach().numpy(), None
    else:
        mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    centered = x - x.mean(0)
    se_mean = x.std(0) / math.sqrt(N)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se_mean + 1e-12)
    if var is not None:
        se_var = np.sqrt(np.maximum((centered**4).mean(0) - x.var(0) ** 2, 0) / N)
        assert np.all(np.abs(x.var(0) - var) < 5 * se_var + 1e-12)


def test_categorical_frequencies():
    d = FAMILIES["Categorical"](dyngrad, dyngrad.distributions)
    x = _draws(d)
    probs = d.probs.detach().numpy()
    for b in range(2):
        freq = np.bincount(x[:, b], minlength=3) / N
        se = np.sqrt(probs[b] * (1 - probs[b]) / N)
        assert np.all(np.abs(freq - probs[b]) < 5 * se)


def test_lkj_and_relaxed_draws_lie_in_the_support():
    D = dyngrad.distributions
    for name in ("LKJCholesky", "RelaxedOneHotCategorical", "RelaxedBernoulli",
                 "LogisticNormal", "Wishart", "Dirichlet"):
        d = FAMILIES[name](dyngrad, D)
        assert bool(d.support.check(d.sample((200,))).all()), name


def test_lkj_marginals():
    """Under LKJ(eta) in dimension d, an off-diagonal correlation r has (r + 1) / 2 ~
    Beta(eta - 1 + d / 2, eta - 1 + d / 2): mean 0, variance 1 / (2 eta + d - 1)."""
    L = dyngrad.distributions.LKJCholesky(3, dyngrad.tensor([0.5, 2.0])).sample((N,))
    r = (L @ L.mT)[..., 1, 0].numpy()
    expected = 1 / (2 * np.array([0.5, 2.0]) + 2)
    se = np.sqrt(np.maximum((r**4).mean(0) - r.var(0) ** 2, 0) / N)
    assert np.all(np.abs(r.mean(0)) < 5 * r.std(0) / math.sqrt(N))
    assert np.all(np.abs(r.var(0) - expected) < 5 * se)


# --- pathwise gradients ---------------------------------------------------------------------
BATCHES = 40


def _pathwise(make, params, moment, n=N):
    """Per-batch pathwise gradients of E[moment(x)]: params are replicated over BATCHES rows
    (one leaf), each row drawing n / BATCHES samples, so one backward pass gives the gradient
    of each batch's sample mean in its own row. Returns (mean, standard error) over batches."""
    leaves = [dyngrad.tensor(np.broadcast_to(p, (BATCHES,) + np.shape(p)).copy(),
                             requires_grad=True) for p in params]
    d = make(*leaves)
    x = d.rsample((n // BATCHES,))
    estimate = moment(x, d).mean(0).sum()
    grads = dyngrad.autograd.grad(estimate, leaves)
    return [(g.numpy().mean(0), g.numpy().std(0) / math.sqrt(BATCHES)) for g in grads]


def _analytic(make, params, expected):
    leaves = [dyngrad.tensor(np.asarray(p, dtype=np.float64), requires_grad=True)
              for p in params]
    value = expected(make(*leaves)).sum()
    return [g.numpy() for g in dyngrad.autograd.grad(value, leaves)]


def _first(x, d):
    return x


def _second(x, d):
    return x**2


def _mean(d):
    return d.mean


def _second_moment(d):
    return d.variance + d.mean**2


D_ = dyngrad.distributions
# name -> (make(*params), params, moment(x, d), analytic(d)); all parameters get a gradient
PATHWISE = {
    "Normal": (D_.Normal, [0.5, 1.5], _second, _second_moment),
    "Uniform": (D_.Uniform, [-1.0, 3.0], _second, _second_moment),
    "Gamma_small": (D_.Gamma, [0.4, 2.0], _first, _mean),
    "Gamma": (D_.Gamma, [3.0, 0.5], _second, _second_moment),
    "Gamma_large": (D_.Gamma, [300.0, 2.0], _second, _second_moment),
    "Chi2": (D_.Chi2, [3.0], _second, _second_moment),
    "Beta": (D_.Beta, [0.7, 2.5], _second, _second_moment),
    "Exponential": (D_.Exponential, [1.5], _second, _second_moment),
    "Laplace": (D_.Laplace, [0.5, 1.5], _second, _second_moment),
    "LogNormal": (D_.LogNormal, [0.2, 0.5], _first, _mean),
    "HalfNormal": (D_.HalfNormal, [1.5], _second, _second_moment),
    "Gumbel": (D_.Gumbel, [0.5, 1.5], _second, _second_moment),
    "StudentT": (D_.StudentT, [6.0, 0.5, 1.5], _second, _second_moment),
    "Kumaraswamy": (D_.Kumaraswamy, [2.0, 3.0], _second, _second_moment),
    "Weibull": (D_.Weibull, [1.0, 2.0], _second, _second_moment),
    "Pareto": (D_.Pareto, [1.0, 6.0], _first, _mean),
    "FisherSnedecor": (D_.FisherSnedecor, [6.0, 12.0], _second, _second_moment),
    "InverseGamma": (D_.InverseGamma, [4.0, 2.0], _first, _mean),
    "ContinuousBernoulli": (D_.ContinuousBernoulli, [0.3], _second, _second_moment),
    "GeneralizedPareto": (D_.GeneralizedPareto, [0.0, 1.0, 0.2], _first, _mean),
    "Dirichlet": (lambda a: D_.Dirichlet(a), [[0.5, 1.5, 3.0]], _second, _second_moment),
    "MultivariateNormal": (lambda loc, tril: D_.MultivariateNormal(loc, scale_tril=tril),
                           [[0.5, -1.0], [[1.0, 0.0], [0.5, 2.0]]], _second, _second_moment),
    "LowRankMultivariateNormal": (D_.LowRankMultivariateNormal,
                                  [[0.5, -1.0], [[1.0], [0.5]], [0.5, 1.0]], _second,
                                  _second_moment),
    "Wishart": (lambda df, tril: D_.Wishart(df, scale_tril=tril),
                [5.0, [[1.0, 0.0], [0.5, 2.0]]], _second, _second_moment),
}


@pytest.mark.parametrize("name", list(PATHWISE))
def test_rsample_pathwise_gradient(name):
    """d/dtheta of the Monte Carlo estimate of E[f(x)] (x = rsample) matches the derivative of
    the analytic moment within 5 standard errors (estimated over 40 batches)."""
    make, params, moment, expected = PATHWISE[name]
    dyngrad.manual_seed(1)
    estimates = _pathwise(make, params, moment)
    exact = _analytic(make, params, expected)
    for (mean, se), truth in zip(estimates, exact, strict=True):
        assert np.all(np.abs(mean - truth) < 5 * se + 1e-3 * np.abs(truth) + 1e-9), (
            mean, truth, se)
        assert np.any(np.abs(truth) > 0)


def test_location_scale_rsample_gradients_are_exact():
    """x = loc + scale * eps: dx/dloc = 1 and dx/dscale = (x - loc) / scale, draw by draw."""
    for cls in (D_.Normal, D_.Laplace, D_.Cauchy):
        loc = dyngrad.tensor([0.5, -1.0], requires_grad=True)
        scale = dyngrad.tensor([1.5, 0.5], requires_grad=True)
        x = cls(loc, scale).rsample((7,))
        w = dyngrad.randn(7, 2, dtype=dyngrad.float32)
        g_loc, g_scale = dyngrad.autograd.grad((x * w).sum(), [loc, scale])
        eps = ((x - loc) / scale).detach()
        np.testing.assert_allclose(g_loc.numpy(), w.sum(0).numpy(), rtol=1e-5)
        np.testing.assert_allclose(g_scale.numpy(), (w * eps).sum(0).numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_straight_through_gradient_is_the_probabilities_gradient():
    logits = dyngrad.tensor([0.1, 0.5, -0.3], requires_grad=True)
    d = D_.OneHotCategoricalStraightThrough(logits=logits)
    x = d.rsample((5,))
    w = dyngrad.tensor([1.0, -2.0, 0.5])
    (grad,) = dyngrad.autograd.grad((x * w).sum(), [logits], retain_graph=True)
    (expected,) = dyngrad.autograd.grad((d.probs * w).sum() * 5, [logits])
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-6)
    assert set(np.unique(x.detach().numpy())) <= {0.0, 1.0}


def test_standard_gamma_gradient_matches_torch():
    """dx/dalpha of a Gamma(alpha, 1) draw at fixed CDF value against torch._standard_gamma_grad
    on a grid of shapes and draws (PyTorch's is an approximation accurate to ~1e-4)."""
    from dyngrad.distributions.gamma import _standard_gamma_grad

    rng = np.random.default_rng(0)
    alpha = np.repeat([0.05, 0.3, 0.9, 1.0, 2.5, 7.0, 30.0, 500.0], 50)
    x = rng.gamma(alpha)
    expected = torch._standard_gamma_grad(torch.from_numpy(alpha), torch.from_numpy(x)).numpy()
    ours = _standard_gamma_grad(dyngrad.from_numpy(alpha), dyngrad.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=2e-3)


def test_rsample_create_graph():
    """Second-order pathwise derivatives through rsample: for a normal,
    d^2/dscale^2 of the estimate of E[x^2] is 2 * mean(eps^2), close to 2; differentiating the
    gamma draws' gradient again raises (it is first-order only, as in PyTorch)."""
    scale = dyngrad.tensor(1.5, dtype=dyngrad.float64, requires_grad=True)
    x = D_.Normal(dyngrad.tensor(0.5, dtype=dyngrad.float64), scale).rsample((N,))
    (g,) = dyngrad.autograd.grad((x**2).mean(), [scale], create_graph=True)
    (gg,) = dyngrad.autograd.grad(g, [scale])
    assert abs(gg.item() - 2.0) < 0.1

    for lib in (dyngrad, torch):
        alpha = lib.tensor([2.0], requires_grad=True)
        draw = lib.distributions.Gamma(alpha, 1.0).rsample()
        (g,) = lib.autograd.grad(draw.sum(), [alpha], create_graph=True)
        with pytest.raises(RuntimeError):
            lib.autograd.grad(g.sum(), [alpha])
