"""Fast linear primitives whose gradients stay differentiable.

Pooling, upsampling and embedding lookups are linear maps `y = A(x)` (given fixed indices or
weights). Their gradient is the adjoint `A^T(g)`, also linear, and the adjoint's gradient is `A`
again. `linear_op` runs the NumPy kernel on arrays (plain backward) and records a node on tensors
(`create_graph=True`), so every order of derivative costs one kernel call.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import record

_NODES: dict = {}


class LinearOpBackward(Node):
    """The gradient of `y = fn(x)`: `adj(grad)`, itself recorded when grad is a tensor."""

    def backward(self, grad):
        g = linear_op(grad, self.adj, self.fn, self.adj_name, type(self).__name__)
        if not self._saved:
            return g
        (x,) = self.saved_tensors  # checks x's version, as PyTorch's kernel reading it does
        return P.masked_by(g, x, self.adj_name)

    forward = None  # the map itself where it is not the adjoint of `adj` (see linear_op)

    def jvp(self, t):
        """The tangent of a linear map is the map applied to the tangent (for max_unpool with
        duplicate indices, where the kept value is the last one written, as PyTorch's)."""
        return linear_op(t, self.fn, self.adj, type(self).__name__, self.adj_name,
                         forward=self.forward)


def linear_op(x, fn, adj, name: str, adj_name: str | None = None, forward=None,
              saves_input: bool = False, affine: bool = False):
    """`fn(x)` for a linear kernel `fn` with adjoint `adj`; node `name` when x is a tensor.

    `forward`, when given, computes the output instead of `fn`: for ops whose gradient is
    deliberately not the true one (embedding's padding row), `fn` is the adjoint of `adj`;
    `affine`: `forward` is `fn` plus a constant (masked indexing's fill), so tangents use `fn`.
    `saves_input`: PyTorch's backward kernel takes the input (pooling), so the input is saved
    (an in-place change to it makes backward raise) and, under `create_graph`, the gradient
    depends on it with derivative zero (see `P.masked_by`).
    """
    if not isinstance(x, Tensor):
        return fn(x)
    cls = _NODES.get(name)
    if cls is None:
        cls = _NODES[name] = type(name, (LinearOpBackward,), {})
    attrs = {} if forward is None or affine else {"forward": forward}
    return record(cls, (forward or fn)(x._data), (x,), save=(x,) if saves_input else (),
                  fn=fn, adj=adj,
                  adj_name=adj_name or name.replace("Backward0", "BackwardBackward0"), **attrs)


def separable(x, mats: list, name: str, saves_input: bool = False):
    """Apply one matrix per trailing dim (`mats[i]` to dim -len(mats) + i): upsampling and
    adaptive average pooling are such maps, and their adjoint uses the transposed matrices."""
    n = len(mats)

    def apply(a, ms):
        for i, m in enumerate(ms):
            ax = a.ndim - n + i
            a = xp.moveaxis(xp.tensordot(a, m.astype(a.dtype, copy=False), axes=([ax], [1])),
                            -1, ax)
        return xp.ascontiguousarray(a)

    return linear_op(x, lambda a: apply(a, mats), lambda g: apply(g, [m.T for m in mats]), name,
                     saves_input=saves_input)
