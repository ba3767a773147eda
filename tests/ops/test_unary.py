"""Elementwise unary ops against PyTorch: values, dtypes, grad_fn names, first and second order
gradients (contiguous and strided inputs), in-place and out= forms, special values and errors."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import (
    array,
    assert_same_outputs,
    check_error,
    check_op,
    fd_check,
    fd_gradgrad,
    with_lib,
)

# name -> (low, high, away_from_zero): a domain where the function and its derivatives are smooth
DOMAINS = {
    "exp": (-2, 2, 0), "exp2": (-2, 2, 0), "expm1": (-2, 2, 0), "log": (0.2, 3, 0),
    "log2": (0.2, 3, 0), "log10": (0.2, 3, 0), "log1p": (-0.8, 3, 0), "sqrt": (0.2, 3, 0),
    "rsqrt": (0.2, 3, 0), "sin": (-3, 3, 0), "cos": (-3, 3, 0), "tan": (-1.2, 1.2, 0),
    "asin": (-0.9, 0.9, 0), "acos": (-0.9, 0.9, 0), "atan": (-3, 3, 0), "sinh": (-2, 2, 0),
    "cosh": (-2, 2, 0), "tanh": (-2, 2, 0), "asinh": (-3, 3, 0), "acosh": (1.2, 3, 0),
    "atanh": (-0.9, 0.9, 0), "sigmoid": (-4, 4, 0), "relu": (-2, 2, 0.1), "abs": (-2, 2, 0.1),
    "sign": (-2, 2, 0.1), "sgn": (-2, 2, 0.1), "ceil": (-3, 3, 0), "floor": (-3, 3, 0),
    "round": (-3, 3, 0), "trunc": (-3, 3, 0), "frac": (-3, 3, 0), "square": (-2, 2, 0),
    "erf": (-2, 2, 0), "erfc": (-2, 2, 0), "erfinv": (-0.9, 0.9, 0), "lgamma": (0.2, 5, 0),
    "digamma": (0.2, 5, 0), "deg2rad": (-200, 200, 0), "rad2deg": (-3, 3, 0),
    "logit": (0.05, 0.95, 0), "sinc": (-2, 2, 0.1), "nan_to_num": (-2, 2, 0),
    "angle": (-2, 2, 0.1), "arcsin": (-0.9, 0.9, 0), "arccos": (-0.9, 0.9, 0),
    "arctan": (-3, 3, 0), "arcsinh": (-3, 3, 0), "arccosh": (1.2, 3, 0),
    "arctanh": (-0.9, 0.9, 0), "absolute": (-2, 2, 0.1), "fix": (-3, 3, 0),
}
FLOAT_RESULT = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
                "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
                "atanh", "sigmoid", "erf", "erfc", "erfinv", "lgamma", "digamma", "deg2rad",
                "rad2deg", "logit", "sinc", "angle"]
# torch.<name>_ functions (not every method has one)
# torch records asinh_, acosh_, atanh_ but has no derivative for them
NO_INPLACE_GRAD = {"asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"}
TORCH_INPLACE = ["abs", "exp", "log", "sqrt", "sin", "tanh", "sigmoid", "relu", "ceil", "round",
                 "frac", "erf", "deg2rad", "logit", "sinc", "nan_to_num", "arcsin", "fix"]


def _input(name, *shape):
    low, high, away = DOMAINS[name]
    return array(*shape, low=low, high=high, away_from_zero=away)


@pytest.mark.parametrize("name", DOMAINS)
def test_function_and_grads(name):
    """Function form: forward, grad_fn, first and second order gradients, strided inputs."""
    check_op(name, _input(name, 3, 4))


@pytest.mark.parametrize("name", DOMAINS)
def test_method(name):
    check_op("." + name, _input(name, 5))


@pytest.mark.parametrize("name", ["exp", "sin", "abs", "sign", "sgn", "sigmoid", "erf", "lgamma",
                                  "relu", "digamma", "erfinv"])
def test_shapes(name):
    for shape in [(), (1,), (2, 1, 3)]:
        check_op(name, _input(name, *shape))


@pytest.mark.parametrize("name", FLOAT_RESULT)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_inputs_give_default_float(name, dtype):
    low, high, _ = DOMAINS[name]
    values = np.array([0, 1, 2, 3]) if low >= 0 else np.array([-2, 0, 1, 2])
    if dtype == np.bool_:
        values = values > 0
    check_op(name, values.astype(dtype) if dtype != np.uint8 else np.abs(values).astype(dtype),
             dtypes=None)


def test_integer_inputs_default_float64():
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
    check_op("exp", np.array([1, 2, 3]))
    check_op("erf", np.array([True, False]))


@pytest.mark.parametrize("name", ["abs", "sign", "sgn", "ceil", "floor", "round", "trunc",
                                  "relu", "square", "nan_to_num", "fix", "absolute"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_integer_preserving(name, dtype):
    check_op(name, np.array([3, 0, 1, 7]) if dtype == np.uint8 else np.array([-3, 0, 1, 7],
                                                                               dtype))


@pytest.mark.parametrize("name", ["sign", "sgn", "square", "nan_to_num", "isnan", "signbit",
                                  "isfinite", "isposinf", "angle", "logical_not"])
def test_bool_inputs(name):
    check_op(name, np.array([True, False, True]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float16_and_float_dtypes(dtype):
    for name in ["exp", "erf", "lgamma", "sigmoid", "sqrt"]:
        check_op(name, _input(name, 4), dtypes=(np.float16,), gradgrad=False)


def test_sigmoid_tails():
    """Far from 0, where exp(-x) overflows: float16 is computed in float32, as PyTorch does."""
    x = np.array([-100.0, -20.0, -12.0, -5.0, 0.0, 5.0, 12.0, 20.0, 100.0])
    check_op("sigmoid", x, dtypes=(np.float16, np.float32, np.float64), gradgrad=False,
             noncontig=False)


# --- special values ----------------------------------------------------------------------------
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e-30, 50.0])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh", "relu",
                                  "abs", "sign", "sgn", "angle", "erf", "erfc", "lgamma",
                                  "digamma", "sinc", "nan_to_num", "isnan", "isinf",
                                  "isfinite", "isposinf", "isneginf", "signbit", "frac", "floor",
                                  "round", "logit", "erfinv", "expm1", "log1p", "atanh"])
def test_special_values_forward(name):
    check_op(name, SPECIAL, grad=False)


def test_special_function_accuracy_float64():
    """lgamma, digamma and polygamma over a wide range, negative non-integers included."""
    x = np.concatenate([np.linspace(-7.7, -0.1, 50), np.linspace(0.01, 30, 60), [1e-8, 1e8]])
    x = x[np.abs(x - np.round(x)) > 1e-3]
    for name in ["lgamma", "digamma", "erf", "erfc"]:
        check_op(name, x, dtypes=(np.float64,), grad=False, rtol=1e-9, atol=1e-12)
    for n in range(5):
        check_op(with_lib(lambda lib, t, n=n: lib.polygamma(n, t)), x, dtypes=(np.float64,),
                 grad=False, rtol=1e-7)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 101), [1 - 1e-12, -1 + 1e-15]])
    check_op("erfinv", y, dtypes=(np.float64,), grad=False, rtol=1e-9)


def test_special_function_poles():
    x = np.array([0.0, -0.0, -1.0, -2.0, -3.5])
    for name in ["lgamma", "digamma"]:
        check_op(name, x, dtypes=(np.float64,), grad=False)
    check_op(with_lib(lambda lib, t: lib.polygamma(2, t)), x, dtypes=(np.float64,), grad=False)


@pytest.mark.parametrize("name", ["relu", "abs", "sign", "sinc", "sgn", "angle", "clamp"])
def test_gradient_at_zero(name):
    """PyTorch's choices at non-differentiable points: abs'(0) = relu'(0) = 0, sinc'(0) = 0,
    clamp at a bound passes the gradient."""
    x = np.array([-1.0, 0.0, 0.0, 1.0])
    if name == "clamp":
        check_op(with_lib(lambda lib, t: lib.clamp(t, 0.0, 1.0)), x)
    else:
        check_op(name, x)


def test_gradients_at_nan_and_inf():
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    for fn in ["nan_to_num", "relu", "clamp"]:
        f = with_lib(lambda lib, t: lib.clamp(t, -1, 1)) if fn == "clamp" else fn
        check_op(f, x, gradgrad=False, noncontig=False)


# --- functions with arguments ------------------------------------------------------------------
def test_polygamma():
    x = array(3, 4, low=0.3, high=4)
    for n in range(4):
        check_op(with_lib(lambda lib, t, n=n: lib.polygamma(n, t)), x)
        check_op(lambda t, n=n: t.polygamma(n), x)


def test_polygamma_inplace():
    check_op(lambda t: (t * 1).polygamma_(2), array(4, low=0.5, high=3))


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals(decimals):
    x = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, 1234.5, -17.26, 0.125])
    check_op(with_lib(lambda lib, t: lib.round(t, decimals=decimals)), x)
    check_op(lambda t: t.round(decimals=decimals), x)


@pytest.mark.parametrize("eps", [None, 0.1, 1e-6, -1.0])
def test_logit_eps(eps):
    x = np.array([0.05, 0.3, 0.5, 0.92, 0.01, 0.99])
    check_op(with_lib(lambda lib, t: lib.logit(t, eps)), x)
    check_op(with_lib(lambda lib, t: lib.logit(t, eps)), np.array([-0.5, 0.0, 1.0, 1.5]),
             gradgrad=False)


@pytest.mark.parametrize("kw", [{}, {"nan": 1.5}, {"nan": 2.0, "posinf": 9.0, "neginf": -9.0}])
def test_nan_to_num_args(kw):
    x = np.array([np.nan, np.inf, -np.inf, 0.5, -3.0])
    check_op(with_lib(lambda lib, t: lib.nan_to_num(t, **kw)), x)
    check_op(with_lib(lambda lib, t: lib.nan_to_num(t, **kw)), x, dtypes=(np.float16,),
             grad=False)


CLAMPS = {
    "both": lambda lib, x: lib.clamp(x, -0.5, 0.7),
    "min": lambda lib, x: lib.clamp(x, min=-0.5),
    "max": lambda lib, x: lib.clamp(x, max=0.3),
    "crossed": lambda lib, x: lib.clamp(x, 0.7, -0.5),
    "clip": lambda lib, x: lib.clip(x, -1, 1),
    "method": lambda lib, x: x.clamp(-0.5, 0.5),
    "clamp_min": lambda lib, x: lib.clamp_min(x, 0.1),
    "clamp_max": lambda lib, x: x.clamp_max(0.1),
    "int_bounds": lambda lib, x: lib.clamp(x, -1, 1),
}


@pytest.mark.parametrize("name", CLAMPS)
def test_clamp_scalar_bounds(name):
    check_op(with_lib(CLAMPS[name]), array(3, 4))


TENSOR_CLAMPS = {
    "both": lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
    "min": lambda lib, x, lo, hi: lib.clamp(x, min=lo),
    "max": lambda lib, x, lo, hi: lib.clamp(x, max=hi),
    "crossed": lambda lib, x, lo, hi: lib.clamp(x, hi, lo),
    "clamp_min": lambda lib, x, lo, hi: lib.clamp_min(x, lo),
    "clamp_max": lambda lib, x, lo, hi: x.clamp_max(hi),
}


@pytest.mark.parametrize("name", TENSOR_CLAMPS)
def test_clamp_tensor_bounds(name):
    lo, hi = array(4, low=-1, high=0), array(3, 1, low=0, high=1)
    check_op(with_lib(TENSOR_CLAMPS[name]), array(3, 4), lo, hi)


def test_clamp_ties_and_dtypes():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    check_op(with_lib(lambda lib, t, lo, hi: lib.clamp(t, lo, hi)), x, np.zeros(5), np.ones(5))
    check_op(with_lib(lambda lib, t: lib.clamp(t, 0.5)), np.array([1, -2, 3]))
    check_op(with_lib(lambda lib, t: lib.clamp(t, 0, 2)), np.array([1, -2, 3]))
    check_op(with_lib(lambda lib, t: lib.clamp(t, 0)), np.array([True, False]))
    check_op(with_lib(lambda lib, t, lo: lib.clamp(t, lo)), x, np.array([0, 1, 0, 1, 3]))
    check_op(with_lib(lambda lib, t, lo: lib.clamp_max(t, lo)), np.array([1, -2, 3]),
             np.array([0.5, 0.0, 4.0]))


# --- complex -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs",
                                  "sgn", "angle", "expm1", "rsqrt", "asinh", "conj"])
def test_complex(name):
    z = array(3, 2, dtype=np.complex128, away_from_zero=0.3)
    check_op(name, z, dtypes=(np.float64,), rtol=1e-6, atol=1e-7)


def test_real_imag_and_conj_of_real_tensors():
    for lib in (dyngrad, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert lib.real(x) is x and x.real is x and lib.conj(x) is x and x.conj() is x
    check_error(lambda lib: lib.imag(lib.tensor([1.0])))


def test_real_imag_of_complex():
    z = array(3, dtype=np.complex128)
    check_op(with_lib(lambda lib, t: lib.real(t) * 2 + lib.imag(t) ** 2), z, dtypes=(np.float64,))
    check_op(lambda t: t.real + t.imag, z, dtypes=(np.float64,))


# --- in-place and out= -------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in DOMAINS if n not in ("angle",)])
def test_inplace_method(name):
    x = _input(name, 3, 2)
    if name not in NO_INPLACE_GRAD:
        check_op(lambda t: getattr(t * 1, name + "_")(), x)
    else:
        check_op(lambda t: getattr(t * 1, name + "_")(), x, grad=False)
        check_error(lambda lib: getattr(lib.tensor(x, requires_grad=True) * 1, name + "_")()
                    .backward(lib.ones(3, 2)))


@pytest.mark.parametrize("name", TORCH_INPLACE)
def test_torch_inplace_function(name):
    check_op(with_lib(lambda lib, t: getattr(lib, name + "_")(t * 1)), _input(name, 4))


def test_inplace_clamp_forms():
    for f in [lambda t: (t * 1).clamp_(-0.5, 0.5), lambda t: (t * 1).clip_(max=0.2),
              lambda t: (t * 1).clamp_min_(0.0), lambda t: (t * 1).clamp_max_(0.1)]:
        check_op(f, array(3, 4))
    check_op(with_lib(lambda lib, t: lib.clamp_(t * 1, -0.5, 0.5)), array(4))


def test_inplace_saved_result_is_checked():
    """exp saves its result: modifying it in place before backward is an error, as in torch."""
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.backward(lib.ones(2))

    check_error(run, match="prefix")


def test_inplace_errors():
    check_error(lambda lib: lib.tensor([1.0], requires_grad=True).exp_())
    check_error(lambda lib: lib.tensor([1, 2]).exp_())
    check_error(lambda lib: lib.tensor([1, 2]).sigmoid_())
    check_error(lambda lib: lib.sqrt_(lib.tensor([1, 2])))
    assert_same_outputs(dyngrad.tensor([-1, 2]).abs_(), torch.tensor([-1, 2]).abs_(), "abs_")


def test_out():
    for lib_name in ("exp", "sin", "abs", "erf", "clamp"):
        def run(lib, lib_name=lib_name):
            x = lib.tensor([0.5, -1.0, 2.0])
            out = lib.empty(0)
            extra = (0.0, 1.0) if lib_name == "clamp" else ()
            res = getattr(lib, lib_name)(x, *extra, out=out)
            assert res is out
            return out

        assert_same_outputs(run(dyngrad), run(torch), lib_name)
    check_error(lambda lib: lib.exp(lib.tensor([1.0]), out=lib.empty(1, dtype=lib.int64)))
    check_error(lambda lib: lib.exp(lib.tensor([1.0], requires_grad=True), out=lib.empty(1)))


# --- bool tests and errors ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf",
                                  "signbit"])
def test_predicates(name):
    check_op(name, SPECIAL)
    check_op(name, np.array([-2, 0, 5]))
    check_op("." + name, SPECIAL)


ERRORS = {
    "exp(int)": lambda lib: lib.exp(3),
    "abs(bool)": lambda lib: lib.abs(lib.tensor([True])),
    "relu(bool)": lambda lib: lib.relu(lib.tensor([True])),
    "relu(complex)": lambda lib: lib.relu(lib.tensor([1j])),
    "sign(complex)": lambda lib: lib.sign(lib.tensor([1j])),
    "ceil(bool)": lambda lib: lib.ceil(lib.tensor([True])),
    "floor(complex)": lambda lib: lib.floor(lib.tensor([1j])),
    "round(bool)": lambda lib: lib.round(lib.tensor([True])),
    "round(complex)": lambda lib: lib.round(lib.tensor([1j])),
    "round(int, decimals)": lambda lib: lib.round(lib.tensor([1]), decimals=1),
    "frac(int)": lambda lib: lib.frac(lib.tensor([1])),
    "frac(int32)": lambda lib: lib.frac(lib.tensor([1], dtype=lib.int32)),
    "erf(complex)": lambda lib: lib.erf(lib.tensor([1j])),
    "digamma(complex)": lambda lib: lib.digamma(lib.tensor([1j])),
    "logit(complex)": lambda lib: lib.logit(lib.tensor([1j])),
    "deg2rad(complex)": lambda lib: lib.deg2rad(lib.tensor([1j])),
    "isposinf(complex)": lambda lib: lib.isposinf(lib.tensor([1j])),
    "signbit(complex)": lambda lib: lib.signbit(lib.tensor([1j])),
    "clamp()": lambda lib: lib.clamp(lib.tensor([1.0])),
    "clamp_()": lambda lib: lib.tensor([1.0]).clamp_(),
    "clamp(complex)": lambda lib: lib.clamp(lib.tensor([1j]), 0),
    "clamp(mixed)": lambda lib: lib.clamp(lib.tensor([1.0]), 0.0, lib.tensor([1.0])),
    "clamp(shape)": lambda lib: lib.clamp(lib.ones(3), lib.zeros(2)),
    "polygamma(-1)": lambda lib: lib.polygamma(-1, lib.tensor([1.0])),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


# --- finite differences (independent of torch) -------------------------------------------------
@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "lgamma", "digamma", "sinc", "logit",
                                  "atanh", "acosh", "rsqrt", "sigmoid", "tan", "log1p"])
def test_finite_differences(name):
    x = _input(name, 4)
    fd_check(getattr(dyngrad, name), x)
    fd_gradgrad(getattr(dyngrad, name), x)


def test_finite_differences_polygamma():
    x = array(3, low=0.5, high=3)
    fd_check(lambda t: dyngrad.polygamma(2, t), x)
    fd_gradgrad(lambda t: dyngrad.polygamma(1, t), x)
