"""utils.data against torch.utils.data: batching, collation, samplers, datasets, errors."""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import dyngrad
import dyngrad.utils.data as ddata

X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 3


def both(fn):
    """fn(lib, data_module) for dyngrad and torch."""
    return fn(dyngrad, ddata), fn(torch, tdata)


def plain(batch):
    """A collated batch as nested Python values, with tensor dtypes, for comparison."""
    if isinstance(batch, dyngrad.Tensor | torch.Tensor):
        return ("tensor", str(batch.dtype), tuple(batch.shape), batch.tolist())
    if isinstance(batch, dict):
        return (type(batch).__name__, {k: plain(v) for k, v in batch.items()})
    if isinstance(batch, list | tuple):
        return (type(batch).__name__, [plain(v) for v in batch])
    return batch


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": 4, "drop_last": False},
                                    {"batch_size": None}, {"batch_size": 20}])
def test_tensor_dataset_batches_match_torch(kwargs):
    def run(lib, data):
        loader = data.DataLoader(data.TensorDataset(lib.tensor(X), lib.tensor(Y)), **kwargs)
        return len(loader), [plain(b) for b in loader]

    ours, ref = both(run)
    assert ours == ref


class Samples:
    """A map-style dataset of mixed Python/NumPy samples (torch-agnostic)."""

    Point = collections.namedtuple("Point", "x y")

    def __init__(self, kind):
        self.kind = kind

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {
            "dict": lambda: {"a": np.full(2, i, np.float64), "b": i, "c": float(i) / 2,
                             "name": f"s{i}", "flag": i % 2 == 0},
            "tuple": lambda: (np.int32(i), np.float32(i) * 1.5, [i, i + 1]),
            "namedtuple": lambda: self.Point(np.ones((2, 2), np.float32) * i, np.int64(i)),
            "array": lambda: np.arange(3, dtype=np.int16) + i,
        }[self.kind]()


@pytest.mark.parametrize("kind", ["dict", "tuple", "namedtuple", "array"])
@pytest.mark.parametrize("batch_size", [3, None])
def test_default_collation_matches_torch(kind, batch_size):
    def run(lib, data):
        loader = data.DataLoader(Samples(kind), batch_size=batch_size)
        return [plain(b if not hasattr(b, "_fields") else tuple(b)) for b in loader]

    ours, ref = both(run)
    assert ours == ref


def test_tensor_samples_and_errors_match_torch():
    def run(lib, data):
        batch = data.default_collate([lib.ones(2, 3), lib.zeros(2, 3)])
        with pytest.raises(RuntimeError) as e1:
            data.default_collate([[1, 2], [3]])
        with pytest.raises(TypeError) as e2:
            data.default_collate([object()])
        with pytest.raises(TypeError) as e3:
            data.default_collate([np.array(["a"]), np.array(["b"])])
        return plain(batch), str(e1.value), str(e2.value), str(e3.value)

    ours, ref = both(run)
    assert ours == ref


def test_collate_keeps_gradients():
    w = dyngrad.ones(3, requires_grad=True)
    batch = ddata.default_collate([w * 2, w * 3])
    assert batch.grad_fn is not None
    batch.backward(dyngrad.ones(2, 3))
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


