"""`DataLoader`: iterate over a dataset in (shuffled) mini-batches, collated into tensors.

Loading always happens in the calling process. `num_workers > 0` is accepted, so PyTorch scripts
run unchanged, but it loads in the main process exactly as `num_workers=0` does (`worker_init_fn`
is not called and `get_worker_info()` stays None): NumPy-backed datasets gain little from worker
processes, and this keeps iteration order and random draws identical.
"""

from __future__ import annotations

import collections
import copy
import math
import re

import numpy as np

import dyngrad
from dyngrad._tensor import Tensor
from dyngrad.utils.data.dataset import IterableDataset
from dyngrad.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler, new_seed

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

_STR_OR_OBJECT = re.compile(r"[SaUO]")
_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def get_worker_info():
    """Information about the current loader worker: always None (loading is in-process)."""
    return None


# --- collation ---------------------------------------------------------------------------------
def default_convert(data):
    """Turn NumPy arrays and scalars into tensors, inside any nest of dicts and sequences."""
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_"):
        if isinstance(data, np.ndarray) and _STR_OR_OBJECT.search(data.dtype.str):
            return data
        return dyngrad.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, items: dict):
    """A mapping of `like`'s type holding `items` (a plain dict if that type can't be made)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _rebuild_sequence(like, items: list):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _collate_tensors(batch, *, collate_fn_map=None):
    return dyngrad.stack(batch, 0)


def _collate_arrays(batch, *, collate_fn_map=None):
    if _STR_OR_OBJECT.search(batch[0].dtype.str):
        raise TypeError(_COLLATE_ERROR.format(batch[0].dtype))
    return collate([dyngrad.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalars(batch, *, collate_fn_map=None):
    return dyngrad.as_tensor(np.array(batch))


def _collate_floats(batch, *, collate_fn_map=None):
    return dyngrad.tensor(batch, dtype=dyngrad.float64)


def _collate_ints(batch, *, collate_fn_map=None):
    return dyngrad.tensor(batch)


def _collate_strings(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: _collate_tensors,
    np.ndarray: _collate_arrays,
    (np.bool_, np.number, np.object_): _collate_numpy_scalars,
    float: _collate_floats,
    int: _collate_ints,
    str: _collate_strings,
    bytes: _collate_strings,
}


def collate(batch, *, collate_fn_map: dict | None = None):
    """Merge a list of samples into a batch, recursing into dicts, namedtuples and sequences;
    leaves are handled by the first matching entry of `collate_fn_map` (type -> function)."""
    elem = batch[0]
    kind = type(elem)
    if collate_fn_map is not None:
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for types, fn in collate_fn_map.items():
            if isinstance(elem, types):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: collate([d[k] for d in batch],
                                                  collate_fn_map=collate_fn_map) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        columns = zip(*batch, strict=False)
        return kind(*(collate(list(s), collate_fn_map=collate_fn_map) for s in columns))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(list(s), collate_fn_map=collate_fn_map)
                   for s in zip(*batch, strict=True)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(_COLLATE_ERROR.format(kind))


def default_collate(batch):
    """Stack tensors and arrays along a new first dimension, turn numbers into tensors (floats
    as float64), keep strings as lists, and do so inside dicts, tuples (which become lists) and
    lists: `[(x0, y0), (x1, y1)]` -> `[stack([x0, x1]), tensor([y0, y1])]`."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


# --- the loader --------------------------------------------------------------------------------
class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, in order or shuffled, collating each
    batch with `collate_fn` (default: `default_collate`).

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    >>> for xb, yb in loader: ...
    """

    _initialized = False
    _base_seed = None  # drawn by the first iterator; persistent workers keep it across epochs

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr, value) -> None:
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                          "dataset", "persistent_workers"):
            raise ValueError(
                f"{attr} attribute should not be set after {self.__class__.__name__} is "
                "initialized"
            )
        super().__setattr__(attr, value)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self) -> _DataLoaderIter:
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                round_ = math.floor if self.drop_last else math.ceil
                length = round_(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _InfiniteConstantSampler:
    """The index "sampler" of an IterableDataset: None forever (the dataset yields samples)."""

    def __iter__(self):
        while True:
            yield None


class _DataLoaderIter:
    """One pass over a DataLoader."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._batched = loader.batch_sampler is not None
        self._indices = iter(loader._index_sampler)
        # PyTorch draws a base seed for its workers here (unused in-process), but with
        # persistent workers only in the first epoch: drawn alike, later draws stay in step
        if loader._base_seed is None or not loader.persistent_workers:
            loader._base_seed = new_seed(loader.generator)
        self._dataset_iter = iter(loader.dataset) if loader._iterable else None
        self._ended = False

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self):
        indices = next(self._indices)
        loader = self._loader
        if self._dataset_iter is not None:
            return loader.collate_fn(self._next_stream(indices))
        if not self._batched:
            return loader.collate_fn(loader.dataset[indices])
        getitems = getattr(loader.dataset, "__getitems__", None)
        samples = getitems(indices) if getitems else [loader.dataset[i] for i in indices]
        return loader.collate_fn(samples)

    def _next_stream(self, indices):
        """The next sample (or batch of samples) of an IterableDataset."""
        if self._ended:
            raise StopIteration
        if not self._batched:
            return next(self._dataset_iter)
        batch = list(zip(indices, self._dataset_iter, strict=False))
        if len(batch) < len(indices):
            self._ended = True
        if not batch or (self._loader.drop_last and len(batch) < len(indices)):
            raise StopIteration
        return [sample for _, sample in batch]
