"""`gradcheck` / `gradgradcheck`: compare autograd's Jacobians with finite differences.

The numerical Jacobian perturbs each input element by ±eps in place and takes central
differences; the analytical one runs one backward per output element (twice, to check that
backward is deterministic). Both are laid out as PyTorch lays them out, (input numel, output
numel), so failure messages print the same tensors as PyTorch's.

`fast_mode=True` runs the full (slow) check: same verdict, more time. Complex inputs and outputs
are not supported.
"""

from __future__ import annotations

import itertools
import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd import forward_ad

_rng = xp.random.default_rng()

FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


class GradcheckError(RuntimeError):
    """Error raised by :func:`gradcheck` and :func:`gradgradcheck`."""


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(x) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _is_float_tensor(x) -> bool:
    return isinstance(x, Tensor) and x._data.dtype.kind in "fc"


def _check_inputs(inputs: tuple) -> None:
    any_requires_grad = False
    for idx, inp in enumerate(inputs):
        if isinstance(inp, Tensor) and inp.requires_grad:
            if inp._data.dtype.name not in ("float64", "complex128"):
                warnings.warn(
                    f"Input #{idx} requires gradient and is not a double precision floating point "
                    "or complex. This check will likely fail if all the inputs are not of double "
                    "precision floating point or complex. ",
                    stacklevel=4,
                )
            if any(st == 0 and sz > 1 for st, sz in zip(inp._data.strides, inp._data.shape,
                                                         strict=True)):
                raise RuntimeError(
                    f"The {idx}th input has a dimension with stride 0. gradcheck only supports "
                    "inputs that are non-overlapping to be able to compute the numerical "
                    "gradients correctly. You should call .contiguous on the input before "
                    "passing it to gradcheck."
                )
            any_requires_grad = True
    if not any_requires_grad:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True."
        )


def _check_no_complex(inputs: tuple, outputs) -> None:
    if any(isinstance(t, Tensor) and t._data.dtype.kind == "c"
           for t in inputs + _as_tuple(outputs)):
        raise NotImplementedError("dyngrad: gradcheck does not support complex tensors yet")


def _tensor(array) -> Tensor:
    return Tensor._make(array)


# --- numerical Jacobian ------------------------------------------------------------------------
def _float_outputs(func, inputs: tuple) -> list:
    return [o._data.copy() for o in _as_tuple(func(*inputs)) if _is_float_tensor(o)]


def _numerical_jacobians(func, inputs: tuple, func_out, eps: float) -> list:
    """jac[j][k]: d(float output k) / d(input j), for each input j that requires grad."""
    outs = [o for o in _as_tuple(func_out) if _is_float_tensor(o)]
    result = []
    for inp in inputs:
        if not (isinstance(inp, Tensor) and inp.requires_grad):
            continue
        data = inp._data
        cols = [xp.zeros((data.size, o._data.size), o._data.dtype) for o in outs]
        for col, idx in enumerate(itertools.product(*[range(s) for s in data.shape])):
            orig = data[idx].copy()
            data[idx] = orig - eps
            lo = _float_outputs(func, inputs)
            data[idx] = orig + eps
            hi = _float_outputs(func, inputs)
            data[idx] = orig
            for k, (a, b) in enumerate(zip(lo, hi, strict=True)):
                _check_same_dtype_and_shape(a, b, eps, idx)
                cols[k][col] = ((b - a) / (2 * eps)).reshape(-1)
        result.append(cols)
    return result


def _check_same_dtype_and_shape(a, b, eps, idx) -> None:
    from dyngrad._dtype import FROM_NP
    from dyngrad._size import Size

    on_index = f"on index {idx} "
    if a.shape != b.shape:
        raise AssertionError(
            f"Expected `func` to return outputs with the same shape when inputs are perturbed "
            f"{on_index}by {eps}, but got: shapes {Size(a.shape)} and {Size(b.shape)}."
        )
    if a.dtype != b.dtype:
        raise AssertionError(
            f"Expected `func` to return outputs with the same dtype when inputs are perturbed "
            f"{on_index}by {eps}, but got: dtypes {FROM_NP[a.dtype]} and {FROM_NP[b.dtype]}."
        )


