"""Jacobians from the transforms: jacrev (a vjp vmapped over the rows of the identity), jacfwd
(a jvp vmapped over a basis of tangents), hessian, and linearize."""

from __future__ import annotations

import functools

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.func._pytree import tree_flatten, tree_unflatten
from dyngrad.func.transforms import _jvp, _slice_argnums, _vjp, jvp
from dyngrad.func.vmap import vmap

__all__ = ["jacrev", "jacfwd", "hessian", "linearize"]


def _error_if_complex(name: str, args, is_input: bool) -> None:
    flat, _ = tree_flatten(args)
    for i, a in enumerate(flat):
        if isinstance(a, Tensor) and a.is_complex():
            what = "inputs" if is_input else "outputs"
            raise RuntimeError(
                f"{name}: Expected all {what} to be real but received complex tensor at "
                f"flattened input idx: {i}"
            )


def _basis(tensors, numels, chunk_size):
    """Chunks of the standard basis of the flattened, concatenated tensors (one row each)."""
    total = sum(numels)
    sizes = [total] if not chunk_size or chunk_size >= total else \
        [chunk_size] * (total // chunk_size) + ([total % chunk_size] if total % chunk_size else [])
    starts = [-sum(numels[:i]) for i in range(len(numels))]
    done = 0
    for size in sizes:
        yield tuple(
            Tensor._make(xp.eye(size, n, k=start + done, dtype=t._data.dtype).reshape(
                (size, *t.shape)))
            for t, n, start in zip(tensors, numels, starts, strict=True)
        )
        done += size


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None,
           _preallocate_and_copy: bool = False):
    """The Jacobian of `func` by reverse mode: one vjp, vmapped over the rows of the identity."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        from dyngrad.ops.shape import cat, split

        _error_if_complex("jacrev", args, is_input=True)
        out = _vjp(func, args, argnums, has_aux)
        output, vjp_fn = out[:2]
        flat_output, output_spec = tree_flatten(output)
        _error_if_complex("jacrev", flat_output, is_input=False)
        numels = tuple(o.numel() for o in flat_output)
        flat_primals, primals_spec = tree_flatten(_slice_argnums(args, argnums))
        chunks = []
        for basis in _basis(flat_output, numels, chunk_size):
            if chunk_size == 1:
                rows = vjp_fn(tree_unflatten([b[0] for b in basis], output_spec))
                chunks.append([r.unsqueeze(0) for r in tree_flatten(rows)[0]])
            else:
                rows = vmap(vjp_fn)(tree_unflatten(list(basis), output_spec))
                chunks.append(tree_flatten(rows)[0])
        stacked = chunks[0] if len(chunks) == 1 else [
            cat([c[i] for c in chunks], 0) for i in range(len(flat_primals))]
        per_input = [split(r, list(numels), 0) for r in stacked]
        per_output = tuple(
            tree_unflatten([per_input[j][i].view(tuple(o.shape) + tuple(p.shape))
                            for j, p in enumerate(flat_primals)], primals_spec)
            for i, o in enumerate(flat_output))
        if isinstance(argnums, int):
            per_output = tuple(r[0] for r in per_output)
        jac = tree_unflatten(list(per_output), output_spec)
        return (jac, out[2]) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian of `func` by forward mode: one jvp, vmapped over a basis of tangents."""

    @functools.wraps(func)
    def wrapper(*args):
        from dyngrad.ops.shape import split

        _error_if_complex("jacfwd", args, is_input=True)
        primals = args if argnums is None else _slice_argnums(args, argnums)
        flat_primals, primals_spec = tree_flatten(primals)
        numels = tuple(p.numel() for p in flat_primals)
        basis = tree_unflatten(list(next(_basis(flat_primals, numels, None))), primals_spec)

        def push_jvp(tangents):
            out = _jvp(func, args, tangents, argnums, False, has_aux)
            _error_if_complex("jacfwd", out[0], is_input=False)
            return (out[1], out[2]) if has_aux else out[1]

        results = vmap(push_jvp, randomness=randomness)(basis)
        aux = None
        if has_aux:
            results, aux = results
            flat_aux, aux_spec = tree_flatten(aux)
            aux = tree_unflatten([a[0] for a in flat_aux], aux_spec)
        jac_outs, spec = tree_flatten(results)
        per_output = []
        for jac in jac_outs:
            parts = split(jac.movedim(0, -1), list(numels), -1)
            per_input = [part.squeeze(-1) if p.dim() == 0 else part.unflatten(-1, tuple(p.shape))
                         for p, part in zip(flat_primals, parts, strict=True)]
            per_output.append(tree_unflatten(per_input, primals_spec))
        if isinstance(argnums, int):
            per_output = [r[0] for r in per_output]
        jac = tree_unflatten(per_output, spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar function. PyTorch computes jacfwd(jacrev(f)); dyngrad computes
    jacrev(jacrev(f)), the same values: its forward-mode AD loses the tangent of an op's saved
    output inside a backward formula (tanh, sigmoid, exp...), which forward-over-reverse needs."""
    return jacrev(jacrev(func, argnums), argnums)


def linearize(func, *primals):
    """(func(*primals), jvp_fn): `jvp_fn(*tangents)` is the Jacobian-vector product at primals
    (dyngrad recomputes the forward pass on each call rather than tracing it once)."""
    output = func(*primals)
    _, output_spec = tree_flatten(output)
    flat_primals, primals_spec = tree_flatten(primals)
    meta = [(p.shape, p.device, p.dtype) for p in flat_primals]

    def jvp_fn(*tangents):
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(
                f"Expected the tangents {tangents_spec} to have the same argspec as the primals "
                f"{primals_spec}"
            )
        for i, (t, (shape, device, dtype)) in enumerate(zip(flat_tangents, meta, strict=True)):
            for what, mine, theirs in (("shape", t.shape, shape), ("device", t.device, device),
                                       ("dtype", t.dtype, dtype)):
                if mine != theirs:
                    raise RuntimeError(
                        f"tangent:{i} with {what} {mine} in flattened pytree doesn't match the "
                        f"{what} {theirs} of the corresponding primal."
                    )
        _, out_tangents = jvp(func, primals, tangents)
        return tree_unflatten(tree_flatten(out_tangents)[0], output_spec)

    return output, jvp_fn
