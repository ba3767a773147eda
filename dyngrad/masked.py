"""`torch.masked`: reductions and normalizations that ignore the elements where `mask` is False.

As in PyTorch, each op replaces the masked-out elements by the identity of the reduction (0 for
sum, 1 for prod, -inf for amax / logsumexp / softmax, ...) with `where`, then runs the ordinary
op; mean, var and std divide by the count of masked-in elements. Elements of the result that
reduce only masked-out elements follow PyTorch: the identity, or nan where there is none (mean,
median, var, std). The compositions are PyTorch's, so grad_fn names and gradients match.
"""

from __future__ import annotations

import dyngrad
from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor

__all__ = [
    "sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean", "median",
    "logsumexp", "logaddexp", "norm", "var", "std", "softmax", "log_softmax", "softmin",
    "normalize",
]

_SMALL_INTS = (_dtype.uint8, _dtype.bool_, _dtype.int8, _dtype.int16, _dtype.int32)


def _canonical_dim(dim, ndim: int) -> tuple:
    """`dim` as a sorted tuple of wrapped dims; None (or ()) means every dim."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims: list = []
    for d in (dim,) if isinstance(dim, int) else dim:
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but "
                f"got {d})"
            )
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _input_mask(input: Tensor, mask: Tensor) -> Tensor:
    """The mask as a bool tensor of input's shape (broadcast)."""
    if mask.shape != input.shape:
        if mask.ndim > input.ndim:
            raise IndexError(
                "_input_mask expected broadcastable mask (got mask dimensionality higher than of "
                "the input)"
            )
        mask = dyngrad.broadcast_to(mask.clone(), input.shape)
    return mask.to(dtype=dyngrad.bool)


def _identity(op: str, input: Tensor, *args) -> Tensor:
    """The value that leaves the reduction `op` unchanged, as a 0-dim tensor of input's dtype."""
    dt = input.dtype
    floating = dt.is_floating_point
    if op in ("sum", "cumsum"):
        return dyngrad.tensor(0, dtype=dt)
    if op in ("prod", "cumprod"):
        return dyngrad.tensor(1, dtype=dt)
    if op in ("amax", "argmax", "logaddexp", "logsumexp"):
        if floating or dt.is_complex and op == "logsumexp":
            return dyngrad.tensor(-float("inf"), dtype=dt)
        if dt != _dtype.bool_ and not dt.is_complex:
            return dyngrad.tensor(xp.iinfo(dt.np).min, dtype=dt)
    elif op in ("amin", "argmin"):
        if floating:
            return dyngrad.tensor(float("inf"), dtype=dt)
        if dt != _dtype.bool_ and not dt.is_complex:
            return dyngrad.tensor(xp.iinfo(dt.np).max, dtype=dt)
    elif op == "norm":
        ord = args[0] if args else 2  # noqa: A001 - PyTorch's name
        return dyngrad.tensor(float("inf") if ord == -float("inf") else 0, dtype=dt)
    elif op == "median":
        return dyngrad.tensor(float("nan"), dtype=dt if floating else _dtype.float32)
    raise NotImplementedError(f"identity of {op} on {dt} input")


def _masked_input(op: str, input: Tensor, mask, *args) -> Tensor:
    """input with its masked-out elements replaced by op's identity."""
    if mask is None:
        return input
    return dyngrad.where(_input_mask(input, mask), input, _identity(op, input, *args))


def _sum_dtype(input: Tensor, dtype):
    if dtype is not None:
        return dtype
    return _dtype.int64 if input.dtype in _SMALL_INTS else input.dtype


