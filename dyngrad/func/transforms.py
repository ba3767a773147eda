"""`torch.func`'s autodiff transforms: grad, grad_and_value, vjp, jvp (Jacobians and Hessians,
built from these and vmap, are in `jacobians.py`).

Each transform differentiates a function at given inputs with dyngrad's own autograd: the inputs
to differentiate become fresh differentiable tensors (a detached leaf, or a view when the input is
itself part of an enclosing graph, so the result stays differentiable by the enclosing grad or by
ordinary autograd); the function runs; `autograd.grad` gives the answer. Results carry a graph only
when something outside needs one (an input or captured tensor that requires grad, an open
forward-AD level), as PyTorch's levels arrange. Transforms compose: `vmap(grad(f))` gives
per-sample gradients in one batched backward pass, `jacrev` is `vjp` + `vmap` over a basis of
cotangents, `jacfwd` is `vmap` of forward-mode `jvp` over a basis of tangents, and
`hessian = jacfwd(jacrev(f))`.
"""

from __future__ import annotations

import functools

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd import forward_ad as fwAD
from dyngrad.autograd import grad_mode
from dyngrad.autograd.batched import transforms
from dyngrad.autograd.node import AccumulateGrad
from dyngrad.func import _namespace
from dyngrad.func._pytree import tree_flatten, tree_map, tree_unflatten, treespec_pprint

__all__ = ["grad", "grad_and_value", "vjp", "jvp"]

JVP_STR = "jvp(f, primals, tangents)"


