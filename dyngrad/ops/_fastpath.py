"""Fast paths: the hottest operator calls, each done in one flat function.

On small tensors an op's time is Python's, mostly its function calls: `y * w` runs mul, then
binary_operands, input_needs_grad twice and record. The fast path of an operator does the same
work in one call for the common case: float tensors of one dtype and shape (or a tensor and a
Python number), grad mode on, and none of forward AD, saved-tensor hooks, anomaly mode or
inference tensors. Every other call goes to the op itself, which stays the one definition of
what the op does; tests/ops/test_fastpath.py checks that both build the same graph.

One difference, which is the other half of the saving: these nodes' `_meta` is None, "every
input has the output's shape and dtype", so the engine has no gradient to reduce or cast and
skips its per-edge check (autograd/node.py).
"""

from __future__ import annotations

import functools

from dyngrad._backend import _operands, ndarray, scalar_operand, xp
from dyngrad._tensor import Tensor
from dyngrad.autograd import node as _node
from dyngrad.autograd.node import SavedOutput
from dyngrad.ops._core import _anomaly, _edge_of, _fw, _gm, _make, _new, _seq, output

_NO_EDGE = (None, 0)
asarray = xp.asarray


def binary(op, cls, compute, save: str | None, scalar_cls=None):
    """`op(self, other)`'s fast path. `compute(a, b)` is its forward on arrays; `save` what its
    node keeps: None (nothing), "cross" (each input, where the other requires grad, as mul) or
    "div" (self where other requires grad, and other). A Python number operand gives `scalar_cls`
    (default `cls`) a node that keeps the number as its saved `other` (unless `save` is None)."""
    scalar_cls = scalar_cls or cls

    def fast(self, other):
        a = self._data
        if (type(a) is not ndarray or a.dtype.kind != "f" or not _gm.enabled or _fw.active
                or _anomaly.enabled or _node.saved_hooks or self._x is not None):
            return op(self, other)
        ta = type(other)
        if ta is float or ta is int:
            b = _operands[a.dtype].get(other)
            if b is None:
                b = scalar_operand(other, a.dtype)
            data = compute(a, b)
            if type(data) is not ndarray:  # (NumPy gives scalars for 0-dim operands)
                data = asarray(data)
            if not self._requires_grad:
                return _make(data)
            node = _new(scalar_cls)
            fn = self._grad_fn
            node._next = ((fn, self._output_nr) if fn is not None and self._view is None
                          and type(self) is Tensor else _edge_of(self), _NO_EDGE)
            node._meta = None
            node._saved = () if save is None else (None, other)
        else:
            if ta is not Tensor and not isinstance(other, Tensor):
                return op(self, other)
            b = other._data
            if (type(b) is not ndarray or b.dtype is not a.dtype or b.shape != a.shape
                    or other._x is not None):
                return op(self, other)
            data = compute(a, b)
            if type(data) is not ndarray:  # (NumPy gives scalars for 0-dim operands)
                data = asarray(data)
            ra, rb = self._requires_grad, other._requires_grad
            if not (ra or rb):
                return _make(data)
            node = _new(cls)
            fn, fn2 = self._grad_fn, other._grad_fn
            node._next = (
                (fn, self._output_nr) if fn is not None and self._view is None
                and type(self) is Tensor else _edge_of(self),
                (fn2, other._output_nr) if fn2 is not None and other._view is None
                and ta is Tensor else _edge_of(other),
            )
            node._meta = None
            if save is None:
                node._saved = ()
            elif save == "cross":
                node._saved = ((self, self._vc[0]) if rb else None,
                               (other, other._vc[0]) if ra else None)
            else:
                node._saved = ((self, self._vc[0]) if rb else None, (other, other._vc[0]))
        node._seq = next(_seq)
        node._hooks = None
        return output(data, node)

    return functools.wraps(op)(fast)


def unary(op, cls, compute, save: str | None):
    """`op(input)`'s fast path for a float tensor: `compute(a)` is its forward on the array;
    `save` what its node keeps: None, "self" (the input) or "result" (the output)."""

    def fast(input, *, out=None):
        if (out is not None or type(input) is not Tensor or not _gm.enabled or _fw.active
                or _anomaly.enabled or _node.saved_hooks or input._x is not None):
            return op(input) if out is None else op(input, out=out)
        a = input._data
        if type(a) is not ndarray or a.dtype.kind != "f":
            return op(input) if out is None else op(input, out=out)
        data = compute(a)
        if type(data) is not ndarray:
            data = asarray(data)
        if not input._requires_grad:
            return _make(data)
        node = _new(cls)
        fn = input._grad_fn
        node._next = ((fn, input._output_nr) if fn is not None and input._view is None
                      else _edge_of(input),)
        node._meta = None
        node._seq = next(_seq)
        node._hooks = None
        out = output(data, node)
        if save is None:
            node._saved = ()
        elif save == "self":
            node._saved = ((input, input._vc[0]),)
        else:
            node._saved = (SavedOutput.of_new(out),)
        return out

    return functools.wraps(op)(fast)
