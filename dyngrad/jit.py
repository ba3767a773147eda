"""`torch.jit`: TorchScript's entry points, as eager no-ops.

dyngrad has no compiler: `script` and `trace` return what they are given, unchanged (a traced
function runs eagerly each call, Python control flow included), and `is_scripting()` /
`is_tracing()` are False, so code guarded by them takes its eager path. The decorators
(`ignore`, `unused`, `export`, ...) return their function. `save` and `load` raise
NotImplementedError: there are no TorchScript archives (save a state_dict instead).
"""

from __future__ import annotations

import contextlib
import typing
import warnings
from typing import Final, NamedTuple

from dyngrad.nn.modules.module import Module

__all__ = [
    "Attribute", "Error", "Final", "Future", "ScriptFunction", "ScriptModule", "TracerWarning",
    "annotate", "enable_onednn_fusion", "export", "fork", "freeze", "ignore", "interface",
    "is_scripting", "is_tracing", "isinstance", "load", "onednn_fusion_enabled",
    "optimize_for_inference", "save", "script", "script_method", "set_fusion_strategy",
    "strict_fusion", "trace", "trace_module", "unused", "wait",
]

_builtin_isinstance = isinstance
_COMPILE_OR_EXPORT = "Please switch to `torch.compile` or `torch.export`."
_COMPILE = "Please use `torch.compile` instead."
_EXPORT = "Please switch to `torch.export`."


def _deprecated(name: str, advice: str) -> None:
    """PyTorch 2.13's DeprecationWarning for TorchScript's entry points."""
    warnings.warn(f"`torch.jit.{name}` is deprecated. {advice}", DeprecationWarning, stacklevel=3)


class Error(Exception):
    """`torch.jit.Error`: what a failing TorchScript program raises (never raised here)."""


class TracerWarning(Warning):
    """`torch.jit.TracerWarning`: the tracer's warnings (never issued here)."""


class ScriptModule(Module):
    """`torch.jit.ScriptModule`: the class of scripted modules. Scripting returns the module
    itself here, so no module is an instance of it."""


class ScriptFunction:
    """`torch.jit.ScriptFunction`: the class of scripted functions (no instances here)."""


class Attribute(NamedTuple):
    """`torch.jit.Attribute(value, type)`: a typed attribute of a ScriptModule."""

    value: typing.Any
    type: typing.Any


def is_scripting() -> bool:
    """False: code never runs under TorchScript here."""
    return False


def is_tracing() -> bool:
    """False: code never runs under the tracer here."""
    return False


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """`obj` itself (a module, function or class): dyngrad runs everything eagerly."""
    _deprecated("script", _COMPILE_OR_EXPORT)
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs: bool = True):
    """`func` itself, not run: the result computes eagerly on each call (so, unlike a trace, it
    follows data-dependent control flow)."""
    _deprecated("trace", _COMPILE_OR_EXPORT)
    return func


def trace_module(mod, inputs, optimize=None, check_trace: bool = True, check_inputs=None,
                 check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg: bool = False, _store_inputs: bool = True):
    """`mod` itself (see `trace`)."""
    _deprecated("trace_method", _COMPILE_OR_EXPORT)
    return mod


def script_method(fn):
    _deprecated("script_method", _COMPILE_OR_EXPORT)
    return fn


def ignore(drop=False, **kwargs):
    """Decorator (`@ignore` or `@ignore(drop=...)`) returning the function unchanged."""
    if callable(drop):
        return drop
    if drop:
        warnings.warn(
            "ignore(True) has been deprecated. TorchScript will now drop the function call on "
            "compilation. Use torch.jit.unused now. {}", FutureWarning, stacklevel=2,
        )
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    _deprecated("interface", _COMPILE)
    return obj


def annotate(the_type, the_value):
    """`the_value`: the annotation only informs the TorchScript compiler."""
    return the_value


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    """`mod` itself, which must be in eval mode as PyTorch requires."""
    _deprecated("freeze", _COMPILE)
    if mod.training:
        raise RuntimeError(
            "Freezing is currently only implemented for modules in eval mode. Please call .eval() "
            "on your module before freezing."
        )
    return mod


