"""dyngrad.testing against torch.testing: assert_close passes and fails on the same inputs with
the same exception and message (tolerances per dtype, NaNs, dtype/shape/stride checks, nested
containers, msg=), assert_allclose likewise, and make_tensor's shapes, dtypes, bounds, layouts
and errors (its values come from dyngrad's generator)."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
import dyngrad.testing
from tests.harness import check_error

NAN, INF = float("nan"), float("inf")

CASES = {
    "equal": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0]), {}),
    "within_default_tolerance": lambda L: (L.tensor([1.0]), L.tensor([1.0 + 1e-6]), {}),
    "one_of_three": lambda L: (L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.5, 3.0]), {}),
    "two_dims": lambda L: (L.tensor([[1.0, 2.0], [3.0, 4.0]]), L.tensor([[1.1, 2.0], [3.0, 4.5]]),
                           {}),
    "three_dims": lambda L: (L.zeros(2, 3, 4), L.zeros(2, 3, 4).index_fill(2, L.tensor([3]), 1.0),
                             {}),
    "zero_dim": lambda L: (L.tensor(1.0), L.tensor(2.0), {}),
    "zero_dim_float64": lambda L: (L.tensor(1.0, dtype=L.float64), L.tensor(1.1, dtype=L.float64),
                                   {}),
    "zero_dim_int": lambda L: (L.tensor(3), L.tensor(5), {}),
    "zero_dim_bool": lambda L: (L.tensor(True), L.tensor(False), {}),
    "one_by_one": lambda L: (L.tensor([[1.0]]), L.tensor([[2.0]]), {}),
    "int": lambda L: (L.tensor([1, 2]), L.tensor([1, 3]), {}),
    "int_large": lambda L: (L.tensor([1000000]), L.tensor([1000001]), {}),
    "int8_wraps_in_int64": lambda L: (L.tensor([127], dtype=L.int8),
                                      L.tensor([-128], dtype=L.int8), {}),
    "uint8": lambda L: (L.tensor([0], dtype=L.uint8), L.tensor([255], dtype=L.uint8), {}),
    "int_expected_zero": lambda L: (L.tensor([1]), L.tensor([0]), {}),
    "bool": lambda L: (L.tensor([True, False]), L.tensor([True, True]), {}),
    "float16": lambda L: (L.tensor([1.0], dtype=L.float16), L.tensor([1.01], dtype=L.float16), {}),
    "float16_close": lambda L: (L.tensor([1.0], dtype=L.float16),
                                L.tensor([1.0005], dtype=L.float16), {}),
    "complex": lambda L: (L.tensor([1 + 1j]), L.tensor([1 + 2j]), {}),
    "expected_zero": lambda L: (L.tensor([1.0]), L.tensor([0.0]), {}),
    "large": lambda L: (L.tensor([1e10]), L.tensor([1.0]), {}),
    "many_mismatches": lambda L: (L.arange(100.0), L.arange(100.0) + L.arange(100.0) % 2, {}),
    "nan": lambda L: (L.tensor([NAN]), L.tensor([NAN]), {}),
    "nan_equal": lambda L: (L.tensor([NAN]), L.tensor([NAN]), dict(equal_nan=True)),
    "nan_vs_number": lambda L: (L.tensor([NAN, 1.0]), L.tensor([1.0, 1.0]), {}),
    "inf_same": lambda L: (L.tensor([INF]), L.tensor([INF]), {}),
    "inf_opposite": lambda L: (L.tensor([INF]), L.tensor([-INF]), {}),
    "complex_nan_equal": lambda L: (L.tensor([complex(NAN, 0)]), L.tensor([complex(NAN, 0)]),
                                    dict(equal_nan=True)),
    "empty": lambda L: (L.tensor([]), L.tensor([]), {}),
    "dtype": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64), {}),
    "dtype_unchecked": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64),
                                  dict(check_dtype=False)),
    "dtype_unchecked_mismatch": lambda L: (L.tensor([1]), L.tensor([1.5]),
                                           dict(check_dtype=False)),
    "dtype_unchecked_loosest": lambda L: (L.tensor([1.0]), L.tensor([1.00001], dtype=L.float64),
                                          dict(check_dtype=False)),
    "shape": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0]), {}),
    "shape_scalar": lambda L: (L.tensor(1.0), L.tensor([1.0]), {}),
    "shape_empty": lambda L: (L.zeros(0, 2), L.zeros(2, 0), {}),
    "stride": lambda L: (L.ones(2, 2), L.ones(2, 2).t(), dict(check_stride=True)),
    "stride_unchecked": lambda L: (L.ones(2, 2), L.ones(2, 2).t(), {}),
    "explicit_tolerances": lambda L: (L.tensor([1.0]), L.tensor([2.0]), dict(rtol=0.1, atol=0.2)),
    "explicit_zero_tolerances": lambda L: (L.tensor([1.0]), L.tensor([1.5]), dict(rtol=0, atol=0)),
    "explicit_tolerances_pass": lambda L: (L.tensor([1.0]), L.tensor([1.5]),
                                           dict(rtol=0.5, atol=0.0)),
    "rtol_only": lambda L: (L.tensor([1.0]), L.tensor([2.0]), dict(rtol=0.1)),
    "atol_only": lambda L: (L.tensor([1.0]), L.tensor([1.0]), dict(atol=1.0)),
    "rtol_str": lambda L: (L.tensor([1.0]), L.tensor([1.0]), dict(rtol="a", atol=1)),
    "negative_rtol": lambda L: (L.tensor([1.0]), L.tensor([1.0]), dict(rtol=-1.0, atol=0.0)),
    "msg": lambda L: (L.tensor([1.0]), L.tensor([2.0]), dict(msg="custom")),
    "msg_callable": lambda L: (L.tensor([1.0]), L.tensor([2.0]), dict(msg=lambda m: f"<{m}>")),
    "requires_grad": lambda L: (L.tensor([1.0], requires_grad=True), L.tensor([1.0]), {}),
    "parameter": lambda L: (L.nn.Parameter(L.ones(1)), L.ones(1), {}),
    "parameter_no_subclasses": lambda L: (L.nn.Parameter(L.ones(1)), L.ones(1),
                                          dict(allow_subclasses=False)),
    "python_float": lambda L: (1.0, 2.0, {}),
    "python_float_close": lambda L: (1.0, 1.0 + 1e-9, {}),
    "python_int": lambda L: (1, 2, {}),
    "python_expected_zero": lambda L: (1.0, 0.0, {}),
    "python_complex": lambda L: (1 + 1j, 1 + 2j, {}),
    "python_types": lambda L: (1, 1.0, {}),
    "python_types_unchecked": lambda L: (1, 1.0, dict(check_dtype=False)),
    "python_nan_equal": lambda L: (NAN, NAN, dict(equal_nan=True)),
    "numpy_scalars": lambda L: (np.float32(1.0), np.float32(2.0), {}),
    "numpy_scalar_and_float": lambda L: (np.float32(1.0), 1.0, {}),
    "bools": lambda L: (True, False, {}),
    "bool_and_int": lambda L: (True, 1, {}),
    "numpy_arrays": lambda L: (np.array([1.0, 2.0]), np.array([1.0, 3.0]), {}),
    "numpy_arrays_int": lambda L: (np.array([1, 2]), np.array([1, 3]), {}),
    "numpy_arrays_dtype": lambda L: (np.array([1.0]), np.array([1.0], dtype=np.float32), {}),
    "numpy_and_tensor": lambda L: (np.array([1.0]), L.tensor([1.0]), {}),
    "tensor_and_float": lambda L: (L.tensor(1.0), 1.0, {}),
    "tensor_and_list": lambda L: (L.tensor([1.0]), [1.0], {}),
    "none": lambda L: (None, None, {}),
    "none_and_int": lambda L: (None, 1, {}),
    "strings": lambda L: ("a", "b", {}),
    "sets": lambda L: ({1}, {1}, {}),
    "lists": lambda L: ([L.tensor(1.0), L.tensor(2.0)], [L.tensor(1.0), L.tensor(3.0)], {}),
    "tuple_and_list": lambda L: ((1.0,), [1.0], {}),
    "lengths": lambda L: ([1, 2], [1], {}),
    "lengths_with_msg": lambda L: ([1, 2], [1], dict(msg="ignored")),
    "list_with_msg": lambda L: ([L.tensor(1.0)], [L.tensor(2.0)], dict(msg="boo")),
    "dicts": lambda L: ({"a": L.tensor(1.0)}, {"a": L.tensor(3.0)}, {}),
    "dict_order": lambda L: ({"a": 1, "b": 2}, {"b": 2, "a": 1}, {}),
    "dict_keys": lambda L: ({"a": 1}, {"b": 1}, {}),
    "dict_extra_key": lambda L: ({"a": 1}, {"a": 1, "b": 2}, {}),
    "nested": lambda L: ([[L.tensor(1.0), 2.0], {"k": [L.tensor(1.0)]}],
                         [[L.tensor(1.0), 2.0], {"k": [L.tensor(2.0)]}], {}),
    "nested_rtol_only": lambda L: ([L.tensor(1.0)], [L.tensor(1.0)], dict(rtol=0.1)),
    "complex_mixed_dtypes": lambda L: (L.tensor([complex(NAN, 1), 1j]),
                                       L.tensor([1j, 1j], dtype=L.complex64),
                                       dict(check_dtype=False)),
}


def _outcome(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return f"{type(e).__name__}: {e}"
    return "passed"


@pytest.mark.parametrize("name", CASES)
def test_assert_close(name):
    dg_a, dg_e, dg_kw = CASES[name](dyngrad)
    th_a, th_e, th_kw = CASES[name](torch)
    dg = _outcome(dyngrad.testing.assert_close, dg_a, dg_e, **dg_kw)
    th = _outcome(torch.testing.assert_close, th_a, th_e, **th_kw)
    assert dg == th


def test_assert_close_message_in_full():
    """One message spelled out, so that a change in both libraries is noticed too."""
    with pytest.raises(AssertionError) as info:
        dyngrad.testing.assert_close(dyngrad.tensor([1.0, 2.0, 3.0]),
                                     dyngrad.tensor([1.0, 2.5, 3.0]))
    assert str(info.value) == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)"
    )


def test_assert_close_unexpected_error_is_chained():
    with pytest.raises(RuntimeError) as info:
        dyngrad.testing.assert_close(dyngrad.tensor([1.0]), dyngrad.tensor([1.0]), rtol="a",
                                     atol=1)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("name", ["equal", "one_of_three", "zero_dim", "int", "nan",
                                  "python_float", "bools"])
def test_assert_close_under_float64_default(name):
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
    test_assert_close(name)


# --- assert_allclose ---------------------------------------------------------------------------
ALLCLOSE = {
    "float32": lambda L: ((L.tensor([1.0]), L.tensor([1.00009])), {}),
    "float32_fail": lambda L: ((L.tensor([1.0]), L.tensor([2.0])), {}),
    "float16": lambda L: ((L.tensor([1.0], dtype=L.float16), L.tensor([1.001], dtype=L.float16)),
                          {}),
    "float64_fail": lambda L: ((L.tensor([1.0], dtype=L.float64),
                                L.tensor([1.0001], dtype=L.float64)), {}),
    "nan_equal_by_default": lambda L: ((L.tensor([NAN]), L.tensor([NAN])), {}),
    "list_expected": lambda L: ((L.tensor([1.0, 2.0]), [1.0, 2.0]), {}),
    "scalars": lambda L: ((1, 1.0001), {}),
    "dtype_promoted": lambda L: ((L.tensor([1]), L.tensor([1.0])), {}),
    "rtol_only": lambda L: ((L.tensor([1.0]), L.tensor([1.1])), dict(rtol=0.01)),
    "msg": lambda L: ((L.tensor([1.0]), L.tensor([1.1])), dict(rtol=0.01, atol=0, msg="m")),
}


@pytest.mark.parametrize("name", ALLCLOSE)
def test_assert_allclose(name):
    def run(L):
        args, kwargs = ALLCLOSE[name](L)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = _outcome(L.testing.assert_allclose, *args, **kwargs)
        return outcome, [(w.category.__name__, str(w.message)) for w in caught]

    dg, th = run(dyngrad), run(torch)
    assert dg == th
    assert dg[1][0][0] == "FutureWarning"


# --- make_tensor -------------------------------------------------------------------------------
DTYPES = ["float16", "float32", "float64", "complex64", "complex128", "uint8", "int8", "int16",
          "int32", "int64", "bool"]


def _make(L, *shape, dtype, **kwargs):
    return L.testing.make_tensor(*shape, dtype=getattr(L, dtype), device="cpu", **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), ((2, 5),), ([2, 5],), ((),), (0,), (1, 1, 3)],
                         ids=str)
def test_make_tensor_shape_dtype_layout(dtype, shape):
    def run(L, noncontiguous):
        t = _make(L, *shape, dtype=dtype, noncontiguous=noncontiguous)
        # dyngrad's stride() of an empty tensor is NumPy's (0,), not PyTorch's (1,)
        stride = t.stride() if t.numel() else None
        return tuple(t.shape), str(t.dtype), stride, t.is_contiguous(), t.requires_grad

    for noncontiguous in (False, True):
        assert run(dyngrad, noncontiguous) == run(torch, noncontiguous)


def _bounds(t):
    """(min, max) of the values (real and imaginary parts for complex)."""
    a = t.detach().numpy()
    if np.iscomplexobj(a):
        a = np.concatenate([a.real, a.imag])
    return a.min().item(), a.max().item()


@pytest.mark.parametrize("dtype,low,high,expect", [
    ("float32", None, None, (-9, 9)),
    ("float64", 5, None, (5, 9)),
    ("float32", None, -5, (-9, -5)),
    ("complex64", -1, 1, (-1, 1)),
    ("float16", -1e6, 1e6, (-65504, 65504)),
    ("int64", None, None, (-9, 9)),
    ("uint8", -5, None, (0, 9)),
    ("int8", -1000, 1000, (-128, 127)),
    ("int64", 0.5, 3.5, (1, 3)),
    ("int32", None, -5, (-9, -6)),
    ("bool", None, None, (False, True)),
], ids=str)
def test_make_tensor_bounds(dtype, low, high, expect):
    """All values inside PyTorch's interval, and (10000 draws) reaching close to both ends."""
    t = _make(dyngrad, 10000, dtype=dtype, low=low, high=high)
    lo, hi = _bounds(t)
    assert expect[0] <= lo and hi <= expect[1]
    if dtype in ("float32", "float64", "complex64"):
        assert lo < expect[0] + 0.05 * (expect[1] - expect[0])
        assert hi > expect[1] - 0.05 * (expect[1] - expect[0])
    else:
        assert (lo, hi) == (expect[0], expect[1]) or dtype == "float16"
    th_lo, th_hi = _bounds(_make(torch, 10000, dtype=dtype, low=low, high=high))
    assert expect[0] <= th_lo and th_hi <= expect[1]


