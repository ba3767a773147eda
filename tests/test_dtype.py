"""dtypes and type promotion, differential against PyTorch.

Every pair of dtypes meets in three tiers (dimensioned tensor, 0-dim tensor, Python scalar); the
promoted dtype must agree with `torch.result_type` and with the dtype add/mul/div really produce.
"""

import itertools

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import assert_same_values, check_error

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "complex64", "complex128"]
SCALARS = [True, 3, 2.5, 1 + 2j]


def _complex_half(a_name: str, b) -> bool:
    """float16 with a complex operand of a lower tier gives torch.complex32 (ComplexHalf), a
    dtype NumPy lacks; dyngrad gives complex64 there, the one deliberate divergence."""
    b_complex = (b.startswith("complex") if isinstance(b, str) else isinstance(b, complex))
    return a_name == "float16" and b_complex


def _make(lib, name: str, zero_dim: bool):
    """Nonzero values of dtype `name` (1-D with 3 elements, or 0-dim)."""
    data = 2 if zero_dim else [1, 2, 3]
    return lib.tensor(data).to(getattr(lib, name))


def _ops(lib, a, b) -> list:
    outs = [lib.result_type(a, b), (a + b).dtype, (a * b).dtype, (a / b).dtype]
    outs += [(b + a).dtype, (b * a).dtype]
    return [str(d) for d in outs]


@pytest.mark.parametrize("left_0d,right_0d", [(False, False), (False, True), (True, False),
                                              (True, True)])
def test_promotion_tensor_tensor(left_0d, right_0d):
    for na, nb in itertools.product(NAMES, NAMES):
        if (_complex_half(na, nb) and right_0d and not left_0d
                or _complex_half(nb, na) and left_0d and not right_0d):
            continue
        outs = {}
        for lib in (dyngrad, torch):
            a, b = _make(lib, na, left_0d), _make(lib, nb, right_0d)
            outs[lib.__name__] = _ops(lib, a, b)
            outs[lib.__name__ + "v"] = (a + b, a * b, a / b)
        assert outs["dyngrad"] == outs["torch"], (na, nb, left_0d, right_0d)
        for d, t in zip(outs["dyngradv"], outs["torchv"], strict=True):
            assert_same_values(d, t, f"{na} {nb}")


@pytest.mark.parametrize("zero_dim", [False, True])
def test_promotion_tensor_scalar(zero_dim):
    for na, s in itertools.product(NAMES, SCALARS):
        if _complex_half(na, s):
            continue
        outs = {}
        for lib in (dyngrad, torch):
            a = _make(lib, na, zero_dim)
            outs[lib.__name__] = _ops(lib, a, s) + [str(lib.result_type(s, a))]
            outs[lib.__name__ + "v"] = (a + s, a * s, s * a, a / s, s / a)
        assert outs["dyngrad"] == outs["torch"], (na, s, zero_dim)
        for d, t in zip(outs["dyngradv"], outs["torchv"], strict=True):
            assert_same_values(d, t, f"{na} {s!r}")


def test_promote_types_and_can_cast_tables():
    for na, nb in itertools.product(NAMES, NAMES):
        da, db = getattr(dyngrad, na), getattr(dyngrad, nb)
        ta, tb = getattr(torch, na), getattr(torch, nb)
        assert str(dyngrad.promote_types(da, db)) == str(torch.promote_types(ta, tb)), (na, nb)
        assert dyngrad.can_cast(da, db) == torch.can_cast(ta, tb), (na, nb)


def test_result_type_of_scalars_and_bad_arguments():
    for a, b in itertools.product(SCALARS, SCALARS):
        assert str(dyngrad.result_type(a, b)) == str(torch.result_type(a, b)), (a, b)
    check_error(lambda lib: lib.result_type("a", lib.ones(1)), match="type")
    check_error(lambda lib: lib.promote_types(1, lib.int8))
    check_error(lambda lib: lib.can_cast(1, lib.int8))


