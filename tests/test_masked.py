"""dyngrad.masked against torch.masked: values (fully masked-out elements included), dtypes,
grad_fn names, first and second order gradients, broadcast masks and the errors."""

import numpy as np
import pytest

from tests.harness import array, check_error, check_op, fd_check, with_lib

X = array(3, 4)
A = array(2, 3, 4)
M = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True]])
MA = array(2, 3, 4, dtype=bool)
ROW = np.array([True, False, True, True])  # broadcast over the rows


def masked(name, *args, **kwargs):
    return with_lib(lambda L, x, *rest: getattr(L.masked, name)(x, *args, *rest, **kwargs))


def with_mask(name, *args, **kwargs):
    """`masked.<name>(x, *args, mask=m, **kwargs)` with the mask as the second input."""
    return with_lib(lambda L, x, m: getattr(L.masked, name)(x, *args, mask=m, **kwargs))


OPS = {
    "sum": (with_mask("sum"), X, M),
    "sum_dim": (with_mask("sum", 1), X, M),
    "sum_dims_keepdim": (with_mask("sum", (0, 2), keepdim=True), A, MA),
    "sum_no_mask": (masked("sum", -1), X),
    "sum_broadcast": (with_mask("sum", 0), X, ROW),
    "prod": (with_mask("prod", 1), X, M),
    "prod_all": (with_mask("prod"), A, MA),
    "prod_keepdim": (with_mask("prod", (0, 1), keepdim=True), A, MA),
    "cumsum": (with_mask("cumsum", 1), X, M),
    "cumprod": (with_mask("cumprod", -1), A, MA),
    "amax": (with_mask("amax", 1), X, M),
    "amin": (with_mask("amin", (0, 1)), A, MA),
    "amax_all": (with_mask("amax"), X, ROW),
    "mean": (with_mask("mean", 1), X, M),
    "mean_all": (with_mask("mean"), A, MA),
    "mean_no_mask": (masked("mean", 0, keepdim=True), X),
    "median": (with_mask("median", 1), X, M),
    "median_no_mask": (masked("median", 0), X),
    "norm": (with_mask("norm", 2.0, 1), X, M),
    "norm_1": (with_mask("norm", 1.0, (0, 2)), A, MA),
    "norm_inf": (with_mask("norm", float("inf"), 1), X, M),
    "norm_neg_inf": (with_mask("norm", -float("inf"), 0), X, ROW),
    "var": (with_mask("var", 1), X, M),
    "var_biased": (with_mask("var", (0, 1), False, keepdim=True), A, MA),
    "var_correction": (with_mask("var", 2, correction=0), A, MA),
    "var_no_mask": (masked("var", 1), X),
    "std": (with_mask("std", 1), X, M),
    "std_all": (with_mask("std"), A, MA),
    "softmax": (with_mask("softmax", 1), X, M),
    "softmax_dim0": (with_mask("softmax", 0), X, ROW),
    "log_softmax": (with_mask("log_softmax", 1), X, M),
    "softmin": (with_mask("softmin", -1), A, MA),
    "normalize": (with_mask("normalize", 2.0, 1), X, M),
    "normalize_1": (with_mask("normalize", 1, 0, eps=0.5), X, M),
    "logsumexp": (with_mask("logsumexp", 1), X, M),
    "logsumexp_all": (with_mask("logsumexp"), A, MA),
    "logaddexp": (with_lib(lambda L, x, y, m, n: L.masked.logaddexp(
        x, y, input_mask=m, other_mask=n)), X, array(3, 4), M, ROW),
}


@pytest.mark.parametrize("name", OPS)
def test_op(name):
    f, *inputs = OPS[name]
    check_op(f, *inputs)


def test_integer_inputs():
    ints = np.arange(12).reshape(3, 4)
    for name in ("sum", "prod", "amax", "amin"):
        check_op(with_mask(name, 1), ints, M)
    check_op(with_mask("sum", 0, dtype=None), np.ones((3, 4), dtype=np.int32), M)
    check_op(with_mask("median", 1), ints, np.ones((3, 4), bool))
    check_op(with_mask("var", 1), ints, M)


def test_zero_dim():
    for name in ("sum", "prod", "amax", "mean", "logsumexp"):
        check_op(with_mask(name), np.array(1.5), np.array(False))
        check_op(masked(name), np.array(1.5))


def test_finite_differences():
    from dyngrad import masked as dm
    from dyngrad import tensor

    m = tensor(M | np.array([[False], [True], [False]]))  # no fully masked-out row: no nans
    fd_check(lambda x: dm.var(x, 1, mask=m), X)
    fd_check(lambda x: dm.softmax(x, 1, mask=m), X)
    fd_check(lambda x: dm.normalize(x, 3.0, 1, mask=m), X)
    fd_check(lambda x: dm.prod(x, 1, mask=m), X)


ERRORS = {
    "mask_ndim": lambda L: L.masked.sum(L.ones(3), mask=L.ones(2, 3, dtype=L.bool)),
    "mean_int": lambda L: L.masked.mean(L.ones(3, dtype=L.int64)),
    "mean_int_dtype": lambda L: L.masked.mean(L.ones(3), dtype=L.int64),
    "median_int_masked": lambda L: L.masked.median(
        L.ones(2, 3, dtype=L.int64), 1, mask=L.tensor([[True] * 3, [False] * 3])),
    "dim_repeated": lambda L: L.masked.sum(L.ones(3, 4), (0, 0)),
    "dim_range": lambda L: L.masked.amax(L.ones(3, 4), 2),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error(name):
    check_error(ERRORS[name])
