"""Sorting and selection against PyTorch: values, indices, dtypes, grad_fn names, first- and
second-order gradients (on inputs without ties), ties and NaNs, return types, error messages."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, fd_gradgrad, with_lib

pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.searchsorted():UserWarning"),  # torch's performance
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]

X = array(3, 5)  # no ties (with probability 1)
Q = np.array([0.1, 0.5, 0.9, 1.0])
NAN = np.nan

DIFFERENTIABLE = {
    "sort": lambda lib, t: t.sort(),
    "sort(0,True)": lambda lib, t: t.sort(0, True),
    "sort(stable)": lambda lib, t: lib.sort(t, dim=1, descending=True, stable=True),
    "msort": lambda lib, t: lib.msort(t),
    "topk(2)": lambda lib, t: t.topk(2),
    "topk(2,0,smallest)": lambda lib, t: lib.topk(t, 2, 0, largest=False),
    "topk(0)": lambda lib, t: t.topk(0),
    "kthvalue(2)": lambda lib, t: t.kthvalue(2),
    "kthvalue(3,0,True)": lambda lib, t: lib.kthvalue(t, 3, 0, True),
    "median": lambda lib, t: t.median(),
    "median(1)": lambda lib, t: t.median(1),
    "median(0,True)": lambda lib, t: lib.median(t, 0, keepdim=True),
    "nanmedian": lambda lib, t: t.nanmedian(),
    "nanmedian(-1)": lambda lib, t: lib.nanmedian(t, -1),
    "mode": lambda lib, t: t.mode(),
    "mode(0,True)": lambda lib, t: lib.mode(t, 0, True),
    "quantile(0.3)": lambda lib, t: t.quantile(0.3),
    "quantile(0.3,1)": lambda lib, t: lib.quantile(t, 0.3, dim=1),
    "quantile(0.75,0,True)": lambda lib, t: lib.quantile(t, 0.75, 0, True),
    "quantile(None,True)": lambda lib, t: lib.quantile(t, 0.5, keepdim=True),
    "nanquantile(0.4,1)": lambda lib, t: lib.nanquantile(t, 0.4, 1),
    "cummax(1)": lambda lib, t: t.cummax(1),
    "cummin(0)": lambda lib, t: lib.cummin(t, 0),
    "logcumsumexp(1)": lambda lib, t: t.logcumsumexp(1),
    "logcumsumexp(0)": lambda lib, t: lib.logcumsumexp(t, dim=0),
    "diff": lambda lib, t: t.diff(),
    "diff(2,0)": lambda lib, t: lib.diff(t, n=2, dim=0),
    "diff(n=9)": lambda lib, t: lib.diff(t, n=9),
    "diff(n=0)": lambda lib, t: lib.diff(t, n=0),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_differentiable_ops(name):
    check_op(with_lib(DIFFERENTIABLE[name]), X)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolations_and_tensor_q(interpolation):
    """q as a tensor (leading the result) gets a gradient too (through linear's weights)."""
    for fn in (lambda lib, t, q: lib.quantile(t, q, dim=1, interpolation=interpolation),
               lambda lib, t, q: t.quantile(q, 0, True, interpolation=interpolation),
               lambda lib, t, q: lib.nanquantile(t, q, interpolation=interpolation)):
        check_op(with_lib(fn), X, Q, noncontig=False)
    check_op(with_lib(lambda lib, t: t.quantile(0.625, 1, interpolation=interpolation)), X)


def test_zero_dim_inputs():
    s = np.array(1.5)
    for fn in (lambda lib, t: t.sort(0), lambda lib, t: t.topk(1), lambda lib, t: t.kthvalue(1),
               lambda lib, t: t.median(0), lambda lib, t: t.mode(), lambda lib, t: t.cummax(0),
               lambda lib, t: t.logcumsumexp(0), lambda lib, t: t.quantile(0.5, 0),
               lambda lib, t: t.median(), lambda lib, t: t.argsort(), lambda lib, t: t.msort()):
        check_op(with_lib(fn), s)


EMPTY_OPS = [lambda lib, t, d: t.sort(d), lambda lib, t, d: t.topk(0, d),
             lambda lib, t, d: t.kthvalue(1, d), lambda lib, t, d: t.median(d),
             lambda lib, t, d: t.mode(d), lambda lib, t, d: t.cummax(d),
             lambda lib, t, d: t.logcumsumexp(d), lambda lib, t, d: t.diff(dim=d),
             lambda lib, t, d: t.unique(dim=d, return_counts=True), lambda lib, t, d: t.median(),
             lambda lib, t, d: lib.histc(t, 3), lambda lib, t, d: lib.histogram(t, 3)]


@pytest.mark.parametrize("i", range(len(EMPTY_OPS)))
def test_empty_inputs(i):
    """Empty slices work where PyTorch allows them, else raise its error."""
    for shape, d in (((0,), 0), ((3, 0), 1), ((3, 0), 0), ((0, 3), 1), ((2, 0, 4), -1)):
        try:
            EMPTY_OPS[i](torch, torch.zeros(shape), d)
        except (RuntimeError, IndexError):
            check_error(lambda lib, d=d, shape=shape: EMPTY_OPS[i](lib, lib.zeros(shape), d))
            continue
        check_op(with_lib(lambda lib, t, d=d: EMPTY_OPS[i](lib, t, d)), np.zeros(shape),
                 grad=False, dtypes=None)


def test_diff_prepend_append():
    a, p = array(2, 4), array(2, 1)
    check_op(with_lib(lambda lib, t, pre, app: lib.diff(t, 2, -1, pre, app)), a, p, array(2, 3))
    check_op(with_lib(lambda lib, t, pre: t.diff(dim=0, prepend=pre)), a, array(1, 4))
    check_op(with_lib(lambda lib, t, app: lib.diff(t, append=app)), a, np.array([[1], [2]]))


def test_diff_integers_and_bools():
    for data in (np.array([1, 5, 2, 2]), np.array([True, False, False, True]),
                 np.array([[3, 1], [2, 2]], dtype=np.uint8)):
        for fn in (lambda lib, t: t.diff(), lambda lib, t: lib.diff(t, 2, 0),
                   lambda lib, t: lib.diff(t, 0)):
            check_op(with_lib(fn), data)


# --- ties and NaNs -----------------------------------------------------------------------------
SMALL_TIES = np.array([[1.0, 2, 2, 1, 3, 2, 2], [0, 0, -1, 5, 5, -1, 0], [4, 4, 4, 4, 4, 4, 4]])
SMALL_NANS = np.array([[1.0, NAN, 3, NAN, -2, 3], [2, 2, 0, 1, 0, 2], [NAN, NAN, NAN, NAN, 1, 1]])
ALL_NAN = np.array([[NAN, NAN, NAN], [NAN, 1, 2]])

TIE_OPS = {
    "sort": lambda lib, t: t.sort(),
    "sort(desc)": lambda lib, t: t.sort(descending=True),
    "sort(0)": lambda lib, t: t.sort(0),
    "argsort": lambda lib, t: t.argsort(-1, True),
    "topk(3)": lambda lib, t: t.topk(3),
    "topk(2,smallest)": lambda lib, t: t.topk(2, largest=False),
    "kthvalue(1..)": lambda lib, t: tuple(t.kthvalue(k) for k in range(1, t.shape[-1] + 1)),
    "median": lambda lib, t: t.median(),
    "median(1)": lambda lib, t: t.median(1),
    "median(0)": lambda lib, t: t.median(0),
    "nanmedian": lambda lib, t: t.nanmedian(),
    "nanmedian(1)": lambda lib, t: t.nanmedian(1),
    "mode(1)": lambda lib, t: t.mode(1),
    "mode(0)": lambda lib, t: t.mode(0),
    "cummax(1)": lambda lib, t: t.cummax(1),
    "cummin(1)": lambda lib, t: t.cummin(1),
    "cummax(0)": lambda lib, t: t.cummax(0),
    "quantile": lambda lib, t: t.quantile(0.4, 1),
    "nanquantile": lambda lib, t: t.nanquantile(0.4, 1),
    "nanquantile(all)": lambda lib, t: t.nanquantile(0.7),
    "unique": lambda lib, t: lib.unique(t, return_inverse=True, return_counts=True),
    "unique_consecutive": lambda lib, t: t.unique_consecutive(return_counts=True,
                                                              return_inverse=True),
}
@pytest.mark.parametrize("name", TIE_OPS)
def test_ties_and_nans_forward(name):
    """Exact values *and indices* on ties and NaNs (slices of at most 16, where PyTorch's
    unstable sorts are stable too); the gradient goes where the index points."""
    fn = with_lib(TIE_OPS[name])
    grad = not name.startswith("unique")
    for data in (SMALL_TIES, SMALL_NANS, ALL_NAN):
        check_op(fn, data, noncontig=False, gradgrad=False, grad=grad, dtypes=(np.float64,))


def test_median_full_shares_gradient_among_ties():
    check_op(lambda t: t.median(), np.array([[1.0, 2, 2], [2, 3, 0]]), noncontig=False)
    check_op(lambda t: t.nanmedian(), np.array([1.0, NAN, 2, 1]), noncontig=False)


def test_kthvalue_ties_follow_torch_quickselect():
    rng = np.random.default_rng(1)
    for n in (2, 3, 7, 16, 17, 40, 101):
        data = rng.integers(0, 4, size=(6, n)).astype(np.float64)
        data[0, : n // 2] = NAN
        for k in sorted({1, 2, (n + 1) // 2, n}):
            check_op(lambda t, k=k: t.kthvalue(k, 1), data, grad=False, noncontig=False,
                     dtypes=(np.float64,))
    check_op(lambda t: t.kthvalue(5, 0), rng.integers(0, 3, size=(30, 4)), grad=False)
    check_op(lambda t: t.kthvalue(2), np.array([0.0, -0.0, 0.0, -0.0, 1]), grad=False)


def test_stable_sort_of_long_slices():
    rng = np.random.default_rng(2)
    data = rng.integers(0, 5, size=(4, 60)).astype(np.float32)
    data[1, ::7] = NAN
    for fn in (lambda lib, t: lib.sort(t, stable=True),
               lambda lib, t: lib.sort(t, dim=0, descending=True, stable=True),
               lambda lib, t: lib.argsort(t, descending=True, stable=True)):
        check_op(with_lib(fn), data, grad=False, dtypes=None)


def test_unstable_orders_of_long_tied_slices_follow_torch():
    """Beyond 16 elements PyTorch's unstable sort, topk and mode order ties by their algorithms
    (std::sort, nth_element, partial_sort), which dyngrad re-runs on tied slices."""
    rng = np.random.default_rng(3)
    data = rng.integers(0, 4, size=(5, 300)).astype(np.float32)
    data[0, rng.random(300) < 0.2] = NAN
    fns = [lambda lib, t: t.sort(), lambda lib, t: t.sort(0, True), lambda lib, t: t.msort(),
           lambda lib, t: t.argsort(descending=True), lambda lib, t: t.topk(3),
           lambda lib, t: t.topk(60, largest=False), lambda lib, t: t.topk(9, sorted=False),
           lambda lib, t: t.topk(2, 0, sorted=False), lambda lib, t: t.mode(),
           lambda lib, t: t.mode(0)]
    for fn in fns:
        check_op(with_lib(fn), data, grad=False, dtypes=None)
    big = rng.integers(0, 9, size=40000)  # PyTorch's radix sort: stable
    check_op(lambda t: t.sort(), big, dtypes=None, noncontig=False)
    check_op(lambda t: t.sort(), big[:20000].reshape(2, -1), dtypes=None, noncontig=False)


@pytest.mark.parametrize("data", [np.array([[3, 1, 2, 3, 1, 1], [5, 5, -2, 0, 0, 9]]),
                                  np.array([[True, False, True], [False, False, True]]),
                                  np.array([[7, 7, 3], [1, 2, 2]], dtype=np.uint8),
                                  np.array([[1.5, 0.5, 0.5], [2, 1, 1]], dtype=np.float16)],
                         ids=["int64", "bool", "uint8", "float16"])
def test_integer_bool_and_half_inputs(data):
    ops = ["sort", "sort(desc)", "argsort", "cummax(1)", "cummin(1)", "unique",
           "unique_consecutive"]
    if data.dtype != np.bool_:
        ops += ["topk(3)", "median(1)", "mode(1)", "mode(0)", "nanmedian(1)", "median"]
        ops += ["kthvalue(1..)"]
    for name in ops:
        check_op(with_lib(TIE_OPS[name]), data, dtypes=None, grad=False)


# --- unique / unique_consecutive ---------------------------------------------------------------
UNIQUE = {
    "plain": lambda lib, t: lib.unique(t),
    "sorted=False": lambda lib, t: t.unique(sorted=False),
    "inverse": lambda lib, t: lib.unique(t, return_inverse=True),
    "counts": lambda lib, t: lib.unique(t, return_counts=True),
    "dim0": lambda lib, t: lib.unique(t, dim=0, return_inverse=True, return_counts=True),
    "dim1": lambda lib, t: t.unique(dim=1),
    "consecutive": lambda lib, t: lib.unique_consecutive(t),
    "consecutive dim0": lambda lib, t: lib.unique_consecutive(t, True, True, 0),
    "consecutive dim1": lambda lib, t: t.unique_consecutive(return_counts=True, dim=-1),
}
UNIQUE_DATA = np.array([[1.0, 2, 2, 0], [1, 2, 2, 0], [5, 5, NAN, NAN], [1, 2, 2, 0]])


@pytest.mark.parametrize("name", UNIQUE)
def test_unique(name):
    data = UNIQUE_DATA if "dim" not in name else np.nan_to_num(UNIQUE_DATA)
    check_op(with_lib(UNIQUE[name]), data, grad=False)
    check_op(with_lib(UNIQUE[name]), np.nan_to_num(data).astype(np.int64), dtypes=None)
    empty = np.zeros((2, 0)) if name.endswith("dim1") else np.zeros((0, 3))
    check_op(with_lib(UNIQUE[name]), empty, grad=False, noncontig=False)
    if "dim" not in name:
        check_op(with_lib(UNIQUE[name]), np.array(2.0), grad=False)


def test_unique_dim_with_nans_follows_torch_sort():
    """PyTorch sorts slices with a `<` that NaNs break; dyngrad replays that sort."""
    rng = np.random.default_rng(4)
    flat = rng.integers(0, 4, size=(27,)).astype(np.float32)
    flat[rng.random(27) < 0.2] = NAN
    rows = rng.integers(0, 3, size=(8, 3)).astype(np.float32)
    rows[[0, 5], 1] = NAN
    for data, dim in ((flat, 0), (rows, 0), (rows.T, 1)):
        check_op(lambda t, dim=dim: dyngrad_or_torch_unique(t, dim), data, grad=False,
                 dtypes=None)


def dyngrad_or_torch_unique(t, dim):
    return t.unique(dim=dim, return_inverse=True, return_counts=True)


def test_unique_backward_is_not_implemented():
    for fn in (lambda lib: lib.unique(lib.ones(3, requires_grad=True)).sum().backward(),
               lambda lib: lib.unique(lib.ones(2, 3, requires_grad=True), dim=1).sum().backward(),
               lambda lib: lib.unique_consecutive(lib.ones(3, requires_grad=True)).sum().backward(),
               lambda lib: lib.bincount(lib.tensor([0, 2]), lib.ones(2, requires_grad=True))
               .sum().backward(),
               lambda lib: lib.histogram(lib.ones(3, requires_grad=True), 2).hist.sum().backward()):
        check_error(fn)


# --- bincount / histc / histogram --------------------------------------------------------------
def test_bincount():
    idx = np.array([0, 1, 1, 3, 7, 1])
    for fn in (lambda lib, i: lib.bincount(i), lambda lib, i: i.bincount(minlength=10),
               lambda lib, i: lib.bincount(i, minlength=3)):
        check_op(with_lib(fn), idx)
        check_op(with_lib(fn), idx.astype(np.uint8))
    check_op(with_lib(lambda lib, i: lib.bincount(i, minlength=4)), np.zeros(0, np.int64))
    for w in (array(6), array(6).astype(np.float32), np.arange(6), np.arange(6) > 2):
        check_op(with_lib(lambda lib, i, w: lib.bincount(i, w)), idx, w, dtypes=None, grad=False)


HIST_DATA = np.array([[1.0, 2, 1, 4, 0.5], [0.1, 0.2, 0.3, 0.7, 9]])


def test_histc():
    for fn in (lambda lib, t: lib.histc(t), lambda lib, t: t.histc(4),
               lambda lib, t: lib.histc(t, 7, 0, 0.7), lambda lib, t: lib.histc(t, 3, 2, 2),
               lambda lib, t: lib.histc(t, bins=5, min=-1, max=1.5)):
        check_op(with_lib(fn), HIST_DATA, grad=False)
    for data in (np.array([2.0, 2]), np.zeros(0), np.array([1e10, 2, 3], np.float32)):
        check_op(with_lib(lambda lib, t: lib.histc(t, 3)), data, grad=False, dtypes=None)


def test_histogram():
    edges = np.array([0.0, 1, 2.5, 2.5, 5])
    for fn in (lambda lib, t: lib.histogram(t, 4), lambda lib, t: t.histogram(3, range=(0.0, 3.0)),
               lambda lib, t: lib.histogram(t, 3, density=True)):
        check_op(with_lib(fn), HIST_DATA, grad=False)
    check_op(with_lib(lambda lib, t, e: lib.histogram(t, e)), HIST_DATA, edges, grad=False)
    check_op(with_lib(lambda lib, t, w: lib.histogram(t, 3, weight=w, density=True)), HIST_DATA,
             np.abs(array(2, 5)), grad=False)
    for data in (np.array([1.0, 1]), np.zeros(0)):
        check_op(with_lib(lambda lib, t: lib.histogram(t, 2)), data, grad=False, dtypes=None)


# --- searchsorted / bucketize ------------------------------------------------------------------
SEQ = np.array([1.0, 2, 2, 3, 5])
SEARCH = {
    "left": lambda lib, s, v: lib.searchsorted(s, v),
    "right": lambda lib, s, v: lib.searchsorted(s, v, right=True),
    "side": lambda lib, s, v: lib.searchsorted(s, v, side="right", out_int32=True),
    "scalar": lambda lib, s, v: lib.searchsorted(s, 2),
    "scalar right": lambda lib, s, v: lib.searchsorted(s, 2.5, right=True),
    "bucketize": lambda lib, s, v: lib.bucketize(v, s),
    "bucketize right": lambda lib, s, v: lib.bucketize(v, s, right=True, out_int32=True),
    "bucketize scalar": lambda lib, s, v: lib.bucketize(3, s),
}


@pytest.mark.parametrize("name", SEARCH)
def test_searchsorted(name):
    values = np.array([[0.5, 2, 3.5], [5, 6, -1]])
    check_op(with_lib(SEARCH[name]), SEQ, values, grad=False)
    check_op(with_lib(SEARCH[name]), SEQ.astype(np.int64), values, grad=False)
    check_op(with_lib(SEARCH[name]), np.array([1.0, NAN, 3]), np.array([NAN, 2, 4]), grad=False,
             dtypes=None)


def test_searchsorted_nd_and_sorter():
    seq = np.array([[1.0, 3, 5], [0, 1, 2]])
    check_op(with_lib(lambda lib, s, v: lib.searchsorted(s, v)), seq,
             np.array([[3.0, 6], [0.5, 1]]), grad=False)
    check_op(with_lib(lambda lib, s, v, o: lib.searchsorted(s, v, sorter=o, side="right")),
             np.array([5.0, 1, 3]), np.array([3.0, 4, 0]), np.array([1, 2, 0]), grad=False)
    check_op(with_lib(lambda lib, s, v: lib.searchsorted(s, v)), np.zeros(0), np.ones(2),
             grad=False, dtypes=None)


# --- logcumsumexp ------------------------------------------------------------------------------
def test_logcumsumexp_extremes():
    big = np.array([[1000.0, 1000, -1000, 999], [-np.inf, -np.inf, 1, 2]])
    check_op(lambda t: t.logcumsumexp(1), big, noncontig=False, dtypes=(np.float64,))
    check_op(lambda t: t.logcumsumexp(1), np.array([[np.inf, 1], [NAN, 0]]), grad=False)


def test_forward_mode_ad():
    x, v = array(3, 4), array(3, 4)

    def fn(lib, x, v):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(x, v)
            outs = (d.sort(1).values, d.topk(2, 0).values, d.kthvalue(2).values, d.median(),
                    d.cummin(1).values, d.logcumsumexp(1), d.quantile(0.3, 1), d.diff())
            return tuple(fw.unpack_dual(o).tangent for o in outs)

    check_op(with_lib(fn), x, v, requires_grad=[False, False], dtypes=(np.float64,))


# --- finite differences ------------------------------------------------------------------------
def test_finite_differences():
    x, q = array(3, 4), np.array([0.2, 0.7])
    fd_check(lambda t: t.sort(1).values, x)
    fd_check(lambda t: t.topk(2, 0).values, x)
    fd_check(lambda t: t.kthvalue(2, 1).values, x)
    fd_check(lambda t: t.cummax(0).values, x)
    fd_check(lambda t, q: dyngrad.quantile(t, q, dim=1), x, q)
    fd_check(lambda t: t.logcumsumexp(1), x)
    fd_gradgrad(lambda t: t.logcumsumexp(1), x)
    fd_gradgrad(lambda t, q: dyngrad.quantile(t, q, dim=0), x, q)


# --- return types, out= ------------------------------------------------------------------------
def test_return_types_print_as_torch():
    a = np.array([[3.0, 1, 2], [0, 5, 4]])
    for name, args in [("sort", ()), ("topk", (2,)), ("kthvalue", (1,)), ("median", (1,)),
                       ("nanmedian", (0,)), ("mode", ()), ("cummax", (1,)), ("cummin", (0,)),
                       ("histogram", (2,))]:
        d = getattr(dyngrad, name)(dyngrad.from_numpy(a), *args)
        t = getattr(torch, name)(torch.from_numpy(a), *args)
        assert repr(d) == repr(t)
        assert type(d).__name__ == type(t).__name__


def test_out_arguments():
    a = np.array([[3.0, 1, 2], [0, 5, 4]])

    def fn(lib, t):
        v, i = lib.empty(0, dtype=t.dtype), lib.empty(0, dtype=lib.int64)
        lib.sort(t, 1, out=(v, i))
        q = lib.empty(0, dtype=lib.float64)
        lib.quantile(t, 0.5, 0, out=q)
        c = lib.empty(0, dtype=lib.int64)
        lib.searchsorted(lib.tensor([1.0, 2]), t, out=c)
        return v, i, q, c, lib.topk(t, 1, out=(lib.empty(0, dtype=t.dtype),
                                               lib.empty(0, dtype=lib.int64)))

    check_op(with_lib(fn), a, requires_grad=[False], dtypes=(np.float64,))


# --- errors ------------------------------------------------------------------------------------
ERRORS = [
    lambda lib: lib.sort(lib.ones(2, 3), 2),
    lambda lib: lib.sort(lib.tensor([1 + 1j])),
    lambda lib: lib.argsort(lib.ones(2), -2),
    lambda lib: lib.topk(lib.ones(2, 4), 5),
    lambda lib: lib.topk(lib.ones(2, 4), -1),
    lambda lib: lib.topk(lib.tensor(1.0), 2),
    lambda lib: lib.topk(lib.ones(2, 4), 2, dim=2),
    lambda lib: lib.topk(lib.tensor([True]), 1),
    lambda lib: lib.topk(lib.tensor([1 + 1j]), 1),
    lambda lib: lib.kthvalue(lib.ones(2, 4), 5),
    lambda lib: lib.kthvalue(lib.ones(2, 4), 0),
    lambda lib: lib.kthvalue(lib.empty(0), 1),
    lambda lib: lib.kthvalue(lib.tensor(1.0), 2),
    lambda lib: lib.kthvalue(lib.tensor([True]), 1),
    lambda lib: lib.kthvalue(lib.tensor([1 + 1j]), 1),
    lambda lib: lib.median(lib.empty(2, 0), 1),
    lambda lib: lib.median(lib.tensor([True])),
    lambda lib: lib.median(lib.tensor([True]), 0),
    lambda lib: lib.median(lib.tensor([1 + 1j])),
    lambda lib: lib.nanmedian(lib.empty(0, 3), 0),
    lambda lib: lib.mode(lib.empty(0)),
    lambda lib: lib.mode(lib.empty(2, 0), 1),
    lambda lib: lib.mode(lib.tensor([1 + 1j])),
    lambda lib: lib.quantile(lib.ones(3), 1.5),
    lambda lib: lib.nanquantile(lib.ones(3), -0.1),
    lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5, 1.5])),
    lambda lib: lib.quantile(lib.ones(3), lib.tensor([[0.5]])),
    lambda lib: lib.quantile(lib.tensor([1, 2]), 0.5),
    lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5], dtype=lib.float64)),
    lambda lib: lib.quantile(lib.empty(0), 0.5),
    lambda lib: lib.quantile(lib.ones(3), 0.5, interpolation="foo"),
    lambda lib: lib.quantile(lib.ones(3, 2), 0.5, dim=2),
    lambda lib: lib.unique(lib.ones(2, 3), dim=2),
    lambda lib: lib.unique_consecutive(lib.ones(2, 3), dim=3),
    lambda lib: lib.bincount(lib.ones(3)),
    lambda lib: lib.bincount(lib.tensor([True])),
    lambda lib: lib.bincount(lib.tensor([-1, 2])),
    lambda lib: lib.bincount(lib.tensor([[1, 2]])),
    lambda lib: lib.bincount(lib.tensor([1, 2]), minlength=-1),
    lambda lib: lib.bincount(lib.tensor([1, 2]), weights=lib.tensor([1.0])),
    lambda lib: lib.histc(lib.tensor([1, 2])),
    lambda lib: lib.histc(lib.ones(3), bins=0),
    lambda lib: lib.histc(lib.ones(3), min=3, max=1),
    lambda lib: lib.histc(lib.tensor([1.0, float("nan")])),
    lambda lib: lib.histc(lib.tensor([1.0, float("inf")])),
    lambda lib: lib.histogram(lib.tensor([1, 2]), 3),
    lambda lib: lib.histogram(lib.ones(3), -1),
    lambda lib: lib.histogram(lib.ones(3), 3, range=(3.0, 1.0)),
    lambda lib: lib.histogram(lib.tensor([1.0, float("nan")]), 2),
    lambda lib: lib.histogram(lib.ones(3), lib.tensor([1, 2, 3])),
    lambda lib: lib.histogram(lib.ones(2), 2, weight=lib.ones(1)),
    lambda lib: lib.diff(lib.ones(2, 3), dim=2),
    lambda lib: lib.diff(lib.tensor(1.0)),
    lambda lib: lib.diff(lib.ones(2, 3), n=-1),
    lambda lib: lib.diff(lib.ones(2, 3), n=1.5),
    lambda lib: lib.diff(lib.ones(2, 3), prepend=lib.tensor(1.0)),
    lambda lib: lib.diff(lib.ones(2, 3), prepend=lib.ones(3, 1)),
    lambda lib: lib.cummax(lib.ones(2, 3), 2),
    lambda lib: lib.cummin(lib.tensor([1 + 1j]), 0),
    lambda lib: lib.logcumsumexp(lib.ones(2), 1),
    lambda lib: lib.logcumsumexp(lib.tensor([1, 2]), 0),
    lambda lib: lib.logcumsumexp(lib.tensor([True]), 0),
    lambda lib: lib.searchsorted(lib.ones(2, 4), lib.ones(1)),
    lambda lib: lib.searchsorted(lib.ones(2, 2), lib.ones(2)),
    lambda lib: lib.searchsorted(lib.ones(2), 1.0, side="foo"),
    lambda lib: lib.searchsorted(lib.ones(2), 1.0, side="left", right=True),
    lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), sorter=lib.tensor([0])),
    lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), sorter=lib.tensor([0.0, 1])),
    lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), sorter=lib.tensor([0, 5])),
    lambda lib: lib.searchsorted(lib.tensor(1.0), lib.ones(1)),
    lambda lib: lib.searchsorted(lib.tensor([1 + 1j]), lib.tensor([1 + 0j])),
    lambda lib: lib.bucketize(lib.ones(1), lib.ones(2, 4)),
    lambda lib: lib.unique(lib.empty(0, 3), dim=1),
    lambda lib: lib.unique_consecutive(lib.empty(0, 3), dim=-1),
    lambda lib: lib.unique(lib.tensor(1.0), dim=0),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    check_error(ERRORS[i])


