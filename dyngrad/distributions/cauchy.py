"""The Cauchy (Lorentz) distribution."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions.distribution import _LocScale

__all__ = ["Cauchy"]


class Cauchy(_LocScale):
    """p(x) = 1 / (pi scale (1 + ((x - loc) / scale)^2)); no mean, infinite variance."""

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Cauchy, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return dyngrad.full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def variance(self):
        return dyngrad.full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=()):
        eps = dyngrad.empty(self._extended_shape(sample_shape), dtype=self.loc.dtype).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """-log pi - log scale - log(1 + z^2), z = (x - loc) / scale."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z**2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return dyngrad.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return dyngrad.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
