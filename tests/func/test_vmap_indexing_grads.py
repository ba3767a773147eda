"""vmap of gradients through tensor indexing with an index computed from the vmapped input:
`x[idx]` with integer index tensors (alone, with slices, None, integers, several of them), boolean
masks, `x[idx] = y`, index_put / index_put_ and index_select.

Under vmap(jacrev(f)) and vmap(jacfwd(f)) the index is batched at the outer vmap and the
cotangents / tangents at the inner one: the backward formulas of indexing and index_put write into
(and read from) arrays that are first batched at the index's levels too. Each case runs vmap(f),
vmap(grad), vmap(jacrev), vmap(jacfwd), in_dims=1 and a batch of one on float64 samples, compared
with torch.func on the same inputs; without vmap, the gradients are torch's, on plain NumPy arrays.

Where PyTorch 2.13's own batching rule for an indexed write fails (`y[:, idx] = v` under any vmap,
`y[idx] = v` under vmap(jacfwd): "shape mismatch: value tensor of shape ..."), dyngrad computes,
and the expected values are torch.func's, sample by sample.
"""

import warnings

import numpy as np
import pytest
import torch

import dyngrad as dg
from tests.func.common import check_batched_result, check_eager_gradients
from tests.harness import assert_same_values

rng = np.random.default_rng(21)
X = rng.standard_normal((3, 4, 5))  # 3 samples of (4, 5)
BASE = np.linspace(-1.0, 1.0, 20).reshape(4, 5)
MASK = rng.standard_normal((4, 5)) > 0
I3 = np.array([3, 0, 3])


def _set(index_of, value_of):
    """f(v): a copy of v with `value_of(v)` written at `index_of(v)` (x[idx] = y)."""

    def f(v):
        y = v * 1
        y[index_of(v)] = value_of(v)
        return y

    return f


def _index_put_(v):
    y = v * 1
    y.index_put_((v[:, 0].argsort()[:2],), v[0] ** 2)
    return y


