"""Matrix products and friends against PyTorch: values, dtypes, the grad_fn name of every matmul
case (which depends on shapes and on which operand requires grad), gradients of first and second
order with broadcasting and batches, einsum, error messages, and the cost of a large matmul."""

import time

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, fd_gradgrad, with_lib

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((6, 5, 2, 3), (5, 3, 4)), ((6, 1, 2, 3), (1, 5, 3, 4)), ((1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (1, 3, 4)), ((1, 3), (5, 3, 4)), ((2, 3), (5, 3, 1)), ((2, 3), (2, 5, 3, 4)),
    ((6, 5, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 4)), ((0, 3), (5, 3, 4)), ((2, 0), (0, 3)),
]
GRAD_OF = {"both": [True, True], "first": [True, False], "second": [False, True]}


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("which", GRAD_OF)
def test_matmul_cases(sa, sb, which):
    """Values, grad_fn name (PyTorch's varies with the case), first and second order grads."""
    check_op(lambda a, b: a @ b, array(*sa), array(*sb), requires_grad=GRAD_OF[which])


def test_matmul_forms():
    a, b = array(2, 3), array(3, 4)
    check_op("matmul", a, b)
    check_op(".matmul", a, b)
    check_op(lambda x, y: x.__matmul__(y), a, b)
    check_op(lambda x, y: y.__rmatmul__(x), a, b)


def test_matmul_of_non_contiguous_batches():
    """PyTorch folds a batch into one mm only when its memory allows: the grad_fn tells."""
    check_op(lambda a, b: a.transpose(0, 1) @ b, array(2, 5, 3), array(3, 4),
             requires_grad=[True, False])
    check_op(lambda a, b: a @ b.transpose(-1, -2), array(3), array(5, 4, 3),
             requires_grad=[True, False])


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_products(dtype):
    a, b = array(2, 3, dtype=dtype), array(3, 4, dtype=dtype)
    check_op(lambda x, y: x @ y, a, b, dtypes=None)
    check_op(lambda x, y: x @ y, array(4, 2, 3, dtype=dtype), array(3, dtype=dtype), dtypes=None)
    # 0-dim complex outputs are unsqueezed: the harness cannot build 0-dim complex grad_outputs
    for name in ("dot", "vdot"):
        check_op(lambda x, y, n=name: getattr(x, n)(y).unsqueeze(0), array(3, dtype=dtype),
                 array(3, dtype=dtype), dtypes=None)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_products(dtype):
    a, b = array(2, 3, dtype=dtype), array(3, 4, dtype=dtype)
    check_op(lambda x, y: x @ y, a, b)
    check_op("dot", array(3, dtype=dtype), array(3, dtype=dtype))
    check_op("trace", array(3, 3, dtype=dtype))
    check_op("kron", a, b)


PRODUCTS = {
    "mm": ("mm", (2, 3), (3, 4)),
    "bmm": ("bmm", (5, 2, 3), (5, 3, 4)),
    "mv": ("mv", (2, 3), (3,)),
    "dot": ("dot", (3,), (3,)),
    "vdot": ("vdot", (3,), (3,)),
    "outer": ("outer", (3,), (4,)),
    "ger": ("ger", (3,), (4,)),
    "inner": ("inner", (2, 3), (4, 3)),
    "inner 1-D": ("inner", (3,), (3,)),
    "inner 0-D": ("inner", (), (2, 3)),
    "inner 3-D": ("inner", (2, 5, 3), (4, 3)),
    "kron": ("kron", (2, 3), (4, 5)),
    "kron 1-D": ("kron", (2,), (3,)),
    "kron mixed": (lambda lib, a, b: lib.kron(a, b.contiguous()), (2,), (3, 2)),
    "kron 3-D": (lambda lib, a, b: lib.kron(a.contiguous(), b.contiguous()), (2, 1, 2), (2, 3)),
    "cross": (lambda lib, a, b: lib.cross(a, b, dim=1), (4, 3), (4, 3)),
    "cross broadcast": (lambda lib, a, b: lib.cross(a, b, dim=-1), (4, 3), (1, 3)),
    "cross dim 0": (lambda lib, a, b: a.cross(b, 0), (3, 2), (3, 2)),
}


