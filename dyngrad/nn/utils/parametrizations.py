"""Ready-made parametrizations: `weight_norm`."""

from __future__ import annotations

from dyngrad.nn.modules.module import Module
from dyngrad.nn.utils import parametrize
from dyngrad.nn.utils.weight_norm import _weight_norm, norm_except_dim

__all__ = ["weight_norm"]


class _WeightNorm(Module):
    """weight = g * v / ||v||, from (original0, original1) = (g, v)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """Reparametrize `module.<name>` as magnitude times direction (original0 = g,
    original1 = v)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
