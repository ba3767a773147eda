"""`assert_close` and the deprecated `assert_allclose`, with PyTorch's rules and messages.

Inputs are compared pairwise after walking matching sequences and mappings: None with None,
bools, Python/NumPy numbers, and tensor-likes (tensors, or NumPy arrays with NumPy arrays).
A mismatch raises the exception PyTorch raises, with its message ("Tensor-likes are not close!",
the mismatch count, the greatest differences and where they are).
"""

from __future__ import annotations

import cmath
import collections.abc
import contextlib
import warnings

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._compat import torch_class_repr
from dyngrad._tensor import Tensor

__all__ = ["assert_close", "assert_allclose"]

# {dtype: (rtol, atol)}; other dtypes compare exactly
_PRECISIONS = {
    _dtype.float16: (0.001, 1e-5),
    _dtype.float32: (1.3e-6, 1e-5),
    _dtype.float64: (1e-7, 1e-7),
    _dtype.complex64: (1.3e-6, 1e-5),
    _dtype.complex128: (1e-7, 1e-7),
}
_ALLCLOSE_PRECISIONS = {  # assert_allclose's older, looser table
    _dtype.float16: (1e-3, 1e-3),
    _dtype.float32: (1e-4, 1e-5),
    _dtype.float64: (1e-5, 1e-8),
}
_BUG_REPORT = (
    "resulted in the unexpected exception above. If you are a user and see this message during "
    "normal operation please file an issue at https://github.com/pytorch/pytorch/issues. If you "
    "are a developer and working on the comparison functions, please except the previous error "
    "and raise an expressive `ErrorMeta` instead."
)


class _Failure(Exception):
    """A comparison failure: the exception type to raise, its message and where it occurred."""

    def __init__(self, type: type, msg: str, id: tuple = ()):  # noqa: A002 - as PyTorch names it
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None) -> Exception:
        """The user-facing exception; a string `msg` replaces the message, a callable edits it."""
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {_path(self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """This pair type cannot take these inputs; the next one is tried."""


def _path(id: tuple) -> str:  # noqa: A002
    return "".join(str([item]) for item in id)


def _default_tolerances(*dtypes, table=_PRECISIONS) -> tuple[float, float]:
    """The loosest (rtol, atol) of the dtypes."""
    rtols, atols = zip(*(table.get(d, (0.0, 0.0)) for d in dtypes), strict=True)
    return max(rtols), max(atols)


def _tolerances(*dtypes, rtol, atol, id: tuple) -> tuple:  # noqa: A002
    if (rtol is None) ^ (atol is None):
        raise _Failure(
            ValueError,
            "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}.",
            id,
        )
    if rtol is not None:
        return rtol, atol
    return _default_tolerances(*dtypes)


def _mismatch_msg(identifier: str, extra: str, abs_diff, abs_idx, atol, rel_diff, rel_idx,
                  rtol) -> str:
    equality = rtol == 0 and atol == 0

    def line(kind: str, diff, idx, tol) -> str:
        text = (f"{kind.title()} difference: {diff}" if idx is None
                else f"Greatest {kind} difference: {diff} at index {idx}")
        return text + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += line("absolute", abs_diff, abs_idx, atol) + line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, rtol, atol) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol,
                         rel_diff, None, rtol)


def _tensor_mismatch_msg(a, e, matches, rtol, atol) -> str:
    """The message for arrays `a`, `e` (same shape and dtype) and their boolean `matches`."""
    shape = matches.shape
    total = matches.size
    mismatches = total - int(matches.sum())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    a, e, matches = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if a.dtype.kind not in "fc":  # integers and bools: differences in int64, ratios in floats
        a, e = a.astype(xp.int64), e.astype(xp.int64)
    with xp.errstate(all="ignore"):
        abs_diff = xp.abs(a - e)
        abs_diff[matches] = 0
        if abs_diff.dtype.kind in "iu":
            float_np = _dtype.get_default_dtype().np
            rel_diff = abs_diff.astype(float_np) / xp.abs(e).astype(float_np)
        else:
            rel_diff = abs_diff / xp.abs(e)
        rel_diff[matches] = 0
    abs_idx, rel_idx = int(xp.argmax(abs_diff)), int(xp.argmax(rel_diff))  # NaN wins, as in max

    def where(flat: int) -> tuple:
        return tuple(int(i) for i in xp.unravel_index(flat, shape))

    return _mismatch_msg("Tensor-likes", extra, abs_diff[abs_idx].item(), where(abs_idx), atol,
                         rel_diff[rel_idx].item(), where(rel_idx), rtol)


