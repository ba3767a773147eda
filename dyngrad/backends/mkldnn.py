"""`torch.backends.mkldnn`: oneDNN's flags, with PyTorch's defaults. dyngrad does not use oneDNN
(NumPy computes everything), so `is_available()` is False; the flags are kept and checked."""

from __future__ import annotations

import sys

from dyngrad.backends._flags import FlagModule, bool_flag, install, set_flags

__all__ = ["is_available", "flags", "verbose", "VERBOSE_OFF", "VERBOSE_ON", "VERBOSE_ON_CREATION"]

VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2
_flags = {"enabled": True, "deterministic": False}


def is_available() -> bool:
    """False: dyngrad never calls oneDNN (PyTorch's CPU build says True)."""
    return False


class verbose:
    """Context manager for oneDNN's verbose log; with no oneDNN, off is the only level."""

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        if self.level != VERBOSE_OFF:
            raise AssertionError(
                "Failed to set MKLDNN into verbose mode. Please consider to disable this verbose "
                "scope."
            )
        return self

    def __exit__(self, *exc) -> bool:
        return False


def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    """Context manager: set the flags for the block, then restore them."""
    return set_flags(sys.modules[__name__], enabled=enabled, deterministic=deterministic)


class _MkldnnModule(FlagModule):
    enabled = bool_flag("enabled", "set_enabled_mkldnn")
    deterministic = bool_flag("deterministic", "set_deterministic_mkldnn")


install(__name__, _MkldnnModule)
