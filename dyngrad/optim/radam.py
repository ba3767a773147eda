"""RAdam (Liu et al.): Adam whose adaptive step is switched on once its variance is tractable."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_adam_args,
    closure_loss,
    ema_sq_,
    lerp_,
    real,
    to_scalar,
    weight_decay,
)


class RAdam(Optimizer):
    """Plain momentum SGD while `rho_t <= 5`; afterwards Adam's step times the rectification
    `sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`."""

    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            for p, state, g in self._stepped(group, ("exp_avg", "exp_avg_sq")):
                step = state["step"].item()
                x = p._data
                g = weight_decay(x, g, wd, lr, group["decoupled_weight_decay"])
                g, x = real(g), real(x)
                m, v = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                lerp_(m, g, 1 - beta1)
                ema_sq_(v, g, beta2)
                bias_correction2 = 1 - beta2**step
                corrected = m / (1 - beta1**step)
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = xp.sqrt(v)
                    adaptive += eps
                    adaptive = bias_correction2**0.5 / adaptive
                    x -= corrected * lr * adaptive * rect
                else:
                    x -= corrected * lr
                bump(p)
        return loss