@pytest.mark.parametrize("name", PRODUCTS)
def test_products(name):
    fn, sa, sb = PRODUCTS[name]
    fn = with_lib(fn) if callable(fn) else fn
    check_op(fn, array(*sa), array(*sb))
    if isinstance(fn, str):
        check_op("." + fn, array(*sa), array(*sb), noncontig=False)


ADD_PRODUCTS = {
    "addmm": (lambda lib, i, a, b: lib.addmm(i, a, b), (2, 4), (2, 3), (3, 4)),
    "addmm broadcast": (lambda lib, i, a, b: lib.addmm(i, a, b), (4,), (2, 3), (3, 4)),
    "addmm scaled": (lambda lib, i, a, b: lib.addmm(i, a, b, beta=0.5, alpha=-2), (2, 1),
                     (2, 3), (3, 4)),
    "addmm beta 0": (lambda lib, i, a, b: i.addmm(a, b, beta=0), (2, 4), (2, 3), (3, 4)),
    "addmv": (lambda lib, i, a, b: lib.addmv(i, a, b), (2,), (2, 3), (3,)),
    "addmv scaled": (lambda lib, i, a, b: i.addmv(a, b, beta=2, alpha=0.5), (), (2, 3), (3,)),
    "baddbmm": (lambda lib, i, a, b: lib.baddbmm(i, a, b), (5, 2, 4), (5, 2, 3), (5, 3, 4)),
    "baddbmm scaled": (lambda lib, i, a, b: i.baddbmm(a, b, beta=-1, alpha=3), (2, 4),
                       (5, 2, 3), (5, 3, 4)),
}


@pytest.mark.parametrize("name", ADD_PRODUCTS)
def test_scaled_sums_of_products(name):
    fn, *shapes = ADD_PRODUCTS[name]
    check_op(with_lib(fn), *(array(*s) for s in shapes))


def test_addmm_beta_zero_ignores_nan():
    nan = np.full((2, 4), np.nan)
    check_op(with_lib(lambda lib, i, a, b: lib.addmm(i, a, b, beta=0)), nan, array(2, 3),
             array(3, 4), noncontig=False)


def test_inplace_forms():
    check_op(lambda i, a, b: (i * 1).addmm_(a, b, alpha=2), array(2, 4), array(2, 3), array(3, 4))
    check_op(lambda i, a, b: (i * 1).addmv_(a, b), array(2), array(2, 3), array(3))
    check_op(lambda i, a, b: (i * 1).baddbmm_(a, b), array(5, 2, 4), array(5, 2, 3),
             array(5, 3, 4))
    check_op(lambda x: (x * 1).tril_(), array(3, 3))
    check_op(lambda x: (x * 1).triu_(1), array(3, 4))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]),
    ("ij", [(2, 3)]), ("ii->", [(3, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]), ("i,i->", [(3,), (3,)]), ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]), ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...j,jk", [(2, 3), (3, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,k->i", [(2, 3), (4,)]), ("i,i,i->", [(3,), (3,), (3,)]), ("ii,i->i", [(3, 3), (3,)]),
    ("ij,j", [(2, 3), (1,)]), ("bij,bjk->bik", [(1, 2, 3), (5, 3, 4)]),
    ("i...->...", [(2, 3, 4)]), ("...i,...i->...", [(5, 1, 3), (4, 3)]), ("i j -> j", [(2, 3)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]), ("ba,ab->", [(3, 2), (2, 3)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(equation, shapes):
    check_op(with_lib(lambda lib, *ops: lib.einsum(equation, *ops)),
             *(array(*s) for s in shapes))


def test_einsum_argument_forms():
    a, b = array(2, 3), array(3, 4)
    check_op(with_lib(lambda lib, x, y: lib.einsum("ij,jk->ik", [x, y])), a, b)
    check_op(with_lib(lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2], [0, 2])), a, b)
    check_op(with_lib(lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2])), a, b)
    check_op(with_lib(lambda lib, x: lib.einsum(x, [Ellipsis, 0], [0, Ellipsis])), array(2, 3, 4))


TENSORDOTS = [
    ((2, 3), (3, 4), 1), ((2, 3), (2, 3), 2), ((3,), (4,), 0), ((2, 3), (3, 4), ([-1], [0])),
    ((5, 2, 3), (5, 3, 4), ([0, 2], [0, 1])), ((2, 3, 4), (4, 3), ([1, 2], [1, 0])),
]


