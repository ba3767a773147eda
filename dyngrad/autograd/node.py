"""Graph nodes: one `Node` per recorded operation, `AccumulateGrad` per leaf.

A node holds edges to the nodes that produced its inputs (`next_functions`), the input shapes and
dtypes (`_meta`, so the engine can reduce broadcast gradients and cast them, once, for every op;
None where every input has the output's shape and dtype, as the operators' fast paths know), and
the tensors its backward formula needs. Subclasses only write `backward(self, *grads)`.

Saved tensors are checked against their version counter when unpacked, and freed after backward
unless the graph is retained. A node saves its own *output* as raw data, not as the output tensor,
so no tensor -> node -> tensor reference cycle forms (the garbage collector never has to scan the
graph); with `create_graph` the output is rebuilt from that data around this node.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading

from dyngrad._backend import xp
from dyngrad.utils.hooks import add_hook

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)

_seq = itertools.count()
_new = object.__new__
# Bound by dyngrad/_tensor.py once Tensor exists (it imports this module first); an import
# inside accumulate_grad cost ~1 us per leaf per backward.
Tensor = bump_version = None
INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a clone "
    "to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`."
)


class _EngineState(threading.local):
    create_graph = False
    task = None  # inside a backward call: (id, nodes it counts, nodes it needs, accumulates)


engine_state = _EngineState()


class SavedOutput:
    """A node's own output, kept as data plus version so the node does not own its output tensor."""

    __slots__ = ("data", "version", "saved_version", "output_nr", "requires_grad", "tangent")

    def __init__(self, tensor):
        self.data = tensor._data
        self.version = tensor._own_version()
        self.saved_version = self.version[0]
        self.output_nr = tensor._output_nr
        self.requires_grad = tensor._requires_grad
        self.tangent = None  # forward AD: the output's tangent, set once it is computed

    @classmethod
    def of_new(cls, out) -> SavedOutput:
        """`SavedOutput(out)` for an op's output just made by `record` (version 0, output 0,
        requires grad), written out: a third of the ops save their output, so it is hot."""
        saved = _new(cls)
        saved.data = out._data
        saved.version = out._vc = [0, None]  # the output's own version counter from now on
        saved.saved_version = saved.output_nr = 0
        saved.requires_grad = True
        saved.tangent = None
        return saved

    def rebuild(self, node):
        """The output as a tensor again (for `create_graph`), history and tangent included."""
        t = Tensor._make(self.data, self.requires_grad, node, self.output_nr, self.version)
        if self.tangent is not None:
            t._extra()["tangent"] = self.tangent
        return t


# --- saved-tensor hooks (`torch.autograd.graph.saved_tensors_hooks`) --------------------------
saved_hooks: list = []  # stack of (pack, unpack); only the innermost pair applies
_PACK_INPLACE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack "
    "hook cannot be modified by in-place operations as this can lead to unexpected side-effects. "
    "Please open an issue if you need to perform in-place operations on the input to a pack hook."
)


class SavedPacked:
    """A saved tensor as the pack hook returned it, plus where the tensor sat in the graph, so the
    unpacked tensor is linked to the same history (as PyTorch's SavedVariable does)."""

    __slots__ = ("packed", "unpack", "requires_grad", "grad_fn", "output_nr", "is_output",
                 "accum")

    def __init__(self, packed, unpack, t, is_output: bool):
        self.packed = packed
        self.unpack = unpack
        self.requires_grad = t._requires_grad
        self.is_output = is_output
        self.grad_fn = None if is_output else t._grad_fn  # an output's is the owning node
        self.output_nr = t._output_nr
        self.accum = t._accum


def pack_saved(node, v) -> SavedPacked:
    """Run the innermost pack hook on a tensor a node saves (`SavedOutput`: the node's output)."""
    pack, unpack = saved_hooks[-1]
    is_output = type(v) is SavedOutput
    t = Tensor._make(v.data, v.requires_grad, node, v.output_nr, v.version) if is_output else v
    before = t._vc[0]
    packed = pack(t)
    if t._vc[0] != before:
        raise RuntimeError(_PACK_INPLACE)
    return SavedPacked(packed, unpack, t, is_output)


def unpack_saved(node, item, as_tensor: bool):
    """One saved value for a backward formula: an array, or (`as_tensor`) a tensor in the graph."""
    kind = type(item)
    if kind is tuple:
        t, version = item
        if t._vc[0] != version:
            raise RuntimeError(version_error(t, version))
        return t if as_tensor else t._data
    if kind is SavedOutput:
        if item.version[0] != item.saved_version:
            raise RuntimeError(version_error(item, item.saved_version, node))
        if not as_tensor:
            return item.data
        return item.rebuild(node)
    if kind is not SavedPacked:
        return item
    value = item.unpack(item.packed)
    if not isinstance(value, Tensor):
        raise TypeError(
            "Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
            f"{type(value).__name__}"
        )
    if not as_tensor:
        return value._data
    fn = node if item.is_output else item.grad_fn
    if (value._grad_fn is fn and value._requires_grad == item.requires_grad
            and value._output_nr == item.output_nr):
        return value
    out = Tensor._make(value._data, item.requires_grad, fn, item.output_nr, value._vc)
    out._accum = item.accum
    return out


