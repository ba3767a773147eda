"""ASGD (Polyak & Juditsky): SGD with a decaying step size and a running average of the iterates."""

from __future__ import annotations

from dyngrad import _dtype
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_lr,
    check_nonneg,
    closure_loss,
    real,
    to_scalar,
    weight_decay,
)


class ASGD(Optimizer):
    """`p = p * (1 - lambd * eta) - eta * g`, then the average `ax += mu * (p - ax)`, with
    `eta_t = lr / (1 + lambd * lr * t)^alpha` and `mu_t = 1 / max(1, t - t0)` (averaging starts
    after `t0` steps; before, `ax` just follows `p`)."""

    _tensor_step = True
    _capturable_names = ("params, mus, etas, and state_steps",) * 2

    def __init__(self, params, lr=1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_lr(lr)
        check_nonneg("weight_decay", weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            default = _dtype.get_default_dtype().np
            for p, state, g in self._stepped(group, ("ax",), eta=lr, mu=1.0):
                step = state["step"].item()
                eta, mu = state["eta"].item(), state["mu"].item()  # rounded as stored
                g = weight_decay(p._data, g, group["weight_decay"])
                g, x, ax = real(g), real(p._data), real(state["ax"]._data)
                x *= 1 - lambd * eta
                x += -eta * g
                if mu != 1:
                    ax += (x - ax) * mu
                else:
                    ax[...] = x
                # PyTorch makes the new values default-dtype tensors before storing them
                state["eta"]._data[...] = default.type(lr / ((1 + lambd * lr * step) ** alpha))
                state["mu"]._data[...] = default.type(1 / max(1, step - t0))
                bump(p)
        return loss
