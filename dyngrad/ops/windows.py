"""Window functions for spectral analysis: hann, hamming, blackman, bartlett and kaiser.

A periodic window (the default) is the symmetric window one sample longer, without its last
sample. Values are computed in float64 and cast to the requested floating dtype.
"""

from __future__ import annotations

import math

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._device import check_device
from dyngrad._tensor import _c_name
from dyngrad.ops.creation import _new_tensor

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def _window(name: str, window_length, periodic: bool, dtype, device, requires_grad, values):
    """A window of `values(n, m)` at n = 0 .. length - 1 for a symmetric window spanning m."""
    if type(window_length) is not int:
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    check_device(device)
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    if d.np.kind == "c":
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{d._short}'")
    if d.np.kind != "f":
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: TensorOptions(dtype={_c_name(d)}, "
            "device=cpu, layout=Strided (default), requires_grad=false (default), "
            "pinned_memory=false, memory_format=(nullopt))"
        )
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length <= 1:
        return _new_tensor(xp.ones(window_length, d.np), requires_grad)
    n = xp.arange(window_length, dtype=xp.float64)
    m = window_length if periodic else window_length - 1  # the symmetric window's last index
    return _new_tensor(values(n, m).astype(d.np), requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi n / m)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: alpha - beta * xp.cos(2 * math.pi * n / m))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / m)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 0.5 - 0.5 * xp.cos(2 * math.pi * n / m))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / m) + 0.08 cos(4 pi n / m)."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 0.42 - 0.5 * xp.cos(2 * math.pi * n / m)
                   + 0.08 * xp.cos(4 * math.pi * n / m))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """The triangle 1 - |2 n / m - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 1 - xp.abs(2 * n / m - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - (2 n / m - 1)^2)) / I0(beta)."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: xp.i0(beta * xp.sqrt(xp.clip(1 - (2 * n / m - 1) ** 2, 0, None)))
                   / xp.i0(beta))
