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



class Constant(dict):
    """`ONE[x.dtype]`: a number as a 0-dim array of x's floating or complex NumPy dtype, or as
    the plain number for any other dtype (tensors under `create_graph`, integers).

    NumPy resolves a Python scalar's type on every ufunc call (~0.2 us, most of a small array's
    whole call) and an operand of the array's own dtype not at all. The values are the same:
    NumPy casts a Python number to the array's dtype anyway (NEP 50 weak scalars).
    """

    def __init__(self, value):
        super().__init__()
        self.value = value

    def __missing__(self, dtype):
        if isinstance(dtype, xp.dtype) and dtype.kind in "fc":
            c = xp.array(self.value, dtype)
            c.flags.writeable = False
        else:
            c = self.value
        self[dtype] = c
        return c


ZERO, ONE = Constant(0), Constant(1)


class _Operands(dict):
    """dtype -> {Python number: the number as a read-only 0-dim array of that dtype}."""

    def __missing__(self, dtype):
        cache = self[dtype] = {}
        return cache


_operands = _Operands()


def scalar_operand(v, dtype):
    """A Python number operand of a floating/complex array, as a 0-dim array of its dtype (for
    the same ~0.2 us as `Constant`; the same value, NEP 50 casting the number anyway). Cached
    per dtype, except 0 (0.0 and -0.0 are one key) and nan (never equal to a key)."""
    cache = _operands[dtype]
    c = cache.get(v)
    if c is None:
        if v != v or not v:
            return v
        if len(cache) >= 1024:  # programs that make up new numbers as they go
            cache.clear()
        c = cache[v] = xp.array(v, dtype)
        c.flags.writeable = False
    return c
