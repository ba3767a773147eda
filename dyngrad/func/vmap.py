"""`vmap`: run a function written for one sample on a whole batch, in one call.

`vmap(f, in_dims, out_dims)(*args)` moves each mapped input's batch dim to the front and hands `f`
tensors whose data is a `BatchedArray` (see `_batched.py`: the batch is kept physically at dim 0
and hidden from `f`, and every NumPy call on it applies a batching rule). `f` runs once; each
output's batch dim is then moved to its `out_dims` position. Moving the batch dim in and out are
recorded ops, so gradients flow through vmap in both directions (vmap of grad, grad of vmap).

`chunk_size` runs the batch in slices of that many samples (one call of `f` per slice) and
concatenates the results; `randomness` says what random ops do inside: raise ('error'), draw the
same values for every sample ('same'), or draw independent values per sample ('different').
"""

from __future__ import annotations

import functools
import itertools

from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.batched import transforms
from dyngrad.autograd.node import Node
from dyngrad.func import _batched, _namespace
from dyngrad.func._batched import BatchedArray
from dyngrad.func._pytree import broadcast_to_and_flatten, tree_flatten, tree_unflatten

__all__ = ["vmap"]

RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the 'same' "
    "or 'different' randomness flags on vmap or perform the randomness operation out of vmap"
)


# --- the batch dim in and out, as recorded (differentiable) ops ---------------------------------
class AddBatchDimBackward(Node):
    """The gradient of a vmap input is the batched gradient with its batch dim put back."""

    def backward(self, grad):
        return remove_batch_dim(grad, self.level, self.batch_size, self.dim)


class RemoveBatchDimBackward(Node):
    def backward(self, grad):
        if self.batched:
            return add_batch_dim(grad, self.dim, self.level)
        return grad.sum(self.dim) if isinstance(grad, Tensor) else xp.sum(grad, self.dim)


def add_batch_dim(x, dim: int, level: int):
    """Tensor (or array) x as a batch over its dim `dim` at vmap `level`."""
    if not isinstance(x, Tensor):
        return _batched.add_batch_dim(x, dim, level)
    from dyngrad.ops._core import record

    data = _batched.add_batch_dim(x._data, dim, level)
    return record(AddBatchDimBackward, data, (x,), dim=dim, level=level,
                  batch_size=x._data.shape[dim])


def remove_batch_dim(x, level: int, batch_size: int, dim: int):
    """Tensor (or array) x, batched at `level`, with the batch at its dim `dim`."""
    if not isinstance(x, Tensor):
        return _batched.remove_batch_dim(x, level, batch_size, dim)
    from dyngrad.ops._core import record

    data = _batched.remove_batch_dim(x._data, level, batch_size, dim)
    return record(RemoveBatchDimBackward, data, (x,), dim=dim, level=level,
                  batched=_batched.has_level(x._data, level))


class LiftBackward(Node):
    """An unbatched tensor seen as batched (every sample the same): the identity for autograd."""

    def backward(self, grad):
        return grad


def lift(x: Tensor, level: int, batch_size: int) -> Tensor:
    """x as a tensor batched at `level` without copying (a broadcast view). x may be batched at
    higher levels (the inner vmap batches the data, the outer one the index): those stay outside
    (`_batched.lift`), as every nested BatchedArray keeps its levels decreasing inwards."""
    from dyngrad.ops._core import record

    return record(LiftBackward, _batched.lift(x._data, level, batch_size), (x,))


def _index_levels(index) -> dict:
    """{level: batch size} of every vmap level the tensors of an index are batched at."""
    found = {}
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, Tensor):
            data = item._data
            while type(data) is BatchedArray:
                found[data.level] = data.batch_size
                data = data.value
    return found


