"""The one array namespace every op computes with.

Op code writes `xp.exp(a)`, never `numpy.exp(a)`, so a CuPy device can later swap this module's
`xp` (CuPy mirrors NumPy's API) without touching any op definition.
"""

import warnings

import numpy as xp

ndarray = xp.ndarray

# PyTorch returns inf and nan without a word. NumPy warns, so the hottest op paths call ufuncs bare
# and this filter drops the floating-point warnings those calls raise from dyngrad's own modules
# (free until a warning actually fires); `quiet` covers NumPy functions written in Python.
warnings.filterwarnings(
    "ignore",
    message=r"(overflow|invalid value|divide by zero|underflow) encountered",
    category=RuntimeWarning,
    module=r"dyngrad(\.|$)",
)

try:  # NumPy 2 keeps its error state in a context variable; setting it directly is 5x cheaper
    from numpy._core._ufunc_config import _extobj_contextvar as _errstate_var

    with xp.errstate(all="ignore"):
        _IGNORE = _errstate_var.get()
except ImportError:  # pragma: no cover - other NumPy versions or array libraries
    _errstate_var = None


def quiet(fn, *args):
    """`fn(*args)` with floating-point warnings off: PyTorch returns inf and nan silently.

    `with numpy.errstate(...)` costs more than a small ufunc itself, and this runs once per op.
    """
    if _errstate_var is None:
        with xp.errstate(all="ignore"):
            return fn(*args)
    token = _errstate_var.set(_IGNORE)
    try:
        return fn(*args)
    finally:
        _errstate_var.reset(token)


class quietly:
    """Context manager form of `quiet`, for a whole backward pass (entered once, not per op)."""

    def __enter__(self):
        if _errstate_var is None:
            self._ctx = xp.errstate(all="ignore")
            self._ctx.__enter__()
        else:
            self._token = _errstate_var.set(_IGNORE)

    def __exit__(self, *exc):
        if _errstate_var is None:
            self._ctx.__exit__(*exc)
        else:
            _errstate_var.reset(self._token)


__all__ = ["xp", "ndarray", "quiet", "quietly"]
