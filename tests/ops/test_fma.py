"""ops/_fma.py's fused multiply-add against exact rational arithmetic: one rounding of a * b + c,
ties to even, including the float32 cases where rounding the float64 sum again goes wrong."""

from fractions import Fraction

import numpy as np
import pytest

from dyngrad.ops._fma import fma


def exact(a, b, c, dtype):
    """a * b + c computed exactly, then rounded once to `dtype` (to nearest, ties to even)."""
    value = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    x = dtype(float(value))
    candidates = [np.nextafter(x, dtype(-np.inf)), x, np.nextafter(x, dtype(np.inf))]
    bits = np.uint32 if dtype == np.float32 else np.uint64
    return min(candidates, key=lambda y: (abs(Fraction(float(y)) - value),
                                          int(np.array(y).view(bits)) & 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_operands(dtype):
    rng = np.random.default_rng(0)
    a, b, c = ((rng.standard_normal(300) * 10.0 ** rng.integers(-5, 5, 300)).astype(dtype)
               for _ in range(3))
    got = fma(a, b, c, dtype)
    assert got.dtype == dtype
    assert [float(v) for v in got] == [float(exact(*t, dtype)) for t in zip(a, b, c, strict=True)]


def test_float32_double_rounding_tie():
    """a * b = 2**-24 (1 - 2**-46): the float64 sum with c = 1 + 2**-23 lands exactly halfway
    between two floats, though the exact sum lies below it; rounding twice would go up."""
    a, b, c = np.float32(1 + 2**-23), np.float32(2**-24 * (1 - 2**-23)), np.float32(1 + 2**-23)
    assert np.float32(float(a) * float(b) + float(c)) == np.float32(1 + 2**-22)  # the trap
    assert fma(a, b, c, np.float32) == exact(a, b, c, np.float32) == np.float32(1 + 2**-23)


def test_float64_past_dekkers_range_and_zero_signs():
    big = np.array([2.0**1000, -1.5 * 2.0**1010, 3.0])
    other = np.array([2.0**10, 2.0**5, -0.0])
    addend = np.array([-(2.0**1009), 2.0**1015, 0.0])
    got = fma(big, other, addend, np.float64)
    assert [float(v) for v in got] == [float(exact(*t, np.float64))
                                       for t in zip(big, other, addend, strict=True)]
    assert not np.signbit(got[2])  # -0 + +0 is +0, as C's fma gives