def test_make_tensor_whole_float_range():
    t = _make(dyngrad, 1000, dtype="float32", low=-INF, high=INF)
    assert np.isfinite(t.numpy()).all() and t.abs().max().item() > 1e37


@pytest.mark.parametrize("dtype", ["int64", "float32", "complex64", "bool"])
def test_make_tensor_exclude_zero(dtype):
    def run(L):
        low, high = (0, 2) if dtype == "int64" else (0, 1) if dtype == "bool" else (0, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = _make(L, 1000, dtype=dtype, low=low, high=high, exclude_zero=True)
        return sorted(set(t.flatten().tolist()))

    assert run(dyngrad) == run(torch)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_make_tensor_requires_grad(dtype):
    for noncontiguous in (False, True):
        t = _make(dyngrad, 2, 3, dtype=dtype, requires_grad=True, noncontiguous=noncontiguous)
        assert t.requires_grad and t.is_leaf
        t.abs().sum().backward() if dtype == "float32" else t.real.sum().backward()


def test_make_tensor_low_equals_high_warns():
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = _make(L, 5, dtype="float32", low=1, high=1)
        return t.tolist(), [(w.category.__name__, str(w.message)) for w in caught]

    assert run(dyngrad) == run(torch)


def test_make_tensor_uses_dyngrads_generator():
    dyngrad.manual_seed(3)
    a = _make(dyngrad, 5, dtype="float32")
    dyngrad.manual_seed(3)
    assert a.tolist() == _make(dyngrad, 5, dtype="float32").tolist()


MAKE_ERRORS = {
    "low_above_high": lambda L: _make(L, 3, dtype="float32", low=5, high=1),
    "low_equals_high_int": lambda L: _make(L, 3, dtype="int64", low=1, high=1),
    "low_nan": lambda L: _make(L, 3, dtype="float32", low=NAN),
    "high_nan": lambda L: _make(L, 3, dtype="float32", high=NAN),
    "interval_outside_dtype": lambda L: _make(L, 3, dtype="uint8", low=-10, high=-5),
    "requires_grad_int": lambda L: _make(L, 3, dtype="int64", requires_grad=True),
    "requires_grad_bool": lambda L: _make(L, 3, dtype="bool", requires_grad=True),
    "noncontiguous_and_memory_format": lambda L: _make(L, 2, 3, 4, 5, dtype="float32",
                                                       noncontiguous=True,
                                                       memory_format=L.channels_last),
    "complex_low": lambda L: _make(L, 2, dtype="float32", low=1j),
    "no_device": lambda L: L.testing.make_tensor(3, dtype=L.float32),
    "no_dtype": lambda L: L.testing.make_tensor(3, device="cpu"),
}


@pytest.mark.parametrize("name", MAKE_ERRORS)
def test_make_tensor_errors(name):
    check_error(MAKE_ERRORS[name])
