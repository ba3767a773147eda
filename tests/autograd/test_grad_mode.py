"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode; thread-locality."""

import threading

import torch

import dyngrad
from tests.harness import assert_same_outputs, check_error


def same(prog):
    assert_same_outputs(prog(dyngrad), prog(torch), prog.__name__)


def test_no_grad_context():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            y = x * 2
            inside = lib.is_grad_enabled()
            z = y + x
        w = x * 2
        return [inside, lib.is_grad_enabled(), y, y.requires_grad, y.is_leaf, y.grad_fn is None,
                z, w, x[0:2].requires_grad]

    same(prog)


def test_no_grad_allows_leaf_inplace_and_bumps_version():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            x.add_(1)
            x[0] = 5
            x.mul_(2)
            x[1:].sub_(1)
        out = [x, x._version, x.is_leaf, x.grad_fn is None]
        (x * x).sum().backward()
        return out + [x.grad]

    same(prog)


def test_decorators():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad()
        def f(t):
            return t * 2, lib.is_grad_enabled()

        @lib.no_grad
        def g(t):
            return t * 3

        @lib.enable_grad()
        def h(t):
            return t * 4

        @lib.enable_grad
        def k(t):
            return t * 5

        with lib.no_grad():
            hk = [h(x), k(x)]
        return [*f(x), g(x), *hk, f.__name__, lib.is_grad_enabled()]

    same(prog)


def test_enable_grad_inside_no_grad():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            with lib.enable_grad():
                y = x * 2
                a = lib.is_grad_enabled()
            z = x * 2
            b = lib.is_grad_enabled()
        return [y, z, a, b, lib.is_grad_enabled()]

    same(prog)


def test_set_grad_enabled_as_call_and_context():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)
        out = []
        with lib.set_grad_enabled(False):
            out += [x * 2, lib.is_grad_enabled()]
            with lib.set_grad_enabled(True):
                out += [x * 2, lib.is_grad_enabled()]
            out.append(lib.is_grad_enabled())
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(False)
        out += [x * 2, lib.is_grad_enabled()]
        lib.set_grad_enabled(True)
        out += [x * 2, lib.is_grad_enabled()]

        @lib.set_grad_enabled(False)
        def f(t):
            return t * 3

        out += [f(x), lib.is_grad_enabled()]
        return out

    same(prog)


def test_mode_restored_after_exception():
    def prog(lib):
        try:
            with lib.no_grad():
                raise KeyError
        except KeyError:
            pass
        return [lib.is_grad_enabled()]

    same(prog)


def test_inference_mode():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            y = x * 2
            c = lib.ones(2)
            inside = [lib.is_grad_enabled(), lib.is_inference_mode_enabled(), y.is_inference(),
                      c.is_inference(), y.requires_grad]
            c.add_(1)  # allowed inside
        with lib.inference_mode(False):
            f = [lib.is_inference_mode_enabled(), (x * 2).requires_grad]

        @lib.inference_mode()
        def g(t):
            return t * 2

        return inside + f + [y, c, x.is_inference(), lib.is_inference_mode_enabled(),
                             lib.is_grad_enabled(), g(x).is_inference(), g(x).requires_grad,
                             (y + x).requires_grad, y.clone().is_inference()]

    same(prog)


def _inference(lib):
    with lib.inference_mode():
        return lib.ones(2)


def test_inference_tensor_errors():
    check_error(lambda lib: lib.ones(2, requires_grad=True) * _inference(lib))
    check_error(lambda lib: _inference(lib).add_(1))
    check_error(lambda lib: _inference(lib).__setitem__(0, 1.0))
    check_error(lambda lib: _inference(lib)[:1].add_(1))  # a view of an inference tensor
    check_error(lambda lib: _inference(lib).requires_grad_())


def test_inference_tensor_uses_that_work():
    def prog(lib):
        i = _inference(lib)
        x = lib.ones(2, requires_grad=True)
        y = x + i  # add saves nothing, so this is allowed
        y.sum().backward()
        n = i.clone()
        n.add_(1)
        return [y, x.grad, n, n.is_inference()]

    same(prog)


def test_grad_mode_is_thread_local():
    for lib in (dyngrad, torch):
        seen = {}

        def worker(lib=lib, seen=seen):
            x = lib.ones(2, requires_grad=True)
            seen["enabled"] = lib.is_grad_enabled()
            seen["records"] = (x * 2).requires_grad

        with lib.no_grad():
            t = threading.Thread(target=worker)
            t.start()
            t.join()
            assert not lib.is_grad_enabled()
        assert seen == {"enabled": True, "records": True}, lib.__name__

        def worker2(lib=lib, seen=seen):
            lib.set_grad_enabled(False)
            seen["other"] = lib.is_grad_enabled()

        t = threading.Thread(target=worker2)
        t.start()
        t.join()
        assert seen["other"] is False and lib.is_grad_enabled()


def test_inference_mode_is_thread_local():
    for lib in (dyngrad, torch):
        seen = {}

        def worker(lib=lib, seen=seen):
            seen["inference"] = lib.is_inference_mode_enabled()
            seen["tensor"] = lib.ones(1).is_inference()

        with lib.inference_mode():
            t = threading.Thread(target=worker)
            t.start()
            t.join()
        assert seen == {"inference": False, "tensor": False}, lib.__name__


def test_no_grad_output_of_requires_grad_input_cannot_backward():
    for lib in (dyngrad, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y = (x * 2).sum()
        for fn in (y.backward, lambda y=y, x=x, lib=lib: lib.autograd.grad(y, x)):
            try:
                fn()
            except RuntimeError as e:
                assert str(e).startswith(
                    "element 0 of tensors does not require grad and does not have a grad_fn"
                )
            else:
                raise AssertionError(lib.__name__)


def test_anomaly_mode_is_process_wide():
    """Unlike grad mode, PyTorch's anomaly mode is one switch for every thread."""

    def prog(lib):
        seen = []
        lib.autograd.set_detect_anomaly(True, check_nan=False)
        try:
            t = threading.Thread(target=lambda: seen.append(
                (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled())))
            t.start()
            t.join()
        finally:
            lib.autograd.set_detect_anomaly(False)
        return seen

    same(prog)
