"""Dispatch of NumPy calls on `BatchedArray`s (see `_batched.py`): ufuncs, indexing, the
fallback loop, and the promotion of fresh buffers; the rules for NumPy functions are in `_rules.py`.

A rule sees the user's (logical) arguments and calls the same NumPy function on physical arrays,
whose batch dim is dim 0: axes move by one, batched operands get size-1 dims after the batch dim
so that they line up with unbatched operands (which NumPy aligns from the right), and the results
are wrapped at the level. Calls without a rule run `loop`: once per sample, results stacked.
"""

from __future__ import annotations

from dyngrad._backend import xp
from dyngrad.func._batched import BatchedArray, Promotable, _chain, warn_fallback

BA = BatchedArray
_ndarray = xp.ndarray
_INPLACE_ERROR = "output with shape {} doesn't match the broadcast shape {}"
_DYNAMIC = (
    "vmap: We do not support batching operators that can output dynamic shape. Attempted to vmap "
    "over aten::{}. Please file an issue at https://github.com/pytorch/pytorch/issues if you "
    "need this feature."
)


# --- helpers -----------------------------------------------------------------------------------
def _top(args, kwargs=None) -> int:
    """The highest vmap level among the arguments (and one level into lists and tuples)."""
    level = 0
    for a in (*args, *kwargs.values()) if kwargs else args:
        if type(a) is BA:
            level = max(level, a.level)
        elif type(a) in (list, tuple):
            for b in a:
                if type(b) is BA:
                    level = max(level, b.level)
    return level


def _at(x, level: int) -> bool:
    return type(x) is BA and x.level == level


def _ndim(x) -> int:
    if type(x) is BA or type(x) is _ndarray:
        return x.ndim
    return xp.ndim(x)


def _pad(v, k: int):
    """Physical v with k size-1 dims inserted after the batch dim (a view)."""
    return xp.expand_dims(v, tuple(range(1, k + 1))) if k else v


def _align(x, level: int, nd: int):
    """x as an operand of an elementwise call whose logical operands have at most nd dims."""
    if _at(x, level):
        return _pad(x.value, nd - x.ndim)
    return x


def _wrap(res, level: int):
    if isinstance(res, tuple):
        if hasattr(res, "_fields"):
            return type(res)(*(_wrap(r, level) for r in res))
        return tuple(_wrap(r, level) for r in res)
    if isinstance(res, list):
        return [_wrap(r, level) for r in res]
    return BA(res, level)


def _axis(ax: int, nd: int) -> int:
    """A logical axis as a physical one."""
    if not -nd <= ax < nd:
        raise xp.exceptions.AxisError(ax, nd)
    return ax % nd + 1


def _axes(axis, nd: int):
    """An `axis` argument (None: every logical axis) as physical axes."""
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, tuple | list):
        return tuple(_axis(a, nd) for a in axis)
    return _axis(axis, nd)


def _batch_size(args, kwargs, level: int) -> int:
    for a in (*args, *kwargs.values()):
        if _at(a, level):
            return a.value.shape[0]
        if type(a) in (list, tuple, dict):
            found = _batch_size(a.values() if type(a) is dict else a, {}, level)
            if found:
                return found
    return 0


def _unbatched(args, level: int) -> list:
    """Each argument batched at `level` broadcast to a physical array (batch dim first)."""
    size = _batch_size(args, {}, level)
    return [a.value if _at(a, level) else xp.broadcast_to(a, (size, *xp.shape(a))) for a in args]


def _is_array(x) -> bool:
    return type(x) is BA or type(x) is _ndarray


# --- promotable arrays (see _batched.Promotable) ------------------------------------------------
def settle(p):
    """A Promotable view whose base array was promoted since becomes the same view of it."""
    if type(p) is Promotable and p.origin is not None:
        parent, key = p.origin
        settle(parent)
        if type(parent) is BA:
            _become(p, getitem(parent, key))
    return p


def promote(p, level: int, size: int):
    """Turn Promotable p (in place) into an array batched at `level`: a copy per sample."""
    if p.origin is not None:
        parent, key = p.origin
        if type(parent) is Promotable:
            promote(parent, level, size)
        fresh = getitem(parent, key)
        if not _at(fresh, level):
            _inplace_error(p, size)
        _become(p, fresh)
    else:
        p.value = xp.repeat(xp.expand_dims(p.value, 0), size, 0)
        p.level = level
        p.__class__ = BA
    return p


