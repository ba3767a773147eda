"""Rprop (Riedmiller & Braun): per-coordinate step sizes adapted from the signs of the gradient."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    check_lr,
    closure_loss,
    real,
    scalar_state,
    to_scalar,
    zeros_state,
)


class Rprop(Optimizer):
    """Each coordinate's step size grows by `etaplus` while its gradient keeps its sign and
    shrinks by `etaminus` when the sign flips (clamped to `step_sizes`); after a flip that
    coordinate waits one step (its gradient counts as 0). `p -= sign(g) * step_size`."""

    _tensor_step = True
    _capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_min, step_max = group["step_sizes"]
            lr = to_scalar(group["lr"])
            for p, _ in self._with_grad(group):
                state = self.state[p]
                if not state:  # step sizes start at lr (for both parts of a complex number)
                    state["step"] = scalar_state(0.0)
                    state["prev"] = zeros_state(p)
                    state["step_size"] = zeros_state(p, complex(lr, lr) if p.is_complex() else lr)
            for p, state, g in self._stepped(group):
                g, x = real(g), real(p._data)
                prev, size = real(state["prev"]._data), real(state["step_size"]._data)
                factor = xp.sign(g * prev)
                factor[factor > 0] = etaplus
                factor[factor < 0] = etaminus
                factor[factor == 0] = 1
                size *= factor
                xp.clip(size, step_min, step_max, out=size)
                g = g.copy()
                g[factor == etaminus] = 0
                x -= xp.sign(g) * size
                prev[...] = g
                bump(p)
        return loss
