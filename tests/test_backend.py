"""The backend namespace's helpers: typed constants for the hot formulas."""

import numpy as np
import pytest

import dyngrad
from dyngrad._backend import ONE, ZERO


@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64, np.complex64, np.complex128])
def test_constants_take_the_arrays_dtype(dt):
    a = np.linspace(-2, 2, 6).astype(dt)
    one, zero = ONE[a.dtype], ZERO[a.dtype]
    assert one.dtype == a.dtype and one.shape == () and one == 1 and zero == 0
    assert not one.flags.writeable  # shared between calls: nobody may write into it
    # the same values and dtype as NumPy's Python-scalar arithmetic gives
    for got, want in [(one - a * a, 1 - a * a), (np.maximum(a.real, ZERO[a.real.dtype]),
                                                  np.maximum(a.real, 0))]:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_constants_stay_numbers_for_other_dtypes():
    for key in (np.dtype(np.int64), np.dtype(np.bool_), dyngrad.float32):
        assert ONE[key] == 1 and type(ONE[key]) is int and type(ZERO[key]) is int