# Reference section 3, case by case: (expression, expected dtype name).
CASES = [
    (lambda L: L.Tensor([2, 3]), "float32"),
    (lambda L: L.tensor([2, 3]), "int64"),
    (lambda L: L.tensor([2.0, 3.0]), "float32"),
    (lambda L: L.tensor([1, 2.0]), "float32"),
    (lambda L: L.tensor([True, False]), "bool"),
    (lambda L: L.tensor([1j]), "complex64"),
    (lambda L: L.tensor(np.array([1.0])), "float64"),
    (lambda L: L.tensor(np.array([1])), "int64"),
    (lambda L: L.zeros(2), "float32"),
    (lambda L: L.arange(3.0), "float32"),
    (lambda L: L.arange(3), "int64"),
    (lambda L: L.full((2,), 1), "int64"),
    (lambda L: L.tensor([1, 2]) + L.tensor([1.0, 2.0]), "float32"),
    (lambda L: L.tensor([1, 2]) + 1.5, "float32"),
    (lambda L: L.tensor([1, 2]) + 1, "int64"),
    (lambda L: L.tensor([1, 2], dtype=L.int32) + 1, "int32"),
    (lambda L: L.ones(2) + 1.5, "float32"),
    (lambda L: L.ones(2, dtype=L.float16) + 1.5, "float16"),
    (lambda L: L.ones(2) + L.ones(2, dtype=L.float64), "float64"),
    (lambda L: L.ones(2) + L.tensor(1.0, dtype=L.float64), "float32"),
    (lambda L: L.tensor([1, 2]) + L.tensor(1.0), "float32"),
    (lambda L: L.tensor([1, 2]) + L.tensor(1.0, dtype=L.float64), "float64"),
    (lambda L: L.tensor([1, 2]) + L.tensor(1.0, dtype=L.float16), "float16"),
    (lambda L: L.tensor([1, 2], dtype=L.int32) + L.tensor(1), "int32"),
    (lambda L: L.tensor([1, 2], dtype=L.uint8) + 1000, "uint8"),
    (lambda L: L.tensor(1.0) + L.tensor(1.0, dtype=L.float64), "float64"),
    (lambda L: L.ones(2) + L.tensor(1j, dtype=L.complex128), "complex64"),
    (lambda L: L.ones(2, dtype=L.float64) + 1j, "complex128"),
    (lambda L: L.ones(2, dtype=L.int8) + L.ones(2, dtype=L.uint8), "int16"),
    (lambda L: L.tensor([True]) + 1, "int64"),
    (lambda L: L.tensor([True]) + L.tensor([True]), "bool"),
    (lambda L: L.tensor([1, 2]) / L.tensor([1, 2]), "float32"),
    (lambda L: L.tensor([1, 2]) // L.tensor([1, 2]), "int64"),
    (lambda L: L.tensor([1, 2]) ** 2.0, "float32"),
    (lambda L: L.ones(2) + np.float64(2), "float32"),
    (lambda L: (L.tensor([1, 2]) * 2).sum(), "int64"),
    (lambda L: L.tensor([True, False]).sum(), "int64"),
]


@pytest.mark.parametrize("i", range(len(CASES)))
def test_reference_cases(i):
    fn, expected = CASES[i]
    d, t = fn(dyngrad), fn(torch)
    assert str(t.dtype) == f"torch.{expected}"  # the reference table itself still holds
    assert_same_values(d, t, f"case {i}")


def test_uint8_wraps_without_inspecting_values():
    d = dyngrad.tensor([1, 2], dtype=dyngrad.uint8) + 1000
    t = torch.tensor([1, 2], dtype=torch.uint8) + 1000
    assert d.tolist() == t.tolist() == [233, 234]


def test_int_negative_power_error():
    check_error(lambda lib: lib.tensor([1, 2]) ** -1)


def test_default_dtype_roundtrip():
    assert dyngrad.get_default_dtype() is dyngrad.float32
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
    try:
        for fn in (lambda L: L.tensor([1.0]), lambda L: L.Tensor([1]), lambda L: L.tensor([1]),
                   lambda L: L.tensor([1, 2]) + 1.5, lambda L: L.zeros(2), lambda L: L.tensor([1j]),
                   lambda L: L.arange(2.0), lambda L: L.ones(2, dtype=L.float32) + 2.5):
            assert_same_values(fn(dyngrad), fn(torch), "float64 default")
        assert str(dyngrad.get_default_dtype()) == str(torch.get_default_dtype())
    finally:
        for lib in (dyngrad, torch):
            lib.set_default_dtype(lib.float32)
    assert dyngrad.get_default_dtype() is dyngrad.float32
    assert str(dyngrad.tensor([1.0]).dtype) == "torch.float32"


def test_set_default_dtype_rejects_non_float():
    check_error(lambda lib: lib.set_default_dtype(lib.int64))
    check_error(lambda lib: lib.set_default_dtype(lib.complex64))
    assert dyngrad.get_default_dtype() is dyngrad.float32


def test_dtype_attributes():
    for name in NAMES:
        d, t = getattr(dyngrad, name), getattr(torch, name)
        assert repr(d) == repr(t)
        assert (d.is_floating_point, d.is_complex, d.is_signed, d.itemsize) == (
            t.is_floating_point, t.is_complex, t.is_signed, t.itemsize), name
    for alias in ("half", "float", "double", "cfloat", "cdouble", "short", "int", "long"):
        assert repr(getattr(dyngrad, alias)) == repr(getattr(torch, alias))


def test_inplace_cannot_change_dtype():
    check_error(lambda lib: lib.tensor([1, 2]).__iadd__(1.5))
    for lib in (dyngrad, torch):
        x = lib.ones(2)
        x += lib.ones(2, dtype=lib.float64)
        assert str(x.dtype) == "torch.float32"


def test_grad_has_the_leaf_dtype():
    grads = []
    for lib in (dyngrad, torch):
        x = lib.ones(3, requires_grad=True)
        (x.double() * 2).sum().backward()
        grads.append(x.grad)
    assert_same_values(*grads, "grad")
