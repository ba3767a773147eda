"""grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, linearize: values, structure and
requires_grad against torch.func, compositions, and PyTorch's errors."""

import numpy as np
import pytest
import torch
import torch.utils._pytree as torch_pytree

import dyngrad as dg
from dyngrad.func._pytree import tree_flatten
from tests.harness import check_error

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*torch.jit.script.*:DeprecationWarning",  # torch's jvp
    "ignore:Attempted to insert a get_attr Node:UserWarning",  # torch's linearize
)
rng = np.random.default_rng(1)
A = rng.standard_normal(3)
M = rng.standard_normal((3, 3))
C = rng.standard_normal((4, 3))


def t(lib, a, requires_grad=False):
    return lib.tensor(a, requires_grad=requires_grad)


def same(fn):
    """fn(torch) and fn(dyngrad) give the same pytree: values, shapes, requires_grad."""
    expected, _ = torch_pytree.tree_flatten(fn(torch))
    got, _ = tree_flatten(fn(dg))
    assert len(got) == len(expected)
    for e, g in zip(expected, got, strict=True):
        if not isinstance(e, torch.Tensor):
            assert e == g
            continue
        assert type(g._data) is np.ndarray
        assert tuple(g.shape) == tuple(e.shape)
        assert g.requires_grad == e.requires_grad
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def f(x):
    return (x.sin() * x).sum()


