"""The Laplace (double exponential) distribution."""

from __future__ import annotations

import dyngrad
from dyngrad.distributions.distribution import _LocScale
from dyngrad.distributions.utils import finfo

__all__ = ["Laplace"]


class Laplace(_LocScale):
    """p(x) = exp(-|x - loc| / scale) / (2 scale)."""

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Laplace, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2**0.5) * self.scale

    def rsample(self, sample_shape=()):
        # Inverse CDF at u in (-1, 1): loc - scale sign(u) log(1 - |u|).
        shape = self._extended_shape(sample_shape)
        u = dyngrad.empty(shape, dtype=self.loc.dtype).uniform_(finfo(self.loc.dtype).eps - 1, 1)
        return self.loc - self.scale * u.sign() * dyngrad.log1p(-u.abs())

    def log_prob(self, value):
        """-log(2 scale) - |x - loc| / scale."""
        if self._validate_args:
            self._validate_sample(value)
        return -dyngrad.log(2 * self.scale) - dyngrad.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * dyngrad.expm1(-z.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * dyngrad.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + dyngrad.log(2 * self.scale)
