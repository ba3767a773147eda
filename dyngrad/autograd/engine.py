"""The backward engine: iterative, in PyTorch's order.

A node's inputs are always created before it, so its sequence number (creation order) is
larger than theirs: running pending nodes latest-created first (a heap of sequence numbers, no
recursion) runs every node after all the nodes that feed it gradients, with no counting pass
over the graph, and in PyTorch's order (its ready queue also takes the highest sequence number).
With `inputs` given, only nodes that lead to one of them run. Each result is reduced to its
input's shape and cast to its dtype here, once for every op, then summed into the next node's
gradient slot.

Plain backward passes NumPy arrays between nodes; `create_graph=True` passes tensors, so the same
backward formulas record a graph of their own (see docs/design.md).
"""

from __future__ import annotations

import gc
import itertools
from heapq import heappop, heappush

from dyngrad._backend import quietly, xp
from dyngrad.autograd import anomaly_mode, grad_mode
from dyngrad.autograd.node import AccumulateGrad, accumulate_grad, engine_state


def sum_to(g, shape: tuple):
    """Sum a broadcast gradient back down to `shape`."""
    lead = len(g.shape) - len(shape)
    if lead and shape and type(g) is xp.ndarray and g.shape[lead:] == shape:  # a bias's grad
        return xp.add.reduce(g, axis=tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if type(g) is xp.ndarray or not hasattr(g, "_data"):
        g = xp.add.reduce(g, axis=axes, keepdims=True) if axes else g
        return g.reshape(shape)
    if axes:
        g = g.sum(axes, keepdim=True)
    return g.reshape(shape)


def _fit(g, meta):
    """Reduce and cast one gradient to its input's shape and dtype."""
    shape, dtype = meta
    if type(g) is not xp.ndarray:
        fit_levels = getattr(getattr(g, "_data", g), "fit_levels", None)
        if fit_levels is not None:  # vmap: sum the batch dims the input lacks (func/_batched.py)
            g = fit_levels(g, shape)
        if hasattr(g, "_data"):
            if g._data.shape != shape:
                g = sum_to(g, shape)
            if g._data.dtype != dtype:
                from dyngrad._dtype import FROM_NP

                if g._data.dtype.kind == "c" and dtype.kind != "c":
                    g = g.real  # a real input's gradient: the real part, as the array path
                g = g.to(FROM_NP[dtype])
            return g
        g = xp.asarray(g)
    if g.shape != shape:
        g = sum_to(g, shape)
    if g.dtype != dtype:
        g = g.astype(dtype) if dtype.kind == "c" or g.dtype.kind != "c" else g.real.astype(dtype)
    return g


def _needed(roots, targets: set) -> set:
    """Ids of nodes from which a target can be reached (targets included)."""
    order = list(_nodes(roots))
    needed = set()
    changed = True
    # Propagate "leads to a target" upwards until stable. Walking the discovery order backwards
    # visits children before parents almost always, so this settles in a couple of passes.
    while changed:
        changed = False
        for node in reversed(order):
            if id(node) in needed:
                continue
            if id(node) in targets or any(
                c is not None and id(c) in needed for c, _ in node._next
            ):
                needed.add(id(node))
                changed = True
    return needed


def run_backward(roots, grads, keep_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True) -> dict:
    """Backpropagate `grads` from root edges; return {i: grad} captured at `inputs` (edges)."""
    if len(roots) == 1:
        root_nodes = [roots[0][0]]
    else:  # (several roots may share a node)
        root_nodes = list(dict.fromkeys([node for node, _ in roots]))
    needed = capture_at = None
    if inputs is not None:  # only nodes that lead to an input run; the others are never reached
        needed = _needed(root_nodes, {id(n) for n, _ in inputs if n is not None})
        capture_at = {}
        for i, (node, nr) in enumerate(inputs):
            if node is not None:
                capture_at.setdefault(id(node), []).append((i, nr))
    captures = {}
    # Pending nodes, keyed by sequence number: the gradient slots of each, and a heap of
    # (negated) sequence numbers, so the latest-created pending node runs next. The key last
    # found waits in `nxt` instead: in a chain it is the next node, and skips the heap.
    entries, heap, nxt = {}, [], None
    # When some leaf's sink has hooks, their order is visible: count the edges into sinks so
    # each runs as soon as its last gradient arrives, as PyTorch's AccumulateGrad does.
    waits = _sink_waits(root_nodes, needed) if AccumulateGrad.hooked else None
    for (node, nr), g in zip(roots, grads, strict=True):
        e = entries.get(node._seq)
        if e is None:
            e = entries[node._seq] = _entry(node)
        e[nr + 1] = g if e[nr + 1] is None else e[nr + 1] + g
    for node in root_nodes:
        if waits is None or not isinstance(node, AccumulateGrad):
            heappush(heap, -node._seq)
        elif not waits.get(node._seq):  # (otherwise it waits for its edges, like any sink)
            _ready_sink(entries, heap, node._seq)

    prev_create, engine_state.create_graph = engine_state.create_graph, create_graph
    prev_task = engine_state.task
    engine_state.task = (next(_task_ids), root_nodes, needed, accumulate, {})
    prev_mode = grad_mode.state.enabled
    grad_mode.state.enabled = create_graph
    anomaly = anomaly_mode.state.enabled
    check_nan = anomaly_mode.check_nan_enabled()
    simple = capture_at is None and not anomaly
    chain = simple and waits is None  # (then the pending nodes are those in heap and nxt)
    ndarray = xp.ndarray
    # The graph holds no reference cycles (see node.py), so the cyclic collector has nothing to
    # find here; pausing it saves its repeated scans of a large graph while we walk it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    # Formulas meet 0/0 and overflow where PyTorch returns nan or inf silently.
    silence = quietly()
    silence.__enter__()
    try:
        node = None
        while True:
            if node is None:  # the next node: the latest-created pending one
                if nxt is not None and (not heap or nxt < heap[0]):
                    key, nxt = nxt, None
                elif heap:
                    key = heappop(heap)
                else:
                    break
                e = entries.pop(-key)
                node = e[0]
                hooks = node._hooks
                # The entry lets go of the gradients it passes on, so a gradient only the engine
                # holds can become `.grad` without a copy (see node._owned).
                if simple and hooks is None and node._plain:  # the common case
                    g = e[1]
                    e = None
                elif simple and hooks is None and type(node) is AccumulateGrad:  # a leaf's sink
                    var = node.variable
                    if var._requires_grad and e[1] is not None:  # (AccumulateGrad.apply)
                        accumulate_grad(var, e[1])
                    e = node = None
                    continue
                else:
                    buf = e[1:]
                    del e[1:]
                    e = g = None
                    results = _run_node(node, buf, hooks, capture_at, captures, needed,
                                        accumulate, anomaly, check_nan)
                    buf = None
                    if results is None:  # captured, not run
                        node = None
                        continue
                    g = _RAN
            if g is not _RAN:
                if g is None:
                    results = (None,) * len(node._next)
                else:
                    results = node.backward(g)
                    # A run of nodes with one input that takes a gradient (one input, or a
                    # second that is a number or a constant), each the next to run: hand the
                    # gradient straight on.
                    while chain:
                        edges = node._next
                        if type(results) is not tuple:
                            g = results
                        elif len(edges) == 2 and edges[1][0] is None:
                            g = results[0]
                        else:
                            break
                        child = edges[0][0]
                        if (g is None or child is None or not child._plain
                                or child._hooks is not None):
                            break
                        s = child._seq
                        if nxt is not None and s <= -nxt or heap and s <= -heap[0]:
                            break
                        if not keep_graph and node._saved:
                            node._saved = None
                        if node._meta is not None:  # (fast-path nodes have none to fit to)
                            g = _fit(g, node._meta[0])
                        node = child
                        results = node.backward(g)
                    if type(results) is not tuple:
                        results = (results,)
            if not keep_graph and node._saved:
                if node._plain:
                    node._saved = None  # Node.release, inlined
                else:
                    node.release()
            metas = node._meta
            cont = cont_g = None  # a child that runs right after this node, without an entry
            k = -1
            for child, nr in node._next:  # (a counter beats zip or enumerate here)
                k += 1
                if child is None or needed is not None and id(child) not in needed:
                    continue
                g = results[k]
                if g is not None and metas is not None:  # (None: fitted already, see node.py)
                    meta = metas[k]
                    if (type(g) is not ndarray and type(g) not in _NP_SCALARS
                            or g.shape != meta[0] or g.dtype != meta[1]):
                        g = _fit(g, meta)
                if child is cont:
                    if g is not None:
                        cont_g = g if cont_g is None else cont_g + g
                    continue
                s = child._seq
                # A chain's next node: later-created than every pending node, so it is not
                # pending itself and nothing else can feed it; it runs next, with this gradient.
                if (chain and cont is None and (nxt is None or s > -nxt)
                        and (not heap or s > -heap[0]) and child._plain
                        and child._hooks is None):
                    cont, cont_g = child, g
                    continue
                ce = entries.get(s)
                if ce is None:
                    ce = entries[s] = [child, None] if child._n_out == 1 else _entry(child)
                    if waits is None or s not in waits:
                        if nxt is None:
                            nxt = -s
                        elif -s < nxt:
                            heappush(heap, nxt)
                            nxt = -s
                        else:
                            heappush(heap, -s)
                if g is not None:
                    nr += 1
                    old = ce[nr]
                    ce[nr] = g if old is None else old + g
                if waits is not None and s in waits:
                    waits[s] -= 1
                    if not waits[s]:
                        _ready_sink(entries, heap, s)
            results = g = old = ce = None  # drop our references: a leaf's sink may keep the array
            node = None
            if cont is not None:
                s = cont._seq
                if (nxt is None or s > -nxt) and (not heap or s > -heap[0]):
                    node, g = cont, cont_g
                else:  # a later edge of this node found a later-created child: queue it
                    entries[s] = [cont, cont_g]
                    heappush(heap, -s)
                cont = cont_g = None
    finally:
        silence.__exit__(None, None, None)
        if gc_was_enabled:
            gc.enable()
        engine_state.create_graph = prev_create
        engine_state.task = prev_task
        grad_mode.state.enabled = prev_mode
    return captures


def _sink_waits(roots, needed) -> dict:
    """For each leaf's sink (AccumulateGrad) the backward reaches: how many edges point at it."""
    waits = {}
    for node in _nodes(roots):
        if needed is not None and not _runs(node, needed, True):
            continue
        for child, _ in node._next:
            if isinstance(child, AccumulateGrad) and (needed is None or id(child) in needed):
                waits[child._seq] = waits.get(child._seq, 0) + 1
    return waits


_SINKS_FIRST = -(1 << 62)  # heap keys of ready sinks: below every negated sequence number
_sink_order = itertools.count()


def _ready_sink(entries: dict, heap: list, s: int) -> None:
    """Run the sink numbered `s` next (ready sinks run in the order they became ready)."""
    key = _SINKS_FIRST + next(_sink_order)
    entries[-key] = entries.pop(s)
    heappush(heap, key)


def _entry(node) -> list:
    """A pending node's engine state: the node, then one gradient slot per output."""
    return [node] + [None] * node._n_out


def _run_node(node, buf: list, hooks, capture_at, captures: dict, needed, accumulate: bool,
              anomaly: bool, check_nan: bool):
    """The general case of running one node: captures for `inputs`, hooks, several outputs,
    custom `apply`, anomaly mode. Returns its input gradients, or None if it does not run."""
    if capture_at is not None:
        # As PyTorch: a node that will not run gets only its tensor hooks (and retain_grad)
        # before its gradient is captured; one that runs is captured first.
        runs = _runs(node, needed, accumulate)
        if not runs and hooks is not None:
            buf = _pre_hooks(node, buf, hooks, node_hooks=False)
        for i, nr in capture_at.get(id(node), ()):
            captures[i] = buf[nr]
        if not runs:
            return None
    if hooks is not None:
        buf = _pre_hooks(node, buf, hooks)
    if node._n_out != 1:
        buf = None if all(g is None for g in buf) else _materialize(node, buf)
    if buf is None or (buf[0] is None and node._n_out == 1):
        results = (None,) * len(node._next)
    elif anomaly:
        results = anomaly_mode.run_checked(node, buf, check_nan)
    else:
        results = node.apply(buf)
    if hooks is not None and "post" in hooks:
        results = _post_hooks(node, results, buf, hooks["post"])
    return results


# NumPy's 0-dim results are scalars of these types; they pass between nodes as they are
_NP_SCALARS = frozenset((xp.float16, xp.float32, xp.float64, xp.complex64, xp.complex128))
_task_ids = itertools.count()  # each backward call's id (PyTorch's graph task id)
_RAN = object()  # (in run_backward: the node ran the general way; its results are ready)


def will_execute(node) -> bool:
    """Inside a backward call: whether `node` takes part in it (PyTorch's
    `_will_engine_execute_node`, used by `register_multi_grad_hook`)."""
    _, roots, needed, accumulate, cache = engine_state.task
    if not accumulate and isinstance(node, AccumulateGrad):
        raise RuntimeError(
            "A leaf node was passed to _will_engine_execute_node but we are currently running "
            "autograd.grad(). This is currently not supported."
        )
    if needed is None:  # every node the roots reach, found once per backward call
        needed = cache.get("reached")
        if needed is None:
            needed = cache["reached"] = {id(n) for n in _nodes(roots)}
    return id(node) in needed


def _nodes(roots):
    stack, seen = list(roots), {id(n) for n in roots}
    while stack:
        node = stack.pop()
        yield node
        for child, _ in node._next:
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                stack.append(child)


def _runs(node, needed: set, accumulate: bool) -> bool:
    """With `inputs`, a node runs if it leads to a target; a target leaf accumulates only in
    backward(), never in autograd.grad()."""
    if id(node) not in needed:
        return False
    if isinstance(node, AccumulateGrad):
        return accumulate
    return any(c is not None and id(c) in needed for c, _ in node._next)


def _materialize(node, buf: list) -> list:
    """Missing gradients of a multi-output node become zeros, as PyTorch's formulas expect."""
    from dyngrad._tensor import Tensor

    out = []
    for g, meta in zip(buf, node._out_meta, strict=True):
        if g is None and meta is not None:  # None: a custom Function materializes it itself
            g = xp.zeros(*meta)
            if engine_state.create_graph:
                g = Tensor._make(g)
        out.append(g)
    return out


def _wrap(g):
    from dyngrad._tensor import Tensor

    return g if g is None or isinstance(g, Tensor) else Tensor._make(xp.asarray(g))


def _unwrap(g):
    if g is None or engine_state.create_graph:
        return g
    return g._data if hasattr(g, "_data") else g


def _pre_hooks(node, buf: list, hooks: dict, node_hooks: bool = True) -> list:
    """Tensor hooks (per output), retain_grad, then node pre-hooks, in PyTorch's order."""
    tensor_hooks = hooks.get("tensor")
    if tensor_hooks:
        for nr, fns in tensor_hooks.items():
            if buf[nr] is None:
                continue
            for fn in list(fns.values()):
                new = fn(_wrap(buf[nr]))
                if new is not None:
                    _check_hook_result(fn, new, buf[nr])
                    buf[nr] = _unwrap(new)
    retain = hooks.get("retain")
    if retain:
        for nr, ref in retain.items():
            t = ref()
            if t is not None and buf[nr] is not None:
                _retain(t, buf[nr])
    pre = hooks.get("pre") if node_hooks else None
    if pre:
        for fn in list(pre.values()):
            new = fn(tuple(_wrap(g) for g in buf))
            if new is not None:
                buf = [_unwrap(g) for g in new]
    return buf


def _retain(t, g) -> None:
    from dyngrad._tensor import Tensor

    if engine_state.create_graph:
        t._grad = g if t._grad is None else t._grad + g
    elif t._grad is None:
        t._grad = Tensor._make(xp.array(g, copy=True))
    else:
        t._grad = Tensor._make(t._grad._data + g)


def _post_hooks(node, results, buf, hooks: dict):
    """Node post-hooks see (and may replace) the gradients as PyTorch shows them: already fitted
    to each input's shape and dtype, None for inputs that take no gradient."""
    metas = node._meta or (None,) * len(node._next)
    grads_in = tuple(
        None if g is None or edge[0] is None else _wrap(g if meta is None else _fit(g, meta))
        for g, edge, meta in zip(results, node._next, metas, strict=False)
    )
    grads_out = tuple(_wrap(g) for g in buf)
    for fn in list(hooks.values()):
        new = fn(grads_in, grads_out)
        if new is not None:
            grads_in = tuple(new)
    return tuple(_unwrap(g) for g in grads_in)


def _check_hook_result(fn, new, old) -> None:
    """PyTorch's checks on a tensor hook's replacement gradient: same dtype, then same size."""
    name = getattr(fn, "__name__", repr(fn))
    was, got = (getattr(v, "_data", v).dtype for v in (old, new))
    if was != got:
        from dyngrad._dtype import FROM_NP

        raise RuntimeError(
            f"hook '{name}' has changed the type of value (was torch.{FROM_NP[was].legacy} got "
            f"torch.{FROM_NP[got].legacy})"
        )
    if tuple(new.shape) != tuple(old.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value")