CASES = {
    "grad": lambda lib: lib.func.grad(f)(t(lib, A)),
    "grad_and_value": lambda lib: lib.func.grad_and_value(f)(t(lib, A)),
    "grad_has_aux": lambda lib: lib.func.grad(lambda x: ((x ** 2).sum(), x.cos()),
                                              has_aux=True)(t(lib, A)),
    "grad_and_value_has_aux": lambda lib: lib.func.grad_and_value(
        lambda x: ((x ** 2).sum(), {"c": x.cos()}), has_aux=True)(t(lib, A)),
    "grad_argnums": lambda lib: lib.func.grad(lambda x, y: x @ y @ x, argnums=(0, 1))(
        t(lib, A), t(lib, M)),
    "grad_argnum_negative": lambda lib: lib.func.grad(lambda x, y: x @ y @ x, argnums=-1)(
        t(lib, A), t(lib, M)),
    "grad_pytree": lambda lib: lib.func.grad(lambda p: (p["a"] * p["b"][0]).sum())(
        {"a": t(lib, A), "b": [t(lib, A)]}),
    "grad_kwargs": lambda lib: lib.func.grad(lambda x, s=1.0: (x * s).sum())(t(lib, A), s=3.0),
    "grad_of_grad": lambda lib: lib.func.grad(
        lambda x: lib.func.grad(lambda y: (y ** 3).sum())(x).sum())(t(lib, A)),
    "grad_closure": lambda lib: lib.func.grad(
        lambda w: lib.func.grad(lambda x: (x * w).sin().sum())(t(lib, A)).sum())(t(lib, A)),
    "grad_input_requires_grad": lambda lib: (lambda x: lib.autograd.grad(
        lib.func.grad(lambda y: (y ** 3).sum())(x).sum(), x))(t(lib, A, True)),
    "grad_no_grad": lambda lib: _no_grad(lib, lambda: lib.func.grad(f)(t(lib, A, True))),
    "vjp": lambda lib: (lambda o, fn: (o, fn(lib.ones(4, dtype=lib.float64))))(
        *lib.func.vjp(lambda x: t(lib, C) @ x.sin(), t(lib, A))),
    "vjp_has_aux": lambda lib: (lambda o, fn, aux: (o, fn((lib.ones(3, dtype=lib.float64),
                                                            lib.ones((), dtype=lib.float64))),
                                                    aux))(
        *lib.func.vjp(lambda x: ((x.exp(), x.sum()), x * 2), t(lib, A), has_aux=True)),
    "vjp_requires_grad": lambda lib: lib.func.vjp(lambda x: x.sin(), t(lib, A, True))[1](
        lib.ones(3, dtype=lib.float64)),
    "jvp": lambda lib: lib.func.jvp(lambda x: t(lib, C) @ x.sin(), (t(lib, A),), (t(lib, A),)),
    "jvp_has_aux": lambda lib: lib.func.jvp(lambda x: (x.exp(), x * 3), (t(lib, A),),
                                            (t(lib, A),), has_aux=True),
    "jvp_of_jvp": lambda lib: lib.func.jvp(
        lambda x: lib.func.jvp(lambda y: (y ** 3).sin(), (x,), (x,))[1], (t(lib, A),),
        (t(lib, A),)),
    "jvp_of_grad": lambda lib: lib.func.jvp(lib.func.grad(f), (t(lib, A),), (t(lib, A),)),
    "jacrev": lambda lib: lib.func.jacrev(lambda x: t(lib, C) @ x.sin())(t(lib, A)),
    "jacrev_argnums": lambda lib: lib.func.jacrev(lambda x, y: (x @ y).exp(), argnums=(0, 1))(
        t(lib, A), t(lib, M)),
    "jacrev_chunks": lambda lib: lib.func.jacrev(lambda x: t(lib, C) @ x.sin(), chunk_size=3)(
        t(lib, A)),
    "jacrev_chunk_1": lambda lib: lib.func.jacrev(lambda x: t(lib, C) @ x.sin(), chunk_size=1)(
        t(lib, A)),
    "jacrev_outputs": lambda lib: lib.func.jacrev(lambda x: (x.sin(), (x ** 2).sum()))(
        t(lib, A)),
    "jacrev_has_aux": lambda lib: lib.func.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(
        t(lib, A)),
    "jacfwd": lambda lib: lib.func.jacfwd(lambda x: t(lib, C) @ x.sin())(t(lib, A)),
    "jacfwd_argnums": lambda lib: lib.func.jacfwd(lambda x, y: (x @ y).exp(), argnums=(0, 1))(
        t(lib, A), t(lib, M)),
    "jacfwd_has_aux": lambda lib: lib.func.jacfwd(lambda x: (x.sin(), x.cos()), has_aux=True)(
        t(lib, A)),
    "jacfwd_matrix": lambda lib: lib.func.jacfwd(lambda x: x @ x.t())(t(lib, C)),
    "hessian": lambda lib: lib.func.hessian(f)(t(lib, A)),
    "hessian_matrix": lambda lib: lib.func.hessian(lambda x: (x @ x.t()).tanh().sum())(
        t(lib, C)),
    "hessian_argnums": lambda lib: lib.func.hessian(lambda x, y: (x * y).sin().sum(),
                                                    argnums=(0, 1))(t(lib, A), t(lib, A)),
    "jacfwd_of_jacfwd": lambda lib: lib.func.jacfwd(lib.func.jacfwd(lambda x: (x ** 3).sum()))(
        t(lib, A)),
    "jacrev_of_jacrev": lambda lib: lib.func.jacrev(lib.func.jacrev(f))(t(lib, A)),
    "vmap_of_jacrev": lambda lib: lib.func.vmap(lib.func.jacrev(lambda x: x.sin() * x.sum()))(
        t(lib, C)),
    "jacrev_of_vmap": lambda lib: lib.func.jacrev(lib.func.vmap(lambda x: x.sin() * x.sum()))(
        t(lib, C)),
    "vmap_of_hessian": lambda lib: lib.func.vmap(lib.func.hessian(f))(t(lib, C)),
    "grad_of_vmap": lambda lib: lib.func.grad(
        lambda w: lib.func.vmap(lambda x: (x * w).sin().sum())(t(lib, C)).sum())(t(lib, A)),
    "vmap_of_vjp": lambda lib: lib.func.vmap(
        lambda v: lib.func.vjp(lambda x: x.sin() * 2, t(lib, A))[1](v))(t(lib, C)),
    "linearize": lambda lib: (lambda o, fn: (o, fn(t(lib, A))))(
        *lib.func.linearize(lambda x: x.sin() * x, t(lib, A))),
}


def _no_grad(lib, fn):
    with lib.no_grad():
        return fn()


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    same(CASES[name])


def test_grad_of_vmap_sums_over_the_batch():
    w = dg.tensor(A, requires_grad=True)
    out = dg.func.vmap(lambda x: (x * w).sum())(dg.tensor(C))
    (g,) = dg.autograd.grad(out.sum(), w)
    np.testing.assert_allclose(g.numpy(), C.sum(0))


