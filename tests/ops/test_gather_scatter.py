"""Gather / scatter, index_*, masked_*, take / put, nonzero and the index builders against
PyTorch: values, dtypes, grad_fn names, first and second order gradients (contiguous and strided
inputs), in-place forms, and PyTorch's error texts."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, assert_same_outputs, check_error, check_op, fd_check, with_lib

X = array(3, 4)
I0 = np.array([[0, 1, 2, 0], [1, 2, 0, 1]])  # duplicates along dim 0
U0 = np.array([[2, 0, 1, 1], [0, 2, 2, 0]])  # unique within each column: scatter is deterministic
I1 = np.array([[3, 0, 1], [1, 1, 2]])  # index smaller than self in dim 0
V = np.array([2, 0, 2, 1])
TIES = np.array([[1.0, 2.0, 2.0, 0.0], [2.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 2.0]])
SRC_TIES = np.array([[2.0, 1.0, 2.0, 0.0], [2.0, 2.0, 0.0, 0.0]])
MASK = array(3, 4, dtype=bool)

OPS = {
    # gather
    "gather": (lambda x, i: x.gather(0, i), X, I0),
    "gather_dim1_small": (lambda x, i: x.gather(1, i), X, I1),
    "gather_fn_neg": (with_lib(lambda L, x, i: L.gather(x, -1, i)), X, I1),
    "gather_int32": (lambda x, i: x.gather(0, i), X, I0.astype(np.int32)),
    "gather_3d": (lambda x, i: x.gather(1, i), array(2, 3, 4), np.array([[[0, 2, 1, 0]] * 2] * 2)),
    "gather_0d": (lambda x, i: x.gather(0, i), np.array(1.5), np.array([0, 0])),
    # scatter
    "scatter_src": (lambda x, i, s: x.scatter(0, i, s), X, U0, array(2, 4)),
    "scatter_value": (lambda x, i: x.scatter(1, i, 2.5), X, I1),
    "scatter_value_kw": (with_lib(lambda L, x, i: L.scatter(x, 0, i, value=-1)), X, I0),
    "scatter_inplace": (lambda x, i, s: (x * 1).scatter_(0, i, s), X, U0, array(2, 4)),
    "scatter_inplace_value": (lambda x, i: (x * 1).scatter_(0, i, 0.5), X, I0),
    "scatter_src_only": (lambda x, i, s: x.detach().scatter(0, i, s), X, U0, array(2, 4)),
    # scatter_add
    "scatter_add": (lambda x, i, s: x.scatter_add(0, i, s), X, I0, array(2, 4)),
    "scatter_add_fn": (with_lib(lambda L, x, i, s: L.scatter_add(x, 1, i, s)), X, I1, array(2, 3)),
    "scatter_add_": (lambda x, i, s: (x * 1).scatter_add_(0, i, s), X, I0, array(2, 4)),
    # index_select
    "index_select": (lambda x, i: x.index_select(0, i), X, np.array([2, 0, 2])),
    "index_select_dim1": (with_lib(lambda L, x, i: L.index_select(x, 1, i)), X, V),
    "index_select_0d_index": (lambda x, i: x.index_select(1, i), X, np.array(3)),
    "index_select_int32": (lambda x, i: x.index_select(1, i), X, V.astype(np.int32)),
    # index_add / index_copy / index_fill
    "index_add": (lambda x, i, s: x.index_add(1, i, s), X, V, array(3, 4)),
    "index_add_alpha": (lambda x, i, s: x.index_add(0, i, s, alpha=-2.0), X, np.array([1, 1]),
                        array(2, 4)),
    "index_add_": (lambda x, i, s: (x * 1).index_add_(0, i, s), X, np.array([0, 2]), array(2, 4)),
    "index_copy": (lambda x, i, s: x.index_copy(1, i, s), X, np.array([3, 0]), array(3, 2)),
    "index_copy_": (lambda x, i, s: (x * 1).index_copy_(0, i, s), X, np.array([2]), array(1, 4)),
    "index_fill": (lambda x, i: x.index_fill(1, i, -1.5), X, np.array([0, 3, -1])),
    "index_fill_tensor": (lambda x, i, v: x.index_fill(0, i, v), X, np.array([1, 1, 2]),
                          np.array(0.5)),
    "index_fill_": (lambda x, i: (x * 1).index_fill_(1, i, 2), X, np.array([1])),
    # masked
    "masked_fill": (lambda x, m: x.masked_fill(m, 0.25), X, MASK),
    "masked_fill_bcast_mask": (lambda x, m: x.masked_fill(m, -3), X, MASK[0]),
    "masked_fill_bcast_self": (lambda x, m: x.masked_fill(m, 1.0), array(4), MASK),
    "masked_fill_tensor": (lambda x, m, v: x.masked_fill(m, v), X, MASK, np.array(-0.75)),
    "masked_fill_fn": (with_lib(lambda L, x, m: L.masked_fill(x, m, 2.0)), X, MASK),
    "masked_fill_": (lambda x, m: (x * 1).masked_fill_(m, 7.0), X, MASK[1]),
    "masked_select": (lambda x, m: x.masked_select(m), X, MASK),
    "masked_select_bcast": (with_lib(lambda L, x, m: L.masked_select(x, m)), array(4), MASK),
    "masked_select_bcast_mask": (lambda x, m: x.masked_select(m), X, MASK[:1]),
    "masked_scatter": (lambda x, m, s: x.masked_scatter(m, s), X, MASK, array(3, 5)),
    "masked_scatter_bcast": (lambda x, m, s: x.masked_scatter(m, s), array(4), MASK, array(13)),
    "masked_scatter_": (lambda x, m, s: (x * 1).masked_scatter_(m, s), X, MASK[0], array(12)),
    # take / take_along_dim / put
    "take": (lambda x, i: x.take(i), X, np.array([[0, 11], [-1, 5], [5, 3]])),
    "take_fn": (with_lib(lambda L, x, i: L.take(x, i)), X, np.array(7)),
    "take_along_dim": (with_lib(lambda L, x, i: L.take_along_dim(x, i, 1)), X,
                       np.array([[0, 3], [1, 1], [2, 0]])),
    "take_along_dim_bcast": (with_lib(lambda L, x, i: L.take_along_dim(x, i, 1)), X,
                             np.array([[0, 3]])),
    "take_along_dim_wraps": (with_lib(lambda L, x, i: L.take_along_dim(x, i, 1)), X,
                             np.array([[-1, 7], [0, -5], [3, 4]])),
    "take_along_dim_method": (lambda x, i: x.take_along_dim(i, 0), X, np.array([[2], [0]])),
    "put": (lambda x, i, s: x.put(i, s), X, np.array([[0, -1], [5, 6]]), array(4)),
    "put_accumulate": (with_lib(lambda L, x, i, s: L.put(x, i, s, accumulate=True)), X,
                       np.array([1, 1, 3]), array(3)),
    "put_": (lambda x, i, s: (x * 1).put_(i, s), X, np.array([2, 9]), array(1, 2)),
}


@pytest.mark.parametrize("name", OPS)
def test_op(name):
    fn, *inputs = OPS[name]
    check_op(fn, *inputs)


REDUCE = [(r, s) for r in ("sum", "prod", "mean", "amax", "amin") for s in (True, False)]


@pytest.mark.parametrize("reduce,include_self", REDUCE)
def test_scatter_reduce(reduce, include_self):
    def fn(x, i, s):
        return x.scatter_reduce(0, i, s, reduce, include_self=include_self)

    check_op(fn, X, I0, array(2, 4, away_from_zero=0.3))
    check_op(fn, TIES, I0, SRC_TIES)  # ties share amax / amin gradients evenly
    check_op(with_lib(lambda L, x, i, s: L.scatter_reduce(x, 1, i, s, reduce,
                                                          include_self=include_self)),
             X, I1, array(2, 3))
    check_op(lambda x, i, s: (x * 1).scatter_reduce_(0, i, s, reduce, include_self=include_self),
             X, I0, array(2, 4))


def test_take_along_dim_flattened():
    # without dim, PyTorch views the input as 1-D: a transposed input is an error
    check_op(with_lib(lambda L, x, i: L.take_along_dim(x, i)), X, np.array([11, 0, 4]),
             noncontig=False)
    check_error(lambda L: L.take_along_dim(L.ones(3, 4).t(), L.tensor([1])))


def test_src_larger_than_index():
    # PyTorch's backward fails here (a src gradient of the index's shape): compare the forward,
    # check dyngrad's gradient (zero outside the index's reach) by finite differences.
    i = np.array([[3, 0], [1, 2]])
    cases = [lambda x, s, i: x.scatter(1, i, s), lambda x, s, i: x.scatter_add(1, i, s),
             lambda x, s, i: x.scatter_reduce(1, i, s, "amax", include_self=False),
             lambda x, s, i: x.scatter_reduce(1, i, s, "prod")]
    for fn in cases:
        check_op(fn, X, array(3, 5), i, grad=False)
        fd_check(lambda x, s, fn=fn: fn(x, s, dyngrad.from_numpy(i)), X, array(3, 5))


def test_scatter_reduce_prod_zeros():
    x = np.array([[0.0, 2.0, 3.0], [1.5, 0.0, -1.0]])
    src = np.array([[2.0, 0.0, 0.5], [0.0, 3.0, 2.0]])
    idx = np.array([[0, 1, 0], [1, 1, 0]])
    for include_self in (True, False):
        check_op(lambda x, i, s, inc=include_self: x.scatter_reduce(0, i, s, "prod",
                                                                    include_self=inc),
                 x, idx, src, dtypes=(np.float64,))


@pytest.mark.parametrize("reduce,include_self", [r for r in REDUCE if r[0] != "sum"])
def test_index_reduce(reduce, include_self):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "index_reduce() is in beta"
        check_op(lambda x, i, s: x.index_reduce(0, i, s, reduce, include_self=include_self),
                 X, np.array([2, 0, 2]), array(3, 4, away_from_zero=0.3))
        check_op(with_lib(lambda L, x, i, s: L.index_reduce(x, 1, i, s, reduce,
                                                            include_self=include_self)),
                 TIES, np.array([1, 1]), TIES[:, :2].copy())


def test_scatter_with_reduce():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reduce argument with a src tensor is deprecated
        for reduce in ("add", "multiply"):
            check_op(lambda x, i, s, r=reduce: x.scatter(0, i, s, reduce=r), X, I0, array(2, 4),
                     grad=False)
            check_op(lambda x, i, r=reduce: x.scatter(1, i, 1.5, reduce=r), X, I1, grad=False)

    def prog(lib):
        x = lib.ones(3, 4, requires_grad=True)
        y = x.scatter(0, lib.tensor([[0, 1]]), 2.0, reduce="add")
        return y.sum().backward()

    check_error(prog)


def test_finite_differences():
    i = dyngrad.tensor(I0)
    fd_check(lambda x, s: x.scatter_reduce(0, i, s, "amax", include_self=False), X, array(2, 4))
    fd_check(lambda x, s: x.scatter_reduce(0, i, s, "prod"), X, array(2, 4, away_from_zero=0.3))
    fd_check(lambda x, s: x.scatter_reduce(0, i, s, "mean"), X, array(2, 4))
    fd_check(lambda x: x.gather(1, dyngrad.tensor(I1)), X)
    fd_check(lambda x, s: x.masked_scatter(dyngrad.from_numpy(MASK), s), X, array(12))


def test_integer_and_bool_values():
    ints = np.arange(12).reshape(3, 4)
    cases = [
        lambda x, i: x.scatter_reduce(0, i, x[:2], "mean"),
        lambda x, i: x.scatter_reduce(0, i, -x[:2], "mean", include_self=False),
        lambda x, i: x.scatter_reduce(0, i, x[:2], "amin", include_self=False),
        lambda x, i: x.scatter_reduce(0, i, x[:2] - 5, "amax", include_self=False),
        lambda x, i: x.scatter(0, i, 7),
        lambda x, i: x.masked_fill(x > 4, 2.7),
        lambda x, i: x.index_fill(1, i[0], -1),
        lambda x, i: x.scatter_add(1, i, x[:2]),
        lambda x, i: x.put(i[0], x[0], accumulate=True),
        lambda x, i: x.index_add(0, i[0, :2], x[:2], alpha=1.5),  # alpha is cast to int first
        lambda x, i: x.index_add(1, i[1], x[:, :4], alpha=-2.7),
    ]
    for fn in cases:
        check_op(fn, ints, I0)
    check_op(lambda b, i: b.masked_fill(~b, True), MASK, I0)
    check_op(lambda b, i: b.gather(0, i), MASK, I0)


def test_nonzero_argwhere():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    check_op(with_lib(lambda L, x: L.nonzero(x)), a, requires_grad=[False])
    check_op(lambda x: x.nonzero(as_tuple=True), a, requires_grad=[False])
    check_op(with_lib(lambda L, x: L.argwhere(x)), a, requires_grad=[False])
    check_op(lambda x: x.argwhere(), a[0], requires_grad=[False])
    check_op(lambda x: x.nonzero(), np.array(2.0), requires_grad=[False])
    check_op(lambda x: x.nonzero(as_tuple=True), np.array(0.0), requires_grad=[False])
    check_op(lambda x: x.nonzero(), np.zeros((2, 0, 3)), requires_grad=[False])
    check_op(with_lib(lambda L, x: L.where(x > 0)), a, requires_grad=[False])


def test_block_diag():
    check_op(with_lib(lambda L, a, b, c: L.block_diag(a, b, c)), array(2, 3), array(2),
             np.array(1.5))
    check_op(with_lib(lambda L, a, b: L.block_diag(a, b)), array(1, 2),
             np.array([[1, 2]], dtype=np.int64))
    check_op(with_lib(lambda L, a, b: L.block_diag(a, b)), np.zeros((0, 3)), array(2, 2))
    check_op(with_lib(lambda L: L.block_diag()))


def test_meshgrid_cartesian_combinations():
    a, b, c = array(3), array(2), array(4)
    for ix in ("ij", "xy"):
        check_op(with_lib(lambda L, x, y, z, ix=ix: L.meshgrid(x, y, z, indexing=ix)), a, b, c)
        check_op(with_lib(lambda L, x, y, ix=ix: L.meshgrid([x, y], indexing=ix)), a,
                 np.array(1.0))
        check_op(with_lib(lambda L, x, ix=ix: L.meshgrid(x, indexing=ix)), a)
    check_op(with_lib(lambda L, x, y, z: L.cartesian_prod(x, y, z)), a, b, c)
    check_op(with_lib(lambda L, x: L.cartesian_prod(x)), a)
    check_op(with_lib(lambda L, x, y: L.cartesian_prod(x, y)), np.array([1, 2]),
             np.array([3, 4, 5]))
    for r in (0, 1, 2, 3, 5):
        for rep in (False, True):
            fn = with_lib(lambda L, x, r=r, rep=rep: L.combinations(x, r, with_replacement=rep))
            check_op(fn, c)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grids = dyngrad.meshgrid(dyngrad.ones(2), dyngrad.ones(3))
    assert grids[0].shape == (2, 3) and "indexing argument" in str(caught[0].message)


def test_tril_triu_indices():
    def prog(lib):
        out = []
        for args in ((3, 3), (3, 4, -1), (4, 3, 1), (0, 4), (3, 3, 10), (3, 3, -10), (1, 1)):
            out += [lib.tril_indices(*args), lib.triu_indices(*args)]
        return out + [lib.tril_indices(3, 2, dtype=lib.int32)]

    assert_same_outputs(prog(dyngrad), prog(torch), "tri indices")


def test_inplace_version_and_views():
    def prog(lib):
        base = lib.zeros(3, 4)
        x = lib.arange(12.0).reshape(3, 4).requires_grad_()
        y = x * 1
        v = y[1:]
        v.scatter_(1, lib.tensor([[0], [3]]), lib.tensor([[5.0], [6.0]]))
        v.masked_fill_(v > 8, 0.0)
        base.index_add_(0, lib.tensor([0, 0]), lib.ones(2, 4))
        base.put_(lib.tensor([11]), lib.tensor([4.0]))
        (y * y).sum().backward()
        return [y, x.grad, type(y.grad_fn).__name__, type(v.grad_fn).__name__, base,
                base._version, y._version]

    assert_same_outputs(prog(dyngrad), prog(torch), "in place")


def test_out_arguments():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4)
        i = lib.tensor([[0, 1, 2, 0]])
        outs = [lib.empty(1, 4) for _ in range(6)]
        lib.gather(x, 0, i, out=outs[0])
        lib.scatter_add(x[:1], 0, i * 0, x[:1], out=outs[1])
        lib.index_select(x, 0, lib.tensor([1]), out=outs[2])
        lib.take_along_dim(x, i, 0, out=outs[3])
        lib.scatter(x[:1], 1, lib.tensor([[1]]), 9.0, out=outs[4])
        lib.index_add(x[:1], 0, lib.tensor([0]), x[:1], out=outs[5])
        sel = lib.empty(0)
        lib.masked_select(x, x > 5, out=sel)
        nz = lib.empty(0, dtype=lib.long)
        lib.nonzero(x > 9, out=nz)
        return outs + [sel, nz]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_outputs(prog(dyngrad), prog(torch), "out=")


def test_double_backward_through_saved_output():
    def prog(lib):
        x = lib.tensor([[1.0, 3.0], [2.0, 0.5]], requires_grad=True)
        s = lib.tensor([[2.0, 0.25]], requires_grad=True)
        y = x.scatter_reduce(0, lib.tensor([[1, 0]]), s, "prod")
        (g,) = lib.autograd.grad((y ** 2).sum(), x, create_graph=True)
        gx, gs = lib.autograd.grad(g.sum(), (x, s))
        return [y, g, gx, gs]

    assert_same_outputs(prog(dyngrad), prog(torch), "prod double backward")


A1 = lambda L: L.ones(3, 4)  # noqa: E731
IX = lambda L, v: L.tensor(v)  # noqa: E731
ERRORS = {
    "gather_oob": lambda L: A1(L).gather(0, IX(L, [[5]])),
    "gather_negative": lambda L: A1(L).gather(1, IX(L, [[-1]])),
    "gather_dtype": lambda L: A1(L).gather(0, IX(L, [[1.0]])),
    "gather_ndim": lambda L: A1(L).gather(0, IX(L, [1])),
    "gather_size": lambda L: A1(L).gather(1, L.zeros(4, 2, dtype=L.long)),
    "gather_dim": lambda L: A1(L).gather(2, IX(L, [[0]])),
    "scatter_oob": lambda L: A1(L).scatter(0, IX(L, [[3]]), 1.0),
    "scatter_src_dtype": lambda L: A1(L).scatter(0, IX(L, [[0]]), L.ones(1, 1, dtype=L.float64)),
    "scatter_src_small": lambda L: A1(L).scatter(0, IX(L, [[0, 1]]), L.ones(1, 1)),
    "scatter_index_large": lambda L: A1(L).scatter(0, L.zeros(2, 5, dtype=L.long), 0.0),
    "scatter_src_ndim": lambda L: A1(L).scatter(0, IX(L, [[0]]), L.tensor(1.0)),
    "scatter_src_1d": lambda L: A1(L).scatter(0, IX(L, [[0]]), L.ones(4)),
    "scatter_index_ndim": lambda L: A1(L).scatter(0, IX(L, [0]), 1.0),
    "scatter_reduce_arg": lambda L: A1(L).scatter(0, IX(L, [[0]]), 1.0, reduce="sum"),
    "scatter_complex_value": lambda L: A1(L).scatter(0, IX(L, [[0]]), 1j),
    "scatter_float_index": lambda L: A1(L).scatter_add(0, IX(L, [[0.0]]), A1(L)),
    "scatter_add_dtype": lambda L: A1(L).scatter_add(0, IX(L, [[0]]), L.ones(3, 4).double()),
    "scatter_add_oob": lambda L: A1(L).scatter_add(1, IX(L, [[0, 4]]), A1(L)),
    "scatter_reduce_bad": lambda L: A1(L).scatter_reduce(0, IX(L, [[0]]), A1(L), "foo"),
    "scatter_reduce_oob": lambda L: A1(L).scatter_reduce(0, IX(L, [[-1]]), A1(L), "sum"),
    "index_select_oob": lambda L: A1(L).index_select(0, IX(L, [3])),
    "index_select_neg": lambda L: A1(L).index_select(0, IX(L, [-1])),
    "index_select_2d": lambda L: A1(L).index_select(0, IX(L, [[0]])),
    "index_select_dtype": lambda L: A1(L).index_select(0, IX(L, [0.0])),
    "index_select_scalar": lambda L: L.tensor(1.0).index_select(0, IX(L, [0, 0])),
    "index_add_dtype": lambda L: A1(L).index_add(0, IX(L, [0]), L.ones(1, 4).double()),
    "index_add_count": lambda L: A1(L).index_add(0, IX(L, [0, 1]), L.ones(3, 4)),
    "index_add_shape": lambda L: A1(L).index_add(0, IX(L, [0, 1]), L.ones(2, 5)),
    "index_add_oob": lambda L: A1(L).index_add(0, IX(L, [0, 3]), L.ones(2, 4)),
    "index_add_neg": lambda L: A1(L).index_add(0, IX(L, [-1]), L.ones(1, 4)),
    "index_add_1d_neg": lambda L: L.ones(3).index_add(0, IX(L, [-1]), L.ones(1)),
    "index_add_2d_index": lambda L: A1(L).index_add(0, IX(L, [[0, 1]]), L.ones(2, 4)),
    "index_add_index_dtype": lambda L: A1(L).index_add(0, IX(L, [0.0]), L.ones(1, 4)),
    "index_copy_dtype": lambda L: A1(L).index_copy(0, IX(L, [0]), L.ones(1, 4).double()),
    "index_copy_count": lambda L: A1(L).index_copy(0, IX(L, [0, 1]), L.ones(3, 4)),
    "index_copy_slice": lambda L: A1(L).index_copy(0, IX(L, [0, 1]), L.ones(2, 5)),
    "index_copy_oob": lambda L: A1(L).index_copy(0, IX(L, [5]), L.ones(1, 4)),
    "index_copy_neg": lambda L: A1(L).index_copy(0, IX(L, [-1]), L.ones(1, 4)),
    "index_copy_int32": lambda L: A1(L).index_copy(0, IX(L, [0]).int(), L.ones(1, 4)),
    "index_fill_oob": lambda L: A1(L).index_fill(1, IX(L, [4]), 1.0),
    "index_fill_neg_oob": lambda L: A1(L).index_fill(1, IX(L, [-5]), 1.0),
    "index_fill_int32": lambda L: A1(L).index_fill(0, IX(L, [0]).int(), 1.0),
    "index_fill_value_dims": lambda L: A1(L).index_fill(0, IX(L, [0]), L.ones(2)),
    "index_fill_2d": lambda L: A1(L).index_fill(0, IX(L, [[0]]), 1.0),
    "index_reduce_sum": lambda L: A1(L).index_reduce(0, IX(L, [0]), L.ones(1, 4), "sum"),
    "masked_fill_mask_dtype": lambda L: A1(L).masked_fill(A1(L), 1.0),
    "masked_fill_mask_uint8": lambda L: A1(L).masked_fill(A1(L).byte(), 1.0),
    "masked_fill_value_dims": lambda L: A1(L).masked_fill(A1(L) > 0, L.ones(1)),
    "masked_fill_shape": lambda L: A1(L).masked_fill(L.ones(3, 2) > 0, 1.0),
    "masked_fill_overflow": lambda L: A1(L).masked_fill(A1(L) > 0, 1e300),
    "masked_fill_int8_overflow": lambda L: A1(L).char().masked_fill(A1(L) > 0, 1000),
    "masked_fill_int_nan": lambda L: A1(L).long().masked_fill(A1(L) > 0, float("nan")),
    "masked_fill_complex": lambda L: A1(L).masked_fill(A1(L) > 0, 2j),
    "masked_fill__broadcast": lambda L: L.ones(4).masked_fill_(A1(L) > 0, 1.0),
    "masked_fill__shape": lambda L: L.ones(2, 4).masked_fill_(A1(L) > 0, 1.0),
    "masked_fill__mask_shape": lambda L: A1(L).masked_fill_(L.ones(3, 2) > 0, 1.0),
    "masked_scatter__expand": lambda L: L.ones(2, 4).masked_scatter_(A1(L) > 0, L.ones(12)),
    "masked_scatter__expand1": lambda L: L.ones(1, 4).masked_scatter_(A1(L) > 0, L.ones(12)),
    "index_add_complex_alpha": lambda L: A1(L).index_add(0, IX(L, [0]), L.ones(1, 4), alpha=1j),
    "masked_select_mask": lambda L: A1(L).masked_select(A1(L)),
    "masked_select_shape": lambda L: A1(L).masked_select(L.ones(2, 4) > 0),
    "masked_scatter_count": lambda L: A1(L).masked_scatter(A1(L) > 0, L.ones(11)),
    "masked_scatter_dtype": lambda L: A1(L).masked_scatter(A1(L) > 0, L.ones(12).double()),
    "masked_scatter_mask": lambda L: A1(L).masked_scatter(A1(L), L.ones(12)),
    "masked_scatter__broadcast": lambda L: L.ones(4).masked_scatter_(A1(L) > 0, L.ones(12)),
    "take_oob": lambda L: A1(L).take(IX(L, [12])),
    "take_neg_oob": lambda L: A1(L).take(IX(L, [0, -13])),
    "take_int32": lambda L: A1(L).take(IX(L, [0]).int()),
    "take_along_dim_dtype": lambda L: L.take_along_dim(A1(L), IX(L, [[0]]).int(), 0),
    "take_along_dim_ndim": lambda L: L.take_along_dim(A1(L), IX(L, [0]), 0),
    "take_along_dim_shape": lambda L: L.take_along_dim(A1(L), L.zeros(2, 3, dtype=L.long), 0),
    "put_oob": lambda L: A1(L).put(IX(L, [12]), L.ones(1)),
    "put_count": lambda L: A1(L).put(IX(L, [1, 2]), L.ones(3)),
    "put_dtype": lambda L: A1(L).put(IX(L, [1]), L.ones(1).double()),
    "put_int32": lambda L: A1(L).put(IX(L, [1]).int(), L.ones(1)),
    "index_select_dim1_oob": lambda L: A1(L).index_select(1, IX(L, [0, 4])),
    "index_select_3d_dim1_oob": lambda L: L.ones(2, 3, 2).index_select(1, IX(L, [-1])),
    "index_select_3d_dim2_oob": lambda L: L.ones(2, 3, 2).index_select(2, IX(L, [2])),
    "index_select_empty_axis": lambda L: L.ones(3, 0).index_select(1, IX(L, [0])),
    "index_select_empty_self": lambda L: L.ones(0, 3).index_select(0, IX(L, [0])),
    "index_add_alpha_oob": lambda L: A1(L).index_add(0, IX(L, [3]), L.ones(1, 4), alpha=2),
    "index_add_middle_dim_oob": lambda L: L.ones(2, 3, 2).index_add(1, IX(L, [3]),
                                                                    L.ones(2, 1, 2)),
    "index_add_source_dim": lambda L: L.ones(3, 1).index_add(1, IX(L, [0, 0, 1]), L.ones(3)),
    "index_add_scalar_source": lambda L: L.ones(3).index_add(0, IX(L, [0, 1]), L.tensor(1.0)),
    "index_add_0d_source_shape": lambda L: L.ones(3).index_add(0, IX(L, [1]), L.tensor(1.0)),
    "index_reduce_oob": lambda L: A1(L).index_reduce(1, IX(L, [4]), L.ones(3, 1), "amax"),
    "index_reduce_oob_no_self": lambda L: A1(L).index_reduce(1, IX(L, [4]), L.ones(3, 1), "amax",
                                                             include_self=False),
    "index_reduce_neg_no_self": lambda L: A1(L).index_reduce(1, IX(L, [-1]), L.ones(3, 1), "mean",
                                                             include_self=False),
    "index_fill_value_first": lambda L: L.ones(2).index_fill(5, IX(L, [[0]]), L.ones(2)),
    "index_copy_scalar_source": lambda L: L.ones(3).index_copy(0, IX(L, [0, 1]), L.tensor(1.0)),
    "index_copy_slices": lambda L: L.ones(3, 4, 5).index_copy(1, IX(L, [0]), L.ones(2, 1, 6)),
    "masked_fill_int_value_grad": lambda L: L.arange(4).masked_fill(
        L.arange(4) > 1, L.tensor(2.5, requires_grad=True)),
    "index_fill_bool_value_grad": lambda L: L.ones(2, dtype=L.bool).index_fill(
        0, IX(L, [0]), L.tensor(2.5, requires_grad=True)),
    "take_empty": lambda L: L.ones(0).take(IX(L, [0])),
    "put_empty": lambda L: L.ones(0).put(IX(L, [0]), L.ones(1)),
    "take_along_dim_0d": lambda L: L.take_along_dim(L.tensor(1.0), L.tensor(0), -1),
    "block_diag_3d": lambda L: L.block_diag(L.ones(2, 2, 2)),
    "cartesian_prod_2d": lambda L: L.cartesian_prod(L.ones(2, 2)),
    "cartesian_prod_dtype": lambda L: L.cartesian_prod(L.ones(2), L.ones(2).double()),
    "combinations_2d": lambda L: L.combinations(L.ones(2, 2)),
    "combinations_negative": lambda L: L.combinations(L.ones(2), -1),
    "meshgrid_indexing": lambda L: L.meshgrid(L.ones(2), L.ones(3), indexing="foo"),
    "meshgrid_dtype": lambda L: L.meshgrid(L.ones(2), L.ones(3).double(), indexing="ij"),
    "meshgrid_empty": lambda L: L.meshgrid(indexing="ij"),
    "tril_indices_row": lambda L: L.tril_indices(-1, 3),
    "triu_indices_col": lambda L: L.triu_indices(3, -2),
    "tril_indices_dtype": lambda L: L.tril_indices(3, 3, dtype=L.float32),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_error(ERRORS[name])


def test_meshgrid_2d_error():
    check_error(lambda L: L.meshgrid(L.ones(2, 2), indexing="ij"), match="type")


# --- nonzero_static ----------------------------------------------------------------------------
NONZERO_STATIC = {
    "padded": lambda t: t.nonzero_static(t.tensor([0, 1, 0, 2]), size=3),
    "cut": lambda t: t.nonzero_static(t.tensor([0, 1, 0, 2]), size=1),
    "fill_value": lambda t: t.nonzero_static(t.tensor([[0, 1], [3, 0]]), size=3, fill_value=-5),
    "scalar": lambda t: t.nonzero_static(t.tensor(5), size=2),
    "method": lambda t: t.tensor([0.0, 1.5]).nonzero_static(size=2),
    "zero_size": lambda t: t.nonzero_static(t.tensor([1, 1]), size=0),
    "bool": lambda t: t.nonzero_static(t.tensor([[True, False], [True, True]]), size=4),
}


@pytest.mark.parametrize("name", NONZERO_STATIC)
def test_nonzero_static(name):
    assert_same_outputs(NONZERO_STATIC[name](dyngrad), NONZERO_STATIC[name](torch), name)


@pytest.mark.parametrize("fn", [
    lambda t: t.nonzero_static(t.tensor([0, 1]), size=-1),
    lambda t: t.nonzero_static(t.tensor([0.0, 1.0]), size=2, fill_value=1.5),
])
def test_nonzero_static_errors(fn):
    check_error(fn)
