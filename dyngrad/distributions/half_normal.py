"""The half-normal distribution: |X| for X ~ Normal(0, scale)."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions.normal import Normal
from dyngrad.distributions.transformed_distribution import _Folded
from dyngrad.distributions.transforms import AbsTransform

__all__ = ["HalfNormal"]


class HalfNormal(_Folded):
    """p(x) = 2 N(x; 0, scale) on x >= 0."""

    def __init__(self, scale, validate_args=None) -> None:
        super().__init__(Normal(0, scale, validate_args=False), AbsTransform(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(HalfNormal, _instance))

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return dyngrad.where(value >= 0, log_prob, -math.inf)
