"""dtypes and PyTorch's type-promotion rules.

A `dtype` wraps a NumPy dtype and carries PyTorch's name. Promotion follows PyTorch, not NumPy:
categories (bool < integer < floating < complex), then the tier of each operand
(dimensioned tensor > 0-dim tensor > Python scalar), and values are never inspected.
"""

from __future__ import annotations

import threading

import numpy as np

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, printed as PyTorch prints it (`torch.float32`)."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "category", "legacy", "_short")

    def __init__(self, name: str, np_dtype, category: int, legacy: str, short: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = name not in ("uint8", "bool")
        self.legacy = legacy
        self._short = short

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> dtype:
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> dtype:
        return {float16: complex64, float32: complex64, float64: complex128}.get(self, self)


float16 = dtype("float16", np.float16, _FLOAT, "HalfTensor", "Half")
float32 = dtype("float32", np.float32, _FLOAT, "FloatTensor", "Float")
float64 = dtype("float64", np.float64, _FLOAT, "DoubleTensor", "Double")
complex64 = dtype("complex64", np.complex64, _COMPLEX, "ComplexFloatTensor", "ComplexFloat")
complex128 = dtype("complex128", np.complex128, _COMPLEX, "ComplexDoubleTensor", "ComplexDouble")
uint8 = dtype("uint8", np.uint8, _INT, "ByteTensor", "Byte")
int8 = dtype("int8", np.int8, _INT, "CharTensor", "Char")
int16 = dtype("int16", np.int16, _INT, "ShortTensor", "Short")
int32 = dtype("int32", np.int32, _INT, "IntTensor", "Int")
int64 = dtype("int64", np.int64, _INT, "LongTensor", "Long")
bool_ = dtype("bool", np.bool_, _BOOL, "BoolTensor", "Bool")

ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool_)
FROM_NP = {d.np: d for d in ALL}
ALIASES = {"half": float16, "float": float32, "double": float64, "cfloat": complex64,
           "cdouble": complex128, "short": int16, "int": int32, "long": int64}


def _by_name(name: str) -> dtype:
    return next(d for d in ALL if d.name == name)


def from_numpy_dtype(np_dtype) -> dtype:
    """The dyngrad dtype of a NumPy dtype, or PyTorch's TypeError for unsupported ones."""
    try:
        return FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, "
            "and bool."
        ) from None


def as_dtype(d) -> dtype:
    """Accept a dyngrad dtype, a NumPy dtype or Python type (`float`, `int`, `bool`)."""
    if type(d) is dtype:
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128
    return from_numpy_dtype(d)


class _Defaults(threading.local):
    float_dtype = float32


_defaults = _Defaults()


def get_default_dtype() -> dtype:
    """The dtype of Python floats and of `torch.tensor([1.])`: float32 unless changed."""
    return _defaults.float_dtype


def set_default_dtype(d) -> None:
    """Set the default floating dtype (float32 or float64, as in PyTorch)."""
    d = as_dtype(d)
    if d not in (float32, float64, float16):
        raise TypeError("only floating-point types are supported as the default type")
    _defaults.float_dtype = d


def default_complex() -> dtype:
    return complex128 if _defaults.float_dtype is float64 else complex64


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both cast to, by PyTorch's table (int64 + float16 -> float16)."""
    if a is b:
        return a
    return _PROMOTE[a, b]


def _promote_slow(a: dtype, b: dtype) -> dtype:
    if a.category == b.category:
        return FROM_NP[np.promote_types(a.np, b.np)]
    hi, lo = (a, b) if a.category > b.category else (b, a)
    if hi.is_complex and lo is float64:
        return complex128
    return hi


_PROMOTE = {(a, b): _promote_slow(a, b) for a in ALL for b in ALL}


def scalar_dtype(value) -> dtype:
    """The dtype a Python (or NumPy) scalar takes part in promotion with."""
    if isinstance(value, bool | np.bool_):
        return bool_
    if isinstance(value, int | np.integer):
        return int64
    if isinstance(value, complex | np.complexfloating):
        return default_complex()
    return _defaults.float_dtype


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """PyTorch's combine_categories: a higher tier wins unless a lower one has a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type_of(dims, zeros, scalars) -> dtype:
    """Promote dtypes given by tier: dimensioned tensors, 0-dim tensors, Python scalars."""
    tiers = []
    for group in (dims, zeros, scalars):
        acc = None
        for d in group:
            acc = d if acc is None else promote_types(acc, d)
        tiers.append(acc)
    return _combine(tiers[0], _combine(tiers[1], tiers[2]))


def can_cast(from_: dtype, to: dtype) -> bool:
    """True unless the cast lowers the category (float -> int, complex -> float, int -> bool)."""
    return from_.category <= to.category
