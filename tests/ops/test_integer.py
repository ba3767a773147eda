"""dyngrad/ops/integer.py against PyTorch: gcd, lcm and the bit shifts (functions, methods,
in-place forms and the << >> operators): values, dtype promotion, out-of-range shifts, errors."""

import numpy as np
import pytest

from tests.autograd.common import both
from tests.harness import check_error

A = np.array([12, -18, 0, 7, 0, -4, 2**40])
B = np.array([8, 12, 5, 0, 0, 6, 2**20])


def _ints(lib, a, dtype=None):
    return lib.tensor(a.tolist(), dtype=dtype)


CASES = {
    "gcd": lambda t: t.gcd(_ints(t, A), _ints(t, B)),
    "lcm": lambda t: t.lcm(_ints(t, A[:6]), _ints(t, B[:6])),
    "gcd_method": lambda t: _ints(t, A).gcd(_ints(t, B)),
    "gcd_broadcast": lambda t: t.gcd(_ints(t, A), t.tensor(4)),
    "gcd_promotes": lambda t: t.gcd(_ints(t, A[:6], t.int8), _ints(t, B[:6], t.int32)),
    "gcd_bool_operand": lambda t: t.gcd(_ints(t, A), t.tensor([True])),
    "lcm_wraps": lambda t: t.lcm(t.tensor([100], dtype=t.int8), t.tensor([3], dtype=t.int8)),
    "lcm_wraps_int64": lambda t: t.lcm(t.tensor([-2**62]), t.tensor([3])),
    "gcd_": lambda t: _ints(t, A).gcd_(_ints(t, B)),
    "gcd_int8_": lambda t: _ints(t, A[:6], t.int8).gcd_(_ints(t, B[:6])),
    "lcm_": lambda t: _ints(t, A[:6]).lcm_(_ints(t, B[:6])),
    "torch_gcd_": lambda t: t.gcd_(_ints(t, A), _ints(t, B)),
    "torch_lcm_": lambda t: t.lcm_(_ints(t, A[:6]), _ints(t, B[:6])),
    "lshift": lambda t: t.bitwise_left_shift(t.tensor([1, -8, 3], dtype=t.int32), 2),
    "rshift": lambda t: t.bitwise_right_shift(t.tensor([1, -8, 3], dtype=t.int32), 2),
    "lshift_op": lambda t: t.tensor([1, -8, 3], dtype=t.int32) << 2,
    "rshift_op_tensor": lambda t: t.tensor([1, -8, 3], dtype=t.int32) >> t.tensor([1, 2, 40]),
    "lshift_wide": lambda t: t.bitwise_left_shift(t.tensor([1, -8, 3]), t.tensor([1, 2, 40])),
    "lshift_out_of_range": lambda t: t.bitwise_left_shift(t.tensor([1, -8, 3]),
                                                          t.tensor([-1, 64, 65])),
    "rshift_out_of_range": lambda t: t.bitwise_right_shift(t.tensor([1, -8, 3]),
                                                           t.tensor([-1, 64, 70])),
    "rshift_scalar_out_of_range": lambda t: t.bitwise_right_shift(t.tensor([-200, 5]), 70),
    "shift_scalar_first": lambda t: t.bitwise_left_shift(2, t.tensor([1, 2, 3], dtype=t.int16)),
    "rlshift": lambda t: 2 << t.tensor([1, 2, 3], dtype=t.int32),
    "rrshift": lambda t: 64 >> t.tensor([1, 2, 3]),
    "uint8_wraps": lambda t: t.tensor([200], dtype=t.uint8) << 1,
    "uint8_shift_9": lambda t: t.bitwise_right_shift(t.tensor([200], dtype=t.uint8),
                                                     t.tensor([9], dtype=t.uint8)),
    "bool_and_int": lambda t: t.bitwise_left_shift(t.tensor([True]), 1),
    "ilshift": lambda t: _ilshift(t.tensor([1, 2], dtype=t.int8)),
    "irshift": lambda t: _irshift(t.tensor([64, -64])),
    "lshift_": lambda t: t.tensor([1, 2]).bitwise_left_shift_(3),
    "rshift_": lambda t: t.tensor([64, 32]).bitwise_right_shift_(t.tensor([1, 2])),
}


def _ilshift(x):
    x <<= 3
    return x


def _irshift(x):
    x >>= 2
    return x


@pytest.mark.parametrize("name", CASES)
def test_integer_ops(name):
    both(lambda lib: CASES[name](lib))


def test_inplace_forms_write_in_place():
    def prog(lib):
        x = lib.tensor([12, 18])
        y = x.gcd_(lib.tensor([8, 12]))
        z = lib.tensor([1, 2])
        z <<= 1
        return [y is x, x, x._version, z, z._version]

    both(prog)


ERRORS = {
    "gcd_float": lambda t: t.gcd(t.tensor([1.0]), t.tensor([1])),
    "gcd_scalar": lambda t: t.gcd(t.tensor([4]), 4),
    "gcd_input": lambda t: t.gcd(4, t.tensor([4])),
    "lcm_bool": lambda t: t.lcm(t.tensor([True]), t.tensor([True])),
    "lcm_complex": lambda t: t.lcm(t.tensor([1j]), t.tensor([1j])),
    "lshift_float": lambda t: t.bitwise_left_shift(t.tensor([1.0]), 2),
    "lshift_float_shift": lambda t: t.bitwise_left_shift(t.tensor([1]), 2.0),
    "rshift_float_op": lambda t: t.tensor([4]) >> 1.5,
    "lshift_bool_bool": lambda t: t.bitwise_left_shift(t.tensor([True]), t.tensor([True])),
    "rshift_float_tensor": lambda t: t.tensor([1.5]) >> 1,
    "lshift_grad": lambda t: t.tensor([1.5], requires_grad=True) << 1,
    "gcd_int8_into_bool": lambda t: t.tensor([True]).gcd_(t.tensor([3])),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])
