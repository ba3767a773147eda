"""dyngrad/ops/removed.py against PyTorch: the functions removed in 1.9 (eig, lstsq, solve,
symeig, matrix_rank) raise PyTorch's error, naming the torch.linalg replacement, as functions
and as Tensor methods."""

import pytest

from tests.harness import check_error

CALLS = {
    "eig": lambda t: t.eig(t.eye(2)),
    "eig_vectors": lambda t: t.eig(t.eye(2), True),
    "eig_method": lambda t: t.eye(2).eig(eigenvectors=True),
    "lstsq": lambda t: t.lstsq(t.eye(2), t.eye(2)),
    "lstsq_method": lambda t: t.eye(2).lstsq(t.eye(2)),
    "solve": lambda t: t.solve(t.eye(2), t.eye(2)),
    "solve_method": lambda t: t.eye(2).solve(t.eye(2)),
    "symeig": lambda t: t.symeig(t.eye(2), eigenvectors=True, upper=False),
    "symeig_method": lambda t: t.eye(2).symeig(),
    "matrix_rank": lambda t: t.matrix_rank(t.eye(2), symmetric=True),
}


@pytest.mark.parametrize("name", CALLS)
def test_removed(name):
    check_error(CALLS[name])
