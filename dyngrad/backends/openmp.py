"""`torch.backends.openmp`: dyngrad runs no OpenMP threads of its own."""

__all__ = ["is_available"]


def is_available() -> bool:
    """False: dyngrad has no OpenMP parallel loops (PyTorch's CPU build says True)."""
    return False
