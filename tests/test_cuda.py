"""dyngrad.cuda against torch.cuda on this CUDA-less machine: the same return values, the same
exceptions (type and message) and the same warnings, call for call."""

import warnings

import pytest
import torch

import dyngrad
import dyngrad.cuda
from tests.harness import check_error


def _warned(fn):
    """(result, [(category name, message), ...]) of fn()."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def _enter(ctx):
    with ctx:
        return "entered"


VALUES = {
    "is_available": lambda L: L.cuda.is_available(),
    "device_count": lambda L: L.cuda.device_count(),
    "is_initialized": lambda L: L.cuda.is_initialized(),
    "manual_seed": lambda L: L.cuda.manual_seed(1),
    "manual_seed_float": lambda L: L.cuda.manual_seed(1.5),
    "manual_seed_big": lambda L: L.cuda.manual_seed(2**70),
    "manual_seed_all_str": lambda L: L.cuda.manual_seed_all("3"),
    "seed": lambda L: L.cuda.seed(),
    "seed_all": lambda L: L.cuda.seed_all(),
    "get_rng_state_all": lambda L: L.cuda.get_rng_state_all(),
    "set_rng_state": lambda L: L.cuda.set_rng_state(L.zeros(5, dtype=L.uint8)),
    "set_rng_state_all": lambda L: L.cuda.set_rng_state_all([]),
    "memory_allocated": lambda L: L.cuda.memory_allocated(),
    "memory_allocated_0": lambda L: L.cuda.memory_allocated(0),
    "memory_allocated_str": lambda L: L.cuda.memory_allocated("cuda:0"),
    "max_memory_allocated": lambda L: L.cuda.max_memory_allocated(),
    "memory_reserved": lambda L: L.cuda.memory_reserved(),
    "max_memory_reserved": lambda L: L.cuda.max_memory_reserved(0),
    "memory_stats": lambda L: L.cuda.memory_stats(),
    "empty_cache": lambda L: L.cuda.empty_cache(),
    "is_bf16_supported": lambda L: L.cuda.is_bf16_supported(),
    "is_tf32_supported": lambda L: L.cuda.is_tf32_supported(),
    "get_arch_list": lambda L: L.cuda.get_arch_list(),
    "get_gencode_flags": lambda L: L.cuda.get_gencode_flags(),
    "set_device_negative": lambda L: L.cuda.set_device(-1),
    "enter_device_negative": lambda L: _enter(L.cuda.device(-1)),
    "device_of_cpu_tensor": lambda L: _enter(L.cuda.device_of(L.ones(1))),
    "stream_none": lambda L: _enter(L.cuda.stream(None)),
    "device_idx": lambda L: (L.cuda.device("cuda:1").idx, L.cuda.device(0).prev_idx),
    "legacy_isinstance": lambda L: isinstance(L.ones(1), L.cuda.FloatTensor),
    "oom_is_runtime_error": lambda L: issubclass(L.cuda.OutOfMemoryError, RuntimeError),
}


@pytest.mark.parametrize("name", VALUES)
def test_value(name):
    fn = VALUES[name]
    dg, th = fn(dyngrad), fn(torch)
    assert type(dg) is type(th) and dg == th, (dg, th)


ERRORS = {
    "init": lambda L: L.cuda.init(),
    "initial_seed": lambda L: L.cuda.initial_seed(),
    "get_rng_state": lambda L: L.cuda.get_rng_state(),
    "manual_seed_bad_str": lambda L: L.cuda.manual_seed("a"),
    "manual_seed_none": lambda L: L.cuda.manual_seed(None),
    "set_rng_state_not_tensor": lambda L: L.cuda.set_rng_state(3),
    "synchronize": lambda L: L.cuda.synchronize(),
    "current_device": lambda L: L.cuda.current_device(),
    "get_device_name": lambda L: L.cuda.get_device_name(0),
    "get_device_properties": lambda L: L.cuda.get_device_properties(0),
    "get_device_capability": lambda L: L.cuda.get_device_capability(),
    "mem_get_info": lambda L: L.cuda.mem_get_info(),
    "ipc_collect": lambda L: L.cuda.ipc_collect(),
    "current_stream": lambda L: L.cuda.current_stream(),
    "default_stream": lambda L: L.cuda.default_stream(),
    "set_device_0": lambda L: L.cuda.set_device(0),
    "set_device_str_index": lambda L: L.cuda.set_device("cuda:0"),
    "set_device_no_index": lambda L: L.cuda.set_device("cuda"),
    "set_device_cpu": lambda L: L.cuda.set_device("cpu"),
    "set_device_none": lambda L: L.cuda.set_device(None),
    "set_device_float": lambda L: L.cuda.set_device(1.5),
    "set_device_unknown_type": lambda L: L.cuda.set_device("foo"),
    "set_device_cuda_device": lambda L: L.cuda.set_device(L.device("cuda", 1)),
    "reset_peak_memory_stats": lambda L: L.cuda.reset_peak_memory_stats(),
    "reset_accumulated_memory_stats": lambda L: L.cuda.reset_accumulated_memory_stats(),
    "memory_summary": lambda L: L.cuda.memory_summary(),
    "stream_class": lambda L: L.cuda.Stream(),
    "event_class": lambda L: L.cuda.Event(),
    "float_tensor": lambda L: L.cuda.FloatTensor(2),
    "long_tensor": lambda L: L.cuda.LongTensor(),
    "enter_device_0": lambda L: _enter(L.cuda.device(0)),
    "enter_device_none": lambda L: _enter(L.cuda.device(None)),
    "device_cpu": lambda L: L.cuda.device("cpu"),
    "nvtx_range_push": lambda L: L.cuda.nvtx.range_push("a"),
    "nvtx_range_pop": lambda L: L.cuda.nvtx.range_pop(),
    "nvtx_mark": lambda L: L.cuda.nvtx.mark("a"),
    "nvtx_range": lambda L: _enter(L.cuda.nvtx.range("a")),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error(name):
    check_error(ERRORS[name])


@pytest.mark.parametrize("name", ["memory_cached", "max_memory_cached"])
def test_deprecated_memory_counters_warn(name):
    dg = _warned(lambda: getattr(dyngrad.cuda, name)())
    th = _warned(lambda: getattr(torch.cuda, name)())
    assert dg == th
    assert dg[1][0][0] == "FutureWarning"


@pytest.mark.parametrize("name", ["reset_max_memory_allocated", "reset_max_memory_cached"])
def test_deprecated_resets_warn_then_fail(name):
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(AttributeError) as info:
                getattr(L.cuda, name)()
        return str(info.value), [(w.category.__name__, str(w.message)) for w in caught]

    assert run(dyngrad) == run(torch)


def test_cuda_amp_autocast_warns_and_is_disabled():
    def run(L, is_enabled):
        def body():
            with L.cuda.amp.autocast() as ctx:
                return ctx is not None, is_enabled("cuda")
        return _warned(body)

    dg = run(dyngrad, dyngrad.amp.autocast_mode.is_autocast_enabled)
    th = run(torch, torch.is_autocast_enabled)
    assert dg == th
    assert [c for c, _ in dg[1]] == ["FutureWarning", "UserWarning"]


def test_cuda_amp_autocast_is_an_amp_autocast():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert isinstance(dyngrad.cuda.amp.autocast(), dyngrad.amp.autocast)
        assert isinstance(dyngrad.cuda.amp.GradScaler(), dyngrad.amp.GradScaler)


def test_cuda_amp_grad_scaler_warns_and_is_disabled():
    def run(L):
        scaler, caught = _warned(lambda: L.cuda.amp.GradScaler(init_scale=8.0))
        return caught, scaler.is_enabled(), scaler.get_scale(), scaler.state_dict()

    assert run(dyngrad) == run(torch)
    assert run(dyngrad)[1] is False


@pytest.mark.parametrize("name", ["custom_fwd", "custom_bwd"])
def test_cuda_amp_custom_decorators_warn(name):
    def run(L):
        decorated, caught = _warned(lambda: getattr(L.cuda.amp, name)(lambda ctx, x: x + 1))
        return caught, decorated.__name__

    assert run(dyngrad) == run(torch)


def test_cuda_amp_custom_fwd_in_a_function():
    """A Function decorated the deprecated way runs its forward and backward as in torch."""

    def run(L):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")

            class Double(L.autograd.Function):
                @staticmethod
                @L.cuda.amp.custom_fwd
                def forward(ctx, x):
                    return 2 * x

                @staticmethod
                @L.cuda.amp.custom_bwd
                def backward(ctx, g):
                    return 2 * g

        x = L.tensor([1.0, 3.0], requires_grad=True)
        y = Double.apply(x)
        y.sum().backward()
        return y.tolist(), x.grad.tolist()

    assert run(dyngrad) == run(torch)
