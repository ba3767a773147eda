"""The binomial distribution: successes in `total_count` Bernoulli trials."""

from __future__ import annotations

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.utils import _ProbsLogits, _set_param

__all__ = ["Binomial"]


class Binomial(_ProbsLogits, Distribution):
    """P(k) = C(n, k) p^k (1 - p)^(n - k), n = total_count, p = probs = sigmoid(logits)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        (total_count,) = _set_param(self, probs, logits, total_count)
        self.total_count = total_count.type_as(self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Binomial, batch_shape, _instance, ("total_count",))

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with dyngrad.no_grad():
            return dyngrad.binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        """k logit - log k! - log (n - k)! - (n softplus(logit) - log n!), with
        softplus(l) = max(l, 0) + log1p(exp(-|l|))."""
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        # (max(l, 0) + l - min(l, 0)) / 2 is max(l, 0), with gradient 1/2 at l = 0.
        positive_part = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalizer = (n * positive_part + n * dyngrad.log1p(dyngrad.exp(-dyngrad.abs(logits)))
                      - dyngrad.lgamma(n + 1))
        return (value * logits - dyngrad.lgamma(value + 1) - dyngrad.lgamma(n - value + 1)
                - normalizer)

    def _homogeneous_count(self, method: str) -> int:
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(
                f"Inhomogeneous total count not supported by `{method}`.")
        return total_count

    def entropy(self):
        """-sum_k P(k) log P(k) over the (common) support."""
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(dyngrad.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = self._homogeneous_count("enumerate_support")
        values = dyngrad.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values
