"""The legacy linear-algebra spellings (torch.qr, svd, cholesky, lu, lu_unpack, lu_solve,
triangular_solve, ormqr) and tensordot's size-1 contraction against PyTorch: values, return types,
grad_fn names, first and second-order gradients, errors. Sign-ambiguous outputs (SVD) are compared
through gauge-invariant functions."""

import warnings

import numpy as np
import pytest

from tests.harness import array, check_error, check_op, fd_check, with_lib

F64 = (np.float64,)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warnings for these spellings
        yield


def wc(*shape):
    n = shape[-1]
    return array(*shape, low=-1, high=1) + n * np.eye(n)


def op(fn, *inputs, **kw):
    kw.setdefault("dtypes", F64)
    check_op(with_lib(fn), *inputs, **kw)


QR_CASES = [(shape, some) for shape in [(4, 3), (3, 4), (2, 3, 3)] for some in (True, False)
            if some or shape[-2] <= shape[-1]]  # complete QR of a tall matrix: see below


@pytest.mark.parametrize("shape,some", QR_CASES)
def test_qr(shape, some):
    op(lambda lib, a: tuple(lib.qr(a, some=some)), array(*shape))
    op(lambda lib, a: a.qr(some)[1], array(*shape))


def test_complete_qr_of_a_tall_matrix_is_not_differentiable():
    a = array(4, 3)

    def backward_through_complete_qr(lib):
        q, r = lib.qr(lib.tensor(a, requires_grad=True), some=False)
        (q.sum() + r.sum()).backward()

    check_error(backward_through_complete_qr)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_svd(shape):
    op(lambda lib, a: (lambda r: (r.U @ r.V.mH, r.S, type(r).__name__ == "svd" and 1.0))(
        lib.svd(a)), array(*shape), gradgrad=False)
    op(lambda lib, a: lib.svd(a, some=False).U.abs(), array(*shape)[..., :3, :3],
       gradgrad=False)
    op(lambda lib, a: tuple(lib.svd(a, compute_uv=False)), array(*shape), gradgrad=False)
    op(lambda lib, a: a.svd().V.abs(), array(*shape), gradgrad=False)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(upper):
    def f(lib, a):
        return lib.cholesky(a @ a.mT + 3 * lib.eye(3, dtype=a.dtype), upper=upper)

    op(f, array(2, 3, 3))
    op(lambda lib, a: (a @ a.mT + 3 * lib.eye(3, dtype=a.dtype)).cholesky(upper), array(3, 3))
    check_error(lambda lib: lib.cholesky(-lib.eye(2, dtype=lib.float64)))
    fd_check(lambda a: f(__import__("dyngrad"), a), array(3, 3))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (3, 5), (5, 3)])
def test_lu_and_unpack(shape):
    op(lambda lib, a: tuple(lib.lu(a)), wc(*shape) if shape[-1] == shape[-2] else array(*shape))
    op(lambda lib, a: lib.lu(a, get_infos=True), array(*shape))
    op(lambda lib, a: tuple(lib.lu_unpack(*lib.linalg.lu_factor(a))), array(*shape))
    op(lambda lib, a: tuple(lib.lu_unpack(*lib.linalg.lu_factor(a), unpack_pivots=False)),
       array(*shape))
    op(lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a))[1], array(*shape))
    op(lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a))[2], array(*shape))


def test_lu_solve():
    op(lambda lib, b, a: lib.lu_solve(b, *lib.linalg.lu_factor(a)), array(2, 3, 2), wc(2, 3, 3))
    op(lambda lib, b, a: b.lu_solve(*a.lu()), array(3, 2), wc(3, 3))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_triangular_solve(upper, transpose, unit):
    def f(lib, b, a):
        return tuple(lib.triangular_solve(b, a, upper, transpose, unit))

    op(f, array(2, 3, 2), wc(3, 3))
    op(lambda lib, b, a: b.triangular_solve(a, upper=upper).solution, array(3, 4), wc(2, 3, 3))
    check_error(lambda lib: lib.triangular_solve(lib.ones(3, 2), lib.ones(3, 3,
                                                                          dtype=lib.float64)))


def test_tensordot_size_one_contraction():
    op(lambda lib, a, b: lib.tensordot(a, b, ([0, 1], [2, 0])), array(1, 1, 1), array(2, 1, 2))
    op(lambda lib, a, b: lib.tensordot(a, b, ([0], [0])), array(1, 3), array(2, 3))
    op(lambda lib, a, b: lib.tensordot(a, b, ([0], [0])), array(2, 3), array(1, 4))
    check_error(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 3), ([0], [0])))


@pytest.mark.parametrize("b, a", [((3,), (3, 3)), ((3, 2), (3,)), ((3, 2), (2, 2)),
                                  ((3, 2), (3, 4))])
def test_triangular_solve_errors(b, a):
    check_error(lambda lib: lib.triangular_solve(lib.ones(*b, dtype=lib.float64),
                                                 lib.ones(*a, dtype=lib.float64)))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3)])
def test_ormqr(left, transpose, shape):
    m = shape[0]
    other = array(m, 3) if left else array(3, m)

    op(lambda lib, a, t, c: lib.ormqr(a, t, c, left, transpose), array(*shape),
       array(shape[1], low=0.5, high=1.5), other)
    op(lambda lib, a, t, c: a.ormqr(t, c, left=left, transpose=transpose)[..., 0],
       array(2, *shape), array(2, shape[1], low=0.5, high=1.5), array(2, *other.shape))
    check_error(lambda lib: lib.ormqr(lib.ones(*shape), lib.ones(shape[1] - 1), lib.ones(
        *other.shape), left, transpose))


@pytest.mark.parametrize("shape", [(5, 4), (4, 6), (2, 5, 5)])
def test_svd_and_pca_lowrank_on_low_rank_input(shape):
    """Random in both libraries; with q at least the rank the results (up to signs) agree."""
    *batch, m, n = shape
    a, b = array(*batch, m, 2), array(*batch, n, 2)

    def svd(lib, a, b):
        U, S, V = lib.svd_lowrank(a @ b.mT, q=2)
        return U @ V.mH, S

    def pca(lib, a, b, center):
        U, S, V = lib.pca_lowrank(a @ b.mT, q=2, center=center)
        return U @ V.mH, S

    op(svd, a, b, gradgrad=False)
    op(lambda lib, a, b: pca(lib, a, b, False), a, b, gradgrad=False)
    check_error(lambda lib: lib.pca_lowrank(lib.ones(3, 2), q=3))


def test_legacy_errors_and_singular_lu():
    op(lambda lib, a: tuple(lib.lu(a * 0, get_infos=True)), array(3, 3), grad=False)
    op(lambda lib, a: tuple(lib.lu(a * 0)), array(3, 3), grad=False)
    check_error(lambda lib: lib.lu_unpack(lib.zeros(3, 3), lib.tensor([1, 2, 3])))
    check_error(lambda lib: lib.svd(lib.ones(3)))
    check_error(lambda lib: lib.qr(lib.ones(3)))
    check_error(lambda lib: lib.cholesky(lib.ones(2, 3)))
