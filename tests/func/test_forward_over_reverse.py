"""Forward-over-reverse (jacfwd(jacrev(f)), PyTorch's hessian) through functions that select or
slice their input, compared with torch on float64 inputs.

The backward formulas of views (SelectBackward0, SliceBackward0, DiagonalBackward0, ...) write
the gradient into a region of fresh zeros. Run on tensors under forward AD (jacfwd over the
graph jacrev built with create_graph), the tangent of that write is written into a region of the
zeros' new tangent, which must be batched as the written tangent is (at jacfwd's and jacrev's
vmap levels): PyTorch's `_new_zeros_with_same_feature_meta`, dyngrad's
`forward_ad._zeros_batched_like`. Each function is checked by jacfwd(jacrev(f)), by
vmap(jacfwd(jacrev(f))), by jvp(grad(f)), by `forward_ad` dual tensors through
`autograd.grad(..., create_graph=True)`, and by `autograd.functional.hessian` with
`outer_jacobian_strategy="forward-mode"`.
"""

import warnings

import numpy as np
import pytest
import torch

import dyngrad as dg
from tests.harness import assert_same_values

rng = np.random.default_rng(1234)
INPUTS = {shape: rng.standard_normal(shape) for shape in [(7,), (4, 5), (3, 4, 5)]}
BATCHES = {shape: rng.standard_normal((3, *shape)) for shape in INPUTS}
TANGENTS = {shape: rng.standard_normal(shape) for shape in INPUTS}


def _setitem_into_copy(v):
    y = v * 1
    y[1:3] = v[2:4] ** 2
    return y


def _cases(lib):
    """name -> (input shape, f(v) -> tensor), for one library."""

    def fresh_zeros(v):
        z = lib.zeros(7, dtype=lib.float64)
        z[1:4] = v[:3] ** 2
        return z * v

    return {
        "slice": ((7,), lambda v: v[1:3] ** 3),
        "slice_step": ((7,), lambda v: v[::2] ** 3 + v[1::2].sum() * v[0:4]),
        "slice_step_3": ((4, 5), lambda v: v[1:4:2, ::3] ** 3),
        "select_times_input": ((7,), lambda v: v[0] * v),
        "select_last": ((7,), lambda v: v[-1] ** 2 * v[1:4]),
        "column": ((4, 5), lambda v: v[:, 1] ** 3),
        "row_and_column": ((4, 5), lambda v: v[2] * v[:, 3].sum()),
        "select_method": ((3, 4, 5), lambda v: v.select(1, 2).sin() * v[0, 0, 0]),
        "narrow": ((4, 5), lambda v: v.narrow(1, 1, 3) ** 3),
        "narrow_dim0": ((3, 4, 5), lambda v: v.narrow(0, 1, 2).cos()),
        "unbind": ((4, 5), lambda v: lib.stack([t ** (i + 2) for i, t in enumerate(v.unbind(1))])),
        "unbind_dim0": ((3, 4, 5), lambda v: v.unbind()[1] * v.unbind()[2]),
        "diagonal": ((4, 5), lambda v: v.diagonal() ** 3),
        "diagonal_offsets": ((4, 5), lambda v: v.diagonal(1)[1:] ** 3 + v.diagonal(-1) ** 2),
        "diagonal_3d": ((3, 4, 5), lambda v: v.diagonal(0, 1, 2) ** 3),
        "split": ((4, 5), lambda v: lib.cat([t ** (i + 2)
                                             for i, t in enumerate(v.split([2, 3], 1))], 1)),
        "split_size": ((7,), lambda v: lib.cat([t * t.sum() for t in v.split(3)])),
        "chunk": ((4, 5), lambda v: lib.cat([t ** (i + 2) for i, t in enumerate(v.chunk(3))])),
        "tensor_split": ((7,), lambda v: lib.cat([t ** 3 * (i + 1)
                                                  for i, t in enumerate(v.tensor_split(3))])),
        "expand": ((7,), lambda v: v[:2].expand(3, 2) ** 3 * lib.arange(6.0, dtype=lib.float64)
                   .reshape(3, 2)),
        "transpose_then_slice": ((4, 5), lambda v: v.t()[1:4, ::2] ** 3),
        "transpose_then_select": ((3, 4, 5), lambda v: v.transpose(0, 2)[3] ** 3),
        "movedim_then_slice": ((3, 4, 5), lambda v: v.movedim(0, -1)[1:3, ..., 1:] ** 2),
        "list_index": ((4, 5), lambda v: v[[0, 2, 2]] ** 3),
        "two_lists": ((4, 5), lambda v: v[[0, 1, 3], [1, 3, 3]] ** 3),
        "slice_and_list": ((4, 5), lambda v: v[1:, [4, 0]] ** 3),
        "unfold": ((7,), lambda v: v.unfold(0, 3, 2) ** 3),
        "setitem_into_copy": ((7,), _setitem_into_copy),
        "fresh_zeros": ((7,), fresh_zeros),
        "view_of_view": ((3, 4, 5), lambda v: v[1][:, 2:][::2] ** 3),
    }


NAMES = list(_cases(torch))


def _loss(lib, f):
    def loss(v):
        return (f(v) * lib.cos(v.sum())).sum()

    return loss


def _both(run):
    """run(lib, f, shape) for torch and dyngrad, on each case's function."""
    out = []
    for lib in (torch, dg):
        shape, f = _cases(lib)[run.name]
        with warnings.catch_warnings():  # (dyngrad: no per-sample fallback loop under vmap)
            warnings.simplefilter("ignore" if lib is torch else "error", UserWarning)
            out.append(run(lib, f, shape))
    return out


