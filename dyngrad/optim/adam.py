"""Adam (Kingma & Ba), with AMSGrad and optional decoupled weight decay (which is AdamW)."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_adam_args,
    check_fused,
    closure_loss,
    ema_sq_,
    lerp_,
    real,
    to_scalar,
    weight_decay,
)


class Adam(Optimizer):
    """Moving averages of the gradient (m) and its square (v), bias-corrected:
    `p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`."""

    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True"
            )
        check_adam_args(lr, betas, eps, weight_decay)
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) else b for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, differentiable, foreach)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = (to_scalar(b) for b in group["betas"])
            wd, eps, amsgrad = group["weight_decay"], group["eps"], group["amsgrad"]
            buffers = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
            for p, state, g in self._stepped(group, buffers):
                step = state["step"].item()
                x = p._data
                g = weight_decay(x, g, wd, lr, group["decoupled_weight_decay"])
                g, x = real(g), real(x)
                m, v = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                lerp_(m, g, 1 - float(beta1))  # PyTorch casts a Tensor beta1 to p's dtype
                ema_sq_(v, g, beta2)
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
