"""Weight normalisation, w = g * v / ||v||: the primitive and the legacy hook-based API.

`nn.utils.weight_norm` (deprecated in PyTorch in favour of
`nn.utils.parametrizations.weight_norm`) keeps `weight_g` and `weight_v` as parameters and
recomputes `weight` in a forward pre-hook.
"""

from __future__ import annotations

import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.modules.module import Module
from dyngrad.nn.parameter import Parameter, UninitializedParameter
from dyngrad.ops import _poly as P
from dyngrad.ops._core import binary_operands, record

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def _other_dims(ndim: int, dim: int) -> tuple:
    return tuple(d for d in range(ndim) if d != dim)


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The p-norm of v over every dim but `dim` (kept, size 1, elsewhere); all dims if -1."""
    if dim == -1:
        return v.norm(pow)
    return v.norm(pow, _other_dims(v.ndim, dim), keepdim=True)


class WeightNormInterfaceBackward0(Node):
    """w = v * g / n, n = ||v|| over the other dims: grad_g = <grad, v> / n and
    grad_v = g / n * (grad - v <grad, v> / n^2)."""

    _saved_names = ("v", "g")

    def backward(self, grad):
        v, g = self.saved_tensors
        dims = self.dims
        n = P.sqrt(P.sum(v * v, dims, keepdim=True))
        gv = P.sum(grad * v, dims, keepdim=True)
        return g / n * (grad - v * gv / (n * n)), gv / n


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """torch._weight_norm: one node when dim is the first or last, else composed."""
    if dim not in (0, v.ndim - 1):
        return v * (g / norm_except_dim(v, 2, dim))
    a, b = binary_operands(v, g, "_weight_norm")
    dims = _other_dims(v.ndim, dim)
    n = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=True))
    return record(WeightNormInterfaceBackward0, a * (b / n), (v, g), save=(v, g), dims=dims)


class WeightNorm:
    """The forward pre-hook that recomputes `name` from `name_g` and `name_v`."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                            self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int) -> WeightNorm:
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. Make sure "
                "to run the dummy forward before applying weight normalization")
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """Split `module.<name>` into a magnitude `<name>_g` and a direction `<name>_v`."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold `<name>_g` and `<name>_v` back into one parameter `<name>`."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
