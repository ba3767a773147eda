"""Padding layers: constant (and zero), reflection, replication and circular padding of the last
1, 2 or 3 dims, each a thin module over `F.pad`."""

from __future__ import annotations

from dyngrad.nn import functional as F
from dyngrad.nn.modules._utils import _ntuple
from dyngrad.nn.modules.module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d"]


class _PadNd(Module):
    """`padding` (one int for every side, or (left, right, top, bottom, front, back) from the
    last dim backwards) applied by `F.pad` in `mode`."""

    _n = 1
    mode: str

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(2 * self._n)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    _n = 3


class _ZeroPad:
    """ConstantPadNd with value 0.0, printed with its padding alone."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    pass


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    pass


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    pass


class ReflectionPad1d(_PadNd):
    _n, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    _n, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    _n, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    _n, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    _n, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    _n, mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    """Circular padding checks the input's rank itself (with a ValueError, as PyTorch)."""

    mode = "circular"

    def forward(self, input):
        n = self._n
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    _n = 1


class CircularPad2d(_CircularPadNd):
    _n = 2


class CircularPad3d(_CircularPadNd):
    _n = 3
