"""`nn.LinearCrossEntropyOptions`: the settings that opt `linear_cross_entropy` into its chunked
path (the batch processed a few rows at a time, so the (N, C) logits never exist at once)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from dyngrad import _dtype

__all__ = ["LinearCrossEntropyOptions"]

# What "auto" resolves to per (device type, input dtype), as in PyTorch; other pairs (every one
# on the CPU but float16, CUDA being absent) take the fallback.
_AUTO_DEFAULTS = {("cpu", _dtype.float16): ("accurate", "aspect_ratio")}
_AUTO_FALLBACK = ("compact", "aspect_ratio:2")
# PyTorch also accepts bfloat16, which dyngrad lacks.
_ACC_DTYPES = (_dtype.float16, _dtype.float32, _dtype.float64)


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """How the chunked `linear_cross_entropy` runs: rows per chunk (given, or picked by
    `chunking_method` from the shapes), the precision policy and accumulation dtype, and whether
    the scalar reductions may be backpropagated more than once."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: _dtype.dtype | None = None

    def __post_init__(self):
        """PyTorch's checks of each field, with its messages."""
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            if not sep:
                factor = "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None
                or (isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError(
                f"batch_chunk_size must be positive int or None, got {self.batch_chunk_size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in _ACC_DTYPES:
            raise ValueError(
                "acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, "
                f"torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op "
                "pick automatically.")

    def _compute_batch_chunk_size(self, num_batches: int, in_features: int, num_classes: int,
                                  method: str | None = None) -> int:
        """Rows per chunk for "aspect_ratio[:N]": a chunk's logits as large as the whole input
        (rounded up to a power of two), divided by N."""
        method = str(method if method is not None else self.chunking_method)
        factor = int(method.split(":", 1)[1]) if ":" in method else 1
        target = -(-num_batches // -(-num_classes // in_features))
        return min((1 << (target - 1).bit_length()) // factor, num_batches)

    def _adjust(self, num_batches, in_features, num_classes, dtype, device=None):
        """These options with "auto" and None resolved for one call (shapes, input dtype and
        device; device None takes the fallback picks), as PyTorch resolves them."""
        acc_policy, chunking_method = self.acc_policy, self.chunking_method
        if chunking_method == "auto" and self.batch_chunk_size is not None:
            chunking_method = None  # an explicit size wins over the automatic pick
        if "auto" in (acc_policy, chunking_method):
            key = None if device is None else (device.type, dtype)
            ap, cm = _AUTO_DEFAULTS.get(key, _AUTO_FALLBACK)
            acc_policy = ap if acc_policy == "auto" else acc_policy
            chunking_method = cm if chunking_method == "auto" else chunking_method
        if self.batch_chunk_size is None:
            batch_chunk_size = num_batches
        else:
            batch_chunk_size = min(self.batch_chunk_size, num_batches)
        if chunking_method is not None:
            batch_chunk_size = self._compute_batch_chunk_size(
                num_batches, in_features, num_classes, chunking_method)
            if self.batch_chunk_size is not None and self.batch_chunk_size != batch_chunk_size:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method "
                    f"('{chunking_method}') give different chunk sizes ({self.batch_chunk_size} "
                    f"vs {batch_chunk_size}); pass only one.")
        acc_dtype = self.acc_dtype
        if acc_dtype is None:
            # "auto" accumulates float16 in float32 on the CPU (PyTorch's mixed-precision mm)
            cpu_half = (self.acc_policy == "auto" and dtype is _dtype.float16
                        and device is not None and device.type == "cpu")
            acc_dtype = _dtype.float32 if cpu_half else dtype
        return dataclasses.replace(self, acc_policy=acc_policy, chunking_method=chunking_method,
                                   batch_chunk_size=max(1, batch_chunk_size), acc_dtype=acc_dtype)
