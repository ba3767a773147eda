"""RMSprop (Hinton): divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_lr,
    check_nonneg,
    closure_loss,
    ema_sq_,
    lerp_,
    real,
    to_scalar,
    weight_decay,
)


class RMSprop(Optimizer):
    """`v = alpha * v + (1 - alpha) * g^2`; `p -= lr * g / (sqrt(v) + eps)`. Centered subtracts
    the squared running mean of g from v; momentum accumulates the scaled step in a buffer."""

    _tensor_step = True
    _capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        check_nonneg("epsilon", eps)
        check_nonneg("momentum", momentum)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("alpha", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            buffers = ["square_avg"]
            if momentum > 0:
                buffers.append("momentum_buffer")
            if centered:
                buffers.append("grad_avg")
            for p, state, g in self._stepped(group, buffers):
                g = weight_decay(p._data, g, wd)
                g, x, v = real(g), real(p._data), real(state["square_avg"]._data)
                ema_sq_(v, g, alpha)
                if centered:
                    mean = real(state["grad_avg"]._data)
                    lerp_(mean, g, 1 - alpha)
                    avg = xp.sqrt(v + (-1 * mean) * mean)
                else:
                    avg = xp.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = real(state["momentum_buffer"]._data)
                    buf *= momentum
                    buf += g / avg
                    x -= lr * buf
                else:
                    x += (-lr * g) / avg
                bump(p)
        return loss
