"""Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_adam_args,
    closure_loss,
    lerp_,
    real,
    to_scalar,
    weight_decay,
)


class Adamax(Optimizer):
    """`u = max(beta2 * u, |g| + eps)`; `p -= lr / (1 - beta1^t) * m / u`."""

    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            for p, state, g in self._stepped(group, ("exp_avg", "exp_inf")):
                g = weight_decay(p._data, g, wd)
                g, x = real(g), real(p._data)
                m, u = real(state["exp_avg"]._data), real(state["exp_inf"]._data)
                lerp_(m, g, 1 - beta1)
                u *= beta2
                xp.maximum(u, xp.abs(g) + eps, out=u)
                clr = lr / (1 - beta1 ** state["step"].item())
                x += (-clr * m) / u
                bump(p)
        return loss
