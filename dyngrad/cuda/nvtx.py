"""`torch.cuda.nvtx`: NVTX ranges for NVIDIA's profilers. Without CUDA each call raises PyTorch's
RuntimeError (`range` when entered)."""

from __future__ import annotations

import contextlib

__all__ = ["range_push", "range_pop", "range_start", "range_end", "mark", "range"]

_MISSING = "NVTX functions not installed. Are you sure you have a CUDA build?"


def range_push(msg):
    raise RuntimeError(_MISSING)


def range_pop():
    raise RuntimeError(_MISSING)


def range_start(msg) -> int:
    raise RuntimeError(_MISSING)


def range_end(range_id) -> None:
    raise RuntimeError(_MISSING)


def mark(msg):
    raise RuntimeError(_MISSING)


@contextlib.contextmanager
def range(msg, *args, **kwargs):  # noqa: A001 - torch's name
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
