"""Differential tests of tensor printing: dyngrad's text must equal real PyTorch's, exactly."""

import math

import numpy as np
import pytest
import torch

from dyngrad import _dtype
from dyngrad import _tensor_str as ts
from dyngrad._tensor import Tensor


class MulBackward0:
    """Stand-in autograd node; only its class name is printed."""


def _tensor(array, requires_grad=False, grad_fn=None):
    """A dyngrad tensor wrapping `array` with the given autograd fields."""
    return Tensor._make(array, requires_grad, grad_fn)


def _cases():
    """(id, array) pairs covering every printing mode; seeded so ids name stable data."""
    rng = np.random.default_rng(1234)
    f32 = np.float32
    return [
        # integers
        ("arange", np.arange(10)),
        ("int_negative", np.array([-5, 3, 120, -7000])),
        ("int64_extremes", np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max])),
        ("int32", np.array([[1, -2], [300, 4]], dtype=np.int32)),
        ("int16", np.array([-32768, 7], dtype=np.int16)),
        ("int8", np.array([-128, 127, 0], dtype=np.int8)),
        ("uint8", np.arange(0, 256, 17, dtype=np.uint8)),
        ("int_one", np.array([7])),
        # floats: integer mode, fixed point, scientific
        ("int_valued", np.array([1.0, 2.0, -3.0], dtype=f32)),
        ("zeros", np.zeros(4, dtype=f32)),
        ("neg_zero", np.array([-0.0, 0.0, 2.0], dtype=f32)),
        ("big_int_valued", np.array([1.0, 123456.0], dtype=f32)),
        ("fractions", np.array([0.5, -1.25, 3.14159, 100.0], dtype=f32)),
        ("rounding_up", np.array([9.99996, 0.00005 + 0.1, -99.99999], dtype=f32)),
        ("ratio_1000", np.array([1.0, 1000.0, 0.5], dtype=f32)),
        ("ratio_over_1000", np.array([1.0, 1000.5], dtype=f32)),
        ("over_1e8", np.array([1.5e8, 2.0], dtype=f32)),
        ("exact_1e8", np.array([1e8, 1e7], dtype=np.float64)),
        ("below_1e-4", np.array([5e-5, 2e-4], dtype=f32)),
        ("sci_int_valued", np.array([1.0, 1e9], dtype=f32)),
        ("three_digit_exp", np.array([1e300, -1e-300, 3.0])),
        ("mixed_magnitudes", (rng.standard_normal(12) * 10.0 ** rng.integers(-6, 6, 12))),
        ("randn_f32", rng.standard_normal((4, 5)).astype(f32)),
        ("randn_f64", rng.standard_normal((3, 4))),
        ("randn_f16", rng.standard_normal(20).astype(np.float16)),
        ("f16_large", np.array([65504.0, -0.001, 3.0], dtype=np.float16)),
        ("f16_int_valued", np.array([1.0, 2048.0], dtype=np.float16)),
        ("f64_precise", np.array([1.0 / 3.0, 2.0 / 3.0, 1e-3])),
        # nan and inf
        ("nan_inf", np.array([np.nan, np.inf, -np.inf, 1.0], dtype=f32)),
        ("nan_inf_fraction", np.array([np.nan, 1.5, -np.inf], dtype=f32)),
        ("nan_inf_sci", np.array([np.nan, 1e-8, np.inf], dtype=f32)),
        ("all_nan", np.full(3, np.nan, dtype=f32)),
        ("only_inf", np.array([np.inf, -np.inf], dtype=f32)),
        ("nan_zero", np.array([np.nan, 0.0], dtype=f32)),
        # wrapping and summarization
        ("long_row", rng.standard_normal(40).astype(f32)),
        ("long_row_ints", np.arange(0, 10**6, 25000)),
        ("wide_matrix", rng.standard_normal((3, 30)).astype(f32)),
        ("summarized_1d", rng.standard_normal(2000).astype(f32) * 100),
        ("summarized_ints", np.arange(1001)),
        ("summarized_2d", np.arange(5000, dtype=f32).reshape(50, 100) / 7),
        ("summarized_3d", rng.standard_normal((20, 10, 10)).astype(f32)),
        ("summarized_edges_only", np.concatenate([np.ones(3), np.full(1000, 1e-9), np.ones(3)])),
        ("summarized_short_rows", rng.standard_normal((600, 2)).astype(f32)),
        # higher dimensions
        ("3d", rng.standard_normal((2, 3, 4)).astype(f32)),
        ("4d", np.arange(36, dtype=f32).reshape(2, 3, 2, 3) - 10),
        ("5d_ints", np.arange(32).reshape(2, 2, 2, 2, 2)),
        ("column", np.array([[1.5], [2.5]], dtype=f32)),
        # empty
        ("empty", np.zeros(0, dtype=f32)),
        ("empty_2d", np.zeros((0, 3), dtype=f32)),
        ("empty_3d", np.zeros((2, 0, 4), dtype=f32)),
        ("empty_int64", np.zeros(0, dtype=np.int64)),
        ("empty_bool", np.zeros((0, 1), dtype=bool)),
        ("empty_f64", np.zeros(0)),
        ("empty_complex", np.zeros(0, dtype=np.complex64)),
        # 0-dim
        ("scalar_float", np.array(3.25, dtype=f32)),
        ("scalar_int_valued", np.array(3.0, dtype=f32)),
        ("scalar_int", np.array(-42)),
        ("scalar_bool", np.array(True)),
        ("scalar_nan", np.array(np.nan, dtype=f32)),
        ("scalar_sci", np.array(1.5e-7, dtype=f32)),
        ("scalar_f64", np.array(2.5)),
        ("scalar_f16", np.array(0.1, dtype=np.float16)),
        ("scalar_complex", np.array(1 - 2j, dtype=np.complex64)),
        # bool
        ("bool", np.array([True, False, True])),
        ("bool_true", np.array([[True], [True]])),
        # complex
        ("complex", np.array([1 + 2j, -3.5 - 1j, 0.25j], dtype=np.complex64)),
        ("complex128", np.array([1e-5 + 1j, 2 - 3e6j])),
        ("complex_nan_negzero", np.array([complex(np.nan, -0.0), complex(1, np.inf)])),
        ("complex_int_valued", np.array([[1 + 1j, 2 - 2j], [3 + 0j, -4j]], dtype=np.complex64)),
        ("complex_summarized", (rng.standard_normal(1500) + 1j * rng.standard_normal(1500))),
        ("complex_long_row", (rng.standard_normal(30) * 1j + 2).astype(np.complex64)),
    ]


