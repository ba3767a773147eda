"""The gamma distribution. Its draws come from `torch._standard_gamma` (PyTorch's sampler and its
reparameterization gradient), as do those of Chi2, StudentT, FisherSnedecor and InverseGamma."""

from __future__ import annotations

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.exp_family import ExponentialFamily
from dyngrad.distributions.utils import broadcast_all, finfo

__all__ = ["Gamma"]


def _standard_gamma(concentration):
    """Gamma(concentration, 1) draws, differentiable in the concentration."""
    return dyngrad._standard_gamma(concentration)


def _standard_gamma_grad(alpha, x):
    """dx/dalpha of Gamma(alpha, 1) draws x at a fixed CDF value (PyTorch's approximation)."""
    return dyngrad._standard_gamma_grad(alpha, x)


class Gamma(ExponentialFamily):
    """Gamma distribution with shape `concentration` and inverse scale `rate`."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=finfo(value.dtype).tiny)  # unrecorded, as in PyTorch
        return value

    def log_prob(self, value):
        """a log b + (a - 1) log x - b x - log Gamma(a)."""
        value = dyngrad.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (dyngrad.xlogy(self.concentration, self.rate)
                + dyngrad.xlogy(self.concentration - 1, value)
                - self.rate * value - dyngrad.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return dyngrad.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        """a - log b + log Gamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - dyngrad.log(self.rate) + dyngrad.lgamma(a) + (1.0 - a) * dyngrad.digamma(a)

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return dyngrad.lgamma(x + 1) + (x + 1) * dyngrad.log(-y.reciprocal())


