"""Multivariate and composite distributions against PyTorch: MultivariateNormal (all three
parameterizations), LowRankMultivariateNormal, Dirichlet, Wishart, LKJCholesky, Independent,
MixtureSameFamily, RelaxedOneHotCategorical, LogisticNormal; values and gradients."""

import numpy as np
import pytest

from tests.distributions.common import evaluate, positive, real
from tests.harness import array, check_op, with_lib


def _lower(raw):
    """A lower-triangular matrix with a positive diagonal, from an unconstrained one."""
    return raw.tril(-1) + raw.diagonal(dim1=-2, dim2=-1).exp().diag_embed()


def _spd(raw):
    """A symmetric positive-definite matrix from an unconstrained one."""
    lower = _lower(raw)
    return lower @ lower.mT


def _mvn(lib, kind, loc, raw):
    D = lib.distributions
    if kind == "scale_tril":
        return D.MultivariateNormal(loc, scale_tril=_lower(raw))
    if kind == "covariance_matrix":
        return D.MultivariateNormal(loc, covariance_matrix=_spd(raw))
    return D.MultivariateNormal(loc, precision_matrix=_spd(raw))


MVN_METHODS = ["log_prob", "entropy", "mean", "mode", "variance", "stddev",
               "covariance_matrix", "precision_matrix", "scale_tril"]


@pytest.mark.parametrize("kind", ["scale_tril", "covariance_matrix", "precision_matrix"])
@pytest.mark.parametrize("method", MVN_METHODS)
def test_multivariate_normal(kind, method):
    loc, raw = real(2, 3), real(3, 3, low=-0.5, high=0.5)  # one matrix shared by the batch
    if method == "log_prob":
        fn, x = with_lib(lambda lib, m, r, x: _mvn(lib, kind, m, r).log_prob(x)), real(4, 2, 3)
        check_op(fn, loc, raw, x, dtypes=(np.float64,))
        # float32: a small second-order entry through two triangular solves of the flipped
        # precision matrix carries rounding noise above the float32 atol in both libraries.
        check_op(fn, loc, raw, x, dtypes=(np.float32,), gradgrad=kind != "precision_matrix")
    else:
        check_op(with_lib(lambda lib, m, r: evaluate(_mvn(lib, kind, m, r), method)), loc, raw)


def test_multivariate_normal_batched_scale_and_expand():
    """Batched scale matrices broadcast against loc; expand adds batch dims."""
    def run(lib, loc, raw, x):
        d = lib.distributions.MultivariateNormal(loc, scale_tril=_lower(raw)).expand((4, 2))
        return d.log_prob(x), d.entropy(), d.covariance_matrix

    check_op(with_lib(run), real(3), real(2, 3, 3, low=-0.5, high=0.5), real(5, 4, 2, 3),
             noncontig=False)


LOWRANK_METHODS = ["log_prob", "entropy", "mean", "variance", "covariance_matrix",
                   "precision_matrix", "scale_tril"]


@pytest.mark.parametrize("method", LOWRANK_METHODS)
def test_lowrank_multivariate_normal(method):
    def run(lib, loc, factor, diag, *x):
        d = lib.distributions.LowRankMultivariateNormal(loc, factor, diag)
        return evaluate(d, method, *x)

    params = [real(2, 3), real(2, 3, 2, low=-1, high=1), positive(3)]
    check_op(with_lib(run), *params, *([real(4, 2, 3)] if method == "log_prob" else []))


def _simplex_from(lib, raw):
    return lib.softmax(raw, -1)


@pytest.mark.parametrize("method", ["log_prob", "entropy", "mean", "mode", "variance"])
def test_dirichlet(method):
    # The second row has every concentration below 1: its mode is a vertex.
    alpha = np.array([[1.5, 2.0, 3.0], [0.5, 0.8, 0.6]])

    def run(lib, a, *raw):
        d = lib.distributions.Dirichlet(a)
        return evaluate(d, method, *(_simplex_from(lib, r) for r in raw))

    check_op(with_lib(run), alpha, *([real(4, 2, 3)] if method == "log_prob" else []))


def _wishart(lib, kind, df, raw):
    matrix = _lower(raw) if kind == "scale_tril" else _spd(raw)
    return lib.distributions.Wishart(df, **{kind: matrix})