def _check(got, expected, what):
    assert type(got._data) is np.ndarray, f"{what}: {type(got._data).__name__}"
    assert_same_values(got.detach(), expected.detach(), what, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_jacfwd_of_jacrev(name):
    """Of the (vector-valued) function itself: jacrev's vmap has a batch of the output's size."""

    def run(lib, f, shape):
        return lib.func.jacfwd(lib.func.jacrev(f))(lib.tensor(INPUTS[shape]))

    run.name = name
    expected, got = _both(run)
    _check(got, expected, name)


@pytest.mark.parametrize("name", NAMES)
def test_hessian_forward_over_reverse(name):
    """jacfwd(jacrev(loss)): PyTorch's torch.func.hessian."""

    def run(lib, f, shape):
        return lib.func.jacfwd(lib.func.jacrev(_loss(lib, f)))(lib.tensor(INPUTS[shape]))

    run.name = name
    expected, got = _both(run)
    _check(got, expected, name)
    _check(got, torch.func.hessian(_loss(torch, _cases(torch)[name][1]))(
        torch.tensor(INPUTS[_cases(torch)[name][0]])), f"{name} torch.func.hessian")


# z = zeros(...); z[1:4] = v[:3] ** 2 with v batched: an in-place write of batched values into
# an unbatched tensor, refused under vmap by both libraries.
UNBATCHABLE = {"fresh_zeros"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", ["jacfwd_of_jacrev", "jacfwd"])
def test_vmap_of_forward_mode(name, how):
    """vmap(jacfwd(jacrev(loss))): three vmap levels (the batch, jacfwd's tangents, jacrev's
    cotangents). vmap(jacfwd(f)): a tangent batched at the outer level is written into a region
    of one that is not (`y = v * 1; y[1:3] = v[2:4] ** 2`, y's tangent from jacfwd's basis)."""

    def transform(lib, f):
        if how == "jacfwd":
            return lib.func.jacfwd(f)
        return lib.func.jacfwd(lib.func.jacrev(_loss(lib, f)))

    def run(lib, f, shape):
        return lib.func.vmap(transform(lib, f))(lib.tensor(BATCHES[shape]))

    run.name = name
    if name in UNBATCHABLE:
        for lib in (torch, dg):
            shape, f = _cases(lib)[name]
            with pytest.raises(RuntimeError, match="vmap|doesn't match the broadcast shape"):
                run(lib, f, shape)
        return
    expected, got = _both(run)
    _check(got, expected, name)


@pytest.mark.parametrize("name", NAMES)
def test_jvp_of_grad(name):
    """Hessian-vector product by forward over reverse: jvp(grad(loss), x, t)."""

    def run(lib, f, shape):
        x, t = lib.tensor(INPUTS[shape]), lib.tensor(TANGENTS[shape])
        return lib.func.jvp(lib.func.grad(_loss(lib, f)), (x,), (t,))[1]

    run.name = name
    expected, got = _both(run)
    _check(got, expected, name)


@pytest.mark.parametrize("name", NAMES)
def test_forward_ad_through_create_graph(name):
    """Without func transforms: a dual input through autograd.grad(..., create_graph=True); the
    gradient's tangent is H t."""

    def run(lib, f, shape):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(lib.tensor(INPUTS[shape], requires_grad=True),
                             lib.tensor(TANGENTS[shape]))
            (g,) = lib.autograd.grad(_loss(lib, f)(x), x, create_graph=True)
            primal, tangent = fw.unpack_dual(g)
            return primal.detach(), tangent.detach()

    run.name = name
    expected, got = _both(run)
    _check(got[0], expected[0], f"{name} gradient")
    _check(got[1], expected[1], f"{name} tangent")


@pytest.mark.parametrize("name", NAMES)
def test_functional_hessian_forward_mode(name):
    """autograd.functional.hessian with the forward-mode outer Jacobian (vectorize=True);
    compared with torch.func.hessian (PyTorch's own functional version refuses list indices
    under its vmap)."""
    shape, f = _cases(dg)[name]
    got = dg.autograd.functional.hessian(_loss(dg, f), dg.tensor(INPUTS[shape]), vectorize=True,
                                         outer_jacobian_strategy="forward-mode")
    _, tf = _cases(torch)[name]
    expected = torch.func.hessian(_loss(torch, tf))(torch.tensor(INPUTS[shape]))
    _check(got, expected, name)


def test_examples_from_the_issue():
    results = []
    for lib in (torch, dg):
        x = lib.tensor(INPUTS[(7,)][:5])
        hess = [lib.func.jacfwd(lib.func.jacrev(f))(x)
                for f in (lambda v: (v[1:3] ** 3).sum(), lambda v: (v[0] * v).sum())]
        results.append(hess)
    for got, expected in zip(results[1], results[0], strict=True):
        _check(got, expected, "example")


def test_plain_backward_stays_on_arrays():
    """Without forward AD, the view formulas still compute on ndarrays (the fast path)."""
    for name in NAMES:
        shape, f = _cases(dg)[name]
        x = dg.tensor(INPUTS[shape], requires_grad=True)
        _loss(dg, f)(x).backward()
        tx = torch.tensor(INPUTS[shape], requires_grad=True)
        _loss(torch, _cases(torch)[name][1])(tx).backward()
        _check(x.grad, tx.grad, name)
