"""`torch.autograd.functional`: Jacobians, Hessians and their products with vectors.

Each function takes a Python function of tensors and the point to differentiate at, and follows
PyTorch's algorithm step by step (so results, their nesting and, with `create_graph=True`, their
`grad_fn`s are PyTorch's):

* `vjp` is one backward pass, `jvp` the "double backward trick" (the gradient, with respect to a
  dummy `grad_outputs`, of a vjp), `vhp` / `hvp` the same one order higher;
* `jacobian` runs one backward per output element and stacks the rows; `hessian` is the Jacobian
  of the Jacobian.

`vectorize=True` gives the same results as `vectorize=False` (dyngrad loops where PyTorch batches
with vmap). `strategy="forward-mode"` (which PyTorch allows only with `vectorize=True`) uses
forward-mode AD, one forward pass per input element.
"""

from __future__ import annotations

from dyngrad._tensor import Tensor
from dyngrad.autograd import forward_ad as fwAD
from dyngrad.autograd import grad_mode

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# --- helpers (PyTorch's, same names) -----------------------------------------------------------
def _as_tuple_nocheck(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _as_tuple(inp, arg_name=None, fn_name=None):
    """(whether `inp` was a tuple, `inp` as a tuple of tensors), checking element types."""
    if arg_name is None and fn_name is None:
        return _as_tuple_nocheck(inp)
    is_inp_tuple = True
    if not isinstance(inp, tuple):
        inp = (inp,)
        is_inp_tuple = False
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            if is_inp_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                    f"Tensors but the value at index {i} has type {type(el)}."
                )
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but the given {arg_name} has type {type(el)}."
            )
    return is_inp_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undo `_as_tuple`: unwrap the levels that were not tuples in the user's call."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh differentiable aliases of the inputs: views when the graph must reach the caller's
    graph (`create_graph`), detached leaves otherwise."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph: bool) -> tuple:
    if isinstance(inputs[0], Tensor):
        if not create_graph:
            return tuple(inp.detach() for inp in inputs)
        return inputs
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other, strict=True)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.size()} but got "
                f"{el_v.size()}."
            )


def _check_requires_grad(inputs, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode."
            )
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is "
                    "independent of the input. This is not allowed in strict mode. You should "
                    "ensure that your function is thrice differentiable and that the hessian "
                    "depends on the inputs."
                )
            if input_type == "jacobian":
                raise RuntimeError(
                    "While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {i} is independent of the input. This is "
                    "not allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example)."
                )
            if input_type == "grad_inputs":
                raise RuntimeError(
                    f"The gradient with respect to input {i} is independent of the inputs of the "
                    "user-provided function. This is not allowed in strict mode."
                )
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when running "
                "in strict mode."
            )


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (all None when none does)."""
    from dyngrad.autograd import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs, new_grad_outputs = (), ()
    for out, grad_out in zip(outputs, grad_outputs, strict=True):
        if out is not None and out.requires_grad:
            new_outputs += (out,)
            new_grad_outputs += (grad_out,)
    if not new_outputs:
        return (None,) * len(inputs)
    return grad(new_outputs, inputs, new_grad_outputs, allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros for missing gradients (or, with `strict`, PyTorch's error)."""
    from dyngrad.ops.creation import zeros_like

    res = ()
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode when create_graph=True."
            )
        res += (grads_i,)
    return res


def _v_preprocess(v, other, is_other_tuple: bool, fn_name: str, create_graph: bool,
                  single: str = "the input to the user-provided function is"):
    """Check `v` against the inputs (or, for vjp, the outputs): None is allowed only for one
    single-element tensor, which `single` names in the error."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, other, is_other_tuple)
    elif len(other) != 1 or other[0].nelement() != 1:
        raise RuntimeError(
            f"The vector v can only be None if {single} a single Tensor with a single element."
        )
    return v


def _scalar_output(outputs, is_outputs_tuple: bool, fn_name: str) -> None:
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            "element"
        )


def _prepare_inputs(inputs, fn_name: str, create_graph: bool):
    """(whether `inputs` was a tuple, fresh differentiable aliases of the inputs)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    return is_inputs_tuple, _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)


def _call(func, inputs, fn_name: str, strict: bool):
    """(whether `func` returned a tuple, its outputs as a tuple), checked for `strict`."""
    is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    return is_outputs_tuple, outputs


def _last_backward(outputs, inputs, v, refs, strict: bool, create_graph: bool, stage: str):
    """The final backward of vjp/jvp/vhp/hvp, recorded only when `create_graph` asks for it,
    with zeros (or `strict`'s error) for the gradients that are missing."""
    with grad_mode.set_grad_enabled(True if create_graph else grad_mode.is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        return _fill_in_zeros(grad_res, refs, strict, create_graph, stage)


def _pack(outputs, is_outputs_tuple: bool, result, is_result_tuple: bool, create_graph: bool):
    """(outputs, result), detached unless `create_graph`, unwrapped as the user passed them."""
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_result_tuple))


