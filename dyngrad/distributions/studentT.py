"""Student's t distribution with `df` degrees of freedom, location and scale."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.chi2 import Chi2
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """X = loc + scale Z / sqrt(V / df), Z ~ N(0, 1), V ~ Chi2(df)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(StudentT, batch_shape, _instance, ("df", "loc", "scale", "_chi2"))

    @property
    def mean(self):
        """loc for df > 1, undefined (NaN) otherwise."""
        m = self.loc.clone(memory_format=dyngrad.contiguous_format)
        m[self.df <= 1] = math.nan
        return m

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, NaN for df <= 1."""
        m = self.df.clone(memory_format=dyngrad.contiguous_format)
        big = self.df > 2
        m[big] = self.scale[big].pow(2) * self.df[big] / (self.df[big] - 2)
        m[(self.df <= 2) & (self.df > 1)] = math.inf
        m[self.df <= 1] = math.nan
        return m

    def rsample(self, sample_shape=()):
        z = _standard_normal(self._extended_shape(sample_shape), dtype=self.df.dtype)
        v = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (z * dyngrad.rsqrt(v / self.df))

    def log_prob(self, value):
        """-(df + 1)/2 log(1 + y^2/df) - log(scale sqrt(df pi) B(df/2, 1/2)),
        y = (x - loc) / scale."""
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        log_norm = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
                    + dyngrad.lgamma(0.5 * self.df) - dyngrad.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * dyngrad.log1p(y**2.0 / self.df) - log_norm

    def entropy(self):
        log_beta = (dyngrad.lgamma(0.5 * self.df) + math.lgamma(0.5)
                    - dyngrad.lgamma(0.5 * (self.df + 1)))
        return (self.scale.log()
                + 0.5 * (self.df + 1) * (dyngrad.digamma(0.5 * (self.df + 1))
                                         - dyngrad.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + log_beta)
