"""torch.special against PyTorch: values (to double precision for the new kernels), dtypes,
grad_fn names, first- and second-order gradients, special values, integer inputs, errors; the
new functions' derivatives also against finite differences in float64."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, fd_gradgrad, with_lib

S = dyngrad.special

ALIASES = {"expit": dyngrad.sigmoid, "logit": dyngrad.logit, "erf": dyngrad.erf,
           "erfc": dyngrad.erfc, "erfinv": dyngrad.erfinv, "gammaln": dyngrad.lgamma,
           "digamma": dyngrad.digamma, "psi": dyngrad.digamma, "polygamma": dyngrad.polygamma,
           "xlogy": dyngrad.xlogy, "logsumexp": dyngrad.logsumexp, "sinc": dyngrad.sinc,
           "expm1": dyngrad.expm1, "exp2": dyngrad.exp2, "log1p": dyngrad.log1p,
           "i0": dyngrad.i0, "multigammaln": dyngrad.mvlgamma}


def test_aliases_are_dyngrad_functions():
    for name, fn in ALIASES.items():
        assert getattr(S, name) is fn, name
    assert sorted(S.__all__) == sorted(n for n in S.__all__ if hasattr(torch.special, n))


# name -> (low, high): a domain where the function and its derivatives are smooth
UNARY = {
    "expit": (-4, 4), "logit": (0.05, 0.95), "erf": (-2, 2), "erfc": (-2, 2),
    "erfcx": (-3, 8), "erfinv": (-0.9, 0.9), "gammaln": (0.2, 5), "digamma": (0.2, 5),
    "psi": (0.2, 5), "entr": (0.1, 3), "sinc": (-2, 2), "i0": (-6, 6), "i0e": (-6, 6),
    "i1": (-6, 6), "i1e": (-6, 6), "ndtr": (-4, 4), "ndtri": (0.02, 0.98),
    "log_ndtr": (-5, 4), "expm1": (-2, 2), "exp2": (-2, 2), "log1p": (-0.8, 3),
}
NEW = ["erfcx", "entr", "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr"]


def _fn(name, *args, **kw):
    return with_lib(lambda lib, *ts: getattr(lib.special, name)(*ts, *args, **kw))


@pytest.mark.parametrize("name", UNARY)
def test_unary(name):
    low, high = UNARY[name]
    check_op(_fn(name), array(3, 4, low=low, high=high))


@pytest.mark.parametrize("name", NEW)
def test_new_functions_finite_differences(name):
    low, high = UNARY[name]
    fn = getattr(S, name)
    fd_check(fn, array(6, low=low, high=high))
    fd_gradgrad(fn, array(4, low=low, high=high))


SPECIAL = np.array([0.0, -0.0, 1e-30, -1e-30, 0.5, -0.5, 1.0, 3.0, -7.5, 24.9, 25.1, -40.0,
                    100.0, 700.0, 713.0, 1e10, -1e300, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", NEW + ["expit", "erf", "erfc", "gammaln", "digamma", "sinc"])
def test_special_values(name):
    with np.errstate(all="ignore"):
        check_op(_fn(name), SPECIAL, grad=False, dtypes=(np.float64,), noncontig=False)
        check_op(_fn(name), SPECIAL[:-4], grad=False, dtypes=(np.float32,), noncontig=False)


def test_ndtri_domain_and_tails():
    p = np.concatenate([[0.0, 1.0, 0.5, -0.1, 1.1, np.nan, 1e-300, 5e-324, 1 - 1e-16],
                        10.0 ** -np.arange(1, 300, 7), 1 - 10.0 ** -np.arange(1, 16)])
    check_op(_fn("ndtri"), p, grad=False, dtypes=(np.float64,), noncontig=False)
    check_op(_fn("ndtri"), p[:9], grad=False, dtypes=(np.float32,), noncontig=False)


def test_log_ndtr_and_erfcx_ranges():
    x = np.concatenate([np.linspace(-40, 40, 161), [-1e3, 1e3, 1e300, -30.0]])
    with np.errstate(all="ignore"):
        check_op(_fn("log_ndtr"), x, dtypes=(np.float64,), noncontig=False, gradgrad=False)
        check_op(_fn("erfcx"), x, grad=False, dtypes=(np.float64,), noncontig=False)


def test_bessel_ranges():
    """Both sides of the series / asymptotic switch, many magnitudes, both signs."""
    x = np.concatenate([np.linspace(-60, 60, 241), [0.0, 1e-8, -1e-8, 650.0, -650.0]])
    for name in ["i0", "i0e", "i1", "i1e"]:
        check_op(_fn(name), x, dtypes=(np.float64,), noncontig=False)


@pytest.mark.parametrize("name", ["i0e", "i1", "i1e"])
def test_bessel_gradients_at_zero_and_tiny(name):
    """i1 and i1e use 0.5 where |x| <= eps; i0e's sgn(0) term is 0."""
    check_op(_fn(name), np.array([0.0, 1e-20, -1e-9, 2.0]), noncontig=False, gradgrad=False)


@pytest.mark.parametrize("name", NEW + ["expit", "gammaln", "exp2"])
@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_integer_inputs_give_default_float(name, dtype):
    values = np.array([0, 1, 2, 1]).astype(dtype)
    check_op(_fn(name), values, dtypes=None)


@pytest.mark.parametrize("name", NEW + ["erf", "gammaln", "digamma", "logit", "round"])
def test_complex_inputs_refused(name):
    check_error(lambda lib: getattr(lib.special, name)(lib.ones(2, dtype=lib.complex64)))