def optimize_for_inference(mod, other_methods=None):
    """`mod` switched to eval mode (PyTorch freezes it, which needs eval mode)."""
    _deprecated("optimize_for_inference", _COMPILE)
    return mod.eval()


def save(m, f, _extra_files=None) -> None:
    """Not available: there is no TorchScript archive to write."""
    _deprecated("save", _EXPORT)
    raise NotImplementedError(
        "dyngrad has no TorchScript: torch.jit.save cannot write an archive. Save the weights "
        "with torch.save(model.state_dict(), f) instead."
    )


def load(f, map_location=None, _extra_files=None, _restore_shapes: bool = False):
    """Not available: there is no TorchScript archive to read."""
    _deprecated("load", _EXPORT)
    raise NotImplementedError(
        "dyngrad has no TorchScript: torch.jit.load cannot read an archive. Load weights saved "
        "with torch.save into the model with model.load_state_dict(torch.load(f)) instead."
    )


class Future:
    """The result of `fork`: the call has already run, `wait()` returns its value."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self) -> bool:
        return True


def fork(func, *args, **kwargs) -> Future:
    """Run `func(*args, **kwargs)` now (TorchScript would run it asynchronously)."""
    _deprecated("fork", _COMPILE)
    return Future(func(*args, **kwargs))


def wait(future: Future):
    _deprecated("wait", _COMPILE)
    return future.wait()


_fusion = {"onednn": False, "strategy": [("STATIC", 2), ("DYNAMIC", 10)]}


def enable_onednn_fusion(enabled: bool) -> None:
    _fusion["onednn"] = enabled


def onednn_fusion_enabled() -> bool:
    return _fusion["onednn"]


def set_fusion_strategy(strategy: list) -> list:
    """Record the fuser's specialization strategy; returns the previous one."""
    _deprecated("set_fusion_strategy", _COMPILE)
    previous, _fusion["strategy"] = _fusion["strategy"], list(strategy)
    return previous


@contextlib.contextmanager
def strict_fusion():
    """A check that a TorchScript region fuses; eagerly it only warns, as in PyTorch."""
    warnings.warn("Only works in script mode", UserWarning, stacklevel=3)
    yield


_EMPTY_CONTAINER = (
    "The inner type of a container is lost when calling torch.jit.isinstance in eager mode. For "
    "example, List[int] would become list and therefore falsely return True for List[float] or "
    "List[str]."
)


def _check_parametrized(target_type) -> None:
    """PyTorch's errors for a bare container type."""
    if target_type in (list, tuple, dict):
        name = target_type.__name__
    else:  # typing.List, typing.Dict, typing.Tuple, typing.Optional without arguments
        name = getattr(target_type, "_name", None)
        if name not in ("List", "Tuple", "Dict", "Optional") or typing.get_args(target_type):
            return
    if name in ("dict", "Dict"):
        raise RuntimeError(
            f"Attempted to use {name} without contained types. Please add contained type, e.g. "
            f"{name}[int, int]"
        )
    raise RuntimeError(
        f"Attempted to use {name} without a contained type. Please add a contained type, "
        f"e.g. {name}[int]"
    )


def isinstance(obj, target_type) -> bool:  # noqa: A001 - torch's name
    """`isinstance` that also checks the element types of list[...], dict[...], tuple[...],
    Optional[...] and Union[...] (an empty container matches any element type, with PyTorch's
    warning)."""
    _check_parametrized(target_type)
    origin, args = typing.get_origin(target_type), typing.get_args(target_type)
    if origin in (typing.Union, type(int | str)):
        return any(isinstance(obj, t) for t in args)
    if origin is list:
        if not _builtin_isinstance(obj, list):
            return False
        if not obj:
            warnings.warn(_EMPTY_CONTAINER, stacklevel=2)
        return all(isinstance(x, args[0]) for x in obj)
    if origin is dict:
        if not _builtin_isinstance(obj, dict):
            return False
        if not obj:
            warnings.warn(_EMPTY_CONTAINER, stacklevel=2)
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        if not _builtin_isinstance(obj, tuple):
            return False
        return len(obj) == len(args) and all(isinstance(x, t) for x, t in zip(obj, args,
                                                                              strict=True))
    if target_type is None or target_type is type(None):
        return obj is None
    return _builtin_isinstance(obj, target_type)

