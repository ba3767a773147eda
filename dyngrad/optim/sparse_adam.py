"""SparseAdam: Adam for sparse gradients, updating only the entries a gradient holds.

dyngrad has no sparse tensors, so every gradient is dense and `step` refuses it with PyTorch's
error (as PyTorch does for a dense gradient); construction checks the options as PyTorch does.
"""

from __future__ import annotations

from dyngrad._tensor import Tensor
from dyngrad.optim.optimizer import Optimizer, check_betas, closure_loss


class SparseAdam(Optimizer):
    """Adam's moving averages and bias-corrected step, applied only where the (sparse) gradient
    has entries."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            for _ in self._with_grad(group):
                raise RuntimeError(
                    "SparseAdam does not support dense gradients, please consider Adam instead"
                )
        return loss
