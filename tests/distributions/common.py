"""Helpers shared by the distribution tests: the same distribution built in dyngrad and in
PyTorch from the same arrays, and one of its methods compared with the harness's check_op
(values, dtypes, grad_fn names, first- and second-order gradients)."""

import numpy as np
import torch
import torch.distributions  # noqa: F401 - makes torch.distributions an attribute

import dyngrad
import dyngrad.distributions  # noqa: F401 - the same for dyngrad
from tests.harness import array, check_op, with_lib


def real(*shape, low=-2.0, high=2.0, **kwargs):
    return array(*shape, low=low, high=high, **kwargs)


def positive(*shape, low=0.5, high=2.5):
    return array(*shape, low=low, high=high)


def unit(*shape, low=0.1, high=0.9):
    return array(*shape, low=low, high=high)


def counts(*shape, high=5):
    """Nonnegative integer values, as floats (the distributions' value dtype)."""
    return array(*shape, low=0, high=high, dtype=np.int64).astype(np.float64)


def evaluate(dist, method, value=None):
    """`dist.<method>` read as a property, or called (with `value` when one is given)."""
    attr = getattr(dist, method)
    if value is not None:
        return attr(value)
    return attr() if callable(attr) else attr


def check_dist(make, method, params, value=None, requires_grad=None, **kwargs):
    """make(distributions, *params).<method>(value) in both libraries, compared by check_op.

    `params` and `value` are NumPy arrays (floating ones become leaves requiring grad unless
    `requires_grad`, one bool per array, params first, says otherwise)."""
    n = len(params)

    def run(lib, *ts):
        return evaluate(make(lib.distributions, *ts[:n]), method, ts[n] if ts[n:] else None)

    inputs = list(params) + ([] if value is None else [value])
    check_op(with_lib(run), *inputs, requires_grad=requires_grad, **kwargs)


def both(fn):
    """fn(lib) for dyngrad and torch: (dyngrad result, torch result)."""
    return fn(dyngrad), fn(torch)