def link(node, edges: tuple) -> None:
    """Give `node` its input edges, then its sequence number: a node must be numbered after the
    nodes its edges point to (a leaf's AccumulateGrad may have been made just now), because the
    engine runs nodes latest-numbered first."""
    node._next = edges
    node._seq = next(_seq)


class Node:
    """A recorded operation; `backward` maps output gradients to input gradients."""

    __slots__ = ("_next", "_meta", "_saved", "_seq", "_hooks", "__weakref__", "__dict__")
    _n_out = 1
    _saved_names: tuple = ()
    _exposed: set = frozenset()
    # One output, and the engine may call `backward(grad)` directly (not `apply`) and inline
    # `release`; subclasses that override either, and nodes with several outputs, set it False.
    _plain = True

    def __init__(self):
        self._next = ()
        self._meta = ()
        self._saved = ()
        self._seq = next(_seq)
        self._hooks = None

    # --- introspection, as PyTorch exposes it -------------------------------------------------
    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return self._next

    @property
    def metadata(self) -> dict:
        d = self.__dict__.get("metadata")
        if d is None:
            d = self.__dict__["metadata"] = {}
        return d

    @property
    def requires_grad(self) -> bool:
        return True

    def _sequence_nr(self) -> int:
        return self._seq

    @property
    def _input_metadata(self) -> tuple:
        return self._meta

    # PyTorch's `_saved_<name>` introspection is served by properties made per class, not by
    # `__getattr__`: a class with `__getattr__` loses CPython's fast attribute access, and the
    # engine reads node attributes a dozen times per node.
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._exposed = set(cls._exposed)  # names shown as `_saved_<name>` (inherited too)
        for i, name in enumerate(cls.__dict__.get("_saved_names", ())):
            _expose(cls, name, lambda self, i=i: self._saved_value(i))
        expose(cls, cls._class_attrs())

    @classmethod
    def _class_attrs(cls) -> set:
        """Plain values subclasses define as per-node defaults (shown as `_saved_<name>`)."""
        return {k for c in cls.__mro__[:cls.__mro__.index(Node)] for k, v in vars(c).items()
                if not k.startswith("_") and not callable(v) and not hasattr(v, "__get__")}

    def __dir__(self):
        extra = ["_saved_" + n for n in self._saved_names]
        extra += ["_saved_" + k for k in self.__dict__ if k != "metadata"]
        extra += ["_saved_" + k for k in self._class_attrs()]
        return sorted(set(super().__dir__()) | set(extra))

    def _saved_value(self, i: int):
        if self._saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        item = self._saved[i]
        if isinstance(item, tuple):
            return item[0]
        if isinstance(item, bool | int | float | complex):  # a Python scalar operand, shown
            return Tensor._make(xp.asarray(item))  # as PyTorch shows it: a wrapped 0-dim tensor
        if isinstance(item, SavedOutput):
            return item.rebuild(self)
        if isinstance(item, SavedPacked):
            return unpack_saved(self, item, True)
        return item

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    # --- hooks ---------------------------------------------------------------------------------
    def _hook_dict(self, kind: str) -> dict:
        if self._hooks is None:
            self._hooks = {}
        return self._hooks.setdefault(kind, {})

    def register_hook(self, fn):
        """`fn(grad_inputs, grad_outputs)` runs after this node; it may return new grad_inputs."""
        return add_hook(self._hook_dict("post"), fn)

    def register_prehook(self, fn):
        """`fn(grad_outputs)` runs before this node; it may return new grad_outputs."""
        return add_hook(self._hook_dict("pre"), fn)

    # --- saving ------------------------------------------------------------------------------
    def save(self, *values) -> None:
        """Save tensors (with their version) and other values for the backward formula."""
        saved = []
        for v in values:
            version = getattr(v, "_vc", None)
            if version is not None:
                if v._x is not None and "inference" in v._x:
                    raise RuntimeError(INFERENCE_SAVED)
                saved.append(pack_saved(self, v) if saved_hooks else (v, version[0]))
            elif saved_hooks and type(v) is SavedOutput:
                saved.append(pack_saved(self, v))
            else:
                saved.append(v)
        self._saved = tuple(saved)

    @property
    def saved_tensors(self) -> tuple:
        """The saved values, as arrays (plain backward) or tensors (`create_graph=True`)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        if engine_state.create_graph:
            return tuple([unpack_saved(self, item, True) for item in saved])
        # Unrolled for one and two values, the common cases: comprehensions are calls in 3.11.
        if len(saved) == 1:
            (item,) = saved
            kind = type(item)
            if kind is tuple:
                t, version = item
                if t._vc[0] == version:
                    return (t._data,)
            elif kind is SavedOutput and item.version[0] == item.saved_version:
                return (item.data,)
            return (unpack_saved(self, item, False),)
        if len(saved) == 2:
            a, b = saved
            return (a[0]._data if type(a) is tuple and a[0]._vc[0] == a[1]
                    else unpack_saved(self, a, False),
                    b[0]._data if type(b) is tuple and b[0]._vc[0] == b[1]
                    else unpack_saved(self, b, False))
        return tuple([unpack_saved(self, item, False) for item in saved])

    def release(self) -> None:
        """Free saved values after backward (unless the graph is retained)."""
        if self._saved:
            self._saved = None

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(n is not None for n, _ in self._next)

    def apply(self, grads: list):
        """Run the backward formula; always returns a tuple, one entry per input edge."""
        out = self.backward(*grads)
        return out if type(out) is tuple else (out,)

    def backward(self, *grads):
        raise NotImplementedError


def expose(cls, names) -> None:
    """Show the node attributes `names` as `_saved_<name>` (and `_raw_saved_<name>`), as PyTorch
    shows the non-tensor arguments a node keeps. Called where a node gets such attributes."""
    for name in names:
        if name not in cls._exposed:
            _expose(cls, name, lambda self, name=name: _attribute(self, name))


def _expose(cls, name: str, get) -> None:
    cls._exposed.add(name)
    setattr(cls, "_saved_" + name, property(get))
    setattr(cls, "_raw_saved_" + name, property(get))


def _attribute(node, name: str):
    try:
        return getattr(node, name)
    except AttributeError:
        raise AttributeError(
            f"'{type(node).__name__}' object has no attribute '_saved_{name}'"
        ) from None


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the incoming gradient into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self._meta = ((variable._data.shape, variable._data.dtype),)

    _plain = False
    # Set once any sink gets hooks (a leaf's tensor or post-accumulate hooks, or the node's own):
    # from then on the engine runs sinks as soon as they are ready, as PyTorch does (see engine).
    hooked = False

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def _hook_dict(self, kind: str) -> dict:
        AccumulateGrad.hooked = True
        return super()._hook_dict(kind)

    def apply(self, grads: list) -> tuple:
        var = self.variable
        if var._requires_grad:  # (after requires_grad_(False), PyTorch drops the gradient)
            accumulate_grad(var, grads[0])
        hooks = self._hooks
        if hooks is not None and "post_acc" in hooks:
            for fn in list(hooks["post_acc"].values()):
                fn(var)
        return ()


class CopyBackwards(Node):
    """`.grad` after `backward(create_graph=True)`: a differentiable copy of the gradient.

    As in PyTorch it is a copy into fresh zeros, so its first edge (the zeros) is `(None, 0)`."""

    def backward(self, grad):
        return None, grad


def _owned(g) -> bool:
    """True when g is a fresh array only the engine holds, so `.grad` may take it over (as
    PyTorch steals a gradient whose use count is 1). References: the engine's buffer list, this
    call's argument, accumulate_grad's argument, getrefcount's argument."""
    return (type(g) is xp.ndarray and g.base is None and g.flags.writeable
            and sys.getrefcount(g) <= 4)