@pytest.mark.parametrize("sa,sb,dims", TENSORDOTS, ids=str)
def test_tensordot(sa, sb, dims):
    check_op(with_lib(lambda lib, a, b: lib.tensordot(a, b, dims=dims)), array(*sa), array(*sb))


MATRIX_OPS = {
    "trace": (lambda lib, x: lib.trace(x), (3, 3)),
    "trace rect": (lambda lib, x: x.trace(), (2, 4)),
    "tril": (lambda lib, x: lib.tril(x), (3, 4)),
    "tril 1": (lambda lib, x: x.tril(1), (4, 3)),
    "tril -1 batched": (lambda lib, x: lib.tril(x, -1), (2, 3, 3)),
    "triu": (lambda lib, x: lib.triu(x), (3, 4)),
    "triu -1": (lambda lib, x: x.triu(-1), (4, 3)),
    "triu 2 batched": (lambda lib, x: lib.triu(x, diagonal=2), (2, 3, 5)),
    "diag vec": (lambda lib, x: lib.diag(x), (3,)),
    "diag vec 1": (lambda lib, x: lib.diag(x, 1), (3,)),
    "diag vec -2": (lambda lib, x: x.diag(-2), (2,)),
    "diag mat": (lambda lib, x: lib.diag(x), (3, 3)),
    "diag mat 1": (lambda lib, x: lib.diag(x, 1), (3, 4)),
    "diag mat -1": (lambda lib, x: x.diag(-1), (4, 3)),
    "diag mat far": (lambda lib, x: lib.diag(x, 5), (2, 3)),
}


@pytest.mark.parametrize("name", MATRIX_OPS)
def test_matrix_ops(name):
    fn, shape = MATRIX_OPS[name]
    check_op(with_lib(fn), array(*shape))


def test_cross_without_dim_warns_and_uses_first_dim_of_size_3():
    a, b = array(3, 3), array(3, 3)
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg"):
        check_op(with_lib(lambda lib, x, y: lib.cross(x, y)), a, b, noncontig=False)


def test_finite_differences():
    a, b, c = array(2, 3), array(3, 4), array(4, 3, 2)
    for fn, args in [
        (lambda x, y: x @ y, (a, b)),
        (lambda x, y: x @ y, (c, array(2))),
        (lambda x, y: dyngrad.einsum("ij,jk->ik", x, y), (a, b)),
        (lambda x: dyngrad.einsum("ii->i", x), (array(3, 3),)),
        (lambda x, y: dyngrad.kron(x, y), (a, array(2))),
        (lambda x, y: dyngrad.cross(x, y, dim=1), (array(2, 3), array(2, 3))),
        (lambda i, x, y: dyngrad.addmm(i, x, y, beta=0.5, alpha=2), (array(4), a, b)),
    ]:
        fd_check(fn, *args)
        fd_gradgrad(fn, *args)


def test_grad_only_for_inputs_that_need_it():
    """An input without requires_grad gets no gradient computed (its edge is None)."""
    a = dyngrad.from_numpy(array(2, 3)).requires_grad_()
    b = dyngrad.from_numpy(array(3, 4))
    out = a @ b
    assert out.grad_fn.next_functions[1][0] is None
    grads = out.grad_fn.backward(np.ones((2, 4)))
    assert grads[0].shape == (2, 3) and grads[1] is None


