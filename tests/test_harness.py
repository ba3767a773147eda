"""The differential harness catches what it claims to catch (each check must fail here)."""

import numpy as np
import pytest

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, fd_gradgrad, numerical_jacobian


def _wrong_slope(slope):
    """2x in value, but `slope` as gradient (same graph shape in both libraries)."""
    return lambda x: x.detach() * 2 + (x - x.detach()) * slope


def test_catches_wrong_values():
    with pytest.raises(AssertionError, match="forward"):
        check_op(lambda x: x * 2, lambda x: x * 3, array(3))


def test_catches_wrong_grad_fn_and_dtype():
    with pytest.raises(AssertionError, match="grad_fn MulBackward0 != torch's AddBackward0"):
        check_op(lambda x: x * 2, lambda x: x + x, array(3))
    with pytest.raises(AssertionError, match="dtype"):
        check_op(lambda x: x.double(), lambda x: x, array(3), dtypes=(np.float32,))


def test_catches_wrong_gradients():
    with pytest.raises(AssertionError, match="grad"):
        check_op(_wrong_slope(2), _wrong_slope(3), array(3))


def test_check_error_compares_type_and_text():
    with pytest.raises(AssertionError, match="dyngrad raised nothing"):
        check_error(lambda t: t.ones(2) if t is dyngrad else t.ones(2) + t.ones(3))
    with pytest.raises(AssertionError, match="message differs"):
        check_error(lambda: (_ for _ in ()).throw(RuntimeError("a")),
                    lambda: (_ for _ in ()).throw(RuntimeError("b")))
    check_error(lambda: (_ for _ in ()).throw(RuntimeError("a. hint")),
                lambda: (_ for _ in ()).throw(RuntimeError("a.")), match="prefix")


def test_finite_differences():
    fd_check(lambda x, y: x * y + x, array(3), array(3))
    fd_gradgrad(lambda x: x * x * x, array(3))
    with pytest.raises(AssertionError, match="Jacobian"):
        fd_check(_wrong_slope(3), array(3))
    jac = numerical_jacobian(lambda x: x * 3, [np.ones(2)])
    np.testing.assert_allclose(jac[0][0], 3 * np.eye(2), atol=1e-6)
