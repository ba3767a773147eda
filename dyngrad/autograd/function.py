"""Custom differentiable operations: `torch.autograd.Function`.

A subclass defines a static `forward` and `backward`; `Fn.apply(*args)` runs the forward without
recording and, if an input requires grad, links the outputs to one node of the class
`<Name>Backward`. As in PyTorch that node *is* the `ctx` the user's methods receive: whatever
`forward` stores on ctx (saved tensors, attributes) is read back in `backward`.

The engine hands a node NumPy arrays in a plain backward; this node wraps them into tensors for the
user's `backward` and unwraps the results, so user code always sees tensors.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor, bump_version
from dyngrad.autograd import anomaly_mode, forward_ad, grad_mode
from dyngrad.autograd.node import (
    BACKWARD_TWICE,
    Node,
    SavedOutput,
    engine_state,
    link,
    unpack_saved,
)

_gm = grad_mode.state
_ids = itertools.count()

_NO_BACKWARD = (
    "You must implement either the backward or vjp method for your custom autograd.Function to "
    "use it with backward mode AD."
)
_NO_JVP = (
    "You must implement the jvp function for custom autograd.Function to use it with forward "
    "mode AD."
)
VIEW_INPLACE = (  # see ops/inplace.py
    "Output {nr} of {name} is a view and is being modified inplace. This view was created inside "
    "a custom Function (or because an input was returned as-is) and the autograd logic to handle "
    "view+inplace would override the custom backward associated with the custom Function, "
    "leading to incorrect gradients. This behavior is forbidden. You can fix this by cloning the "
    "output of the custom Function."
)


class FunctionCtx:
    """What `forward` / `setup_context` may call on ctx."""

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for `backward` (version-checked, freed after backward, seen by hooks)."""
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for `jvp` (forward-mode AD)."""
        for tensor in tensors:
            if not (isinstance(tensor, Tensor) or tensor is None):
                raise AssertionError(
                    "save_for_forward expects all arguments to be tensors; you should save "
                    "non-tensors as attributes on ctx."
                )
        self.saved_for_forward = tensors

    def mark_dirty(self, *args) -> None:
        """Declare inputs that forward modified in place (they must be returned)."""
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args) -> None:
        """Declare outputs that get no gradient (they come back with requires_grad=False)."""
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        """False: undefined output gradients reach backward as None instead of zeros."""
        self.materialize_grads = value

    def mark_shared_storage(self, *pairs) -> None:
        warnings.warn(
            "`mark_shared_storage` is deprecated. Tensors with shared storages are automatically "
            "tracked. Note that calls to `set_()` are not tracked",
            FutureWarning,
            stacklevel=2,
        )


class BackwardCFunction(Node, FunctionCtx):
    """The node (and ctx) of one `Function.apply` call; subclassed once per Function."""

    _plain = False  # the engine goes through `apply`, which wraps and checks gradients
    _forward_cls = None
    _out_meta = None  # all None: the engine leaves missing gradients to `_engine_apply`
    _grad_meta = ()  # per output: (shape, dtype) of a zero gradient, or None for a non-tensor
    _in_jvp = False

    @property
    def needs_input_grad(self) -> tuple:
        return self.__dict__["_needs_input_grad"]

    @property
    def materialize_grads(self) -> bool:
        return self.__dict__.get("_materialize", True)

    @materialize_grads.setter
    def materialize_grads(self, value: bool) -> None:
        self.__dict__["_materialize"] = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to `save_for_backward` (or `save_for_forward` inside `jvp`)."""
        if self._in_jvp:
            return self.__dict__.get("saved_for_forward", ())
        saved = self._saved
        if saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        return tuple(unpack_saved(self, item, True) for item in saved)

    saved_variables = saved_tensors

    def __dir__(self):
        return sorted(set(object.__dir__(self))
                      - {"_needs_input_grad", "_materialize", "_is_tensor_arg"})

    def _get_user_fn(self):
        cls = self._forward_cls
        backward_fn, vjp_fn = cls.backward, cls.vjp
        if backward_fn is not Function.backward and vjp_fn is not Function.vjp:
            raise RuntimeError(
                "Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You "
                "should only implement one of them."
            )
        return vjp_fn if vjp_fn is not Function.vjp else backward_fn

    def apply(self, *args):
        """The engine calls `apply([grads])`; a user may call `grad_fn.apply(*grads)` directly."""
        if len(args) == 1 and type(args[0]) is list:
            return self._engine_apply(args[0])
        return self._get_user_fn()(self, *args)

    def _engine_apply(self, grads: list) -> tuple:
        create_graph = engine_state.create_graph
        wrapped = []
        materialize = self.materialize_grads
        for g, meta in zip(grads, self._grad_meta, strict=True):
            if g is None:
                if materialize and meta is not None:
                    g = Tensor._make(xp.zeros(*meta))
            elif not isinstance(g, Tensor):
                g = Tensor._make(xp.asarray(g))  # a 0-dim gradient may be a NumPy scalar
            wrapped.append(g)
        result = self._get_user_fn()(self, *wrapped)
        if type(result) is not tuple:
            result = (result,)
        return tuple(self._check_grads(result, create_graph))

    def _check_grads(self, result: tuple, create_graph: bool):
        """PyTorch's checks on what backward returned (count, types, shapes); yields the
        gradients of the tensor inputs, which are the node's edges."""
        is_tensor = self.__dict__["_is_tensor_arg"]
        n_in = len(is_tensor)
        name = type(self).__name__
        if len(result) > n_in and all(g is None for g in result[n_in:]):
            result = result[:n_in]
        if len(result) != n_in:
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients (expected {n_in}, "
                f"got {len(result)})"
            )
        edge = -1
        for i, g in enumerate(result):
            if not is_tensor[i]:
                if g is not None:
                    raise RuntimeError(
                        f"function {name} returned a gradient different than None at position "
                        f"{i + 1}, but the corresponding forward input was not a Variable"
                    )
                continue
            edge += 1
            if g is not None and not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if g is None or self._next[edge][0] is None:
                yield None
                continue
            shape = self._meta[edge][0]
            if g._data.shape != shape and not _expandable(shape, g._data.shape):
                raise RuntimeError(
                    f"Function {name} returned an invalid gradient at index {edge} - got "
                    f"{list(g._data.shape)} but expected shape compatible with {list(shape)}"
                )
            yield g if create_graph else g._data

    def _apply_jvp(self, tangents: list):
        """Run the user's `jvp` (forward AD off, grad mode on) and return output tangents."""
        self._in_jvp = True
        try:
            with grad_mode.enable_grad(), forward_ad.disabled():
                result = self._forward_cls.jvp(self, *tangents)
        finally:
            self._in_jvp = False
        return result if type(result) is tuple else (result,)


