"""dyngrad/ops/type_info.py against PyTorch: finfo and iinfo attributes, reprs, equality and
errors, plus the numeric constants of the torch namespace."""

import pytest
import torch

import dyngrad
from tests.harness import check_error

FLOATS = ["float16", "float32", "float64", "complex64", "complex128"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS + [None])
def test_finfo(name):
    d = dyngrad.finfo(getattr(dyngrad, name)) if name else dyngrad.finfo()
    t = torch.finfo(getattr(torch, name)) if name else torch.finfo()
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(d, attr) == getattr(t, attr), attr
    assert repr(d) == repr(t) and str(d) == str(t)
    assert d == dyngrad.finfo(getattr(dyngrad, name or "float32"))


@pytest.mark.parametrize("name", INTS)
def test_iinfo(name):
    d, t = dyngrad.iinfo(getattr(dyngrad, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(d, attr) == getattr(t, attr), attr
        assert type(getattr(d, attr)) is type(getattr(t, attr)), attr
    assert repr(d) == repr(t)


ERRORS = {
    "finfo_int": lambda t: t.finfo(t.int32),
    "finfo_bool": lambda t: t.finfo(t.bool),
    "finfo_not_a_dtype": lambda t: t.finfo(3),
    "iinfo_float": lambda t: t.iinfo(t.float32),
    "iinfo_bool": lambda t: t.iinfo(t.bool),
    "iinfo_not_a_dtype": lambda t: t.iinfo("int8"),
    "finfo_unhashable": lambda t: hash(t.finfo(t.float32)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name], match="exact" if name != "finfo_unhashable" else "type")


def test_constants():
    for name in ("pi", "e", "inf"):
        assert getattr(dyngrad, name) == getattr(torch, name)
    assert dyngrad.nan != dyngrad.nan and torch.nan != torch.nan
    assert dyngrad.newaxis is torch.newaxis is None
    assert dyngrad.zeros(1).layout == dyngrad.strided
    assert str(torch.strided) == dyngrad.strided
