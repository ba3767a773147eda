"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits, lazy properties,
dtype limits and the lower-triangle <-> vector reshuffles."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

import dyngrad
from dyngrad import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant
_NUMBER = (int, float, bool)


def _is_number(value) -> bool:
    return isinstance(value, _NUMBER)


class _Finfo(NamedTuple):
    eps: float
    tiny: float
    min: float
    max: float


@functools.lru_cache
def finfo(dtype) -> _Finfo:
    """eps, tiny, min and max of a floating dtype, as torch.finfo gives them."""
    info = np.finfo(dtype.np)
    return _Finfo(float(info.eps), float(info.tiny), float(info.min), float(info.max))


def broadcast_all(*values) -> tuple:
    """The values broadcast together; numbers become tensors of the first tensor's dtype (or the
    default dtype when all are numbers)."""
    if not all(isinstance(v, Tensor) or _is_number(v) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)),
                     dyngrad.get_default_dtype())
        values = [v if isinstance(v, Tensor) else dyngrad.tensor(v, dtype=dtype) for v in values]
    return dyngrad.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None) -> Tensor:
    return dyngrad.randn(dyngrad.Size(shape), dtype=dtype)


def _sum_rightmost(value, dim: int):
    """`value` summed over its `dim` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def _one_parametrization(probs, logits) -> None:
    """Exactly one of probs and logits is given."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _set_param(dist, probs, logits, *others) -> list:
    """Store whichever of probs / logits is given on `dist` (also as `dist._param`), broadcast
    with `others`; return the broadcast `others`."""
    _one_parametrization(probs, logits)
    name, value = ("probs", probs) if probs is not None else ("logits", logits)
    *others, param = broadcast_all(*others, value)
    setattr(dist, name, param)
    dist._param = param
    return others


def _expand_param(old, new, shape) -> None:
    """Expand whichever of probs / logits `old` holds into `new` (and make it `new._param`)."""
    for name in ("probs", "logits"):
        if name in old.__dict__:
            setattr(new, name, getattr(old, name).expand(shape))
            new._param = getattr(new, name)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from log-odds (binary) or from unnormalized log-probabilities (last dim)."""
    if is_binary:
        return dyngrad.sigmoid(logits)
    return dyngrad.nn.functional.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """`probs` clamped into [eps, 1 - eps] of its dtype."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (binary) or log-probabilities of (clamped) probabilities."""
    p = clamp_probs(probs)
    if is_binary:
        return dyngrad.log(p) - dyngrad.log1p(-p)
    return dyngrad.log(p)


class lazy_property:  # noqa: N801 - torch's name
    """A property computed once per instance (with grad enabled), then stored on it."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with dyngrad.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _ProbsLogits:
    """Mixin for a family given by `probs` or by `logits`: the other one is computed on first
    use (sigmoid / logit when `_binary`, else softmax / log over the last dim)."""

    _binary = True

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._binary)

    def _expand_with(self, cls, batch_shape, _instance=None, params=(), shared=()):
        """Distribution._expand_with, which also expands probs / logits (those computed)."""
        new = super()._expand_with(cls, batch_shape, _instance, params, shared)
        _expand_param(self, new, batch_shape)
        return new


class _CategoricalParams:
    """Mixin for a family built on a Categorical `_categorical`: its probs, logits and
    param_shape."""

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape


class _RelaxedParams:
    """Mixin for a transformed relaxed distribution: the temperature, logits and probs of its
    `base_dist`."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


def _tril_mask(n: int, diag: int) -> Tensor:
    idx = dyngrad.arange(n)
    return idx < idx.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries on and below diagonal `diag` of (a batch of) square matrices, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of tril_matrix_to_vec: a lower-triangular matrix filled row by row."""
    # n is the positive root of the quadratic relating a D x D triangle's size to len(vec).
    b = 1 + 2 * diag
    n = (-b + (b**2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(vec.shape[:-1] + (n, n))
    mat[..., _tril_mask(n, diag)] = vec
    return mat
