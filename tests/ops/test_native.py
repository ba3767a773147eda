"""torch's top-level native ops against PyTorch: native_layer_norm / native_batch_norm /
native_group_norm / _native_batch_norm_legit and their statistics outputs, grid_sampler_2d,
stft / istft, index_reduce on 0-d tensors, and the clear errors of Tensor.bfloat16 / chalf."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, with_lib

F64 = (np.float64,)


def op(fn, *inputs, **kw):
    kw.setdefault("dtypes", F64)
    check_op(with_lib(fn), *inputs, **kw)


def test_native_layer_norm():
    op(lambda lib, x, w, b: lib.native_layer_norm(x, [3, 4], w, b, 1e-5),
       array(2, 3, 4), array(3, 4), array(3, 4))
    op(lambda lib, x: lib.native_layer_norm(x, (4,), None, None, 0.5), array(2, 3, 4))


def test_native_group_norm_statistics_are_differentiable():
    # (torch's kernel refuses non-contiguous input)
    op(lambda lib, x, w, b: lib.native_group_norm(x, w, b, 2, 6, 3, 3, 1e-5),
       array(2, 6, 3), array(6), array(6), noncontig=False)
    for keep in ((0,), (1,), (2,), (0, 1), (0, 2), (1, 2)):  # mean and rstd count only together
        op(lambda lib, x, keep=keep: tuple(
            lib.native_group_norm(x, None, None, 2, 4, 5, 2, 0.5)[i] for i in keep),
           array(2, 4, 5), noncontig=False)
    fd_check(lambda x: (lambda o: (o[0], o[1] * o[2]))(
        dyngrad.native_group_norm(x, None, None, 1, 4, 3, 2, 0.5)), array(1, 4, 3))


@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm(training):
    rm, rv = array(3), array(3, low=0.5, high=1.5)

    def f(lib, x, w, b):
        stats = lib.tensor(rm), lib.tensor(rv)
        out = lib.native_batch_norm(x, w, b, *stats, training, 0.3, 1e-5)
        legit = lib._native_batch_norm_legit(x, w, b, *stats, training, 0.3, 1e-5)
        return (*out, *legit, *stats)

    op(f, array(4, 3, 2), array(3), array(3))
    op(lambda lib, x: lib._native_batch_norm_legit(x, None, None, True, 0.1, 1e-5),
       array(4, 3, 2))
    op(lambda lib, x: lib.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5),
       array(4, 3))


def test_batch_norm_with_update():
    rm, rv = array(3), array(3, low=0.5, high=1.5)

    def f(lib, x, w):
        stats = lib.tensor(rm), lib.tensor(rv)
        fn = lib._batch_norm_with_update if lib is dyngrad else \
            torch.ops.aten._batch_norm_with_update
        return (*fn(x, w, None, *stats, 0.2, 1e-5), *stats)

    op(f, array(4, 3, 2), array(3))


@pytest.mark.parametrize("interp", [0, 1])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sampler_2d(interp, padding, align):
    op(lambda lib, x, g: lib.grid_sampler_2d(x, g, interp, padding, align),
       array(2, 2, 4, 5), array(2, 3, 3, 2, low=-1.2, high=1.2), gradgrad=interp == 0)


STFT_CASES = [
    ((50,), dict(n_fft=8, return_complex=True)),
    ((3, 40), dict(n_fft=8, hop_length=3, return_complex=True, center=False)),
    ((2, 40), dict(n_fft=8, win_length=6, return_complex=True, normalized=True)),
    ((2, 40), dict(n_fft=8, return_complex=True, onesided=False, pad_mode="constant")),
    ((30,), dict(n_fft=8, return_complex=False)),
]


@pytest.mark.parametrize("shape, kw", STFT_CASES)
def test_stft(shape, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        op(lambda lib, x: lib.stft(x, **kw), array(*shape))
        op(lambda lib, x, w: lib.stft(x, window=w, **kw), array(*shape),
           array(kw.get("win_length", kw["n_fft"]), low=0.5, high=1.5))


ISTFT_CASES = [
    ((5, 7), dict(n_fft=8)),
    ((2, 5, 9), dict(n_fft=8, hop_length=2, center=False)),
    ((8, 9), dict(n_fft=8, hop_length=2, onesided=False)),
    ((5, 9), dict(n_fft=8, hop_length=2, normalized=True, length=13)),
    ((5, 9), dict(n_fft=8, hop_length=2, length=30)),
]


@pytest.mark.parametrize("shape, kw", ISTFT_CASES)
def test_istft(shape, kw):
    op(lambda lib, x, w: lib.istft(x, window=w, **kw), array(*shape, dtype=np.complex128),
       array(8, low=0.5, high=1.5), dtypes=None)
    if kw.get("center", True) and kw.get("length", 0) < 20:  # else the window leaves gaps
        op(lambda lib, x: lib.istft(x, win_length=6, **kw),
           array(*shape, dtype=np.complex128), dtypes=None)
    else:
        check_error(lambda lib: lib.istft(lib.ones(*shape, dtype=lib.complex128), win_length=6,
                                          **kw), match="type")


def test_istft_return_complex():
    op(lambda lib, x, w: lib.istft(x, 8, window=w, hop_length=2, return_complex=True),
       array(8, 9, dtype=np.complex128), array(8, low=0.5, high=1.5, dtype=np.complex128),
       dtypes=None)
    check_error(lambda lib: lib.istft(lib.ones(5, 4), 8))
    check_error(lambda lib: lib.istft(lib.ones(5, 4, dtype=lib.complex64), 8,
                                      return_complex=True))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [False, True])
def test_index_reduce_zero_dim(reduce, include_self):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        op(lambda lib, x, s: x.index_reduce(0, lib.tensor([0]), s, reduce,
                                            include_self=include_self),
           array(), array())


@pytest.mark.parametrize("name", ["bfloat16", "chalf"])
def test_no_bfloat16_or_complex32(name):
    with pytest.raises(TypeError, match="NumPy has no"):
        getattr(dyngrad.ones(2), name)()


@pytest.mark.parametrize("reduce", ["max", "min", "mean", "sum", "prod"])
@pytest.mark.parametrize("initial", [None, 2.0])
def test_segment_reduce(reduce, initial):
    x = np.array([3.0, 1.0, 5.0, 5.0, 0.0, 2.0, 0.0])
    lengths = np.array([0, 1, 2, 3, 1])

    def f(lib, x, **kw):
        return lib.segment_reduce(x, reduce, initial=initial, **kw)

    op(lambda lib, x: f(lib, x, lengths=lib.tensor(lengths)), x, gradgrad=False, noncontig=False)
    op(lambda lib, x: f(lib, x, offsets=lib.tensor(np.r_[0, np.cumsum(lengths)])), x,
       gradgrad=False, noncontig=False)
    op(lambda lib, x: f(lib, x, lengths=lib.tensor(np.array([2, 0, 2]))), array(4, 3, 2),
       gradgrad=False, noncontig=False)
    check_error(lambda lib: lib.segment_reduce(lib.ones(5), reduce, lengths=lib.tensor([4])))
    check_error(lambda lib: lib.segment_reduce(lib.ones(2, 5), reduce, lengths=lib.tensor([5]),
                                               axis=1))


@pytest.mark.parametrize("interp", [0, 1])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sampler_3d(interp, padding, align):
    op(lambda lib, x, g: lib.grid_sampler_3d(x, g, interp, padding, align),
       array(2, 2, 3, 4, 5), array(2, 2, 3, 2, 3, low=-1.2, high=1.2), gradgrad=interp == 0)



@pytest.mark.parametrize("x, g", [((1, 1, 2, 2), (1, 1, 1, 3)), ((1, 1, 2, 2), (2, 1, 1, 2)),
                                  ((1, 1, 2, 2), (1, 1, 2)), ((1, 1, 2, 2, 2), (1, 1, 1, 1, 2)),
                                  ((1, 1, 2, 2, 2), (2, 1, 1, 1, 3)),
                                  ((1, 1, 2, 2, 2), (1, 1, 1, 3))])
def test_grid_sample_errors(x, g):
    check_error(lambda lib: lib.nn.functional.grid_sample(lib.ones(*x), lib.ones(*g),
                                                          align_corners=False))


def _masked_index_args(rows, cols):
    rng = np.random.default_rng(3)
    mask = rng.random((rows, cols)) < 0.6
    i = rng.integers(-5, 5, size=(rows, 1))
    j = rng.integers(-5, 5, size=(1, cols))
    return mask, np.where(mask.any(1, keepdims=True), i, 99), j  # hidden rows out of range


def test_unsafe_masked_index():
    mask, i, j = _masked_index_args(6, 4)
    i = np.where(mask.all(1, keepdims=True), i, np.clip(i, -5, 4))
    op(lambda lib, x: lib._unsafe_masked_index(x, lib.tensor(mask), [lib.tensor(i),
                                                                     lib.tensor(j)], -2.5),
       array(5, 5))


def test_unsafe_masked_index_put_accumulate():
    mask, i, j = _masked_index_args(6, 4)
    i = np.clip(i, -5, 4)
    op(lambda lib, x, v: lib._unsafe_masked_index_put_accumulate(
        x, lib.tensor(mask), [lib.tensor(i), lib.tensor(j)], v), array(5, 5), array(6, 4))


@pytest.mark.parametrize("scale", [0.0, 2.0])
def test_native_dropout_backward(scale):
    mask = np.random.default_rng(0).random((3, 4)) < 0.5
    op(lambda lib, g: lib.native_dropout_backward(g, lib.tensor(mask), scale)
       if lib is dyngrad else torch.ops.aten.native_dropout_backward(g, lib.tensor(mask), scale),
       array(3, 4))


def test_stft_istft_methods():
    """Tensor.stft / Tensor.istft are torch.stft / torch.istft on the tensor."""
    op(lambda lib, x, w: x.stft(8, hop_length=3, window=w, return_complex=True), array(40),
       array(8, low=0.5, high=1.5))
    op(lambda lib, x, w: x.istft(8, hop_length=2, window=w), array(5, 9, dtype=np.complex128),
       array(8, low=0.5, high=1.5), dtypes=None)
