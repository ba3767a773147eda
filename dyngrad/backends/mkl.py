"""`torch.backends.mkl`: dyngrad does not call MKL itself, so `is_available()` is False and only
verbose level 0 can be entered."""

from __future__ import annotations

__all__ = ["is_available", "verbose", "VERBOSE_OFF", "VERBOSE_ON"]

VERBOSE_OFF, VERBOSE_ON = 0, 1


def is_available() -> bool:
    """False: dyngrad never calls MKL (PyTorch's CPU build says True)."""
    return False


class verbose:
    """Context manager for MKL's verbose log; with no MKL, off is the only level."""

    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        if self.enable != VERBOSE_OFF:
            raise AssertionError(
                "Failed to set MKL into verbose mode. Please consider to disable this verbose "
                "scope."
            )
        return self

    def __exit__(self, *exc) -> bool:
        return False
