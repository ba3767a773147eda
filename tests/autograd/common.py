"""Run one program against dyngrad and against torch and compare everything it returns.

A program is `prog(lib)`; it may return tensors, numbers, strings, nested tuples / lists / dicts,
and `outcome(fn)` results, which catch an exception as `Raised(type name, message)`. Tensors are
compared with the shared harness (values, dtype, shape, requires_grad, grad_fn name); a dyngrad
message may extend torch's (dyngrad appends hints), so messages compare by prefix.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch

import dyngrad
from tests.harness import assert_same_tensor


class Raised(NamedTuple):
    type: str
    message: str


def doubling(lib, name: str = "Double", **methods):
    """A custom `lib.autograd.Function` named `name` computing 2x (backward 2g), with `methods`
    (e.g. `jvp=lambda ctx, t: ...`) added as further static methods."""
    body = {"forward": staticmethod(lambda ctx, x: x * 2),
            "backward": staticmethod(lambda ctx, g: g * 2)}
    body.update({key: staticmethod(fn) for key, fn in methods.items()})
    return type(name, (lib.autograd.Function,), body)


def outcome(fn, *args, **kwargs):
    """fn(*args, **kwargs), or the exception it raised as a `Raised`."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the exception is the result being compared
        return Raised(type(e).__name__, str(e))


def warned(fn, *args, **kwargs):
    """(fn's outcome, [(category name, message) of each warning it issued])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = outcome(fn, *args, **kwargs)
    # torch appends where in its C++ source a warning was raised: not part of the message
    return result, [(w.category.__name__, str(w.message).split(" (Triggered internally")[0])
                    for w in caught]


def assert_same(dg, th, path: str = "result", rtol=None, atol=None) -> None:
    if isinstance(th, torch.Tensor):
        assert isinstance(dg, dyngrad.Tensor), f"{path}: {dg!r} is not a Tensor"
        assert_same_tensor(dg, th, path, rtol=rtol, atol=atol)
    elif isinstance(th, Raised):
        assert isinstance(dg, Raised), f"{path}: dyngrad gave {dg!r}, torch raised {th}"
        assert dg.type == th.type, f"{path}: {dg.type}: {dg.message}\n!= torch's {th}"
        assert dg.message.startswith(th.message), (
            f"{path}: message differs:\ndyngrad: {dg.message}\ntorch:   {th.message}"
        )
    elif isinstance(th, tuple | list) and not isinstance(th, torch.Size):
        assert isinstance(dg, tuple | list), f"{path}: {dg!r} is not a sequence"
        assert type(dg).__name__ == type(th).__name__, f"{path}: {type(dg)} != {type(th)}"
        assert len(dg) == len(th), f"{path}: length {len(dg)} != torch's {len(th)}"
        for i, (d, t) in enumerate(zip(dg, th, strict=True)):
            assert_same(d, t, f"{path}[{i}]", rtol, atol)
    elif isinstance(th, dict):
        assert dg.keys() == th.keys(), f"{path}: keys {dg.keys()} != {th.keys()}"
        for k in th:
            assert_same(dg[k], th[k], f"{path}[{k!r}]", rtol, atol)
    elif isinstance(th, torch.Size):
        assert tuple(dg) == tuple(th), f"{path}: {dg} != torch's {th}"
    elif isinstance(th, str):
        assert dg == th.replace("torch.", "dyngrad.") or dg == th, f"{path}: {dg!r} != {th!r}"
    else:
        assert dg == th, f"{path}: {dg!r} != torch's {th!r}"


def both(prog, rtol=None, atol=None):
    """Run `prog` with each library and compare the results; returns dyngrad's."""
    th = prog(torch)
    dg = prog(dyngrad)
    assert_same(dg, th, rtol=rtol, atol=atol)
    return dg


def name(fn) -> str | None:
    """A grad_fn's class name (or None), comparable across the libraries."""
    return None if fn is None else type(fn).__name__
