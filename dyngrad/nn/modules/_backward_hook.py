"""Module backward hooks: identity nodes around a module's inputs and outputs catch the gradients
flowing through them, so `hook(module, grad_input, grad_output)` sees both."""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops._core import record_multi


class BackwardHookFunctionBackward(Node):
    def backward(self, *grads):
        return self.on_grads(grads)


def _wrap(tensors: list, on_grads) -> tuple:
    return record_multi(BackwardHookFunctionBackward, [t._data for t in tensors], tuple(tensors),
                        on_grads=on_grads)


class BackwardHook:
    """One forward call's bookkeeping: grad_output is caught first, then grad_input."""

    def __init__(self, module, hooks: list):
        self.module = module
        self.hooks = hooks
        self.n_inputs = 0
        self.input_wrapped = False
        self.grad_output = None

    def _run_hooks(self, grad_input: tuple) -> tuple:
        for hook in self.hooks:
            res = hook(self.module, grad_input, self.grad_output)
            if res is not None:
                res = tuple(res) if isinstance(res, tuple | list) else (res,)
                if len(res) != len(grad_input):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got "
                        f"{len(res)}, but expected {len(grad_input)}"
                    )
                grad_input = res
        return grad_input

    def setup_input_hook(self, args: tuple) -> tuple:
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(idx)
        need = [i for i in idx if args[i]._requires_grad]
        if not need:
            return args
        self.input_wrapped = True
        pos = {i: k for k, i in enumerate(idx)}

        def on_grads(grads):
            full = [None] * self.n_inputs
            for i, g in zip(need, grads, strict=True):
                full[pos[i]] = _as_tensor(g)
            full = self._run_hooks(tuple(full))
            return tuple(_as_data(full[pos[i]], g) for i, g in zip(need, grads, strict=True))

        wrapped = _wrap([args[i] for i in need], on_grads)
        out = list(args)
        for i, w in zip(need, wrapped, strict=True):
            out[i] = w
        return tuple(out)

    def setup_output_hook(self, out):
        single = isinstance(out, Tensor)
        outs = (out,) if single else out
        if not isinstance(outs, tuple):
            return out
        need = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o._requires_grad]
        if not need:
            return out

        def on_grads(grads):
            self.grad_output = tuple(_as_tensor(g) for g in grads)
            if not self.input_wrapped:
                self._run_hooks((None,) * self.n_inputs)
            return grads

        wrapped = _wrap([outs[i] for i in need], on_grads)
        res = list(outs)
        for i, w in zip(need, wrapped, strict=True):
            res[i] = w
        return res[0] if single else tuple(res)


def _as_tensor(g):
    return g if g is None or isinstance(g, Tensor) else Tensor._make(xp.asarray(g))


def _as_data(new, old):
    """A hook's tensor, back in the form the engine passed (array, or tensor under create_graph)."""
    if new is None or isinstance(old, Tensor):
        return new
    return new._data if isinstance(new, Tensor) else new