# --- argnums -----------------------------------------------------------------------------------
def _wrap_argnum(argnum, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if -num_args <= argnum < num_args:
        return argnum % num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _slice_argnums(args: tuple, argnums, as_tuple: bool = True):
    if not isinstance(argnums, int | tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        argnum = _wrap_argnum(argnums, len(args))
        return (args[argnum],) if as_tuple else args[argnum]
    argnums = tuple(_wrap_argnum(a, len(args)) for a in argnums)
    if not argnums:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(args[i] for i in argnums)


def _replace_args(args: tuple, new_args: tuple, argnums) -> tuple:
    if isinstance(argnums, int):
        argnum = argnums % len(args)
        return tuple(new_args[0] if i == argnum else a for i, a in enumerate(args))
    positions = [a % len(args) for a in argnums]
    return tuple(new_args[positions.index(i)] if i in positions else a
                 for i, a in enumerate(args))


# --- differentiable inputs, and whether results need a graph -----------------------------------
class _Scope:
    """One running transform: marks the leaves it makes (`active` while it runs)."""

    __slots__ = ("active",)

    def __init__(self):
        self.active = True


def _differentiable(x, scope: _Scope):
    """A fresh tensor to differentiate with respect to, sharing x's data."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x._requires_grad:
        return x.view_as(x)  # stays connected to the enclosing graph
    if fwAD.state.active and fwAD.tangent_of(x) is not None:
        leaf = x.view_as(x).requires_grad_()  # a view keeps x's tangent
    else:
        leaf = x.detach().requires_grad_()
    leaf._extra()["func_scope"] = scope
    return leaf


def _outside(roots, own: _Scope | None = None) -> bool:
    """Whether the graph behind `roots` reaches a leaf of an enclosing computation: one the user
    made, or one of a transform still running (other than `own`)."""
    stack = [t._edge()[0] for t in roots if isinstance(t, Tensor) and t._requires_grad]
    seen = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            extra = node.variable._x
            scope = extra.get("func_scope") if extra else None
            if scope is None or (scope.active and scope is not own):
                return True
            continue
        stack.extend(child for child, _ in node._next)
    return False


def _needs_graph(roots, own: _Scope) -> bool:
    """Whether gradients must be differentiable: something outside depends on them, or forward
    AD is on (their tangents are computed through the backward pass)."""
    return fwAD.state.active or _outside(roots, own)


def _finish(x, outer: bool = True):
    """A result as the caller sees it: cut from the graph unless that graph reaches something
    outside the transform (keeping the tangent of an enclosing jvp)."""
    if not isinstance(x, Tensor) or not x._requires_grad or (outer and _outside([x])):
        return x
    out = x.detach()
    tangent = fwAD.tangent_of(x) if fwAD.state.active else None
    if tangent is not None:
        out._extra()["tangent"] = (fwAD.state.gen, _finish(tangent, outer))
    return out


def _call(func, *args, **kwargs):
    transforms.depth += 1
    try:
        return func(*args, **kwargs)
    finally:
        transforms.depth -= 1


def _autograd_grad(outputs, inputs, grad_outputs=None, retain_graph=False, create_graph=True):
    """autograd.grad over the outputs that require grad; zeros for unreached inputs."""
    from dyngrad.autograd import grad
    from dyngrad.ops.creation import zeros_like

    if grad_outputs is None:
        pairs = [(o, None) for o in outputs if o._requires_grad]
    else:
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if o._requires_grad]
    if not pairs:
        return tuple(zeros_like(x) for x in inputs)
    outs, grads = zip(*pairs, strict=True)
    with _namespace.promoting():
        result = grad(outs, inputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                      allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(result, inputs, strict=True))


def _check_outputs(flat: list, api: str) -> None:
    if (len(flat) == 1 and flat[0] is None) or not flat:
        raise RuntimeError(
            f"{api}: Expected f to be a function that has non-empty output (got output = {flat})"
        )
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(
                f"{api}: expected f(*primals) to return only tensors, got unsupported type "
                f"{type(o)}"
            )


def _split_aux(output, api: str):
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(
            f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return output


# --- grad --------------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """`f` -> a function returning (gradient of f w.r.t. the `argnums` inputs, value of f)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, (value, aux) = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (grads, (value, aux)) if has_aux else (grads, value)

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """`f` -> a function returning the gradient of the scalar f w.r.t. its `argnums` inputs.

    >>> grad(lambda x: (x ** 3).sum())(x)           # 3 x**2
    >>> vmap(grad(loss), in_dims=(None, 0, 0))(w, xs, ys)   # per-sample gradients
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, (_, aux) = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (grads, aux) if has_aux else grads

    return wrapper


def _grad_and_value(func, argnums, has_aux, args, kwargs):
    outer = grad_mode.is_grad_enabled()
    scope = _Scope()
    with grad_mode.enable_grad():
        diff = _slice_argnums(args, argnums, as_tuple=False)
        flat, spec = tree_flatten(diff)
        leaves = [_differentiable(x, scope) for x in flat]
        new = tree_unflatten(leaves, spec)
        args = _replace_args(args, (new,) if isinstance(argnums, int) else new, argnums)
        output = _call(func, *args, **kwargs)
        aux = None
        if has_aux:
            output, aux = _split_aux(output, "grad_and_value(f)(*args)")
        if not isinstance(output, Tensor):
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                f"{type(output)}"
            )
        if output.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs "
                "instead?"
            )
        graph = outer and _needs_graph([output], scope)
        grads = _autograd_grad((output,), leaves, retain_graph=graph, create_graph=graph)
    scope.active = False
    result = tree_unflatten([_finish(g, outer) for g in grads], spec)
    aux = tree_map(lambda a: _finish(a, outer), aux) if has_aux else None
    return result, (_finish(output, outer), aux)


# --- vjp ---------------------------------------------------------------------------------------
def vjp(func, *primals, has_aux: bool = False):
    """(f(*primals), vjp_fn[, aux]): `vjp_fn(cotangents)` is the vector-Jacobian product."""
    return _vjp(func, primals, None, has_aux)


def _vjp(func, primals, argnums, has_aux: bool):
    outer = grad_mode.is_grad_enabled()
    scope = _Scope()
    with grad_mode.enable_grad():
        diff = primals if argnums is None else _slice_argnums(primals, argnums, as_tuple=False)
        flat, diff_spec = tree_flatten(diff)
        leaves = [_differentiable(x, scope) for x in flat]
        new = tree_unflatten(leaves, diff_spec)
        if argnums is not None:
            new = _replace_args(primals, (new,) if isinstance(argnums, int) else new, argnums)
        output = _call(func, *new)
        aux = None
        if has_aux:
            output, aux = _split_aux(output, "vjp(f, *primals)")
        flat_out, out_spec = tree_flatten(output)
        _check_outputs(flat_out, "vjp(f, *primals)")
        for o in flat_out:
            if not (o.is_floating_point() or o.is_complex()):
                raise RuntimeError(
                    "vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got "
                    f"Tensor with dtype {o.dtype}"
                )
        graph = outer and _needs_graph(flat_out, scope)
    scope.active = False

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph=None):
        if create_graph is None:
            create_graph = grad_mode.is_grad_enabled()
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {treespec_pprint(cot_spec)}, primal "
                f"output: {treespec_pprint(out_spec)}"
            )
        create = create_graph and (graph or fwAD.state.active or any(
            isinstance(c, Tensor) and c._requires_grad for c in flat_cot))
        with grad_mode.enable_grad():
            result = _autograd_grad(flat_out, leaves, flat_cot, retain_graph=retain_graph,
                                    create_graph=create)
        return tree_unflatten([_finish(r, create_graph) for r in result], diff_spec)

    results = tree_map(lambda o: _finish(o, outer), output)
    if has_aux:
        return results, vjp_fn, tree_map(lambda a: _finish(a, outer), aux)
    return results, vjp_fn


# --- jvp ---------------------------------------------------------------------------------------
def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """(f(*primals), J·tangents[, aux]) by forward-mode AD."""
    return _jvp(func, primals, tangents, None, strict, has_aux)


def _check_tensors(flat: list, argname: str) -> None:
    if not flat:
        raise RuntimeError(f"{JVP_STR}: Expected {argname} to contain at least one Tensor.")
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(
                f"{JVP_STR}: Expected {argname} to only contain Tensors, got {type(x)}"
            )


def _jvp(func, primals, tangents, argnums, strict: bool, has_aux: bool):
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{JVP_STR}: Expected primals to be a tuple. E.g. it should be valid to call "
            "f(*primals)."
        )
    diff = primals if argnums is None else _slice_argnums(primals, argnums)
    flat_primals, primals_spec = tree_flatten(diff)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(
            f"{JVP_STR}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {primals_spec} and tangents with structure {tangents_spec}"
        )
    _check_tensors(flat_primals, "primals")
    _check_tensors(flat_tangents, "tangents")
    if fwAD.state.level >= 0:  # dyngrad has one dual level: nest by the double-vjp trick
        return _jvp_reverse(func, primals, flat_primals, flat_tangents, primals_spec, argnums,
                            strict, has_aux)
    with fwAD.dual_level():
        duals = tree_unflatten([fwAD.make_dual(p, t) for p, t in
                                zip(flat_primals, flat_tangents, strict=True)], primals_spec)
        if argnums is not None:
            duals = _replace_args(primals, duals, argnums)
        output = _call(func, *duals)
        aux = None
        if has_aux:
            output, aux = _split_aux(output, JVP_STR)
        flat_out, spec = tree_flatten(output)
        _check_outputs(flat_out, JVP_STR)
        outs_tangents = [fwAD.tangent_of(o) for o in flat_out]
    return _jvp_result(flat_out, outs_tangents, spec, aux, has_aux, strict,
                       grad_mode.is_grad_enabled())


def _jvp_result(flat_out, tangents, spec, aux, has_aux: bool, strict: bool, outer: bool):
    """jvp's (output, tangent[, aux]): a missing tangent is zeros, or an error when strict."""
    out_tangents = []
    for o, t in zip(flat_out, tangents, strict=True):
        if t is None:
            if strict:
                raise RuntimeError(
                    "jvp(f, primals, tangents, strict=True): The output of f is independent of "
                    "the inputs. This is not allowed with strict=True."
                )
            t = _zeros_like(o)
        out_tangents.append(t)
    result = (tree_unflatten([_finish(o, outer) for o in flat_out], spec),
              tree_unflatten([_finish(t, outer) for t in out_tangents], spec))
    return (*result, tree_map(lambda a: _finish(a, outer), aux)) if has_aux else result


def _zeros_like(x: Tensor) -> Tensor:
    return Tensor._make(xp.zeros_like(x._data))


def _jvp_reverse(func, primals, flat_primals, flat_tangents, spec, argnums, strict, has_aux):
    """J·t without a dual level, as the gradient (w.r.t. a dummy u) of <u·J, t>: used inside an
    open dual level (jvp of jvp, jacfwd of jacfwd)."""
    outer = grad_mode.is_grad_enabled()
    scope = _Scope()
    with grad_mode.enable_grad():
        leaves = [_differentiable(p, scope) for p in flat_primals]
        args = tree_unflatten(leaves, spec)
        if argnums is not None:
            args = _replace_args(primals, args, argnums)
        output = _call(func, *args)
        aux = None
        if has_aux:
            output, aux = _split_aux(output, JVP_STR)
        flat_out, out_spec = tree_flatten(output)
        _check_outputs(flat_out, JVP_STR)
        graph = outer and (_needs_graph(flat_out, scope)
                           or any(t._requires_grad for t in flat_tangents))
        dummies = [_zeros_like(o).requires_grad_() for o in flat_out]
        vjps = _autograd_grad(flat_out, leaves, dummies, retain_graph=True)
        pairs = [(v, t) for v, t in zip(vjps, flat_tangents, strict=True) if v._requires_grad]
        jv = (None,) * len(flat_out)
        if pairs:
            from dyngrad.autograd import grad as autograd_grad

            jv = autograd_grad([v for v, _ in pairs], dummies, [t for _, t in pairs],
                               create_graph=graph, allow_unused=True)
    scope.active = False
    return _jvp_result(flat_out, jv, out_spec, aux, has_aux, strict, outer)
