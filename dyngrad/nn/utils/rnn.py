"""Variable-length batches for recurrent layers: `PackedSequence` and the pack / pad helpers.

A packed batch stores the sequences (sorted by decreasing length) time step by time step:
`data` holds, for each step t, the `batch_sizes[t]` sequences still running, so an RNN does no
work on padding. Packing is a linear primitive (one gather, its adjoint a scatter); padding is
built as PyTorch builds it (a filled tensor and slice copies), so grad_fn names match.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.nn.functional._linear_op import linear_op

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
    "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence",
]


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """`(data, batch_sizes, sorted_indices, unsorted_indices)`, made by `pack_padded_sequence`
    or `pack_sequence`, accepted and returned by `RNN`, `LSTM` and `GRU`."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, list | tuple) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """Convert `data` (dtype or device); the indices stay as they are."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self.to(dtype=dyngrad.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=dyngrad.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=dyngrad.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=dyngrad.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=dyngrad.int32)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    out = xp.empty_like(p)
    out[p] = xp.arange(p.size, dtype=p.dtype)
    return Tensor._make(out)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths._data.astype(xp.int64)
    return xp.asarray(lengths, dtype=xp.int64).reshape(-1)


def _permute(t: Tensor, dim: int, perm: Tensor) -> Tensor:
    """`t.index_select(dim, perm)` (reorder the batch), by indexing: dyngrad has no index_select
    yet."""
    return t[(slice(None),) * dim + (perm,)]


def _pack_rows(lengths, batch_first: bool):
    """(time, batch) indices of the packed rows, step by step, and the batch sizes."""
    steps = int(lengths[0])
    batch_sizes = xp.array([(lengths > t).sum() for t in range(steps)], dtype=xp.int64)
    t_idx = xp.repeat(xp.arange(steps), batch_sizes)
    b_idx = xp.concatenate([xp.arange(b) for b in batch_sizes])
    return ((b_idx, t_idx) if batch_first else (t_idx, b_idx)), batch_sizes


def _pack(input: Tensor, lengths, batch_first: bool):
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch = input.shape[0 if batch_first else 1]
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.shape[0]} (batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if (lengths[1:] > lengths[:-1]).any():
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    key, batch_sizes = _pack_rows(lengths, batch_first)
    shape = input.shape

    def adj(g):
        out = xp.zeros(shape, g.dtype)
        out[key] = g
        return out

    data = linear_op(input, lambda a: a[key], adj, "PackPaddedSequenceBackward0")
    return data, Tensor._make(batch_sizes)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) given each sequence's length."""
    lengths = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = xp.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = Tensor._make(order.astype(xp.int64))
        input = _permute(input, 0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Undo packing: (padded batch, lengths), in the original batch order."""
    data, batch_sizes = sequence.data, sequence.batch_sizes._data
    steps = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}")
        steps = total_length
    batch = int(batch_sizes[0])
    out = dyngrad.full((steps, batch, *data.shape[1:]), padding_value, dtype=data.dtype)
    offset = start = 0
    n = batch_sizes.shape[0]
    for t in range(1, n + 1):  # one slice copy per run of equal batch sizes, as PyTorch does
        if t < n and batch_sizes[t] == batch_sizes[start]:
            continue
        bs, span = int(batch_sizes[start]), t - start
        out[start:t, :bs] = data[offset:offset + bs * span].view(span, bs, *data.shape[1:])
        offset += bs * span
        start = t
    lengths = xp.array([(batch_sizes > b).sum() for b in range(batch)], dtype=xp.int64)
    if batch_first:
        out = out.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        perm = sequence.unsorted_indices
        return (_permute(out, 0 if batch_first else 1, perm),
                Tensor._make(lengths[perm._data]))
    return out, Tensor._make(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths into one padded (T, B, *) tensor (B, T, *)."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}.")
    max_len = max(s.shape[0] for s in sequences)
    trailing = sequences[0].shape[1:]
    n = len(sequences)
    shape = (n, max_len) if batch_first else (max_len, n)
    out = dyngrad.full(shape + tuple(trailing), padding_value, dtype=sequences[0].dtype)
    for i, seq in enumerate(sequences):
        length = seq.shape[0]
        start = max_len - length if padding_side == "left" else 0
        if batch_first:
            out[i, start:start + length] = seq
        else:
            out[start:start + length, i] = seq
    return out


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False):
    """Split a padded batch back into a list of sequences."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    idx = dyngrad.arange(padded_sequences.shape[1])
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths, strict=True)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (longest first, unless enforce_sorted is False)."""
    lengths = dyngrad.tensor([v.shape[0] for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
