"""Seeded sampling in utils.data against torch.utils.data: after the same `manual_seed` (or with
generators seeded alike), samplers, random_split and shuffling DataLoaders must visit torch's
indices in torch's order, and leave the global generator where torch leaves it."""

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import dyngrad
import dyngrad.utils.data as ddata

WEIGHTS = [[0.1, 0.9, 0.4, 0.7, 3.0, 0.6], [1.0] * 40, np.linspace(0.1, 3, 300).tolist(),
           [0.0, 2.0, 0.0, 1.0, 5.0]]


def same_order(fn, seed=0, generator_seed=None):
    """fn(lib, data, generator) gives the same (nested) lists of indices in both libraries after
    manual_seed(seed), the generator None or a fresh one seeded with `generator_seed`; the global
    generator then continues identically."""
    results = []
    for lib, data in ((dyngrad, ddata), (torch, tdata)):
        lib.manual_seed(seed)
        g = None if generator_seed is None else lib.Generator().manual_seed(generator_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(lib, data, g)
        results.append((out, lib.rand(4).tolist()))
    assert results[0] == results[1]


def twice(sampler):
    """Two epochs: a sampler without a generator draws a fresh seed for each."""
    return [list(sampler), list(sampler)]


SEEDS = [0, 1, 7]
GENERATOR_SEEDS = [None, 42]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
@pytest.mark.parametrize("n,kw", [
    (13, {}), (1, {}), (5, {"num_samples": 12}), (50, {"num_samples": 12}),
    (13, {"replacement": True}), (13, {"replacement": True, "num_samples": 70}),
    (7, {"replacement": True, "num_samples": 32}), (7, {"replacement": True, "num_samples": 5}),
], ids=str)
def test_random_sampler(n, kw, seed, generator_seed):
    same_order(lambda lib, data, g: twice(data.RandomSampler(range(n), generator=g, **kw)),
               seed, generator_seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
def test_subset_random_sampler(seed, generator_seed):
    same_order(lambda lib, data, g: twice(data.SubsetRandomSampler([3, 9, 4, 1, 8, 20], g)),
               seed, generator_seed)


@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
@pytest.mark.parametrize("num_samples,replacement", [(1, True), (5, True), (60, True),
                                                     (1, False), (3, False)])
@pytest.mark.parametrize("weights", WEIGHTS, ids=lambda w: f"{len(w)}weights")
def test_weighted_random_sampler(weights, num_samples, replacement, generator_seed):
    for seed in SEEDS:
        same_order(lambda lib, data, g: twice(data.WeightedRandomSampler(
            weights, num_samples, replacement, generator=g)), seed, generator_seed)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
def test_batch_sampler_over_random_samplers(drop_last, generator_seed):
    def fn(lib, data, g):
        return (twice(data.BatchSampler(data.RandomSampler(range(17), generator=g), 4, drop_last))
                + twice(data.BatchSampler(data.RandomSampler(range(9), True, 11), 3, drop_last)))

    for seed in SEEDS:
        same_order(fn, seed, generator_seed)


@pytest.mark.parametrize("n,lengths", [(20, [5, 10, 5]), (23, [0.3, 0.3, 0.4]), (10, [0.5, 0.5]),
                                       (7, [0.1, 0.9]), (3, [0.2, 0.2, 0.6]), (1, [1])], ids=str)
@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
def test_random_split(n, lengths, generator_seed):
    def fn(lib, data, g):
        kw = {} if g is None else {"generator": g}
        return [list(s.indices) for s in data.random_split(range(n), lengths, **kw)]

    for seed in SEEDS:
        same_order(fn, seed, generator_seed)


def _epochs(lib, data, g, n=23, epochs=3, **kw):
    """The index batches a shuffling DataLoader yields over a few epochs."""
    loader = data.DataLoader(data.TensorDataset(lib.arange(n)), generator=g, **kw)
    return [[batch[0].tolist() for batch in loader] for _ in range(epochs)]


@pytest.mark.parametrize("kw", [{"batch_size": 4, "shuffle": True},
                                {"batch_size": 4, "shuffle": True, "drop_last": True},
                                {"batch_size": 1, "shuffle": True},
                                {"batch_size": 30, "shuffle": True},
                                {"batch_size": 4}], ids=str)
@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
def test_dataloader_epochs(kw, generator_seed):
    for seed in SEEDS:
        same_order(lambda lib, data, g: _epochs(lib, data, g, **kw), seed, generator_seed)


@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
def test_dataloader_with_samplers(generator_seed):
    def fn(lib, data, g):
        ds = data.TensorDataset(lib.arange(10))
        by_sampler = data.DataLoader(ds, batch_size=3, generator=g,
                                     sampler=data.RandomSampler(ds, True, 14, generator=g))
        weighted = data.DataLoader(ds, batch_size=2, sampler=data.WeightedRandomSampler(
            WEIGHTS[0] + [1.0] * 4, 7, generator=g))
        by_batch = data.DataLoader(ds, generator=g, batch_sampler=data.BatchSampler(
            data.SubsetRandomSampler([0, 2, 4, 6, 8], generator=g), 2, False))
        return [[b[0].tolist() for b in loader] for loader in (by_sampler, weighted, by_batch)]

    for seed in SEEDS:
        same_order(fn, seed, generator_seed)


def test_interleaved_draws_between_batches():
    """Random numbers drawn by the training loop between batches (dropout, augmentation) come
    after the loader's seeds in the same order as in torch."""
    def fn(lib, data, g):
        loader = data.DataLoader(data.TensorDataset(lib.arange(12)), batch_size=5, shuffle=True)
        out = []
        for _ in range(2):
            it = iter(loader)
            out.append(lib.rand(2).tolist())
            for (batch,) in it:
                out.append(batch.tolist())
                out.append(lib.randn(3).tolist())
        return out

    same_order(fn, 3)


@pytest.mark.parametrize("persistent", [False, True])
def test_dataloader_with_workers(persistent):
    """dyngrad loads in-process, torch in worker processes; the main process's draws (a base
    seed per epoch, only the first one with persistent workers) must still be torch's."""
    same_order(lambda lib, data, g: _epochs(lib, data, g, batch_size=4, shuffle=True,
                                            num_workers=2, persistent_workers=persistent), 5)