# --- analytical Jacobian (reverse mode) --------------------------------------------------------
def _analytical_rows(output, diff_inputs: list) -> list:
    """rows[j][r]: the gradient of output element r with respect to input j (or None)."""
    from dyngrad.autograd import grad

    rows = [[] for _ in diff_inputs]
    base = xp.zeros(output._data.shape, output._data.dtype)
    flat = base.reshape(-1)
    for r in range(flat.size):
        flat[:] = 0
        flat[r] = 1
        gs = grad(output, diff_inputs, _tensor(base.copy()), retain_graph=True,
                  allow_unused=True)
        for j, g in enumerate(gs):
            rows[j].append(None if g is None else g._data.copy())
    return rows


def _stack_rows(rows: list, diff_inputs: list, out_numel: int):
    jacs, sizes_ok, types_ok = [], True, True
    for j, inp in enumerate(diff_inputs):
        d = inp._data
        jac = xp.zeros((d.size, out_numel), d.dtype)
        for r, g in enumerate(rows[j]):
            if g is None:
                continue
            if g.shape != d.shape:
                sizes_ok = False
            elif g.dtype != d.dtype:
                types_ok = False
            jac[:, r] = g.reshape(-1)
        jacs.append(jac)
    return jacs, sizes_ok, types_ok


def _analytical_jacobians(inputs: tuple, output, nondet_tol: float, check_grad_dtypes: bool):
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    n = output._data.size
    jac1, sizes_ok, types_ok = _stack_rows(_analytical_rows(output, diff_inputs), diff_inputs, n)
    jac2, _, _ = _stack_rows(_analytical_rows(output, diff_inputs), diff_inputs, n)
    reentrant = all(a.size == 0 or xp.abs(a - b).max() <= nondet_tol
                    for a, b in zip(jac1, jac2, strict=True))
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output "
            "multiple times gives different values, although analytical gradient matches "
            f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}."
            + FAILED_NONDET_MSG
        )
    return jac1


# --- analytical Jacobian (forward mode) --------------------------------------------------------
def _forward_jacobians(func, inputs: tuple, func_out) -> list:
    """jac[j][k] for inputs j requiring grad, float outputs k, by one forward pass per column."""
    outs = [o for o in _as_tuple(func_out) if _is_float_tensor(o)]
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    result = []
    with forward_ad.dual_level():
        for i in diff:
            data = inputs[i]._data
            jacs = [xp.zeros((data.size, o._data.size), o._data.dtype) for o in outs]
            tangent = xp.zeros(data.shape, data.dtype)
            for col, idx in enumerate(itertools.product(*[range(s) for s in data.shape])):
                tangent[idx] = 1
                duals = [
                    forward_ad.make_dual(t.detach(), _tensor(tangent.copy())) if k == i
                    else (t.detach() if k in diff else t)
                    for k, t in enumerate(inputs)
                ]
                tangent[idx] = 0
                outputs = [o for o in _as_tuple(func(*duals)) if _is_float_tensor(o)]
                for k, o in enumerate(outputs):
                    t = forward_ad.unpack_dual(o).tangent
                    if t is not None:
                        jacs[k][col] = t._data.reshape(-1)
            result.append(jacs)
    return result


def _allclose(a, b, rtol: float, atol: float) -> bool:
    dt = xp.result_type(a.dtype, b.dtype)
    a, b = a.astype(dt), b.astype(dt)
    return bool(xp.all(xp.abs(a - b) <= atol + rtol * xp.abs(b)))


def _notallclose_msg(analytical, numerical, i: int, j: int, forward: bool = False) -> str:
    mode = "computed with forward mode " if forward else ""
    return (
        f"Jacobian {mode}mismatch for output {i:d} with respect to input {j:d},\n"
        f"numerical:{_tensor(numerical)!r}\nanalytical:{_tensor(analytical)!r}\n"
    )


