"""`torch.finfo` and `torch.iinfo`: the numerical limits of floating and integer dtypes."""

from __future__ import annotations

from dyngrad import _dtype
from dyngrad._backend import xp

__all__ = ["finfo", "iinfo"]


def _check(type, name: str) -> _dtype.dtype:  # noqa: A002 - PyTorch's argument name
    if not isinstance(type, _dtype.dtype):
        raise TypeError(f"{name}(): argument 'type' (position 1) must be torch.dtype, not "
                        f"{type.__class__.__name__}")
    return type


class finfo:  # noqa: N801 - torch's name
    """bits, eps, max, min, tiny (= smallest_normal) and resolution of a floating dtype (of the
    real part for a complex one); the default dtype when none is given."""

    __hash__ = None

    def __init__(self, type=None):  # noqa: A002
        d = _dtype.get_default_dtype() if type is None else _check(type, "finfo")
        if not (d.is_floating_point or d.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        d = d.to_real()
        info = xp.finfo(d.np)
        self.bits = info.bits
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -info.precision
        self.dtype = d.name

    def __eq__(self, other) -> bool:
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - torch's name
    """bits, min and max of an integer dtype."""

    __hash__ = None

    def __init__(self, type):  # noqa: A002
        d = _check(type, "iinfo")
        if d is _dtype.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.category >= 2:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = xp.iinfo(d.np)
        self.bits, self.min, self.max, self.dtype = info.bits, int(info.min), int(info.max), d.name

    def __eq__(self, other) -> bool:
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