CASES = [pytest.param(array, id=name) for name, array in _cases()]

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 0},
    {"precision": 7},
    {"sci_mode": True},
    {"sci_mode": False},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"edgeitems": 0},
    {"linewidth": 40},
    {"linewidth": 5},
    {"linewidth": 200},
    {"profile": "full"},
    {"profile": "short"},
    {"profile": "short", "precision": 5, "sci_mode": True},
]


@pytest.fixture(autouse=True)
def _restore_defaults():
    """Every test starts and ends with default print options and float32 as default dtype."""
    yield
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    _dtype.set_default_dtype(_dtype.float32)


def _check(array, requires_grad=False, with_grad_fn=False):
    """Assert dyngrad prints `array` (a leaf, or the output of a mul) exactly as PyTorch does."""
    expected_tensor = torch.tensor(array, requires_grad=requires_grad or with_grad_fn)
    if with_grad_fn:
        expected_tensor = expected_tensor * 1
    # Print the values torch printed: `* 1` can change a complex zero's sign or a nan's parts.
    ours = _tensor(expected_tensor.detach().numpy(), requires_grad=requires_grad or with_grad_fn,
                   grad_fn=MulBackward0() if with_grad_fn else None)
    assert ts.tensor_repr(ours) == repr(expected_tensor)


def _options_id(options):
    """A readable test id such as `threshold=5,edgeitems=1`."""
    return ",".join(f"{name}={value}" for name, value in options.items())


def _set_both(**options):
    """Apply the same print options to PyTorch and to dyngrad."""
    torch.set_printoptions(**options)
    ts.set_printoptions(**options)


@pytest.mark.parametrize("array", CASES)
def test_default_options(array):
    _check(array)


@pytest.mark.parametrize("options", OPTIONS[1:], ids=_options_id)
@pytest.mark.parametrize("array", CASES)
def test_print_options(array, options):
    _set_both(**options)
    _check(array)


GRAD_CASES = [case for case in CASES if case.values[0].dtype.kind in "fc"]


@pytest.mark.parametrize("array", GRAD_CASES)
@pytest.mark.parametrize("with_grad_fn", [False, True], ids=["requires_grad", "grad_fn"])
def test_autograd_suffixes(array, with_grad_fn):
    _check(array, requires_grad=True, with_grad_fn=with_grad_fn)


