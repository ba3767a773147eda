"""`torch.cuda` as PyTorch behaves on a machine without CUDA.

dyngrad runs on the CPU only, so training scripts that probe for a GPU (`is_available()`, seeding,
memory counters, `set_device`) take the same branch they take under a CPU-only PyTorch: each
function returns what PyTorch 2.13 returns there, or raises its exception with its message.
"""

from __future__ import annotations

import collections
import warnings

from dyngrad._compat import parse_device_string
from dyngrad._device import device as _torch_device
from dyngrad.cuda import amp, nvtx

__all__ = [
    "OutOfMemoryError", "amp", "nvtx", "is_available", "device_count", "is_initialized", "init",
    "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
    "get_rng_state_all", "set_rng_state", "set_rng_state_all", "synchronize", "current_device",
    "get_device_name", "get_device_properties", "get_device_capability", "set_device", "device",
    "device_of", "memory_allocated", "max_memory_allocated", "memory_reserved",
    "max_memory_reserved", "memory_cached", "max_memory_cached", "memory_stats", "memory_summary",
    "empty_cache", "reset_peak_memory_stats", "reset_max_memory_allocated",
    "reset_max_memory_cached", "reset_accumulated_memory_stats", "mem_get_info", "ipc_collect",
    "is_bf16_supported", "is_tf32_supported", "get_arch_list", "get_gencode_flags",
    "current_stream", "default_stream", "Stream", "Event", "StreamContext", "stream",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
]

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


class OutOfMemoryError(RuntimeError):
    """`torch.cuda.OutOfMemoryError`; never raised here, but scripts name it in `except`."""


def _not_compiled(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


def _missing_binding(name: str):
    """PyTorch's CPU build reaches a CUDA binding that does not exist: an AttributeError."""
    raise AttributeError(f"module 'torch._C' has no attribute '{name}'")


def _device_index(dev, optional: bool = False) -> int | None:
    """The index of a CUDA device given as an int, 'cuda:N', a device or None (PyTorch's rules:
    another device type is a ValueError, and so is a missing index unless `optional`)."""
    if isinstance(dev, int):
        return dev
    if isinstance(dev, device):
        return dev.idx
    kind, index = None, None
    if isinstance(dev, str):
        kind, index = parse_device_string(dev)
    elif isinstance(dev, _torch_device):
        kind, index = dev.type, dev.index
    if kind is not None and kind != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    if index is None and not optional:
        raise ValueError(
            f"Expected a torch.device with a specified index or an integer, but got:{dev}"
        )
    return index


# --- availability ------------------------------------------------------------------------------
def is_available() -> bool:
    """False: dyngrad has no CUDA backend."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


init = _not_compiled


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def get_arch_list() -> list:
    return []


def get_gencode_flags() -> str:
    return ""


# --- random numbers: the seeding calls are queued for a CUDA that never comes -----------------
def manual_seed(seed) -> None:
    int(seed)  # PyTorch converts (and so rejects what int() rejects) before queueing the call


def manual_seed_all(seed) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


initial_seed = _not_compiled


def get_rng_state(device="cuda"):
    raise AssertionError(_NOT_COMPILED)


def get_rng_state_all() -> list:
    return []


def set_rng_state(new_state, device="cuda") -> None:
    new_state.clone()  # what PyTorch does before queueing: a non-tensor fails here as there


def set_rng_state_all(new_states) -> None:
    for state in new_states:
        set_rng_state(state)


# --- devices -----------------------------------------------------------------------------------
synchronize = _not_compiled
current_device = _not_compiled
get_device_name = _not_compiled
get_device_properties = _not_compiled
get_device_capability = _not_compiled
mem_get_info = _not_compiled
ipc_collect = _not_compiled
current_stream = _not_compiled
default_stream = _not_compiled


def set_device(device) -> None:
    """A negative index is a no-op, as in PyTorch; any real CUDA device fails as it does there."""
    if _device_index(device) >= 0:
        _missing_binding("_cuda_setDevice")


class device:
    """Context manager that selects a CUDA device: only index -1 (none) can be entered."""

    def __init__(self, device):
        self.idx = _device_index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:  # None fails here with Python's TypeError, as in PyTorch
            return self
        raise RuntimeError("PyTorch was compiled without CUDA support")

    def __exit__(self, *exc) -> bool:
        return False


class device_of(device):
    """`device` of a tensor's device: a CPU tensor selects nothing."""

    def __init__(self, obj):
        super().__init__(-1)


# --- memory: no allocator, so every counter is zero -------------------------------------------
def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def memory_cached(device=None) -> int:
    warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`",
                  FutureWarning, stacklevel=2)
    return 0


def max_memory_cached(device=None) -> int:
    warnings.warn(
        "`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`",
        FutureWarning, stacklevel=2,
    )
    return 0


def memory_stats(device=None) -> collections.OrderedDict:
    return collections.OrderedDict()


def memory_summary(device=None, abbreviated: bool = False) -> str:
    raise KeyError("allocated_bytes.all.current")  # PyTorch reads it from the empty stats


def empty_cache() -> None:
    pass


def reset_peak_memory_stats(device=None) -> None:
    _missing_binding("_cuda_resetPeakMemoryStats")


def reset_max_memory_allocated(device=None) -> None:
    warnings.warn(
        "torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.", FutureWarning, stacklevel=2,
    )
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None) -> None:
    warnings.warn(
        "torch.cuda.reset_max_memory_cached now calls torch.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.", FutureWarning, stacklevel=2,
    )
    reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device=None) -> None:
    _missing_binding("_cuda_resetAccumulatedMemoryStats")


# --- streams and events ------------------------------------------------------------------------
class Stream:
    def __new__(cls, *args, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class Event:
    def __new__(cls, *args, **kwargs):
        raise RuntimeError("Tried to instantiate dummy base class Event")


class StreamContext:
    """Context manager that selects a stream; without CUDA it selects nothing."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False


def stream(stream) -> StreamContext:
    return StreamContext(stream)


# --- legacy tensor types: names that exist, classes that cannot be built -----------------------
def _legacy_type(name: str) -> type:
    def __new__(cls, *args, **kwargs):
        raise TypeError(
            f"type torch.cuda.{name} not available. Torch not compiled with CUDA enabled."
        )

    return type(name, (), {"__new__": __new__, "__module__": __name__})


FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor = (
    _legacy_type(n) for n in ("FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor")
)
LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (
    _legacy_type(n) for n in ("LongTensor", "IntTensor", "ShortTensor", "CharTensor",
                              "ByteTensor", "BoolTensor")
)
