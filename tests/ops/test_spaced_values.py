"""linspace, logspace and arange against PyTorch bit for bit: every dtype, few and many steps
(odd, even, one vector and past the 32768-element grain), rising and falling ranges, int,
float, complex and 0-dim tensor ends (float16 ends round through float32, as c10::Half's do)."""

import re

import numpy as np
import pytest
import torch

import dyngrad

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]
COMPLEX = ["complex64", "complex128"]
STEPS = [0, 1, 2, 3, 7, 8, 9, 16, 17, 50, 1000]

REAL_ENDS = [(-1, 1), (-3.3, 7.1), (10, -2.5), (0, 1), (1 + 2**-11 + 2**-40, 2), (-1e3, 3.7)]
INT_ENDS = [(0, 100), (100, 3), (1, 7), (0, 127), (5, 5)]
COMPLEX_ENDS = [(-3.3 + 2j, 7.1 - 1.3j), (1j, -2), (0, 1), (-1, 2.5 + 0.5j)]


def same(fn, rtol=0.0):
    """fn(lib) gives the same dtype, shape and bits in dyngrad and torch (or the same error);
    `rtol`: values within it (complex powers: NumPy's, not glibc's cpow)."""
    try:
        theirs = fn(torch)
    except RuntimeError as e:
        with pytest.raises(type(e), match=re.escape(str(e))):
            fn(dyngrad)
        return
    ours = fn(dyngrad)
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    a, b = ours.numpy(), theirs.numpy()
    if rtol:
        np.testing.assert_allclose(a, b, rtol=rtol)
        return
    np.testing.assert_array_equal(a, b)
    bits = f"u{a.itemsize // 2 if a.dtype.kind == 'c' else a.itemsize}"
    np.testing.assert_array_equal(a.view(bits), b.view(bits))  # signs of zeros and NaNs too


def same_call(op, *args, dtype, rtol=0.0, **kwargs):
    """lib.op(*args, dtype=lib.<dtype>, **kwargs) is the same in both libraries."""
    same(lambda L: getattr(L, op)(*args, dtype=getattr(L, dtype), **kwargs), rtol)


def ends_for(dtype):
    if dtype in COMPLEX:
        return COMPLEX_ENDS
    return INT_ENDS if dtype in INTS else REAL_ENDS


@pytest.mark.parametrize("dtype", FLOATS + INTS + COMPLEX)
def test_linspace(dtype):
    for start, end in ends_for(dtype):
        for steps in STEPS:
            same_call("linspace", start, end, steps, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "complex64",
                                   "complex128"])
def test_linspace_many_steps(dtype):
    start, end = ends_for(dtype)[1]
    for steps in (4097, 100001):
        same_call("linspace", start, end, steps, dtype=dtype)


def test_linspace_default_dtypes_and_tensor_ends():
    same(lambda L: L.linspace(-3.3, 7.1, 1000))
    same(lambda L: L.linspace(L.tensor(-3.3), L.tensor(7.1), 999))
    same(lambda L: L.linspace(L.tensor(2, dtype=L.float64), 0.1, 17))
    same(lambda L: L.linspace(L.tensor(-7), L.tensor(5), 33, dtype=L.int32))
    same(lambda L: L.linspace(1j, 2, 9))
    same(lambda L: L.linspace(-0.0, -1.0, 5))
    same(lambda L: L.linspace(0, 1, 200001, dtype=L.float16))  # NaN where half(k) is inf


def test_linspace_complex_ends_need_a_complex_dtype():
    for lib in (dyngrad, torch):
        with pytest.raises(RuntimeError, match="can't be safely cast to passed dtype Double"):
            lib.linspace(0, 1j, 3, dtype=lib.float64)


@pytest.mark.parametrize("dtype", FLOATS + INTS + COMPLEX)
def test_logspace(dtype):
    bases = [10.0, 2.0, 0.5, 1.5] + ([] if dtype in COMPLEX else [-2.0])
    for start, end in ends_for(dtype)[:4]:
        for base in bases:
            for steps in (0, 1, 2, 3, 8, 17, 50):
                same_call("logspace", start, end, steps, base=base, dtype=dtype,
                          rtol=COMPLEX_POW_RTOL.get(dtype, 0.0))


COMPLEX_POW_RTOL = {"complex64": 1e-6, "complex128": 1e-14}


def test_logspace_overflow_and_wide_ranges():
    same(lambda L: L.logspace(-20, 40, 1000, dtype=L.float32))
    same(lambda L: L.logspace(-300, 310, 1001, dtype=L.float64))
    same(lambda L: L.logspace(0, 25, 100, dtype=L.int32))  # out of range: C's int32 cast
    same(lambda L: L.logspace(0, 25, 100, dtype=L.int8))
    same(lambda L: L.logspace(0, 25, 100, dtype=L.int64))
    same(lambda L: L.logspace(0.1, 0.7, 100001, dtype=L.float16))
    same(lambda L: L.logspace(-2 + 1j, 3 - 2j, 1000, base=3.7, dtype=L.complex64), 1e-6)
    same(lambda L: L.logspace(0.5 + 1j, 1, 1, base=3, dtype=L.complex64), 1e-6)
    same(lambda L: L.logspace(L.tensor(0.5), L.tensor(2.5), 1, base=-2))


ARANGES = [(0, 1, 0.1), (-3.3, 7.1, 0.7), (0, 100, 0.37), (1.5, -2.5, -0.3), (0, 1, 0.001),
           (-5, 5, 0.013), (0.1, 9.9, 0.03), (0, 10, 1), (-7, 250, 1.5)]


@pytest.mark.parametrize("dtype", FLOATS)
def test_arange_float_steps(dtype):
    for start, end, step in ARANGES:
        same_call("arange", start, end, step, dtype=dtype)
    same(lambda L: L.arange(-3.3, 7.1, 0.7))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_arange_past_the_grain_follows_the_thread_count(threads):
    saved = dyngrad.get_num_threads(), torch.get_num_threads()
    try:
        for lib in (dyngrad, torch):
            lib.set_num_threads(threads)
        same(lambda L: L.arange(0, 1, 1e-5, dtype=L.float64))
        same(lambda L: L.arange(-50.3, 50, 0.0013, dtype=L.float32))
    finally:
        dyngrad.set_num_threads(saved[0])
        torch.set_num_threads(saved[1])


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
def test_range_counts_like_torch():
    """torch.range's length is (end - start) / step + 1 truncated, computed in double."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        start = round(float(rng.uniform(-10, 10)), int(rng.integers(0, 4)))
        step = round(float(rng.uniform(0.01, 3)), int(rng.integers(1, 4))) * rng.choice([1, -1])
        end = round(start + step * float(rng.uniform(0, 40)), int(rng.integers(0, 4)))
        same(lambda L, a=start, b=end, s=step: L.range(a, b, s))
        same(lambda L, a=start, b=end, s=step: L.range(a, b, s, dtype=L.float64))
