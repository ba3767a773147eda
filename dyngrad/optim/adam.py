"""Adam (Kingma & Ba), with AMSGrad and optional decoupled weight decay (which is AdamW)."""

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


class Adam(Optimizer):
    """Moving averages of the gradient (m) and its square (v), bias-corrected:
    `p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`."""

    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None, decoupled_weight_decay: bool = False) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        check_nonneg("weight_decay", weight_decay)
        defaults = {"lr": lr, "betas": tuple(to_scalar(b) for b in betas), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            wd, eps, amsgrad = group["weight_decay"], group["eps"], group["amsgrad"]
            for p, g in self._with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state(0.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_avg_sq"] = zeros_state(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_state(p)
                if group["maximize"]:
                    g = -g
                state["step"]._data += 1
                step = state["step"].item()
                x = p._data
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                g, x = real(g), real(x)
                m, v = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                step_size = lr / (1 - beta1**step)
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                if amsgrad:
                    vmax = real(state["max_exp_avg_sq"]._data)
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                denom = xp.sqrt(v) / bias_correction2_sqrt
                denom += eps
                x += (-step_size * m) / denom
                bump(p)
        return loss
