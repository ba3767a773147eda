"""Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_betas,
    check_lr,
    check_nonneg,
    closure_loss,
    lerp_,
    real,
    scalar_state,
    to_scalar,
    zeros_state,
)


class Adamax(Optimizer):
    """`u = max(beta2 * u, |g| + eps)`; `p -= lr / (1 - beta1^t) * m / u`."""

    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        check_nonneg("weight_decay", weight_decay)
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
            for p, g in self._with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state(0.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_inf"] = zeros_state(p)
                if group["maximize"]:
                    g = -g
                state["step"]._data += 1
                if wd != 0:
                    g = g + wd * p._data
                g, x = real(g), real(p._data)
                m, u = real(state["exp_avg"]._data), real(state["exp_inf"]._data)
                lerp_(m, g, 1 - beta1)
                u *= beta2
                xp.maximum(u, xp.abs(g) + eps, out=u)
                clr = lr / (1 - beta1 ** state["step"].item())
                x += (-clr * m) / u
                bump(p)
        return loss