def sum(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:  # noqa: A001
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    return dyngrad.sum(_masked_input("sum", input, mask), dims, bool(keepdim), dtype=dtype)


def prod(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    result = _masked_input("prod", input, mask).to(dtype=dtype)
    for d in reversed(dims):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return dyngrad.cumsum(_masked_input("sum", input, mask), d, dtype=dtype).to(dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return dyngrad.cumprod(_masked_input("prod", input, mask), d, dtype=dtype).to(dtype=dtype)


def amax(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("amax", input, mask)
    dims = _canonical_dim(dim, masked.ndim)
    return dyngrad.amax(masked, dims, bool(keepdim)).to(dtype=dtype)


def amin(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("amin", input, mask)
    dims = _canonical_dim(dim, masked.ndim)
    return dyngrad.amin(masked, dims, bool(keepdim)).to(dtype=dtype)


def argmax(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("argmax", input, mask)
    return dyngrad.argmax(masked, dim, bool(keepdim)).to(dtype=dtype)


def argmin(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("argmin", input, mask)
    return dyngrad.argmin(masked, dim, bool(keepdim)).to(dtype=dtype)


def _ones_count(input: Tensor, dim, keepdim) -> Tensor:
    return sum(dyngrad.ones(input.shape, dtype=_dtype.int64), dim, keepdim=keepdim)


def mean(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Sum of the masked-in elements over their count (nan where there are none)."""
    source = "Optional"
    if dtype is None:
        dtype, source = input.dtype, "Input"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(
            f"mean(): Could not infer output dtype. {source} dtype must be either a floating "
            f"point or complex dtype. Got: {dtype}"
        )
    if mask is None:
        count = _ones_count(input, dim, keepdim)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype)
    else:
        inmask = _input_mask(input, mask)
        count = inmask.sum(dim=_sum_dims(dim), keepdim=bool(keepdim))
        total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / count


def _sum_dims(dim):
    """`dim` as Tensor.sum takes it (None: every dim)."""
    return () if dim is None else dim


def median(input: Tensor, dim: int = -1, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """nanmedian of the masked-in elements (nan where there are none)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtype=_dtype.float32)
    output = dyngrad.nanmedian(_masked_input("median", input, mask), d, keepdim).values
    if is_float:
        return output
    if not dyngrad.isnan(output).any():
        return output.to(dtype=dtype)
    raise ValueError(
        "masked median expects no fully masked out rows if dtype is not floating point"
    )


def logsumexp(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.ndim)
    masked = _masked_input("logsumexp", input, mask)
    return dyngrad.logsumexp(masked, dims, keepdim=keepdim).to(dtype=dtype)


def logaddexp(input: Tensor, other: Tensor, *, dtype=None, input_mask=None,
              other_mask=None) -> Tensor:
    """logaddexp of input and other, each with its own mask (masked-out elements are -inf)."""
    dtype = input.dtype if dtype is None else dtype
    a = _masked_input("logaddexp", input, input_mask)
    b = _masked_input("logaddexp", other, other_mask)
    return dyngrad.logaddexp(a, b).to(dtype=dtype)


def norm(input: Tensor, ord=2.0, dim=None, *, keepdim=False, dtype=None,  # noqa: A002
         mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("norm", input, mask, ord)
    dims = _canonical_dim(dim, input.ndim)
    return dyngrad.linalg.vector_norm(masked, ord, dims, bool(keepdim), dtype=dtype)


def _std_var(input: Tensor, dim, unbiased, *, correction_opt, keepdim, dtype, mask,
             take_sqrt: bool) -> Tensor:
    if unbiased is not None and correction_opt is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    correction = 1.0
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    if correction_opt is not None:
        correction = float(correction_opt)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = _dtype.float32
    compute_dtype = dtype
    if mask is None:
        count = _ones_count(input, dim, True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype)
    else:
        inmask = _input_mask(input, mask)
        count = inmask.sum(dim=_sum_dims(dim), keepdim=True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype, mask=inmask)
    x = dyngrad.subtract(input, dyngrad.divide(sample_total, count))
    total = sum(x * x.conj(), dim, keepdim=keepdim, dtype=compute_dtype,
                mask=None if mask is None else inmask)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        real = compute_dtype.to_real() if compute_dtype.is_complex else compute_dtype
        count = dyngrad.subtract(count.to(real), correction)
        count = dyngrad.maximum(count, count.new_zeros([]))
    output = dyngrad.divide(total, count).to(dtype=dtype)
    return dyngrad.sqrt(output) if take_sqrt else output


def var(input: Tensor, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None) -> Tensor:
    """Variance of the masked-in elements (nan where there are none)."""
    return _std_var(input, dim, unbiased, correction_opt=correction, keepdim=keepdim,
                    dtype=dtype, mask=mask, take_sqrt=False)


def std(input: Tensor, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None) -> Tensor:
    """Standard deviation of the masked-in elements (nan where there are none)."""
    return _std_var(input, dim, unbiased, correction_opt=correction, keepdim=keepdim,
                    dtype=dtype, mask=mask, take_sqrt=True)


def softmax(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """softmax over the masked-in elements (masked-out ones get 0)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return dyngrad.nn.functional.softmax(_masked_input("amax", input, mask), d, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return dyngrad.nn.functional.log_softmax(_masked_input("amax", input, mask), d, dtype=dtype)


def softmin(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return dyngrad.nn.functional.softmin(_masked_input("amin", input, mask), d, dtype=dtype)


def normalize(input: Tensor, ord, dim: int, *, eps: float = 1e-12, dtype=None,  # noqa: A002
              mask=None) -> Tensor:
    """input divided by its masked p-norm along dim (at least eps); masked-out elements are 0."""
    dtype = input.dtype if dtype is None else dtype
    masked = _masked_input("sum", input, mask)
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return dyngrad.divide(masked, dyngrad.maximum(nrm, nrm.new_full([], eps)))