class FunctionMeta(type):
    """Gives each Function subclass its own node class, `<Name>Backward` (no digit)."""

    def __init__(cls, name, bases, attrs):
        backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        backward_cls._autograd_function_id = next(_ids)
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class _SingleLevelFunction(FunctionCtx, metaclass=FunctionMeta):
    @staticmethod
    def forward(*args, **kwargs):
        """Compute the outputs (either `forward(ctx, *args)`, or `forward(*args)` with
        `setup_context`)."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs: tuple, output):
        """Fill ctx from the inputs and output, for a `forward` that takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """One gradient (or None) per forward input, from one gradient per output."""
        raise NotImplementedError(_NO_BACKWARD)

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """One output tangent per output, from one tangent per input (forward-mode AD)."""
        raise NotImplementedError(_NO_JVP)


class Function(_SingleLevelFunction):
    """Base class of custom autograd operations: subclass, write static methods, call `apply`."""

    generate_vmap_rule = False

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod "
            "or set generate_vmap_rule=True."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run `forward` and record the call as one `<Name>Backward` node."""
        setup = cls.setup_context is not _SingleLevelFunction.setup_context
        if setup:
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        return _apply(cls, setup, args, kwargs)


def _apply(cls, setup: bool, args: tuple, kwargs: dict):
    ctx = cls._backward_cls()
    needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    ctx.__dict__["_needs_input_grad"] = needs
    recording = _gm.enabled and any(needs)
    if recording:
        tensors = [a for a in args if isinstance(a, Tensor)]
        link(ctx, tuple(a._edge() for a in tensors))
        ctx._meta = tuple((a._data.shape, a._data.dtype) for a in tensors)
        ctx.__dict__["_is_tensor_arg"] = tuple(isinstance(a, Tensor) for a in args)
    tangents = forward_ad.input_tangents(args)
    with grad_mode.no_grad(), forward_ad.disabled():
        if setup:
            out = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **kwargs)
    is_tuple = type(out) is tuple
    outs = out if is_tuple else (out,)
    outs = _wrap_outputs(ctx, cls, args, outs, recording)
    if recording:
        _save(ctx, outs)
        if anomaly_mode.state.enabled:
            anomaly_mode.record(ctx)
    else:
        ctx.__dict__.pop("to_save", None)
    if tangents is not None:
        _forward_grads(ctx, cls, args, outs, tangents)
    return outs if is_tuple else outs[0]


def _wrap_outputs(ctx, cls, args: tuple, outs: tuple, recording: bool) -> tuple:
    """Give each tensor output its history, as PyTorch's `_wrap_outputs` does."""
    d = ctx.__dict__
    dirty = d.pop("dirty_tensors", ())
    non_diff = d.pop("non_differentiable", ())
    inputs = [a for a in args if isinstance(a, Tensor)]
    for t in dirty:
        if not any(t is o for o in outs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the Function."
            )
    wrapped = []
    metas = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            wrapped.append(o)
            metas.append(None)
            continue
        metas.append((o._data.shape, o._data.dtype))
        is_input = any(o is a for a in inputs)
        is_dirty = any(o is t for t in dirty)
        if is_dirty:
            bump_version(o)
        differentiable = (recording and o._data.dtype.kind in "fc"
                          and not any(o is t for t in non_diff))
        if not differentiable:
            if is_input and not is_dirty:
                alias = Tensor._make(o._data, version=o._own_version())
                if _gm.enabled:
                    from dyngrad.ops.shape import as_view

                    alias = as_view(alias, o, _identity)
                o = alias
            wrapped.append(o)
            continue
        if is_dirty:
            _set_dirty_history(ctx, o, i, args)
        elif is_input:
            from dyngrad.ops.shape import as_view

            alias = Tensor._make(o._data, True, ctx, i)
            o = as_view(alias, o, _identity, _custom_view_creation(cls))
        else:
            o._grad_fn, o._output_nr, o._requires_grad = ctx, i, True
            if o._view is not None:
                o._view.creation = _custom_view_creation(cls)
                o._view.base_fn = o._view.base._grad_fn
        wrapped.append(o)
    if recording:
        ctx._n_out = len(outs)
        ctx._grad_meta = metas
        ctx._out_meta = (None,) * len(outs)
    return tuple(wrapped)


