"""`torch.types`: the type aliases PyTorch's annotations use (`Number`, `_size`, `Device`, ...),
so that code annotated with them imports."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, TypeAlias

from dyngrad._device import device
from dyngrad._dtype import dtype
from dyngrad._size import Size
from dyngrad._tensor import Tensor

__all__ = ["Number", "Device", "FileLike"]

_bool, _bytes, _complex, _float, _int, _str = bool, bytes, complex, float, int, str
_device, _dtype = device, dtype

_TensorOrTensors: TypeAlias = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors: TypeAlias = Tensor | Sequence[Tensor | None]
_size: TypeAlias = Size | list[int] | tuple[int, ...]

Number: TypeAlias = int | float | bool
_Number = (int, float, bool)
Device: TypeAlias = _device | str | int | None
FileLike: TypeAlias = str | os.PathLike[str] | IO[bytes]