def _become(p, batched: BA) -> None:
    p.value, p.level, p.origin = batched.value, batched.level, None
    p.__class__ = BA


def _plain(x):
    """Promotables (settled) as plain arrays, also inside lists and tuples."""
    t = type(x)
    if t is Promotable:
        settle(x)
        return x.value if type(x) is Promotable else x
    if (t is list or t is tuple) and any(type(v) is Promotable for v in x):
        return t(_plain(v) for v in x)
    return x


def _writable(target, level: int, size: int, values=()):
    """An in-place target: a Promotable becomes batched when batched values are written (at
    every level of `values` when it is a fresh buffer: nested vmaps, vmap of jacrev)."""
    if type(target) is Promotable:
        settle(target)
        if type(target) is Promotable:
            if not level:
                return target.value
            lower = {(b.level, b.value.shape[0]) for v in values if type(v) is BA
                     for b in _chain(v) if b.level < level}
            if target.origin is None and lower:
                return _promote_nested(target, sorted(lower | {(level, size)}))
            return promote(target, level, size)
    return target


def _promote_nested(p, batches: list):
    """Turn fresh Promotable p (in place) into an array batched at each (level, size) of
    `batches` (ascending levels; the lowest level outermost physically): a copy per sample."""
    sizes = tuple(n for _, n in batches)
    value = xp.broadcast_to(p.value, sizes + p.value.shape).copy()
    for lvl, _ in batches[:-1]:
        value = BA(value, lvl)
    p.value, p.level = value, batches[-1][0]
    p.__class__ = BA
    return p


# --- the fallback ------------------------------------------------------------------------------
_MUTATING = {"copyto", "putmask", "place", "put", "put_along_axis", "fill_diagonal"}


def loop(fn, name: str, args, kwargs, level: int = 0, warn: bool = True):
    """`fn` once per sample of the batch at `level` (the top one by default), results stacked:
    correct for any function, only slower. Writes go through views into the batched target."""
    level = level or _top(args, kwargs)
    size = _batch_size(args, kwargs, level)
    if name.split(".")[-1] in _MUTATING and not _at(args[0], level):
        _inplace_error(args[0], size)
    if warn:
        warn_fallback(name)
    results = [fn(*_sample(args, level, i), **_sample(kwargs, level, i)) for i in range(size)]
    return _stack(results, level)


def _sample(x, level: int, i: int):
    if _at(x, level):
        return x.value[i]
    t = type(x)
    if t is dict:
        return {k: _sample(v, level, i) for k, v in x.items()}
    if t is list or t is tuple:
        return t(_sample(v, level, i) for v in x)
    return x


def _stack(results: list, level: int):
    first = results[0]
    if first is None:
        return None
    if isinstance(first, tuple | list):
        parts = [_stack([r[k] for r in results], level) for k in range(len(first))]
        if hasattr(first, "_fields"):
            return type(first)(*parts)
        return type(first)(parts)
    if isinstance(first, BA | _ndarray | xp.generic | bool | int | float | complex):
        return BA(xp.stack(results), level)
    return first


def _inplace_error(target, size: int, *others):
    shapes = [tuple(xp.shape(o)) for o in others]
    full = xp.broadcast_shapes(tuple(xp.shape(target)), *shapes)
    raise RuntimeError(_INPLACE_ERROR.format(list(xp.shape(target)), [size, *full]))


