"""`torch.backends.mps`: Apple's Metal backend, absent here as in PyTorch on Linux."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
