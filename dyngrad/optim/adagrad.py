"""Adagrad (Duchi et al.): per-coordinate steps shrinking with the sum of squared gradients."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_fused,
    check_lr,
    check_nonneg,
    closure_loss,
    real,
    scalar_state,
    to_scalar,
    weight_decay,
    zeros_state,
)


class Adagrad(Optimizer):
    """`s += g^2`; `p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)`."""

    _tensor_step = True

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None) -> None:
        check_lr(lr)
        check_nonneg("lr_decay", lr_decay)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("initial_accumulator_value", initial_accumulator_value)
        check_nonneg("epsilon", eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused(fused, differentiable, foreach)
        for group in self.param_groups:  # Adagrad creates its state eagerly, as PyTorch does
            for p in group["params"]:
                init = initial_accumulator_value
                state = self.state[p]
                state["step"] = scalar_state(0.0, fused)
                state["sum"] = zeros_state(p, complex(init, init) if p.is_complex() else init)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            wd, eps, lr_decay = group["weight_decay"], group["eps"], group["lr_decay"]
            for p, state, g in self._stepped(group):
                step = state["step"].item()
                g = weight_decay(p._data, g, wd)
                clr = lr / (1 + (step - 1) * lr_decay)
                g, x, s = real(g), real(p._data), real(state["sum"]._data)
                s += g * g
                std = xp.sqrt(s)
                std += eps
                x += (-clr * g) / std
                bump(p)
        return loss
