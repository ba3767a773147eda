"""`autograd.grad(..., is_grads_batched=True)`: one backward pass for a batch of grad_outputs.

Dim 0 of every grad_output is a batch of vectors; the vector-Jacobian products for all of them come
from a single backward pass run under `torch.func.vmap` (the batched gradients flow through the
graph as batched arrays), so `grad(y, x, eye(n), is_grads_batched=True)` is the whole Jacobian.
"""

from __future__ import annotations


class _Transforms:
    """How many torch.func transforms (vmap, grad, vjp, jvp) are running their function now:
    `backward()` refuses to run inside one, as in PyTorch."""

    depth = 0


transforms = _Transforms()

BACKWARD_IN_TRANSFORM = (
    "backward() called inside a functorch transform. This is not supported, please use "
    "functorch.grad or functorch.vjp instead or call backward() outside of functorch transforms."
)


def batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                 materialize_grads):
    """`autograd.grad` with dim 0 of each grad_output taken as a batch dim (PyTorch's checks)."""
    from dyngrad._tensor import Tensor
    from dyngrad.autograd import _tensors, grad
    from dyngrad.func.vmap import vmap_impl

    outs = _tensors(outputs)
    if grad_outputs is None:
        grads = (None,) * len(outs)
    else:
        grads = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    for i, (o, g) in enumerate(zip(outs, grads, strict=False)):
        if isinstance(g, Tensor) and tuple(g.shape[1:]) != tuple(o.shape):
            from dyngrad._size import Size

            # PyTorch strips the batch dim twice in the message (from grad[0].shape)
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions are "
                "expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{i}] has a shape of {Size(g.shape[2:])} and "
                f"output[{i}] has a shape of {o.shape}. If you only want some tensors in "
                "`grad_output` to be "
                "considered batched, consider using vmap."
            )

    def vjp(*gs):
        return grad(outs, inputs, gs, retain_graph=retain_graph, create_graph=create_graph,
                    allow_unused=allow_unused, materialize_grads=materialize_grads)

    in_dims = tuple(None if g is None else 0 for g in grads)
    return vmap_impl(vjp, in_dims, 0, grads, allow_none=True)


__all__ = ["batched_grad"]
