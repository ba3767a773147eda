"""`torch.backends.cudnn`: cuDNN's flags, with PyTorch's defaults. dyngrad has no cuDNN, so
`is_available()` is False and the flags change nothing, but they are kept and checked as PyTorch
keeps them (`torch.backends.cudnn.benchmark = True` works; `= 1` is PyTorch's RuntimeError)."""

from __future__ import annotations

import sys

from dyngrad.backends._flags import FlagModule, bool_flag, install, set_flags

__all__ = ["is_available", "version", "is_acceptable", "flags"]

_flags = {"enabled": True, "benchmark": False, "deterministic": False, "allow_tf32": True}
benchmark_limit = None  # cuDNN's algorithm search limit; unused without cuDNN


def is_available() -> bool:
    return False


def version() -> None:
    """cuDNN's version: None, as without cuDNN."""
    return None


def is_acceptable(tensor) -> bool:
    """Whether cuDNN can take `tensor`: never (a CUDA tensor is needed)."""
    if not _flags["enabled"]:
        return False
    tensor.device  # noqa: B018 - PyTorch reads it: a non-tensor fails with its AttributeError
    return False


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """Context manager: set the flags for the block, then restore them (PyTorch ignores
    `benchmark_limit` without cuDNN; `fp32_precision` and `depthwise_kernel` are accepted and
    ignored)."""
    return set_flags(sys.modules[__name__], enabled=enabled, benchmark=benchmark,
                     deterministic=deterministic, allow_tf32=allow_tf32)


class _CudnnModule(FlagModule):
    enabled = bool_flag("enabled", "set_enabled_cudnn")
    benchmark = bool_flag("benchmark", "set_benchmark_cudnn")
    deterministic = bool_flag("deterministic", "set_deterministic_cudnn")
    allow_tf32 = bool_flag("allow_tf32", "set_allow_tf32_cublas")  # PyTorch's message says cublas


install(__name__, _CudnnModule)
