"""Comparisons, logical/bitwise ops, where, and binary elementwise functions against PyTorch:
values, dtypes (PyTorch's promotion), grad_fn names, gradients of first and second order with
broadcasting and strided inputs, in-place forms and errors."""

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

SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (3,))]
COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]
OPERATORS = {"==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
             "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}


def _with_ties(*shape):
    """Values on a coarse grid, so that comparisons and maximum see ties."""
    return np.asarray(np.round(array(*shape), 0) / 2)


# --- comparisons -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", COMPARISONS)
@pytest.mark.parametrize("sx,sy", SHAPES, ids=str)
def test_comparison_functions(name, sx, sy):
    check_op(name, _with_ties(*sx), _with_ties(*sy))
    check_op("." + name, _with_ties(*sx), _with_ties(*sy))


@pytest.mark.parametrize("op", OPERATORS)
def test_comparison_operators(op):
    f = OPERATORS[op]
    check_op(f, _with_ties(3, 4), _with_ties(4))
    for scalar in (0.5, 1, True, np.float64(0.5)):
        check_op(lambda x, s=scalar: f(x, s), _with_ties(3, 4))
        check_op(lambda x, s=scalar: f(s, x), _with_ties(3, 4))


@pytest.mark.parametrize("a,b", [
    (np.array([1, -2, 3]), np.array([1.0, 2.0, 3.5])),
    (np.array([1, 2, 3], np.uint8), np.array([1, -2, 3], np.int8)),
    (np.array([True, False]), np.array([1, 0])),
    (np.array([1, 2], np.int32), 1.5),
    (np.array([1, 2], np.uint8), -1),
    (np.array([1, 2], np.uint8), 257),
    (np.array([1.0, 2.0], np.float32), np.array(2.0, np.float64)),
    (np.array([1 + 1j, 2]), np.array([1 + 1j, 2 - 1j])),
], ids=str)
def test_comparison_promotion(a, b):
    for name in ["eq", "ne"] + ([] if np.iscomplexobj(a) else ["lt", "ge"]):
        check_op(name, a, b, dtypes=None)


def test_comparison_special_operands():
    for lib in (dyngrad, torch):
        x = lib.tensor([1.0, 2.0])
        assert (x == None) is False and (x != None) is True  # noqa: E711 - the operator is tested
        assert (x == "a") is False and (x == [1.0, 2.0]) is False
    check_error(lambda lib: lib.tensor([1.0]) < "a")
    check_error(lambda lib: lib.tensor([1.0]) >= None)


COMPARISON_ERRORS = {
    "lt(complex)": lambda lib: lib.lt(lib.tensor([1j]), lib.tensor([1j])),
    "gt(complex scalar)": lambda lib: lib.tensor([1j]) > 0,
    "shape": lambda lib: lib.eq(lib.ones(3), lib.ones(2)),
}


@pytest.mark.parametrize("name", COMPARISON_ERRORS)
def test_comparison_errors(name):
    check_error(COMPARISON_ERRORS[name])


def test_comparison_never_requires_grad_and_out():
    check_op(lambda x, y: (x < y, x == 1.0, x.ge(y)), array(3), array(3))

    def run(lib):
        out = lib.empty(0)
        lib.lt(lib.tensor([1.0, 2.0]), 1.5, out=out)
        return out

    assert_same_outputs(run(dyngrad), run(torch), "lt(out=float)")


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal"])
def test_comparison_inplace(name):
    """In place, the result is cast to the tensor's dtype and PyTorch records a zero gradient."""
    check_op(lambda x: getattr(x * 1, name + "_")(0.0), _with_ties(3, 4))
    check_op(lambda x, y: getattr(x * 1, name + "_")(y), _with_ties(3, 4), _with_ties(4))
    check_op(lambda x: getattr(x, name + "_")(1.5), np.array([1, 2, 3]))


def test_equal_allclose_isclose():
    for lib in (dyngrad, torch):
        t = lib.tensor
        nan = float("nan")
        results = [
            lib.equal(t([1.0, 2.0]), t([1.0, 2.0])), lib.equal(t([1, 2]), t([1.0, 2.0])),
            lib.equal(t([1.0]), t([1.0, 1.0])), lib.equal(t([nan]), t([nan])),
            t([1.0, 2.0]).equal(t([1.0, 2.5])),
            lib.allclose(t([1.0, 2.0]), t([1.0, 2.0 + 1e-7])),
            lib.allclose(t([1.0, nan]), t([1.0, nan])),
            lib.allclose(t([1.0, nan]), t([1.0, nan]), equal_nan=True),
            t([1.0, 2.0]).allclose(t([1.1, 2.0]), rtol=0.2),
            lib.allclose(t([1.0, 2.0, 3.0]), t([1.0])),
        ]
        if lib is dyngrad:
            dg = results
        else:
            assert dg == results
    a = np.array([1.0, 2.0, np.inf, -np.inf, np.nan, 1e-9, 100.0])
    b = np.array([1.0 + 1e-6, 2.1, np.inf, np.inf, np.nan, 0.0, 100.001])
    for kw in [{}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0}, {"atol": 1e-3}]:
        check_op(with_lib(lambda lib, x, y, kw=kw: lib.isclose(x, y, **kw)), a, b)
        check_op(lambda x, y, kw=kw: x.isclose(y, **kw), a, b)
    check_op(with_lib(lambda lib, x, y: lib.isclose(x, y, atol=1, rtol=0)),
             np.array([1, 5, 9]), np.array([2, 7, 9]))
    check_op(with_lib(lambda lib, x, y: lib.isclose(x, y)), np.array([True, False]),
             np.array([True, True]))
    check_op(with_lib(lambda lib, x, y: lib.isclose(x, y)), array(3, 1), array(4))