def test_round():
    x = array(3, 4, low=-5, high=5)
    check_op(_fn("round"), x, gradgrad=False)
    check_op(_fn("round", decimals=2), x, gradgrad=False)
    check_error(lambda lib: lib.special.round(lib.arange(3)))


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma(n):
    check_op(with_lib(lambda lib, x: lib.special.polygamma(n, x)), array(3, 4, low=0.5, high=4))


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_multigammaln(p):
    x = array(3, 4, low=(p - 1) / 2 + 0.3, high=p + 4)
    check_op(_fn("multigammaln", p), x)
    check_op(with_lib(lambda lib, t: lib.mvlgamma(t, p=p)), x, noncontig=False, gradgrad=False)
    check_op(with_lib(lambda lib, t: t.mvlgamma(p)), x, noncontig=False, gradgrad=False)
    check_op(with_lib(lambda lib, t: t.clone().mvlgamma_(p) * 1), x, noncontig=False)
    fd_check(lambda t: S.multigammaln(t, p), x[0])


def test_multigammaln_inputs():
    check_op(_fn("multigammaln", 2), np.array([1, 2, 3]), dtypes=None)
    check_op(_fn("multigammaln", 3), np.array([0.5, 3.0]), grad=False)  # inf below (p - 1) / 2
    for p in (0, -1):
        check_error(lambda lib, p=p: lib.special.multigammaln(lib.ones(2), p))
    check_error(lambda lib: lib.special.multigammaln(lib.ones(2, dtype=lib.bool), 1))


XLOG = {
    "tensors": (lambda lib, x, y: lib.special.xlog1py(x, y), True),
    "scalar_other": (lambda lib, x, y: lib.special.xlog1py(x, 1.5), True),
    "scalar_self": (lambda lib, x, y: lib.special.xlog1py(2.0, y), True),
    "xlogy": (lambda lib, x, y: lib.special.xlogy(x, y + 1), True),
}


@pytest.mark.parametrize("case", XLOG)
def test_xlog1py(case):
    fn, _ = XLOG[case]
    x, y = array(3, 4), array(3, 4, low=-0.9, high=3)
    x[0, :2] = 0  # xlog1py(0, y) = 0, gradient log1p(y) (0 where y <= -1)
    check_op(with_lib(fn), x, y)


def test_xlog1py_special_points():
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 0.0])
    y = np.array([-1.0, -2.0, np.nan, -1.0, 3.0, 0.5])
    with np.errstate(all="ignore"):
        check_op(with_lib(lambda lib, a, b: lib.special.xlog1py(a, b)), x, y, noncontig=False,
                 gradgrad=False, dtypes=(np.float64,))
        check_op(with_lib(lambda lib, a: lib.special.xlog1py(a, -1.0)), x, noncontig=False,
                 gradgrad=False, dtypes=(np.float64,))
    check_op(with_lib(lambda lib, a, b: lib.special.xlog1py(a, b)), np.array([0, 1, 2]),
             np.array([1, 2, 0]), dtypes=None)
    fd_check(lambda a, b: S.xlog1py(a, b), array(4), array(4, low=-0.5, high=2))
    fd_gradgrad(lambda a, b: S.xlog1py(a, b), array(3), array(3, low=-0.5, high=2))


def test_softmax_family():
    x = array(3, 4)
    check_op(_fn("softmax", 1), x)
    check_op(_fn("log_softmax", 0), x)
    check_op(with_lib(lambda lib, t: lib.special.log_softmax(t, 1, dtype=lib.float64)), x)
    check_op(_fn("logsumexp", 1), x)
    check_op(_fn("logsumexp", (0, 1), keepdim=True), x)
    check_error(lambda lib: lib.special.softmax(lib.ones(3)), match="type")


def test_in_place_and_top_level():
    x = array(4, low=-3, high=3)
    check_op(with_lib(lambda lib, t: lib.i0(t)), x)
    check_op(with_lib(lambda lib, t: t.i0()), x)
    check_op(with_lib(lambda lib, t: t.clone().i0_() * 1), x)


def test_errors():
    check_error(lambda lib: lib.special.xlog1py(2.0, 3.0))
    check_error(lambda lib: lib.special.xlog1py(lib.ones(2, dtype=lib.complex64), lib.ones(2)))
    check_error(lambda lib: lib.special.i0([1.0]), match="type")


FORWARD = {
    "i0": lambda lib, t: lib.special.i0(t), "i1e": lambda lib, t: lib.special.i1e(t),
    "ndtr": lambda lib, t: lib.special.ndtr(t), "erfcx": lambda lib, t: lib.special.erfcx(t),
    "ndtri": lambda lib, t: lib.special.ndtri(t.sigmoid()),
    "log_ndtr": lambda lib, t: lib.special.log_ndtr(t), "entr": lambda lib, t: lib.special.entr(t),
    "xlog1py": lambda lib, t: lib.special.xlog1py(t, t.exp()) + lib.special.xlog1py(t, 2.0),
    "multigammaln": lambda lib, t: lib.special.multigammaln(t.exp() + 2, 3),
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit, inside torch's forward AD
@pytest.mark.parametrize("name", FORWARD)
def test_forward_mode(name):
    """Tangents (jvp) as torch's forward-mode AD gives them."""
    x, v = array(3, 4, low=0.1, high=2), array(3, 4)
    tangents = []
    for lib in (dyngrad, torch):
        fwd = lib.autograd.forward_ad
        with fwd.dual_level():
            dual = fwd.make_dual(lib.from_numpy(x.copy()), lib.from_numpy(v.copy()))
            tangents.append(fwd.unpack_dual(FORWARD[name](lib, dual)).tangent.numpy())
    np.testing.assert_allclose(tangents[0], tangents[1], rtol=1e-10, atol=1e-12)
