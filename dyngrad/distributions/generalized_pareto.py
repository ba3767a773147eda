"""The generalized Pareto distribution."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Survival function (1 + xi z)^(-1/xi), z = (x - loc) / scale, xi = concentration (the
    exponential exp(-z) at xi = 0)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(GeneralizedPareto, batch_shape, _instance,
                                 ("loc", "scale", "concentration"))

    def rsample(self, sample_shape=()):
        return self.icdf(dyngrad.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype))

    def _safe_concentration(self):
        """(xi == 0, xi with its zeros replaced by 1 so the xi != 0 formulas stay finite)."""
        zero = dyngrad.isclose(self.concentration, dyngrad.tensor(0.0))
        return zero, dyngrad.where(zero, dyngrad.ones_like(self.concentration), self.concentration)

    def log_prob(self, value):
        """-log scale - (1 + 1/xi) log(1 + xi z)  (-log scale - z at xi = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, xi = self._safe_concentration()
        y = 1 / xi + dyngrad.ones_like(z)
        nonzero = dyngrad.where(y == 0, y, y * dyngrad.log1p(xi * z))
        return -self.scale.log() - dyngrad.where(zero, z, nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, xi = self._safe_concentration()
        return dyngrad.where(zero, -z, -dyngrad.log1p(xi * z) / xi)

    def log_cdf(self, value):
        return dyngrad.log1p(-dyngrad.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return dyngrad.exp(self.log_cdf(value))

    def icdf(self, value):
        zero = dyngrad.isclose(self.concentration, dyngrad.zeros_like(self.concentration))
        xi = dyngrad.where(zero, dyngrad.ones_like(self.concentration), self.concentration)
        log_u = dyngrad.log1p(-value)
        nonzero = self.loc + self.scale / xi * dyngrad.expm1(-xi * log_u)
        return dyngrad.where(zero, self.loc - self.scale * log_u, nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1
        xi = dyngrad.where(valid, self.concentration, 0.5)
        return dyngrad.where(valid, self.loc + self.scale / (1 - xi), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        xi = dyngrad.where(valid, self.concentration, 0.25)
        result = self.scale**2 / ((1 - xi) ** 2 * (1 - 2 * xi))
        return dyngrad.where(valid, result, math.nan)

    def entropy(self):
        return dyngrad.broadcast_to(dyngrad.log(self.scale) + self.concentration + 1,
                                    self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = dyngrad.where(self.concentration < 0, self.loc - self.scale / self.concentration,
                              math.inf)
        return constraints.interval(self.loc, upper)
