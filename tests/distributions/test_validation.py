"""Argument validation against PyTorch: the exact ValueError texts for invalid parameters and for
values outside the support or of the wrong shape, the structural errors of the constructors,
validate_args=False and Distribution.set_default_validate_args, reprs and warnings."""

import warnings

import pytest
import torch

import dyngrad
from tests.distributions.common import both
from tests.harness import check_error


def _t(lib, values):
    return lib.tensor(values)


INVALID_PARAMETERS = {
    "Normal_number": lambda lib, D: D.Normal(0.0, -1.0),
    "Normal_tensor": lambda lib, D: D.Normal(_t(lib, [0.0, 1.0]),
                                             _t(lib, [1.0, -1.0]).requires_grad_()),
    "Normal_nan_loc": lambda lib, D: D.Normal(_t(lib, [float("nan")]), 1.0),
    "Uniform": lambda lib, D: D.Uniform(2.0, 1.0),
    "Bernoulli": lambda lib, D: D.Bernoulli(_t(lib, [0.5, 1.5])),
    "Categorical": lambda lib, D: D.Categorical(_t(lib, [[0.5, -0.1, 0.6]])),
    "Beta": lambda lib, D: D.Beta(_t(lib, [1.0]), _t(lib, [0.0])),
    "Gamma": lambda lib, D: D.Gamma(_t(lib, [-1.0]), _t(lib, [1.0])),
    "Chi2": lambda lib, D: D.Chi2(_t(lib, [0.0, 2.0])),
    "Dirichlet": lambda lib, D: D.Dirichlet(_t(lib, [[1.0, 0.0], [1.0, 1.0]])),
    "Exponential": lambda lib, D: D.Exponential(_t(lib, [-2.0])),
    "Poisson": lambda lib, D: D.Poisson(_t(lib, [-0.5])),
    "Binomial_count": lambda lib, D: D.Binomial(_t(lib, [2.5]), _t(lib, [0.5])),
    "Binomial_probs": lambda lib, D: D.Binomial(3, _t(lib, [1.5])),
    "Geometric_zero": lambda lib, D: D.Geometric(_t(lib, [0.0, 0.5, 0.0])),
    "NegativeBinomial": lambda lib, D: D.NegativeBinomial(2.0, _t(lib, [1.0])),
    "StudentT": lambda lib, D: D.StudentT(_t(lib, [-1.0])),
    "Laplace": lambda lib, D: D.Laplace(0.0, 0.0),
    "VonMises": lambda lib, D: D.VonMises(_t(lib, [0.0]), _t(lib, [-1.0])),
    "MultivariateNormal_cov": lambda lib, D: D.MultivariateNormal(
        lib.zeros(2), covariance_matrix=_t(lib, [[1.0, 2.0], [2.0, 1.0]])),
    "MultivariateNormal_tril": lambda lib, D: D.MultivariateNormal(
        lib.zeros(2), scale_tril=_t(lib, [[1.0, 1.0], [0.0, 1.0]])),
    "LowRankMultivariateNormal": lambda lib, D: D.LowRankMultivariateNormal(
        lib.zeros(2), lib.ones(2, 1), _t(lib, [1.0, -1.0])),
    "Wishart_df": lambda lib, D: D.Wishart(_t(lib, 1.0), covariance_matrix=lib.eye(3)),
    "LKJCholesky_dim": lambda lib, D: D.LKJCholesky(1, 1.0),
    "LKJCholesky_concentration": lambda lib, D: D.LKJCholesky(3, -1.0),
    "ContinuousBernoulli": lambda lib, D: D.ContinuousBernoulli(_t(lib, [1.5]),
                                                               validate_args=True),
    "Pareto": lambda lib, D: D.Pareto(_t(lib, [1.0]), _t(lib, [-1.0])),
    "Weibull": lambda lib, D: D.Weibull(_t(lib, [-1.0]), _t(lib, [1.0])),
    "Kumaraswamy": lambda lib, D: D.Kumaraswamy(_t(lib, [1.0]), _t(lib, [-1.0])),
    "HalfNormal": lambda lib, D: D.HalfNormal(_t(lib, [-1.0])),
    "LogNormal": lambda lib, D: D.LogNormal(_t(lib, [0.0]), _t(lib, [-1.0])),
    "RelaxedBernoulli": lambda lib, D: D.RelaxedBernoulli(_t(lib, 0.5), _t(lib, [2.0])),
    "FisherSnedecor": lambda lib, D: D.FisherSnedecor(_t(lib, [1.0]), _t(lib, [0.0])),
}


