"""Reductions against PyTorch: values, dtypes, grad_fn names, first- and second-order gradients,
ties / zeros / NaNs / empty and 0-dim inputs, return types and error messages."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, fd_gradgrad, with_lib

X = array(3, 4)
TIES = np.array([[1.0, 3, 3, 0], [2, 2, 2, 2], [5, -1, 5, 5]])
ZEROS = np.array([[1.0, 0, 3, 2], [0, 2, 0, 2], [5, -1, 4, 5]])
NANS = np.array([[1.0, np.nan, 3], [0.5, 2, -1]])

REDUCTIONS = {
    "sum": lambda t: t.sum(),
    "sum(1)": lambda t: t.sum(1),
    "sum(-1,keepdim)": lambda t: t.sum(-1, keepdim=True),
    "sum((0,1))": lambda t: t.sum((0, 1)),
    "sum([1,0],True)": lambda t: t.sum([1, 0], True),
    "sum(())": lambda t: t.sum(()),
    "sum(None,True)": lambda t: t.sum(None, True),
    "sum(dim=None)": lambda t: t.sum(dim=None),
    "sum(dtype=f64)": with_lib(lambda lib, t: t.sum(0, dtype=lib.float64)),
    "mean": lambda t: t.mean(),
    "mean(0)": lambda t: t.mean(0),
    "mean((0,1),True)": lambda t: t.mean((0, 1), True),
    "mean(dim=None)": lambda t: t.mean(dim=None),
    "prod": lambda t: t.prod(),
    "prod(1)": lambda t: t.prod(1),
    "prod(0,True)": lambda t: t.prod(0, True),
    "max": lambda t: t.max(),
    "max(1)": lambda t: t.max(1),
    "max(0,True)": lambda t: t.max(0, True),
    "min": lambda t: t.min(),
    "min(-1)": lambda t: t.min(-1),
    "min(dim=0,keepdim)": lambda t: t.min(dim=0, keepdim=True),
    "amax": lambda t: t.amax(),
    "amax(1)": lambda t: t.amax(1),
    "amin((0,1),True)": lambda t: t.amin((0, 1), True),
    "argmax": lambda t: t.argmax(),
    "argmax(1,True)": lambda t: t.argmax(1, True),
    "argmin(0)": lambda t: t.argmin(0),
    "argmin(keepdim)": lambda t: t.argmin(keepdim=True),
    "std": lambda t: t.std(),
    "std(1)": lambda t: t.std(1),
    "std(0,False,True)": lambda t: t.std(0, False, True),
    "std(False)": lambda t: t.std(False),
    "var": lambda t: t.var(),
    "var(1,keepdim)": lambda t: t.var(1, keepdim=True),
    "var(correction=0)": lambda t: t.var(correction=0),
    "var((0,1),correction=2)": lambda t: t.var((0, 1), correction=2),
    "var(unbiased=False)": lambda t: t.var(0, unbiased=False),
    "logsumexp(1)": lambda t: t.logsumexp(1),
    "logsumexp((0,1),True)": lambda t: t.logsumexp((0, 1), True),
    "norm": lambda t: t.norm(),
    "norm(dim=1)": lambda t: t.norm(dim=1),
    "norm(1)": lambda t: t.norm(1),
    "norm(3,1,True)": lambda t: t.norm(3, 1, True),
    "norm(0.5)": lambda t: t.norm(0.5),
    "norm(1.5,0)": lambda t: t.norm(1.5, 0),
    "norm(-1)": lambda t: t.norm(-1),
    "norm(0)": lambda t: t.norm(0),
    "norm(inf,1)": lambda t: t.norm(float("inf"), 1),
    "norm(-inf)": lambda t: t.norm(float("-inf")),
    "norm('fro',(0,1))": lambda t: t.norm("fro", (0, 1)),
    "nansum": lambda t: t.nansum(),
    "nansum(1,True)": lambda t: t.nansum(1, True),
    "nanmean": lambda t: t.nanmean(),
    "nanmean(0)": lambda t: t.nanmean(0),
    "cumsum(1)": lambda t: t.cumsum(1),
    "cumsum(-2)": lambda t: t.cumsum(-2),
    "cumprod(1)": lambda t: t.cumprod(1),
    "cumprod(0)": lambda t: t.cumprod(0),
    "all": lambda t: t.all(),
    "any(1)": lambda t: t.any(1),
    "all(0,True)": lambda t: t.all(0, True),
    "count_nonzero": lambda t: t.count_nonzero(),
    "count_nonzero(1)": lambda t: t.count_nonzero(1),
}
# torch's second derivative here is a ZeroTensor, which the harness cannot read: first order only,
# the second order is checked against finite differences below.
FIRST_ORDER_ONLY = {"norm(1)", "norm(inf,1)", "norm(-inf)"}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name):
    check_op(REDUCTIONS[name], X, gradgrad=name not in FIRST_ORDER_ONLY)


EDGE_INPUTS = {"ties": TIES, "zeros": ZEROS}
EDGE_OPS = ["max", "min", "max(1)", "min(-1)", "amax(1)", "amax", "amin((0,1),True)", "prod",
            "prod(1)", "prod(0,True)", "cumprod(1)", "cumprod(0)", "norm(0.5)", "norm(3,1,True)",
            "norm(1.5,0)", "norm(dim=1)", "std(1)", "nansum", "count_nonzero(1)"]


@pytest.mark.parametrize("name", EDGE_OPS)
@pytest.mark.parametrize("kind", EDGE_INPUTS)
def test_ties_and_zeros(name, kind):
    """Ties share the gradient as PyTorch shares it; zeros give exact products' gradients."""
    check_op(REDUCTIONS[name], EDGE_INPUTS[kind], noncontig=False)


