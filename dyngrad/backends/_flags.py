"""Module attributes that check what is assigned to them, as PyTorch's backend flags do.

A backends submodule swaps its class for a `FlagModule` subclass whose properties are the flags;
the values live in the module's `_flags` dict.
"""

from __future__ import annotations

import contextlib
import sys
import types


class FlagModule(types.ModuleType):
    """A module whose flag attributes are properties."""


def bool_flag(name: str, setter: str) -> property:
    """A flag that holds a bool; any other value is PyTorch's RuntimeError naming `setter`."""

    def get(mod):
        return mod._flags[name]

    def set_(mod, value):
        if not isinstance(value, bool):
            raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
        mod._flags[name] = value

    return property(get, set_)


def install(module_name: str, cls: type) -> None:
    """Give module `module_name` the flag properties of `cls` (a FlagModule subclass)."""
    sys.modules[module_name].__class__ = cls


@contextlib.contextmanager
def set_flags(module, **values):
    """Assign the flags (each checked) for the block, then restore the previous values."""
    saved = {name: getattr(module, name) for name in values}
    try:
        for name, value in values.items():
            setattr(module, name, value)
        yield
    finally:
        module._flags.update(saved)
