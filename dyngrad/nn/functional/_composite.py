"""Ops computed by composing tensor ops but recorded as a single node, under PyTorch's name.

The node keeps the inputs and the composition; its backward runs the composition again and
differentiates it (on fresh leaves for a plain backward, on the inputs themselves under
`create_graph`, so derivatives of every order exist). It suits ops such as `grid_sample`, whose
gradient is long to write out by hand but whose forward is a short composition.
"""

from __future__ import annotations

from dyngrad._tensor import Tensor
from dyngrad.autograd import grad_mode
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import record

_CLASSES: dict = {}


class CompositeBackward(Node):
    kernel_takes_input = False

    def backward(self, grad):
        import dyngrad

        create = isinstance(grad, Tensor)
        saved = self.saved_tensors
        if create:
            ins = list(saved)
        else:
            ins = [Tensor._make(a).requires_grad_(n) for a, n in zip(saved, self.needs,
                                                                    strict=True)]
            grad = Tensor._make(grad)
        wrt = [t for t, n in zip(ins, self.needs, strict=True) if n]
        with grad_mode.enable_grad():
            out = self.fn(*ins)
        grads = iter(dyngrad.autograd.grad(out, wrt, grad, create_graph=create,
                                           allow_unused=True))
        res = []
        for t, n in zip(ins, self.needs, strict=True):
            g = next(grads) if n else None
            if n and g is None:
                g = dyngrad.zeros_like(t)
            res.append(g if g is None or create else g._data)
        if create and self.kernel_takes_input and res[0] is not None:
            name = type(self).__name__.replace("Backward0", "BackwardBackward0")
            res[0] = P.masked_by(res[0], ins[0], name, undefined=True)
        return tuple(res) if len(res) > 1 else res[0]


def composite(name: str, fn, *inputs: Tensor, kernel_takes_input: bool = False) -> Tensor:
    """fn(*inputs) (a composition of tensor ops) recorded as one node of class `name`.

    `kernel_takes_input`: PyTorch's backward kernel takes the first input, so under
    `create_graph` that input's gradient depends on it (derivative undefined, see P.masked_by).
    """
    cls = _CLASSES.get(name)
    if cls is None:
        cls = _CLASSES[name] = type(name, (CompositeBackward,), {})
    with grad_mode.no_grad():
        out = fn(*inputs)
    attrs = {"kernel_takes_input": True} if kernel_takes_input else {}
    return record(cls, out._data, inputs, save=inputs, fn=fn,
                  needs=[t.requires_grad for t in inputs], **attrs)
