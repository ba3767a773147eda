"""Making tensors: `tensor`, `from_numpy`, factories, legacy constructors, dtype casts, clone."""

from __future__ import annotations

import math
import warnings

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._device import check_device
from dyngrad._size import Size
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops._core import check_kernel, method, record
from dyngrad.ops._fma import fma as _fma
from dyngrad.ops.settings import get_num_threads

_make = Tensor._make


def _infer_dtype(data) -> _dtype.dtype:
    """PyTorch's inference: bool -> bool, int -> int64, float -> default, complex -> complex."""
    kinds = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            kinds.add(item.dtype)
        elif isinstance(item, xp.ndarray):
            kinds.add(_dtype.from_numpy_dtype(item.dtype))
        elif isinstance(item, list | tuple | range):
            stack.extend(item)
        elif isinstance(item, xp.generic):
            kinds.add(_dtype.from_numpy_dtype(item.dtype))
        elif isinstance(item, bool | int | float | complex):
            kinds.add(_dtype.scalar_dtype(item))
        elif isinstance(item, str):
            if item is data:
                raise TypeError("new(): invalid data type 'str'")
            raise ValueError("too many dimensions 'str'")
        else:
            raise RuntimeError(f"Could not infer dtype of {type(item).__name__}")
    if not kinds:
        return _dtype.get_default_dtype()
    out = None
    for d in kinds:
        out = d if out is None else _dtype.promote_types(out, d)
    return out


def _to_array(data, dtype: _dtype.dtype | None):
    if isinstance(data, Tensor):
        arr = data._data
        return arr.astype(dtype.np) if dtype is not None else arr.copy()
    if isinstance(data, xp.ndarray) and dtype is None:
        _dtype.from_numpy_dtype(data.dtype)
        return data.copy()
    if isinstance(data, list | tuple) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_values(data)
    if dtype is None:
        dtype = _infer_dtype(data)
    try:
        return xp.array(data, dtype=dtype.np)
    except ValueError as e:
        raise ValueError(str(e).replace("setting an array element with a sequence",
                                        "expected sequence of equal length")) from None


def _flat(data):
    for item in data:
        if isinstance(item, list | tuple):
            yield from _flat(item)
        else:
            yield item


def _nested_values(data):
    if isinstance(data, Tensor):
        return data._data.tolist() if data._data.ndim else data.item()
    if isinstance(data, list | tuple):
        return [_nested_values(d) for d in data]
    return data


