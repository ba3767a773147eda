"""`torch.autograd.graph`: the Node type, gradient edges and graph-level hooks."""

from __future__ import annotations

from typing import NamedTuple

from dyngrad.autograd.node import Node


class GradientEdge(NamedTuple):
    """A (node, output_nr) pair: where the gradient of a tensor enters the graph."""

    node: Node
    output_nr: int

    def node_edge(self) -> tuple:
        return (self.node, self.output_nr)


def get_gradient_edge(tensor) -> GradientEdge:
    """The edge a tensor's gradient flows into (its AccumulateGrad for a leaf)."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor that does not require "
            "gradients"
        )
    node, nr = tensor._edge()
    return GradientEdge(node, nr)


def increment_version(tensor) -> None:
    """Bump a tensor's version by hand (for code that edits its memory directly)."""
    from dyngrad._tensor import bump_version

    bump_version(tensor)


__all__ = ["Node", "GradientEdge", "get_gradient_edge", "increment_version"]
