"""dyngrad.types: torch.types' aliases, naming dyngrad's classes where torch's name torch's."""

import typing

import torch
import torch.types

import dyngrad
import dyngrad.types


def _names(alias) -> list:
    return sorted(getattr(a, "__name__", str(a)) for a in typing.get_args(alias))


def test_number():
    assert typing.get_args(dyngrad.types.Number) == typing.get_args(torch.types.Number)
    assert dyngrad.types._Number == torch.types._Number


def test_size_and_device():
    assert _names(dyngrad.types._size) == _names(torch.types._size)
    assert _names(dyngrad.types.Device) == _names(torch.types.Device)
    assert dyngrad.types.Size is dyngrad.Size
    assert dyngrad.types._dtype is dyngrad.dtype and dyngrad.types._device is dyngrad.device


def test_scalar_aliases():
    for name in ("_bool", "_int", "_float", "_complex", "_str", "_bytes"):
        assert getattr(dyngrad.types, name) is getattr(torch.types, name)


def test_tensor_or_tensors():
    assert typing.get_args(dyngrad.types._TensorOrTensors)[0] is dyngrad.Tensor
    assert len(typing.get_args(dyngrad.types._TensorOrTensors)) == len(
        typing.get_args(torch.types._TensorOrTensors))
