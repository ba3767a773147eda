"""New tensor constructors of dyngrad/ops/creation.py against PyTorch: Tensor.new (the legacy
constructor in a tensor's dtype), scalar_tensor, empty_strided, the deprecated torch.range and
frombuffer: values, dtypes, shapes, strides, memory sharing, warnings and errors."""

import array

import pytest
import torch

import dyngrad
from tests.autograd.common import both, warned
from tests.harness import check_error

NEW = {
    "sizes": lambda t: t.tensor([1.0, 2.0]).new(2, 3).shape,
    "size_object": lambda t: t.tensor([1.0]).new(t.Size([2])).shape,
    "empty": lambda t: t.tensor([1.0]).new(),
    "list": lambda t: t.tensor([1.0, 2.0]).new([1, 2]),
    "tuple_is_data": lambda t: t.tensor([1.0]).new((2, 3)),
    "long_from_floats": lambda t: t.zeros(2, dtype=t.long).new([1.5, 2]),
    "device": lambda t: t.tensor([1.0]).new([1, 2], device="cpu"),
    "same_dtype_tensor": lambda t: t.tensor([1.0, 2.0]).new(t.tensor([3.0, 4.0])),
    "requires_grad_alias": lambda t: t.tensor([1.0]).new(t.tensor([1.0, 2.0], requires_grad=True)),
    "numpy": lambda t: t.tensor([1.0]).new(t.tensor([1, 2]).numpy()),
    "int_size": lambda t: t.tensor([1.0]).new(3).shape,
}


@pytest.mark.parametrize("name", NEW)
def test_new(name):
    both(lambda lib: NEW[name](lib))


def test_new_size_is_zero_filled_in_dyngrad():
    """PyTorch leaves the memory uninitialised; dyngrad fills it with zeros."""
    assert dyngrad.tensor([1, 2]).new(2, 3).eq(0).all()


def test_new_alias_shares_memory():
    def prog(lib):
        src = lib.tensor([1.0, 2.0])
        t = lib.tensor([0.0]).new(src)
        t[0] = 5.0
        return src, t._is_view(), t._base is src

    both(prog)


CREATE = {
    "scalar_tensor": lambda t: t.scalar_tensor(3),
    "scalar_tensor_float": lambda t: t.scalar_tensor(3.5, dtype=t.float64),
    "scalar_tensor_bool": lambda t: t.scalar_tensor(True),
    "scalar_tensor_tensor": lambda t: t.scalar_tensor(t.tensor(2)),
    "scalar_tensor_long": lambda t: t.scalar_tensor(3, dtype=t.long),
    "scalar_tensor_grad": lambda t: t.scalar_tensor(3, requires_grad=True),
    "scalar_tensor_complex": lambda t: t.scalar_tensor(1 + 2j, dtype=t.complex64),
    "empty_strided": lambda t: _meta(t.empty_strided((2, 3), (1, 2))),
    "empty_strided_long": lambda t: _meta(t.empty_strided((2, 3), (3, 1), dtype=t.long)),
    "empty_strided_zero_strides": lambda t: _meta(t.empty_strided((2, 3), (0, 0))),
    "empty_strided_grad": lambda t: _meta(t.empty_strided([4], [2], requires_grad=True)),
    "empty_strided_empty": lambda t: _meta(t.empty_strided((0, 3), (3, 1))),
}


def _meta(x):
    return x.shape, x.stride(), str(x.dtype), x.requires_grad, x.is_contiguous()


@pytest.mark.parametrize("name", CREATE)
def test_create(name):
    both(lambda lib: CREATE[name](lib))


RANGE = {
    "ints": lambda t: t.range(1, 4),
    "step": lambda t: t.range(1, 4, 0.5),
    "inexact_step": lambda t: t.range(0, 1, 0.3),
    "long": lambda t: t.range(1, 4, dtype=t.long),
    "long_truncates_step": lambda t: t.range(0, 4, 1.5, dtype=t.long),
    "down": lambda t: t.range(4, 1, -1),
    "float_start": lambda t: t.range(1.5, 4),
    "grad": lambda t: t.range(1, 4, requires_grad=True),
    "f64": lambda t: t.range(0, 2, 0.25, dtype=t.float64),
}


