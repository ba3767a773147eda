"""dyngrad.random (`torch.random`): the names torch.random has, acting on the same default
generator as dyngrad.rand; seeding, state round trips and fork_rng as torch's do."""

import pytest
import torch

import dyngrad
import dyngrad.ops.random
import dyngrad.random

NAMES = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng",
         "default_generator", "Generator"]


@pytest.mark.parametrize("name", NAMES)
def test_names_exist_as_in_torch(name):
    assert hasattr(torch.random, name)
    assert getattr(dyngrad.random, name) is getattr(dyngrad.ops.random, name)


def test_manual_seed_returns_the_default_generator():
    for lib in (dyngrad, torch):
        g = lib.random.manual_seed(5)
        assert g is lib.random.default_generator
        assert lib.random.initial_seed() == 5


def test_manual_seed_repeats_draws():
    dyngrad.random.manual_seed(7)
    a = dyngrad.rand(4)
    dyngrad.random.manual_seed(7)
    assert dyngrad.rand(4).tolist() == a.tolist()


def test_state_round_trip():
    def run(L):
        L.random.manual_seed(1)
        state = L.random.get_rng_state()
        first = L.rand(3).tolist()
        L.random.set_rng_state(state)
        return str(state.dtype), first == L.rand(3).tolist()

    assert run(dyngrad) == run(torch) == ("torch.uint8", True)


def test_seed_is_nondeterministic_and_recorded():
    for lib in (dyngrad, torch):
        s = lib.random.seed()
        assert isinstance(s, int) and lib.random.initial_seed() == s


@pytest.mark.parametrize("enabled", [True, False])
def test_fork_rng(enabled):
    def run(L):
        L.random.manual_seed(2)
        with L.random.fork_rng(enabled=enabled):
            L.rand(5)
        after = L.rand(2).tolist()
        L.random.manual_seed(2)
        return after == L.rand(2).tolist()

    assert run(dyngrad) == run(torch) == enabled
