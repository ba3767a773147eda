"""ExponentialFamily: densities p(x) = h(x) exp(<theta, t(x)> - A(theta)).

Subclasses give the natural parameters theta (`_natural_params`), the log normalizer A
(`_log_normalizer`) and E[log h(x)] (`_mean_carrier_measure`); entropy and the KL divergence
between two members of one family then follow from A and its gradient (a Bregman divergence).
"""

from __future__ import annotations

import dyngrad
from dyngrad.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self):
        """H = A(theta) - <theta, grad A(theta)> - E[log h(x)], grad A(theta) = E[t(x)]."""
        thetas = [p.detach().requires_grad_() for p in self._natural_params]
        log_norm = self._log_normalizer(*thetas)
        grads = dyngrad.autograd.grad(log_norm.sum(), thetas, create_graph=True)
        result = -self._mean_carrier_measure + log_norm
        for theta, g in zip(thetas, grads, strict=True):
            result = result - (theta * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