@pytest.mark.parametrize("name", list(INVALID_PARAMETERS))
def test_invalid_parameters(name):
    check_error(lambda lib: INVALID_PARAMETERS[name](lib, lib.distributions))


STRUCTURAL_ERRORS = {
    "both_probs_and_logits": lambda lib, D: D.Bernoulli(_t(lib, [0.5]), _t(lib, [0.0])),
    "neither_probs_nor_logits": lambda lib, D: D.Categorical(),
    "categorical_scalar": lambda lib, D: D.Categorical(_t(lib, 0.5)),
    "categorical_scalar_logits": lambda lib, D: D.Categorical(logits=_t(lib, 0.5)),
    "dirichlet_scalar": lambda lib, D: D.Dirichlet(_t(lib, 1.0)),
    "mvn_scalar_loc": lambda lib, D: D.MultivariateNormal(_t(lib, 0.0), lib.eye(1)),
    "mvn_two_matrices": lambda lib, D: D.MultivariateNormal(lib.zeros(2), lib.eye(2),
                                                            scale_tril=lib.eye(2)),
    "mvn_vector_scale": lambda lib, D: D.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    "mvn_vector_covariance": lambda lib, D: D.MultivariateNormal(lib.zeros(2), lib.ones(2)),
    "lowrank_factor_shape": lambda lib, D: D.LowRankMultivariateNormal(
        lib.zeros(2), lib.ones(3, 1), lib.ones(2)),
    "lowrank_diag_shape": lambda lib, D: D.LowRankMultivariateNormal(
        lib.zeros(2), lib.ones(2, 1), lib.ones(3)),
    "lowrank_batches": lambda lib, D: D.LowRankMultivariateNormal(
        lib.zeros(3, 2), lib.ones(4, 2, 1), lib.ones(2)),
    "independent_ndims": lambda lib, D: D.Independent(D.Normal(lib.zeros(3), 1.0), 2),
    "multinomial_tensor_count": lambda lib, D: D.Multinomial(_t(lib, 3), lib.ones(2)),
    "mixture_not_categorical": lambda lib, D: D.MixtureSameFamily(
        D.Normal(lib.zeros(2), 1.0), D.Normal(lib.zeros(2), 1.0)),
    "mixture_components": lambda lib, D: D.MixtureSameFamily(
        D.Categorical(lib.ones(3)), D.Normal(lib.zeros(2), 1.0)),
    "mixture_batch": lambda lib, D: D.MixtureSameFamily(
        D.Categorical(lib.ones(2, 3)), D.Normal(lib.zeros(4, 3), 1.0)),
    "mixture_component_type": lambda lib, D: D.MixtureSameFamily(D.Categorical(lib.ones(3)), 1),
    "transformed_bad_transforms": lambda lib, D: D.TransformedDistribution(
        D.Normal(0.0, 1.0), "exp"),
    "transformed_bad_list": lambda lib, D: D.TransformedDistribution(D.Normal(0.0, 1.0), [1]),
    "transformed_event_dims": lambda lib, D: D.TransformedDistribution(
        D.Normal(0.0, 1.0), D.StickBreakingTransform()),
    "wishart_two_matrices": lambda lib, D: D.Wishart(3.0, lib.eye(2), scale_tril=lib.eye(2)),
    "wishart_vector": lambda lib, D: D.Wishart(3.0, lib.ones(2)),
    "broadcast_all_type": lambda lib, D: D.Normal("a", 1.0),
    "mode_not_implemented": lambda lib, D: D.Multinomial(3, lib.ones(2)).mode,
    "binomial_entropy": lambda lib, D: D.Binomial(_t(lib, [1.0, 2.0]), _t(lib, [0.5, 0.5]))
    .entropy(),
    "independent_enumerate": lambda lib, D: D.Independent(
        D.Bernoulli(lib.full((2,), 0.5)), 1).enumerate_support(),
    "validate_args_flag": lambda lib, D: D.Distribution.set_default_validate_args(2),
    "custom_init_expand": lambda lib, D: type("Sub", (D.Normal,), {
        "__init__": lambda self: D.Normal.__init__(self, 0.0, 1.0)})().expand((2,)),
}


