"""vmap of gradients through ops that pick elements by index: sort, topk, kthvalue, cummax/cummin,
max/min/median/mode along a dim, gather, scatter, scatter_add, scatter_reduce, index_*, take/put.

Their backward formulas scatter (or gather) with the indices the forward picked, which under vmap
are batched arrays: the scatter kernels write into a copy batched like their index and values,
and NumPy's ufunc.at and setitem with batched index arrays have a batching rule (one call for the
whole batch, no per-sample loop). Each case runs vmap(grad), vmap(jacrev), vmap(jacfwd), in_dims=1
and a batch of one on float64 samples, compared with torch.func on the same inputs; the same cases
without vmap still give torch's values, on plain NumPy arrays.
"""

import warnings

import numpy as np
import pytest
import torch

import dyngrad as dg
from dyngrad.func import _dispatch
from dyngrad.func._batched import BatchedArray, new_level
from tests.func.common import check_batched_result, check_eager_gradients
from tests.harness import assert_same_values

rng = np.random.default_rng(11)
X = rng.standard_normal((3, 4, 5))  # 3 samples of (4, 5)
I0 = np.array([[0, 1, 3, 3, 2], [2, 2, 0, 1, 3]])
BASE = np.linspace(-1.0, 1.0, 20).reshape(4, 5)