CLOSE_ERRORS = {
    "dtypes": lambda lib: lib.isclose(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    "int-float": lambda lib: lib.allclose(lib.tensor([1]), lib.tensor([1.0])),
    "rtol": lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-1),
    "atol": lambda lib: lib.isclose(lib.ones(2), lib.ones(2), atol=-0.5),
    "scalar": lambda lib: lib.isclose(lib.ones(2), 1.0),
    "shape": lambda lib: lib.isclose(lib.ones(3), lib.ones(2)),
    "equal(number)": lambda lib: lib.equal(lib.ones(3), 3),
}


@pytest.mark.parametrize("name", CLOSE_ERRORS)
def test_close_errors(name):
    check_error(CLOSE_ERRORS[name])


# --- logical and bitwise -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical(name):
    x, y = _with_ties(3, 4), _with_ties(4)
    check_op(name, x, y)
    check_op("." + name, np.array([1, 0, 2]), np.array([True, False, False]))
    check_op(name, np.array([1j, 0j]), np.array([0.0, 1.0]), dtypes=None)
    check_op(lambda a, b: getattr(a, name + "_")(b), np.array([1.0, 0.0, 2.0]),
             np.array([True, False, False]), requires_grad=[False, False])
    check_error(lambda lib: getattr(lib, name)(lib.ones(2), 1))


def test_logical_not():
    check_op("logical_not", _with_ties(3, 4))
    check_op(".logical_not", np.array([0, 3, -1]))
    check_op(lambda x: x.logical_not_(), np.array([0.0, 2.0]), requires_grad=[False])


def test_logical_inplace_keeps_history():
    """PyTorch records nothing for logical_*_: the tensor keeps its old grad_fn."""
    check_op(lambda x: (x * 2).logical_or_(x > 0), array(4))
    check_op(lambda x: (x * 2).logical_not_(), array(4))


