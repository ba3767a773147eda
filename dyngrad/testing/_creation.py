"""`make_tensor`: a random tensor of a given shape and dtype for tests, by PyTorch's rules.

Values are uniform in [low, high) (integers: [ceil(low), ceil(high))), defaults -9 and 9 (10 for
integers), clamped to the dtype's range, drawn as PyTorch draws them: after the same seed the
values are PyTorch's, as are shapes, dtypes, bounds, strides and errors.
"""

from __future__ import annotations

import collections.abc
import functools
import math
import warnings

from dyngrad import _dtype
from dyngrad._backend import xp

__all__ = ["make_tensor"]

_INTEGRAL = (_dtype.uint8, _dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64)
_FLOATING_OR_COMPLEX = (_dtype.float16, _dtype.float32, _dtype.float64, _dtype.complex64,
                        _dtype.complex128)


def _bounds(low, high, dtype, lowest, highest, default_low, default_high) -> tuple:
    """`low` and `high` checked against each other and the dtype's [lowest, highest), then
    clamped to it (and rounded up for integer dtypes)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype in _FLOATING_OR_COMPLEX:
        warnings.warn(
            "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
            "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
            FutureWarning, stacklevel=3,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} "
            f"only supports [{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype not in _FLOATING_OR_COMPLEX:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, memory_format=None):
    """A tensor of `shape` (ints, or one sequence) filled with random values of `dtype`:
    `noncontiguous` gives a strided view, `exclude_zero` replaces zeros by the smallest
    positive value (1 for integers)."""
    from dyngrad.ops.complex import view_as_real
    from dyngrad.ops.creation import empty
    from dyngrad.ops.random import randint

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
            f"noncontiguous={noncontiguous!r} and memory_format={memory_format}"
        )
    if requires_grad and dtype not in _FLOATING_OR_COMPLEX:
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, but got "
            f"dtype={dtype}"
        )
    noncontiguous = noncontiguous and functools.reduce(lambda x, y: x * y, shape, 1) > 1
    if noncontiguous:  # twice the last dim, every other element kept below
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is _dtype.bool_:
        low, high = _bounds(low, high, dtype, 0, 2, 0, 2)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _INTEGRAL:
        info = xp.iinfo(dtype.np)
        # int64's exclusive bound stays at its max: randint cannot draw 2**63 - 1
        highest = int(info.max) + (1 if dtype is not _dtype.int64 else 0)
        low, high = _bounds(low, high, dtype, int(info.min), highest, -9, 10)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _FLOATING_OR_COMPLEX:
        finfo = xp.finfo(dtype.np)
        low, high = _bounds(low, high, dtype, float(finfo.min), float(finfo.max), -9, 9)
        result = empty(shape, device=device, dtype=dtype)
        target = view_as_real(result) if dtype.is_complex else result
        if high - low >= float(finfo.max):  # the range itself overflows: draw half of it
            target.uniform_(low / 2, high / 2).mul_(2)
        else:
            target.uniform_(low, high)
    else:
        raise TypeError(
            f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). To "
            "request support, file an issue at: https://github.com/pytorch/pytorch/issues"
        )
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = (1 if dtype not in _FLOATING_OR_COMPLEX
                               else float(xp.finfo(dtype.np).tiny))
    if dtype in _FLOATING_OR_COMPLEX:
        result.requires_grad = requires_grad
    return result