def _isclose(a, e, rtol, atol, equal_nan: bool):
    """Elementwise |a - e| <= atol + rtol * |e| (PyTorch's `isclose`), on same-dtype arrays."""
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = a == e
    if a.dtype.kind in "fc" and equal_nan:
        close |= xp.isnan(a) & xp.isnan(e)
    if a.dtype.kind == "b" or (rtol == 0 and atol == 0):
        return close
    if a.dtype.kind in "iu":
        float_np = _dtype.get_default_dtype().np
        a, e = a.astype(float_np), e.astype(float_np)
    with xp.errstate(all="ignore"):
        allowed = atol + xp.abs(rtol * e)
        actual = xp.abs(a - e)
        close |= xp.isfinite(actual) & (actual <= allowed)
    return close


class _Pair:
    """Two inputs to compare, with the options that apply to them."""

    _options: tuple = ()

    def __init__(self, actual, expected, id: tuple = ()):  # noqa: A002
        self.actual, self.expected, self.id = actual, expected, id

    def _fail(self, type: type, msg: str):  # noqa: A002
        raise _Failure(type, msg, self.id)

    def __repr__(self) -> str:
        items = [("id", self.id), ("actual", self.actual), ("expected", self.expected)]
        items += [(name, getattr(self, name)) for name in self._options]
        body = [f"    {name}={value!s}," for name, value in items]
        return "\n".join((f"{type(self).__name__}(", *body, ")"))


class NonePair(_Pair):
    def __init__(self, actual, expected, id: tuple = (), **options):  # noqa: A002
        if not (actual is None or expected is None):
            raise _Unsupported
        super().__init__(actual, expected, id)

    def compare(self) -> None:
        if not (self.actual is None and self.expected is None):
            self._fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class BooleanPair(_Pair):
    def __init__(self, actual, expected, id: tuple = (), **options):  # noqa: A002
        if not all(isinstance(x, bool | xp.bool_) for x in (actual, expected)):
            raise _Unsupported
        super().__init__(bool(actual), bool(expected), id)

    def compare(self) -> None:
        if self.actual is not self.expected:
            self._fail(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}")


