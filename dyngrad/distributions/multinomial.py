"""The multinomial distribution: category counts of `total_count` categorical draws."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.binomial import Binomial
from dyngrad.distributions.categorical import Categorical
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.utils import _CategoricalParams, broadcast_all

__all__ = ["Multinomial"]


class Multinomial(_CategoricalParams, Distribution):
    """P(x) = n! / prod x_i! prod p_i^x_i, over count vectors x summing to n = total_count."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Multinomial, batch_shape, _instance,
                                 ("_categorical",), shared=("total_count",))

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        sample_shape = dyngrad.Size(sample_shape)
        draws = self._categorical.sample(dyngrad.Size((self.total_count,)) + sample_shape)
        draws = draws.permute(*range(1, draws.dim()), 0)  # the n draws last
        counts = dyngrad.zeros(self._extended_shape(sample_shape), dtype=draws.dtype)
        counts.scatter_add_(-1, draws, dyngrad.ones_like(draws))
        return counts.type_as(self.probs)

    def entropy(self):
        """n H(Categorical) - log n! + sum_i E[log x_i!], x_i ~ Binomial(n, p_i)."""
        n = dyngrad.tensor(self.total_count)
        term1 = n * self._categorical.entropy() - dyngrad.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = dyngrad.exp(self._binomial.log_prob(support))
        term2 = (binomial_probs * dyngrad.lgamma(support + 1)).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        """log n! - sum log x_i! + sum x_i log p_i (0 * log 0 = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone(memory_format=dyngrad.contiguous_format)
        log_factorial_n = dyngrad.lgamma(value.sum(-1) + 1)
        log_factorial_xs = dyngrad.lgamma(value + 1).sum(-1)
        logits[(value == 0) & (logits == -math.inf)] = 0
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
