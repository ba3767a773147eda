"""`embedding_bag`: sums, means or maxima of bags of embeddings, without the (bags, length, dim)
intermediate. Composed (a row lookup, then a constant bag matrix or a gather of the maxima) and
recorded as one `EmbeddingBagBackward0` node."""

from __future__ import annotations

import warnings

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.nn.functional._composite import composite
from dyngrad.nn.functional.misc import _renorm_rows

__all__ = ["embedding_bag"]


def _bags(input: Tensor, offsets: Tensor | None, include_last_offset: bool):
    """(flat indices, bag start offsets, bag end offsets) after PyTorch's checks."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets)}")
        b, n = input.shape
        starts = xp.arange(b) * n
        return input._data.reshape(-1), starts, starts + n
    if input.dim() != 1:
        raise ValueError("input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    idx, off = input._data, offsets._data.astype(xp.int64)
    if off.size and off[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {off[0]}\n"
                           "[ torch.LongTensor{} ]")
    if off.size and off[-1] > idx.size:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.size} but "
                           f"got offsets[-1] of {off[-1]}")
    if include_last_offset:
        return idx, off[:-1], off[1:]
    return idx, off, xp.append(off[1:], idx.size)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm=None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """For each bag (a row of 2-D input, or a segment of 1-D input cut at `offsets`): the sum,
    mean or max of its embeddings (entries equal to padding_idx left out; empty bags give 0)."""
    if weight.dtype == dyngrad.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.dim() != 2:
        raise ValueError(
            f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    idx, starts, ends = _bags(input, offsets, include_last_offset)
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq is not supported by dyngrad")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, xp.unique(idx), max_norm, norm_type)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    bag_of = xp.searchsorted(ends, xp.arange(idx.size), side="right")
    keep = bag_of < starts.size
    if padding_idx is not None:
        keep &= idx != padding_idx
    n_bags = starts.size
    dtype = weight._data.dtype

    if mode == "max":
        def fn(w, *psw):
            rows = w[Tensor._make(idx)]
            best = xp.zeros((n_bags, w.shape[1]), xp.int64)
            has = xp.zeros(n_bags, bool)
            data = rows._data
            for b in range(n_bags):
                members = xp.nonzero((bag_of == b) & keep)[0]
                if members.size:
                    best[b] = members[data[members].argmax(0)]
                    has[b] = True
            cols = xp.arange(w.shape[1])[None, :]
            picked = rows[Tensor._make(best), Tensor._make(cols)]
            return picked * Tensor._make(has[:, None].astype(dtype))
    else:
        mat = xp.zeros((n_bags, idx.size), dtype)
        mat[bag_of[keep], xp.nonzero(keep)[0]] = 1
        if mode == "mean":
            counts = mat.sum(1, keepdims=True)
            mat = mat / xp.maximum(counts, 1)
        bag_matrix = Tensor._make(mat)

        def fn(w, *psw):
            rows = w[Tensor._make(idx)]
            if psw:
                rows = rows * psw[0].reshape(-1, 1)
            return bag_matrix.mm(rows)

    inputs = (weight,) if per_sample_weights is None else (weight, per_sample_weights)
    return composite("EmbeddingBagBackward0", fn, *inputs)