def _lifting(fn, find):
    """`fn` that first lifts the unbatched tensor it reads from when `find(args)` returns
    (position, level, size) of a batched index: indexing plain data with batched indices is
    what NumPy cannot dispatch (`weight[idx]`), so the data becomes a batched view first."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _namespace.CREATING[0]:
            pos, levels = find(args, kwargs)
            for level, size in sorted(levels.items()):  # (nested vmaps: every level of the index)
                if not _batched.has_level(args[pos]._data, level):
                    args = (*args[:pos], lift(args[pos], level, size), *args[pos + 1:])
        return fn(*args, **kwargs)

    return wrapper


def _install_lifts() -> None:
    """Tensor indexing and F.embedding lift their unbatched data when the index is batched."""
    from dyngrad.nn import functional

    if getattr(Tensor.__getitem__, "__wrapped__", None) is not None:
        return
    Tensor.__getitem__ = _lifting(Tensor.__getitem__, lambda a, k: (0, _index_levels(a[1])))
    functional.embedding = _lifting(
        functional.embedding,
        lambda a, k: (1, _index_levels(a[0])) if len(a) > 1 else (0, {}))


# --- randomness --------------------------------------------------------------------------------
# where the `size` argument sits in the samplers of dyngrad's stream (ops/_mt19937.py) that take
# one; the others are called once per sample
_SIZE_ARG = {"uniform": 0, "normal": 0, "integers": 0, "full_range": 0, "bernoulli": 0}


class _VmapRng:
    """Stands in for the default generator's stream inside a vmap with randomness
    'error' (sampling raises) or 'different' (each sample draws its own values)."""

    def __init__(self, inner, mode: str, level: int, batch_size: int):
        self.inner, self.mode, self.level, self.batch_size = inner, mode, level, batch_size

    def __getattr__(self, name: str):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr
        if self.mode == "error":
            raise RuntimeError(RANDOM_ERROR)
        return functools.partial(self._different, name, attr)

    def _different(self, name: str, fn, *args, **kwargs):
        pos = _SIZE_ARG.get(name)
        if pos is None or any(isinstance(a, BatchedArray) for a in (*args, *kwargs.values())):
            draws = [fn(*args, **kwargs) for _ in range(self.batch_size)]
            return _batched.add_batch_dim(xp.stack(draws), 0, self.level)
        args = list(args)
        if "size" in kwargs or len(args) <= pos:
            size = kwargs.pop("size", None)
        else:
            size = args.pop(pos)
        size = () if size is None else (size,) if isinstance(size, int) else tuple(size)
        args.insert(pos, (self.batch_size, *size))
        return BatchedArray(fn(*args, **kwargs), self.level)


class _Level:
    """The dynamic extent of one vmap level: batched `xp` installed, fresh buffers promotable,
    randomness set, transform counted."""

    def __init__(self, batch_size: int, randomness: str):
        self.level = _batched.new_level()
        self.batch_size, self.randomness = batch_size, randomness

    def __enter__(self) -> int:
        from dyngrad.ops import random

        _namespace.install()
        _install_lifts()
        _namespace.CREATING[0] += 1
        gen = random.default_generator
        self.rng = gen._rng
        if self.randomness != "same":
            gen._rng = _VmapRng(self.rng, self.randomness, self.level, self.batch_size)
        transforms.depth += 1
        _batched.active.add(self.level)
        return self.level

    def __exit__(self, *exc) -> None:
        from dyngrad.ops import random

        transforms.depth -= 1
        _batched.active.discard(self.level)
        _namespace.CREATING[0] -= 1
        gen = random.default_generator
        if isinstance(gen._rng, _VmapRng):
            gen._rng = self.rng


# --- the API -----------------------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """`func` mapped over a dim of its inputs: `vmap(f)(x)[i] == f(x[i])`, in one call of f.

    >>> vmap(torch.dot)(x, y)            # x, y: (B, n) -> (B,)
    >>> vmap(grad(loss), in_dims=(None, 0, 0))(params, xs, ys)   # per-sample gradients
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return vmap_impl(func, in_dims, out_dims, args, kwargs, randomness, chunk_size)

    return wrapped


def vmap_impl(func, in_dims, out_dims, args, kwargs=None, randomness="error", chunk_size=None,
              allow_none: bool = False):
    """vmap(func, ...)(*args, **kwargs); `allow_none` lets None outputs pass (autograd.grad's
    unused inputs)."""
    _check_out_dims(out_dims, func)
    size, flat_in_dims, flat_args, spec = _process_inputs(in_dims, args, func)
    options = (out_dims, randomness, kwargs or {}, allow_none)
    if chunk_size is not None:
        return _chunked(func, flat_in_dims, flat_args, spec, options, size, chunk_size)
    return _flat_vmap(func, size, flat_in_dims, flat_args, spec, options)


def _name(func) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return repr(func)


def _check_out_dims(out_dims, func) -> None:
    leaves, _ = tree_flatten(out_dims)
    if any(not (x is None or isinstance(x, int)) for x in leaves):
        raise ValueError(
            f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or "
            "a python collection of ints representing where in the outputs the vmapped dimension "
            "should appear."
        )


