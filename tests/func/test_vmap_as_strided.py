"""as_strided under vmap, with and without gradient transforms, against torch.func.

PyTorch's batching rule gives every sample its own storage: the physical storage shifted by the
sample's batch stride, so sizes, strides and the storage offset count as for sample 0 (whose
offset `storage_offset()` reports inside vmap), and a view reaching outside the sample's own
memory is refused. Gradients land only on the sample's own elements.
"""

import warnings

import numpy as np
import pytest
import torch

import dyngrad as dg
from tests.harness import assert_same_values

rng = np.random.default_rng(5)
X = rng.standard_normal((3, 6))
X3 = rng.standard_normal((3, 2, 3))
W = rng.standard_normal(6)


def _t(lib, a):
    return lib.tensor(a, dtype=lib.float64)


def _cases(lib):
    """name -> (f, args, vmap kwargs), one library's."""
    fn = lib.func
    s = lambda v: v.as_strided((2, 2), (1, 2)).sin()  # noqa: E731
    x, x3, w = _t(lib, X), _t(lib, X3), _t(lib, W)
    return {
        "forward": (lambda v: v.as_strided((2, 2), (1, 2)), (x,), {}),
        "forward_offset": (lambda v: v.as_strided((2, 2), (1, 2), 1), (x,), {}),
        "forward_overlap": (lambda v: v.as_strided((3, 3), (1, 1)), (x,), {}),
        "forward_in_dims1": (lambda v: v.as_strided((2, 2), (1, 1)), (x,), {"in_dims": 1}),
        "forward_view": (lambda v: v[1:].as_strided((2, 2), (1, 2)), (x,), {}),
        "forward_view_offset": (lambda v: v[1:].as_strided((2, 2), (1, 2), 2), (x,), {}),
        "forward_transposed": (lambda v: v.reshape(2, 3).t().as_strided((2, 2), (1, 2)),
                               (x,), {}),
        "forward_outer_view": (lambda v: v.as_strided((2,), (1,), 7), (x[1:],), {}),
        "forward_2d": (lambda v: v.as_strided((2, 2), (3, 1)), (x3,), {}),
        "forward_expanded": (lambda v: v.as_strided((2,), (1,)), (x[0].expand(3, 6),), {}),
        "forward_0d_samples": (lambda v: v.as_strided((2,), (0,)), (x[0],), {}),
        "forward_empty": (lambda v: v.as_strided((0, 2), (1, 1), 100), (x,), {}),
        "forward_nested": (fn.vmap(lambda v: v.as_strided((2,), (2,))), (x3,), {}),
        "forward_nested_view": (fn.vmap(lambda v: v[1:].as_strided((1,), (1,))), (x3,), {}),
        "grad": (fn.grad(lambda v: s(v).sum()), (x,), {}),
        "grad_offset": (fn.grad(lambda v: v.as_strided((2, 2), (1, 2), 2).sin().sum()),
                        (x,), {}),
        "grad_overlap": (fn.grad(lambda v: v.as_strided((3, 3), (1, 1)).sin().sum()), (x,), {}),
        "grad_in_dims1": (fn.grad(lambda v: v.as_strided((2,), (1,)).sin().sum()), (x,),
                          {"in_dims": 1}),
        "grad_view": (fn.grad(lambda v: v[1:].as_strided((2, 2), (1, 2)).sin().sum()),
                      (x,), {}),
        "grad_2d_view": (fn.grad(lambda v: v[:, 1:].as_strided((2, 2), (3, 1)).sin().sum()),
                         (x3,), {}),
        "grad_unbatched_input": (
            lambda y: fn.grad(lambda u: (u.as_strided((2,), (2,)) * y).sum())(w),
            (x[:, :2],), {}),
        "jacrev": (fn.jacrev(s), (x,), {}),
        "jacrev_in_dims1": (fn.jacrev(lambda v: v.as_strided((2,), (1,)).sin()), (x,),
                            {"in_dims": 1}),
        "jacfwd": (fn.jacfwd(s), (x,), {}),
        # (6,): the sample's own elements; see docs/differences.md for torch's jacfwd of a view
        # reaching elements of other samples
        "jacfwd_in_dims1": (fn.jacfwd(lambda v: v.as_strided((2,), (6,)).sin()), (x,),
                            {"in_dims": 1}),
        "hessian": (fn.hessian(lambda v: (v.as_strided((2, 2), (1, 2)) ** 3).sum()), (x,), {}),
    }