@pytest.mark.parametrize("name", list(STRUCTURAL_ERRORS))
def test_structural_errors(name):
    if name == "mode_not_implemented":
        # The message names the class, whose module differs: compare with the module renamed.
        dg, th = both(lambda lib: _raised(lambda: STRUCTURAL_ERRORS[name](lib, lib.distributions)))
        assert type(dg) is type(th)
        assert str(dg).replace("dyngrad", "torch") == str(th)
        return
    check_error(lambda lib: STRUCTURAL_ERRORS[name](lib, lib.distributions))


def _raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the exception is the result
        return e
    raise AssertionError("nothing raised")


OUT_OF_SUPPORT = {
    "not_a_tensor": lambda lib, D: D.Normal(0.0, 1.0).log_prob(0.5),
    "event_shape": lambda lib, D: D.Dirichlet(lib.ones(3)).log_prob(lib.ones(2) / 2),
    "batch_shape": lambda lib, D: D.Normal(lib.zeros(2), 1.0).log_prob(lib.zeros(3)),
    "gamma_negative": lambda lib, D: D.Gamma(lib.ones(2), lib.ones(2)).log_prob(-lib.ones(2)),
    "gamma_number": lambda lib, D: D.Gamma(1.0, 1.0).log_prob(-1.0),
    "bernoulli_half": lambda lib, D: D.Bernoulli(_t(lib, [0.3])).log_prob(_t(lib, [0.5])),
    "categorical_range": lambda lib, D: D.Categorical(lib.ones(3)).log_prob(_t(lib, [1, 3])),
    "dirichlet_simplex": lambda lib, D: D.Dirichlet(lib.ones(3)).log_prob(lib.ones(3)),
    "uniform_interval": lambda lib, D: D.Uniform(_t(lib, [0.0]), _t(lib, [1.0])).log_prob(
        _t(lib, [1.5])),
    "uniform_numbers": lambda lib, D: D.Uniform(0.0, 1.0).log_prob(_t(lib, -0.5)),
    "beta_unit": lambda lib, D: D.Beta(2.0, 2.0).log_prob(_t(lib, 1.5)),
    "binomial_count": lambda lib, D: D.Binomial(3, _t(lib, [0.5])).log_prob(_t(lib, [4.0])),
    "poisson_fraction": lambda lib, D: D.Poisson(_t(lib, [1.0])).log_prob(_t(lib, [1.5])),
    "mvn_shape": lambda lib, D: D.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(
        lib.zeros(3)),
    "one_hot": lambda lib, D: D.OneHotCategorical(lib.ones(3)).log_prob(_t(lib, [1.0, 1.0, 0])),
    "multinomial_counts": lambda lib, D: D.Multinomial(2, lib.ones(2)).log_prob(
        _t(lib, [2.0, 1.0])),
    "pareto_below_scale": lambda lib, D: D.Pareto(_t(lib, [2.0]), _t(lib, [1.0])).log_prob(
        _t(lib, [1.0])),
    "lognormal_negative": lambda lib, D: D.LogNormal(0.0, 1.0).log_prob(_t(lib, -1.0)),
    "mixture": lambda lib, D: D.MixtureSameFamily(D.Categorical(lib.ones(2)),
                                                  D.Exponential(lib.ones(2))).log_prob(
        _t(lib, [-1.0])),
    "wishart_not_pd": lambda lib, D: D.Wishart(_t(lib, 3.0), lib.eye(2)).log_prob(
        -lib.eye(2)),
    "lkj_not_cholesky": lambda lib, D: D.LKJCholesky(2, 1.0).log_prob(lib.ones(2, 2)),
    "cdf_out_of_support": lambda lib, D: D.Exponential(1.0).cdf(_t(lib, -1.0)),
    "transformed_cdf": lambda lib, D: D.LogNormal(0.0, 1.0).cdf(_t(lib, -1.0)),
}


