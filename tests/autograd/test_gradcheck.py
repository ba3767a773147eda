"""gradcheck / gradgradcheck against PyTorch: verdicts, GradcheckError texts (Jacobians printed as
PyTorch prints them), warnings and argument errors."""

import numpy as np
import pytest

import dyngrad
from dyngrad.autograd.gradcheck import GradcheckError
from tests.autograd.common import both, doubling, outcome, warned


def _inputs(lib, dtype=None):
    dtype = dtype or lib.float64
    return (lib.tensor([1.0, 2.0], dtype=dtype, requires_grad=True),
            lib.tensor([3.0, -1.0], dtype=dtype, requires_grad=True))


def _wrong(lib):
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y * 2

        @staticmethod
        def backward(ctx, g):
            return g, g * 2

    return Wrong


def test_passes_on_correct_gradients():
    def prog(lib):
        x, y = _inputs(lib)
        m = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        check = lib.autograd.gradcheck
        return [check(lambda a, b: a * b + a ** 3 / b, (x, y)),
                check(lambda a: (a * 2, a[0] * a), (x,)),
                check(lambda a: a @ a, (m,)),
                check(lambda a: a * 2, x),
                check(lambda a, k: a * k, (x, 3.0)),
                check(lambda a, b: a * b, (x, y), fast_mode=True),
                check(lambda a, b: a * b + a ** 3, (x, y), check_forward_ad=True),
                lib.autograd.gradgradcheck(lambda a, b: a * a * b, (x, y)),
                lib.autograd.gradgradcheck(lambda a, b: a * a * b, (x, y),
                                           (lib.tensor([1.0, -2.0], dtype=lib.float64),))]

    both(prog)


def test_jacobian_mismatch_messages():
    def prog(lib):
        x, y = _inputs(lib)
        Wrong = _wrong(lib)
        BadJvp = doubling(lib, "BadJvp", jvp=lambda ctx, t: t * 3)
        check = lib.autograd.gradcheck
        return [outcome(check, Wrong.apply, (x, y)),
                check(Wrong.apply, (x, y), raise_exception=False),
                outcome(check, lambda a, b: (a * b, Wrong.apply(a, b)), (x, y)),
                outcome(check, BadJvp.apply, (x,), check_forward_ad=True),
                outcome(check, BadJvp.apply, (x,), check_forward_ad=True,
                        check_backward_ad=False)]

    both(prog)


def test_error_is_a_runtime_error():
    x, y = _inputs(dyngrad)
    with pytest.raises(RuntimeError) as info:
        dyngrad.autograd.gradcheck(_wrong(dyngrad).apply, (x, y))
    assert type(info.value) is GradcheckError


def test_float32_warns_and_fails():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return warned(lib.autograd.gradcheck, lambda a: a * a, (x,))

    both(prog)


def test_undefined_grad_and_grad_output_checks():
    def prog(lib):
        x, _ = _inputs(lib)

        class Lazy(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 + g2 * 3

        class Constant(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 0 + 2

        check = lib.autograd.gradcheck
        return [outcome(check, Lazy.apply, (x,)),
                outcome(check, Lazy.apply, (x,), check_undefined_grad=False),
                outcome(check, Constant.apply, (x,))]

    both(prog)


def test_argument_errors():
    def prog(lib):
        x, _ = _inputs(lib)
        check = lib.autograd.gradcheck
        return [outcome(check, lambda a: a * 2, (x.detach(),)),
                outcome(check, lambda a: a * 2, (x,), check_forward_ad=False,
                        check_backward_ad=False),
                outcome(check, lambda a: a * 2, (x,), check_batched_grad=True,
                        check_backward_ad=False, check_forward_ad=True),
                outcome(check, lambda a: (a * 2).detach(), (x,)),
                check(lambda a: a.detach() * 0, (x,)),
                outcome(lib.autograd.gradgradcheck, lambda a: a * 2, (x,),
                        check_rev_over_rev=False)]

    both(prog)


def test_gradgradcheck_catches_a_detached_backward():
    def prog(lib):
        x, _ = _inputs(lib)

        class NoDouble(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2 * x.detach()

        result = outcome(lib.autograd.gradgradcheck, NoDouble.apply, (x,))
        return [result.type, result.message.split("numerical")[0]]

    both(prog)


def test_stride_zero_input():
    def prog(lib):
        x = lib.tensor([1.0], dtype=lib.float64).expand(3).requires_grad_()
        return outcome(lib.autograd.gradcheck, lambda a: a * 2, (x,))

    both(prog)


def test_numerical_values_in_message():
    """The printed numerical Jacobian is the central difference PyTorch computes."""

    def prog(lib):
        x = lib.from_numpy(np.array([0.5, 1.5, -2.0])).requires_grad_()
        return outcome(lib.autograd.gradcheck, lambda a: _wrong(lib).apply(a, a * a), (x,))

    both(prog)
