"""`torch.autograd`: reverse-mode differentiation of recorded graphs."""

from __future__ import annotations

import warnings

from dyngrad._backend import xp
from dyngrad.autograd import anomaly_mode, grad_mode
from dyngrad.autograd.anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from dyngrad.autograd.batched import BACKWARD_IN_TRANSFORM, transforms
from dyngrad.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from dyngrad.autograd.variable import Variable

_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter "
    "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
    "creating the graph to avoid this. If you have to use this function, make sure to reset the "
    ".grad fields of your parameters to None after use to break the cycle and avoid the leak."
)


# Bound by _import_submodules once Tensor exists (an import inside each call cost ~1 us each)
_Tensor = _GradientEdge = _run_backward = None


def _tensors(x) -> tuple:
    if isinstance(x, _Tensor) or _is_edge(x):
        return (x,)
    return tuple(x)


def _is_edge(x) -> bool:
    return isinstance(x, _GradientEdge)


def _root_grads(outputs: tuple, grads, create_graph: bool, is_grads_batched=False) -> list:
    """Check each output's gradient (shape must match exactly; dtype is cast), or make ones."""
    Tensor = _Tensor
    if grads is None:
        grads = (None,) * len(outputs)
    elif isinstance(grads, Tensor):
        grads = (grads,)
    else:
        grads = tuple(grads)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"got {len(grads)} tensors and {len(outputs)} gradients"
        )
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads, strict=True)):
        data = o._data
        if g is None:
            # (an output that does not require grad fails later, with PyTorch's "element i")
            if o._requires_grad and (data.size != 1 or data.dtype.kind == "c"):
                if data.dtype.kind == "c" and data.size == 1:
                    raise RuntimeError(
                        "grad can be implicitly created only for real scalar outputs but got "
                        f"{o.dtype}"
                    )
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g_data = xp.empty(data.shape, data.dtype)
            g_data.fill(1)  # (numpy.ones is a Python wrapper around the same two calls)
            out.append(Tensor._make(g_data) if create_graph else g_data)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(g).__name__}"
            )
        shape = g._data.shape[1:] if is_grads_batched else g._data.shape
        if shape != data.shape:
            from dyngrad._size import Size

            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)} and "
                f"output[{i}] has a shape of {Size(data.shape)}."
            )
        if create_graph:
            out.append(g if g._data.dtype == data.dtype else g.to(o.dtype))
        else:
            out.append(g._data if g._data.dtype == data.dtype else g._data.astype(data.dtype))
    return out


def _root_edges(outputs: tuple) -> list:
    edges = []
    for i, o in enumerate(outputs):
        edge = o.node_edge() if _is_edge(o) else o._edge()
        if edge[0] is None:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
                + _where_cut(o)
            )
        edges.append(edge)
    return edges


def _where_cut(t) -> str:
    """Beyond PyTorch: say why the graph is missing, when we can tell."""
    if not grad_mode.is_grad_enabled():
        return " (dyngrad: grad mode is disabled here, e.g. inside torch.no_grad())"
    if t._data.dtype.kind not in "fc":
        return f" (dyngrad: the tensor has dtype {t.dtype}, which cannot require grad)"
    return (
        " (dyngrad: no input of the operations that made this tensor requires grad; check for "
        ".detach(), .item(), .numpy(), torch.no_grad() or parameters with requires_grad=False)"
    )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves they depend on."""
    if transforms.depth:
        raise RuntimeError(BACKWARD_IN_TRANSFORM)
    if grad_variables is not None:
        warnings.warn("'grad_variables' is deprecated. Use 'grad_tensors' instead.", stacklevel=2)
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = _tensors(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    if create_graph:
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    if retain_graph is None:
        retain_graph = create_graph
    outputs = _tensors(tensors)
    grads = _root_grads(outputs, grad_tensors, create_graph)
    edges = _root_edges(outputs)
    input_edges = None
    if inputs is not None:
        input_edges = [t._edge() for t in inputs]
        for t in inputs:  # as PyTorch: a non-leaf input keeps its .grad from now on, and an
            t.retain_grad()  # input that does not require grad is refused by retain_grad
    _run_backward(edges, grads, retain_graph, create_graph, input_edges)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """The gradients of `outputs` with respect to `inputs`, returned (never stored in `.grad`)."""
    Tensor = _Tensor
    if is_grads_batched:
        from dyngrad.autograd.batched import batched_grad

        return batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                            allow_unused, materialize_grads)
    as_dict = isinstance(inputs, dict)
    keys = list(inputs) if as_dict else None
    seq = tuple(inputs.values()) if as_dict else _tensors(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
            "allow_unused=False."
        )
    if retain_graph is None:
        retain_graph = create_graph
    outs = _tensors(outputs)
    grads = _root_grads(outs, grad_outputs, create_graph)
    edges = _root_edges(outs)
    input_edges = []
    for t in seq:
        edge = t.node_edge() if _is_edge(t) else t._edge()
        if edge[0] is None:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        input_edges.append(edge)
    captured = _run_backward(edges, grads, retain_graph, create_graph, input_edges,
                             accumulate=False)
    result = []
    for i, t in enumerate(seq):
        g = captured.get(i)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                from dyngrad.ops.creation import zeros_like

                g = zeros_like(t)
        elif not isinstance(g, Tensor):
            g = Tensor._make(xp.asarray(g))  # NumPy gives 0-dim results as NumPy scalars
        result.append(g)
    if as_dict:
        return dict(zip(keys, result, strict=True))
    return tuple(result)


__all__ = [
    "Variable", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "detect_anomaly",
    "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "anomaly_mode",
]


def _import_submodules() -> None:
    """Called by dyngrad/__init__.py once `Tensor` exists (these submodules need it)."""
    from dyngrad._tensor import Tensor
    from dyngrad.autograd import forward_ad, function, functional, graph
    from dyngrad.autograd import gradcheck as gradcheck_module
    from dyngrad.autograd.engine import run_backward

    globals().update(
        forward_ad=forward_ad, function=function, functional=functional, graph=graph,
        Function=function.Function, gradcheck=gradcheck_module.gradcheck,
        gradgradcheck=gradcheck_module.gradgradcheck, _Tensor=Tensor,
        _GradientEdge=graph.GradientEdge, _run_backward=run_backward,
    )


__all__ += ["Function", "gradcheck", "gradgradcheck", "functional", "forward_ad", "graph"]
