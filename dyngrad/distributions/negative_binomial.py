"""The negative binomial distribution: successes before `total_count` failures."""

from __future__ import annotations

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.gamma import Gamma
from dyngrad.distributions.utils import _ProbsLogits, _set_param, lazy_property
from dyngrad.nn.functional import logsigmoid

__all__ = ["NegativeBinomial"]


class NegativeBinomial(_ProbsLogits, Distribution):
    """P(k) = Gamma(r + k) / (k! Gamma(r)) p^k (1 - p)^r, r = total_count, p = probs."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None) -> None:
        (total_count,) = _set_param(self, probs, logits, total_count)
        self.total_count = total_count.type_as(self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(NegativeBinomial, batch_shape, _instance, ("total_count",))

    @property
    def mean(self):
        return self.total_count * dyngrad.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / dyngrad.sigmoid(-self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @lazy_property
    def _gamma(self):
        # A Poisson whose rate is Gamma(r, (1 - p) / p) distributed is NegativeBinomial(r, p).
        return Gamma(concentration=self.total_count, rate=dyngrad.exp(-self.logits),
                     validate_args=False)

    def sample(self, sample_shape=()):
        with dyngrad.no_grad():
            return dyngrad.poisson(self._gamma.sample(sample_shape=sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        r = self.total_count
        log_unnormalized = r * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        log_normalization = (-dyngrad.lgamma(r + value) + dyngrad.lgamma(1.0 + value)
                             + dyngrad.lgamma(r))
        log_normalization = log_normalization.masked_fill(r + value == 0.0, 0.0)
        return log_unnormalized - log_normalization
