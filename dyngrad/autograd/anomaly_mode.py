"""Anomaly detection: remember where each node was created, and check backward for NaN."""

from __future__ import annotations

import traceback
import warnings

from dyngrad._backend import xp


class _State:
    """Process-wide, as PyTorch's anomaly mode (grad mode is per thread, this is not)."""

    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled = False
        self.check_nan = True


state = _State()


def is_anomaly_enabled() -> bool:
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return state.check_nan


def check_nan_enabled() -> bool:
    return state.enabled and state.check_nan


def _warn_enabled() -> None:
    warnings.warn(
        "Anomaly Detection has been enabled. This mode will increase the runtime and should only "
        "be enabled for debugging.",
        stacklevel=3,
    )


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self.prev = (state.enabled, state.check_nan)
        _warn_enabled()

    def __enter__(self):
        self.prev = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = True, self.check_nan

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self.prev

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a call, or as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (state.enabled, state.check_nan)
        if mode:
            _warn_enabled()
        state.enabled, state.check_nan = bool(mode), check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self.prev


def record(node) -> None:
    """Store the forward traceback on a freshly created node (only in anomaly mode)."""
    node.metadata["traceback_"] = traceback.format_stack()[:-2]


def run_checked(node, grads, check_nan: bool):
    """Run a node's backward; on error, show where the node was made; optionally check for NaN."""
    try:
        results = node.apply(grads)
    except Exception:
        tb = node.metadata.get("traceback_")
        if tb:
            warnings.warn(
                f"Error detected in {node.name()}. Traceback of forward call that caused the "
                f"error:\n{''.join(tb)}",
                stacklevel=2,
            )
        raise
    if check_nan:
        for i, g in enumerate(results):
            if g is None:
                continue
            data = g._data if hasattr(g, "_data") else g
            if xp.isnan(data).any():
                raise RuntimeError(
                    f"Function '{node.name()}' returned nan values in its {i}th output."
                )
    return results