@pytest.mark.parametrize("width", range(60, 81))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_suffix_wrapping(width, dtype):
    """Suffixes move to their own line exactly where PyTorch moves them."""
    array = np.arange(width // 8, dtype=dtype) + 0.5
    _check(array, requires_grad=True, with_grad_fn=True)
    _check(array.reshape(1, -1), requires_grad=True)
    _set_both(linewidth=width)
    _check(array, with_grad_fn=True)
    _check(np.arange(2 * (width // 8), dtype=dtype).reshape(2, -1) / 3, requires_grad=True)


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "complex64", "complex128",
                                  "int64", "int32", "bool"])
@pytest.mark.parametrize("shape", [(2,), (0,), (0, 2), ()])
@pytest.mark.parametrize("default", ["float64", "float16"])
def test_dtype_suffix_follows_default_dtype(name, shape, default):
    torch.set_default_dtype(getattr(torch, default))
    _dtype.set_default_dtype(getattr(_dtype, default))
    _check(np.ones(shape, dtype=name))


def test_get_printoptions_matches_torch():
    from torch import _tensor_str as torch_ts

    assert ts.get_printoptions() == torch_ts.get_printoptions()
    assert list(ts.get_printoptions()) == list(torch_ts.get_printoptions())
    for options in [*OPTIONS, {"profile": "no-such-profile"}, {"threshold": math.inf}]:
        _set_both(**options)
        assert ts.get_printoptions() == torch_ts.get_printoptions()


def test_full_profile_threshold_is_inf():
    ts.set_printoptions(profile="full")
    assert ts.get_printoptions()["threshold"] == math.inf


def test_printoptions_context_restores():
    ts.set_printoptions(precision=6, sci_mode=True)
    before = ts.get_printoptions()
    array = np.array([1.123456789, 2.0], dtype=np.float32)
    with ts.printoptions(precision=2, linewidth=30):
        assert ts.tensor_repr(_tensor(array)) == "tensor([1.12, 2.00])"
        assert ts.get_printoptions()["sci_mode"] is None
    assert ts.get_printoptions() == before
    assert ts.tensor_repr(_tensor(array)) == "tensor([1.123457e+00, 2.000000e+00])"


def test_printoptions_context_restores_after_error():
    before = ts.get_printoptions()
    with pytest.raises(ValueError), ts.printoptions(profile="full"):
        raise ValueError
    assert ts.get_printoptions() == before


def test_repr_and_str_of_tensor_use_tensor_repr():
    t = _tensor(np.array([[1.0, -2.5]], dtype=np.float32), requires_grad=True)
    assert repr(t) == str(t) == ts.tensor_repr(t)
    assert repr(t) == "tensor([[ 1.0000, -2.5000]], requires_grad=True)"


_RANDOM_DTYPES = [np.float32, np.float64, np.float16, np.complex64, np.complex128, np.int64,
                  np.int32, np.uint8, np.bool_]
_RANDOM_OPTIONS = {
    "precision": [0, 1, 2, 6], "threshold": [1, 5, 50], "edgeitems": [0, 1, 2, 4],
    "linewidth": [1, 30, 120], "sci_mode": [True, False], "profile": ["short", "full"],
}


def _random_case(seed):
    """A random array (shape, dtype, magnitudes, non-finite values) and random print options."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.choice([0, 1, 2, 3, 5, 8, 13], size=rng.integers(0, 5)))
    dtype = np.dtype(rng.choice(_RANDOM_DTYPES))
    values = rng.standard_normal(shape) * 10.0 ** rng.integers(-10, 10, shape)
    if rng.random() < 0.3:
        values = np.round(values)
    if values.size and rng.random() < 0.3:
        values.flat[rng.integers(values.size)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
    if dtype.kind == "c":
        values = values + 1j * rng.standard_normal(shape) * 10.0 ** rng.integers(-5, 5)
    elif dtype.kind in "iub":
        values = np.nan_to_num(values, posinf=0, neginf=0) % 256 - 128 * (dtype.kind == "i")
    with np.errstate(over="ignore"):
        array = values.astype(dtype)
    options = {name: choices[rng.integers(len(choices))]
               for name, choices in _RANDOM_OPTIONS.items() if rng.random() < 0.25}
    return array, options


@pytest.mark.parametrize("seed", range(300))
def test_random_arrays_and_options(seed):
    array, options = _random_case(seed)
    _set_both(**options)
    _check(array, requires_grad=array.dtype.kind in "fc" and seed % 2 == 0)
