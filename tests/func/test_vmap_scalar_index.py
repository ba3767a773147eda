"""vmap over indexing with a batched 0-dim integer index tensor (each sample a scalar index).

Outside vmap PyTorch takes a 0-dim integer index tensor as an int (a view, the dim dropped);
under vmap, where each sample's index differs, its batching rule takes it as an advanced index
(NumPy's rules: a copy, placed first when the advanced indices are not adjacent). dyngrad gives
torch's per-sample shapes and values, reads and writes, gradients and out-of-range errors.
"""

import numpy as np
import pytest
import torch

import dyngrad as dg
from tests.harness import assert_same_values

rng = np.random.default_rng(7)
X = rng.standard_normal((5, 3))
Y = rng.standard_normal((2, 3, 4, 5))
IDX = np.array([4, 0, 2])
IDX5 = np.array([0, 2, 1, 1, 2])  # one index < 3 per row of X


def _same(got, expected, label):
    assert type(got._data) is np.ndarray
    assert_same_values(got, expected, label, rtol=1e-12, atol=1e-14)


def _both(run):
    """run(lib, vmap) for torch and dyngrad, compared."""
    expected = run(torch, torch.func)
    got = run(dg, dg.func)
    _same(got, expected, "")
    return got


def _setitem(v, i):
    v = v.clone()
    v[i] = 0
    return v


def _setitem_row(v, i):
    v = v.clone()
    v[i, 1] = v[0, 0] * 2
    return v


def _index_put(lib):
    return lambda v, i: lib.index_put(v, (i,), lib.tensor(3.0, dtype=lib.float64))


READS = {  # name -> run(lib, func)
    "rows": lambda L, F: F.vmap(lambda i: L.tensor(X)[i])(L.tensor(IDX)),
    "element": lambda L, F: F.vmap(lambda i: L.tensor(X)[i, 1])(L.tensor(IDX)),
    "column": lambda L, F: F.vmap(lambda i: L.tensor(X)[:, i])(L.tensor([2, 0, 1])),
    "batched_data": lambda L, F: F.vmap(lambda v, i: v[i])(L.tensor(X.T.copy()), L.tensor(IDX)),
    "argmax": lambda L, F: F.vmap(lambda v: v[v.argmax()])(L.tensor(X)),
    "argmax_rows": lambda L, F: F.vmap(lambda v: v[v.sum(1).argmin(), 1:])(L.tensor(Y[0])),
    "int32": lambda L, F: F.vmap(lambda i: L.tensor(X)[i])(L.tensor(IDX, dtype=L.int32)),
    "in_dims_1": lambda L, F: F.vmap(lambda i: L.tensor(X)[i], in_dims=1)(L.tensor(IDX[None])),
    "in_dims_none": lambda L, F: F.vmap(lambda v, i: v[i], in_dims=(0, None))(
        L.tensor(Y[0]), L.tensor(2)),
    "out_dims_1": lambda L, F: F.vmap(lambda i: L.tensor(X)[i], out_dims=1)(L.tensor(IDX)),
    # Advanced-index placement, as PyTorch's batching rule (it differs from the eager shape):
    "mixed_slice": lambda L, F: F.vmap(lambda i: L.tensor(Y)[:, i, :, [0, 1]])(L.tensor([1, 2])),
    "mixed_front": lambda L, F: F.vmap(lambda i: L.tensor(Y)[i, :, [0, 1]])(L.tensor([1, 0])),
    "mixed_adjacent": lambda L, F: F.vmap(lambda i: L.tensor(Y)[[0, 1], i])(L.tensor([1, 2])),
    "mixed_last": lambda L, F: F.vmap(lambda i: L.tensor(Y)[:, [0, 1], :, i])(L.tensor([1, 4])),
    "none_ellipsis": lambda L, F: F.vmap(lambda i: L.tensor(Y)[None, i, ..., None])(
        L.tensor([1, 0])),
    "two_scalars": lambda L, F: F.vmap(lambda i, j: L.tensor(Y)[i, :, j])(
        L.tensor([1, 0]), L.tensor([3, 2])),
    "nested": lambda L, F: F.vmap(F.vmap(lambda i: L.tensor(X)[i]))(L.tensor([[4, 0], [1, 2]])),
    "nested_outer_data": lambda L, F: F.vmap(lambda v: F.vmap(lambda i: v[i])(L.tensor([2, 0])))(
        L.tensor(X)),
    "nested_outer_index": lambda L, F: F.vmap(lambda i: F.vmap(lambda v: v[i])(L.tensor(Y[0])))(
        L.tensor([2, 0])),
    "nested_both": lambda L, F: F.vmap(F.vmap(lambda v, i: v[:, i]))(
        L.tensor(Y[:, :2]), L.tensor([[1, 3], [0, 2]])),
    "setitem": lambda L, F: F.vmap(_setitem)(L.tensor(X), L.tensor(IDX5)),
    "setitem_row": lambda L, F: F.vmap(_setitem_row)(L.tensor(Y[0]), L.tensor([3, 0, 1])),
    "setitem_in_dims": lambda L, F: F.vmap(_setitem, in_dims=(1, 0))(
        L.tensor(X.T), L.tensor(IDX5)),
    "index_put": lambda L, F: F.vmap(_index_put(L))(L.tensor(X), L.tensor(IDX5)),
}


@pytest.mark.parametrize("name", list(READS))
def test_values(name):
    _both(READS[name])


