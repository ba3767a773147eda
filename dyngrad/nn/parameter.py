"""`Parameter`: a tensor that a `Module` registers as learnable when assigned as an attribute."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor (sharing `data`'s memory) that requires grad by default.

    >>> Parameter(torch.zeros(2))
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        arr = xp.empty(0, dtype=xp.float32) if data is None else data._data
        p = cls._make(arr)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(Tensor._make(data), requires_grad)


class UninitializedParameter(Parameter):
    """A parameter of a lazy module, whose shape is known only after the first forward."""

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    def materialize(self, shape, dtype=None) -> None:
        from dyngrad import _dtype

        d = _dtype.get_default_dtype() if dtype is None else dtype
        self._data = xp.empty(tuple(shape), dtype=d.np)
        self.__class__ = Parameter