@pytest.mark.parametrize("name", ["norm(inf,1)", "norm(-inf)", "norm(1)"])
def test_ties_in_norms(name):
    check_op(REDUCTIONS[name], TIES, noncontig=False, gradgrad=False)


def test_zero_norms_and_std():
    """A norm or std of all zeros: gradient 0 (and PyTorch's NaNs at second order)."""
    z = np.array([[0.0, 0, 0], [1, 2, 3]])
    for fn in (lambda t: t.norm(dim=1), lambda t: t.norm(3, 1), lambda t: t.norm(1.5, 1),
               lambda t: t.std(1), lambda t: t.norm(0.5, 1)):
        check_op(fn, z, noncontig=False)


@pytest.mark.parametrize("name", ["sum", "nansum(1,True)", "nanmean", "nanmean(0)", "max", "max(1)",
                                  "amax", "argmax", "min(-1)", "cumsum(1)", "logsumexp(1)"])
def test_nans(name):
    check_op(REDUCTIONS[name], NANS, noncontig=False)


def test_logsumexp_of_minus_inf_is_stable():
    big = np.array([[1000.0, 1000, -np.inf], [-np.inf, -np.inf, -np.inf]])
    check_op(lambda t: t.logsumexp(1), big, noncontig=False, gradgrad=False)