@pytest.mark.parametrize("kwargs", [{"batch_size": 2}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": None}])
def test_iterable_dataset_matches_torch(kwargs):
    def run(lib, data):
        class Stream(data.IterableDataset):
            def __iter__(self):
                return iter(range(7))

            def __len__(self):
                return 7

        loader = data.DataLoader(Stream(), **kwargs)
        return len(loader), [plain(b) for b in loader]

    ours, ref = both(run)
    assert ours == ref


def test_shuffle_is_a_permutation_and_deterministic():
    dataset = ddata.TensorDataset(dyngrad.arange(20))

    def epochs(loader):
        return [[int(v) for (b,) in loader for v in b.tolist()] for _ in range(3)]

    def seeded():
        gen = dyngrad.Generator().manual_seed(7)
        return ddata.DataLoader(dataset, batch_size=6, shuffle=True, generator=gen)

    first, again = epochs(seeded()), epochs(seeded())
    assert first == again
    dyngrad.manual_seed(1)
    unseeded = epochs(ddata.DataLoader(dataset, batch_size=6, shuffle=True))
    dyngrad.manual_seed(1)
    assert epochs(ddata.DataLoader(dataset, batch_size=6, shuffle=True)) == unseeded
    assert all(sorted(e) == list(range(20)) for e in first)
    assert first[0] != first[1] and first[0] != list(range(20))


def test_samplers():
    gen = dyngrad.Generator().manual_seed(3)
    source = list(range(10))
    with_replacement = list(ddata.RandomSampler(source, replacement=True, num_samples=40,
                                                generator=gen))
    assert len(with_replacement) == 40 and set(with_replacement) <= set(source)
    assert len(list(ddata.RandomSampler(source, num_samples=25))) == 25
    subset = list(ddata.SubsetRandomSampler([3, 5, 9], generator=gen))
    assert sorted(subset) == [3, 5, 9]
    weighted = list(ddata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=gen))
    assert set(weighted) <= {1, 3} and weighted.count(3) > weighted.count(1)
    assert sorted(ddata.WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]

    def batches(lib, data):
        sampler = data.BatchSampler(data.SequentialSampler(range(10)), 4, drop_last=False)
        dropping = data.BatchSampler(range(10), 4, drop_last=True)
        return list(sampler), len(sampler), list(dropping), len(dropping)

    ours, ref = both(batches)
    assert ours == ref


def test_custom_samplers_and_collate_fn():
    def run(lib, data):
        ds = data.TensorDataset(lib.tensor(X))
        by_sampler = data.DataLoader(ds, batch_size=3, sampler=[9, 1, 4, 4, 0])
        by_batches = data.DataLoader(ds, batch_sampler=[[0, 1], [5], [2, 3, 4]],
                                     collate_fn=lambda b: len(b))
        return [plain(b) for b in by_sampler], list(by_batches), len(by_batches)

    ours, ref = both(run)
    assert ours == ref


def test_datasets_match_torch():
    def run(lib, data):
        a = data.TensorDataset(lib.tensor(X[:4]))
        b = data.TensorDataset(lib.tensor(X[4:]))
        cat = a + b
        sub = data.Subset(cat, [8, 0, 5])
        stack = data.StackDataset(a, a)
        named = data.StackDataset(x=a, y=a)
        with pytest.raises(ValueError) as e:
            cat[-11]
        return (len(cat), cat.cumulative_sizes, plain(cat[5]), plain(cat[-1]), len(sub),
                plain(sub[1]), plain(stack[2]), plain(named[3]), str(e.value))

    ours, ref = both(run)
    assert ours == ref


def test_random_split():
    ds = ddata.TensorDataset(dyngrad.arange(10))
    parts = ddata.random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    split = [p.indices for p in ddata.random_split(ds, [4, 6],
                                                   generator=dyngrad.Generator().manual_seed(5))]
    assert split == [p.indices for p in ddata.random_split(
        ds, [4, 6], generator=dyngrad.Generator().manual_seed(5))]
    parts = ddata.random_split(ds, [0.34, 0.33, 0.33])
    assert [len(p) for p in parts] == [4, 3, 3]  # remainder dealt round-robin, as in torch
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        ddata.random_split(ds, [3, 3])


@pytest.mark.parametrize("kwargs", [
    {"shuffle": True, "sampler": [0, 1]},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1},
    {"persistent_workers": True},
    {"prefetch_factor": 2},
])
def test_loader_errors_match_torch(kwargs):
    def run(lib, data):
        with pytest.raises(ValueError) as e:
            data.DataLoader(data.TensorDataset(lib.tensor(X)), **kwargs)
        return str(e.value)

    ours, ref = both(run)
    assert ours == ref


def test_num_workers_runs_in_process_and_attributes_are_frozen():
    loader = ddata.DataLoader(ddata.TensorDataset(dyngrad.tensor(X)), batch_size=4, num_workers=2)
    assert [b.shape[0] for (b,) in loader] == [4, 4, 2]
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
