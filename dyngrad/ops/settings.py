"""Process-wide settings of the `torch` namespace: threads, determinism, matmul precision, the
default device, warn-always and anomaly mode, and `compile`.

NumPy runs every op on one thread in a fixed order, so the thread counts, determinism flags and
matmul precision are kept and reported exactly as PyTorch reports them, and change nothing else;
with no compiler, `compile` hands back what it is given.
"""

from __future__ import annotations

from dyngrad._device import check_device, cpu
from dyngrad._device import device as _device
from dyngrad.autograd import anomaly_mode

__all__ = [
    "get_num_threads", "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "get_deterministic_debug_mode",
    "set_deterministic_debug_mode", "get_float32_matmul_precision",
    "set_float32_matmul_precision", "get_default_device", "set_default_device",
    "set_warn_always", "is_warn_always_enabled", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "set_anomaly_enabled", "compile",
]

_state = {"threads": 1, "interop": 1, "deterministic": False, "warn_only": False,
          "precision": "highest", "device": cpu, "warn_always": False}


def _positive_int(fname: str, n) -> int:
    if type(n) is not int:
        raise RuntimeError(f"{fname} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fname} expects a positive integer")
    return n


def _check_bool(fname: str, arg: str, pos: int | None, v) -> None:
    if type(v) is not bool:
        where = f" (position {pos})" if pos is not None else ""
        raise TypeError(f"{fname}(): argument '{arg}'{where} must be bool, not {type(v).__name__}")


def get_num_threads() -> int:
    """The intra-op thread count last set (dyngrad computes on one thread whatever it is)."""
    return _state["threads"]


def set_num_threads(n, /) -> None:
    _state["threads"] = _positive_int("set_num_threads", n)


def get_num_interop_threads() -> int:
    return _state["interop"]


def set_num_interop_threads(n, /) -> None:
    _state["interop"] = _positive_int("set_num_interop_threads", n)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the flag; every dyngrad op is deterministic already."""
    _check_bool("_set_deterministic_algorithms", "mode", 1, mode)
    _check_bool("_set_deterministic_algorithms", "warn_only", None, warn_only)
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def get_deterministic_debug_mode() -> int:
    """0 (default), 1 (warn) or 2 (error), from the two flags above."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


_DEBUG_MODES = ("default", "warn", "error")


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                f"{debug_mode}"
            )
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_float32_matmul_precision() -> str:
    return _state["precision"]


def set_float32_matmul_precision(precision: str) -> None:
    """Record the precision; NumPy's float32 matmul is always full precision ("highest")."""
    import warnings

    if not isinstance(precision, str):
        raise RuntimeError(
            f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}"
        )
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["precision"] = precision


def get_default_device() -> _device:
    return _state["device"]


def set_default_device(device) -> None:  # noqa: A002 - torch's name
    """Only the CPU exists: `None` and CPU spellings are accepted, other devices refused."""
    if device is None:
        _state["device"] = cpu
        return
    d = device if isinstance(device, _device) else _device(device)
    check_device(d)
    _state["device"] = d


def set_warn_always(b: bool, /) -> None:
    if type(b) is not bool:
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


is_anomaly_enabled = anomaly_mode.is_anomaly_enabled
is_anomaly_check_nan_enabled = anomaly_mode.is_anomaly_check_nan_enabled


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (without `set_detect_anomaly`'s warning)."""
    _check_bool("set_anomaly_enabled", "enabled", 1, enabled)
    _check_bool("set_anomaly_enabled", "check_nan", 2, check_nan)
    anomaly_mode.state.enabled, anomaly_mode.state.check_nan = enabled, check_nan


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend=None,  # noqa: A001
            mode=None, options=None, name=None, disable: bool = False, recompile_limit=None,
            isolate_recompiles: bool = False, shapes_spec=None):
    """dyngrad has no compiler: the function or module comes back unchanged (a decorator when
    `model` is omitted)."""
    if model is None:
        return lambda fn: compile(fn)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
