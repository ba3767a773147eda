"""`Parameter` and `Buffer`: tensors that a `Module` registers when assigned as an attribute, and
their uninitialized forms, which lazy modules give a shape at their first forward."""

from __future__ import annotations

from dyngrad import _dtype
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


class Buffer(Tensor):
    """A tensor (sharing `data`'s memory, detached) that a Module registers as a buffer when it
    is assigned as an attribute, persistent (saved in `state_dict`) or not."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = Tensor._make(xp.empty(0, _dtype.get_default_dtype().np))
        b = cls._make(data._data, data.requires_grad, version=data.detach()._vc)
        b.persistent = persistent
        return b

    def __reduce_ex__(self, protocol):
        return (_rebuild_buffer, (self._data, self._requires_grad, self.persistent))


def _rebuild_buffer(data, requires_grad, persistent):
    b = Buffer._make(data, requires_grad)
    b.persistent = persistent
    return b


class _Uninitialized:
    """An empty placeholder of a lazy module's parameter or buffer: it has a dtype but no shape
    until `materialize` gives it one (and turns it into `cls_to_become`)."""

    cls_to_become: type

    def materialize(self, shape, device=None, dtype=None) -> None:
        d = self._data.dtype if dtype is None else _dtype.as_dtype(dtype).np
        self._data = xp.empty(tuple(shape), dtype=d)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes."
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


def _empty(dtype):
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    return Tensor._make(xp.empty(0, d.np))


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter of a lazy module, whose shape is known only after the first forward."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return Parameter.__new__(cls, _empty(dtype), requires_grad)

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad, None, self.dtype))


class UninitializedBuffer(_Uninitialized, Buffer):
    """A buffer of a lazy module, whose shape is known only after the first forward."""

    cls_to_become = Buffer

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        b = Buffer.__new__(cls, _empty(dtype), persistent=persistent)
        b._requires_grad = requires_grad
        return b

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad, None, self.dtype, self.persistent))


def is_lazy(t) -> bool:
    """Whether `t` is an uninitialized parameter or buffer."""
    return isinstance(t, _Uninitialized)