def _process_inputs(in_dims, args: tuple, func):
    """(batch size, in_dim per flat input, flat inputs, structure), checked as PyTorch does."""
    name = _name(func)
    if not isinstance(in_dims, int | tuple):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
            f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
            "trying to vmap over a function with no inputs. The latter is unsupported."
        )
    flat_args, spec = tree_flatten(args)
    flat_in_dims = broadcast_to_and_flatten(in_dims, spec)
    if flat_in_dims is None:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
            f"the structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but "
            f"inputs has structure {spec}."
        )
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims, strict=True)):
        if not isinstance(in_dim, int) and in_dim is not None:
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an "
                "input but in_dim must be either an integer dimension or None."
            )
        if isinstance(in_dim, int) and not isinstance(arg, Tensor):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an "
                f"input but the input is of type {type(arg)}. We cannot vmap over non-Tensor "
                "arguments, please use None as the respective in_dim"
            )
        if in_dim is not None and not -arg.dim() <= in_dim < arg.dim():
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for some "
                f"input, but that input is a Tensor of dimensionality {arg.dim()} so expected "
                f"in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}."
            )
        if in_dim is not None and in_dim < 0:
            flat_in_dims[i] = in_dim % arg.dim()
    return _batch_size(flat_in_dims, flat_args), flat_in_dims, flat_args, spec


def _batch_size(flat_in_dims, flat_args) -> int:
    sizes = [a.size(d) for d, a in zip(flat_in_dims, flat_args, strict=True) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension"
        )
    return sizes[0]


def _flat_vmap(func, size, flat_in_dims, flat_args, spec, options):
    out_dims, randomness, kwargs, allow_none = options
    with _Level(size, randomness) as level:
        batched = [a if d is None else add_batch_dim(a, d, level)
                   for a, d in zip(flat_args, flat_in_dims, strict=True)]
        outputs = func(*tree_unflatten(batched, spec), **kwargs)
        return _unwrap_outputs(outputs, out_dims, level, size, func, allow_none)


def _unwrap_outputs(outputs, out_dims, level: int, size: int, func, allow_none: bool):
    flat, spec = tree_flatten(outputs)
    if isinstance(outputs, Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            flat_out_dims = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            flat_out_dims = list(out_dims)
        else:
            flat_out_dims = None
    else:
        flat_out_dims = broadcast_to_and_flatten(out_dims, spec)
    if flat_out_dims is None:
        raise ValueError(
            f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
            f"with the structure of `outputs`. out_dims has structure "
            f"{tree_flatten(out_dims)[1]} but outputs has structure {spec}."
        )
    name = _name(func)
    results = []
    for out, dim in zip(flat, flat_out_dims, strict=True):
        if dim is None:
            if isinstance(out, Tensor) and _batched.has_level(out._data, level):
                raise ValueError(
                    f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is "
                    "None"
                )
            results.append(out)
            continue
        if out is None and allow_none:
            results.append(None)
            continue
        if not isinstance(out, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(out)}. "
                "Did you mean to set out_dims= to None for output?"
            )
        results.append(remove_batch_dim(out, level, size, _wrap_dim(dim, out.dim() + 1)))
    return tree_unflatten(results, spec)


def _chunked(func, flat_in_dims, flat_args, spec, options, size, chunk_size):
    """vmap over slices of `chunk_size` samples, outputs concatenated along their out_dims."""
    from dyngrad.ops.random import get_rng_state, set_rng_state
    from dyngrad.ops.shape import cat

    bounds = list(itertools.accumulate([chunk_size] * (size // chunk_size)
                                       + ([size % chunk_size] if size % chunk_size else [])))
    out_dims, randomness = options[:2]
    state = get_rng_state() if randomness == "same" else None
    chunks, out_spec = [], None
    for lo, hi in zip([0, *bounds[:-1]], bounds, strict=True):
        args = [a if d is None else a.narrow(d, lo, hi - lo)
                for a, d in zip(flat_args, flat_in_dims, strict=True)]
        if state is not None:
            set_rng_state(state)
        out = _flat_vmap(func, hi - lo, flat_in_dims, args, spec, options)
        flat, out_spec = tree_flatten(out)
        chunks.append(flat)
    flat_out_dims = broadcast_to_and_flatten(out_dims, out_spec)
    merged = [chunks[0][i] if d is None or chunks[0][i] is None
              else cat([c[i] for c in chunks], dim=d) for i, d in enumerate(flat_out_dims)]
    return tree_unflatten(merged, out_spec)
