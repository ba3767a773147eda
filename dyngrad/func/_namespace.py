"""dyngrad's `xp` namespace under vmap (see `_batched.py`): NumPy, with the few functions that
must know about batched arrays replaced, installed into dyngrad's op modules at the first vmap.
NumPy itself is left alone, so NumPy's own code keeps getting plain arrays.
"""

from __future__ import annotations

import sys
import types

from dyngrad._backend import xp
from dyngrad.func import _batched, _dispatch
from dyngrad.func._batched import BatchedArray, Promotable

_ndarray = xp.ndarray
CREATING = [0]  # while > 0 (vmaps, backward passes of transforms), numpy.zeros & co make
# Promotables


class promoting:
    """Context: fresh buffers made by op code may be filled with batched values (for a backward
    pass that may meet batched arrays of a vmap that has returned: grad of vmap)."""

    def __enter__(self):
        CREATING[0] += 1

    def __exit__(self, *exc):
        CREATING[0] -= 1


def _creator(name: str, original):
    def create(shape, *args, **kwargs):
        if not CREATING[0]:
            return original(shape, *args, **kwargs)
        if name == "full":
            fill = args[0] if args else kwargs.get("fill_value")
            if isinstance(fill, BatchedArray):
                dtype = (args[1] if len(args) > 1 else kwargs.get("dtype")) or fill.dtype
                if type(fill) is BatchedArray:  # batched at every level of fill (nested vmaps)
                    out = xp.empty_like(fill, dtype, shape=shape)
                else:
                    out = Promotable(xp.empty(shape, dtype))
                out[...] = fill
                return out
        return Promotable(original(shape, *args, **kwargs))

    create.__name__ = create.__qualname__ = name
    create.__doc__ = original.__doc__
    return create


proxy = None


def install() -> None:
    """Give dyngrad's op modules (at the first vmap) an `xp` namespace that is NumPy except for:
    `asarray`/`array`/`ascontiguousarray`/`asanyarray` return a BatchedArray as it is (op code
    calls them on results); `zeros`/`ones`/`empty`/`full` make Promotables while a vmap runs;
    `lib.stride_tricks.as_strided` views every sample alike. NumPy itself is not touched, so
    NumPy's own code (numpy.random's, numpy.pad's) keeps getting plain arrays."""
    global proxy
    if proxy is not None:
        return
    from dyngrad import _backend
    from dyngrad._tensor_str import tensor_repr
    from dyngrad.func import _rules

    _batched.set_tensor_codes(tensor_repr.__code__)
    proxy = _namespace(xp)
    for name in ("asarray", "array", "ascontiguousarray", "asanyarray"):
        setattr(proxy, name, _passthrough(name, getattr(xp, name)))
    for name in ("zeros", "ones", "empty", "full"):
        setattr(proxy, name, _creator(name, getattr(xp, name)))
    real_as_strided = xp.lib.stride_tricks.as_strided
    proxy.lib = _namespace(xp.lib)
    proxy.lib.stride_tricks = _namespace(xp.lib.stride_tricks)
    proxy.lib.stride_tricks.as_strided = _rules.as_strided
    _backend.xp = proxy
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("dyngrad") or name.startswith("dyngrad.func"):
            continue
        names = module.__dict__
        if names.get("xp") is xp:
            names["xp"] = proxy
        for key, value in list(names.items()):
            if value is real_as_strided:
                names[key] = _rules.as_strided


def _namespace(module):
    out = types.ModuleType(module.__name__)
    out.__dict__.update(module.__dict__)
    return out


def _passthrough(name: str, original):
    copies = name == "array"

    def wrapper(a, dtype=None, *args, **kwargs):
        if type(a) is _ndarray:
            return original(a, dtype, *args, **kwargs)
        if type(a) is Promotable:
            _dispatch.settle(a)
            if type(a) is Promotable:
                return original(a.value, dtype, *args, **kwargs)
        if type(a) is BatchedArray:
            if dtype is not None and xp.dtype(dtype) != a.dtype:
                return a.astype(dtype)
            if name == "ascontiguousarray":
                return BatchedArray(original(a.value), a.level)
            return a.copy() if copies and kwargs.get("copy", True) else a
        if type(a) in (list, tuple) and any(type(v) is BatchedArray for v in a):
            out = xp.stack(a)
            return out if dtype is None else out.astype(dtype)
        return original(a, dtype, *args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = original.__doc__
    return wrapper
