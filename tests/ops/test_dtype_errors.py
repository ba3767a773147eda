"""Dtypes an op has no kernel for: PyTorch's exception type and text, raised before NumPy sees
the data (found by a random dtype/shape fuzz against torch), and the near misses that must not
raise (integer division by zero on an empty tensor)."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import assert_same_outputs, check_error


def _c(lib, *shape, dtype="complex64"):
    return lib.ones(*shape, dtype=getattr(lib, dtype))


def _h(lib):
    return lib.eye(2, dtype=lib.float16)


REFUSED = {
    # complex operands
    "floor_divide": lambda L: L.floor_divide(_c(L, 2), L.ones(2)),
    "floor_divide scalar": lambda L: L.floor_divide(L.ones(2), 1j),
    "div floor": lambda L: L.div(_c(L, 2), 2, rounding_mode="floor"),
    "remainder": lambda L: L.remainder(_c(L, 2, dtype="complex128"), 2),
    "fmod": lambda L: L.fmod(_c(L, 2), -1),
    "max": lambda L: L.max(_c(L, 2)),
    "min dim": lambda L: L.min(_c(L, 2, 2), 1),
    "max empty": lambda L: L.max(_c(L, 0)),  # the emptiness is checked first
    "amax": lambda L: L.amax(_c(L, 2)),
    "amin": lambda L: L.amin(_c(L, 2)),
    "aminmax": lambda L: L.aminmax(_c(L, 2, 2), dim=0),
    "argmax": lambda L: L.argmax(_c(L, 2)),
    "argmin empty": lambda L: L.argmin(_c(L, 0)),
    "argmax bool": lambda L: L.argmax(L.ones(2, dtype=L.bool)),
    "unique": lambda L: L.unique(_c(L, 2), return_inverse=True),
    "unique dim": lambda L: L.unique(_c(L, 2, 2), dim=0),
    "unique_consecutive": lambda L: L.unique_consecutive(_c(L, 2)),
    "maximum before shapes": lambda L: L.maximum(_c(L, 3), L.ones(0)),
    "fmin": lambda L: L.fmin(L.ones(2, dtype=L.int32), _c(L, 2, dtype="complex128")),
    # bool operands
    "positive bool": lambda L: L.positive(L.ones(3, dtype=L.bool)),
    "unary plus bool": lambda L: +L.tensor(True),
    "dist bool": lambda L: L.dist(L.ones(3, dtype=L.bool), L.ones(3, dtype=L.int16)),
    "dist int": lambda L: L.dist(L.ones(3, dtype=L.int64), L.ones(3, dtype=L.int64)),
    # float16 has no LAPACK kernel: each function names the one its dispatch fails in
    "det half": lambda L: L.linalg.det(_h(L)),
    "solve half": lambda L: L.linalg.solve(_h(L), _h(L)),
    "lu_factor half": lambda L: L.linalg.lu_factor(_h(L)),
    "cholesky half": lambda L: L.linalg.cholesky(_h(L)),
    "torch.cholesky half": lambda L: L.cholesky(_h(L)),
    "cholesky_inverse half": lambda L: L.cholesky_inverse(_h(L)),
    "cholesky_solve half": lambda L: L.cholesky_solve(_h(L), _h(L)),
    "cholesky_solve int": lambda L: L.cholesky_solve(L.eye(2, dtype=L.int64),
                                                     L.eye(2, dtype=L.int64)),
    "qr half": lambda L: L.linalg.qr(_h(L)),
    "svd half": lambda L: L.linalg.svd(_h(L)),
    "svdvals half": lambda L: L.linalg.svdvals(_h(L)),
    "eigh half": lambda L: L.linalg.eigh(_h(L)),
    "eigvalsh half": lambda L: L.linalg.eigvalsh(_h(L)),
    "eig half": lambda L: L.linalg.eig(_h(L)),
    "eigvals half": lambda L: L.linalg.eigvals(_h(L)),
    "solve_triangular half": lambda L: L.linalg.solve_triangular(_h(L), _h(L), upper=True),
    "lu_solve half": lambda L: L.linalg.lu_solve(_h(L), L.ones(2, dtype=L.int32), _h(L)),
    "householder_product half": lambda L: L.linalg.householder_product(
        _h(L), L.ones(1, dtype=L.float16)),
    "lstsq half": lambda L: L.linalg.lstsq(_h(L), _h(L)),
    "matrix_rank half": lambda L: L.linalg.matrix_rank(_h(L)),
    "inv half": lambda L: L.linalg.inv(_h(L)),  # these two keep the "low precision" text
    "matrix_norm half": lambda L: L.linalg.matrix_norm(_h(L), 2),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_dtypes(case):
    check_error(REFUSED[case])


ACCEPTED = {
    "fmod by zero, empty": lambda L: L.fmod(L.ones(0, dtype=L.int32), L.tensor(0, dtype=L.int32)),
    "remainder by zero, empty": lambda L: L.remainder(L.ones(0, dtype=L.int32), 0),
    "floor_divide by zero, empty": lambda L: L.floor_divide(L.ones(0, dtype=L.int32), 0),
    "div trunc by zero, empty": lambda L: L.div(L.ones(0, dtype=L.int64), 0,
                                                rounding_mode="trunc"),
    "positive": lambda L: L.positive(L.ones(2, dtype=L.int8)),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_accepted_dtypes(case):
    assert_same_outputs(ACCEPTED[case](dyngrad), ACCEPTED[case](torch), case)


def test_matrix_exp_half():
    """PyTorch accepts float16 for matrix_exp, but its CPU kernel returns wrong values (and NaN
    gradients); dyngrad computes in float32 and rounds, so it is checked against float64."""
    a = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float16) * 0.5
    x = dyngrad.tensor(a, requires_grad=True)
    y = dyngrad.linalg.matrix_exp(x)
    y.sum().backward()
    ref = torch.tensor(a.astype(np.float64), requires_grad=True)
    torch.linalg.matrix_exp(ref).sum().backward()
    assert y.dtype == dyngrad.float16 and x.grad.dtype == dyngrad.float16
    np.testing.assert_allclose(y.detach().numpy(), torch.linalg.matrix_exp(ref).detach().numpy(),
                               rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), rtol=5e-3, atol=5e-3)