class _Counted(np.ndarray):
    """An array that counts the NumPy ufuncs (matmul, multiply, ...) run on it."""

    calls: list = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _Counted.calls.append(ufunc.__name__)
        plain = [x.view(np.ndarray) if isinstance(x, _Counted) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def test_matmul_backward_runs_only_the_two_matmuls_it_needs():
    """Forward and backward of a 2-D matmul are exactly three NumPy matmuls: no copies through
    ufuncs, no conj of real data, and none for an input that needs no gradient."""
    a_np, b_np, g_np = array(4, 3), array(3, 5), array(4, 5)
    for needs, expected in (((True, True), 3), ((True, False), 2), ((False, True), 2)):
        _Counted.calls = []
        a = dyngrad.Tensor._make(a_np.view(_Counted)).requires_grad_(needs[0])
        b = dyngrad.Tensor._make(b_np.view(_Counted)).requires_grad_(needs[1])
        (a @ b).backward(dyngrad.from_numpy(g_np))
        assert _Counted.calls == ["matmul"] * expected


def _best_times(fns, repeat=7):
    """The best time of each function, running them in turn so both see the same machine load."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def test_large_matmul_costs_about_its_three_numpy_matmuls():
    """A 512x512 matmul forward and backward takes about the time of NumPy's three matmuls
    (a coarse bound, for timings on a busy machine; the count is exact in the test above)."""
    rng = np.random.default_rng(0)
    a_np, b_np, g_np = (rng.standard_normal((512, 512)).astype(np.float32) for _ in range(3))

    def numpy_only():
        return a_np @ b_np, g_np @ b_np.T, a_np.T @ g_np

    def dyngrad_step():
        a = dyngrad.from_numpy(a_np).requires_grad_()
        b = dyngrad.from_numpy(b_np).requires_grad_()
        (a @ b).backward(dyngrad.from_numpy(g_np))

    dyngrad_step()
    baseline, ours = _best_times([numpy_only, dyngrad_step])
    assert ours <= 1.5 * baseline + 5e-3, f"{ours:.4f}s vs NumPy's {baseline:.4f}s"


ERRORS = {
    "mm shapes": lambda lib: lib.ones(2, 3) @ lib.ones(4, 5),
    "matmul 1-D sizes": lambda lib: lib.matmul(lib.ones(3), lib.ones(4)),
    "matmul 2-D @ 1-D": lambda lib: lib.matmul(lib.ones(2, 3), lib.ones(4)),
    "matmul 1-D @ 2-D": lambda lib: lib.matmul(lib.ones(3), lib.ones(4, 5)),
    "matmul batch inner": lambda lib: lib.matmul(lib.ones(5, 2, 3), lib.ones(5, 4, 5)),
    "matmul batch broadcast": lambda lib: lib.matmul(lib.ones(5, 2, 3), lib.ones(6, 3, 5)),
    "matmul batch broadcast 4-D": lambda lib: lib.ones(2, 5, 2, 3) @ lib.ones(3, 3, 5),
    "matmul folded mv": lambda lib: lib.ones(5, 2, 3) @ lib.ones(4),
    "matmul folded mm": lambda lib: lib.ones(5, 2, 3) @ lib.ones(4, 2),
    "matmul 1-D @ 3-D": lambda lib: lib.ones(3) @ lib.ones(5, 4, 5),
    "matmul 0-D": lambda lib: lib.matmul(lib.tensor(1.0), lib.ones(3)),
    "matmul 0-D right": lambda lib: lib.matmul(lib.ones(3), lib.tensor(1.0)),
    "matmul dtypes": lambda lib: lib.ones(2, 3) @ lib.ones(3, 4, dtype=lib.float64),
    "matmul dtypes int": lambda lib: lib.ones(2, 3, dtype=lib.int64) @ lib.ones(3, 4),
    "matmul dtypes dot": lambda lib: lib.ones(3) @ lib.ones(3, dtype=lib.float64),
    "matmul dtypes mv": lambda lib: lib.ones(2, 3) @ lib.ones(3, dtype=lib.float64),
    "matmul dtypes bmm": lambda lib: lib.ones(5, 2, 3) @ lib.ones(5, 3, 4, dtype=lib.float64),
    "matmul bool": lambda lib: lib.ones(2, 3, dtype=lib.bool) @ lib.ones(3, 2, dtype=lib.bool),
    "matmul bool batched": lambda lib: lib.matmul(lib.ones(2, 2, 3, dtype=lib.bool),
                                                  lib.ones(2, 3, 2, dtype=lib.bool)),
    "matmul non-tensor": lambda lib: lib.matmul(lib.ones(2, 2), [[1.0, 2.0]]),
    "mm self": lambda lib: lib.mm(lib.ones(3), lib.ones(3, 5)),
    "mm mat2": lambda lib: lib.mm(lib.ones(2, 3), lib.ones(3)),
    "mm dtypes": lambda lib: lib.mm(lib.ones(2, 3), lib.ones(3, 4, dtype=lib.float64)),
    "mm shapes then dtypes": lambda lib: lib.mm(lib.ones(2, 3), lib.ones(4, 5, dtype=lib.float64)),
    "bmm batch1": lambda lib: lib.bmm(lib.ones(2, 3), lib.ones(3, 5)),
    "bmm batch2": lambda lib: lib.bmm(lib.ones(5, 2, 3), lib.ones(3, 5)),
    "bmm sizes": lambda lib: lib.bmm(lib.ones(5, 2, 3), lib.ones(6, 3, 5)),
    "bmm dtypes": lambda lib: lib.bmm(lib.ones(5, 2, 3), lib.ones(5, 3, 5, dtype=lib.float64)),
    "bmm bool": lambda lib: lib.bmm(lib.ones(2, 2, 3, dtype=lib.bool),
                                    lib.ones(2, 3, 2, dtype=lib.bool)),
    "mv sizes": lambda lib: lib.mv(lib.ones(2, 3), lib.ones(4)),
    "mv dims": lambda lib: lib.mv(lib.ones(3), lib.ones(3)),
    "mv dims 2": lambda lib: lib.mv(lib.ones(2, 3), lib.ones(3, 1)),
    "mv dtypes": lambda lib: lib.mv(lib.ones(2, 3), lib.ones(3, dtype=lib.float64)),
    "mv dtypes 2": lambda lib: lib.mv(lib.ones(2, 3, dtype=lib.float64), lib.ones(3)),
    "mv bool": lambda lib: lib.mv(lib.ones(2, 3, dtype=lib.bool), lib.ones(3, dtype=lib.bool)),
    "dot sizes": lambda lib: lib.dot(lib.ones(3), lib.ones(4)),
    "dot dims": lambda lib: lib.dot(lib.ones(3, 1), lib.ones(3)),
    "dot dims 2": lambda lib: lib.dot(lib.ones(3), lib.ones(3, 1)),
    "dot dtypes": lambda lib: lib.dot(lib.ones(3), lib.ones(4, dtype=lib.float64)),
    "dot bool": lambda lib: lib.dot(lib.ones(3, dtype=lib.bool), lib.ones(3, dtype=lib.bool)),
    "vdot sizes": lambda lib: lib.vdot(lib.ones(3), lib.ones(4)),
    "vdot dims": lambda lib: lib.vdot(lib.ones(3, 1), lib.ones(3)),
    "vdot dtypes": lambda lib: lib.vdot(lib.ones(3), lib.ones(3, dtype=lib.float64)),
    "outer 2-D": lambda lib: lib.outer(lib.ones(3), lib.ones(2, 2)),
    "outer 2-D self": lambda lib: lib.outer(lib.ones(3, 1), lib.ones(2)),
    "inner sizes": lambda lib: lib.inner(lib.ones(2, 3), lib.ones(2, 4)),
    "inner sizes 1-D": lambda lib: lib.inner(lib.ones(3), lib.ones(2, 4)),
    "inner dtypes": lambda lib: lib.inner(lib.ones(2, 3), lib.ones(4, 3, dtype=lib.float64)),
    "addmm mat1": lambda lib: lib.addmm(lib.ones(2, 4), lib.ones(3), lib.ones(3, 4)),
    "addmm mat2": lambda lib: lib.addmm(lib.ones(2, 4), lib.ones(2, 3), lib.ones(3)),
    "addmm shapes": lambda lib: lib.addmm(lib.ones(2, 4), lib.ones(2, 3), lib.ones(4, 4)),
    "addmm input shape": lambda lib: lib.addmm(lib.ones(3, 4), lib.ones(2, 3), lib.ones(3, 4)),
    "addmm dtypes": lambda lib: lib.addmm(lib.ones(2, 4), lib.ones(2, 3),
                                          lib.ones(3, 4, dtype=lib.float64)),
    "addmm dtypes 2": lambda lib: lib.addmm(lib.ones(2, 4, dtype=lib.float64), lib.ones(2, 3),
                                            lib.ones(3, 4, dtype=lib.float64)),
    "addmm dtypes 3": lambda lib: lib.addmm(lib.ones(2, 4, dtype=lib.float64), lib.ones(2, 3),
                                            lib.ones(3, 4)),
    "addmv sizes": lambda lib: lib.addmv(lib.ones(2), lib.ones(2, 3), lib.ones(4)),
    "addmv input": lambda lib: lib.addmv(lib.ones(3), lib.ones(2, 3), lib.ones(3)),
    "addmv dims": lambda lib: lib.addmv(lib.ones(2), lib.ones(2, 3, 1), lib.ones(3)),
    "addmv dtypes": lambda lib: lib.addmv(lib.ones(2, dtype=lib.float64), lib.ones(2, 3),
                                          lib.ones(3)),
    "baddbmm sizes": lambda lib: lib.baddbmm(lib.ones(5, 2, 4), lib.ones(5, 2, 3),
                                             lib.ones(5, 4, 4)),
    "baddbmm input": lambda lib: lib.baddbmm(lib.ones(5, 3, 4), lib.ones(5, 2, 3),
                                             lib.ones(5, 3, 4)),
    "baddbmm dtypes": lambda lib: lib.baddbmm(lib.ones(5, 2, 4, dtype=lib.float64),
                                              lib.ones(5, 2, 3), lib.ones(5, 3, 4)),
    "tensordot sizes": lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(4, 5), dims=1),
    "tensordot dims": lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 5), dims=3),
    "tensordot negative": lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 5), dims=-1),
    "tensordot lists": lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 5),
                                                 dims=([1], [0, 1])),
    "tensordot dtypes": lambda lib: lib.tensordot(lib.ones(2, 3),
                                                  lib.ones(3, 4, dtype=lib.float64), dims=1),
    "trace 1-D": lambda lib: lib.trace(lib.ones(3)),
    "trace bool": lambda lib: lib.trace(lib.ones(2, 2, dtype=lib.bool)),
    "tril 1-D": lambda lib: lib.tril(lib.ones(3)),
    "triu 0-D": lambda lib: lib.triu(lib.tensor(1.0)),
    "diag 3-D": lambda lib: lib.diag(lib.ones(2, 2, 2)),
    "diag 0-D": lambda lib: lib.diag(lib.tensor(1.0)),
    "cross length": lambda lib: lib.cross(lib.ones(4, 2), lib.ones(4, 2), dim=1),
    "cross dim": lambda lib: lib.cross(lib.ones(4, 3), lib.ones(4, 3), dim=0),
    "cross broadcast": lambda lib: lib.cross(lib.ones(4, 3), lib.ones(5, 3), dim=1),
    "cross ndim": lambda lib: lib.cross(lib.ones(3, 3), lib.ones(3), dim=0),
    "cross dtypes": lambda lib: lib.cross(lib.ones(4, 3), lib.ones(4, 3, dtype=lib.float64),
                                          dim=1),
    "cross no size 3": lambda lib: lib.cross(lib.ones(4, 2), lib.ones(4, 2)),
    "cross dim range": lambda lib: lib.cross(lib.ones(4, 3), lib.ones(4, 3), dim=2),
    "einsum sizes": lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(4, 5)),
    "einsum fewer": lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3)),
    "einsum more": lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(3, 4),
                                          lib.ones(3)),
    "einsum output label": lambda lib: lib.einsum("ij->k", lib.ones(2, 3)),
    "einsum output twice": lambda lib: lib.einsum("ij->ii", lib.ones(2, 3)),
    "einsum ndim": lambda lib: lib.einsum("ijk->ij", lib.ones(2, 3)),
    "einsum ndim ellipsis": lambda lib: lib.einsum("...ijk->...", lib.ones(2, 3)),
    "einsum repeated sizes": lambda lib: lib.einsum("ii", lib.ones(2, 3)),
    "einsum bad char": lambda lib: lib.einsum("ij1->ij", lib.ones(2, 3)),
    "einsum dtypes": lambda lib: lib.einsum("ij,jk", lib.ones(2, 3),
                                            lib.ones(3, 4, dtype=lib.float64)),
    "einsum no operand": lambda lib: lib.einsum("ij,jk->ik"),
}


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim arg")
@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


def test_matmul_requires_grad_fold_errors():
    """When the lhs needs grad, PyTorch folds (2-D @ 3-D) and reports an mm error."""
    check_error(lambda lib: lib.ones(2, 3, requires_grad=True) @ lib.ones(5, 4, 5))
    check_error(lambda lib: lib.ones(2, 3) @ lib.ones(5, 4, 5))
    check_error(lambda lib: lib.ones(3, requires_grad=True) @ lib.ones(5, 4, 5))


def test_out_argument():
    a, b = array(2, 3), array(3, 4)
    for lib in (dyngrad, torch):
        out = lib.empty(2, 4, dtype=lib.float64)
        result = lib.mm(lib.from_numpy(a), lib.from_numpy(b), out=out)
        assert result is out
        np.testing.assert_allclose(out.numpy(), a @ b)
    check_error(lambda lib: lib.matmul(lib.ones(2, 3, requires_grad=True), lib.ones(3, 2),
                                       out=lib.empty(2, 2)))
