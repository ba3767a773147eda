"""Adafactor (Shazeer & Stern): Adam-like steps from a factored second moment, without momentum."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.optim.optimizer import (
    Optimizer,
    bump,
    closure_loss,
    lerp_,
    scalar_state,
    to_scalar,
    zeros_state,
)


class Adafactor(Optimizer):
    """For a matrix gradient G (the last two dims), running means of its squares along rows (R)
    and columns (C) stand in for the full second moment: `V = R C / mean(R)`; vectors keep V
    itself. With `beta2_t = 1 - t^beta2_decay` and `rho_t = min(lr, 1/sqrt(t))`,
    `U = G / sqrt(V)` is clipped to RMS `d` and `p -= max(eps2, RMS(p)) * rho_t * U`."""

    _tensor_step = True

    def __init__(self, params, lr=1e-2, beta2_decay: float = -0.8, eps=(None, 1e-3),
                 d: float = 1.0, weight_decay: float = 0.0, *, foreach=None,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            eps1, eps2 = group["eps"]
            wd, d = group["weight_decay"], group["d"]
            if any(p.is_complex() for p, _ in self._with_grad(group)):
                raise RuntimeError("Adafactor does not support complex parameters")
            for p, g in self._with_grad(group):
                if group["maximize"]:
                    g = -g
                state = self.state[p]
                if not state:
                    state["step"] = scalar_state(0.0)
                    if g.ndim > 1:
                        state["row_var"] = Tensor._make(xp.zeros_like(g[..., :1]))
                        state["col_var"] = Tensor._make(xp.zeros_like(g[..., :1, :]))
                    else:
                        state["variance"] = zeros_state(p)
                if eps1 is None:  # PyTorch takes it from the group's first parameter
                    eps1 = float(xp.finfo(p._data.dtype).eps)
                state["step"]._data += 1
                step = state["step"].item()
                x = p._data
                beta2_complement = step**group["beta2_decay"]
                rho = min(lr, 1 / step**0.5)
                alpha = max(eps2, _rms(x)) * rho
                x *= 1 - lr * wd
                if g.ndim > 1:
                    row, col = state["row_var"]._data, state["col_var"]._data
                    lerp_(row, _mean_sq(g, -1), beta2_complement)
                    lerp_(col, _mean_sq(g, -2), beta2_complement)
                    var = row @ col
                    var /= xp.maximum(row.mean(axis=-2, keepdims=True), eps1)
                else:
                    var = state["variance"]._data
                    lerp_(var, g * g, beta2_complement)
                update = 1 / xp.sqrt(xp.maximum(var, eps1 * eps1))
                update *= g
                x -= alpha / max(1.0, _rms(update) / d) * update
                bump(p)
        return loss


def _rms(a) -> float:
    """Root mean square of all entries, as a Python float."""
    return float(xp.linalg.norm(a.ravel())) / a.size**0.5


def _mean_sq(g, axis: int):
    """Mean of g^2 along `axis` (kept), from the norm as PyTorch computes it."""
    return xp.square(xp.linalg.norm(g, axis=axis, keepdims=True)) / g.shape[axis]