@pytest.mark.parametrize("name", list(OUT_OF_SUPPORT))
def test_values_outside_the_support(name):
    check_error(lambda lib: OUT_OF_SUPPORT[name](lib, lib.distributions))


def test_validate_args_false_skips_checks():
    """With validation off, invalid parameters and values go through (NaN / -inf as PyTorch)."""
    def run(lib):
        D = lib.distributions
        gamma = D.Gamma(_t(lib, [-1.0, 2.0]), _t(lib, [1.0, 1.0]), validate_args=False)
        normal = D.Normal(_t(lib, [0.0]), _t(lib, [1.0]), validate_args=False)
        uniform = D.Uniform(0.0, 1.0, validate_args=False)
        return (gamma.log_prob(_t(lib, [1.0, -1.0])), normal.log_prob(_t(lib, [3.0])),
                uniform.log_prob(_t(lib, [2.0, 0.5])), gamma.expand((3, 2))._validate_args)

    dg, th = both(run)
    for d, t in zip(dg[:3], th[:3], strict=True):
        assert d.tolist() == pytest.approx(t.tolist(), nan_ok=True)
    assert dg[3] is th[3] is False


@pytest.mark.parametrize("lib", [dyngrad, torch], ids=["dyngrad", "torch"])
def test_set_default_validate_args(lib):
    D = lib.distributions
    try:
        D.Distribution.set_default_validate_args(False)
        lazy = D.Normal(0.0, -1.0)  # accepted
        assert not lazy._validate_args
        assert D.Distribution._validate_args is False
        strict = D.Normal(0.0, 1.0, validate_args=True)
        with pytest.raises(ValueError, match="within the support"):
            D.Gamma(1.0, 1.0, validate_args=True).log_prob(lib.tensor(-1.0))
        assert strict._validate_args
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)


REPRS = {
    "normal": lambda lib, D: D.Normal(0.0, 1.0),
    "normal_batch": lambda lib, D: D.Normal(lib.zeros(2), lib.ones(2)),
    "categorical_probs": lambda lib, D: D.Categorical(lib.ones(3)),
    "bernoulli_logits": lambda lib, D: D.Bernoulli(logits=_t(lib, [0.3])),
    "independent": lambda lib, D: D.Independent(D.Normal(lib.zeros(2), 1.0), 1),
    "mixture": lambda lib, D: D.MixtureSameFamily(D.Categorical(lib.ones(2)),
                                                  D.Normal(lib.zeros(2), 1.0)),
    "lognormal": lambda lib, D: D.LogNormal(0.0, 1.0),
    "mvn": lambda lib, D: D.MultivariateNormal(lib.zeros(2), lib.eye(2)),
    "beta": lambda lib, D: D.Beta(1.0, 2.0),
    "uniform": lambda lib, D: D.Uniform(0.0, 1.0),
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr(name):
    dg, th = both(lambda lib: repr(REPRS[name](lib, lib.distributions)))
    assert dg == th


def test_warnings():
    """A subclass without arg_constraints (or support) warns when validating; sample_n is
    deprecated."""
    found = []
    for lib in (dyngrad, torch):
        D = lib.distributions

        class Plain(D.Distribution):
            pass

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            d = Plain(validate_args=True)
            with pytest.raises(ValueError):
                d._validate_sample(1.0)
            d._validate_sample(lib.zeros(()))
            D.Normal(0.0, 1.0).sample_n(2)
        found.append([(w.category.__name__, str(w.message).replace(lib.__name__, "LIB"))
                      for w in caught])
    assert found[0] == found[1]
    assert len(found[0]) == 3
