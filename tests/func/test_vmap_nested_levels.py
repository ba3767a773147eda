"""Nested vmap with operands batched at different levels, compared with torch.func.vmap.

The case behind these tests: the outer vmap batches an index, the inner one the data
(`vmap(lambda i: vmap(lambda v: v[i])(x))(idx)`). Indexing data with an index batched at a level
the data is not batched at first lifts the data to that level (`vmap.lift`). The lift wrapped the
data, batched at the higher (inner) level, inside the lower (outer) level, against the invariant
that a BatchedArray's value holds only lower levels: the inner vmap then did not find its level
at the top, and the result left both vmaps with a batched array as its data (or, under grad,
with wrong values). Every result here must leave the outermost vmap as a plain NumPy array.
"""

import numpy as np
import pytest
import torch

import dyngrad as dg
from dyngrad.func import _batched
from dyngrad.func._batched import BatchedArray, new_level
from tests.harness import assert_same_values

rng = np.random.default_rng(2024)
X = rng.standard_normal((4, 5))
S = rng.standard_normal(3)
W = rng.standard_normal((3, 5))
M = rng.standard_normal((5, 6))
C = np.array([True, False, True])
IDX1 = np.array([[0], [3], [1]])
IDX2 = np.array([[0, 4], [3, 1], [1, 2]])


def _cases(lib):
    """name -> f(t) with t turning a NumPy array into a `lib` tensor."""
    vmap = lib.func.vmap

    def grad(f):
        return lib.func.grad(f)

    return {
        # outer level batches the index, inner level the data
        "index_1d": lambda t: vmap(lambda i: vmap(lambda v: v[i])(t(X)))(t(IDX1)),
        "index_2d": lambda t: vmap(lambda i: vmap(lambda v: v[i])(t(X)))(t(IDX2)),
        "index_slice": lambda t: vmap(lambda i: vmap(lambda v: v[None, i])(t(X)))(t(IDX2)),
        "index_captured": lambda t: vmap(
            lambda i: vmap(lambda v: t(M)[i] * v.sum())(t(X)))(t(IDX2)),
        "index_inner_idx": lambda t: vmap(lambda v: vmap(lambda i: v[i])(t(IDX2)))(t(X)),
        "embedding": lambda t: vmap(lambda i: vmap(
            lambda v: lib.nn.functional.embedding(i, v.reshape(5, 1) * t(M)))(t(X)))(t(IDX2)),
        "gather": lambda t: vmap(lambda i: vmap(lambda v: lib.gather(v, 0, i))(t(X)))(t(IDX2)),
        "index_select": lambda t: vmap(
            lambda i: vmap(lambda v: lib.index_select(v, 0, i))(t(X)))(t(IDX2)),
        "take_along_dim": lambda t: vmap(
            lambda i: vmap(lambda v: lib.take_along_dim(v, i, 0))(t(X)))(t(IDX2)),
        # outer-batched scalars and tensors with inner-batched data
        "mul": lambda t: vmap(lambda s: vmap(lambda v: v * s)(t(X)))(t(S)),
        "rmul": lambda t: vmap(lambda s: vmap(lambda v: s * v)(t(X)))(t(S)),
        "matmul": lambda t: vmap(lambda w: vmap(lambda v: v @ w)(t(X)))(t(W)),
        "rmatmul": lambda t: vmap(lambda w: vmap(lambda v: w @ v)(t(X)))(t(W)),
        "where": lambda t: vmap(
            lambda c, s: vmap(lambda v: lib.where(c, v, s))(t(X)))(t(C), t(S)),
        "where_inner_cond": lambda t: vmap(
            lambda s: vmap(lambda v: lib.where(v > 0, s, v))(t(X)))(t(S)),
        "stack": lambda t: vmap(lambda w: vmap(lambda v: lib.stack([v, w]))(t(X)))(t(W)),
        "stack_outer_first": lambda t: vmap(
            lambda w: vmap(lambda v: lib.stack([w, v, w], 1))(t(X)))(t(W)),
        "cat": lambda t: vmap(lambda w: vmap(lambda v: lib.cat([w, v]))(t(X)))(t(W)),
        "sum": lambda t: vmap(lambda w: vmap(lambda v: (v * w).sum())(t(X)))(t(W)),
        "sum_dim": lambda t: vmap(lambda w: vmap(lambda v: (v + w).sum(0))(t(X)))(t(W)),
        "amax_mean": lambda t: vmap(
            lambda w: vmap(lambda v: (v - w).amax() + w.mean())(t(X)))(t(W)),
        # in_dims and out_dims
        "in_dims_1": lambda t: vmap(
            lambda w: vmap(lambda v: v * w, in_dims=1)(t(X.T)), in_dims=1)(t(W.T)),
        "out_dims_1": lambda t: vmap(
            lambda w: vmap(lambda v: v * w, out_dims=1)(t(X)), out_dims=1)(t(W)),
        "in_dims_none": lambda t: vmap(
            lambda w, x: vmap(lambda v, u: v * u, in_dims=(0, None))(x, w),
            in_dims=(0, None))(t(W), t(X)),
        "index_in_dims_1": lambda t: vmap(
            lambda i: vmap(lambda v: v[i], in_dims=1)(t(X.T)), in_dims=1)(t(IDX2.T)),
        # three levels
        "three_idx_s_x": lambda t: vmap(lambda i: vmap(
            lambda s: vmap(lambda v: v[i] * s)(t(X)))(t(S[:2])))(t(IDX2)),
        "three_x_s_idx": lambda t: vmap(lambda v: vmap(
            lambda s: vmap(lambda i: v[i] * s)(t(IDX2)))(t(S[:2])))(t(X)),
        "three_s_idx_x": lambda t: vmap(lambda s: vmap(
            lambda i: vmap(lambda v: v[i] + s)(t(X)))(t(IDX2)))(t(S[:2])),
        "three_s_x_idx": lambda t: vmap(lambda s: vmap(
            lambda v: vmap(lambda i: (v * s)[i])(t(IDX2)))(t(X)))(t(S[:2])),
        # gradients through the lifted data
        "vmap_grad_inner": lambda t: vmap(
            lambda i: vmap(grad(lambda v: (v[i] ** 2).sum()))(t(X)))(t(IDX2)),
        "vmap_grad_outer": lambda t: vmap(
            grad(lambda x, i: vmap(lambda v: v[i])(x).pow(2).sum()),
            in_dims=(None, 0))(t(X), t(IDX2)),
        "grad_of_nested": lambda t: grad(lambda x: vmap(
            lambda i: vmap(lambda v: v[i] * v.sum())(x))(t(IDX2)).pow(2).sum())(t(X)),
        "jacrev_of_nested": lambda t: lib.func.jacrev(
            lambda x: vmap(lambda i: vmap(lambda v: v[i])(x))(t(IDX2)))(t(X)),
    }