ERRORS = {
    "non_scalar": lambda lib: lib.func.grad(lambda x: x * 2)(lib.ones(3)),
    "non_tensor_output": lambda lib: lib.func.grad(lambda x: 2.0)(lib.ones(3)),
    "aux_not_pair": lambda lib: lib.func.grad(lambda x: x.sum(), has_aux=True)(lib.ones(3)),
    "argnum_range": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=2)(lib.ones(3)),
    "argnums_type": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=[0])(lib.ones(3)),
    "argnums_repeat": lambda lib: lib.func.grad(lambda x, y: x.sum(), argnums=(0, 0))(
        lib.ones(3), lib.ones(3)),
    "argnums_empty": lambda lib: lib.func.grad(lambda x, y: x.sum(), argnums=())(
        lib.ones(3), lib.ones(3)),
    "argnum_float": lambda lib: lib.func.grad(lambda x, y: x.sum(), argnums=(0.5,))(
        lib.ones(3), lib.ones(3)),
    "non_tensor_input": lambda lib: lib.func.grad(lambda x: x * 2.0)(3.0),
    "int_input": lambda lib: lib.func.grad(lambda x: x.sum())(lib.ones(3, dtype=lib.int64)),
    "backward_inside": lambda lib: lib.func.grad(lambda x: (x.sum().backward(), x.sum())[1])(
        lib.ones(3)),
    "vjp_int_output": lambda lib: lib.func.vjp(lambda x: x.argmax(), lib.ones(3)),
    "vjp_none_output": lambda lib: lib.func.vjp(lambda x: None, lib.ones(3)),
    "vjp_non_tensor_output": lambda lib: lib.func.vjp(lambda x: 3, lib.ones(3)),
    "vjp_aux_not_pair": lambda lib: lib.func.vjp(lambda x: x, lib.ones(3), has_aux=True),
    "vjp_cotangent_structure": lambda lib: lib.func.vjp(lambda x: (x, x), lib.ones(3))[1](
        lib.ones(3)),
    "vjp_cotangent_shape": lambda lib: lib.func.vjp(lambda x: x * 2, lib.ones(3))[1](
        lib.ones(2)),
    "jvp_primals_not_tuple": lambda lib: lib.func.jvp(lambda x: x, lib.ones(3), (lib.ones(3),)),
    "jvp_structure": lambda lib: lib.func.jvp(lambda x: x, (lib.ones(3),), [lib.ones(3)]),
    "jvp_empty": lambda lib: lib.func.jvp(lambda: 1, (), ()),
    "jvp_non_tensor": lambda lib: lib.func.jvp(lambda x: x, (1.0,), (1.0,)),
    "jvp_shape": lambda lib: lib.func.jvp(lambda x: x, (lib.ones(3),), (lib.ones(2),)),
    "jvp_strict": lambda lib: lib.func.jvp(lambda x: lib.ones(2), (lib.ones(3),),
                                           (lib.ones(3),), strict=True),
    "jvp_int_primal": lambda lib: lib.func.jvp(lambda x: x, (lib.ones(3, dtype=lib.int64),),
                                               (lib.ones(3),)),
    "jvp_non_tensor_output": lambda lib: lib.func.jvp(lambda x: 1, (lib.ones(3),),
                                                      (lib.ones(3),)),
    "jacrev_chunk_size": lambda lib: lib.func.jacrev(lambda x: x, chunk_size=0),
    "jacrev_complex": lambda lib: lib.func.jacrev(lambda x: x)(lib.ones(3, dtype=lib.complex64)),
    "jacfwd_complex": lambda lib: lib.func.jacfwd(lambda x: x)(lib.ones(3, dtype=lib.complex64)),
    "linearize_shape": lambda lib: lib.func.linearize(lambda x: x * 2, lib.ones(3))[1](
        lib.ones(2)),
    "linearize_dtype": lambda lib: lib.func.linearize(lambda x: x * 2, lib.ones(3))[1](
        lib.ones(3, dtype=lib.float64)),
    "linearize_structure": lambda lib: lib.func.linearize(lambda x: x * 2, lib.ones(3))[1](
        lib.ones(3), lib.ones(3)),
    "functionalize_remove": lambda lib: lib.func.functionalize(lambda x: x, remove="x"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    check_error(ERRORS[name])


def test_forward_over_reverse_through_ops_that_save_their_output():
    """jacfwd(jacrev(f)) differentiates backward formulas that use saved outputs (tanh, exp,
    sigmoid): the saved output must keep its tangent."""
    x = np.array([0.3, -0.7, 1.1])

    def hess(lib):
        def f(t):
            return (t.tanh() * t.exp()).sum() + t.sigmoid().prod()

        return lib.func.jacfwd(lib.func.jacrev(f))(lib.tensor(x)).numpy()

    np.testing.assert_allclose(hess(dg), hess(torch), rtol=1e-10, atol=1e-12)
