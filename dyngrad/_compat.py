"""What PyTorch's messages spell out: class names (`<class 'torch.Tensor'>`) and device strings.

dyngrad's classes live in dyngrad's modules, and dyngrad's `device` knows only the device types
it has; messages copied from PyTorch name PyTorch's classes and check against PyTorch's list.
"""

from __future__ import annotations

_TOP_LEVEL = ("dyngrad._tensor", "dyngrad._device", "dyngrad._dtype", "dyngrad._size")
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


def torch_qualname(cls: type) -> str:
    """`torch.Tensor` for dyngrad's Tensor, `torch.nn.parameter.Parameter` for Parameter; other
    classes keep their own dotted name (`builtins` dropped, as `repr` drops it)."""
    module = cls.__module__
    if module in _TOP_LEVEL:
        module = "torch"
    elif module == "dyngrad" or module.startswith("dyngrad."):
        module = "torch" + module[len("dyngrad"):]
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def torch_class_repr(cls: type) -> str:
    """`repr(cls)` as PyTorch's own classes would print."""
    return f"<class '{torch_qualname(cls)}'>"


def parse_device_string(text: str) -> tuple[str, int | None]:
    """(type, index) of a device string such as "cuda:1", with PyTorch's errors for strings it
    refuses (dyngrad's `device` refuses more: it accepts only types it can hold)."""
    if not text:
        raise RuntimeError("Device string must not be empty")
    kind, sep, index = text.partition(":")
    if kind not in DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
            f"{kind}"
        )
    if sep and not index.isdigit():
        raise RuntimeError(f"Invalid device string: '{text}'")
    return kind, int(index) if sep else None
