"""Grad mode: whether ops record the graph. Thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True
    inference = False


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
