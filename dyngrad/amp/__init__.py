"""`torch.amp`: automatic mixed precision — `autocast` regions and the `GradScaler`.

dyngrad keeps autocast's state and PyTorch's behaviour around it, but its ops always run in their
inputs' dtype (see `autocast_mode`); the GradScaler works in full (see `grad_scaler`).
"""

from dyngrad.amp import autocast_mode, grad_scaler
from dyngrad.amp.autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from dyngrad.amp.grad_scaler import GradScaler

__all__ = [
    "GradScaler", "autocast", "autocast_mode", "custom_bwd", "custom_fwd", "grad_scaler",
    "is_autocast_available",
]
