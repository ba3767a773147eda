"""`Tensor`: an n-dimensional array with an autograd history.

A tensor is a NumPy array (`_data`) plus the autograd fields PyTorch users know: `requires_grad`,
`grad`, `grad_fn` and the output index into it, and a version counter shared with its views.
Operators and methods are attached by the modules of `dyngrad.ops`, next to their formulas.
"""

from __future__ import annotations

import warnings
import weakref

from dyngrad import _dtype
from dyngrad import autograd as _autograd  # (`backward` is read at call time)
from dyngrad._backend import ndarray
from dyngrad._device import cpu
from dyngrad._device import device as _device_cls
from dyngrad._size import Size
from dyngrad.autograd import grad_mode
from dyngrad.autograd import node as _node
from dyngrad.autograd.node import AccumulateGrad
from dyngrad.utils.hooks import add_hook

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)
_TO_SCALAR_WARNING = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
    "Consider using tensor.detach() first."
)
_LEAF_ONLY = "you can only change requires_grad flags of leaf variables."
_DETACH_HINT = (
    " If you want to use a computed variable in a subgraph that doesn't require differentiation "
    "use var_no_grad = var.detach()."
)
_FROM_NP = _dtype.FROM_NP
_new = object.__new__
_gm = grad_mode.state


class ViewInfo:
    """How a view relates to its base: replaying `fn` on the base gives the view."""

    __slots__ = ("base", "fn", "creation", "base_fn")

    def __init__(self, base, fn, creation):
        self.base = base
        self.fn = fn  # fn(base_like) -> view_like, for arrays and tensors alike
        self.creation = creation  # None, "no_grad" or the name of a multi-output op
        self.base_fn = base._grad_fn


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_grad", "_vc", "_output_nr",
                 "_accum", "_view", "_x", "__weakref__")

    def __new__(cls, *args, **kwargs):
        from dyngrad.ops.creation import legacy_new

        return legacy_new(cls, *args, **kwargs)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0, version=None):
        """Wrap an ndarray without copying or checking (as an instance of `cls`)."""
        return make_tensor(data, requires_grad, grad_fn, output_nr, version, cls)

    # --- metadata ------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtype.dtype:
        return _FROM_NP[self._data.dtype]

    @property
    def device(self) -> _device_cls:
        return cpu

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_contiguous(self, memory_format=None) -> bool:
        return self._data.flags.c_contiguous

    def stride(self, dim: int | None = None):
        a = self._data
        if a.size or any(a.strides):
            strides = tuple(s // a.itemsize for s in a.strides)
        else:  # NumPy gives new empty arrays zero strides; PyTorch reports contiguous ones
            strides, step = [], 1
            for n in reversed(a.shape):
                strides.insert(0, step)
                step *= max(n, 1)
            strides = tuple(strides)
        return strides if dim is None else strides[_wrap_dim(dim, a.ndim)]

    def storage_offset(self) -> int:
        return _storage_offset(self._data)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def is_inference(self) -> bool:
        return self._x is not None and "inference" in self._x

    # --- autograd attributes -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            raise RuntimeError(_LEAF_ONLY + ("" if value else _DETACH_HINT))
        if value:
            self._check_can_require_grad("only Tensors of floating point and complex dtype")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(_LEAF_ONLY + _DETACH_HINT)
            return self
        if requires_grad:
            self._check_can_require_grad("only Tensors of floating point dtype")
        self._requires_grad = bool(requires_grad)
        return self

    def _check_can_require_grad(self, what: str) -> None:
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(f"{what} can require gradients")
        if self.is_inference() and not _gm.inference:
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not "
                "allowed."
            )

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self):
        if self._view is not None:
            self._refresh_view()
        return self._grad_fn

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def grad(self):
        if self._grad_fn is not None and not self.retains_grad and self._grad is None:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size"
                )
            grad_dtype = self.grad_dtype
            if grad_dtype is not None and value._data.dtype != grad_dtype.np:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_c_name(value.dtype)}' to a "
                    f"tensor with grad_dtype '{grad_dtype._short}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                    "gradient may break downstream systems that assume they match."
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def grad_dtype(self):
        if self._x is not None and "grad_dtype" in self._x:
            return self._x["grad_dtype"]
        return self.dtype

    @grad_dtype.setter
    def grad_dtype(self, value) -> None:
        self._extra()["grad_dtype"] = value if value is None else _dtype.as_dtype(value)

    @property
    def retains_grad(self) -> bool:
        return self._x is not None and self._x.get("retains_grad", False)

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen (shared with views)."""
        return self._vc[0]

    def _own_version(self) -> list:
        """This tensor's version counter, made private first if it is still the shared fresh one."""
        vc = self._vc
        if type(vc) is tuple:
            vc = self._vc = [0, None]
        return vc

    @property
    def _base(self):
        return None if self._view is None else self._view.base

    def _is_view(self) -> bool:
        return self._view is not None

    def _extra(self) -> dict:
        if self._x is None:
            self._x = {}
        return self._x

    def _accumulator(self) -> AccumulateGrad:
        """This leaf's gradient sink; one per leaf, so a leaf used twice has one AccumulateGrad."""
        ref = self._accum
        node = ref() if ref is not None else None
        if node is None:
            node = AccumulateGrad(self)
            if self._x is not None and "hooks" in self._x:
                node._hooks = self._x["hooks"]
            self._accum = weakref.ref(node)
        return node

    def _edge(self) -> tuple:
        """The (node, output_nr) a consumer of this tensor links to."""
        if self._view is not None:
            self._refresh_view()
        fn = self._grad_fn
        if fn is not None:
            return fn, self._output_nr
        if self._requires_grad:
            return self._accumulator(), 0
        return None, 0

    def _refresh_view(self) -> None:
        """After its base was modified in place, a view's history goes through the base's."""
        view = self._view
        base = view.base
        if base._grad_fn is view.base_fn:
            return
        from dyngrad.ops.inplace import AsStridedBackward0

        view.base_fn = base._grad_fn
        if base._requires_grad:
            self._grad_fn = AsStridedBackward0.of(base, view.fn, self)
            self._output_nr = 0
            self._requires_grad = True

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf after backward (a no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self.retains_grad:
            return
        self._extra()["retains_grad"] = True
        self._grad_fn._hook_dict("retain")[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """`hook(grad)` runs when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            hooks = self._leaf_hooks()
        else:
            hooks = self._grad_fn._hook_dict("tensor")
        per_output = hooks.setdefault("tensor", {}) if self._grad_fn is None else hooks
        return add_hook(per_output.setdefault(self._output_nr, {}), hook)

    def register_post_accumulate_grad_hook(self, hook):
        """`hook(tensor)` runs after this leaf's `.grad` has been updated."""
        if self._grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        return add_hook(self._leaf_hooks().setdefault("post_acc", {}), hook)

    def _leaf_hooks(self) -> dict:
        """A leaf's hooks, kept with the tensor and shared with its sink (AccumulateGrad)."""
        AccumulateGrad.hooked = True
        hooks = self._extra().setdefault("hooks", {})
        if self._accum is not None and self._accum() is not None:
            self._accum()._hooks = hooks
        return hooks

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad` (see `torch.autograd.backward`)."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data and version counter, cut from the graph."""
        return Tensor._make(self._data, version=self._own_version())

    def detach_(self) -> Tensor:
        if self._view is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be called "
                "on these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                "function in torch/optim/optimizer.py as the solution."
            )
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    @property
    def data(self) -> Tensor:
        """The values as a leaf tensor, sharing storage but not the version counter (legacy)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # --- conversions ---------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False):
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        data = self.numpy()
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data)

    def _scalar(self):
        """The single element, for float()/int()/complex(); PyTorch's errors otherwise."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(())

    def __float__(self) -> float:
        if self._requires_grad:
            warnings.warn(_TO_SCALAR_WARNING, UserWarning, stacklevel=2)
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __complex__(self) -> complex:
        if self._requires_grad:
            warnings.warn(_TO_SCALAR_WARNING, UserWarning, stacklevel=2)
        return complex(self._scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents=None) -> str:
        from dyngrad._tensor_str import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        out = type(self)._make(self._data.copy(), self._requires_grad)
        if type(self) is not Tensor:
            out.__dict__.update(getattr(self, "__dict__", {}))
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (_rebuild, (type(self), self._data, self._requires_grad))

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """With no argument, the legacy type name ('torch.FloatTensor'); otherwise a cast."""
        if dtype is None:
            return f"torch.{self.dtype.legacy}"
        if isinstance(dtype, str):
            name = dtype.removeprefix("torch.")
            dtype = next((d for d in _dtype.ALL if d.legacy == name), None)
            if dtype is None:
                raise ValueError(f"invalid type: '{name}'")
        return self.to(dtype)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def cpu(self) -> Tensor:
        return self

    def share_memory_(self) -> Tensor:
        return self

    def is_shared(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False

    @property
    def layout(self):
        return "torch.strided"

    @property
    def names(self):
        return (None,) * self._data.ndim


# A new tensor shares this immutable counter until it is written in place or viewed; only then does
# it get a list of its own (see `_own_version`). This saves an allocation per op.
_FRESH_VERSION = (0, None)


def bump_version(t: Tensor, what: str | None = None) -> None:
    """Count one in-place write to t's memory (and to every view of it)."""
    vc = t._own_version()
    vc[0] += 1
    vc[1] = what


def make_tensor(data, requires_grad=False, grad_fn=None, output_nr=0, version=None,
                cls=Tensor) -> Tensor:
    """The fast internal constructor, called once per op: no copies, no checks."""
    t = _new(cls)
    t._data = data
    t._requires_grad = requires_grad
    t._grad_fn = grad_fn
    t._grad = None
    t._vc = _FRESH_VERSION if version is None else version
    t._output_nr = output_nr
    t._accum = None
    t._view = None
    t._x = None if not _gm.inference else {"inference": True}
    return t


def _rebuild(cls, data, requires_grad):
    return cls._make(data, requires_grad)


def _c_name(d: _dtype.dtype) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}[d.name]


def _storage_offset(a) -> int:
    """The offset (in elements) of array `a` in its memory. Under vmap (a batched array), that
    of sample 0 in the physical array, as PyTorch's vmap reports it: each sample sees its own
    storage, the physical one shifted by the sample's batch stride."""
    if type(a) is not ndarray:
        from dyngrad.func._batched import BatchedArray

        while type(a) is BatchedArray:
            a = a.value
    base = a
    while isinstance(base.base, ndarray):
        base = base.base
    return (a.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // a.itemsize


def _wrap_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) as a non-negative index, or PyTorch's IndexError."""
    lo, hi = (-max(ndim, 1), max(ndim, 1) - 1)
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % max(ndim, 1)


_node.Tensor, _node.bump_version = Tensor, bump_version  # see dyngrad/autograd/node.py
