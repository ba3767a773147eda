"""torch.fft against PyTorch: values, dtypes, grad_fn names, first- and second-order gradients
for real and complex inputs, every norm, n / s / dim, errors; finite differences in float64."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, fd_gradgrad, with_lib

NORMS = [None, "backward", "ortho", "forward"]
C2C = ["fft", "ifft"]
R2C = ["rfft", "ihfft"]
C2R = ["irfft", "hfft"]
ND = ["fft2", "ifft2", "fftn", "ifftn", "rfft2", "rfftn", "irfft2", "irfftn", "hfft2", "ihfft2",
      "hfftn", "ihfftn"]
REAL_ONLY = {"rfft", "ihfft", "rfft2", "rfftn", "ihfft2", "ihfftn"}


def _fn(name, **kw):
    return with_lib(lambda lib, x: getattr(lib.fft, name)(x, **kw))


def _real(*shape):
    return array(*shape)


def _complex(*shape):
    return array(*shape, dtype=np.complex128)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", C2C + R2C + C2R)
def test_one_dim(name, norm):
    """Real and complex inputs (float32/64, complex64/128), along the last and the first dim."""
    inputs = [_real(3, 6)] + ([] if name in REAL_ONLY else [_complex(3, 5)])
    for x in inputs:
        check_op(_fn(name, norm=norm), x)
        check_op(_fn(name, norm=norm, dim=0), x, noncontig=False, gradgrad=False)


@pytest.mark.parametrize("name", C2C + R2C + C2R)
@pytest.mark.parametrize("n", [3, 4, 9])
def test_n_trims_or_pads(name, n):
    x = _real(2, 5) if name in REAL_ONLY else _complex(2, 5)
    check_op(_fn(name, n=n), x, noncontig=False)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("name", ND)
def test_n_dim(name, norm):
    inputs = [_real(2, 3, 4)] + ([] if name in REAL_ONLY else [_complex(2, 3, 4)])
    for x in inputs:
        check_op(_fn(name, norm=norm), x, noncontig=False)


@pytest.mark.parametrize("name", ND)
def test_n_dim_s_and_dim(name):
    x = _real(3, 4, 5) if name in REAL_ONLY else _complex(3, 4, 5)
    nd = name.endswith("n")
    check_op(_fn(name, s=(3, 6)), x, noncontig=False, gradgrad=False)
    check_op(_fn(name, dim=(0, 2)), x, noncontig=False, gradgrad=False)
    check_op(_fn(name, s=(2, -1), dim=(2, 0)), x, noncontig=False, gradgrad=False)
    if nd:
        check_op(_fn(name, dim=1), x, noncontig=False, gradgrad=False)
        check_op(_fn(name, s=(4,)), x, noncontig=False, gradgrad=False)


def _chain(y) -> list:
    names, fn = [], y.grad_fn
    while fn is not None:
        names.append(type(fn).__name__)
        fn = next((f for f, _ in fn.next_functions if f is not None), None)
    return names


@pytest.mark.parametrize("name", ["fft", "ifft", "irfft", "hfft", "fftn", "hfft2", "ihfft2",
                                  "ihfft"])
def test_real_input_graphs(name):
    """Casts, conjugations and the primitive nodes appear where PyTorch puts them."""
    ys = [getattr(lib.fft, name)(lib.ones(2, 4, requires_grad=True)) for lib in (dyngrad, torch)]
    assert _chain(ys[0]) == _chain(ys[1])
    assert ys[0].is_conj() == ys[1].is_conj()


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_integer_inputs_promote(dtype):
    x = np.array([[1, 0, 3, 2], [0, 1, 1, 0]]).astype(dtype)
    for name in ["fft", "rfft", "ifft", "fft2", "rfftn", "ihfft", "hfft", "irfft"]:
        check_op(_fn(name), x, dtypes=None)


def test_default_float64():
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
    check_op(_fn("fft"), np.array([1, 2, 3]))


def test_gradient_of_power_spectrum():
    """d/dx sum |rfft(x)|^2 and the round trip irfft(rfft(x)) = x, with double backward."""
    check_op(with_lib(lambda lib, x: (lib.fft.rfft(x).abs() ** 2).sum(1)), _real(2, 7))
    check_op(with_lib(lambda lib, x: lib.fft.irfft(lib.fft.rfft(x), n=7)), _real(2, 7))
    check_op(with_lib(lambda lib, z: lib.fft.ifft(lib.fft.fft(z) * z).real), _complex(6))


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "hfft", "ihfft", "rfftn", "irfftn",
                                  "hfftn", "ihfftn"])
def test_finite_differences(name):
    """Real-to-real views of each transform (real and imaginary parts) against differences."""
    def f(x):
        y = getattr(dyngrad.fft, name)(x if name in REAL_ONLY else x * (1 + 0.5j), norm="ortho")
        return dyngrad.view_as_real(y.resolve_conj()) if y.is_complex() else y

    x = _real(2, 5)
    fd_check(f, x)
    fd_gradgrad(lambda t: (f(t) ** 2).sum(-1), x)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit, inside torch's forward AD
def test_forward_mode_real_transforms():
    x, v = _real(3, 6), _real(3, 6)
    tangents = []
    for lib in (dyngrad, torch):
        fwd = lib.autograd.forward_ad
        with fwd.dual_level():
            dual = fwd.make_dual(lib.from_numpy(x.copy()), lib.from_numpy(v.copy()))
            y = lib.fft.irfft(lib.fft.rfft(dual, norm="ortho") * 3, n=6) + lib.fft.fftshift(dual)
            tangents.append(fwd.unpack_dual(y).tangent.numpy())
    np.testing.assert_allclose(tangents[0], tangents[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_shifts(name):
    for kw in [{}, {"dim": 1}, {"dim": (0, -1)}]:
        check_op(_fn(name, **kw), _real(3, 4))
        check_op(_fn(name, **kw), _complex(3, 5), noncontig=False)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_frequencies(name):
    for n, d in [(1, 1.0), (6, 1.0), (7, 0.3), (8, 2.5)]:
        check_op(with_lib(lambda lib, n=n, d=d: getattr(lib.fft, name)(n, d)), grad=False)
        check_op(with_lib(lambda lib, n=n, d=d: getattr(lib.fft, name)(
            n, d=d, dtype=lib.float64, requires_grad=True)), grad=False)


def test_out():
    for lib_name in ["fft", "rfft", "irfft", "fftn"]:
        x = _complex(4) if lib_name in ("fft", "irfft", "fftn") else _real(4)
        ref = getattr(torch.fft, lib_name)(torch.from_numpy(x))
        out = dyngrad.empty(tuple(ref.shape), dtype=getattr(dyngrad, str(ref.dtype)[6:]))
        res = getattr(dyngrad.fft, lib_name)(dyngrad.from_numpy(x), out=out)
        assert res is out
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


ERRORS = [
    lambda lib, x, z: lib.fft.fft(x, norm="bad"),
    lambda lib, x, z: lib.fft.fft(lib.tensor(1.0)),
    lambda lib, x, z: lib.fft.fft(x, dim=2),
    lambda lib, x, z: lib.fft.fft(x, n=0),
    lambda lib, x, z: lib.fft.irfft(z[:, :1]),
    lambda lib, x, z: lib.fft.rfft(z),
    lambda lib, x, z: lib.fft.ihfft(z),
    lambda lib, x, z: lib.fft.rfft2(z),
    lambda lib, x, z: lib.fft.ihfft2(z),
    lambda lib, x, z: lib.fft.fftn(x, dim=(0, 0)),
    lambda lib, x, z: lib.fft.fftn(x, s=(2,), dim=(0, 1)),
    lambda lib, x, z: lib.fft.fftn(x, s=(1, 2, 3)),
    lambda lib, x, z: lib.fft.rfftn(x, dim=()),
    lambda lib, x, z: lib.fft.irfftn(z, dim=()),
    lambda lib, x, z: lib.fft.fft(x.half()),
    lambda lib, x, z: lib.fft.fft([1.0, 2.0]),
    lambda lib, x, z: lib.fft.fftfreq(4, dtype=lib.int64),
    lambda lib, x, z: lib.fft.fftfreq(4, dtype=lib.complex64),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors(fn):
    x = np.ones((3, 4), np.float32)
    z = np.ones((3, 4), np.complex64)
    check_error(lambda lib: fn(lib, lib.from_numpy(x), lib.from_numpy(z)))
