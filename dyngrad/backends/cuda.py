"""`torch.backends.cuda`: cuBLAS and scaled-dot-product-attention switches, with PyTorch's
defaults and checks. Nothing here reaches a GPU; `matmul.allow_tf32` is the same setting as
`torch.get_float32_matmul_precision()`, as in PyTorch."""

from __future__ import annotations

from dyngrad.ops import settings

__all__ = [
    "is_built", "matmul", "flash_sdp_enabled", "enable_flash_sdp", "mem_efficient_sdp_enabled",
    "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp", "cudnn_sdp_enabled",
    "enable_cudnn_sdp",
]


def is_built() -> bool:
    """False: dyngrad is not built with CUDA."""
    return False


def _check_bool(setter: str, value) -> None:
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")


class cuBLASModule:
    """`torch.backends.cuda.matmul`: only the attributes PyTorch knows can be read or set."""

    def __init__(self):
        self.__dict__["_flags"] = {
            "allow_fp16_reduced_precision_reduction": True,
            "allow_bf16_reduced_precision_reduction": True,
            "allow_fp16_accumulation": False,
        }

    def __getattr__(self, name):
        if name == "allow_tf32":
            return settings.get_float32_matmul_precision() != "highest"
        if name in self._flags:
            return self._flags[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _check_bool("set_allow_tf32_cublas", value)
            settings.set_float32_matmul_precision("high" if value else "highest")
        elif name in ("allow_fp16_reduced_precision_reduction",
                      "allow_bf16_reduced_precision_reduction"):
            self._flags[name] = _reduced_precision(name, value)
        elif name == "allow_fp16_accumulation":
            _check_bool("set_allow_fp16_accumulation_cublas", value)
            self._flags[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")


def _reduced_precision(name: str, value) -> bool:
    """A bool, or (allow_reduced_precision, allow_splitk) as a tuple or list of bools: the first
    is the setting (split-K has no meaning here)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, tuple | list):
        if len(value) > 2:
            raise TypeError(f"{name} expects at most two boolean arguments")
        for v in value:
            if not isinstance(v, bool):
                raise TypeError(
                    f"{name} expects a bool for allow_reduced_precision, but got {type(v)}"
                )
        return value[0]
    raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)}")


matmul = cuBLASModule()

# which fused attention kernels scaled_dot_product_attention may pick; dyngrad has one
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _check_bool("set_sdp_use_math", enabled)  # PyTorch's message names the math setter
    _sdp["flash"] = enabled


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _check_bool("set_sdp_use_math", enabled)
    _sdp["mem_efficient"] = enabled


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    _check_bool("set_sdp_use_math", enabled)
    _sdp["math"] = enabled


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    if not isinstance(enabled, bool):  # PyTorch's message, format slip included
        raise RuntimeError(f"set_sdp_use_cudnn expects a bool, but got %s{type(enabled).__name__}")
    _sdp["cudnn"] = enabled
