"""`torch.backends.opt_einsum`: the opt_einsum package is not used (nor is it installed here
for PyTorch), so `is_available()` is False; `enabled` and `strategy` are plain attributes, as in
PyTorch without the package."""

__all__ = ["is_available", "get_opt_einsum", "enabled", "strategy"]

enabled = False
strategy = None


def is_available() -> bool:
    return False


def get_opt_einsum():
    """The opt_einsum module if it is used: None."""
    return None