def test_eager_unchanged():
    """Without vmap a 0-dim index tensor is an int: a view, sharing the version counter."""
    x = dg.tensor(X, requires_grad=True)
    y = x * 1
    v = y[dg.tensor(2)]
    assert v._base is y and v.shape == (3,)
    assert type(v.grad_fn).__name__ == "SelectBackward0"
    v.mul_(2)
    assert v._version == y._version == 1
    t = torch.tensor(X, requires_grad=True) * 1
    assert type(t[torch.tensor(2)].grad_fn).__name__ == "SelectBackward0"


def _loss(lib):
    return lambda v, i: (v[i] ** 2).sum() * v.sum()


def _loss_put(v, i):
    w = v * 2
    w[i] = 0.0
    return (w ** 2).sum()


def _per_sample(transform, fn, x, i):
    """torch reference for vmap(transform(fn)): PyTorch 2.13 raises the .item() error there, so
    transform(fn) of each sample, stacked."""
    return torch.stack([transform(fn)(x[k], i[k]) for k in range(len(x))])


@pytest.mark.parametrize("fn", ["loss", "put", "argmax"])
def test_vmap_grad(fn):
    fns = {"loss": _loss(torch), "put": _loss_put,
           "argmax": lambda v, i: v[v.argmax()] ** 2 + v.sum() * i}
    dfns = {"loss": _loss(dg), "put": _loss_put,
            "argmax": lambda v, i: v[v.argmax()] ** 2 + v.sum() * i}
    expected = _per_sample(torch.func.grad, fns[fn], torch.tensor(X), torch.tensor(IDX5))
    got = dg.func.vmap(dg.func.grad(dfns[fn]))(dg.tensor(X), dg.tensor(IDX5))
    _same(got, expected, fn)
    for name in ("jacrev", "jacfwd"):
        jac = _per_sample(getattr(torch.func, name), fns[fn], torch.tensor(X), torch.tensor(IDX5))
        got = dg.func.vmap(getattr(dg.func, name)(dfns[fn]))(dg.tensor(X), dg.tensor(IDX5))
        _same(got, jac, f"{fn} {name}")


def test_vmap_grad_raises_in_torch():
    """(Why the references above are loops: PyTorch refuses vmap of grad here.)"""
    with pytest.raises(RuntimeError, match=r"\.item\(\)"):
        torch.func.vmap(torch.func.grad(lambda v: v[v.argmax()] ** 2))(torch.tensor(X))


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd"])
def test_transform_of_vmap(transform):
    def run(L, F):
        def f(x):
            out = F.vmap(lambda i: x[i] * x[i, 0])(L.tensor(IDX))
            return (out ** 2).sum() if transform == "grad" else out
        return getattr(F, transform)(f)(L.tensor(X))
    _both(run)


def test_backward_after_vmap():
    outs = []
    for L, F in ((torch, torch.func), (dg, dg.func)):
        x = L.tensor(X, requires_grad=True)
        y = F.vmap(lambda v, i: v[i] * v.sum())(x, L.tensor(IDX5))
        (y ** 2).sum().backward()
        outs.append(x.grad)
    _same(outs[1], outs[0], "backward")


OUT_OF_RANGE = {
    "get": lambda L, F: F.vmap(lambda i: L.tensor(X)[i])(L.tensor([0, -6])),
    "get_column": lambda L, F: F.vmap(lambda i: L.tensor(X)[:, i])(L.tensor([2, 3, 0])),
    "mixed": lambda L, F: F.vmap(lambda i: L.tensor(X)[[0, 1], i])(L.tensor([0, 3])),
    "mixed_front": lambda L, F: F.vmap(lambda i: L.tensor(X)[i, [0, 1]])(L.tensor([0, 5])),
    "batched_data": lambda L, F: F.vmap(lambda v, i: v[:, i])(
        L.zeros(2, 3, 4), L.tensor([0, 5])),
    "setitem": lambda L, F: F.vmap(_setitem)(L.tensor(X), L.tensor([0, 2, 5, 1, 2])),
    "setitem_negative": lambda L, F: F.vmap(_setitem)(L.tensor(X), L.tensor([0, 2, -4, 1, 2])),
    "nested": lambda L, F: F.vmap(F.vmap(lambda i: L.tensor(X)[i]))(L.tensor([[0, 1], [5, 2]])),
    "nested_levels": lambda L, F: F.vmap(F.vmap(lambda v, i: v[i], in_dims=(None, 0)),
                                         in_dims=(0, None))(L.zeros(2, 3, 4), L.tensor([0, 5])),
    "nested_both": lambda L, F: F.vmap(F.vmap(lambda v, i: v[:, i]))(
        L.zeros(2, 2, 3, 4), L.tensor([[0, 5], [1, 1]])),
}


@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_out_of_range(name):
    with pytest.raises(IndexError) as expected:
        OUT_OF_RANGE[name](torch, torch.func)
    with pytest.raises(IndexError) as got:
        OUT_OF_RANGE[name](dg, dg.func)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("lib", ["torch", "dyngrad"])
def test_bool_scalar_index_raises(lib):
    L = torch if lib == "torch" else dg
    with pytest.raises(RuntimeError, match="boolean mask"):
        L.func.vmap(lambda b: L.tensor(X)[b])(L.tensor([True, False]))


@pytest.mark.parametrize("lib", ["torch", "dyngrad"])
def test_float_scalar_index_raises(lib):
    L = torch if lib == "torch" else dg
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        L.func.vmap(lambda i: L.tensor(X)[i])(L.tensor([1.0, 2.0]))