def _cases(lib):
    """name -> f(sample) -> tensor, for one library."""
    w = lib.arange(20.0, dtype=lib.float64).reshape(4, 5)
    base, mask, i3 = lib.tensor(BASE), lib.tensor(MASK), lib.tensor(I3)
    f64 = lib.float64
    return {
        # x[idx]
        "index": lambda v: v[v[:, 0].argsort()] * w,
        "index_flat": lambda v: v.flatten()[v.flatten().argsort()] ** 2,
        "index_repeated": lambda v: v[v[:, 0].argsort() // 2] ** 2,
        "index_2d_index": lambda v: v[v[:, 0].argsort().reshape(2, 2)] * 3,
        "slice_then_index": lambda v: v[:, v[0].argsort()] ** 2,
        "index_then_slice": lambda v: v[v[:, 0].argsort()[:2], 1:4] ** 2,
        "none_index_slice_none": lambda v: v[None, v[:, 0].argsort()[:2], :, None] ** 2,
        "int_then_index": lambda v: v[2, v[0].argsort()] ** 2,
        "two_indices": lambda v: v[v[:, 0].argsort(), v[0].argsort()[:4]] ** 2,
        "two_indices_broadcast": lambda v: v[v[:, 0].argsort()[:3, None],
                                             v[0].argsort()[None, :2]] * 3,
        "separated_indices": lambda v: v[:, None][v[:, 0].argsort(), :, v[0].argsort()[:4]] ** 2,
        "constant_and_batched_index": lambda v: v[i3, v[0].argsort()[:3]] ** 2,
        "ellipsis_index": lambda v: v[..., v[0].argsort()[:2]] ** 2,
        "index_unbatched_data": lambda v: base[v[:, 0].argsort()] * v,
        "index_twice": lambda v: v[v[:, 0].argsort()][:, v[1].argsort()] ** 2,
        # boolean masks (a batched mask has no fixed shape: see test_batched_mask_raises)
        "mask": lambda v: v[mask] ** 2,
        "mask_after_index": lambda v: v[v[:, 0].argsort()][:, mask[0]] ** 2,
        "mask_setitem": _set(lambda v: mask, lambda v: v[mask] ** 2),
        # x[idx] = y, index_put
        "setitem": _set(lambda v: v[:, 0].argsort()[:3], lambda v: v[1:4] ** 2),
        "setitem_scalar": _set(lambda v: (slice(None), v[0].argsort()[:3]), lambda v: 0.0),
        "setitem_two_indices": _set(lambda v: (v[:, 0].argsort()[:2], v[0].argsort()[:2]),
                                    lambda v: v[0, :2] * 3),
        "setitem_slice_then_index": _set(lambda v: (slice(None), v[0].argsort()[:3]),
                                         lambda v: v[:, :3] * 3),
        "setitem_unbatched_value": lambda v: _set(
            lambda v: (v[:, 0].argsort()[:3], slice(None)),
            lambda v: lib.ones(5, dtype=f64))(v) * v,
        "index_put": lambda v: (v * 1).index_put((v[:, 0].argsort()[:2],), v[1] ** 2),
        "index_put_accumulate": lambda v: (v * 1).index_put(
            (v[:, 0].argsort() // 2, v[0].argsort()[:4]), v[1, :4] ** 2, accumulate=True),
        "index_put_unbatched": lambda v: lib.zeros(4, 5, dtype=f64).index_put(
            (v[:, 0].argsort()[:2],), lib.ones(5, dtype=f64)) * v,
        "index_put_unbatched_self": lambda v: base.index_put((v[:, 0].argsort()[:2],), v[0] * 2),
        "index_put_": _index_put_,
        # index_select
        "index_select": lambda v: v.index_select(0, v[:, 0].argsort()) ** 2,
        "index_select_dim1": lambda v: v.index_select(1, v[0].argsort()[:3]) * w[:, :3],
        "index_select_unbatched": lambda v: base.index_select(1, v[0].argsort()) * v,
    }


NAMES = list(_cases(torch))

# PyTorch 2.13's batching rule of index_put_ fails on these ("shape mismatch: value tensor of
# shape ... cannot be broadcast to indexing result of shape ..."): under forward AD (jacfwd,
# hessian), and for a slice before the index under every vmap. The expected values are torch's,
# sample by sample.
TORCH_FAILS = {
    "setitem": "forward_ad", "setitem_scalar": "forward_ad", "setitem_two_indices": "forward_ad",
    "setitem_unbatched_value": "forward_ad", "index_put_": "forward_ad",
    "setitem_slice_then_index": "always",
}
MODES = ["forward", "grad", "jacrev", "jacfwd", "grad_in_dims_1", "jacrev_in_dims_1",
         "grad_batch_of_one", "jacfwd_batch_of_one", "hessian", "jacfwd_of_jacrev"]


def _transform(lib, f, mode: str):
    if mode == "forward":
        return f

    def loss(v):
        return (f(v) * lib.cos(v.sum())).sum()

    if mode.startswith("grad"):
        return lib.func.grad(loss)
    if mode == "hessian":  # (dyngrad's is jacrev(jacrev(f)), PyTorch's jacfwd(jacrev(f)))
        return lib.func.hessian(loss)
    if mode == "jacfwd_of_jacrev":  # forward AD over the backward formulas, on tensors
        return lib.func.jacfwd(lib.func.jacrev(loss))
    return getattr(lib.func, mode.split("_")[0])(f)


def _inputs(lib, mode: str):
    x = lib.tensor(X[:1] if mode.endswith("batch_of_one") else X)
    if mode.endswith("in_dims_1"):
        return x.transpose(0, 1).contiguous(), 1
    return x, 0


def _run(lib, name: str, mode: str):
    g = _transform(lib, _cases(lib)[name], mode)
    x, dim = _inputs(lib, mode)
    return lib.func.vmap(g, in_dims=dim)(x)


def _torch_per_sample(name: str, mode: str):
    g = _transform(torch, _cases(torch)[name], mode)
    x, dim = _inputs(torch, mode)
    return torch.stack([g(s) for s in x.unbind(dim)])


def _fails_in_torch(name: str, mode: str) -> bool:
    when = TORCH_FAILS.get(name)
    return when == "always" or when == "forward_ad" and mode.startswith(("jacfwd", "hessian"))


PAIRS = [(n, m) for n in NAMES for m in MODES]


@pytest.mark.parametrize(("name", "mode"), PAIRS)
def test_vmap_matches_torch(name, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if _fails_in_torch(name, mode):
            expected = _torch_per_sample(name, mode)
        else:
            expected = _run(torch, name, mode)
    check_batched_result(lambda: _run(dg, name, mode), expected, f"{name} {mode}")


def test_the_torch_failures_listed_are_torch_failures():
    """TORCH_FAILS holds only what PyTorch really refuses."""
    for name in TORCH_FAILS:
        with warnings.catch_warnings(), pytest.raises(RuntimeError, match="shape mismatch"):
            warnings.simplefilter("ignore", UserWarning)
            _run(torch, name, "jacfwd")


def _set_view(lib):
    f = _set(lambda v: (v[:, 0].argsort()[:3], slice(1, 3)),
             lambda v: lib.ones(3, 2, dtype=lib.float64))
    return lambda v: f(v) * v


def test_jacfwd_of_jacrev_through_a_slice():
    """jacfwd(jacrev(f)) through a slice, without vmap and without index tensors: the tangent of
    SliceBackward0's formula (a write into a region of fresh zeros) is batched like the written
    gradient's (tests/func/test_forward_over_reverse.py has the other views)."""
    out = [lib.func.jacfwd(lib.func.jacrev(lambda v: (v[1:3] ** 3).sum()))(lib.tensor(X[0]))
           for lib in (torch, dg)]
    assert type(out[1]._data) is np.ndarray
    assert_same_values(out[1], out[0], "jacfwd(jacrev)", rtol=1e-12, atol=1e-14)


def test_forward_ad_through_a_view():
    """y[idx, 1:3] = unbatched value: under vmap(jacfwd) the value's (zero) tangent is written
    into a region of y's tangent, which comes from jacfwd's basis and is not batched at the
    index's level: dyngrad widens y's tangent to that level first and gives torch's per-sample
    values, where PyTorch's batching rule raises its shape mismatch. vmap(hessian) too (dyngrad's
    is jacrev(jacrev(f)), PyTorch's jacfwd(jacrev(f)) raises)."""
    with warnings.catch_warnings(), pytest.raises(RuntimeError, match="shape mismatch"):
        warnings.simplefilter("ignore", UserWarning)
        torch.func.vmap(torch.func.jacfwd(_set_view(torch)))(torch.tensor(X))
    for mode in ("jacfwd", "hessian", "jacfwd_of_jacrev"):
        g = _transform(torch, _set_view(torch), mode)
        expected = torch.stack([g(s) for s in torch.tensor(X)])
        got = dg.func.vmap(_transform(dg, _set_view(dg), mode))(dg.tensor(X))
        assert type(got._data) is np.ndarray
        assert_same_values(got, expected, mode, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_eager_gradients_unchanged(name):
    check_eager_gradients(_cases, name, X[0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", ["jacrev", "jacfwd", "hessian"])
def test_jacobians_without_vmap(name, how):
    """jacrev / jacfwd / hessian of one sample (vmap over the cotangents or tangents only)."""
    out = []
    for lib in (torch, dg):
        f = _cases(lib)[name]
        if how == "hessian":
            g = lib.func.hessian(lambda v, f=f: (f(v) ** 2).sum())
        else:
            g = getattr(lib.func, how)(f)
        out.append(g(lib.tensor(X[0])))
    assert type(out[1]._data) is np.ndarray
    assert_same_values(out[1], out[0], f"{name} {how}", rtol=1e-10, atol=1e-12)


def test_eager_create_graph_unchanged():
    """Second order without vmap through indexing and index_put (the formulas on tensors)."""
    out = []
    for lib in (torch, dg):
        x = lib.tensor(X[0], requires_grad=True)
        y = x * 1
        y[x[:, 0].argsort()[:2]] = x[1] ** 3
        loss = (y[x[:, 0].argsort(), x[0].argsort()[:4]] ** 3).sum()
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        out.append((g, gg))
    for got, expected in zip(out[1], out[0], strict=True):
        assert type(got._data) is np.ndarray
        assert_same_values(got.detach(), expected.detach(), "create_graph", rtol=1e-10,
                           atol=1e-12)


def test_examples_from_the_issue():
    results = []
    for lib in (torch, dg):
        xs = lib.tensor(X)
        vmap, jacrev, jacfwd = lib.func.vmap, lib.func.jacrev, lib.func.jacfwd

        def f(v):
            return v[v.argsort()] * 2

        def g(v):
            return (v[:, v[0].argsort()] ** 2).sum(0)

        results.append([vmap(jacrev(f))(xs[:, 0]), vmap(jacfwd(f))(xs[:, 0]),
                        vmap(jacrev(g))(xs), vmap(jacfwd(g))(xs)])
    for got, expected in zip(results[1], results[0], strict=True):
        assert_same_values(got, expected, "example", rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["forward", "grad", "jacrev", "jacfwd"])
@pytest.mark.parametrize("index", ["getitem", "inner_dim", "zero_dim", "setitem", "set_value"])
def test_batched_mask_raises(index, mode):
    """A mask computed from the vmapped input: PyTorch's error (the result's shape would vary)."""
    fs = {
        "getitem": lambda v: v[v > 0],
        "inner_dim": lambda v: v[:, v[0] > 0],
        "zero_dim": lambda v: v[v.sum() > 0],
        "setitem": _set(lambda v: v > 0, lambda v: 0.0),
        "set_value": _set(lambda v: v > 0, lambda v: v[v > 0] * 2),
    }
    messages = []
    for lib in (torch, dg):
        g = _transform(lib, fs[index], mode)
        with warnings.catch_warnings(), pytest.raises(RuntimeError) as info:
            warnings.simplefilter("ignore", UserWarning)
            lib.func.vmap(g)(lib.tensor(X))
        messages.append(str(info.value))
    if index != "zero_dim" or mode == "forward":  # (torch's grad transforms call .item() first)
        assert messages[1] == messages[0]


def test_nested_levels():
    """The index batched at the outer vmap, the data at the inner one and at both."""
    results = []
    for lib in (torch, dg):
        vmap, grad, jacrev = lib.func.vmap, lib.func.grad, lib.func.jacrev
        x = lib.tensor(X)
        out = {
            "vmap_vmap_jacrev": vmap(vmap(jacrev(lambda v: v[v.argsort()] ** 2)))(x),
            "vmap_jacrev_jacrev": vmap(jacrev(jacrev(lambda v: v[v.argsort()] ** 3)))(x[:, 0]),
            "grad_of_vmap": grad(lambda t, vmap=vmap: vmap(
                lambda v: (v[v[:, 0].argsort()] ** 3).sum())(t).sum())(x),
        }
        results.append(out)
    for k, e in results[0].items():
        assert_same_values(results[1][k], e, k, rtol=1e-10, atol=1e-12)
