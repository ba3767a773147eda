"""The continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem and Cunningham, 2019)."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.exp_family import ExponentialFamily
from dyngrad.distributions.utils import (
    _ProbsLogits,
    _set_param,
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
)
from dyngrad.nn.functional import binary_cross_entropy_with_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(_ProbsLogits, ExponentialFamily):
    """p(x) = C(lambda) lambda^x (1 - lambda)^(1 - x) on [0, 1], lambda = probs, with normalizer
    C(lambda) = 2 atanh(1 - 2 lambda) / (1 - 2 lambda). Near lambda = 1/2 (inside `lims`) the
    closed forms lose precision and Taylor expansions replace them."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None) -> None:
        _set_param(self, probs, logits)
        if probs is not None:
            if validate_args is not None and not self.arg_constraints["probs"].check(
                    self.probs).all():
                raise ValueError("The parameter probs has invalid values")
            self.probs = self._param = clamp_probs(self.probs)
        self._lims = lims
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(ContinuousBernoulli, batch_shape, _instance, shared=("_lims",))

    def _outside_unstable_region(self):
        return dyngrad.max(dyngrad.le(self.probs, self._lims[0]),
                           dyngrad.gt(self.probs, self._lims[1]))

    def _cut_probs(self):
        """probs, with those in the unstable region replaced by lims[0] (the closed forms are
        evaluated there and then discarded, which keeps their gradients finite)."""
        return dyngrad.where(self._outside_unstable_region(), self.probs,
                             self._lims[0] * dyngrad.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """log C(lambda) = log |log(1 - lambda) - log lambda| - log |1 - 2 lambda|."""
        cut = self._cut_probs()
        below = dyngrad.where(dyngrad.le(cut, 0.5), cut, dyngrad.zeros_like(cut))
        above = dyngrad.where(dyngrad.ge(cut, 0.5), cut, dyngrad.ones_like(cut))
        log_norm = dyngrad.log(dyngrad.abs(dyngrad.log1p(-cut) - dyngrad.log(cut))) - dyngrad.where(
            dyngrad.le(cut, 0.5), dyngrad.log1p(-2.0 * below), dyngrad.log(2.0 * above - 1.0))
        x = dyngrad.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return dyngrad.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (dyngrad.log1p(-cut) - dyngrad.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * dyngrad.pow(x, 2)) * x
        return dyngrad.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return dyngrad.sqrt(self.variance)

    @property
    def variance(self):
        cut = self._cut_probs()
        variances = (cut * (cut - 1.0) / dyngrad.pow(1.0 - 2.0 * cut, 2)
                     + 1.0 / dyngrad.pow(dyngrad.log1p(-cut) - dyngrad.log(cut), 2))
        x = dyngrad.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return dyngrad.where(self._outside_unstable_region(), variances, taylor)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=()):
        u = dyngrad.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype)
        with dyngrad.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape=()):
        return self.icdf(dyngrad.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype))

    def log_prob(self, value):
        """x log lambda + (1 - x) log(1 - lambda) + log C(lambda)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (-binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._cont_bern_log_norm())

    def cdf(self, value):
        """(lambda^x (1 - lambda)^(1 - x) + lambda - 1) / (2 lambda - 1), clamped to [0, 1]."""
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (dyngrad.pow(cut, value) * dyngrad.pow(1.0 - cut, 1.0 - value) + cut - 1.0) / (
            2.0 * cut - 1.0)
        unbounded = dyngrad.where(self._outside_unstable_region(), cdfs, value)
        return dyngrad.where(dyngrad.le(value, 0.0), dyngrad.zeros_like(value),
                             dyngrad.where(dyngrad.ge(value, 1.0), dyngrad.ones_like(value),
                                           unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inverse = ((dyngrad.log1p(-cut + value * (2.0 * cut - 1.0)) - dyngrad.log1p(-cut))
                   / (dyngrad.log(cut) - dyngrad.log1p(-cut)))
        return dyngrad.where(self._outside_unstable_region(), inverse, value)

    def entropy(self):
        log_p0 = dyngrad.log1p(-self.probs)
        log_p1 = dyngrad.log(self.probs)
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log((exp(eta) - 1) / eta) for the natural parameter eta (Taylor series near 0)."""
        outside = dyngrad.max(dyngrad.le(x, self._lims[0] - 0.5),
                              dyngrad.gt(x, self._lims[1] - 0.5))
        cut = dyngrad.where(outside, x, (self._lims[0] - 0.5) * dyngrad.ones_like(x))
        log_norm = dyngrad.log(dyngrad.abs(dyngrad.special.expm1(cut))) - dyngrad.log(
            dyngrad.abs(cut))
        taylor = 0.5 * x + dyngrad.pow(x, 2) / 24.0 - dyngrad.pow(x, 4) / 2880.0
        return dyngrad.where(outside, log_norm, taylor)