# --- ufuncs ------------------------------------------------------------------------------------
def ufunc(uf, method: str, inputs: tuple, kwargs: dict):
    out = kwargs.get("out")
    target = inputs[0] if method == "at" else None
    inputs = tuple(_plain(x) for x in (inputs[1:] if method == "at" else inputs))
    if "where" in kwargs:
        kwargs["where"] = _plain(kwargs["where"])
    level = _top(inputs, {k: v for k, v in kwargs.items() if k != "out"})
    size = _batch_size(inputs, kwargs, level) if level else 0
    if method == "at":
        inputs = (_writable(target, level, size, inputs), *inputs)
        level = max(level, _top(inputs[:1]))
    if out is not None:
        outs = out if isinstance(out, tuple) else (out,)
        kwargs["out"] = tuple(None if o is None else _writable(o, level, size) for o in outs)
        level = max(level, _top(kwargs["out"]))
    if not level:
        res = getattr(uf, method)(*inputs, **kwargs)
        return res if out is None else out[0] if len(out) == 1 else out
    if method == "__call__":
        if uf.signature is not None:
            return _gufunc(uf, inputs, kwargs, level)
        return _elementwise(uf, inputs, kwargs, level)
    if method in ("reduce", "accumulate") and len(inputs) == 1 and kwargs.get("out") is None \
            and not _is_array(kwargs.get("where")):
        a = inputs[0]
        nd = a.ndim
        axis = kwargs.pop("axis", 0)
        if axis is None and method == "accumulate":
            axis = 0
        return BA(getattr(uf, method)(a.value, axis=_axes(axis, nd), **kwargs), level)
    if method == "outer" and not kwargs:
        a, b = inputs
        na, nb = _ndim(a), _ndim(b)
        pa = _pad(a.value, 0)[(..., *(None,) * nb)] if _at(a, level) else \
            xp.reshape(a, xp.shape(a) + (1,) * nb)
        pb = _pad(b.value, na) if _at(b, level) else b
        return BA(uf(pa, pb), level)
    if method == "at":
        return _ufunc_at(uf, inputs, level)
    return loop(lambda *a, **k: getattr(uf, method)(*a, **k), f"numpy.{uf.__name__}.{method}",
                inputs, kwargs, level)


def _elementwise(uf, inputs, kwargs, level):
    out = kwargs.get("out")
    where = kwargs.get("where")
    operands = list(inputs)
    if _is_array(where):
        operands.append(where)
    nd = max(_ndim(x) for x in operands)
    if out is not None:
        outs = out if isinstance(out, tuple) else (out,)
        nd = max(nd, *(_ndim(o) for o in outs if o is not None))
        for o in outs:
            if o is not None and not _at(o, level):
                size = _batch_size(operands, {}, level)
                _inplace_error(o, size, *(xp.shape(x) for x in operands))
        kwargs["out"] = tuple(None if o is None else _align(o, level, nd) for o in outs)
    if _is_array(where):
        kwargs["where"] = _align(where, level, nd)
    res = uf(*(_align(x, level, nd) for x in inputs), **kwargs)
    if out is not None:
        return outs[0] if len(outs) == 1 else outs
    return _wrap(res, level)


def _core_dims(signature: str) -> list[int]:
    ins = signature.split("->")[0]
    return [0 if not part.strip("()") else len(part.strip("()").split(","))
            for part in ins.replace("),(", ")|(").split("|")]


def _gufunc(uf, inputs, kwargs, level):
    if set(kwargs) - {"dtype", "casting"}:
        return loop(uf, f"numpy.{uf.__name__}", inputs, kwargs, level)
    if uf is xp.matmul:
        return _matmul(*inputs, level=level, **kwargs)
    if "?" in uf.signature:
        return loop(uf, f"numpy.{uf.__name__}", inputs, kwargs, level)
    core = _core_dims(uf.signature)
    loops = [_ndim(x) - c for x, c in zip(inputs, core, strict=True)]
    top = max(loops)
    args = [_pad(x.value, top - n) if _at(x, level) else x
            for x, n in zip(inputs, loops, strict=True)]
    return _wrap(uf(*args, **kwargs), level)


def _matmul(a, b, level, **kwargs):
    """matmul as on matrices: vectors become (1, k) / (k, 1), the batch dims of the two operands
    line up after the vmap batch dim, and the added dims are squeezed away."""
    na, nb = _ndim(a), _ndim(b)
    pa, pb = (x.value if _at(x, level) else x for x in (a, b))
    if na == 1:
        pa = xp.expand_dims(pa, -2)
    if nb == 1:
        pb = xp.expand_dims(pb, -1)
    loop_a, loop_b = max(na, 2) - 2, max(nb, 2) - 2
    top = max(loop_a, loop_b)
    if _at(a, level):
        pa = _pad(pa, top - loop_a)
    if _at(b, level):
        pb = _pad(pb, top - loop_b)
    res = xp.matmul(pa, pb, **kwargs)
    if na == 1:
        res = xp.squeeze(res, -2)
    if nb == 1:
        res = xp.squeeze(res, -1)
    return BA(res, level)


