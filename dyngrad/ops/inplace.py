"""In-place operations, version counters, and the rebasing of views (`CopySlices`).

Every in-place op is its out-of-place op plus a write: `x.mul_(y)` computes `mul(x, y)`, writes the
result into x's memory, bumps x's version (shared with all views of x and with `detach()`), and
makes the op's node x's new `grad_fn`. If the op saved x's old value for backward, that value is
copied first, so gradients stay right.

Writing into a *view* changes its base too. As in PyTorch the base's history becomes a
`CopySlices` node (the old base with the view's region replaced by the op's result), and the view's
history becomes an `AsStridedBackward0` that reads its region out of the base's gradient.
"""

from __future__ import annotations

import sys
import warnings

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad._tensor import bump_version as _bump
from dyngrad.autograd import forward_ad, grad_mode
from dyngrad.autograd.node import _BACKWARD_SUFFIX, Node, SavedOutput, expose, link, saved_hooks

_gm = grad_mode.state
_fw = forward_ad.state
_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)
_NO_GRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
    "code by moving both the view and the inplace either both inside the no_grad block (if you "
    "don't want the inplace to be tracked) or both outside (if you want the inplace to be "
    "tracked)."
)
_INFERENCE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone "
    "to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details."
)


def bump_version(t: Tensor, op: str) -> None:
    """Count an in-place write, remembering which op did it and from which line of user code."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("dyngrad"):
        frame = frame.f_back
    where = f" at {frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else ""
    _bump(t, f"{op}(){where}")


def check_inplace(t: Tensor, others) -> bool:
    """Raise PyTorch's errors for forbidden in-place writes; True if the write must be recorded."""
    if not _gm.inference:
        src = t if t._view is None else t._view.base  # a view of an inference tensor is one too
        if t._x is not None and "inference" in t._x or src._x is not None and "inference" in src._x:
            raise RuntimeError(_INFERENCE)
    if not _gm.enabled:
        return False
    recording = t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    if t._view is not None:
        t._refresh_view()
        view = t._view
        base = view.base
        if view.creation is not None and (t._requires_grad or recording or base._requires_grad):
            if view.creation == "no_grad" and (base._requires_grad or recording):
                raise RuntimeError(_NO_GRAD_VIEW)
            if view.creation.startswith("custom Function ") and recording:
                from dyngrad.autograd.function import VIEW_INPLACE

                raise RuntimeError(VIEW_INPLACE.format(nr=t._output_nr, name=view.creation[16:]))
            if view.creation != "no_grad" and recording:
                fn = t._grad_fn  # the op that made this view (also a view of such an output)
                name = view.creation if fn is None else _BACKWARD_SUFFIX.sub("", type(fn).__name__)
                raise RuntimeError(
                    f"Output {t._output_nr} of {name} is a view and is being modified "
                    "inplace. This view is the output of a function that returns multiple views. "
                    "Such functions do not allow the output views to be modified inplace. You "
                    "should replace the inplace operation by an out-of-place one."
                )
        if base._grad_fn is None and base._requires_grad:
            raise RuntimeError(_VIEW_OF_LEAF)
    elif t._grad_fn is None and t._requires_grad:
        raise RuntimeError(_LEAF)
    return recording


def write(t: Tensor, result: Tensor, op: str) -> None:
    """Store `result` in t's memory, casting as PyTorch allows and refusing what it refuses."""
    src = result._data
    dst = t._data
    if src.dtype is not dst.dtype and not _dtype.can_cast(_dtype.FROM_NP[src.dtype],
                                                          _dtype.FROM_NP[dst.dtype]):
        raise RuntimeError(
            f"result type {_dtype.FROM_NP[src.dtype]._short} can't be cast to the desired output "
            f"type {_dtype.FROM_NP[dst.dtype]._short}"
        )
    if src.shape != dst.shape:
        if xp.broadcast_shapes(src.shape, dst.shape) != dst.shape:
            raise RuntimeError(
                f"output with shape {list(dst.shape)} doesn't match the broadcast shape "
                f"{list(xp.broadcast_shapes(src.shape, dst.shape))}"
            )
    check_overlap(dst, op)
    if not dst.flags.writeable:
        raise RuntimeError("unsupported operation: the tensor's memory is read-only")
    xp.copyto(dst, src, casting="unsafe")
    bump_version(t, op)


_OVERLAP = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)


def check_overlap(dst, op: str) -> None:
    """Writing into an expanded tensor (several elements, one memory location): PyTorch allows
    fill_ and zero_ (one value everywhere), masked_fill_ and index_fill_ with a deprecation
    warning, and refuses every other in-place op."""
    if not dst.size or not any(st == 0 and n > 1
                               for n, st in zip(dst.shape, dst.strides, strict=True)):
        return  # (an empty tensor has no elements to share a location, whatever its strides)
    if op in ("fill_", "zero_"):
        return
    if op in ("masked_fill_", "index_fill_"):
        warnings.warn(
            f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor before "
            "performing this operation. This also applies to advanced indexing e.g. "
            "tensor[mask] = scalar", UserWarning, stacklevel=4)
        return
    raise RuntimeError(_OVERLAP)


