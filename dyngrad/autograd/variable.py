"""`Variable`: the pre-0.4 wrapper. It now returns a plain Tensor, and every Tensor is one."""

import warnings


class _VariableMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        from dyngrad._tensor import Tensor

        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """`Variable(t, requires_grad=...)` returns a new leaf sharing t's data and version counter."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from dyngrad._tensor import Tensor

        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:
            from dyngrad.ops.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
