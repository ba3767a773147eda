"""Grad mode: whether ops record the graph. Thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading


class _Plain:
    """One process-wide answer to "may an op skip the mode checks?": True while every thread
    has grad mode on and inference mode off, no forward-AD level is open and anomaly detection
    is off. `record` reads this (~15 ns) instead of the thread-local modes and the process-wide
    ones (~100 ns per op); only when it is False does it read them. `off` counts what is not at
    its default: each thread whose grad or inference mode is, a dual level, anomaly mode."""

    def __init__(self):
        self.on = True
        self.off = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.off += n
            self.on = self.off == 0


plain = _Plain()


class _Off:
    """Held by a thread while its grad or inference mode is not the default: counts it in
    `plain.off` for as long as it lives (also when the thread ends in that mode, which drops
    its thread-local values)."""

    def __init__(self):
        plain.add(1)

    def __del__(self):
        plain.add(-1)


class _State(threading.local):
    """This thread's grad mode and inference mode; setting either keeps `plain` right."""

    _enabled = True
    _inference = False
    _off = None  # an _Off while either mode is not the default

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, mode: bool) -> None:
        self._enabled = mode
        self._recount()

    @property
    def inference(self) -> bool:
        return self._inference

    @inference.setter
    def inference(self, mode: bool) -> None:
        self._inference = mode
        self._recount()

    def _recount(self) -> None:
        if not self._enabled or self._inference:
            if self._off is None:
                self._off = _Off()
        elif self._off is not None:
            self._off = None


state = _State()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded."""
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _Mode:
    """Base of the grad-mode context managers; each also works as a decorator."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = self._mode

    def __exit__(self, *exc):
        state.enabled = self.prev


class no_grad(_Mode):
    """Context manager and decorator that stops graph recording."""

    _mode = False

    def __init__(self, orig_func=None):
        if orig_func is not None:
            raise TypeError("no_grad() takes no arguments; use @no_grad() or @no_grad")

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            self.__init__()
            return self(orig_func)
        return self


class enable_grad(no_grad):
    """Context manager and decorator that turns recording back on inside `no_grad`."""

    _mode = True


class set_grad_enabled(_Mode):
    """Set grad mode: as a plain call (global for this thread) or as a context manager."""

    def __init__(self, mode: bool):
        self.prev = state.enabled
        self._mode = bool(mode)
        state.enabled = self._mode

    def __call__(self, fn):
        state.enabled = self.prev  # used as a decorator: the mode applies only inside fn
        return super().__call__(fn)

    def clone(self):
        return set_grad_enabled(self._mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled = self.prev


class inference_mode(_Mode):
    """A stricter `no_grad`: tensors made inside are inference tensors with no version counter."""

    def __init__(self, mode: bool = True):
        self.mode = mode

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__(True)
            return self(mode)
        return self

    def clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self.prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled, state.inference = False, True
        else:
            state.inference = False

    def __exit__(self, *exc):
        state.enabled, state.inference = self.prev