def _vmapped(lib, name):
    f, args, kw = _cases(lib)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return lib.func.vmap(f, **kw)(*args)


@pytest.mark.parametrize("name", list(_cases(torch)))
def test_vmap_as_strided_matches_torch(name):
    assert_same_values(_vmapped(dg, name), _vmapped(torch, name), name, rtol=1e-12,
                       atol=1e-12)


@pytest.mark.parametrize("outer", ["jacrev", "grad"])
def test_transform_of_vmap_as_strided(outer):
    def run(lib):
        inner = lib.func.vmap(lambda v: v.as_strided((2, 2), (1, 2)).sin())
        f = (lambda x: inner(x).sum()) if outer == "grad" else inner
        return getattr(lib.func, outer)(f)(_t(lib, X))

    assert_same_values(run(dg), run(torch), outer, rtol=1e-12, atol=1e-12)


def test_storage_offset_under_vmap():
    def offsets(lib, x, f, **kw):
        seen = []

        def g(v):
            seen.append(f(v).storage_offset())
            return v

        lib.func.vmap(g, **kw)(x)
        return seen

    for lib_x, f, kw in [(lambda lib: _t(lib, X), lambda v: v, {}),
                         (lambda lib: _t(lib, X), lambda v: v[2:], {}),
                         (lambda lib: _t(lib, X), lambda v: v[1:], {"in_dims": 1}),
                         (lambda lib: _t(lib, X)[1:], lambda v: v, {}),
                         (lambda lib: _t(lib, X)[:, 2:], lambda v: v, {"in_dims": 1})]:
        assert offsets(dg, lib_x(dg), f, **kw) == offsets(torch, lib_x(torch), f, **kw)


@pytest.mark.parametrize("size, stride, offset, x", [
    ((2, 2), (1, 2), 0, "view"),  # before the sample's first element
    ((4, 4), (1, 2), 0, "full"),  # past its last
    ((2,), (1,), 5, "full"),
    ((2,), (1,), -1, "full"),
    ((2,), (1, 1), 0, "full"),  # sizes and strides of different lengths
    ((2,), (-1,), 0, "full"),
    ((-2,), (1,), 0, "full"),
    ((2,), (1,), 0, "empty"),  # samples without storage
])
def test_vmap_as_strided_errors_match_torch(size, stride, offset, x):
    def run(lib):
        data = lib.zeros(3, 0, dtype=lib.float64) if x == "empty" else _t(lib, X)
        f = (lambda v: v[1:].as_strided(size, stride, offset)) if x == "view" else \
            (lambda v: v.as_strided(size, stride, offset))
        try:
            lib.func.vmap(f)(data)
        except Exception as e:  # noqa: BLE001 - compared below
            return type(e), str(e)
        return None

    expected = run(torch)
    assert expected is not None
    assert run(dg) == expected


def test_plain_as_strided_unchanged():
    x = _t(dg, X)
    x.requires_grad_(True)
    y = x[1:].as_strided((2, 2), (1, 2), 7)
    y.sin().sum().backward()
    tx = _t(torch, X).requires_grad_(True)
    tx[1:].as_strided((2, 2), (1, 2), 7).sin().sum().backward()
    assert_same_values(y, tx[1:].as_strided((2, 2), (1, 2), 7), "forward")
    assert_same_values(x.grad, tx.grad, "grad")
