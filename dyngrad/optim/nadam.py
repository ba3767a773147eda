"""NAdam (Dozat): Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_adam_args,
    check_nonneg,
    closure_loss,
    ema_sq_,
    lerp_,
    real,
    to_scalar,
    weight_decay,
)


class NAdam(Optimizer):
    """Adam whose step mixes the gradient and the momentum with the schedule
    `mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))` and its running product."""

    _tensor_step = True
    _capturable_names = ("params, mu_products and state_steps",
                         "params, mu_products, and state_steps")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        check_nonneg("momentum_decay", momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, decay = group["eps"], group["weight_decay"], group["momentum_decay"]
            for p, state, g in self._stepped(group, ("exp_avg", "exp_avg_sq"), mu_product=1.0):
                step = state["step"].item()
                bias_correction2 = 1 - beta2**step
                x = p._data
                g = weight_decay(x, g, wd, lr, group["decoupled_weight_decay"])
                g, x = real(g), real(x)
                m, v = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay)))
                state["mu_product"]._data *= mu  # float32, as in PyTorch
                mu_product = state["mu_product"].item()
                lerp_(m, g, 1 - beta1)
                ema_sq_(v, g, beta2)
                denom = xp.sqrt(v / bias_correction2)
                denom += eps
                x += (-lr * (1.0 - mu) / (1.0 - mu_product) * g) / denom
                x += ((-lr * mu_next) / (1.0 - mu_product * mu_next) * m) / denom
                bump(p)
        return loss
