"""`torch.autograd.graph`: the Node type, gradient edges and graph-level hooks.

Saved-tensor hooks: inside `saved_tensors_hooks(pack, unpack)` every tensor a node saves for its
backward (by a built-in op or `ctx.save_for_backward`) goes through `pack`, and the result is kept
instead; backward gets `unpack(packed)`, linked back to the saved tensor's place in the graph.
`save_on_cpu` and `allow_mutation_on_saved_tensors` are such hook pairs.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

from dyngrad.autograd.node import Node, engine_state, saved_hooks
from dyngrad.utils.hooks import RemovableHandle


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


# --- saved-tensor hooks ------------------------------------------------------------------------
_disabled_message = None  # set inside disable_saved_tensors_hooks


class saved_tensors_hooks:
    """Context manager: `pack_hook(tensor)` runs on each tensor saved for backward, and
    `unpack_hook(packed)` gives it back in backward. Only the innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        if _disabled_message is not None:
            raise RuntimeError(_disabled_message)
        saved_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args) -> None:
        saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors on the CPU until backward (everything is on the CPU in dyngrad)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack_to_cpu(tensor):
            return (tensor.device, tensor.cpu())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Context manager in which registering saved-tensor hooks raises `error_message`."""
    global _disabled_message
    if saved_hooks:
        raise RuntimeError(error_message)
    prev = _disabled_message
    _disabled_message = error_message
    try:
        yield
    finally:
        _disabled_message = prev


class _AllowMutationOnSavedContext:
    """The state of one `allow_mutation_on_saved_tensors` block (cleared on exit)."""

    def __init__(self):
        self.active = True

    def clear(self) -> None:
        self.active = False


_MUTATION_CONTEXT = []


class _SavedCopy:
    """A tensor saved under `allow_mutation_on_saved_tensors`, with a copy of its value."""

    __slots__ = ("tensor", "version", "data", "ctx")

    def __init__(self, tensor, ctx):
        self.tensor = tensor
        self.version = tensor._vc[0]
        self.data = tensor._data.copy()
        self.ctx = ctx


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Context manager in which tensors saved for backward may be modified in place: backward
    still sees the value they had when saved. dyngrad copies each saved tensor when it is saved
    (PyTorch copies lazily, just before the first in-place write)."""
    from dyngrad._tensor import Tensor

    ctx = _AllowMutationOnSavedContext()

    def pack(t):
        return _SavedCopy(t, ctx)

    def unpack(saved):
        if not saved.ctx.active:
            raise AssertionError(
                "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                "in which the graph was originally recorded."
            )
        if saved.tensor._vc[0] == saved.version:
            return saved.tensor
        return Tensor._make(saved.data)

    with saved_tensors_hooks(pack, unpack):
        try:
            if _MUTATION_CONTEXT:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            _MUTATION_CONTEXT.append(ctx)
            yield ctx
        finally:
            ctx.clear()
            if _MUTATION_CONTEXT and _MUTATION_CONTEXT[-1] is ctx:
                _MUTATION_CONTEXT.pop()


# --- hooks over several tensors ----------------------------------------------------------------
class _MultiHandle(RemovableHandle):
    """Removes every per-tensor hook of one `register_multi_grad_hook` call."""

    def __init__(self, handles: tuple):
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _grad_fn_or_grad_acc(t):
    if isinstance(t, GradientEdge):
        return t.node
    if t.requires_grad and t.grad_fn is None:
        return t._accumulator()
    return t.grad_fn


def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """`fn` runs once per backward: with all the tensors' gradients (None for those this
    backward does not reach) in mode "all", or with the first one computed in mode "any"."""
    from dyngrad.autograd.engine import will_execute

    supported_modes = ("all", "any")
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")
    if mode == "all":
        grad_fns = [_grad_fn_or_grad_acc(t) for t in tensors]
        n = len(tensors)
        pending = {}  # backward id -> [gradients so far, how many, how many expected]

        def inner_hook(idx):
            def hook(grad):
                task = engine_state.task
                if task is None:
                    raise AssertionError("expected this hook to be called inside a backward call")
                state = pending.get(task[0])
                if state is None:
                    expected = sum(1 for f in grad_fns if f is not None and will_execute(f))
                    state = pending[task[0]] = [[None] * n, 0, expected]
                state[0][idx] = grad
                state[1] += 1
                if state[1] == state[2]:
                    del pending[task[0]]
                    fn(state[0])

            return hook

        handles = tuple(t.register_hook(inner_hook(i)) for i, t in enumerate(tensors))
    else:
        last = [None]  # the id of the backward call in which fn last ran

        def wrapped(grad):
            task = engine_state.task
            if task is None:
                raise AssertionError("expected this hook to be called inside a backward call")
            if task[0] == last[0]:
                return
            last[0] = task[0]
            fn(grad)

        handles = tuple(t.register_hook(wrapped) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


__all__ = ["Node", "GradientEdge", "get_gradient_edge", "increment_version",
           "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook", "allow_mutation_on_saved_tensors"]
