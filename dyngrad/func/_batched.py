"""`BatchedArray`: the array behind a tensor inside `vmap`, and the dispatch of NumPy onto it.

How dyngrad's vmap batches
--------------------------
Every dyngrad op computes with NumPy on `tensor._data`, and every backward formula does too. So
vmap batches one level below the tensors: inside `vmap`, an input tensor's `_data` is a
`BatchedArray`, an array-like object holding the *physical* array (`value`, the batch dimension
physically at dim 0) and a vmap `level`, while its `shape`, `ndim` and `size` are the *logical*
ones (the batch dimension hidden), so the op code, written for one sample, sees one sample.

NumPy hands every ufunc call (`__array_ufunc__`) and every NumPy function (`__array_function__`)
that receives a `BatchedArray` to this module, which applies a *batching rule*: the user's axes are
shifted by one, batched operands are aligned against unbatched ones (an unbatched operand is
aligned from the right, and a batched one gets size-1 dims after its batch dim), and the result is
wrapped again. One NumPy call handles the whole batch: the user's function runs once, its graph is
recorded once, and its backward pass (whose formulas are NumPy too) runs once on batched
gradients. Hence, for free: grad inside vmap (per-sample gradients), vmap of a backward pass
(`is_grads_batched`, jacrev), forward-mode AD under vmap (jacfwd).

Nesting: a `BatchedArray`'s value may itself be a `BatchedArray` of a lower level (the enclosing
vmap). A call involving several levels is resolved at the highest one first; its unbatched
operands (lower levels included) take part as ordinary operands, and the inner call dispatches
again. Levels are unique and increase with creation, so any two levels are ordered consistently
even after a vmap returned (its batched arrays live on in autograd graphs).

NumPy functions without a rule fall back to a loop over the batch and a stack (with a warning, as
PyTorch warns), so every NumPy function works under vmap, only slower. The dispatch lives in
`_dispatch.py`, the rules for NumPy functions in `_rules.py`.

Gradients. Inside vmap, the gradient of an unbatched tensor comes out batched: grad inside vmap
is a per-sample backward, so `vmap(grad(loss), in_dims=(None, 0, 0))` gives per-sample gradients
of the unbatched parameters. When the backward runs after the vmap returned (grad of vmap,
jacrev of jacrev), the engine sums the gradient of an unbatched input over that batch
(`BatchedArray.fit_levels`, called from the engine's `_fit`).

Where NumPy cannot hand over (its C code converting a `BatchedArray` to a plain array), dyngrad's
`xp` namespace steps in, from the first vmap on (`_namespace.install`; NumPy is left alone):
* `asarray`/`array`/`ascontiguousarray` return a BatchedArray as it is (op code calls them on
  results), and `as_strided` views every sample alike (convolution and pooling windows);
* while a vmap runs, `zeros`/`ones`/`empty`/`full` make `Promotable` arrays, which turn into
  batched arrays when batched values are written into them: op code may fill a fresh buffer
  (`out = zeros(...); out[idx] += batched`);
* indexing an unbatched tensor with a batched index (`weight[idx]`, `F.embedding`) first views
  the tensor as batched (`vmap.lift`), at the index's level; levels of the tensor above it stay
  outside (`lift`), as everywhere: a BatchedArray's value holds lower levels only.
What remains refused (with an error, never a wrong value): writing batched values into an
unbatched array that is not fresh (as PyTorch refuses in-place ops on unbatched tensors), and op
code that indexes a raw unbatched array with a batched index array.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings

from dyngrad._backend import xp

_ndarray = xp.ndarray
_levels = itertools.count(1)

ITEM_ERROR = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations. If error "
    "is occurring somewhere inside PyTorch internals, please file a bug report."
)
CONTROL_FLOW_ERROR = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues ."
)
NO_STORAGE_ERROR = "Cannot access data pointer of Tensor that doesn't have storage"


def new_level() -> int:
    """A fresh vmap level, larger than every level made before."""
    return next(_levels)


class BatchedArray:
    """An array of `value.shape[1:]` per sample, for `value.shape[0]` samples at vmap `level`."""

    __slots__ = ("value", "level", "origin")

    def __init__(self, value, level: int):
        self.value = value
        self.level = level
        self.origin = None

    # --- metadata: the logical (per-sample) view -----------------------------------------------
    @property
    def shape(self) -> tuple:
        return LevelShape(self.value.shape[1:], levels(self))

    @property
    def ndim(self) -> int:
        return self.value.ndim - 1

    @property
    def size(self) -> int:
        return math.prod(self.value.shape[1:])

    @property
    def dtype(self):
        return self.value.dtype

    @dtype.setter
    def dtype(self, value) -> None:  # as_strided sets the dtype it already has
        if xp.dtype(value) != self.value.dtype:
            raise TypeError("vmap: cannot change the dtype of a batched array in place")

    @property
    def itemsize(self) -> int:
        return self.value.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.value.itemsize

    @property
    def strides(self) -> tuple:
        return self.value.strides[1:]

    @property
    def flags(self):
        return self.value.flags

    @property
    def base(self):
        return None

    @property
    def __array_interface__(self) -> dict:
        """None: NumPy would read the first sample as the whole array (and so does data_ptr)."""
        raise AttributeError("__array_interface__")

    @property
    def batch_size(self) -> int:
        return self.value.shape[0]

    @property
    def T(self):  # noqa: N802 - ndarray's name
        return xp.transpose(self)

    @property
    def mT(self):  # noqa: N802
        return xp.swapaxes(self, -1, -2)

    @property
    def real(self):
        return BatchedArray(self.value.real, self.level)

    @property
    def imag(self):
        return BatchedArray(self.value.imag, self.level)

    def __repr__(self) -> str:
        return f"BatchedArray(lvl={self.level}, bdim=0, value=\n    {self.value!r}\n)"

    def fit_levels(self, grad, shape):
        """`grad` (this array, or a tensor holding it) fitted to an input of `shape` in the
        backward engine: summed over each batch level that the input is not batched at, unless
        that vmap is still running (a backward inside vmap is a per-sample backward). This is
        what makes the gradient of a captured tensor, taken outside the vmap, the sum over the
        batch (grad of vmap, jacrev of jacrev)."""
        keep = getattr(shape, "levels", frozenset()) | active
        for level, size in [(x.level, x.value.shape[0]) for x in _chain(self)]:
            if level not in keep:
                grad = _sum_level(grad, level, size)
        return grad

    # --- NumPy protocols -------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from dyngrad.func import _dispatch

        return _dispatch.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from dyngrad.func import _rules

        return _rules.function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        if sys._getframe(1).f_code is _REPR_CODE[0]:  # printing shows the physical values
            value = self.value
            while type(value) is BatchedArray:
                value = value.value
            return value
        raise RuntimeError(
            "vmap: dyngrad cannot turn a batched array into a plain NumPy array here (an "
            "unbatched array was indexed by, or assigned from, a batched one inside NumPy)"
        )

    # --- methods of ndarray ----------------------------------------------------------------------
    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return xp.reshape(self, tuple(shape) if not isinstance(shape, int) else shape,
                          order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return xp.transpose(self, axes or None)

    def view(self, dtype=None, type=None):  # noqa: A002 - ndarray's signature
        if dtype is None or xp.dtype(dtype).itemsize == self.value.itemsize or self.ndim:
            return BatchedArray(self.value.view() if dtype is None else self.value.view(dtype),
                                self.level)
        return _method_loop(self, "view", (dtype,), {})

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return BatchedArray(self.value.astype(dtype, order, casting, subok, copy), self.level)

    def copy(self, order="C"):
        return BatchedArray(self.value.copy(order), self.level)

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def fill(self, value) -> None:
        self[...] = value

    def flatten(self, order="C"):
        return BatchedArray(self.value.reshape(self.batch_size, -1, order=order).copy(),
                            self.level)

    def ravel(self, order="C"):
        return BatchedArray(self.value.reshape(self.batch_size, -1, order=order), self.level)

    def sort(self, axis=-1, kind=None, order=None) -> None:
        self[...] = xp.sort(self, axis, kind, order)

    def nonzero(self):
        return xp.nonzero(self)

    def __getitem__(self, key):
        from dyngrad.func import _dispatch

        return _dispatch.getitem(self, key)

    def __setitem__(self, key, value) -> None:
        from dyngrad.func import _dispatch

        _dispatch.setitem(self, key, value)

    def __len__(self) -> int:
        if self.value.ndim == 1:
            raise TypeError("len() of unsized object")
        return self.value.shape[1]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    __hash__ = None

    # --- values out of the array: errors under vmap, as in PyTorch ---------------------------
    def item(self, *args):
        return self._scalar(ITEM_ERROR, lambda a: a.item(*args))

    def tolist(self):
        return self._scalar(NO_STORAGE_ERROR, lambda a: a.tolist())

    def __bool__(self) -> bool:
        return self._scalar(CONTROL_FLOW_ERROR, bool)

    def __float__(self) -> float:
        return self._scalar(ITEM_ERROR, float)

    def __int__(self) -> int:
        return self._scalar(ITEM_ERROR, int)

    def __complex__(self) -> complex:
        return self._scalar(ITEM_ERROR, complex)

    def __index__(self) -> int:
        return self._scalar(ITEM_ERROR, lambda a: a.__index__())

    def _scalar(self, error: str, convert):
        """A Python value out of a batched array. Called by a Tensor method (`.item()`,
        `float(t)`, `if t:`), PyTorch's error. Called by dyngrad's own op code (argument checks
        such as `if (index < 0).any(): raise ...`), the value when every sample agrees on it
        (running the code per sample would take the same branch), else the error."""
        caller = sys._getframe(2).f_code
        if caller in _TENSOR_CODES:
            raise RuntimeError(error)
        value = self.value
        if type(value) is _ndarray:
            flat = value.reshape(value.shape[0], -1)
            if not (flat == flat[:1]).all():
                raise RuntimeError(error)
            return convert(value[0])
        values = [convert(v) for v in value]
        if any(v != values[0] for v in values[1:]):
            raise RuntimeError(error)
        return values[0]

    def __getattr__(self, name: str):
        if name.startswith("__") or not hasattr(_ndarray, name):
            raise AttributeError(f"'BatchedArray' object has no attribute '{name}'")
        return lambda *args, **kwargs: _method_loop(self, name, args, kwargs)


def _method_loop(a: BatchedArray, name: str, args, kwargs):
    """An ndarray method with no batching rule: per sample, then stacked."""
    from dyngrad.func import _dispatch

    return _dispatch.loop(lambda x, *rest, **kw: getattr(x, name)(*rest, **kw), f"ndarray.{name}",
                       (a, *args), kwargs)


def _operators() -> None:
    """Python's operators on a BatchedArray are NumPy's ufuncs (which dispatch back here)."""
    binary = {
        "add": xp.add, "sub": xp.subtract, "mul": xp.multiply, "truediv": xp.true_divide,
        "floordiv": xp.floor_divide, "mod": xp.remainder, "pow": xp.power,
        "matmul": xp.matmul, "and": xp.bitwise_and, "or": xp.bitwise_or, "xor": xp.bitwise_xor,
        "lshift": xp.left_shift, "rshift": xp.right_shift,
    }
    for name, uf in binary.items():
        setattr(BatchedArray, f"__{name}__", lambda s, o, uf=uf: uf(s, o))
        setattr(BatchedArray, f"__r{name}__", lambda s, o, uf=uf: uf(o, s))
        setattr(BatchedArray, f"__i{name}__", lambda s, o, uf=uf: uf(s, o, out=(s,)))
    compare = {"eq": xp.equal, "ne": xp.not_equal, "lt": xp.less, "le": xp.less_equal,
               "gt": xp.greater, "ge": xp.greater_equal}
    for name, uf in compare.items():
        setattr(BatchedArray, f"__{name}__", lambda s, o, uf=uf: uf(s, o))
    unary = {"neg": xp.negative, "pos": xp.positive, "abs": xp.absolute, "invert": xp.invert}
    for name, uf in unary.items():
        setattr(BatchedArray, f"__{name}__", lambda s, uf=uf: uf(s))
    BatchedArray.__divmod__ = lambda s, o: xp.divmod(s, o)
    # ndarray methods that are NumPy functions with the array first, same argument order
    for name in ("sum", "prod", "mean", "std", "var", "max", "min", "argmax", "argmin", "any",
                 "all", "cumsum", "cumprod", "clip", "round", "conj", "conjugate", "take",
                 "repeat", "squeeze", "swapaxes", "diagonal", "trace", "dot", "argsort",
                 "ptp", "searchsorted", "argpartition"):
        fn = getattr(xp, name, None)
        if fn is not None:
            setattr(BatchedArray, name, lambda s, *a, fn=fn, **k: fn(s, *a, **k))


_operators()


class Promotable(BatchedArray):
    """An unbatched array made inside vmap by numpy.zeros/ones/empty/full.

    It acts as the plain array `value` until batched values are written into it, or into a view
    of it (`origin`: the array it views and the key); then it turns, in place, into a
    BatchedArray at their level holding one copy per sample. So op code may fill a fresh buffer
    with batched values (`out = zeros(...); out[idx] = batched`, `out[sl] += batched`)."""

    __slots__ = ()

    def __init__(self, value, origin=None):
        self.value = value
        self.level = 0
        self.origin = origin

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    nbytes = property(lambda self: self.value.nbytes)
    strides = property(lambda self: self.value.strides)
    T = property(lambda self: self.value.T)
    real = property(lambda self: self.value.real)
    imag = property(lambda self: self.value.imag)

    @property
    def __array_interface__(self) -> dict:
        return self.value.__array_interface__

    def __array__(self, dtype=None, copy=None):
        from dyngrad.func import _dispatch

        _dispatch.settle(self)
        if type(self) is not Promotable:
            return BatchedArray.__array__(self)
        out = self.value if dtype is None else self.value.astype(dtype, copy=False)
        return out.copy() if copy else out

    def __repr__(self) -> str:
        return repr(self.value)

    def astype(self, dtype, *args, **kwargs):
        return self.value.astype(dtype, *args, **kwargs)

    def copy(self, order="C"):
        return self.value.copy(order)

    def view(self, *args, **kwargs):
        return self.value.view(*args, **kwargs)

    def flatten(self, order="C"):
        return self.value.flatten(order)

    def ravel(self, order="C"):
        return self.value.ravel(order)

    def __len__(self) -> int:
        return len(self.value)

    def _scalar(self, error: str, convert):
        from dyngrad.func import _dispatch

        _dispatch.settle(self)
        if type(self) is not Promotable:
            return BatchedArray._scalar(self, error, convert)
        return convert(self.value)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.value, name)


_TENSOR_CODES: frozenset = frozenset()  # Tensor methods turning a tensor into a Python value
_REPR_CODE: list = [None]  # the code of tensor_repr (printing a batched tensor)


def set_tensor_codes(repr_code) -> None:
    """Record the code objects `_scalar` and `__array__` recognise their callers by."""
    global _TENSOR_CODES
    from dyngrad._tensor import Tensor

    names = ("item", "tolist", "__bool__", "__float__", "__int__", "__complex__", "__index__",
             "_scalar", "__format__")
    _TENSOR_CODES = frozenset(getattr(Tensor, n).__code__ for n in names)
    _REPR_CODE[0] = repr_code


# --- levels ------------------------------------------------------------------------------------
active: set = set()  # the levels of the vmaps running now


class LevelShape(tuple):
    """A batched array's logical shape, remembering its vmap levels (for `fit_levels`): it
    equals the plain tuple of the same sizes."""

    def __new__(cls, sizes, levels_):
        out = super().__new__(cls, sizes)
        out.levels = levels_
        return out


def _chain(x) -> list:
    out = []
    while type(x) is BatchedArray:
        out.append(x)
        x = x.value
    return out


def levels(x) -> frozenset:
    """The vmap levels x is batched at."""
    return frozenset(b.level for b in _chain(x))


def _sum_level(grad, level: int, size: int):
    """grad summed over its batch dim at `level` (recorded when grad is a tensor)."""
    if hasattr(grad, "_data"):
        from dyngrad.func.vmap import remove_batch_dim as remove_tensor

        return remove_tensor(grad, level, size, 0).sum(0)
    return xp.sum(remove_batch_dim(grad, level, size, 0), axis=0)


def level_of(x) -> int:
    """The vmap level of x (0 for anything that is not a BatchedArray)."""
    return x.level if type(x) is BatchedArray else 0


def has_level(x, level: int) -> bool:
    """Whether x is batched at `level` (at its top or nested inside a higher level)."""
    while type(x) is BatchedArray:
        if x.level == level:
            return True
        if x.level < level:
            return False
        x = x.value
    return False


def add_batch_dim(x, dim: int, level: int):
    """The array x seen as a batch (over its dim `dim`) at `level`."""
    if type(x) is BatchedArray and x.level > level:  # keep higher levels outside
        return BatchedArray(add_batch_dim(x.value, dim + 1, level), x.level)
    return BatchedArray(xp.moveaxis(x, dim, 0), level)


def lift(x, level: int, batch_size: int):
    """The array x (not batched at `level`) seen as batched at `level`, every sample the same (a
    broadcast view). Levels of x above `level` stay outside: a BatchedArray's value holds only
    lower levels, which every dispatch (`_at`, `has_level`, unwrapping at vmap exit) relies on;
    wrapping a higher level inside a lower one leaves it batched after its vmap returned."""
    if type(x) is BatchedArray and x.level > level:
        return BatchedArray(lift(x.value, level, batch_size), x.level)
    if type(x) is BatchedArray and x.level == level:
        return x
    shape = tuple(x.shape) if hasattr(x, "shape") else ()
    return BatchedArray(xp.broadcast_to(xp.expand_dims(x, 0), (batch_size, *shape)), level)


def remove_batch_dim(x, level: int, batch_size: int, dim: int):
    """The array x batched at `level` as an array with the batch at dim `dim`; an array not
    batched at `level` is broadcast (every sample sees the same values)."""
    if type(x) is BatchedArray:
        if x.level == level:
            return xp.moveaxis(x.value, 0, dim)
        if x.level > level:
            return BatchedArray(remove_batch_dim(x.value, level, batch_size, dim + 1), x.level)
    shape = tuple(x.shape) if hasattr(x, "shape") else ()
    return xp.broadcast_to(xp.expand_dims(x, dim), shape[:dim] + (batch_size,) + shape[dim:])


def warn_fallback(name: str) -> None:
    warnings.warn(
        f"There is a performance drop because we have not yet implemented the batching rule for "
        f"{name}. Please file us an issue on GitHub so that we can prioritize its implementation.",
        UserWarning, stacklevel=4,
    )