# --- the API -----------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, "vjp", create_graph)
        is_outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _v_preprocess(v, outputs, is_outputs_tuple, "vjp", create_graph,
                          "the user-provided function returns")
    result = _last_backward(outputs, inputs, v, inputs, strict, create_graph, "back")
    return _pack(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product, by the double backward trick."""
    from dyngrad.ops.creation import zeros_like

    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, "jvp", create_graph)
        v = _v_preprocess(v, inputs, is_inputs_tuple, "jvp", create_graph)
        is_outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    result = _last_backward(grad_inputs, grad_outputs, v, outputs, strict, create_graph,
                            "back_trick")
    return _pack(outputs, is_outputs_tuple, result, is_outputs_tuple, create_graph)


def _jacfwd(func, inputs, strict: bool = False, vectorize: bool = False):
    """The Jacobian by forward-mode AD: one forward pass per input element."""
    from dyngrad._backend import xp

    if strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` "
            "are not supported together (yet). Please either set `strict=False` or "
            "`strategy=\"reverse-mode\"`."
        )
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly "
            "implemented for `vectorize=True`."
        )
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    columns = [[] for _ in inputs]  # columns[j]: per element of input j, the outputs' tangents
    is_outputs_tuple, outputs = False, ()
    for j, inp in enumerate(inputs):
        flat = xp.zeros(inp._data.size, inp._data.dtype)
        for e in range(flat.size):
            flat[e] = 1
            with fwAD.dual_level():
                duals = tuple(
                    fwAD.make_dual(x, Tensor._make(
                        flat.reshape(x._data.shape).copy() if k == j
                        else xp.zeros(x._data.shape, x._data.dtype)))
                    for k, x in enumerate(inputs)
                )
                is_outputs_tuple, dual_outputs = _as_tuple(func(*duals), "outputs")
                outputs, tangents = [], []
                for out in dual_outputs:
                    primal, tangent = fwAD.unpack_dual(out)
                    outputs.append(primal)
                    tangents.append(xp.zeros(out._data.shape, out._data.dtype) if tangent is None
                                    else tangent._data)
            flat[e] = 0
            columns[j].append(tangents)
    jac = [  # lists, as PyTorch returns them here
        [
            Tensor._make(xp.moveaxis(xp.stack([col[i] for col in columns[j]]), 0, -1).reshape(
                tuple(out._data.shape) + tuple(inputs[j]._data.shape)))
            for j in range(len(inputs))
        ]
        for i, out in enumerate(outputs)
    ]
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of `func` at `inputs`: `J[i][j]` has shape `out_i.shape + in_j.shape`."""
    from dyngrad.ops.creation import zeros_like
    from dyngrad.ops.shape import stack

    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                "`strategy=\"forward-mode\"` are not supported together (yet). Please either set "
                "`create_graph=False` or `strategy=\"reverse-mode\"`."
            )
        return _jacfwd(func, inputs, strict, vectorize)
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, "jacobian", create_graph)
        is_outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                "supported together. Please either set `strict=False` or `vectorize=False`."
            )
        jac: tuple = ()
        for i, out in enumerate(outputs):
            jac_i = tuple([] for _ in inputs)
            flat = out.reshape(-1)
            for j in range(out.nelement()):
                vj = _autograd_grad((flat[j],), inputs, retain_graph=True,
                                    create_graph=create_graph)
                for el_idx, (jac_i_el, vj_el, inp_el) in enumerate(
                        zip(jac_i, vj, inputs, strict=True)):
                    if vj_el is not None:
                        if strict and create_graph and not vj_el.requires_grad:
                            raise RuntimeError(
                                "The jacobian of the user-provided function is independent of "
                                f"input {i}. This is not allowed in strict mode when "
                                "create_graph=True."
                            )
                        jac_i_el.append(vj_el)
                    else:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {el_idx}. This is not allowed in strict mode."
                            )
                        jac_i_el.append(zeros_like(inp_el))
            jac += (tuple(
                stack(jac_i_el, dim=0).view(out.size() + inputs[el_idx].size())
                for el_idx, jac_i_el in enumerate(jac_i)
            ),)
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        is_out_tuple, out = _call(func, inp, "hessian", strict)
        _scalar_output(out, is_out_tuple, "hessian")
        return out[0].squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a scalar function."""
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, "vhp", create_graph)
        v = _v_preprocess(v, inputs, is_inputs_tuple, "vhp", create_graph)
        is_outputs_tuple, outputs = _call(func, inputs, "vhp", strict)
        _scalar_output(outputs, is_outputs_tuple, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    result = _last_backward(jac, inputs, v, inputs, strict, create_graph, "double_back")
    return _pack(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a scalar function, by the double backward trick."""
    from dyngrad.ops.creation import zeros_like

    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, "hvp", create_graph)
        v = _v_preprocess(v, inputs, is_inputs_tuple, "hvp", create_graph)
        is_outputs_tuple, outputs = _call(func, inputs, "hvp", strict)
        _scalar_output(outputs, is_outputs_tuple, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    result = _last_backward(double_back, grad_jac, v, inputs, strict, create_graph,
                            "double_back_trick")
    return _pack(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)