def _new_tensor(arr, requires_grad: bool) -> Tensor:
    t = _make(arr)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        t._requires_grad = True
    return t


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (dtype inferred as PyTorch infers it)."""
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() "
            "or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    dtype = None if dtype is None else _dtype.as_dtype(dtype)
    return _new_tensor(_to_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Share memory with `data` when it already is a tensor or array of the right dtype."""
    check_device(device)
    dtype = None if dtype is None else _dtype.as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, xp.ndarray):
        if dtype is None or data.dtype == dtype.np:
            _dtype.from_numpy_dtype(data.dtype)
            return _make(data)
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (edits show up on both sides)."""
    if not isinstance(ndarray, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) "
        )
    if not ndarray.flags.writeable:
        warnings.warn(
            "The given NumPy array is not writable, and PyTorch does not support non-writable "
            "tensors. This means writing to this tensor will result in undefined behavior. You may "
            "want to copy the array to protect its data or make it writable before converting it "
            "to a tensor. This type of warning will be suppressed for the rest of this program.",
            UserWarning,
            stacklevel=2,
        )
    _dtype.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray)


def _size_args(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], list | tuple):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, int | xp.integer) and not (isinstance(s, Tensor) and s.ndim == 0):
            raise TypeError(
                "empty(): argument 'size' (position 1) must be tuple of ints, but found element of "
                f"type {type(s).__name__} at pos 0"
            )
        if int(s) < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {int(s)}: "
                f"{[int(v) for v in size]}"
            )
    return tuple(int(s) for s in size)


def _factory(fill, name: str):
    def factory(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False, memory_format=None) -> Tensor:
        if not size:
            raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
        check_device(device)
        d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
        return _new_tensor(fill(_size_args(size), d.np), requires_grad)

    return factory


zeros = _factory(xp.zeros, "zeros")
ones = _factory(xp.ones, "ones")
empty = _factory(xp.zeros, "empty")  # zero-filled: uninitialised memory buys nothing in NumPy


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """A tensor of `size` filled with `fill_value`; dtype inferred from the value."""
    check_device(device)
    d = _dtype.scalar_dtype(fill_value) if dtype is None else _dtype.as_dtype(dtype)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _new_tensor(xp.full(_size_args((size,)), convert_scalar(fill_value, d), d.np),
                       requires_grad)


_C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t", "float32": "float"}


def convert_scalar(v, d: _dtype.dtype):
    """A Python number as dtype `d` would hold it, with PyTorch's overflow error: an integer
    type takes a float inside its range and an int inside it (unsigned: -max..max, wrapped),
    float32 and complex64 refuse finite values (parts) past float's range, bool and the other
    floats take anything."""
    np_dt = d.np
    if np_dt.kind in "iu" and not isinstance(v, complex):
        info = xp.iinfo(np_dt)
        lo = info.min if np_dt.kind == "i" else 0 if isinstance(v, float) else -info.max
        if v != v or v in (math.inf, -math.inf) or not lo <= v <= info.max:
            raise RuntimeError(f"value cannot be converted to type {_C_TYPES[np_dt.name]} "
                               "without overflow")
        return xp.array(int(v), xp.int64).astype(np_dt)[()]
    if np_dt == xp.float32 and isinstance(v, float) and math.isfinite(v) and (
            abs(v) > float(xp.finfo(xp.float32).max)):
        raise RuntimeError("value cannot be converted to type float without overflow")
    if np_dt == xp.complex64 and isinstance(v, float | complex) and any(
            math.isfinite(p) and abs(p) > float(xp.finfo(xp.float32).max)
            for p in (v.real, v.imag)):
        raise RuntimeError(
            "value cannot be converted to type c10::complex<float> without overflow")
    return v


def _like(factory):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None, **kwargs) -> Tensor:
        d = input.dtype if dtype is None else dtype
        return factory(input._data.shape, *args, dtype=d, requires_grad=requires_grad, **kwargs)

    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
full_like = _like(full)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    return _new_tensor(xp.eye(n, n if m is None else m, dtype=d.np), requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
                requires_grad=False) -> Tensor:
    """Values from start (default 0) up to end, by step; int64 unless a float is involved.
    For integer dtypes, as PyTorch: start and step are truncated to integers first (the count
    still comes from the numbers as given, except for int64)."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        d = _dtype.int64
        if any(isinstance(v, float) for v in vals):
            d = _dtype.get_default_dtype()
    else:
        d = _dtype.as_dtype(dtype)
    check_kernel(d.np, "bc", "arange_cpu")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    start, end, step = vals
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if d.np.kind in "iu":
        xs, xe, xstep = int(start), int(end), int(step)
        if d is _dtype.int64:
            if xstep == 0:
                raise ValueError("step must be nonzero")
            sign = 1 if xstep > 0 else -1
            n = int((xe - xs + xstep - sign) / xstep)  # C's truncating division
        else:
            n = math.ceil((end - start) / step)
        data = (xs + xstep * xp.arange(max(n, 0), dtype=xp.int64)).astype(d.np)
        return _new_tensor(data, requires_grad)
    n = max(0, int(xp.ceil((end - start) / step)))
    return _new_tensor(_arange_floats(start, step, n, d.np), requires_grad)


# --- linspace, logspace and arange values, rounded as PyTorch's CPU kernels round them --------
# As PyTorch's x86-64 Linux wheels run them (found by comparing values bit for bit): the
# arange and linspace kernels (aten/src/ATen/native/cpu) run their AVX2 build, with FMA, even
# on AVX512 machines, so `a + b * c` there is one fused multiply-add; logspace lives in
# RangeFactories.cpp, built for baseline x86-64 (no FMA), and takes its powers from glibc's pow
# (complex powers here are NumPy's, which may differ from glibc's cpow in the last bit).
# Other platforms' builds round differently.

_GRAIN = 32768  # at::internal::GRAIN_SIZE


def _halves(steps: int):
    """The first-half mask and, per element, its distance from the end it is computed from."""
    i = xp.arange(steps)
    first = i < steps // 2
    return first, xp.where(first, i, steps - 1 - i)


