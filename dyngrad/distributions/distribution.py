"""The Distribution base class: shapes, validation, and the interface every family implements."""

from __future__ import annotations

import warnings

import dyngrad
from dyngrad import Tensor
from dyngrad.distributions import constraints
from dyngrad.distributions.utils import broadcast_all, lazy_property

__all__ = ["Distribution"]


class Distribution:
    """A batch of probability distributions.

    `batch_shape` indexes independent distributions, `event_shape` is the shape of one draw; a
    sample of `sample_shape` has shape `sample_shape + batch_shape + event_shape`. With
    `validate_args` (default: on unless Python runs with -O) parameters are checked against
    `arg_constraints` and values scored against `support`.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for distributions created afterwards."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = dyngrad.Size(batch_shape)
        self._event_shape = dyngrad.Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._validate_parameters()

    def _validate_parameters(self) -> None:
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set "
                          "`arg_constraints = {}` or initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param),
                                                         lazy_property):
                continue  # the other parametrization (probs vs logits): not computed
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        """A new distribution with parameters expanded (not copied) to `batch_shape`."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> dyngrad.Size:
        return self._batch_shape

    @property
    def event_shape(self) -> dyngrad.Size:
        return self._event_shape

    @property
    def arg_constraints(self) -> dict:
        """The constraint each parameter must satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint every value of the distribution satisfies."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape `sample_shape + batch_shape + event_shape`, outside the graph."""
        with dyngrad.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterized draw: differentiable with respect to the parameters."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(dyngrad.Size((n,)))

    def log_prob(self, value) -> Tensor:
        """The log density (or log mass) at `value`."""
        raise NotImplementedError

    def cdf(self, value) -> Tensor:
        raise NotImplementedError

    def icdf(self, value) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All values of a discrete distribution along dim 0 (batch dims expanded or size 1)."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return dyngrad.exp(self.entropy())

    def _extended_shape(self, sample_shape=()) -> dyngrad.Size:
        """sample_shape + batch_shape + event_shape."""
        return dyngrad.Size(dyngrad.Size(sample_shape) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value) -> None:
        """Raise ValueError unless `value` broadcasts with the shapes and lies in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        size = value.size()
        if size[len(size) - len(self._event_shape):] != self._event_shape:
            raise ValueError("The right-most size of value must match event_shape: "
                             f"{size} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(size), reversed(expected), strict=False):
            if i != 1 and j != 1 and i != j:
                raise ValueError("Value is not broadcastable with batch_shape+event_shape: "
                                 f"{size} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{self.__class__} does not define `support` to enable sample "
                          "validation. Please initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=3)
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def _expanded(self, new, batch_shape, event_shape=None):
        """Finish `expand`: `new`, its parameters already expanded, takes `batch_shape` and this
        distribution's validation setting (arguments are not checked again)."""
        event_shape = self._event_shape if event_shape is None else event_shape
        Distribution.__init__(new, dyngrad.Size(batch_shape), event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _expand_with(self, cls, batch_shape, _instance=None, params=(), shared=()):
        """`expand` for `cls`: the attributes named in `params` (tensors or distributions) are
        expanded to `batch_shape`, those in `shared` are carried over as they are."""
        new = self._get_checked_instance(cls, _instance)
        for name in params:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        for name in shared:
            setattr(new, name, getattr(self, name))
        return self._expanded(new, batch_shape)

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {v if v.numel() == 1 else v.size()}"
                         for k, v in ((k, self.__dict__[k]) for k in names))
        return f"{type(self).__name__}({args})"


class _LocScale(Distribution):
    """A family on the real line given by a location `loc` and a positive `scale`."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.size(), validate_args=validate_args)

    @property
    def mode(self):
        return self.loc
