"""Argument parsers of the layers (`torch.nn.modules.utils`'s `_single`, `_pair`, ...)."""

from __future__ import annotations

from collections.abc import Iterable


def _ntuple(n: int, name: str = "parse"):
    """A parser that keeps an iterable as a tuple and repeats anything else n times."""

    def parse(x) -> tuple:
        return tuple(x) if isinstance(x, Iterable) else (x,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")