def _half(v):
    """A Python number as c10::Half takes it: through float (two roundings)."""
    with xp.errstate(all="ignore"):
        return xp.float16(xp.float32(v))


def _arange_floats(start, step, n: int, np_dt):
    """PyTorch's arange kernel, floating dtypes: start + step * i in the accumulate type
    (float64; float32 for float16), one fused multiply-add, rounded to the dtype. It fills each
    thread's chunk (at::parallel_for: ranges past 32768 split over `get_num_threads()` threads)
    by pairs of 32-byte vectors; a vector from index j holds base + k * step, base being
    element j already rounded to the dtype; the chunk's last partial pair goes one by one."""
    exact = 2 ** (xp.finfo(np_dt).nmant + 1)
    if float(start).is_integer() and float(step).is_integer() and (
            abs(start) + abs(step) * n <= exact):  # whole numbers the dtype holds: no rounding
        return (start + step * xp.arange(n, dtype=xp.float64)).astype(np_dt)
    acc = xp.float32 if np_dt == xp.float16 else xp.float64
    lanes = 32 // np_dt.itemsize
    chunk = n
    if n > _GRAIN and get_num_threads() > 1:
        chunk = -(-n // min(get_num_threads(), -(-n // _GRAIN)))
    in_vectors = xp.zeros(n, bool)
    for begin in range(0, n, max(chunk, 1)):
        paired = min(chunk, n - begin) // (2 * lanes) * (2 * lanes)
        in_vectors[begin:begin + paired] = True
    a, st = acc(start), acc(step)
    out = xp.empty(n, np_dt)
    with xp.errstate(all="ignore"):
        single = xp.flatnonzero(~in_vectors)
        out[single] = _fma(st, single.astype(acc), a, acc).astype(np_dt)
        vectors = xp.flatnonzero(in_vectors).reshape(-1, lanes)
        base = _fma(st, vectors[:, :1].astype(acc), a, acc).astype(np_dt)
        k = xp.arange(lanes, dtype=acc)
        out[vectors] = _fma(k, st, base, acc).astype(np_dt)
    return out


def _linspace_values(start, end, steps: int, np_dt):
    """PyTorch's linspace kernel (steps >= 2): step = (end - start) / (steps - 1) in the
    computation type, then start + step * i for the first half and end - step * (steps - 1 - i)
    for the rest, each one fused multiply-add. float16 rounds every operation to half (no
    FMA); complex types go part by part; integer types compute in float64 from the truncated
    ends and truncate."""
    first, k = _halves(steps)
    if np_dt == xp.float16:
        s, e = _half(start), _half(end)
        with xp.errstate(all="ignore"):
            step = (e - s) / xp.float16(steps - 1)
            prod = step * k.astype(xp.float16)
            return xp.where(first, s + prod, e - prod)
    if np_dt.kind == "c":
        part = xp.float32 if np_dt == xp.complex64 else xp.float64
        s, e = complex(start), complex(end)
        out = xp.empty(steps, np_dt)
        out.real = _linspace_part(part(s.real), part(e.real), steps, k)
        out.imag = _linspace_part(part(s.imag), part(e.imag), steps, k)
        return out
    work = xp.float64 if np_dt.kind in "iu" else np_dt.type
    values = _linspace_part(work(start), work(end), steps, k)
    return _c_int(values, np_dt) if np_dt.kind in "iu" else values


def _linspace_part(s, e, steps: int, k):
    work = type(s)
    with xp.errstate(all="ignore"):
        step = (e - s) / work(steps - 1)
    k, half = k.astype(work), steps // 2  # -k: NaNs keep their signs, as in fnmadd
    return xp.concatenate([_fma(step, k[:half], s, work), _fma(step, -k[half:], e, work)])


def _c_int(values, np_dt):
    """float64 values as C casts them to an integer type on x86-64 (cvttsd2si): truncated
    toward zero; out of range or NaN, the "integer indefinite" -2**63 (int64) or -2**31 (the
    narrower types convert through int32, then keep their low bits)."""
    limit = 2.0 ** (63 if np_dt == xp.int64 else 31)
    with xp.errstate(all="ignore"):
        inside = xp.abs(values) < limit
        whole = xp.where(inside, xp.trunc(xp.where(inside, values, 0)), -limit)
    return whole.astype(xp.int64).astype(np_dt)


def _pow1(base: float, x: float) -> float:
    """The C library's pow(base, x), through Python's math.pow (which raises where C returns a
    NaN or an infinity): NaN is x86's default (negative) NaN, infinities signed as C's."""
    try:
        return math.pow(base, x)
    except ValueError:
        if base != 0:
            return -math.nan
        return math.copysign(math.inf, base) if x % 2 == 1 else math.inf
    except OverflowError:
        return math.copysign(math.inf, base) if x % 2 == 1 else math.inf


_pow = xp.frompyfunc(_pow1, 2, 1)


def _logspace_values(start, end, steps: int, base: float, np_dt):
    """PyTorch's logspace kernel (steps >= 2), no FMA: real dtypes take the ends in the dtype,
    step = double(end - start) / (steps - 1) (the difference in the dtype), exponents
    start + step * i (first half) and end - step * (steps - 1 - i) in float64, then pow(base, .)
    rounded to the dtype (float16: through float). Complex dtypes do the same in complex<T>
    (the division being c10's complex one: times 1 / (steps - 1)) and take the complex power."""
    first, k = _halves(steps)
    if np_dt.kind == "c":
        part = xp.float32 if np_dt == xp.complex64 else xp.float64
        s, e = complex(start), complex(end)
        sr, si, er, ei = part(s.real), part(s.imag), part(e.real), part(e.imag)
        zero, k = part(0), k.astype(part)
        with xp.errstate(all="ignore"):
            scale = part(1) / part(steps - 1)
            dr, di = er - sr, ei - si
            step_r, step_i = (dr + di * zero) * scale, (di - dr * zero) * scale
            mr, mi = step_r * k - step_i * zero, step_r * zero + step_i * k
            yr, yi = xp.where(first, sr + mr, er - mr), xp.where(first, si + mi, ei - mi)
        with xp.errstate(all="ignore"):  # (glibc's cpow may differ in the last bit)
            return xp.power(xp.complex128(base), yr + 1j * yi.astype(xp.complex128)).astype(np_dt)
    if np_dt.kind in "iu":
        s, e = int(start), int(end)
        diff = e - s
        if np_dt.itemsize >= 4:  # int and int64_t arithmetic wraps; narrower types promote
            half = 2 ** (8 * np_dt.itemsize - 1)
            diff = (diff + half) % (2 * half) - half
    else:
        conv = _half if np_dt == xp.float16 else np_dt.type
        s, e = conv(start), conv(end)
        with xp.errstate(all="ignore"):
            diff = e - s
    step = float(diff) / (steps - 1)
    with xp.errstate(all="ignore"):
        exps = xp.where(first, float(s) + step * k, float(e) - step * k)
        values = _pow(float(base), exps).astype(xp.float64)
        if np_dt.kind in "iu":
            return _c_int(values, np_dt)
        if np_dt == xp.float16:
            values = values.astype(xp.float32)
        return values.astype(np_dt)


def _spaced_dtype(start, end, dtype, fname: str) -> _dtype.dtype:
    """linspace's and logspace's dtype: `dtype`, else the default one (complex for a complex
    end), and PyTorch's error for complex ends into a real `dtype`."""
    d = None if dtype is None else _dtype.as_dtype(dtype)
    if isinstance(start, complex) or isinstance(end, complex):
        c = _dtype.default_complex()
        if d is not None and not d.is_complex:
            inferred = "double" if c is _dtype.complex128 else "float"
            raise RuntimeError(f"{fname}: inferred dtype c10::complex<{inferred}> can't be "
                               f"safely cast to passed dtype {d._short}")
        return d or c
    return d or _dtype.get_default_dtype()


def _filled(v, d: _dtype.dtype):
    """A value as fill_ stores it: float16 takes a float through float32 (c10::Half's way)."""
    if d is _dtype.float16 and isinstance(v, float):
        return float(_half(v))
    return v


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """`steps` evenly spaced values from start to end (both included), as PyTorch rounds them."""
    start, end = _number(start), _number(end)
    d = _spaced_dtype(start, end, dtype, "torch.linspace()")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 0:
        return _new_tensor(xp.empty(0, d.np), requires_grad)
    if steps == 1:  # PyTorch fills with start
        return full((1,), _filled(start, d), dtype=d, requires_grad=requires_grad)
    check_kernel(d.np, "b", "linspace_cpu")
    start, end = _kernel_ends(start, end, d)
    return _new_tensor(_linspace_values(start, end, steps, d.np), requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """base ** (`steps` evenly spaced exponents from start to end), as PyTorch rounds them."""
    start, end = _number(start), _number(end)
    d = _spaced_dtype(start, end, dtype, "torch.logspace()")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 0:
        return _new_tensor(xp.empty(0, d.np), requires_grad)
    if steps == 1:  # PyTorch fills with pow(base, start) in double (complex<double>)
        return full((1,), _filled(_power_of(float(base), start, d), d), dtype=d,
                    requires_grad=requires_grad)
    check_kernel(d.np, "b", "logspace_cpu")
    start, end = _kernel_ends(start, end, d)
    return _new_tensor(_logspace_values(start, end, steps, float(base), d.np), requires_grad)


def _power_of(base: float, start, d: _dtype.dtype):
    """pow(base, start) in double (complex<double> for complex dtypes)."""
    if not d.is_complex:
        return _pow1(base, float(start))
    with xp.errstate(all="ignore"):
        return complex(xp.power(xp.complex128(base), xp.complex128(start)))


def _number(v):
    return v.item() if isinstance(v, Tensor) else v


def _kernel_ends(start, end, d: _dtype.dtype):
    """start and end as the kernels take them (Scalar::to): PyTorch's overflow error for a
    finite value past the dtype's range (float16 too, unlike fill_); integer types truncate."""
    for v in (start, end):
        convert_scalar(v, d)
        if d is _dtype.float16 and not isinstance(v, complex) and 65504 < abs(v) < math.inf:
            raise RuntimeError("value cannot be converted to type c10::Half without overflow")
    if d.np.kind in "iu":
        return int(convert_scalar(start, d)), int(convert_scalar(end, d))
    return start, end


def legacy_new(cls, *args, **kwargs) -> Tensor:
    """`torch.Tensor(...)`: sizes give a zero-filled tensor, a sequence gives the default dtype."""
    device = kwargs.pop("device", None)
    check_device(device)
    dtype = getattr(cls, "_legacy_dtype", None) or _dtype.get_default_dtype()
    if not args:
        return cls._make(xp.zeros((0,), dtype.np))
    if len(args) == 1 and isinstance(args[0], Tensor):
        return cls._make(args[0]._data, version=args[0]._own_version())
    if len(args) == 1 and not isinstance(args[0], int | Size):
        data = args[0]
        if isinstance(data, float | complex | bool):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return cls._make(_to_array(data, dtype))
    return cls._make(xp.zeros(_size_args(args), dtype.np))


class _LegacyMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype


def _legacy(name: str, d: _dtype.dtype):
    def new(cls, *args, **kwargs):
        t = legacy_new(Tensor, *args, **kwargs) if args and not isinstance(args[0], int) else None
        if t is None:
            return Tensor._make(xp.zeros(_size_args(args), d.np))
        return t if t.dtype is d else Tensor._make(t._data.astype(d.np))

    return _LegacyMeta(name, (), {"__new__": new, "_legacy_dtype": d})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
CharTensor = _legacy("CharTensor", _dtype.int8)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool_)


# --- dtype casts and copies --------------------------------------------------------------------
class ToCopyBackward0(Node):
    def backward(self, grad):
        return grad  # the engine casts back to the input's dtype


_CHANNELS_LAST = "torch.channels_last"


def _is_channels_last(a) -> bool:
    return a.ndim == 4 and a.transpose(0, 2, 3, 1).flags.c_contiguous


def to_dtype(input: Tensor, dtype: _dtype.dtype, copy: bool = False,
             memory_format=None) -> Tensor:
    """input as `dtype`: itself when nothing changes, else a copy recorded as ToCopyBackward0.
    `channels_last` on a 4-D tensor lays the copy out NHWC, as PyTorch does."""
    a = input._data
    relayout = memory_format == _CHANNELS_LAST and a.ndim == 4 and not _is_channels_last(a)
    if a.dtype == dtype.np and not copy and not relayout:
        return input
    if relayout:
        data = xp.ascontiguousarray(a.transpose(0, 2, 3, 1), dtype.np).transpose(0, 3, 1, 2)
    else:
        data = a.astype(dtype.np)
    if dtype.category < 2:
        return _make(data)
    return record(ToCopyBackward0, data, (input,))


@method("to")
def to(self, *args, **kwargs) -> Tensor:
    """Cast: `to(dtype, non_blocking, copy)`, `to(device, dtype, non_blocking, copy)` or
    `to(other, non_blocking, copy)`, each with `memory_format=`."""
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    memory_format = kwargs.pop("memory_format", None)
    kwargs.pop("non_blocking", None)
    check_device(kwargs.pop("device", None))
    if kwargs:
        raise TypeError(f"to() received an invalid keyword argument '{next(iter(kwargs))}'")
    args = list(args)
    if args and isinstance(args[0], Tensor):
        dtype = args.pop(0).dtype
        rest = ("non_blocking", "copy")
    elif args and isinstance(args[0], _dtype.dtype):
        dtype = args.pop(0)
        rest = ("non_blocking", "copy")
    else:
        if args:
            check_device(args.pop(0))
        rest = ("dtype", "non_blocking", "copy")
    for name, value in zip(rest, args, strict=False):
        if name == "dtype":
            dtype = value
        elif name == "copy":
            copy = value
    d = self.dtype if dtype is None else _dtype.as_dtype(dtype)
    return to_dtype(self, d, copy, memory_format)


def _cast_method(d: _dtype.dtype):
    def cast(self, memory_format=None) -> Tensor:
        return to_dtype(self, d, memory_format=memory_format)

    return cast


for _name, _d in (("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
                  ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16),
                  ("char", _dtype.int8), ("byte", _dtype.uint8), ("bool", _dtype.bool_),
                  ("cfloat", _dtype.complex64), ("cdouble", _dtype.complex128)):
    setattr(Tensor, _name, _cast_method(_d))


class CloneBackward0(Node):
    def backward(self, grad):
        return grad


@method("clone")
def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory; gradients flow back to `input`."""
    return record(CloneBackward0, input._data.copy(), (input,))


@method("contiguous")
def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """`input` itself when already C-contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return record(CloneBackward0, xp.ascontiguousarray(input._data), (input,))


Tensor.new_tensor = lambda self, data, dtype=None, **kw: tensor(
    data, dtype=self.dtype if dtype is None else dtype, **kw)
Tensor.new_zeros = lambda self, *size, dtype=None, **kw: zeros(
    *size, dtype=self.dtype if dtype is None else dtype, **kw)
Tensor.new_ones = lambda self, *size, dtype=None, **kw: ones(
    *size, dtype=self.dtype if dtype is None else dtype, **kw)
Tensor.new_empty = lambda self, *size, dtype=None, **kw: empty(
    *size, dtype=self.dtype if dtype is None else dtype, **kw)
Tensor.new_full = lambda self, size, fill_value, dtype=None, **kw: full(
    size, fill_value, dtype=self.dtype if dtype is None else dtype, **kw)


def _new(self, *args, **kwargs) -> Tensor:
    """`t.new(...)`, the legacy constructor in t's dtype: sizes give a zero-filled tensor, a
    sequence its values, a tensor of t's dtype an alias of it."""
    device = kwargs.pop("device", None)
    if kwargs:
        got = ", ".join(f"{k}={'torch.dtype' if isinstance(v, _dtype.dtype) else type(v).__name__}"
                        for k, v in kwargs.items())
        bad = ", ".join(kwargs)
        raise TypeError(
            f"new() received an invalid combination of arguments - got ({got}, ), but expected "
            "one of:\n * (*, torch.device device = None)\n * (torch.Storage storage)\n      "
            f"didn't match because some of the keywords were incorrect: {bad}\n * (Tensor other)"
            f"\n      didn't match because some of the keywords were incorrect: {bad}\n * (tuple "
            "of ints size, *, torch.device device = None)\n * (object data, *, torch.device "
            "device = None)\n"
        )
    check_device(device)
    if not args:
        return _make(xp.zeros((0,), self.dtype.np))
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype is not self.dtype:
            raise TypeError(f"expected {_options(self.dtype)} (got {_options(other.dtype)})")
        from dyngrad.ops.indexing import _alias

        return _alias(other)
    if len(args) == 1 and not isinstance(args[0], int | Size):
        data = args[0]
        if isinstance(data, float | complex | bool):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return _make(_to_array(data, self.dtype))
    return _make(xp.zeros(_size_args(args), self.dtype.np))


def _options(d: _dtype.dtype) -> str:
    from dyngrad._tensor import _c_name

    return (f"TensorOptions(dtype={_c_name(d)}, device=cpu, layout=Strided, requires_grad=false "
            "(default), pinned_memory=false (default), memory_format=(nullopt))")


Tensor.new = _new


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=None,
                  requires_grad=False) -> Tensor:
    """A 0-dim tensor holding the number `s` (default float dtype unless `dtype` says)."""
    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, bool | int | float | complex | xp.generic):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    check_device(device)
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    if isinstance(s, complex) and d.np.kind != "c":
        from dyngrad._tensor import _c_name

        raise RuntimeError(f"value cannot be converted to type {_c_name(d)} without overflow")
    return _new_tensor(xp.asarray(s, d.np), requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False) -> Tensor:
    """A zero-filled tensor with the given sizes and strides (in elements) over fresh memory."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    size = _size_args((size,))
    if any(s < 0 for s in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    check_device(device)
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    n = 0 if 0 in size else 1 + sum((k - 1) * s for k, s in zip(size, stride, strict=True))
    data = xp.lib.stride_tricks.as_strided(xp.zeros(n, d.np), size,
                                           tuple(s * d.itemsize for s in stride))
    return _new_tensor(data, requires_grad)


_RANGE_WARNING = (
    "torch.range is deprecated and will be removed in a future release because its behavior is "
    "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values "
    "in [start, end)."
)


def torch_range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
                requires_grad=False) -> Tensor:
    """Deprecated: start, start + step, ... up to and *including* end (default float dtype)."""
    warnings.warn(_RANGE_WARNING, UserWarning, stacklevel=2)
    check_device(device)
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if d.category < 2:
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    # PyTorch's count: (end - start) / step + 1 truncated (in double for float dtypes)
    n = (end - start) // step + 1 if d.category < 2 else int((end - start) / step + 1)
    data = (start + step * xp.arange(n, dtype=xp.float64)).astype(d.np)
    return _new_tensor(data, requires_grad)


torch_range.__name__ = torch_range.__qualname__ = "range"  # not to shadow the builtin here

_NOT_WRITABLE = (
    "The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
    "means you can write to the underlying (supposedly non-writable) buffer using the tensor. You "
    "may want to copy the buffer to protect its data or make it writable before converting it to "
    "a tensor. This type of warning will be suppressed for the rest of this program."
)


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over the memory of an object with the buffer protocol (no copy)."""
    d = _dtype.as_dtype(dtype)
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    length = view.nbytes
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % d.itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({d.itemsize})")
        count = (length - offset) // d.itemsize
    elif offset + count * d.itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {d.itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    if view.readonly:
        warnings.warn(_NOT_WRITABLE, UserWarning, stacklevel=2)
    return _new_tensor(xp.frombuffer(view.cast("B"), d.np, count, offset), requires_grad)


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                       pin_memory=False, requires_grad=False) -> Tensor:
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=device, requires_grad=requires_grad)


def _as_subclass(self, cls) -> Tensor:
    """This tensor's data as an instance of the Tensor subclass `cls` (an alias, so gradients
    flow back through AliasBackward0 when self requires grad)."""
    from dyngrad._tensor import make_tensor
    from dyngrad.ops.indexing import _alias

    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    alias = _alias(self)
    out = make_tensor(alias._data, alias._requires_grad, alias._grad_fn, 0, alias._vc, cls)
    out._view = alias._view
    return out


def _pin_memory(self, device=None) -> Tensor:
    raise RuntimeError("Cannot access accelerator device when none is available.")


Tensor.new_empty_strided = _new_empty_strided
Tensor.as_subclass = _as_subclass
Tensor.pin_memory = _pin_memory