class NumberPair(_Pair):
    """Python numbers (NumPy numbers become Python ones), tolerances by their type."""

    _DTYPES = {int: _dtype.int64, float: _dtype.float64, complex: _dtype.complex128}
    _options = ("rtol", "atol", "equal_nan", "check_dtype")

    def __init__(self, actual, expected, id: tuple = (), rtol=None, atol=None,  # noqa: A002
                 equal_nan=False, check_dtype=False, **options):
        if not all(isinstance(x, int | float | complex | xp.number) for x in (actual, expected)):
            raise _Unsupported
        actual, expected = (x.item() if isinstance(x, xp.number) else x
                            for x in (actual, expected))
        super().__init__(actual, expected, id)
        self.rtol, self.atol = _tolerances(
            *(self._DTYPES[type(x)] for x in (actual, expected)), rtol=rtol, atol=atol, id=id
        )
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self) -> None:
        a, e = self.actual, self.expected
        if self.check_dtype and type(a) is not type(e):
            self._fail(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.")
        if a == e or (self.equal_nan and cmath.isnan(a) and cmath.isnan(e)):
            return
        abs_diff = abs(a - e)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(e):
            return
        self._fail(AssertionError, _scalar_mismatch_msg(a, e, self.rtol, self.atol))


class TensorLikePair(_Pair):
    """Tensors, or other related inputs `as_tensor` turns into tensors (NumPy arrays)."""

    _options = ("rtol", "atol", "equal_nan", "check_device", "check_dtype", "check_layout",
                "check_stride")

    def __init__(self, actual, expected, id: tuple = (), allow_subclasses=True,  # noqa: A002
                 rtol=None, atol=None, equal_nan=False, check_device=True, check_dtype=True,
                 check_layout=True, check_stride=False, **options):
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not related or (not allow_subclasses and type(actual) is not type(expected)):
            raise _Unsupported
        actual, expected = (self._to_tensor(x) for x in (actual, expected))
        super().__init__(actual, expected, id)
        self.rtol, self.atol = _tolerances(actual.dtype, expected.dtype, rtol=rtol, atol=atol,
                                           id=id)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_layout, self.check_stride = check_layout, check_stride

    @staticmethod
    def _to_tensor(x) -> Tensor:
        if isinstance(x, Tensor):
            return x
        from dyngrad.ops.creation import as_tensor

        try:
            return as_tensor(x)
        except Exception:
            raise _Unsupported from None

    def _attribute_mismatch(self, name: str, actual, expected):
        self._fail(AssertionError,
                   f"The values for attribute '{name}' do not match: {actual} != {expected}.")

    def compare(self) -> None:
        a, e = self.actual, self.expected
        if a.shape != e.shape:
            self._attribute_mismatch("shape", a.shape, e.shape)
        if self.check_stride and a.stride() != e.stride():
            self._attribute_mismatch("stride()", a.stride(), e.stride())
        if self.check_dtype and a.dtype != e.dtype:
            self._attribute_mismatch("dtype", a.dtype, e.dtype)
        da, de = a._data, e._data
        if da.dtype != de.dtype:
            common = _dtype.promote_types(a.dtype, e.dtype).np
            da, de = da.astype(common), de.astype(common)
        matches = _isclose(da, de, self.rtol, self.atol, self.equal_nan)
        if matches.all():
            return
        if da.shape == ():
            self._fail(AssertionError,
                       _scalar_mismatch_msg(da.item(), de.item(), self.rtol, self.atol))
        self._fail(AssertionError, _tensor_mismatch_msg(da, de, matches, self.rtol, self.atol))


_PAIR_TYPES = (NonePair, BooleanPair, NumberPair, TensorLikePair)


def _is_sequence(x) -> bool:
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _originate(actual, expected, id: tuple, options: dict) -> list:  # noqa: A002
    """The pairs to compare, walking matching sequences and mappings."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(
                AssertionError,
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id,
            )
        return [pair for i in range(len(actual))
                for pair in _originate(actual[i], expected[i], (*id, i), options)]
    if isinstance(actual, collections.abc.Mapping) and isinstance(
        expected, collections.abc.Mapping
    ):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Failure(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}",
                id,
            )
        keys = actual_keys
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        return [pair for k in keys
                for pair in _originate(actual[k], expected[k], (*id, k), options)]
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id, **options)]
        except _Unsupported:
            continue
        except _Failure:
            raise
        except Exception as error:
            raise RuntimeError(
                f"Originating a {pair_type.__name__}() at item {_path(id)} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\nand\n\n"
                f"{type(expected).__name__}(): {expected}\n\n{_BUG_REPORT}"
            ) from error
    raise _Failure(
        TypeError,
        "No comparison pair was able to handle inputs of type "
        f"{torch_class_repr(type(actual))} and {torch_class_repr(type(expected))}.",
        id,
    )


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None) -> None:
    """Raise unless `actual` and `expected` are close: for tensors, the same shape and dtype (and
    stride with `check_stride`), and |actual - expected| <= atol + rtol * |expected| everywhere,
    with per-dtype default tolerances (float32: rtol 1.3e-6, atol 1e-5)."""
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                   check_stride=check_stride)
    try:
        pairs = _originate(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None
        except Exception as error:
            raise RuntimeError(f"Comparing\n\n{pair}\n\n{_BUG_REPORT}") from error


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan: bool = True,
                    msg: str = "") -> None:
    """Deprecated: `assert_close` with dtype promotion, NaNs equal and looser tolerances."""
    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead. You can find detailed "
        "upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.",
        FutureWarning, stacklevel=2,
    )
    from dyngrad.ops.creation import tensor

    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _default_tolerances(actual.dtype, expected.dtype,
                                         table=_ALLCLOSE_PRECISIONS)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)