BITWISE = {"&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y}


@pytest.mark.parametrize("op", BITWISE)
def test_bitwise_operators(op):
    f = BITWISE[op]
    i, j = np.array([[1, -2, 3], [12, 7, 0]]), np.array([5, 6, -7], np.int32)
    b, c = np.array([True, False, True]), np.array([True, True, False])
    for x, y in [(i, j), (b, c), (i, b), (b, 1), (b, True), (1, b), (i, 2), (5, i),
                 (j.astype(np.uint8), 3)]:
        check_op(f, x, y)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_functions(name):
    i, j = np.array([1, -2, 3]), np.array([5, 6, 7])
    check_op(name, i, j)
    check_op("." + name, i, j)
    check_op(with_lib(lambda lib, x: getattr(lib, name)(1, x)), i)
    check_op(lambda x, y: getattr(x, name + "_")(y), i, np.array([True, False, True]))
    check_error(lambda lib: getattr(lib, name)(lib.ones(2), lib.ones(2)))
    check_error(lambda lib: getattr(lib, name)(lib.tensor([1, 2]), 1.5))
    check_error(lambda lib: getattr(lib, name)(lib.tensor([1j]), lib.tensor([1j])))


def test_bitwise_not_and_inplace_operators():
    check_op(lambda x: ~x, np.array([1, -2, 0]))
    check_op(lambda x: ~x, np.array([True, False]))
    check_op("bitwise_not", np.array([3, 0], np.uint8))
    check_op(lambda x: x.bitwise_not_(), np.array([1, -2, 0]))

    def iops(lib):
        i = lib.tensor([1, 2, 3])
        i &= lib.tensor([True, False, True])
        i |= 4
        i ^= lib.tensor([1, 1, 1])
        return i

    assert_same_outputs(iops(dyngrad), iops(torch), "in-place bitwise")
    check_error(lambda lib: ~lib.tensor([1.0]))
    check_error(lambda lib: lib.bitwise_not(lib.tensor([1.0])))
    check_error(lambda lib: lib.tensor([True]).__iand__(lib.tensor([2])))
    check_error(lambda lib: lib.tensor([1]) & "a")


# --- where -------------------------------------------------------------------------------------
@pytest.mark.parametrize("sc,sx,sy", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)),
                                      ((4,), (3, 4), ()), ((3, 1), (1, 4), (4,))], ids=str)
def test_where(sc, sx, sy):
    cond = array(*sc) > 0
    check_op(with_lib(lambda lib, c, x, y: lib.where(c, x, y)), cond, array(*sx), array(*sy))
    check_op(lambda c, x, y: x.where(c, y), cond, array(*sx), array(*sy))


def test_where_scalars_and_promotion():
    cond = np.array([True, False, True])
    x, i = array(3), np.array([1, 2, 3])
    check_op(with_lib(lambda lib, c, x: lib.where(c, x, 0.0)), cond, x)
    check_op(with_lib(lambda lib, c, x: lib.where(c, 2, x)), cond, x)
    check_op(with_lib(lambda lib, c, x: lib.where(c, x, 1j)), cond, x)
    check_op(with_lib(lambda lib, c: lib.where(c, 1, 0)), cond)
    check_op(with_lib(lambda lib, c: lib.where(c, 1.0, 0)), cond)
    check_op(with_lib(lambda lib, c, i: lib.where(c, i, 1.5)), cond, i)
    check_op(with_lib(lambda lib, c, i, x: lib.where(c, i, x)), cond, i, x)
    check_op(with_lib(lambda lib, c, x, y: lib.where(c, x, y)), cond, x,
             np.array(2.0, np.float64), dtypes=(np.float32,))
    check_op(with_lib(lambda lib, c: lib.where(c)), np.array([[True, False], [False, True]]))


def test_where_uint8_condition_warns():
    for lib in (dyngrad, torch):
        with pytest.warns(UserWarning, match="uint8 condition"):
            lib.where(lib.tensor([1, 0], dtype=lib.uint8), lib.ones(2), lib.zeros(2))


WHERE_ERRORS = {
    "float condition": lambda lib: lib.where(lib.ones(2), lib.ones(2), lib.ones(2)),
    "shape": lambda lib: lib.where(lib.ones(2, dtype=lib.bool), lib.ones(3), 0.0),
    "out with grad": lambda lib: lib.where(lib.ones(2, dtype=lib.bool),
                                           lib.ones(2, requires_grad=True), 0.0,
                                           out=lib.empty(2)),
}


@pytest.mark.parametrize("name", WHERE_ERRORS)
def test_where_errors(name):
    check_error(WHERE_ERRORS[name])


def test_where_condition_not_tensor():
    check_error(lambda lib: lib.where(True, lib.ones(2), lib.ones(2)), match="type")


