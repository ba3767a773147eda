"""Adadelta (Zeiler): step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_lr,
    check_nonneg,
    closure_loss,
    real,
    scalar_state,
    to_scalar,
    zeros_state,
)


class Adadelta(Optimizer):
    """`v = rho v + (1 - rho) g^2`; `d = sqrt(u + eps) / sqrt(v + eps) * g`;
    `u = rho u + (1 - rho) d^2`; `p -= lr * d`."""

    _tensor_step = True

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_nonneg("weight_decay", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
            for p, g in self._with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state(0.0)
                    state["square_avg"] = zeros_state(p)
                    state["acc_delta"] = zeros_state(p)
                state["step"]._data += 1
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * p._data
                g, x = real(g), real(p._data)
                v, u = real(state["square_avg"]._data), real(state["acc_delta"]._data)
                v *= rho
                v += (1 - rho) * g * g
                delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
                u *= rho
                u += (1 - rho) * delta * delta
                x -= lr * delta
                bump(p)
        return loss
