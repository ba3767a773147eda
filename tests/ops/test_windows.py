"""dyngrad/ops/windows.py against PyTorch: hann, hamming, blackman, bartlett and kaiser windows,
periodic and symmetric, every length edge, dtypes, requires_grad and errors."""

import pytest

from tests.autograd.common import both
from tests.harness import check_error

NAMES = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", NAMES)
def test_windows(name):
    def prog(lib):
        fn = getattr(lib, name)
        out = []
        for n in (0, 1, 2, 5, 8, 33):
            out += [fn(n), fn(n, False), fn(n, periodic=True, dtype=lib.float64)]
        out.append(fn(4, dtype=lib.float64, requires_grad=True))
        return out

    both(prog)


@pytest.mark.parametrize("name", NAMES)
def test_float16(name):
    """PyTorch computes half windows in half precision, dyngrad in float64 rounded once: the
    values may differ by one float16 ulp (2**-11 relative)."""
    both(lambda lib: [getattr(lib, name)(n, p, dtype=lib.float16)
                      for n in (1, 6, 9) for p in (True, False)], rtol=2e-3, atol=1e-3)


def test_extra_parameters():
    both(lambda lib: [lib.hamming_window(7, False, 0.5, 0.4), lib.hamming_window(7, True, 0.6),
                      lib.kaiser_window(9, False, 5.0), lib.kaiser_window(9, True, 0.0),
                      lib.kaiser_window(6, beta=3.0, periodic=False)])


ERRORS = {
    **{f"{n}_negative": (lambda t, n=n: getattr(t, n)(-1)) for n in NAMES},
    **{f"{n}_long": (lambda t, n=n: getattr(t, n)(3, dtype=t.long)) for n in NAMES},
    "int32": lambda t: t.bartlett_window(3, dtype=t.int32),
    "complex": lambda t: t.hann_window(3, True, dtype=t.complex64),
    "float_length": lambda t: t.hann_window(2.5),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])