# --- differentiable binary functions -----------------------------------------------------------
# name -> (x domain, y domain) as (low, high)
BINARY = {
    "maximum": ((-2, 2), (-2, 2)), "minimum": ((-2, 2), (-2, 2)), "fmax": ((-2, 2), (-2, 2)),
    "fmin": ((-2, 2), (-2, 2)), "copysign": ((-2, 2), (-2, 2)), "atan2": ((-2, 2), (-2, 2)),
    "arctan2": ((-2, 2), (-2, 2)), "hypot": ((-2, 2), (-2, 2)), "logaddexp": ((-3, 3), (-3, 3)),
    "logaddexp2": ((-3, 3), (-3, 3)), "xlogy": ((-2, 2), (0.2, 3)),
}


def _pair(name, sx, sy):
    (xl, xh), (yl, yh) = BINARY[name]
    return array(*sx, low=xl, high=xh, away_from_zero=0.1), array(*sy, low=yl, high=yh,
                                                                  away_from_zero=0.1)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("sx,sy", SHAPES, ids=str)
def test_binary_functions(name, sx, sy):
    check_op(name, *_pair(name, sx, sy))


@pytest.mark.parametrize("name", BINARY)
def test_binary_methods_and_inplace(name):
    x, y = _pair(name, (3, 4), (4,))
    check_op("." + name, x, y)
    if hasattr(torch.Tensor, name + "_"):
        check_op(lambda a, b: getattr(a * 1, name + "_")(b), x, y)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_extrema_ties_nan_and_dtypes(name):
    """maximum splits a tie's gradient evenly; fmax gives it to the input and skips NaN."""
    x = np.array([1.0, 2.0, -1.0, np.nan, 0.5, np.nan])
    y = np.array([1.0, 0.5, 3.0, 1.0, np.nan, np.nan])
    check_op(name, x, y, gradgrad=False)
    check_op(name, _with_ties(3, 4), _with_ties(4))
    check_op(name, np.array([1, -2, 3]), np.array([1.5, 0.0, 2.0], np.float16))
    check_op(name, np.array([1, -2, 3]), np.array([2, -5, 3], np.int32))
    check_op(name, np.array([True, False]), np.array([False, False]))
    check_op(name, array(3), np.array(0.5, np.float64), dtypes=(np.float32,))
    check_error(lambda lib: getattr(lib, name)(lib.ones(2), 1.0))
    check_error(lambda lib: getattr(lib, name)(lib.tensor([1j]), lib.tensor([1j])))


def test_copysign_scalars_and_zeros():
    check_op(with_lib(lambda lib, x: lib.copysign(x, -1.5)), array(3, 4))
    check_op(with_lib(lambda lib, x: x.copysign(2)), np.array([0.0, -0.0, 1.0, -2.0]))
    check_op("copysign", np.array([0.0, -0.0, 1.0, -2.0]), np.array([-0.0, 1.0, -1.0, np.nan]),
             gradgrad=False)
    check_op("copysign", np.array([1, -2, 3]), np.array([-1, 1, -1]))
    check_op("copysign", np.array([True, False]), np.array([True, True]))
    check_op(lambda x: (x * 1).copysign_(-1.0), array(4))
    check_error(lambda lib: lib.copysign(lib.tensor([1j]), lib.tensor([1j])))


def test_float_pair_dtypes_and_errors():
    i, f = np.array([3, 4, 0]), np.array([4.0, 3.0, 0.5])
    check_op("atan2", i, i)
    check_op("atan2", np.array([True, False]), np.array([True, True]))
    check_op("hypot", i, f)
    check_op("logaddexp2", i, f)
    check_op("logaddexp", np.array([-np.inf, np.inf, 0.0]), np.array([-np.inf, np.inf, 1.0]),
             grad=False)
    check_op("logaddexp", np.array([1 + 1j, 2.0]), np.array([0.5j, 1.0 + 1j]), dtypes=None)
    for name in ["hypot", "logaddexp", "logaddexp2"]:
        check_error(lambda lib, name=name: getattr(lib, name)(lib.tensor([1]), lib.tensor([2])))
    for name in ["atan2", "hypot", "logaddexp", "logaddexp2"]:
        check_error(lambda lib, name=name: getattr(lib, name)(lib.ones(2), 2.0))
    for name in ["atan2", "hypot", "logaddexp2", "xlogy"]:
        check_error(lambda lib, name=name: getattr(lib, name)(lib.tensor([1j]), lib.tensor([1j])))


