"""The Dirichlet distribution on the probability simplex."""

from __future__ import annotations

import dyngrad
from dyngrad.autograd.function import Function, once_differentiable
from dyngrad.distributions import constraints
from dyngrad.distributions.exp_family import ExponentialFamily
from dyngrad.nn.functional import one_hot

__all__ = ["Dirichlet"]


class _Dirichlet(Function):
    """Dirichlet draws (`torch._sample_dirichlet`), differentiable in the concentration through
    `torch._dirichlet_grad`, as in PyTorch."""

    @staticmethod
    def forward(ctx, concentration):
        x = dyngrad._sample_dirichlet(concentration)
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        total = concentration.sum(-1, True).expand_as(concentration)
        grad = dyngrad._dirichlet_grad(x, concentration, total)
        return grad * (grad_output - (x * grad_output).sum(-1, True))


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution with positive `concentration` (the last dim is the event)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        new.concentration = self.concentration.expand(dyngrad.Size(batch_shape)
                                                      + self.event_shape)
        return self._expanded(new, batch_shape)

    def rsample(self, sample_shape=()):
        return _Dirichlet.apply(self.concentration.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        """sum (a_i - 1) log x_i + log Gamma(sum a_i) - sum log Gamma(a_i)."""
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (dyngrad.xlogy(a - 1.0, value).sum(-1) + dyngrad.lgamma(a.sum(-1))
                - dyngrad.lgamma(a).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """(a - 1)_+ normalized; where every a_i < 1, a vertex (the largest a_i's)."""
        shifted = (self.concentration - 1).clamp(min=0.0)
        mode = shifted / shifted.sum(-1, True)
        corner = (self.concentration < 1).all(dim=-1)
        mode[corner] = one_hot(mode[corner].argmax(dim=-1), shifted.shape[-1]).to(mode)
        return mode

    @property
    def variance(self):
        a0 = self.concentration.sum(-1, True)
        return self.concentration * (a0 - self.concentration) / (a0.pow(2) * (a0 + 1))

    def entropy(self):
        """log B(a) + (a0 - K) digamma(a0) - sum (a_i - 1) digamma(a_i)."""
        a = self.concentration
        k, a0 = a.size(-1), a.sum(-1)
        return (dyngrad.lgamma(a).sum(-1) - dyngrad.lgamma(a0) - (k - a0) * dyngrad.digamma(a0)
                - ((a - 1.0) * dyngrad.digamma(a)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - dyngrad.lgamma(x.sum(-1))