def _identity(a):
    return a


def _custom_view_creation(cls) -> str:
    """The `ViewInfo.creation` tag whose in-place error is PyTorch's custom-Function one."""
    return "custom Function " + cls.__name__


def _set_dirty_history(ctx, t: Tensor, nr: int, args: tuple) -> None:
    """An input modified in place by forward: it keeps its identity, with ctx as history."""
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad has been used in an in-place operation."
        )
    t._grad = None  # as PyTorch: the modified tensor drops its .grad and its hooks
    if t._x is not None:
        t._x.pop("retains_grad", None)
    if t._view is not None:
        first = next(a for a in args if isinstance(a, Tensor))
        if first is not t:  # CopySlices takes the view's gradient from the node's first edge
            raise NotImplementedError(
                "dyngrad: a view marked dirty must be the first tensor argument of the Function"
            )
        from dyngrad.ops.inplace import _rebase

        _rebase(t, ctx)
        return
    t._grad_fn, t._output_nr, t._requires_grad = ctx, nr, True


def _save(ctx, outs: tuple) -> None:
    """Pack `save_for_backward`'s tensors: outputs as `SavedOutput` (no reference cycle)."""
    to_save = ctx.__dict__.pop("to_save", ())
    items = []
    for i, t in enumerate(to_save):
        if t is None:
            items.append(None)
        elif not isinstance(t, Tensor):
            raise TypeError(
                f"save_for_backward can only save variables, but argument {i} is of type "
                f"{type(t).__name__}"
            )
        elif t._grad_fn is ctx and any(t is o for o in outs):
            items.append(SavedOutput(t))
        else:
            items.append(t)
    if items:
        ctx.save(*items)


def _forward_grads(ctx, cls, args: tuple, outs: tuple, tangents: list) -> None:
    """Forward-mode AD through a custom Function: its `jvp` gives the output tangents."""
    if cls.jvp is _SingleLevelFunction.jvp:
        raise NotImplementedError(_NO_JVP)
    ins = []
    for a, t in zip(args, tangents, strict=True):
        if t is None and isinstance(a, Tensor):
            t = Tensor._make(xp.zeros_like(a._data))
        ins.append(t)
    result = ctx._apply_jvp(ins)
    if len(result) != len(outs):
        raise RuntimeError(
            "Function's jvp returned an invalid number of forward gradients (expected "
            f"{len(outs)} but got {len(result)})"
        )
    for o, t in zip(outs, result, strict=True):
        if isinstance(o, Tensor) and t is not None and o._data.dtype.kind in "fc":
            forward_ad.set_tangent(o, t)


def _expandable(shape: tuple, to: tuple) -> bool:
    """Whether `shape` broadcasts to `to` (so a gradient of shape `to` can be summed down)."""
    if len(shape) > len(to):
        return False
    lead = len(to) - len(shape)
    return all(s == t or s == 1 for s, t in zip(shape, to[lead:], strict=True))


class Error(Node):
    """The history of a `once_differentiable` backward's results: differentiating raises."""

    def name(self) -> str:
        return "torch::autograd::Error"

    def backward(self, *grads):
        raise RuntimeError(self.msg)


def once_differentiable(fn):
    """Decorate a backward that cannot itself be differentiated: its results raise if one tries."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not _gm.enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        is_tuple = type(outputs) is tuple
        items = outputs if is_tuple else (outputs,)
        node = Error()
        node.msg = ("trying to differentiate twice a function that was marked with "
                    "@once_differentiable")
        # As in PyTorch, the node hangs off detached copies that require grad.
        fakes = [Tensor._make(t._data, True) if isinstance(t, Tensor) else None for t in items]
        link(node, tuple((None, 0) if f is None else f._edge() for f in fakes))
        node._meta = tuple(None if f is None else (f._data.shape, f._data.dtype) for f in fakes)
        node._n_out = len(items)
        node._out_meta = [(t._data.shape, t._data.dtype) if isinstance(t, Tensor) else None
                          for t in items]
        wrapped = tuple(
            Tensor._make(t._data, True, node, i) if isinstance(t, Tensor) else t
            for i, t in enumerate(items)
        )
        return wrapped if is_tuple else wrapped[0]

    return wrapper


class InplaceFunction(Function):
    """Kept for backward compatibility: a Function with an `inplace` flag."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "FunctionMeta", "InplaceFunction",
           "once_differentiable"]