def test_xlogy_scalars_and_zeros():
    x, y = np.array([0.0, 0.0, 1.0, 2.0, 0.0]), np.array([0.0, np.nan, 2.0, 0.5, 3.0])
    check_op("xlogy", x, y, gradgrad=False)
    check_op(with_lib(lambda lib, t: lib.xlogy(t, 2.0)), np.array([0.0, 1.5, -2.0]))
    check_op(with_lib(lambda lib, t: lib.xlogy(t, 0.0)), np.array([0.0, 1.5, -2.0]),
             gradgrad=False)
    check_op(with_lib(lambda lib, t: lib.xlogy(2, t)), array(3, low=0.2, high=3))
    check_op(with_lib(lambda lib, t: lib.xlogy(0.0, t)), array(3, low=0.2, high=3))
    check_op("xlogy", np.array([0, 1, 3]), np.array([0, 2, 5]))
    check_op(with_lib(lambda lib, t: lib.xlogy_(t * 1, 3.0)), array(4))
    check_error(lambda lib: lib.xlogy(2, 3), match="type")


# --- heaviside ---------------------------------------------------------------------------------
def test_heaviside():
    x = np.array([-1.0, 0.0, 2.0, np.nan, -0.0])
    check_op("heaviside", x, np.array([0.5]), grad=False)
    check_op(".heaviside", x, np.array([0.5, 1.0, 2.0, 3.0, 4.0]), grad=False)
    check_op("heaviside", np.array([-3, 0, 2]), np.array([7, 7, 7]))
    check_op(lambda a, b: a.heaviside_(b), x, np.array([0.25]), requires_grad=[False, False])
    check_op("heaviside", x, np.array([0.5]), grad=False)

    def backward(lib):
        x = lib.tensor([-1.0, 0.0, 1.0], requires_grad=True)
        lib.heaviside(x, lib.tensor([0.5])).backward(lib.ones(3))

    check_error(backward)
    check_error(lambda lib: lib.heaviside(lib.ones(2), lib.ones(2, dtype=lib.float64)))
    check_error(lambda lib: lib.heaviside(lib.ones(2), 0.5))
    check_error(lambda lib: lib.heaviside(lib.tensor([1j]), lib.tensor([1j])))


# --- lerp, addcmul, addcdiv --------------------------------------------------------------------
@pytest.mark.parametrize("weight", [0.3, 0.7, -1.5, 2])
def test_lerp_scalar_weight(weight):
    check_op(with_lib(lambda lib, x, y: lib.lerp(x, y, weight)), array(3, 4), array(4))
    check_op(lambda x, y: x.lerp(y, weight), array(3, 4), array(3, 4))
    check_op(lambda x, y: (x * 1).lerp_(y, weight), array(3, 4), array(4))


def test_lerp_tensor_weight():
    w = np.array([0.2, 0.5, 0.8, -2.0])
    check_op("lerp", array(3, 4), array(3, 1), w)
    check_op(".lerp", array(4), array(4), array(3, 1))
    check_op(lambda x, y, w: (x * 1).lerp_(y, w), array(3, 4), array(4), w)
    check_op(with_lib(lambda lib, x, y: lib.lerp(x, y, lib.tensor(1))), array(3), array(3))


LERP_ERRORS = {
    "end dtype": lambda lib: lib.lerp(lib.ones(2), lib.ones(2, dtype=lib.float64), 0.5),
    "weight dtype": lambda lib: lib.lerp(lib.ones(2), lib.ones(2), lib.ones(2, dtype=lib.float64)),
    "end int": lambda lib: lib.lerp(lib.ones(2), lib.tensor([1, 2]), 0.5),
    "int": lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([1, 2]), 0.5),
    "int tensor weight": lambda lib: lib.lerp(lib.tensor([1]), lib.tensor([1]), lib.tensor([1])),
    "end scalar": lambda lib: lib.lerp(lib.ones(2), 1.0, 0.5),
}


@pytest.mark.parametrize("name", LERP_ERRORS)
def test_lerp_errors(name):
    check_error(LERP_ERRORS[name], match="type" if name == "end scalar" else "exact")


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [1, 0.5, -2])
def test_addcmul_addcdiv(name, value):
    x, t1 = array(3, 4), array(4)
    t2 = array(3, 1, away_from_zero=0.5)
    check_op(with_lib(lambda lib, a, b, c: getattr(lib, name)(a, b, c, value=value)), x, t1, t2)
    check_op(lambda a, b, c: getattr(a, name)(b, c, value=value), x, t1, t2)
    check_op(lambda a, b, c: getattr(a * 1, name + "_")(b, c, value=value), x, t1, t2)


