"""dyngrad/ops/settings.py against PyTorch: the process-wide settings (threads, determinism,
matmul precision, default device, warn-always, anomaly mode) read back as PyTorch reads them,
with PyTorch's errors, and `torch.compile` handing back what it is given."""

import pytest
import torch

import dyngrad
from tests.autograd.common import both, outcome, warned
from tests.harness import check_error


@pytest.fixture(autouse=True)
def _restore():
    yield
    for lib in (dyngrad, torch):
        lib.set_num_threads(1)
        lib.use_deterministic_algorithms(False)
        lib.set_float32_matmul_precision("highest")
        lib.set_default_device(None)
        lib.set_warn_always(False)
        lib.set_anomaly_enabled(False)
    dyngrad.set_num_interop_threads(1)


def test_threads():
    def prog(lib):
        out = []
        for n in (3, 1):
            lib.set_num_threads(n)
            out.append(lib.get_num_threads())
        return out

    both(prog)
    dyngrad.set_num_interop_threads(4)
    assert dyngrad.get_num_interop_threads() == 4


def test_determinism():
    def prog(lib):
        def state():
            return (lib.are_deterministic_algorithms_enabled(),
                    lib.is_deterministic_algorithms_warn_only_enabled(),
                    lib.get_deterministic_debug_mode())

        out = [state()]
        lib.use_deterministic_algorithms(True, warn_only=True)
        out.append(state())
        lib.use_deterministic_algorithms(True)
        out.append(state())
        for mode in ("default", "warn", "error", 0, 1, 2):
            lib.set_deterministic_debug_mode(mode)
            out.append(state())
        return out

    both(prog)


def test_matmul_precision():
    def prog(lib):
        out = [lib.get_float32_matmul_precision()]
        for p in ("high", "medium", "bogus", "highest"):
            out.append(warned(lib.set_float32_matmul_precision, p))
            out.append(lib.get_float32_matmul_precision())
        return out

    both(prog)


def test_default_device():
    def prog(lib):
        out = [str(lib.get_default_device())]
        for d in ("cpu", lib.device("cpu", 0), "cpu:1", None):
            lib.set_default_device(d)
            out.append(str(lib.get_default_device()))
        return out

    both(prog)


def test_warn_always_and_anomaly():
    def prog(lib):
        out = [lib.is_warn_always_enabled()]
        lib.set_warn_always(True)
        out.append(lib.is_warn_always_enabled())
        out.append([lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()])
        out.append(warned(lib.set_anomaly_enabled, True))
        out.append([lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()])
        lib.set_anomaly_enabled(True, False)
        out.append([lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()])
        lib.autograd.set_detect_anomaly(False)
        out.append(lib.is_anomaly_enabled())
        return out

    both(prog)


ERRORS = {
    "threads_zero": lambda t: t.set_num_threads(0),
    "threads_negative": lambda t: t.set_num_threads(-1),
    "threads_float": lambda t: t.set_num_threads(1.5),
    "threads_bool": lambda t: t.set_num_threads(True),
    "interop_zero": lambda t: t.set_num_interop_threads(0),
    "deterministic_int": lambda t: t.use_deterministic_algorithms(1),
    "deterministic_warn_only": lambda t: t.use_deterministic_algorithms(True, warn_only=1),
    "debug_mode_int": lambda t: t.set_deterministic_debug_mode(3),
    "debug_mode_str": lambda t: t.set_deterministic_debug_mode("foo"),
    "debug_mode_float": lambda t: t.set_deterministic_debug_mode(1.0),
    "precision_type": lambda t: t.set_float32_matmul_precision(1),
    "warn_always_type": lambda t: t.set_warn_always(1),
    "warn_always_keyword": lambda t: t.set_warn_always(b=True),
    "anomaly_type": lambda t: t.set_anomaly_enabled(1),
    "anomaly_check_nan_type": lambda t: t.set_anomaly_enabled(False, 1),
    "device_string": lambda t: t.set_default_device("foo"),
    "compile_not_callable": lambda t: t.compile(3),
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile's imports
@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


def test_accelerator_devices_refused():
    """PyTorch built without CUDA accepts set_default_device("cuda") and fails at the first
    factory call; dyngrad refuses the device at once (it can never be used)."""
    assert outcome(lambda: dyngrad.set_default_device("cuda")).type == "RuntimeError"
    assert dyngrad.get_default_device() == dyngrad.device("cpu")


def test_compile_returns_its_argument():
    def f(x):
        return x * 2

    m = dyngrad.nn.Linear(2, 2)
    assert dyngrad.compile(f) is f
    assert dyngrad.compile(m, mode="max-autotune", fullgraph=True) is m
    assert dyngrad.compile()(f) is f
    assert dyngrad.compile(dynamic=True)(f) is f
    x = dyngrad.ones(2)
    assert dyngrad.equal(dyngrad.compile(f)(x), f(x))