def _ufunc_at(uf, inputs, level):
    target, key = inputs[0], inputs[1]
    values = inputs[2:]
    if not _at(target, level):
        _inplace_error(target, _batch_size(inputs, {}, level))
    bkey = _batched_key(key, target, level)
    if bkey is not None:
        uf.at(target.value, bkey[0], *(_to_batched_region(v, level, bkey[1]) for v in values))
        return
    pkey, where = _physical_key(key, target.ndim)
    if pkey is None or any(type(v) is BA and v.level == level for v in _flat(key)):
        return loop(uf.at, f"numpy.{uf.__name__}.at", inputs, {}, level, warn=False)
    region = target.value[pkey]
    vals = [_to_region(v, level, region, where) for v in values]
    uf.at(target.value, pkey, *vals)


def _flat(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)


# --- indexing ----------------------------------------------------------------------------------
def _physical_key(key, nd: int):
    """(key on the physical array, where its result has the batch dim), or (None, 0) when the key
    has batched parts (left to the loop). As in NumPy, advanced indices (arrays, and then integers
    too) separated by a slice, None or ... put their broadcast dims first, before the batch dim."""
    items = _flat(key)
    arrays = []
    for k in items:
        if type(k) is BA or type(k) is bool:
            return None, 0
        if isinstance(k, _ndarray | list):
            arr = k if type(k) is _ndarray else xp.asarray(k)
            arrays.append(1 if arr.dtype == bool else arr.ndim)
    where = 0
    if arrays:
        adv = [i for i, k in enumerate(items) if isinstance(k, _ndarray | list | int | xp.integer)]
        span = items[adv[0]:adv[-1] + 1]
        if any(k is None or k is Ellipsis or isinstance(k, slice) for k in span):
            where = max(arrays)
    return (slice(None), *items), where


def _batched_key(key, target: BA, level: int):
    """(key on the physical target, logical ndim of the region it reaches) for a key of integer
    index arrays and integers, some of them batched, after full slices if any (the keys of
    scatter, index_add, index_fill under vmap); None for any other key. An arange over the batch
    goes first, so that each sample's indices reach its own slice, and the leading slices become
    aranges too (the indices all adjacent): the region is laid out as in one sample, the batch
    dim, the sliced dims, the indices' broadcast dims, then the dims left unindexed."""
    items = _flat(key)
    lead = 0
    while lead < len(items) and type(items[lead]) is slice and items[lead] == slice(None):
        lead += 1
    batched = False
    for k in items[lead:]:
        if type(k) is BA:
            if k.dtype.kind not in "iu":
                return None
            batched = True
        elif type(k) is bool or not (type(k) is _ndarray and k.dtype.kind in "iu"
                                      or isinstance(k, int | xp.integer)):
            return None
    if not batched or len(items) > target.ndim:
        return None
    arrays = items[lead:]
    k_nd = max(_ndim(k) for k in arrays)
    dims = lead + k_nd  # of the broadcast key, after the batch dim
    size = target.value.shape[0]
    ranges = [xp.arange(n).reshape((n,) + (1,) * (dims - 1 - d))
              for d, n in enumerate(target.shape[:lead])]
    pkey = (xp.arange(size).reshape((size,) + (1,) * dims), *ranges,
            *(_pad(k.value, dims - k.ndim) if _at(k, level) else k for k in arrays))
    return pkey, dims + target.ndim - len(items)


def _to_batched_region(v, level: int, rnd: int):
    """Values written into the region of a `_batched_key` (its logical ndim `rnd`)."""
    if not _at(v, level):
        return v
    if v.ndim > rnd:  # leading size-1 dims, which NumPy drops
        return v.value.reshape((v.value.shape[0], *v.shape[v.ndim - rnd:]))
    return _pad(v.value, rnd - v.ndim)


