"""dyngrad/ops/callbacks.py against PyTorch: apply_, map_ and map2_ (Python callbacks on each
element): values, the Python types the callback sees, element order, conversions back to the
tensor's dtype, broadcasting, version counters and errors."""

import pytest

from tests.autograd.common import both
from tests.harness import check_error

CASES = {
    "apply_float": lambda t: t.tensor([1.0, 2.0]).apply_(lambda v: v * 2),
    "apply_int_truncates": lambda t: t.tensor([1, 2]).apply_(lambda v: v * 2.7),
    "apply_bool": lambda t: t.tensor([True, False]).apply_(lambda v: not v),
    "apply_complex": lambda t: t.tensor([1 + 1j]).apply_(lambda v: v * 2),
    "apply_uint8_wraps": lambda t: t.tensor([1, 2], dtype=t.uint8).apply_(lambda v: -1),
    "apply_2d": lambda t: t.arange(6.0).reshape(2, 3).apply_(lambda v: v ** 2),
    "map_": lambda t: t.tensor([1.0, 2.0]).map_(t.tensor([3.0, 4.0]), lambda a, b: a + b),
    "map_broadcast": lambda t: t.tensor([1.0, 2.0]).map_(t.tensor([3.0]), lambda a, b: a + b),
    "map2_": lambda t: t.tensor([1.0, 2.0]).map2_(t.tensor([3.0, 4.0]), t.tensor([5.0, 6.0]),
                                                  lambda a, b, c: a + b * c),
}


@pytest.mark.parametrize("name", CASES)
def test_callbacks(name):
    both(lambda lib: CASES[name](lib))


def test_callback_arguments_and_state():
    """Elements arrive as Python numbers in row-major order of the (transposed) indices; the
    tensor is returned, written in place, and its version is left alone (as in PyTorch)."""
    def prog(lib):
        seen = []
        x = lib.arange(6.0).reshape(2, 3).t()
        y = x.apply_(lambda v: seen.append((type(v).__name__, v)) or v + 1)
        ints = []
        lib.tensor([1, 2]).map_(lib.tensor([3, 4]),
                                lambda a, b: ints.append((type(a).__name__, type(b).__name__)) or a)
        return [seen, y is x, x, x._version, ints]

    both(prog)


def _no_grad_apply(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.no_grad():
        return a.apply_(lambda v: v * 2)


ERRORS = {
    "apply_requires_grad": lambda t: t.tensor([1.0], requires_grad=True).apply_(lambda v: v),
    "apply_requires_grad_no_grad": _no_grad_apply,
    "apply_nonleaf": lambda t: (t.tensor([1.0], requires_grad=True) * 1).apply_(lambda v: v),
    "map_requires_grad": lambda t: t.tensor([1.0]).map_(t.tensor([1.0], requires_grad=True),
                                                        lambda a, b: a),
    "map2_requires_grad": lambda t: t.tensor([1.0]).map2_(
        t.tensor([1.0], requires_grad=True), t.tensor([1.0]), lambda a, b, c: a),
    "apply_str_float": lambda t: t.tensor([1.0]).apply_(lambda v: "x"),
    "apply_none_float": lambda t: t.tensor([1.0]).apply_(lambda v: None),
    "apply_str_int": lambda t: t.tensor([1]).apply_(lambda v: "x"),
    "apply_none_int": lambda t: t.tensor([1]).apply_(lambda v: None),
    "apply_str_bool": lambda t: t.tensor([True]).apply_(lambda v: "x"),
    "apply_overflow_int64": lambda t: t.tensor([1]).apply_(lambda v: 2 ** 70),
    "apply_overflow_uint8": lambda t: t.tensor([1], dtype=t.uint8).apply_(lambda v: 300),
    "apply_not_callable": lambda t: t.tensor([1.0]).apply_(3),
    "map_dtype": lambda t: t.tensor([1.0]).map_(t.tensor([3]), lambda a, b: a),
    "map_not_tensor": lambda t: t.tensor([1.0]).map_(3, lambda a, b: a),
    "map_shape": lambda t: t.tensor([1.0, 2.0]).map_(t.tensor([3.0, 4.0, 5.0]), lambda a, b: a),
    "map_shape_self": lambda t: t.tensor([1.0]).map_(t.tensor([3.0, 4.0]), lambda a, b: a),
    "map2_dtype_x": lambda t: t.tensor([1.0]).map2_(t.tensor([1]), t.tensor([1.0]),
                                                    lambda a, b, c: a),
    "map2_dtype_y": lambda t: t.tensor([1.0]).map2_(t.tensor([1.0]), t.tensor([1]),
                                                    lambda a, b, c: a),
    "map2_not_tensor": lambda t: t.tensor([1.0]).map2_(t.tensor([1.0]), 3, lambda a, b, c: a),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])
