"""The normal (Gaussian) distribution N(loc, scale^2)."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions.distribution import _LocScale
from dyngrad.distributions.exp_family import ExponentialFamily
from dyngrad.distributions.utils import _standard_normal

__all__ = ["Normal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(_LocScale, ExponentialFamily):
    """Normal distribution with mean `loc` and standard deviation `scale`."""

    _mean_carrier_measure = 0

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Normal, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with dyngrad.no_grad():
            return dyngrad.normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=()):
        eps = _standard_normal(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """log N(x) = -(x - mu)^2 / (2 sigma^2) - log sigma - log sqrt(2 pi)."""
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale**2) - self.scale.log() - _HALF_LOG_2PI

    def cdf(self, value):
        """Phi((x - mu) / sigma) = (1 + erf((x - mu) / (sigma sqrt 2))) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + dyngrad.erf((value - self.loc) * self.scale.reciprocal()
                                      / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * dyngrad.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        """(1 + log 2 pi) / 2 + log sigma."""
        return 0.5 + _HALF_LOG_2PI + dyngrad.log(self.scale)

    @property
    def _natural_params(self):
        return self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal()

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * dyngrad.log(-math.pi / y)
