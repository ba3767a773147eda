"""nn.functional's fractional max pooling (with given `_random_samples`, so the pseudo-random
windows are torch's), linear_cross_entropy and antialiased bilinear interpolation against
PyTorch."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, with_lib

F64 = (np.float64,)


def op(fn, *inputs, **kw):
    kw.setdefault("dtypes", F64)
    check_op(with_lib(fn), *inputs, **kw)


POOL_CASES = [
    (2, (2, 3, 9, 9), 3, dict(output_size=(2, 3))),
    (2, (3, 9, 10), (4, 3), dict(output_size=(3, 4))),
    (2, (1, 2, 9, 9), (4, 4), dict(output_ratio=(0.5, 0.7))),
    (3, (1, 2, 7, 8, 9), 2, dict(output_size=(3, 4, 5))),
    (3, (2, 7, 8, 9), (3, 2, 2), dict(output_size=(2, 3, 4))),
]


@pytest.mark.parametrize("n, shape, kernel, kw", POOL_CASES)
def test_fractional_max_pool(n, shape, kernel, kw):
    batch = 1 if len(shape) == n + 1 else shape[0]
    u = array(batch, shape[-n - 1], n, low=0, high=1)
    name = f"fractional_max_pool{n}d"

    def f(lib, x):
        fn = getattr(lib.nn.functional, name)
        return fn(x, kernel, return_indices=True, _random_samples=lib.tensor(u), **kw)

    op(f, array(*shape), gradgrad=True)


def test_fractional_max_pool_random_and_errors():
    out = dyngrad.nn.functional.fractional_max_pool2d(dyngrad.ones(1, 2, 9, 9), 3, output_size=2)
    assert out.shape == (1, 2, 2, 2)
    check_error(lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 3,
                                                                    output_size=4))
    check_error(lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 2, 5, 5), 3))
    check_error(lambda lib: lib.nn.functional.fractional_max_pool3d(lib.ones(1, 2, 5, 5, 9), 3,
                                                                    output_size=(2, 2, 8)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_linear_cross_entropy(reduction):
    target = np.array([1, 0, 3, 2, 1])
    op(lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(
        x, w, lib.tensor(target), linear_bias=b, reduction=reduction), array(5, 3), array(4, 3),
       array(4))
    op(lambda lib, x, w: lib.nn.functional.linear_cross_entropy(
        x, w, lib.tensor(2), label_smoothing=0.1), array(3), array(4, 3))
    op(lambda lib, x, w, p: lib.nn.functional.linear_cross_entropy(
        x, w, p.softmax(-1), reduction=reduction), array(5, 3), array(4, 3), array(5, 4))
    op(lambda lib, x, w: lib.nn.functional.linear_cross_entropy(   # K-dimensional
        x, w, lib.tensor(np.array([[0, 2], [1, 1]])), ignore_index=2), array(2, 3),
       array(4, 2, 3))


def test_linear_cross_entropy_errors():
    def lce(lib, x, w, t, **kw):
        return lib.nn.functional.linear_cross_entropy(lib.ones(*x), lib.ones(*w), t(lib), **kw)

    check_error(lambda lib: lce(lib, (2, 3), (4, 2), lambda lib: lib.tensor([0, 1])))
    check_error(lambda lib: lce(lib, (2, 2, 3), (4, 3), lambda lib: lib.tensor([0, 1])))
    check_error(lambda lib: lce(lib, (3,), (4, 2, 3), lambda lib: lib.tensor(0)))
    check_error(lambda lib: lce(lib, (2, 3), (4, 3), lambda lib: lib.ones(2, 4), ignore_index=1))


@pytest.mark.parametrize("size, scale", [((3, 5), None), ((15, 7), None), ((8, 30), None),
                                         (None, 0.3), (None, (0.5, 2.5))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_bilinear_antialias(size, scale, align_corners):
    op(lambda lib, x: lib.nn.functional.interpolate(
        x, size=size, scale_factor=scale, mode="bilinear", antialias=True,
        align_corners=align_corners), array(2, 2, 10, 12))
    if size is not None:
        op(lambda lib, x: (lib._upsample_bilinear2d_aa if lib is dyngrad else
                           torch.ops.aten._upsample_bilinear2d_aa)(x, size, align_corners),
           array(1, 2, 10, 12))
