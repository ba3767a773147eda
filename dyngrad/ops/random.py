"""random ops (in progress)."""

__all__: list = []