@pytest.mark.parametrize("name", RANGE)
def test_range(name):
    """Values including the end, and PyTorch's deprecation warning."""
    both(lambda lib: warned(RANGE[name], lib))


def test_frombuffer():
    def prog(lib):
        buf = bytearray(b"\x01\x00\x00\x00\x02\x00\x00\x00")
        ints = lib.frombuffer(buf, dtype=lib.int32)
        ints[0] = 7
        out = [ints, bytes(buf), lib.frombuffer(array.array("f", [1, 2, 3]), dtype=lib.float32)]
        out.append(lib.frombuffer(bytearray(8), dtype=lib.float32, count=1, offset=4))
        out.append(lib.frombuffer(bytearray(8), dtype=lib.float32, count=-1, offset=4))
        out.append(lib.frombuffer(bytearray(8), dtype=lib.float32, requires_grad=True))
        out.append(warned(lib.frombuffer, b"abcd", dtype=lib.uint8))
        return out

    both(prog)


ERRORS = {
    "new_dtype_keyword": lambda t: t.tensor([1.0]).new(dtype=t.float64),
    "new_other_dtype": lambda t: t.tensor([1.0]).new(t.tensor([1, 2])),
    "new_float": lambda t: t.tensor([1.0]).new(2.5),
    "scalar_tensor_str": lambda t: t.scalar_tensor("a"),
    "scalar_tensor_complex_to_float": lambda t: t.scalar_tensor(1 + 2j),
    "empty_strided_dims": lambda t: t.empty_strided((2, 3), (1,)),
    "empty_strided_negative_size": lambda t: t.empty_strided((2, -3), (1, 2)),
    "empty_strided_negative_stride": lambda t: t.empty_strided((2, 3), (-1, 2)),
    "range_sign": lambda t: t.range(1, 4, -1),
    "range_zero_step": lambda t: t.range(1, 4, 0),
    "frombuffer_multiple": lambda t: t.frombuffer(bytearray(7), dtype=t.float32),
    "frombuffer_empty": lambda t: t.frombuffer(bytearray(0), dtype=t.float32),
    "frombuffer_count_zero": lambda t: t.frombuffer(bytearray(8), dtype=t.float32, count=0),
    "frombuffer_too_long": lambda t: t.frombuffer(bytearray(8), dtype=t.float32, count=3),
    "frombuffer_offset": lambda t: t.frombuffer(bytearray(8), dtype=t.float32, offset=9),
    "frombuffer_negative_offset": lambda t: t.frombuffer(bytearray(8), dtype=t.float32,
                                                         offset=-1),
    "frombuffer_not_a_buffer": lambda t: t.frombuffer([1, 2], dtype=t.float32),
}


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


def test_frombuffer_needs_dtype():
    """Both refuse a missing dtype with a TypeError (Python's own message in dyngrad)."""
    dg, _ = check_error(lambda t: t.frombuffer(bytearray(8)), match="type")
    assert "dtype" in str(dg)


def test_range_is_not_the_builtin():
    assert dyngrad.range.__name__ == torch.range.__name__ == "range"
    assert list(range(2)) == [0, 1]  # dyngrad's star imports leave the builtin alone here


def test_new_empty_strided_as_subclass_pin_memory():
    from tests.autograd.common import outcome

    def prog(lib):
        class Sub(lib.Tensor):
            pass

        x = lib.arange(6.0)
        e = x.new_empty_strided((2, 3), (1, 2))
        e2 = x.new_empty_strided((2, 3), (3, 1), dtype=lib.long)
        s = x.as_subclass(Sub)
        g = lib.ones(2, requires_grad=True)
        sg = (g * 2).as_subclass(Sub)
        s[0] = 9.0
        return [e.shape, e.stride(), str(e.dtype), e2.stride(), str(e2.dtype),
                type(s).__name__, x, s._version == x._version, sg, type(sg).__name__,
                lib.autograd.grad(sg.sum(), g)[0], outcome(lambda: x.as_subclass(int)),
                outcome(x.pin_memory)]

    both(prog)
