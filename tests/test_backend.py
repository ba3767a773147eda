"""The backend namespace's helpers: typed constants for the hot formulas."""

import numpy as np
import pytest

import dyngrad
from dyngrad._backend import ONE, ZERO, scalar_operand


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


@pytest.mark.parametrize("dt", ["float16", "float32", "float64", "complex64", "complex128"])
def test_scalar_operands_give_numpys_own_results(dt):
    """A Python number as a cached 0-dim array: the same result NumPy gives the number itself
    (NEP 50 casts it to the array's dtype), for awkward values too; zeros and nan are passed
    through (0.0 and -0.0 are one dict key, nan matches no key)."""
    a = np.array([1.5, -2.25, 3e-3], dt)
    for v in (0.5, 1.01, -3, 2**40, 1e39, 1e-50, 1 / 3, 70000):
        c = scalar_operand(v, a.dtype)
        assert c.dtype == a.dtype and c.ndim == 0 and not c.flags.writeable
        assert scalar_operand(v, a.dtype) is c  # cached
        with np.errstate(all="ignore"):
            for op in (np.add, np.subtract, np.multiply, np.divide):
                np.testing.assert_array_equal(op(a, c), op(a, v))
    for v in (0.0, -0.0, 0, float("nan")):
        assert scalar_operand(v, a.dtype) is v


def test_scalar_operands_keep_the_sign_of_zero():
    x = dyngrad.tensor([1.0, -1.0])
    assert str(x * -0.0) == "tensor([-0., 0.])"
    assert str(x * 0.0) == "tensor([0., -0.])"
    assert (x + float("nan")).isnan().all()
