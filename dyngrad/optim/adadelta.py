"""Adadelta (Zeiler): step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_lr,
    check_nonneg,
    closure_loss,
    ema_sq_,
    real,
    to_scalar,
    weight_decay,
)


class Adadelta(Optimizer):
    """`v = rho v + (1 - rho) g^2`; `d = sqrt(u + eps) / sqrt(v + eps) * g`;
    `u = rho u + (1 - rho) d^2`; `p -= lr * d`."""

    _tensor_step = True
    _capturable_xla = (False, False)

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonneg("epsilon", eps)
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
            for p, state, g in self._stepped(group, ("square_avg", "acc_delta")):
                g = weight_decay(p._data, g, wd)
                g, x = real(g), real(p._data)
                v, u = real(state["square_avg"]._data), real(state["acc_delta"]._data)
                ema_sq_(v, g, rho)
                delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
                ema_sq_(u, delta, rho)
                x -= lr * delta
                bump(p)
        return loss
