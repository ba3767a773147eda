"""linalg ops (in progress)."""

__all__: list = []