def test_addc_dtypes_and_errors():
    i = np.array([1, -2, 3])
    check_op(with_lib(lambda lib, a, b, c: lib.addcmul(a, b, c, value=2)), i, i, i)
    check_op(with_lib(lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5)), i, i, i)
    check_op(with_lib(lambda lib, a, b, c: lib.addcmul(a, b, c)), i, array(3), array(3))
    check_op(with_lib(lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2)), i, array(3),
             np.array([1, 2, 4]), grad=False)  # torch's own backward fails on an int tensor2
    check_op(with_lib(lambda lib, a, b, c: lib.addcmul(a, b, c, value=lib.tensor(2.0))),
             array(3), array(3), array(3))
    check_op(with_lib(lambda lib, a, b, c: lib.addcmul(a, b, c, value=True)),
             array(3), array(3), array(3))
    check_error(lambda lib: lib.addcdiv(lib.tensor([1]), lib.tensor([1]), lib.tensor([2])))
    check_error(lambda lib: lib.addcdiv(lib.ones(2), lib.tensor([1]), lib.tensor([2])))
    check_error(lambda lib: lib.addcmul(lib.ones(3), lib.ones(2), lib.ones(3)))
    check_error(lambda lib: lib.addcmul(*(lib.tensor([True]),) * 3))


# --- finite differences (independent of torch) -------------------------------------------------
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy",
                                  "copysign", "maximum"])
def test_finite_differences(name):
    x, y = _pair(name, (4,), (4,))
    f = getattr(dyngrad, name)
    fd_check(f, x, y)
    fd_gradgrad(f, x, y)


def test_finite_differences_lerp_addc():
    x, y, w = array(4), array(4), array(4)
    fd_gradgrad(lambda a, b, c: dyngrad.lerp(a, b, c), x, y, w)
    fd_gradgrad(lambda a, b, c: dyngrad.addcdiv(a, b, c, value=0.7), x, y,
                array(4, away_from_zero=0.5))
    fd_gradgrad(lambda a, b: dyngrad.where(a > 0, a * b, b), x, y)


# --- isin --------------------------------------------------------------------------------------
ISIN = {
    "tensors": lambda t: t.isin(t.tensor([[1, 2], [3, 4]]), t.tensor([2, 3])),
    "scalar_test": lambda t: t.isin(t.tensor([[1, 2], [3, 4]]), 2),
    "scalar_element": lambda t: t.isin(2, t.tensor([[1, 2], [3, 4]])),
    "invert": lambda t: t.isin(t.tensor([1, 2, 3]), t.tensor([2, 3]), invert=True),
    "promoted": lambda t: t.isin(t.tensor([1, 2, 3]), t.tensor([2.0, 3.5])),
    "float_elements": lambda t: t.isin(t.tensor([1.0, 2.0]), t.tensor([2, 3])),
    "assume_unique_2d_test": lambda t: t.isin(t.tensor([1, 2, 3]), t.tensor([[2], [3]]),
                                              assume_unique=True),
    "nan": lambda t: t.isin(t.tensor([float("nan"), 1.0]), t.tensor([float("nan"), 1.0])),
    "int8_test": lambda t: t.isin(t.tensor([1, 2, 3]), t.tensor([2, 3], dtype=t.int8)),
    "empty": lambda t: t.isin(t.tensor([]), t.tensor([1.0])),
}


@pytest.mark.parametrize("name", ISIN)
def test_isin(name):
    assert_same_outputs(ISIN[name](dyngrad), ISIN[name](torch), name)


ISIN_ERRORS = {
    "complex": lambda t: t.isin(t.tensor([1j]), t.tensor([1j])),
    "bool": lambda t: t.isin(t.tensor([True]), t.tensor([True])),
    "numbers": lambda t: t.isin(2, 3),
}


@pytest.mark.parametrize("name", ISIN_ERRORS)
def test_isin_errors(name):
    check_error(ISIN_ERRORS[name])
