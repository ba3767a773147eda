"""Elementwise Python callbacks on CPU tensors: `apply_`, `map_` and `map2_`.

Each element is passed as a Python number in row-major order of the indices, and the callback's
result is converted back to the tensor's dtype with PyTorch's conversion rules. These are not
differentiable, so PyTorch refuses tensors that require grad; like PyTorch they do not count as
in-place writes (the version counter is left alone).
"""

from __future__ import annotations

import operator

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.ops._core import check_tensor, method


def _to_element(value, dtype):
    """A callback's result as a `dtype` element (PyTorch's unpacking of Python numbers)."""
    kind = dtype.kind
    if kind == "c":
        return complex(value)
    if kind == "f":
        if isinstance(value, str | bytes) or not hasattr(value, "__float__") and not hasattr(
                value, "__index__"):
            raise TypeError(f"must be real number, not {type(value).__name__}")
        return float(value)
    v = int(value) if isinstance(value, float) else operator.index(value)
    if not -(2 ** 63) <= v < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    if kind in "iu":
        info = xp.iinfo(dtype)
        if v > info.max or (v < -info.max if kind == "u" else v < info.min):
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
        return xp.array(v).astype(dtype)  # wraps, as C++ does
    return bool(v)


def _run(self: Tensor, name: str, fn, others: tuple) -> Tensor:
    if self._requires_grad or any(o._requires_grad for o in others):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    a = self._data
    columns = [a] + [o.expand(a.shape)._data for o in others]
    for index in xp.ndindex(a.shape):
        a[index] = _to_element(fn(*(c[index].item() for c in columns)), a.dtype)
    return self


def _check_same_dtype(self: Tensor, other: Tensor, name: str, what: str) -> None:
    if other.dtype is not self.dtype:
        raise TypeError(f"{name}: expected {self.type()} for {what} (got {other.type()})")


@method("apply_")
def apply_(self: Tensor, callable) -> Tensor:  # noqa: A002 - PyTorch's name
    """Replace each element x by callable(x)."""
    return _run(self, "apply_", callable, ())


@method("map_")
def map_(self: Tensor, other, callable) -> Tensor:  # noqa: A002
    """Replace each element x by callable(x, y), y the matching element of `other` (broadcast)."""
    check_tensor(other, "map_", "other", 1)
    _check_same_dtype(self, other, "map_", "'other'")
    return _run(self, "map_", callable, (other,))


@method("map2_")
def map2_(self: Tensor, x, y, callable) -> Tensor:  # noqa: A002
    """Replace each element s by callable(s, x_i, y_i), x and y broadcast to self's shape."""
    check_tensor(x, "map2_", "x", 1)
    check_tensor(y, "map2_", "y", 2)
    _check_same_dtype(self, x, "map2_", "argument 'x'")
    _check_same_dtype(self, y, "map2_", "argument 'y'")
    return _run(self, "map2_", callable, (x, y))