@pytest.mark.parametrize("kind", ["scale_tril", "covariance_matrix", "precision_matrix"])
@pytest.mark.parametrize("method", ["log_prob", "entropy", "mean", "mode", "variance"])
def test_wishart(kind, method):
    df = np.array([3.5, 5.0])  # p = 3: the mode is NaN for df <= p + 1
    raw = real(3, 3, low=-0.5, high=0.5)
    if method == "log_prob":
        check_op(with_lib(lambda lib, d, r, v: _wishart(lib, kind, d, r).log_prob(_spd(v))), df,
                 raw, real(2, 3, 3, low=-0.5, high=0.5))
    else:
        check_op(with_lib(lambda lib, d, r: evaluate(_wishart(lib, kind, d, r), method)), df, raw)


def test_lkj_cholesky_log_prob():
    """Values built from unconstrained vectors with CorrCholeskyTransform in each library."""
    def run(lib, concentration, raw):
        value = lib.distributions.transforms.CorrCholeskyTransform()(raw)
        return lib.distributions.LKJCholesky(4, concentration).log_prob(value)

    check_op(with_lib(run), np.array([0.5, 1.0, 2.5]), real(3, 6, low=-1, high=1))


@pytest.mark.parametrize("method", ["log_prob", "entropy", "mean", "mode", "variance"])
def test_independent_normal(method):
    def run(lib, loc, scale, *x):
        d = lib.distributions.Independent(lib.distributions.Normal(loc, scale), 2)
        return evaluate(d, method, *x)

    check_op(with_lib(run), real(2, 3, 4), positive(2, 3, 4),
             *([real(5, 2, 3, 4)] if method == "log_prob" else []))


@pytest.mark.parametrize("method", ["log_prob", "cdf", "mean", "variance"])
def test_mixture_of_normals(method):
    def run(lib, logits, loc, scale, *x):
        D = lib.distributions
        d = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, scale))
        return evaluate(d, method, *x)

    check_op(with_lib(run), real(2, 3), real(2, 3), positive(2, 3),
             *([real(5, 2)] if method in ("log_prob", "cdf") else []))


@pytest.mark.parametrize("method", ["log_prob", "mean", "variance"])
def test_mixture_of_multivariate(method):
    """Components with a vector event (Independent normals) and a mixture without batch dims."""
    def run(lib, logits, loc, scale, *x):
        D = lib.distributions
        components = D.Independent(D.Normal(loc, scale), 1)
        return evaluate(D.MixtureSameFamily(D.Categorical(logits=logits), components), method, *x)

    check_op(with_lib(run), real(3), real(3, 2), positive(3, 2),
             *([real(4, 2)] if method == "log_prob" else []))


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_relaxed_one_hot_categorical_log_prob(param):
    def run(lib, temperature, p, raw):
        d = lib.distributions.RelaxedOneHotCategorical(temperature, **{param: p})
        return d.log_prob(_simplex_from(lib, raw))

    p = positive(2, 3) if param == "probs" else real(2, 3)
    check_op(with_lib(run), np.array(0.7), p, real(4, 2, 3))


def test_logistic_normal_log_prob():
    def run(lib, loc, scale, raw):
        return lib.distributions.LogisticNormal(loc, scale).log_prob(_simplex_from(lib, raw))

    check_op(with_lib(run), real(2, 3), positive(2, 3), real(5, 2, 4))


def test_transformed_distribution_composite():
    """A user-built TransformedDistribution: tanh-squashed, shifted and scaled normals, with
    an event dim of 1 (the Jacobian terms summed over it)."""
    def run(lib, loc, scale, shift, x):
        D = lib.distributions
        T = D.transforms
        base = D.Independent(D.Normal(loc, scale), 1)
        d = D.TransformedDistribution(base, [T.TanhTransform(),
                                             T.AffineTransform(shift, 2.0, event_dim=1)])
        return d.log_prob(x), d.support.event_dim, tuple(d.event_shape)

    x = array(4, 3, low=-1.8, high=1.8) + 0.1
    check_op(with_lib(run), real(3), positive(3), np.full(3, 0.1), x)