def _slow_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes,
                    nondet_tol, use_forward_ad=False) -> bool:
    func_out = _as_tuple(func_out)
    numerical = _numerical_jacobians(func, inputs, func_out, eps)
    if not outputs:
        for per_input in numerical:
            for jac in per_input:
                if xp.any(jac != 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    float_outs = [o for o in func_out if _is_float_tensor(o)]
    # numerical[j][k] -> per differentiable output i: [numerical w.r.t. input j]
    by_output = [[per_input[k] for per_input in numerical]
                 for k, o in enumerate(float_outs) if o.requires_grad]
    if use_forward_ad:
        analytical = _forward_jacobians(func, inputs, func_out)
        for i, per_input in enumerate(by_output):
            for j, n in enumerate(per_input):
                a = analytical[j][i]
                if not _allclose(a, n, rtol, atol):
                    raise GradcheckError(_notallclose_msg(a, n, i, j, forward=True))
        return True
    for i, o in enumerate(outputs):
        analytical = _analytical_jacobians(inputs, o, nondet_tol, check_grad_dtypes)
        for j, (a, n) in enumerate(zip(analytical, by_output[i], strict=False)):
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_notallclose_msg(a, n, i, j))
    return True


# --- extra backward checks ---------------------------------------------------------------------
def _test_backward_mul_by_grad_output(outputs, inputs) -> bool:
    from dyngrad.autograd import grad

    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")
    zeros = [_tensor(xp.zeros(o._data.shape, o._data.dtype)) for o in outputs]
    grads = grad(outputs, diff_inputs, zeros, allow_unused=True)
    for gi, di in zip(grads, diff_inputs, strict=True):
        if gi is None:
            continue
        if not xp.all(gi._data == 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if gi._data.dtype != di._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi._data.shape != di._data.shape:
            raise GradcheckError("grad is incorrect size")
    return True


def _undefined_grad(t: Tensor) -> Tensor:
    """t, through a node whose backward gives no gradient (PyTorch's `UndefinedGrad`)."""
    from dyngrad.autograd.function import Function

    class UndefinedGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return None

    return UndefinedGrad.apply(t)


def _test_undefined_backward_mode(func, outputs, inputs) -> bool:
    """Backward must cope with output gradients that are undefined (None)."""
    from dyngrad.autograd import grad

    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")

    def warn_bc_breaking():
        warnings.warn(
            "Backwards compatibility: New undefined gradient support checking feature is enabled "
            "by default, but it may break existing callers of this function. If this is true for "
            'you, you can call this function with "check_undefined_grad=False" to disable the '
            "feature",
            stacklevel=2,
        )

    def check(outs) -> bool:
        zeros = [_tensor(xp.zeros(o._data.shape, o._data.dtype)) for o in outs]
        try:
            grads = grad(outs, diff_inputs, zeros, allow_unused=True)
        except RuntimeError as e:
            warn_bc_breaking()
            raise GradcheckError(
                "Expected backward function to handle undefined output grads. Please look at "
                '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
            ) from e
        for gi in grads:
            if gi is not None and not xp.all(gi._data == 0):
                warn_bc_breaking()
                raise GradcheckError(
                    "Expected all input grads to be undefined or zero when all output grads are "
                    'undefined or zero. Please look at "Notes about undefined output gradients" '
                    'in "tools/autograd/derivatives.yaml"'
                )
        return True

    to_check = [[_undefined_grad(o) for o in _differentiable_outputs(func(*inputs))]]
    if len(to_check[0]) > 1:
        for undef in range(len(outputs)):
            outs = _differentiable_outputs(func(*inputs))
            to_check.append([_undefined_grad(o) if k == undef else o for k, o in enumerate(outs)])
    return all(check(outs) for outs in to_check)


def _test_batched_grad(inputs, output, output_idx: int) -> bool:
    """Gradients for a batch of grad_outputs at once (`is_grads_batched`) match one by one."""
    from dyngrad.autograd import grad

    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    d = output._data
    batch = xp.stack([_rng.standard_normal(d.shape).astype(d.dtype) for _ in range(2)])
    expected = []
    for v in batch:
        gs = grad(output, diff_inputs, _tensor(v.copy()), retain_graph=True, allow_unused=True)
        expected.append([xp.zeros(t._data.shape, t._data.dtype) if g is None else g._data
                         for g, t in zip(gs, diff_inputs, strict=True)])
    result = grad(output, diff_inputs, _tensor(batch), retain_graph=True, allow_unused=True,
                  is_grads_batched=True)
    for input_idx, res in enumerate(result):
        exp = xp.stack([e[input_idx] for e in expected])
        got = xp.zeros_like(exp) if res is None else res._data
        if not _allclose(got, exp, 1e-5, 1e-8):
            raise GradcheckError(
                f"For output {output_idx} and input {input_idx}:\n\n"
                "gradcheck or gradgradcheck failed while testing batched gradient computation.\n"
                f"Got: {_tensor(got)!r}\n\nExpected: {_tensor(exp)!r}"
            )
    return True


# --- public functions --------------------------------------------------------------------------
def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of `func` at `inputs` against finite differences (see module doc)."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True"
        )
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True"
        )
    try:
        return _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
                          check_grad_dtypes, check_batched_grad, check_forward_ad,
                          check_backward_ad)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
               check_grad_dtypes, check_batched_grad, check_forward_ad, check_backward_ad):
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    func_out = func(*inputs)
    _check_no_complex(inputs, func_out)
    outputs = _differentiable_outputs(func_out)
    args = (eps, rtol, atol, check_grad_dtypes, nondet_tol)
    if check_backward_ad:
        _slow_gradcheck(func, func_out, inputs, outputs, *args)
    if check_forward_ad:
        _slow_gradcheck(func, func_out, inputs, outputs, *args, use_forward_ad=True)
    if not check_backward_ad:
        return True
    if check_batched_grad:
        for i, o in enumerate(outputs):
            _test_batched_grad(inputs, o, i)
    _test_backward_mul_by_grad_output(outputs, inputs)
    if check_undefined_grad:
        _test_undefined_backward_mode(func, outputs, inputs)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """gradcheck of the first-order gradients (as functions of inputs and grad_outputs)."""
    from dyngrad.autograd import grad

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        )
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True"
        )
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True"
        )
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*tupled_inputs))
        tupled_grad_outputs = tuple(_random_grad_output(o, gen_non_contig_grad_outputs)
                                    for o in outputs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_input_indices = {i for i, x in enumerate(tupled_inputs)
                          if isinstance(x, Tensor) and x.requires_grad}
    diff_grad_output_indices = {i for i, x in enumerate(tupled_grad_outputs) if x.requires_grad}

    def new_func(*args):
        input_args = tuple(x.requires_grad_() if i in diff_input_indices else x
                           for i, x in enumerate(args[:-num_outputs]))
        outputs = _differentiable_outputs(func(*input_args))
        grad_outputs = tuple(x.requires_grad_() if i in diff_grad_output_indices else x
                             for i, x in enumerate(args[-num_outputs:]))
        diff_input_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_indices)
        grad_inputs = grad(outputs, diff_input_args, grad_outputs, create_graph=True,
                           allow_unused=True)
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     fast_mode=fast_mode, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, masked=masked)


def _random_grad_output(o: Tensor, noncontiguous: bool) -> Tensor:
    """Uniform in [-1, 1), as `torch.testing.make_tensor(..., low=-1, high=1)`."""
    d = o._data
    dtype = d.dtype if d.dtype.kind in "fc" else xp.dtype(xp.float64)
    values = _rng.uniform(-1, 1, d.shape).astype(dtype)
    if noncontiguous and values.size > 1:
        wide = xp.zeros(d.shape[:-1] + (2 * d.shape[-1],), dtype)
        wide[..., ::2] = values
        values = wide[..., ::2]
    return Tensor._make(values, True)


__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