def _to_region(v, level: int, region, where: int):
    """Values written into a region of the physical target (batch dim at `where` in region)."""
    rnd = region.ndim - 1
    if _at(v, level):
        p = _pad(v.value, rnd - v.ndim)
        return xp.moveaxis(p, 0, where) if where else p
    if where:
        shape = region.shape[:where] + region.shape[where + 1:]
        return xp.expand_dims(xp.broadcast_to(v, shape), where)
    return v


def getitem(a: BA, key):
    if type(a) is Promotable:
        settle(a)
    key = _plain_key(key)
    level = max(a.level, _top(_flat(key)))
    if type(a) is Promotable and not level:
        res = a.value[key]
        return Promotable(res, (a, key)) if _basic(key) else res
    if a.level == level:
        pkey, where = _physical_key(key, a.ndim)
        if pkey is not None:
            res = a.value[pkey]
            return BA(xp.moveaxis(res, where, 0) if where else res, level)
    data = a.value if type(a) is Promotable else a
    return _gather(data, key, level)


def _plain_key(key):
    if type(key) is tuple:
        return tuple(_plain(k) for k in key)
    return _plain(key)


def _basic(key) -> bool:
    return all(k is None or k is Ellipsis or isinstance(k, slice | int | xp.integer)
               for k in _flat(key))


def _gather(data, key, level: int):
    """data[key] where the key holds index arrays batched at `level`: one advanced-indexing call,
    with the batch indexed by an arange when data is batched too."""
    items = list(_flat(key))
    if any(type(k) is bool for k in items) or any(
            _is_array(k) and k.dtype == bool and type(k) is BA for k in items):
        raise RuntimeError(_DYNAMIC.format("nonzero"))
    expanded = []
    for k in items:  # an unbatched boolean mask is its nonzero() indices
        if type(k) is _ndarray and k.dtype == bool:
            expanded.extend(xp.nonzero(k))
        else:
            expanded.append(k)
    items = expanded
    adv = [i for i, k in enumerate(items)
           if _is_array(k) or isinstance(k, list | int | xp.integer)]
    k_nd = max(_ndim(items[i]) for i in adv)
    for i in adv:
        k = items[i]
        items[i] = _pad(k.value, k_nd - k.ndim) if _at(k, level) else k
    batched = _at(data, level)
    size = data.value.shape[0] if batched else 0  # (the key may be batched at lower levels only)
    nd = data.ndim
    used = sum(0 if k is None or k is Ellipsis else 1 for k in items)
    before = 0  # result dims made by the items before the first advanced index
    for k in items[:adv[0]]:
        before += (nd - used) if k is Ellipsis else 1
    adjacent = not any(k is None or k is Ellipsis or isinstance(k, slice)
                       for k in items[adv[0]:adv[-1] + 1])
    if batched:
        arange = xp.arange(size).reshape((size,) + (1,) * k_nd)
        res = data.value[(arange, *items)]
        if adjacent and before:  # NumPy put the index dims first: move them after `before`
            order = [0, *range(k_nd + 1, k_nd + 1 + before), *range(1, k_nd + 1)]
            res = xp.transpose(res, order + list(range(len(order), res.ndim)))
    else:
        res = data[tuple(items)]
        if adjacent and before:
            res = xp.moveaxis(res, before, 0)
    return BA(res, level)


def setitem(a: BA, key, value) -> None:
    key = _plain_key(key)
    value = _plain(value)
    level = max(a.level, level_of_value(value), _top(_flat(key)))
    size = _batch_size((value, *_flat(key)), {}, level) if level else 0
    a = _writable(a, level, size)
    if type(a) is _ndarray:  # a Promotable staying unbatched
        a[key] = value
        return
    if a.level != level:
        _inplace_error(a, size, value)
    bkey = _batched_key(key, a, level)
    if bkey is not None:
        a.value[bkey[0]] = _to_batched_region(value, level, bkey[1])
        return
    pkey, where = _physical_key(key, a.ndim)
    if pkey is None:
        def put(x, k, v):
            x[k] = v
        loop(put, "ndarray.__setitem__", (a, key, value), {}, level, warn=False)
        return
    a.value[pkey] = _to_region(value, level, a.value[pkey], where)


def level_of_value(v) -> int:
    return v.level if type(v) is BA else 0