def _leaves(out):
    return list(out) if isinstance(out, tuple | list) else [out]


@pytest.mark.parametrize("name", list(_cases(torch)))
def test_nested_levels_match_torch(name):
    expected = _cases(torch)[name](torch.tensor)
    got = _cases(dg)[name](dg.tensor)
    for g, e in zip(_leaves(got), _leaves(expected), strict=True):
        assert type(g._data) is np.ndarray, f"{name}: data left vmap as {type(g._data)}"
        assert_same_values(g, e, name, rtol=1e-12, atol=1e-14)


def test_issue_example_values():
    x = dg.tensor(X)
    idx = dg.tensor(IDX1)
    r = dg.func.vmap(lambda i: dg.func.vmap(lambda v: v[i])(x))(idx)
    assert type(r._data) is np.ndarray
    np.testing.assert_array_equal(r._data[..., 0], X[:, IDX1[:, 0]].T)


def _check_order(a) -> None:
    """Each BatchedArray's value holds only lower levels."""
    chain = _batched._chain(a)
    assert [b.level for b in chain] == sorted((b.level for b in chain), reverse=True)


def test_lift_keeps_higher_levels_outside():
    lo, hi, mid, top = new_level(), new_level(), new_level(), new_level()
    inner = BatchedArray(X.copy(), hi)  # 4 samples of (5,) at the higher level
    lifted = _batched.lift(inner, lo, 3)
    _check_order(lifted)
    assert lifted.level == hi and lifted.value.level == lo
    assert lifted.value.value.shape == (3, 4, 5)
    np.testing.assert_array_equal(lifted.value.value, np.broadcast_to(X, (3, 4, 5)))
    # above its highest level, the lift goes outside; at a level it has, nothing changes
    assert _batched.lift(inner, top, 2).level == top
    _check_order(_batched.lift(inner, top, 2))
    assert _batched.lift(inner, hi, 4) is inner
    both = _batched.add_batch_dim(BatchedArray(np.zeros((2, 4, 5)), lo), 0, top)
    lifted = _batched.lift(both, mid, 6)
    _check_order(lifted)
    assert [b.level for b in _batched._chain(lifted)] == [top, mid, lo]
