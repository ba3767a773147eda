"""`torch.ops.aten`: ATen's operators by name, as PyTorch exposes them to Python.

`torch.ops.aten.add` is an overload packet, callable, whose attributes (`.default`, `.Tensor`,
`.Scalar`, ...) are the overloads. dyngrad's function of that name takes the arguments of every
overload, so each overload calls it; ATen-only ops that have no `torch.*` spelling live in
`_ATEN_ONLY`. A name dyngrad does not have raises PyTorch's AttributeError.
"""

from __future__ import annotations

import dyngrad as _dyngrad
from dyngrad._tensor import Tensor as _Tensor
from dyngrad.nn import functional as _F
from dyngrad.nn.functional import pooling as _pooling

# (module-level names shadow the lookup below: everything here but the op classes is private)
_ATEN_ONLY = {"max_pool2d_with_indices_backward": _pooling.max_pool2d_with_indices_backward}


class OpOverload:
    """One overload of an ATen op (`torch.ops.aten.add.Tensor`)."""

    def __init__(self, packet: OpOverloadPacket, name: str):
        self._packet, self._overloadname = packet, name

    def __call__(self, *args, **kwargs):
        return self._packet._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<OpOverload(op='aten.{self._packet._name}', overload='{self._overloadname}')>"

    def __str__(self) -> str:
        return f"aten.{self._packet._name}.{self._overloadname}"


class OpOverloadPacket:
    """An ATen op with all its overloads (`torch.ops.aten.add`)."""

    def __init__(self, name: str, fn):
        self._name, self._fn = name, fn

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __getattr__(self, overload: str) -> OpOverload:
        if overload.startswith("__"):
            raise AttributeError(overload)
        return OpOverload(self, overload)

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='aten.{self._name}')>"

    def __str__(self) -> str:
        return f"aten.{self._name}"


def __getattr__(name: str) -> OpOverloadPacket:
    """`aten.<name>`: the ATen-only op, else dyngrad's function or Tensor method of that name."""
    for namespace in (_ATEN_ONLY, vars(_dyngrad), vars(_F), vars(_Tensor)):
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type):
            return OpOverloadPacket(name, fn)
    raise AttributeError(f"'_OpNamespace' 'aten' object has no attribute '{name}'")
