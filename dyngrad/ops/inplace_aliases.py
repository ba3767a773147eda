"""torch-level spellings of in-place methods: `torch.neg_(t)` is `t.neg_()`, and so on."""

from __future__ import annotations

from dyngrad._tensor import Tensor
from dyngrad.ops._core import check_tensor

__all__ = ["fill_", "neg_", "negative_", "reciprocal_", "index_put_", "i0_", "addmv_"]


def _alias(name: str):
    def fn(input, *args, **kwargs):
        check_tensor(input, name)
        return getattr(Tensor, name)(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(t, ...): t.{name}(...)."
    return fn


fill_, neg_, negative_, reciprocal_, index_put_, i0_, addmv_ = (_alias(n) for n in __all__)
