"""The LKJ distribution over Cholesky factors of correlation matrices."""

from __future__ import annotations

import math

import dyngrad
from dyngrad.distributions import constraints
from dyngrad.distributions.beta import Beta
from dyngrad.distributions.distribution import Distribution
from dyngrad.distributions.utils import broadcast_all, finfo

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """L with L L^T ~ LKJ(concentration): p(L) ~ prod_i L_ii^(dim - i + 2 (concentration - 1)),
    drawn by the onion method (Lewandowski, Kurowicka and Joe, 2009)."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None) -> None:
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # Row i's squared off-diagonal norm is Beta(i / 2, concentration + (dim - 2 - i) / 2).
        marginal = self.concentration + 0.5 * (self.dim - 2)
        offset = dyngrad.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = dyngrad.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), dyngrad.Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = dyngrad.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        return self._expanded(new, batch_shape)

    def sample(self, sample_shape=()):
        """Each row: a uniform direction on the sphere (below the diagonal) scaled by the root
        of a Beta draw; the diagonal entry completes the row to unit norm."""
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u = dyngrad.randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
        u = u / u.norm(dim=-1, keepdim=True)
        u[..., 0, :].fill_(0.0)  # the first row is (1, 0, ..., 0)
        w = dyngrad.sqrt(y) * u
        diag = dyngrad.clamp(1 - dyngrad.sum(w**2, dim=-1), min=finfo(w.dtype).tiny).sqrt()
        return w + dyngrad.diag_embed(diag)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = dyngrad.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = dyngrad.sum(order * diag.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        log_normalizer = (0.5 * dm1 * math.log(math.pi) + dyngrad.mvlgamma(alpha - 0.5, dm1)
                          - dyngrad.lgamma(alpha) * dm1)
        return unnormalized - log_normalizer
