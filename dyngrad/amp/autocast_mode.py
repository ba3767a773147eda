"""`torch.autocast` and the autocast state functions (`torch.is_autocast_enabled`, ...).

The state is kept exactly as PyTorch keeps it (per device type, per thread), so code that asks
whether autocast is on gets PyTorch's answers. What differs: dyngrad's ops do not consult it.
Inside an enabled region every op runs in its inputs' dtype (float32 stays float32), i.e. as if
autocast were off; results are more precise than PyTorch's bfloat16/float16 ones.
dyngrad has no bfloat16, so the default CPU autocast dtype (bfloat16 in PyTorch) is reported as
None.
"""

from __future__ import annotations

import collections.abc
import functools
import threading
import warnings

from dyngrad import _dtype
from dyngrad._compat import parse_device_string, torch_class_repr
from dyngrad._tensor import Tensor

__all__ = [
    "autocast", "custom_fwd", "custom_bwd", "is_autocast_available", "is_autocast_enabled",
    "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype",
    "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
]

# device types with an autocast dispatch key, and the lower-precision dtype each defaults to
# (None: bfloat16, which dyngrad lacks)
_DEFAULT_DTYPES = {
    "cpu": None, "cuda": _dtype.float16, "ipu": _dtype.float16, "xpu": _dtype.float16,
    "maia": None, "xla": None, "mps": _dtype.float16, "hpu": None, "mtia": _dtype.float16,
    "privateuseone": _dtype.float16,
}
_UNKNOWN_KEY = "unknown device type for autocast in get_autocast_dispatch_key_from_device_type"
_PRIVATEUSE1 = (
    "Tried to use AMP with the `privateuseone` backend, but the backend has not registered a "
    "module or  the module miss some necessary funcs. The backend should register a module by "
    "`torch._register_device_module`, and the module must have these funcs: \n"
    "`get_amp_supported_dtype() -> List[torch.dtype]`. \n"
)


class _State(threading.local):
    def __init__(self):
        self.enabled: dict = {}
        self.dtypes: dict = {}
        self.cache_enabled = True


_state = _State()


def _check_str(fname: str, value) -> None:
    if not isinstance(value, str):
        raise TypeError(
            f"{fname}(): argument 'device_type' (position 1) must be str, not "
            f"{type(value).__name__}"
        )


def _autocast_type(fname: str, device_type) -> str:
    """The device type of `device_type`, which must have an autocast dispatch key."""
    _check_str(fname, device_type)
    kind = parse_device_string(device_type)[0]
    if kind not in _DEFAULT_DTYPES:
        raise RuntimeError(_UNKNOWN_KEY)
    return kind


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast has a mode for `device_type` (PyTorch's list, CUDA included)."""
    _check_str("_is_autocast_available", device_type)
    return parse_device_string(device_type)[0] in _DEFAULT_DTYPES


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    return _state.enabled.get(_autocast_type("is_autocast_enabled", device_type), False)


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    kind = _autocast_type("set_autocast_enabled", device_type)
    if not isinstance(enabled, bool):
        raise TypeError(
            "set_autocast_enabled(): argument 'enabled' (position 2) must be bool, not "
            f"{type(enabled).__name__}"
        )
    _state.enabled[kind] = enabled


def get_autocast_dtype(device_type: str):
    """The dtype autocast uses on `device_type` (None for PyTorch's bfloat16 default)."""
    _check_str("get_autocast_dtype", device_type)
    kind = parse_device_string(device_type)[0]
    if kind in _state.dtypes:
        return _state.dtypes[kind]
    if kind in _DEFAULT_DTYPES:
        return _DEFAULT_DTYPES[kind]
    if kind == "hip":
        return _dtype.float16
    raise RuntimeError("unsupported scalarType")


def set_autocast_dtype(device_type: str, dtype) -> None:
    _check_str("set_autocast_dtype", device_type)
    kind = parse_device_string(device_type)[0]
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(
            "set_autocast_dtype(): argument 'dtype' (position 2) must be torch.dtype, not "
            f"{type(dtype).__name__}"
        )
    _state.dtypes[kind] = dtype


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """No cast weights are cached (no op casts), so there is nothing to clear."""


class autocast:
    """Context manager and decorator for a mixed-precision region (`torch.autocast`).

    The state is set and restored as in PyTorch (with its warnings, and disabled for CUDA and
    for dtypes the device cannot autocast to); the ops inside run in full precision.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        _check_device_type(device_type)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{self.device}'"
            )
        if self.device == "privateuseone":
            raise AssertionError(_PRIVATEUSE1)
        self._cache_enabled = (is_autocast_cache_enabled() if cache_enabled is None
                               else cache_enabled)
        if enabled:
            if self.device == "cuda":
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                              UserWarning, stacklevel=2)
                enabled = False
            elif not (self.fast_dtype is None or self.fast_dtype is _dtype.float16):
                name = self.device.upper()
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{name} Autocast only supports dtypes of torch.bfloat16, "
                    "torch.float16 currently.", UserWarning, stacklevel=2,
                )
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        kind = parse_device_string(self.device)[0]
        self.prev_cache_enabled = _state.cache_enabled
        self.prev = _state.enabled.get(kind, False)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        _state.enabled[kind] = bool(self._enabled)
        _state.dtypes[kind] = self.fast_dtype
        _state.cache_enabled = self._cache_enabled
        return self

    def __exit__(self, *exc) -> bool:
        kind = parse_device_string(self.device)[0]
        _state.enabled[kind] = self.prev
        _state.dtypes[kind] = self.prev_fastdtype
        _state.cache_enabled = self.prev_cache_enabled
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def _cast(value, device_type: str, dtype):
    """Floating tensors (float64 excepted) on `device_type` cast to `dtype`, through
    containers; everything else unchanged."""
    if isinstance(value, Tensor):
        eligible = (value.is_floating_point() and value.device.type == device_type
                    and value.dtype is not _dtype.float64)
        return value.to(dtype) if eligible else value
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype)
                for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        iterable = (_cast(v, device_type, dtype) for v in value)
        return type(value)(iterable) if isinstance(value, list | tuple) else iterable
    return value


def _check_device_type(device_type) -> None:
    if not isinstance(device_type, str):
        raise ValueError(
            f"Expected `device_type` of type `str`, got: `{torch_class_repr(type(device_type))}`"
        )


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom `Function.forward`: records the autocast state for `custom_bwd`
    and, with `cast_inputs`, casts floating tensor inputs to it and runs forward with autocast
    off (that cast is real: it is an explicit `.to`)."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = False
        if not autocast_context:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs),
                       **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom `Function.backward`: runs it in the autocast state forward saw."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
