"""`torch.distributions`: parameterizable probability distributions, with sampling, scoring and
reparameterized (pathwise-differentiable) sampling, built on dyngrad's differentiable ops.

Score-function estimators use `log_prob`; pathwise estimators use `rsample`, whose draws are
differentiable functions of the parameters. `transforms` and `constraint_registry` give the
bijections between unconstrained and constrained spaces; `kl` the closed-form KL divergences.
Draws come from dyngrad's generator, PyTorch's own stream: after the same `manual_seed`, samplers
built on uniforms, normals and the other fills (Normal, Uniform, Bernoulli, Categorical, ...) give
PyTorch's values (up to float rounding in their transforms); the Gamma family and Poisson sample
with their own algorithms, so their values differ (the laws agree).
"""

from dyngrad.distributions import constraints, transforms
from dyngrad.distributions.bernoulli import Bernoulli
from dyngrad.distributions.beta import Beta
from dyngrad.distributions.binomial import Binomial
from dyngrad.distributions.categorical import Categorical
from dyngrad.distributions.cauchy import Cauchy
from dyngrad.distributions.chi2 import Chi2
from dyngrad.distributions.constraint_registry import biject_to, transform_to
from dyngrad.distributions.continuous_bernoulli import ContinuousBernoulli
from dyngrad.distributions.dirichlet import Dirichlet
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.exp_family import ExponentialFamily
from dyngrad.distributions.exponential import Exponential
from dyngrad.distributions.fishersnedecor import FisherSnedecor
from dyngrad.distributions.gamma import Gamma
from dyngrad.distributions.generalized_pareto import GeneralizedPareto
from dyngrad.distributions.geometric import Geometric
from dyngrad.distributions.gumbel import Gumbel
from dyngrad.distributions.half_cauchy import HalfCauchy
from dyngrad.distributions.half_normal import HalfNormal
from dyngrad.distributions.independent import Independent
from dyngrad.distributions.inverse_gamma import InverseGamma
from dyngrad.distributions.kl import _add_kl_info, kl_divergence, register_kl
from dyngrad.distributions.kumaraswamy import Kumaraswamy
from dyngrad.distributions.laplace import Laplace
from dyngrad.distributions.lkj_cholesky import LKJCholesky
from dyngrad.distributions.log_normal import LogNormal
from dyngrad.distributions.logistic_normal import LogisticNormal
from dyngrad.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from dyngrad.distributions.mixture_same_family import MixtureSameFamily
from dyngrad.distributions.multinomial import Multinomial
from dyngrad.distributions.multivariate_normal import MultivariateNormal
from dyngrad.distributions.negative_binomial import NegativeBinomial
from dyngrad.distributions.normal import Normal
from dyngrad.distributions.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from dyngrad.distributions.pareto import Pareto
from dyngrad.distributions.poisson import Poisson
from dyngrad.distributions.relaxed_bernoulli import RelaxedBernoulli
from dyngrad.distributions.relaxed_categorical import RelaxedOneHotCategorical
from dyngrad.distributions.studentT import StudentT
from dyngrad.distributions.transformed_distribution import TransformedDistribution
from dyngrad.distributions.transforms import *  # noqa: F403
from dyngrad.distributions.uniform import Uniform
from dyngrad.distributions.von_mises import VonMises
from dyngrad.distributions.weibull import Weibull
from dyngrad.distributions.wishart import Wishart

_add_kl_info()

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli",
    "Dirichlet", "Distribution", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma",
    "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
    "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal",
    "LowRankMultivariateNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
    "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
    "Pareto", "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "Poisson", "Uniform",
    "VonMises", "Weibull", "Wishart", "TransformedDistribution", "biject_to", "kl_divergence",
    "register_kl", "transform_to",
]
__all__.extend(transforms.__all__)
