"""Muon (Jordan et al.): momentum SGD for 2-D weights whose step is the orthogonalized momentum."""

from __future__ import annotations

import math

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.optim.optimizer import Optimizer, bump, closure_loss, lerp_, to_scalar, zeros_state


class Muon(Optimizer):
    """`B = lerp(B, g, 1 - momentum)`; the update `O = NS(lerp(g, B, momentum))` (Nesterov) or
    `NS(B)`, where NS maps a matrix to roughly the orthogonal factor of its SVD;
    `p = p * (1 - lr * weight_decay) - adjusted_lr * O`. For 2-D parameters only."""

    def __init__(self, params, lr=1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients=(3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            momentum = group["momentum"]
            if any(p.is_complex() for p, _ in self._with_grad(group)):
                raise RuntimeError("Muon does not support complex parameters")
            for p, g in self._with_grad(group):
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = zeros_state(p)
                if g.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                buf = state["momentum_buffer"]._data
                lerp_(buf, g, 1 - momentum)
                if group["nesterov"]:
                    update = g.copy()
                    lerp_(update, buf, momentum)
                else:
                    update = buf
                update = _newton_schulz(update, group["ns_coefficients"], group["ns_steps"],
                                        group["eps"])
                x = p._data
                x *= 1 - lr * group["weight_decay"]
                x += -_adjust_lr(lr, group["adjust_lr_fn"], x.shape) * update.astype(x.dtype)
                bump(p)
        return loss


def _newton_schulz(g, coefficients, steps: int, eps: float):
    """`steps` rounds of `X = a X + (b A + c A^2) X`, `A = X X^T`, from `X = G / |G|` (wide
    side first): the singular values are pushed towards 1 (roughly, into [0.5, 1.5]). PyTorch
    computes in bfloat16, so every result is rounded to it here too (in float64 arrays)."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if g.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = _bfloat16((g.T if tall else g).astype(xp.float32))  # PyTorch casts via float32
    x = _bfloat16(x / _bfloat16(max(_bfloat16(xp.sqrt(xp.sum(x * x))), eps)))
    for _ in range(steps):
        gram = _bfloat16(x @ x.T)
        poly = _bfloat16(b * gram + c * (gram @ gram))
        x = _bfloat16(a * x + poly @ x)
    return x.T if tall else x


def _bfloat16(a):
    """`a` rounded to the nearest bfloat16 (ties to even: 7 of float64's 52 fraction bits
    kept), as float64."""
    a = xp.asarray(a, dtype=xp.float64)
    bits = a.view(xp.uint64)
    bits = (bits + (2**44 - 1) + ((bits >> 45) & 1)) >> 45 << 45
    return xp.where(xp.isnan(a), a, bits.view(xp.float64))


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape) -> float:
    """lr scaled for the matrix shape (A, B): by sqrt(max(1, A/B)) ("original", Keller Jordan's,
    the default) or by 0.2 sqrt(max(A, B)) ("match_rms_adamw", Moonshot's: AdamW's update RMS)."""
    rows, cols = shape[:2]
    if adjust_lr_fn in (None, "original"):
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * (0.2 * math.sqrt(max(rows, cols)))
    return lr  # another name, set on the group after construction: unscaled, as in PyTorch
