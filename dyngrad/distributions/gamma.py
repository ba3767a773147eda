"""The gamma distribution, and the reparameterized standard-gamma sampler that Dirichlet, Beta,
Chi2, StudentT and the other gamma-based families draw from."""

from __future__ import annotations

import numpy as np

import dyngrad
from dyngrad.autograd.function import Function, once_differentiable
from dyngrad.distributions import constraints
from dyngrad.distributions.exp_family import ExponentialFamily
from dyngrad.distributions.utils import broadcast_all, finfo

__all__ = ["Gamma"]


def _log_standard_gamma_draws(alpha: np.ndarray) -> np.ndarray:
    """log of Gamma(alpha, 1) draws, in float64, by Marsaglia and Tsang's squeeze-rejection
    method with normals and uniforms from dyngrad's generator. For alpha < 1 it draws
    Gamma(alpha + 1) and adds log(U) / alpha: in log space the draw cannot underflow (which
    matters to Dirichlet's normalization). Non-positive or NaN shapes give -inf (a zero draw),
    infinite ones +inf, as in PyTorch."""
    out = np.where(alpha == np.inf, np.inf, -np.inf)
    valid = np.flatnonzero((alpha > 0) & np.isfinite(alpha))
    a = alpha.flat[valid]
    boost = a < 1
    d = np.where(boost, a + 1, a) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    log_draw = np.empty_like(d)
    todo = np.arange(d.size)
    while todo.size:
        z = dyngrad.randn(todo.size, dtype=dyngrad.float64).numpy()
        u = dyngrad.rand(todo.size, dtype=dyngrad.float64).numpy()
        dt, v = d[todo], (1.0 + c[todo] * z) ** 3
        with np.errstate(invalid="ignore", divide="ignore"):
            accept = (v > 0) & (np.log(u) < 0.5 * z**2 + dt - dt * v + dt * np.log(v))
        log_draw[todo[accept]] = np.log(dt[accept] * v[accept])
        todo = todo[~accept]
    if boost.any():
        u = dyngrad.rand(int(boost.sum()), dtype=dyngrad.float64).numpy()
        log_draw[boost] += np.log(u) / a[boost]
    out.flat[valid] = log_draw
    return out


def _standard_gamma_grad(alpha, x):
    """dx/dalpha of a Gamma(alpha, 1) draw x at fixed CDF value (implicit reparameterization):
    -(dP(alpha, x)/dalpha) / p(x; alpha), P the regularized incomplete gamma function. dP/dalpha
    is a central difference in float64 of P (below alpha + 1) or of 1 - P (above), where the
    kernel computes each accurately."""
    a, x = alpha.double(), x.double()
    h = 1e-4 * dyngrad.minimum(a, a.sqrt())
    lower = (dyngrad.special.gammainc(a + h, x) - dyngrad.special.gammainc(a - h, x)) / (2 * h)
    upper = (dyngrad.special.gammaincc(a - h, x) - dyngrad.special.gammaincc(a + h, x)) / (2 * h)
    dcdf = dyngrad.where(x < a + 1, lower, upper)
    density = dyngrad.exp(dyngrad.xlogy(a - 1, x) - x - dyngrad.lgamma(a))
    grad = dyngrad.where(density > 0, -dcdf / density, dyngrad.zeros_like(x))
    return grad.to(alpha.dtype)


class _StandardGamma(Function):
    """Gamma(concentration, 1) draws, differentiable in the concentration."""

    @staticmethod
    def forward(ctx, concentration):
        log_draws = _log_standard_gamma_draws(concentration.detach().double().numpy())
        x = dyngrad.from_numpy(np.asarray(np.exp(log_draws))).to(concentration.dtype)
        x = x.clamp(min=finfo(x.dtype).tiny)
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, concentration = ctx.saved_tensors
        return grad * _standard_gamma_grad(concentration, x)


def _standard_gamma(concentration):
    return _StandardGamma.apply(concentration)


class Gamma(ExponentialFamily):
    """Gamma distribution with shape `concentration` and inverse scale `rate`."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_with(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value):
        """a log b + (a - 1) log x - b x - log Gamma(a)."""
        value = dyngrad.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (dyngrad.xlogy(self.concentration, self.rate)
                + dyngrad.xlogy(self.concentration - 1, value)
                - self.rate * value - dyngrad.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return dyngrad.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        """a - log b + log Gamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - dyngrad.log(self.rate) + dyngrad.lgamma(a) + (1.0 - a) * dyngrad.digamma(a)

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return dyngrad.lgamma(x + 1) + (x + 1) * dyngrad.log(-y.reciprocal())