def accumulate_grad(var, g) -> None:
    """Add g into var.grad: in place normally, out of place (and recorded) with create_graph."""
    old = var._grad
    if engine_state.create_graph:
        if old is None:
            new = Tensor._make(g._data.copy(), g._requires_grad)
            if g._requires_grad:
                node = CopyBackwards()
                link(node, ((None, 0), g._edge()))
                node._meta = ((g._data.shape, g._data.dtype),) * 2
                new._grad_fn = node
            var._grad = new
        else:
            var._grad = old + g
    elif old is None:
        if _owned(g) and g.dtype == var._data.dtype:
            var._grad = Tensor._make(g)  # nobody else can see this array: keep it, no copy
        else:
            var._grad = Tensor._make(xp.array(g, dtype=var._data.dtype, copy=True))
    elif old._requires_grad:
        var._grad = Tensor._make(old._data + g)
    else:
        old._data += g
        bump_version(old)


_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def version_error(t, expected: int, node: Node | None = None) -> str:
    """PyTorch's "modified by an inplace operation" text, plus which op bumped the version."""
    from dyngrad._dtype import FROM_NP

    data = t.data if isinstance(t, SavedOutput) else t._data
    kind = f"torch.{FROM_NP[data.dtype].legacy}"
    shape = list(data.shape)
    version = t.version if isinstance(t, SavedOutput) else t._vc
    fn = node if isinstance(t, SavedOutput) else t.grad_fn  # a view's history as of now
    where = ""
    if fn is not None:
        nr = t.output_nr if isinstance(t, SavedOutput) else t._output_nr
        where = f", which is output {nr} of {_BACKWARD_SUFFIX.sub('', type(fn).__name__)},"
    from dyngrad.autograd import anomaly_mode

    if anomaly_mode.is_anomaly_enabled():
        hint = (
            "Hint: the backtrace further above shows the operation that failed to compute its "
            "gradient. The variable in question was changed in there or anywhere later. Good luck!"
        )
    else:
        hint = (
            "Hint: enable anomaly detection to find the operation that failed to compute its "
            "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
        )
    msg = (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{kind} {shape}]{where} is at version {version[0]}; expected version "
        f"{expected} instead. {hint}"
    )
    if version[1] is not None:
        msg += f" (dyngrad: the last in-place modification was {version[1]})"
    return msg
