"""Questions about a tensor rather than computations on it: type and layout queries, the flags
that are constant for a dense CPU tensor, `typename`, and the torch-level forms of `detach`.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.ops._core import check_tensor, method

__all__ = [
    "is_tensor", "is_storage", "numel", "is_floating_point", "is_signed", "is_nonzero",
    "is_same_size", "is_inference", "isreal", "typename", "get_device", "detach", "detach_",
    "is_distributed",
]

# Flags PyTorch keeps for other layouts and backends: always False for a dense CPU tensor.
for _name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested",
              "is_xla", "is_mps", "is_ipu", "is_maia", "is_vulkan", "is_xpu", "is_mtia"):
    setattr(Tensor, _name, property(lambda self: False))
Tensor.is_cpu = property(lambda self: True)
Tensor.name = property(lambda self: None)  # named tensors are not supported


def is_tensor(obj, /) -> bool:
    return isinstance(obj, Tensor)


def is_storage(obj, /) -> bool:
    """Always False: dyngrad has no storage objects (a tensor's memory is a NumPy array)."""
    return False


def _checked(fname: str):
    """`torch.<fname>(input)`, the Tensor method with PyTorch's check of the argument."""

    def fn(input):
        check_tensor(input, fname)
        return getattr(Tensor, fname)(input)

    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"torch.{fname}(t): t.{fname}()."
    return fn


@method("is_signed")
def _is_signed(self) -> bool:
    return self._data.dtype.kind in "ifc"


@method("is_nonzero")
def _is_nonzero(self) -> bool:
    """The single element as a bool (NaN is nonzero)."""
    n = self._data.size
    if n != 1:
        what = "no values" if n == 0 else "more than one value"
        raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
    return bool(self._data.reshape(()))


@method("is_same_size")
def _is_same_size(self, other) -> bool:
    check_tensor(other, "is_same_size", "other", 1)
    return self._data.shape == other._data.shape


@method("isreal")
def _isreal(self) -> Tensor:
    """True where the imaginary part is zero (everywhere for real dtypes)."""
    a = self._data
    return Tensor._make(a.imag == 0 if a.dtype.kind == "c" else xp.ones(a.shape, bool))


@method("get_device")
def _get_device(self) -> int:
    """-1: the CPU (CUDA tensors would give their index)."""
    return -1


@method("is_distributed")
def _is_distributed(self) -> bool:
    return False


numel = _checked("numel")
is_floating_point = _checked("is_floating_point")
is_signed = _checked("is_signed")
is_nonzero = _checked("is_nonzero")
is_inference = _checked("is_inference")
isreal = _checked("isreal")
get_device = _checked("get_device")
detach = _checked("detach")
detach_ = _checked("detach_")
is_distributed = _checked("is_distributed")


def is_same_size(input, other) -> bool:
    check_tensor(input, "is_same_size")
    check_tensor(other, "is_same_size", "other", 2)
    return input._data.shape == other._data.shape


def typename(obj, /) -> str:
    """'torch.FloatTensor' for tensors; the qualified name of anything else's type."""
    if isinstance(obj, Tensor):
        return obj.type()
    owner = obj if hasattr(obj, "__qualname__") else type(obj)
    module = getattr(owner, "__module__", "") or ""
    return owner.__qualname__ if module in ("", "builtins") else f"{module}.{owner.__qualname__}"


@method("type_as")
def type_as(self, other) -> Tensor:
    """self cast to other's dtype (self itself when they match)."""
    check_tensor(other, "type_as", "other", 1)
    return self.to(other.dtype)


@method("to_dense")
def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
    """A dense tensor is its own dense form (cast when `dtype` is given)."""
    return self if dtype is None else self.to(dtype)


@method("is_set_to")
def is_set_to(self, tensor) -> bool:
    """Both view the same memory with the same sizes and strides."""
    check_tensor(tensor, "is_set_to", "tensor", 1)
    a, b = self._data, tensor._data
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


# --- dim_order ---------------------------------------------------------------------------------
_AMBIGUOUS = ("The tensor does not have unique dim order, or cannot map to exact one of the given "
              "memory formats.")
_FORMATS = ("torch.contiguous_format", "torch.channels_last", "torch.preserve_format")


def _dense_in(shape: tuple, strides: tuple, order) -> bool:
    """Whether dims in `order` (outermost first) are laid out densely, size-1 dims aside."""
    expected = 1
    for d in reversed(order):
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def _in_format(shape: tuple, strides: tuple, fmt: str) -> bool:
    if fmt == "torch.contiguous_format":
        return _dense_in(shape, strides, range(len(shape)))
    return fmt == "torch.channels_last" and len(shape) == 4 and _dense_in(
        shape, strides, (0, 2, 3, 1))


def _order_cmp(shape: tuple, strides: tuple, a: int, b: int) -> int:
    """1 when dim a lies inside dim b in memory, -1 when outside, 0 when it cannot be told."""
    sa, sb = strides[a], strides[b]
    if sa == 0 or sb == 0:
        return 0
    if sa == sb:
        return 0 if _ge(shape[b], shape[a]) else 1
    return -1 if _ge(sb, sa) else 1


def _ge(a: int, b: int) -> bool:
    return b == 0 or a != 0 and (a >= b or a % b == 0)


@method("dim_order")
def dim_order(self, *, ambiguity_check=False) -> tuple:
    """The dims from outermost to innermost in memory (PyTorch's rules for ties)."""
    checks = ambiguity_check if isinstance(ambiguity_check, list) else []
    if not isinstance(ambiguity_check, bool | list) or any(f not in _FORMATS for f in checks):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory formats.")
    shape, strides = self._data.shape, self.stride()
    nd = len(shape)
    if ambiguity_check is not False:
        multiple = any(s == t for s, t in zip(strides, strides[1:], strict=False)) or 1 in shape
        if multiple and sum(_in_format(shape, strides, f) for f in checks) != 1:
            raise RuntimeError(_AMBIGUOUS)
    if nd <= 1:
        return tuple(range(nd))
    contiguous = _in_format(shape, strides, "torch.contiguous_format")
    channels_last = _in_format(shape, strides, "torch.channels_last")
    if contiguous != channels_last:
        return tuple(range(nd)) if contiguous else (0, *range(2, nd), 1)
    perm = list(range(nd - 1, -1, -1))  # innermost first while sorting
    for i in range(1, nd):
        j = i
        for k in range(i - 1, -1, -1):
            c = _order_cmp(shape, strides, perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    if ambiguity_check is not False and any(
        _order_cmp(shape, strides, perm[i], perm[i + 1]) != -1 for i in range(nd - 1)
    ):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(reversed(perm))