def test_out_with_grad_is_refused():
    check_error(lambda lib: lib.sort(lib.ones(2, requires_grad=True),
                                     out=(lib.empty(0), lib.empty(0, dtype=lib.int64))))


# --- histogramdd -------------------------------------------------------------------------------
_POINTS = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.5, 1.5], [float("nan"), 1.0]]
HISTOGRAMDD = {
    "weights": lambda t: t.histogramdd(t.tensor(_POINTS[:4]), bins=[3, 3],
                                       weight=t.tensor([1.0, 2.0, 4.0, 8.0])),
    "range_density": lambda t: t.histogramdd(t.tensor(_POINTS[:5]), bins=[2, 2],
                                             range=[0.0, 1.0, 0.0, 1.0], density=True),
    "weighted_density": lambda t: t.histogramdd(t.tensor(_POINTS[:3]), bins=[2, 2],
                                                range=[0.0, 1.0, 0.0, 1.0],
                                                weight=t.tensor([1.0, 2.0, 3.0]), density=True),
    "int_bins": lambda t: t.histogramdd(t.tensor(_POINTS[:5]), bins=2),
    "tuple_bins": lambda t: t.histogramdd(t.tensor(_POINTS[:5]), bins=(2, 3)),
    "edges": lambda t: t.histogramdd(t.tensor(_POINTS[:5]),
                                     bins=[t.tensor([0.0, 1.0, 2.0]), t.tensor([0.0, 2.0])]),
    "single_point": lambda t: t.histogramdd(t.tensor([[0.0, 0.0]]), bins=2),
    "three_dims_batched": lambda t: t.histogramdd(t.arange(24.0).reshape(2, 4, 3), bins=[2, 3, 4]),
    "float64": lambda t: t.histogramdd(t.tensor(_POINTS[:5], dtype=t.float64), bins=[4, 2]),
    "nan_skipped": lambda t: t.histogramdd(t.tensor(_POINTS), bins=2, range=[0.0, 2.0, 0.0, 2.0]),
    "requires_grad": lambda t: t.histogramdd(t.tensor([[0.0, 0.0]], requires_grad=True), bins=2),
}


@pytest.mark.parametrize("name", HISTOGRAMDD)
def test_histogramdd(name):
    from tests.autograd.common import both

    def prog(lib):
        hist, edges = HISTOGRAMDD[name](lib)
        return [hist, list(edges), type(hist.grad_fn).__name__ if hist.grad_fn else None]

    both(prog)


HISTOGRAMDD_ERRORS = {
    "one_dim": lambda t: t.histogramdd(t.tensor([0.0, 1.0]), bins=2),
    "integers": lambda t: t.histogramdd(t.tensor([[0, 0]]), bins=2),
    "bins_length": lambda t: t.histogramdd(t.tensor([[0.0, 0.0]]), bins=[2, 2, 2]),
}


@pytest.mark.parametrize("name", HISTOGRAMDD_ERRORS)
def test_histogramdd_errors(name):
    check_error(HISTOGRAMDD_ERRORS[name])