def _cases(lib):
    """name -> f(sample) -> tensor, for one library."""
    w = lib.arange(20.0, dtype=lib.float64).reshape(4, 5)
    i0, base = lib.tensor(I0), lib.tensor(BASE)
    return {
        "sort": lambda v: lib.sort(v)[0] * w,
        "sort_descending_dim0": lambda v: lib.sort(v, 0, descending=True)[0] * w,
        "sort_stable": lambda v: lib.sort(v, stable=True)[0] * w,
        "argsort_gather": lambda v: v.gather(1, v.argsort(1)) * w,
        "take_along_dim": lambda v: lib.take_along_dim(v, v.argsort(0), 0) * w,
        "msort": lambda v: lib.msort(v) * w,
        "topk": lambda v: v.topk(2)[0],
        "topk_smallest_dim0": lambda v: v.topk(3, 0, largest=False)[0],
        "kthvalue": lambda v: v.kthvalue(2)[0],
        "kthvalue_keepdim": lambda v: v.kthvalue(3, 0, keepdim=True)[0],
        "cummax": lambda v: v.cummax(0)[0] * w,
        "cummin": lambda v: v.cummin(1)[0] * w,
        "max_dim": lambda v: v.max(0)[0],
        "min_dim_keepdim": lambda v: v.min(1, keepdim=True)[0],
        "median_dim": lambda v: v.median(1)[0],
        "nanmedian_dim": lambda v: v.nanmedian(0)[0],
        "mode_dim": lambda v: v.mode(1)[0],
        "gather": lambda v: v.gather(0, i0),
        "gather_unbatched_input": lambda v: (base * 1).gather(1, v.argsort(1)) * v,
        "scatter": lambda v: lib.zeros(4, 5, dtype=lib.float64).scatter(1, v.argsort(1), v * w),
        "scatter_value": lambda v: v.scatter(1, v.argsort(1)[:, :2], 0.5) * w,
        "scatter_add": lambda v: base.scatter_add(0, i0, v[:2]) * v,
        "scatter_add_batched_index": lambda v: base.scatter_add(
            1, v.argsort(1)[:, :3] // 2, v[:, :3] ** 2),
        "scatter_reduce_sum": lambda v: base.scatter_reduce(0, i0, v[:2] ** 2, "sum"),
        "scatter_reduce_mean": lambda v: base.scatter_reduce(0, i0, v[:2], "mean",
                                                             include_self=False),
        "scatter_reduce_amax": lambda v: base.scatter_reduce(0, i0, v[:2], "amax"),
        "scatter_reduce_amin_batched_index": lambda v: base.scatter_reduce(
            1, v.argsort(1) // 2, v, "amin", include_self=False),
        "index_select": lambda v: v.index_select(1, v[0].argsort()) * w,
        "index_add": lambda v: base.index_add(1, v[0].argsort()[:3], v[:, :3] ** 2),
        "take": lambda v: v.take(v.flatten().argsort()[:4]),
        "put": lambda v: base.put(v.flatten().argsort()[:4], v[0, :4] ** 2),
    }


NAMES = list(_cases(torch))


def _run(lib, name: str, mode: str):
    f = _cases(lib)[name]
    x = lib.tensor(X)
    vmap, grad = lib.func.vmap, lib.func.grad

    def loss(v):
        return (f(v) * lib.cos(v.sum())).sum()

    if mode == "grad":
        return vmap(grad(loss))(x)
    if mode == "jacrev":
        return vmap(lib.func.jacrev(f))(x)
    if mode == "jacfwd":
        return vmap(lib.func.jacfwd(f))(x)
    if mode == "in_dims_1":
        return vmap(grad(loss), in_dims=1)(x.transpose(0, 1).contiguous())
    if mode == "batch_of_one":
        return vmap(grad(loss))(x[:1])
    if mode == "forward":
        return vmap(f)(x)
    raise AssertionError(mode)


def _check(name: str, mode: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own fallback warnings (cummax)
        expected = _run(torch, name, mode)
    check_batched_result(lambda: _run(dg, name, mode), expected, f"{name} {mode}")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", ["forward", "grad", "jacrev", "in_dims_1", "batch_of_one"])
def test_vmap_matches_torch(name, mode):
    _check(name, mode)


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "cummax", "cummin", "max_dim",
                                  "median_dim", "gather", "scatter", "scatter_add",
                                  "scatter_reduce_sum", "index_select", "take"])
def test_vmap_jacfwd_matches_torch(name):
    _check(name, "jacfwd")


@pytest.mark.parametrize("name", NAMES)
def test_eager_gradients_unchanged(name):
    check_eager_gradients(_cases, name, X[0])


def test_example_from_the_issue():
    results = []
    for lib in (torch, dg):
        x = lib.tensor(X[:, 0])

        def f(v, lib=lib):
            return lib.sort(v)[0].mul(lib.arange(5.0)).sum()

        results.append([lib.func.vmap(lib.func.grad(f))(x),
                        lib.func.vmap(lib.func.grad(lambda v: v.topk(2)[0].sum()))(x)])
    for got, expected in zip(results[1], results[0], strict=True):
        assert_same_values(got, expected, "example")


def _nested(lib):
    """Index and data batched at different vmap levels, grad of vmap, batched grad_outputs."""
    vmap, grad = lib.func.vmap, lib.func.grad
    x = lib.tensor(X)
    idx = lib.tensor(rng_nested().integers(0, 4, (2, 2, 5)))
    w = lib.arange(5.0, dtype=lib.float64)
    out = {
        "gather": vmap(lambda i: vmap(lambda v: v.gather(0, i))(x))(idx),
        "scatter_add": vmap(lambda i: vmap(lambda v: v.scatter_add(0, i, v[:2] * 2))(x))(idx),
        "grad_of_vmap": grad(lambda t: vmap(lambda v: lib.sort(v)[0].mul(w).sum())(t).sum())(
            x[:, 0]),
        "vmap_vmap_grad": vmap(vmap(grad(lambda v: v.cummax(0)[0].mul(w).sum())))(x),
        "vmap_hessian": vmap(lib.func.hessian(lambda v: v.sort()[0].pow(3).mul(w).sum()))(
            x[:, 0]),
    }
    xr = lib.tensor(X[0], requires_grad=True)
    g = lib.tensor(rng_nested().standard_normal((6, 4, 5)))
    out["is_grads_batched"] = lib.autograd.grad(lib.sort(xr, 1)[0], xr, g,
                                                is_grads_batched=True)[0]
    return out


def rng_nested():
    return np.random.default_rng(12)


def test_nested_levels_and_batched_grad_outputs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = _nested(torch)
    got = _nested(dg)
    for k, e in expected.items():
        assert_same_values(got[k], e, k, rtol=1e-10, atol=1e-12)


# --- the batching rule of ufunc.at and setitem with batched index arrays ------------------------
def _batched(a):
    return BatchedArray(np.array(a), new_level())


def _per_sample(write, target, key, values):
    """write(target[i], key[i], values[i]) for each sample (keys and values may be unbatched)."""
    out = target.copy()
    for i in range(len(out)):
        write(out[i], tuple(k[i] if b else k for k, b in key), values[i])
    return out


def _add_at(t, k, v):
    np.add.at(t, k, v)


def _put(t, k, v):
    t[k] = v


@pytest.mark.parametrize("write", [_add_at, _put])
@pytest.mark.parametrize("layout", ["along_dim", "leading_slices", "integer_and_unbatched"])
def test_batched_index_writes_match_per_sample(write, layout):
    r = np.random.default_rng(13)
    target = r.standard_normal((4, 3, 5, 2))
    if layout == "along_dim":  # gather/scatter's key: an index array and aranges
        key = [(r.integers(0, 3, (4, 2, 5, 1)), True), (np.arange(5).reshape(5, 1), False),
               (np.arange(1).reshape(1,), False)]
        values = r.standard_normal((4, 2, 5, 1))
    elif layout == "leading_slices":  # index_add's key: full slices, then the index
        key = [(slice(None), False), (r.integers(-5, 5, (4, 6)), True)]
        values = r.standard_normal((4, 1, 3, 6, 2))  # a leading size-1 dim, as NumPy allows
    else:
        key = [(1, False), (r.integers(0, 5, (4, 3)), True)]
        values = r.standard_normal((4, 2))
    expected = _per_sample(write, target, key, values[:, 0] if values.ndim == 5 else values)
    batched = _batched(target)
    level = batched.level
    pkey = tuple(BatchedArray(k, level) if b else k for k, b in key)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        write(batched, pkey, BatchedArray(values, level))
    np.testing.assert_array_equal(batched.value, expected)
    assert _dispatch._batched_key(pkey, batched, level) is not None
