"""`functional_call` (a module run with other parameters) and `stack_module_state` (the parameters
of several same-shaped models stacked, for vmapping over an ensemble)."""

from __future__ import annotations

from collections.abc import Sequence

from dyngrad._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """`module(*args, **kwargs)` with its parameters and buffers replaced, for this call only,
    by the tensors in the dict(s) (keys as in `named_parameters()`)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError(
                "Expected all elements of parameter_and_buffer_dicts to be dictionaries"
            )
        counts: dict = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                "ambiguous"
            )
        tensors = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
            f"{type(parameter_and_buffer_dicts)}"
        )
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    if tie_weights:
        tensors = _untie(module, tensors)
    if strict:
        _check_keys(module, tensors)
    originals: dict = {}
    try:
        for name, t in tensors.items():
            originals[name] = _swap(module, name, t)
        return module(*args, **kwargs)
    finally:
        for name, t in originals.items():
            _swap(module, name, t)


def _named_tensors(module) -> dict:
    out = dict(module.named_parameters(remove_duplicate=False))
    out.update(module.named_buffers(remove_duplicate=False))
    return out


def _untie(module, tensors: dict) -> dict:
    """A value given for one of several names sharing a tensor goes to all of them."""
    groups: dict = {}
    for name, t in _named_tensors(module).items():
        groups.setdefault(id(t), set()).add(name)
    tied = {n: names for names in groups.values() if len(names) > 1 for n in names}
    given = [n for n in tensors if n in tied]
    for name in given:
        names = tied[name]
        if len(names & set(given)) > 1 and len({id(tensors[n]) for n in names
                                                  if n in tensors}) != 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                "Consider using tie_weights=False"
            )
    out = dict(tensors)
    for name in given:
        for other in tied[name]:
            out[other] = tensors[name]
    return out


def _check_keys(module, tensors: dict) -> None:
    valid = set(_named_tensors(module))
    missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError(
            f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(msgs)
        )


def _swap(module, path: str, tensor):
    """Put `tensor` at the dotted `path` (a parameter, buffer or attribute); return what was there
    (`_MISSING` when nothing was: swapping `_MISSING` back removes the attribute)."""
    prefix, _, name = path.rpartition(".")
    for part in prefix.split(".") if prefix else ():
        try:
            sub = getattr(module, part)
        except AttributeError:
            raise AttributeError(f"{module._get_name()} has no attribute `{part}`") from None
        module = sub
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    for table in (module._parameters, module._buffers):
        if name in table:
            old = table[name]
            if tensor is _MISSING:
                del table[name]
            else:
                table[name] = tensor
            return old
    old = getattr(module, name, _MISSING)
    if tensor is _MISSING:
        if old is not _MISSING:
            delattr(module, name)
    else:
        setattr(module, name, tensor)
    return old


def stack_module_state(models) -> tuple[dict, dict]:
    """({name: stacked parameters}, {name: stacked buffers}) of same-class models, the stacked
    parameters as new leaves: `vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)` runs the
    ensemble in one call."""
    from dyngrad.ops.shape import stack

    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode."
        )
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors, name):
        grads = [t.requires_grad for t in tensors]
        if any(grads) and not all(grads):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        out = stack(tensors)
        return out.detach().requires_grad_() if all(grads) else out

    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: stacked([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: stacked([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
