"""Tensor printing: `repr(tensor)`, `set_printoptions`, `get_printoptions` and `printoptions`.

Follows the algorithm of PyTorch 2.13's `torch/_tensor_str.py` so that the text matches PyTorch
character for character: one notation and width for all elements (integer, fixed-point or
scientific), rows wrapped at `linewidth`, `...` summaries of large tensors, then the `dtype=`,
`requires_grad=` / `grad_fn=` suffixes. Values are formatted as Python floats, which is what
PyTorch formats too (`tensor.item()` / `tolist()`), so float16 and float32 print identically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

from dyngrad import _dtype


@dataclasses.dataclass
class _PrinterOptions:
    """The live print options; field order is the order `get_printoptions()` reports them in."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set print options as `torch.set_printoptions` does.

    A `profile` ('default', 'short', 'full'; anything else is ignored, as in PyTorch) is applied
    first and explicit options override it. `sci_mode` is always assigned, so omitting it goes
    back to the automatic choice.
    """
    for name, value in _PROFILES.get(profile, {}).items():
        setattr(PRINT_OPTS, name, value)
    explicit = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
                "linewidth": linewidth}
    for name, value in explicit.items():
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options as a dict that can be passed back to `set_printoptions(**opts)`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Apply `set_printoptions(**kwargs)` for the duration of a `with` block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _Formatter:
    """One notation and width shared by every element of a real-valued tensor.

    Floats print in integer mode (`1.`) when every nonzero finite value is integral, and in
    scientific mode when the magnitudes span more than 1000x, exceed 1e8 or go below 1e-4
    (unless `sci_mode` forces it). The width is that of the widest nonzero finite value.
    """

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            # len(str(n)) grows with |n| (and "False" is wider than "True"), so the widest
            # element is the largest or the smallest.
            if values.size:
                self.max_width = max(len(str(values.min().item())), len(str(values.max().item())))
            return
        shown = values[np.isfinite(values) & (values != 0)]
        if not shown.size:
            return
        magnitude = np.abs(shown)
        low, high = float(magnitude.min()), float(magnitude.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        # Fixed-point text grows with the magnitude and scientific text with |exponent|, which
        # peaks at the smallest or largest magnitude: the widest value is an extreme of a sign.
        extremes = [x for part in (shown[shown > 0], shown[shown < 0]) if part.size
                    for x in (part.min(), part.max())]
        width = max(len(self._digits(float(x))) for x in extremes)
        self.max_width = width + 1 if self.int_mode and not self.sci_mode else width

    def _digits(self, value: float) -> str:
        """A float in the chosen notation, before the integer-mode `.` and padding."""
        if self.sci_mode:
            return f"{value:.{PRINT_OPTS.precision}e}"
        if self.int_mode:
            return f"{value:.0f}"
        return f"{value:.{PRINT_OPTS.precision}f}"

    def format(self, value) -> str:
        """One element, right-aligned to the shared width."""
        if not self.floating:
            text = str(value)
        else:
            text = self._digits(value)
            if self.int_mode and not self.sci_mode and math.isfinite(value):
                text += "."
        return text.rjust(self.max_width)


def _format_element(value, formatters: list[_Formatter]) -> str:
    """A real element, or a complex one as `real+imagj` with each part's own formatter."""
    if len(formatters) == 1:
        return formatters[0].format(value)
    real = formatters[0].format(value.real)
    imag = (formatters[1].format(value.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _shown_values(a: np.ndarray) -> np.ndarray:
    """The values a summarized print shows (edge items of every dimension), flattened.

    Mirrors PyTorch's quirks: with `edgeitems=0` a 1-D tensor keeps all its values
    (`a[-0:]` is the whole array) while higher-dimensional ones keep none.
    """
    edge = PRINT_OPTS.edgeitems
    if a.ndim <= 1:
        if a.ndim and a.shape[0] > 2 * edge:
            return np.concatenate((a[:edge], a[-edge:]))
        return a.reshape(-1)
    if not edge:
        return a.reshape(-1)[:0]
    rows = [*a[:edge], *a[-edge:]] if a.shape[0] > 2 * edge else list(a)
    return np.concatenate([_shown_values(row) for row in rows])


def _render(a: np.ndarray, indent: int, summarize: bool, formatters: list[_Formatter]) -> str:
    """Nested bracket text of `a`; `indent` is the column where the outer `[` stands."""
    if a.ndim == 0:
        return _format_element(a.item(), formatters)
    edge = PRINT_OPTS.edgeitems
    clipped = summarize and a.shape[0] > 2 * edge
    if a.ndim == 1:
        # Each element takes its width plus ", " (and the imaginary part plus "j" if complex).
        element_len = sum(f.max_width for f in formatters) + 2 + (len(formatters) - 1)
        per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_len))
        if summarize and not edge:
            items = ["..."]
        elif clipped:
            items = ([_format_element(v, formatters) for v in a[:edge].tolist()] + [" ..."]
                     + [_format_element(v, formatters) for v in a[-edge:].tolist()])
        else:
            items = [_format_element(v, formatters) for v in a.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if clipped:
        rows = ([_render(row, indent + 1, summarize, formatters) for row in a[:edge]] + ["..."]
                + [_render(row, indent + 1, summarize, formatters)
                   for row in a[a.shape[0] - edge:]])
    else:
        rows = [_render(row, indent + 1, summarize, formatters) for row in a]
    # Rows of a matrix go on new lines; blocks of higher dimensions get blank lines between.
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _tensor_str(data: np.ndarray, dtype, indent: int) -> str:
    """The bracketed values of a non-empty tensor, summarized past `threshold` elements."""
    summarize = data.size > PRINT_OPTS.threshold
    floating = dtype.is_floating_point or dtype.is_complex
    if dtype.is_complex:
        data = data.astype(np.complex128)
        parts = [data.real, data.imag]
    else:
        data = data.astype(np.float64) if floating else data
        parts = [data]
    formatters = [_Formatter(_shown_values(p) if summarize else p.reshape(-1), floating)
                  for p in parts]
    return _render(data, indent, summarize, formatters)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append `, suffix` items, moving one to a new line when it would pass `linewidth`."""
    pieces = [text]
    # PyTorch's measure of the last line: its length plus 2 (one more without a newline).
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(pieces) + ")"


def tensor_repr(t) -> str:
    """The full `tensor(...)` text of a tensor, as PyTorch's `repr` (and `str`) gives it."""
    prefix = "tensor("
    indent = len(prefix)
    data = np.asarray(t._data)
    dtype = t.dtype
    suffixes = []
    if data.size == 0:
        # Nothing to infer the dtype from, so even int64 is shown; the shape unless it is (0,).
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")
        implied = (_dtype.get_default_dtype(), _dtype.default_complex(), _dtype.int64,
                   _dtype.bool_)
        if dtype not in implied:
            suffixes.append(f"dtype={dtype!r}")
        body = _tensor_str(data, dtype, indent)
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t._grad_fn).__name__}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    if t._x is not None and "tangent" in t._x:
        from dyngrad.autograd.forward_ad import tangent_of

        tangent = tangent_of(t)
        if tangent is not None:
            suffixes.append(f"tangent={tensor_repr(tangent)}")
    return _add_suffixes(prefix + body, suffixes, indent)