def apply_inplace(t: Tensor, op, *args, name: str = "", **kwargs) -> Tensor:
    """Run `op(t, *args)` and write its result into t, recording it as PyTorch does."""
    others = args + tuple(kwargs.values())
    if not check_inplace(t, others):
        with grad_mode.no_grad():
            result = op(t, *args, **kwargs)
        write(t, result, name)
        if _fw.active:
            forward_ad.take_tangent(t, result)
        return t
    old = Tensor._make(t._data, t._requires_grad, t._grad_fn, t._output_nr)
    old._accum = t._accum
    old._view = t._view
    if saved_hooks:  # a pack hook may keep old's array: give it a copy the write cannot reach
        old._data = t._data.copy()
    if _fw.active:
        forward_ad.share_tangent(t, old)
    result = op(old, *args, **kwargs)
    # From here on `old` is a frozen value with a fixed history: were it still a view, a later
    # in-place write to the base would re-point its history at the base's new one.
    old._view = None
    node = result._grad_fn  # a wider result is cast by the write; the engine casts its gradient
    if node is not None and node._saved and any(
        type(s) is tuple and s[0] is old for s in node._saved
    ):
        old._data = t._data.copy()  # the formula needs the value from before the write
    write(t, result, name)
    if node is not None and node._saved:
        _adopt_saved_output(node, result, t)
    if _fw.active:
        forward_ad.take_tangent(t, result)
    if t._view is None:
        _take_history(t, node)
    else:
        _rebase(t, node)
    return t


def _adopt_saved_output(node, result: Tensor, t: Tensor) -> None:
    """An op that saved its output now saves t, which holds that output: later writes to t must
    fail its version check, as in PyTorch."""
    for s in node._saved:
        if type(s) is SavedOutput and s.data is result._data:
            s.data = t._data
            s.version = t._own_version()
            s.saved_version = s.version[0]


def _take_history(t: Tensor, node) -> None:
    retains = t.retains_grad
    t._grad_fn = node
    t._output_nr = 0
    t._requires_grad = True
    if retains:
        t._x["retains_grad"] = False
        t.retain_grad()


def _rebase(view: Tensor, node) -> None:
    base = view._view.base
    copy = CopySlices()
    link(copy, (base._edge(),) + node._next[1:])
    copy._meta = ((base._data.shape, base._data.dtype),) + node._meta[1:]
    copy.fn = view._view.fn
    copy.op = node
    copy._saved = node._saved  # released through `release`, which frees the op's values
    _take_history(base, copy)
    view._grad_fn = AsStridedBackward0.of(base, view._view.fn, view)
    view._output_nr = 0
    view._requires_grad = True
    view._view.base_fn = copy


class CopySlices(Node):
    """The base after an in-place op on one of its views: the op's gradient, written into the
    view's region of the base's gradient."""

    _plain = False

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def backward(self, grad):
        from dyngrad.autograd.engine import _fit

        result = grad.clone() if isinstance(grad, Tensor) else grad.copy()
        region = self.fn(result)
        check_overlap(region._data if isinstance(region, Tensor) else region, "copy_")  # an
        # expanded view's region: PyTorch refuses to write the gradient through it, as here
        grads = self.op.apply([region.clone() if isinstance(region, Tensor) else region.copy()])
        first = grads[0]
        if first is None:
            first = 0.0
        elif self.op._meta is not None:
            first = _fit(first, self.op._meta[0])
        if isinstance(region, Tensor):
            region.copy_(first)
        else:
            region[...] = first
        return (result,) + tuple(grads[1:])

    def release(self) -> None:
        self.op.release()
        self._saved = None


class AsStridedBackward0(Node):
    """A view whose base was modified in place: its gradient lands in its region of the base."""

    @classmethod
    def of(cls, base: Tensor, fn, view: Tensor) -> AsStridedBackward0:
        node = cls()
        link(node, (base._edge(),))
        node._meta = ((base._data.shape, base._data.dtype),)
        node.fn = fn
        node.size = tuple(view._data.shape)
        return node

    index = None  # flat positions, set by `as_strided`, whose elements may overlap

    def backward(self, grad):
        shape, dtype = self._meta[0]
        if self.index is not None:
            return self._scatter_add(grad, shape, dtype)
        if isinstance(grad, Tensor):
            from dyngrad.ops.creation import zeros

            out = zeros(shape, dtype=_dtype.FROM_NP[dtype])
            self.fn(out).copy_(grad)
            return out
        out = xp.zeros(shape, dtype)
        self.fn(out)[...] = grad
        return out

    keep = None  # with `index`: which view elements lie inside the input (None: all)

    def _scatter_add(self, grad, shape, dtype):
        n = 1
        for s in shape:
            n *= s
        if self.keep is not None:
            grad = grad[self.keep]
        if isinstance(grad, Tensor):
            from dyngrad.ops.creation import zeros
            from dyngrad.ops.indexing import index_put

            flat = zeros(n, dtype=_dtype.FROM_NP[dtype])
            return index_put(flat, (self.index,), grad, accumulate=True).reshape(shape)
        flat = xp.zeros(n, dtype)
        xp.add.at(flat, self.index, grad)
        return flat.reshape(shape)


expose(AsStridedBackward0, ("size",))