FUNCTIONS = {
    "sum": lambda lib, t: lib.sum(t, 1),
    "mean": lambda lib, t: lib.mean(t, (0, 1), keepdim=True),
    "prod": lambda lib, t: lib.prod(t, 0),
    "max": lambda lib, t: lib.max(t, 1, True),
    "min": lambda lib, t: lib.min(t),
    "amax": lambda lib, t: lib.amax(t, 0),
    "amin": lambda lib, t: lib.amin(t),
    "argmax": lambda lib, t: lib.argmax(t, dim=1),
    "argmin": lambda lib, t: lib.argmin(t),
    "std": lambda lib, t: lib.std(t, 1, keepdim=True),
    "var": lambda lib, t: lib.var(t, correction=0),
    "logsumexp": lambda lib, t: lib.logsumexp(t, 0),
    "norm": lambda lib, t: lib.norm(t, p=2, dim=1),
    "norm(dtype)": lambda lib, t: lib.norm(t, dtype=lib.float64),
    "nansum": lambda lib, t: lib.nansum(t, 1),
    "nanmean": lambda lib, t: lib.nanmean(t, 1, keepdim=True),
    "cumsum": lambda lib, t: lib.cumsum(t, dim=0),
    "cumprod": lambda lib, t: lib.cumprod(t, 1, dtype=lib.float64),
    "all": lambda lib, t: lib.all(t, 1),
    "any": lambda lib, t: lib.any(t),
    "count_nonzero": lambda lib, t: lib.count_nonzero(t, (0, 1)),
    "axis=": lambda lib, t: lib.sum(t, axis=1, keepdims=True),
    "mean axis=": lambda lib, t: lib.mean(t, axis=0),
    "max axis=": lambda lib, t: t.max(axis=1),
    "amax axis=": lambda lib, t: t.amax(axis=1, keepdims=True),
    "cumsum axis=": lambda lib, t: t.cumsum(axis=1),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_forms_and_numpy_aliases(name):
    check_op(with_lib(FUNCTIONS[name]), X, noncontig=False)


INT = np.array([[1, 2, 0], [3, 4, 5]])
BOOL = np.array([[True, False, True], [True, True, True]])
U8 = np.array([[1, 0, 7], [2, 3, 4]], dtype=np.uint8)
I32 = np.array([[1, -2, 0], [3, 4, 5]], dtype=np.int32)
INTEGER_OPS = {
    "sum": lambda lib, t: t.sum(),
    "sum(1)": lambda lib, t: t.sum(1),
    "sum(dtype)": lambda lib, t: t.sum(dtype=lib.float32),
    "prod": lambda lib, t: t.prod(),
    "prod(1)": lambda lib, t: t.prod(1),
    "mean(dtype)": lambda lib, t: t.mean(dtype=lib.float64),
    "max": lambda lib, t: t.max(),
    "max(1)": lambda lib, t: t.max(1),
    "amax(1)": lambda lib, t: t.amax(1),
    "aminmax": lambda lib, t: t.aminmax(),
    "argmax": lambda lib, t: t.argmax(),
    "cumsum": lambda lib, t: t.cumsum(1),
    "cumprod": lambda lib, t: t.cumprod(0),
    "cumsum(dtype)": lambda lib, t: t.cumsum(1, dtype=lib.float32),
    "nansum": lambda lib, t: t.nansum(),
    "all": lambda lib, t: t.all(),
    "any(0)": lambda lib, t: t.any(0),
    "count_nonzero": lambda lib, t: t.count_nonzero(0),
    "logsumexp": lambda lib, t: t.logsumexp(1),
}


# PyTorch rejects bool argmax; test_errors checks that error instead
INTEGER_CASES = [(name, data) for name in INTEGER_OPS
                 for data in ("int64", "bool", "uint8", "int32")
                 if not (name == "argmax" and data == "bool")]


@pytest.mark.parametrize("name,data", INTEGER_CASES)
def test_integer_and_bool_inputs(name, data):
    """Integers and bools sum and multiply in int64; all/any keep uint8; no gradients."""
    arrays = {"int64": INT, "bool": BOOL, "uint8": U8, "int32": I32}
    check_op(with_lib(INTEGER_OPS[name]), arrays[data])


EMPTY_OPS = {
    "sum": lambda t: t.sum(), "sum(0)": lambda t: t.sum(0), "sum(1)": lambda t: t.sum(1),
    "mean": lambda t: t.mean(), "mean(0)": lambda t: t.mean(0), "mean(1)": lambda t: t.mean(1),
    "prod": lambda t: t.prod(), "prod(1)": lambda t: t.prod(1), "max(1)": lambda t: t.max(1),
    "amax(1)": lambda t: t.amax(1), "argmax(1)": lambda t: t.argmax(1),
    "logsumexp(0)": lambda t: t.logsumexp(0), "logsumexp(1)": lambda t: t.logsumexp(1),
    "norm": lambda t: t.norm(), "norm(inf,1)": lambda t: t.norm(float("inf"), 1),
    "cumsum(0)": lambda t: t.cumsum(0), "cumprod(1)": lambda t: t.cumprod(1),
    "all": lambda t: t.all(), "any(1)": lambda t: t.any(1), "nansum(0)": lambda t: t.nansum(0),
    "aminmax(dim=1)": lambda t: _weighted(t.aminmax(dim=1)),
    "count_nonzero(0)": lambda t: t.count_nonzero(0),
}


@pytest.mark.parametrize("name", EMPTY_OPS)
def test_empty_inputs(name):
    check_op(EMPTY_OPS[name], np.zeros((0, 3)), gradgrad=name != "norm(inf,1)")


SCALAR_OPS = {
    "sum(0)": lambda t: t.sum(0), "sum(-1,True)": lambda t: t.sum(-1, True),
    "mean(0)": lambda t: t.mean(0), "prod(0)": lambda t: t.prod(0), "prod": lambda t: t.prod(),
    "max(0)": lambda t: t.max(0), "max(0,True)": lambda t: t.max(0, True),
    "max": lambda t: t.max(), "amax(0)": lambda t: t.amax(0), "argmax(0)": lambda t: t.argmax(0),
    "argmax": lambda t: t.argmax(), "std(correction=0)": lambda t: t.std(correction=0),
    "logsumexp(0)": lambda t: t.logsumexp(0), "norm(dim=0)": lambda t: t.norm(dim=0),
    "cumsum(0)": lambda t: t.cumsum(0), "cumprod(0)": lambda t: t.cumprod(0),
    "all(0)": lambda t: t.all(0), "count_nonzero(0)": lambda t: t.count_nonzero(0),
    "aminmax": lambda t: _weighted(t.aminmax()), "nansum(0)": lambda t: t.nansum(0),
}


@pytest.mark.parametrize("name", SCALAR_OPS)
@pytest.mark.parametrize("value", [1.5, 0.0])
def test_zero_dim_inputs(name, value):
    check_op(SCALAR_OPS[name], np.array(value))


COMPLEX = {
    "sum(1)": lambda t: t.sum(1), "mean(0)": lambda t: t.mean(0), "prod(1)": lambda t: t.prod(1),
    "prod": lambda t: t.prod().reshape(1), "cumsum(1)": lambda t: t.cumsum(1),
    "cumprod(1)": lambda t: t.cumprod(1), "norm(dim=1)": lambda t: t.norm(dim=1),
    "norm(1,1)": lambda t: t.norm(1, 1), "norm(3,1)": lambda t: t.norm(3, 1),
    "var(1)": lambda t: t.var(1), "std(0)": lambda t: t.std(0),
    "logsumexp(1)": lambda t: t.logsumexp(1),
}


@pytest.mark.parametrize("name", COMPLEX)
def test_complex_inputs(name):
    """Complex gradients are conjugated as in PyTorch (0-dim results are reshaped: the harness
    cannot build 0-dim complex grad_outputs)."""
    check_op(COMPLEX[name], array(3, 4, dtype=np.complex128), dtypes=None, noncontig=False)


def _weighted(outs):
    """A combination of two outputs, so one backward reaches both of them."""
    return outs[0] * 2 + outs[1] * 3


MULTI = {
    "aminmax": lambda lib, t: t.aminmax(),
    "aminmax(dim)": lambda lib, t: t.aminmax(dim=1),
    "aminmax(dim,keepdim)": lambda lib, t: lib.aminmax(t, dim=0, keepdim=True),
    "std_mean": lambda lib, t: lib.std_mean(t),
    "std_mean(1)": lambda lib, t: lib.std_mean(t, 1, keepdim=True),
    "var_mean": lambda lib, t: lib.var_mean(t, (0, 1)),
    "var_mean(correction)": lambda lib, t: lib.var_mean(t, 1, correction=0),
}


@pytest.mark.parametrize("name", MULTI)
def test_two_output_reductions(name):
    fn = MULTI[name]
    check_op(with_lib(fn), X, grad=False)
    check_op(with_lib(lambda lib, t: _weighted(fn(lib, t))), X)
    check_op(with_lib(lambda lib, t: _weighted(fn(lib, t))), TIES, noncontig=False)


def test_return_types():
    for dims in ((1,), (0, True)):
        a = dyngrad.tensor([[1.0, 5, 3], [4, 2, 6]], requires_grad=True)
        b = torch.tensor([[1.0, 5, 3], [4, 2, 6]], requires_grad=True)
        for name in ("max", "min"):
            r, s = getattr(a, name)(*dims), getattr(b, name)(*dims)
            assert repr(r) == repr(s)
            assert str(r) == str(s)
            assert isinstance(r, tuple) and len(r) == 2
            assert r.values is r[0] and r.indices is r[1]
            values, indices = r
            assert indices.dtype == dyngrad.int64 and not indices.requires_grad
    assert repr(a.aminmax()) == repr(b.aminmax())
    assert a.aminmax().max.item() == 6.0


def test_max_gradient_goes_to_returned_index():
    a = dyngrad.tensor([[3.0, 1, 3], [2, 2, 0]], requires_grad=True)
    a.max(1).values.sum().backward()
    assert a.grad.tolist() == [[1.0, 0, 0], [1, 0, 0]]
    b = dyngrad.tensor([[3.0, 1, 3], [2, 2, 0]], requires_grad=True)
    b.max().backward()
    assert b.grad.tolist() == [[0.5, 0, 0.5], [0, 0, 0]]


def test_binary_max_min():
    check_op(lambda x, y: x.max(y), array(2, 3), array(2, 3))
    check_op(with_lib(lambda lib, x, y: lib.min(x, y)), array(2, 3), array(3))


def test_std_warns_without_degrees_of_freedom():
    for lib in (dyngrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = lib.tensor([1.5]).std()
        assert r.isnan() if lib is torch else np.isnan(r.item())
        assert str(w[0].message).startswith(
            "std(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel)."
        )


def test_inplace_cumulative():
    check_op(lambda x: (x * 1).cumsum_(1), X)
    check_op(lambda x: (x * 1).cumprod_(0), X)


FD_WITH_ZEROS = [lambda t: t.prod(), lambda t: t.prod(1), lambda t: t.cumprod(1),
                 lambda t: t.cumprod(0), lambda t: t.std(0), lambda t: t.norm(3, 1)]
FD_SMOOTH = [lambda t: t.var(1), lambda t: t.norm(1.5), lambda t: t.logsumexp(0),
             lambda t: t.amax(1), lambda t: t.max(1).values, lambda t: t.mean(1),
             lambda t: t.sum(0), lambda t: t.norm(0.5, 0), lambda t: t.norm(-2)]


@pytest.mark.parametrize("i", range(len(FD_WITH_ZEROS)))
def test_finite_differences_with_zeros(i):
    fd_check(FD_WITH_ZEROS[i], ZEROS)
    fd_gradgrad(FD_WITH_ZEROS[i], ZEROS)


@pytest.mark.parametrize("i", range(len(FD_SMOOTH)))
def test_finite_differences(i):
    fd_check(FD_SMOOTH[i], X)
    fd_gradgrad(FD_SMOOTH[i], X)


def test_finite_differences_of_sign_based_norms():
    data = np.array([[1.0, -3, 2.5], [1, 0.5, -3]])
    for fn in (lambda t: t.norm(1, 1), lambda t: t.norm(float("inf"), 1)):
        fd_check(fn, data)
        fd_gradgrad(fn, data)


ERRORS = {
    "dim out of range": lambda lib: lib.ones(2, 3).sum(2),
    "dim out of range 0-d": lambda lib: lib.tensor(1.0).sum(1),
    "dim out of range tuple": lambda lib: lib.ones(2, 3).sum((0, 5)),
    "repeated dim": lambda lib: lib.ones(2, 3).sum((0, 0)),
    "repeated dim amax": lambda lib: lib.ones(2, 3).amax((1, -1)),
    "mean of ints": lambda lib: lib.tensor([1, 2]).mean(),
    "mean of bools": lambda lib: lib.tensor([True]).mean(),
    "nanmean of ints": lambda lib: lib.tensor([1, 2]).nanmean(),
    "std of ints": lambda lib: lib.tensor([1, 2]).std(),
    "var of ints": lambda lib: lib.tensor([1, 2]).var(0),
    "norm of ints": lambda lib: lib.tensor([1, 2]).norm(),
    "max of empty": lambda lib: lib.zeros(0, 3).max(),
    "min of empty": lambda lib: lib.zeros(0, 3).min(),
    "max over empty dim": lambda lib: lib.zeros(0, 3).max(0),
    "amax of empty": lambda lib: lib.zeros(0, 3).amax(),
    "amin over empty dim": lambda lib: lib.zeros(0, 3).amin(0),
    "argmax of empty": lambda lib: lib.zeros(0, 3).argmax(),
    "argmin over empty dim": lambda lib: lib.zeros(0, 3).argmin(0),
    "aminmax of empty": lambda lib: lib.zeros(0, 3).aminmax(),
    "aminmax over empty dim": lambda lib: lib.zeros(0, 3).aminmax(dim=0),
    "inf norm of empty": lambda lib: lib.zeros(0, 3).norm(float("inf")),
    "inf norm over empty dim": lambda lib: lib.zeros(0, 3).norm(float("inf"), 0),
    "fro over 3 dims": lambda lib: lib.ones(2, 2, 2).norm("fro", (0, 1, 2)),
    "max dim out of range": lambda lib: lib.ones(2, 3).max(2),
    "argmax dim out of range": lambda lib: lib.ones(2, 3).argmax(-3),
    "cumsum dim out of range": lambda lib: lib.ones(2, 3).cumsum(2),
    "count_nonzero repeated": lambda lib: lib.ones(2, 3).count_nonzero((1, 1)),
    "sum of a list": lambda lib: lib.sum([1, 2]),
    "argmax of bools": lambda lib: lib.tensor([True, False]).argmax(),
    "nansum of complex": lambda lib: lib.ones(2, dtype=lib.complex64).nansum(),
    "argmin of bools": lambda lib: lib.tensor([True, False]).argmin(0),
    "cumsum without dim": lambda lib: lib.ones(2).cumsum(),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])
