"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from dyngrad._backend import scalar_operand
from dyngrad._tensor import Tensor
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_fused,
    check_in_place,
    closure_loss,
    to_scalar,
)


def _operand(v, a):
    """A Python number as NumPy takes it fastest with array `a` (the same value: NEP 50 casts
    the number to a float array's dtype anyway)."""
    return scalar_operand(v, a.dtype) if type(v) is float and a.dtype.kind == "f" else v


class SGD(Optimizer):
    """`p -= lr * g`, where g is the gradient plus weight decay, optionally smoothed by a
    momentum buffer `b = momentum * b + (1 - dampening) * g` (Nesterov: `g + momentum * b`)."""

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float | Tensor = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if to_scalar(lr) < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, differentiable, foreach)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            momentum, dampening = group["momentum"], group["dampening"]
            weight_decay, nesterov = to_scalar(group["weight_decay"]), group["nesterov"]
            for p, g in self._with_grad(group):
                check_in_place(p, group)
                if group["maximize"]:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * p._data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = Tensor._make(g.copy())
                    else:
                        b = buf._data
                        b *= _operand(momentum, b)
                        b += _operand(1 - dampening, b) * g
                    g = g + momentum * buf._data if nesterov else buf._data
                p._data -= _operand(lr, g) * g
                bump(p)
        return loss
