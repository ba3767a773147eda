"""Seeded random numbers against PyTorch, value for value: after the same `manual_seed`, each
sampler must give torch's exact values (same dtype, shape, bits) and leave the stream where
torch leaves it (the next draws agree too)."""

import numpy as np
import pytest
import torch

import dyngrad


def _values(out):
    outs = out if isinstance(out, tuple | list) else (out,)
    return [t.detach().numpy() if hasattr(t, "detach") else np.asarray(t) for t in outs]


def same_draws(fn, seed=0):
    """fn(lib) after manual_seed(seed) gives bit-identical arrays in both libraries, and the
    stream continues identically (a float64 normal checks the cached Box-Muller value too)."""
    results = []
    for lib in (dyngrad, torch):
        lib.manual_seed(seed)
        values = _values(fn(lib))
        after = lib.randn(3, dtype=lib.float64).numpy(), lib.rand(5).numpy()
        results.append((values, after))
    (ours, our_after), (theirs, their_after) = results
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    for a, b in zip(our_after, their_after, strict=True):
        np.testing.assert_array_equal(a, b)


SIZES = [1, 3, 15, 16, 17, 20, 33, 100, 1001]
FLOATS = ["float32", "float64"]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [*FLOATS, "float16", "complex64", "complex128"])
def test_rand(n, dtype):
    same_draws(lambda t: t.rand(n, dtype=getattr(t, dtype)))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [*FLOATS, "complex64", "complex128"])
def test_randn(n, dtype):
    same_draws(lambda t: t.randn(n, dtype=getattr(t, dtype)))


@pytest.mark.parametrize("seed", [0, 1, 7, 2**32 + 5, 2**63, 67280421310721])
def test_seeds(seed):
    same_draws(lambda t: (t.rand(4), t.randn(2, 9), t.randint(0, 10, (5,))), seed)


def test_sequences_share_the_cached_normal():
    """Small normals come in Box-Muller pairs; an odd count leaves the second for the next."""
    same_draws(lambda t: [t.randn(1), t.randn(3, dtype=t.float64), t.rand(2), t.randn(5),
                          t.randn(16), t.randn(1), t.empty(2, 3).normal_(2.0, 0.5)])


@pytest.mark.parametrize("case", [
    lambda t: t.rand(3, 4, 5),
    lambda t: t.randn(4, 5, 6),
    lambda t: t.rand_like(t.zeros(2, 7, dtype=t.float64)),
    lambda t: t.randn_like(t.zeros(17)),
    lambda t: t.rand(6, generator=t.Generator().manual_seed(3)),
    lambda t: t.randn(40, generator=t.Generator()),  # the default seed of a new Generator
    lambda t: t.normal(2.0, 3.0, (5, 7)),
    lambda t: t.normal(t.arange(20.0), 2.0),
    lambda t: t.normal(t.arange(6.0), t.arange(1.0, 7.0) / 4),
    lambda t: t.normal(1.5, t.arange(1.0, 19.0, dtype=t.float64) / 8),
    lambda t: t.normal(t.zeros(2, 1), t.ones(3)),
], ids=lambda f: "")
def test_factories(case):
    same_draws(case)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", *FLOATS])
@pytest.mark.parametrize("low,high", [(0, 10), (-5, 3), (0, 2**31), (0, 2**33), (-2**40, 2**40)])
def test_randint(dtype, low, high):
    # integers a float holds exactly (torch warns beyond 2**24 in float32), or the int's range
    lo, hi = {"float32": (-2**24, 2**24), "float64": (-2**53, 2**53)}.get(dtype, (None, None))
    if lo is None:
        lo, hi = torch.iinfo(getattr(torch, dtype)).min, torch.iinfo(getattr(torch, dtype)).max
    if lo <= low and high - 1 <= hi:
        same_draws(lambda t: t.randint(low, high, (3, 7), dtype=getattr(t, dtype)))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool",
                                   "float16", *FLOATS])
def test_random_(dtype):
    same_draws(lambda t: t.empty(5, 4, dtype=getattr(t, dtype)).random_())
    same_draws(lambda t: t.empty(9, dtype=getattr(t, dtype)).random_(2))
    if dtype != "bool":
        same_draws(lambda t: t.empty(9, dtype=getattr(t, dtype)).random_(3, 100))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_randperm(n):
    same_draws(lambda t: t.randperm(n))
    same_draws(lambda t: t.randperm(n, dtype=t.int32, generator=t.Generator().manual_seed(n)))


FILLS = {
    "uniform_": lambda x: x.uniform_(-2.0, 3.0),
    "uniform_default": lambda x: x.uniform_(),
    "uniform_asymmetric": lambda x: x.uniform_(-0.2, 0.3),
    "normal_": lambda x: x.normal_(0.5, 0.02),
    "normal_default": lambda x: x.normal_(),
    "exponential_": lambda x: x.exponential_(1.5),
    "cauchy_": lambda x: x.cauchy_(1.0, 2.0),
    "log_normal_": lambda x: x.log_normal_(0.5, 0.75),
    "geometric_": lambda x: x.geometric_(0.3),
    "bernoulli_": lambda x: x.bernoulli_(0.3),
    "random_": lambda x: x.random_(0, 50),
}
LAYOUTS = {
    "contiguous": lambda t, dt: t.empty(6, 7, dtype=dt),
    "transposed": lambda t, dt: t.empty(7, 6, dtype=dt).t(),
    "strided": lambda t, dt: t.empty(6, 14, dtype=dt)[:, ::2],
    "small": lambda t, dt: t.empty(5, dtype=dt),
    "permuted": lambda t, dt: t.empty(3, 4, 5, dtype=dt).permute(2, 0, 1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fill", FILLS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_inplace_fills(fill, layout, dtype):
    """In-place fills, on contiguous tensors and on strided views (filled in memory order)."""
    same_draws(lambda t: FILLS[fill](LAYOUTS[layout](t, getattr(t, dtype))))


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-1 / 3, 1 / 3), (-0.2, 0.3), (2.5, 7.0)])
def test_uniform_float16(bounds):
    same_draws(lambda t: t.empty(50, 40, dtype=t.float16).uniform_(*bounds))


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8", "float16"])
def test_bernoulli_on_other_dtypes(dtype):
    same_draws(lambda t: t.empty(4, 5, dtype=getattr(t, dtype)).bernoulli_(0.6))


@pytest.mark.parametrize("case", [
    lambda t: t.bernoulli(t.linspace(0, 1, 30)),
    lambda t: t.bernoulli(t.linspace(0, 1, 30, dtype=t.float64)),
    lambda t: t.bernoulli(t.full((4, 5), 0.5), 0.2),
    lambda t: t.empty(4, 6).bernoulli_(t.linspace(0, 1, 6)),
    lambda t: t.empty(6, 4).t().bernoulli_(t.linspace(0, 1, 6, dtype=t.float64)),
], ids=lambda f: "")
def test_bernoulli(case):
    same_draws(case)


@pytest.mark.parametrize("case", [
    lambda t: t.nn.functional.dropout(t.arange(1.0, 41.0).reshape(5, 8), 0.3),
    lambda t: t.nn.functional.dropout(t.ones(100, dtype=t.float64), 0.9),
    lambda t: t.nn.Dropout(0.5)(t.ones(3, 4)),
    lambda t: t.nn.functional.dropout2d(t.ones(2, 6, 3, 3), 0.5),
    lambda t: t.nn.functional.alpha_dropout(t.arange(-25.0, 25.0) / 16, 0.2, True),
    lambda t: t.nn.functional.feature_alpha_dropout(t.ones(2, 6, 3), 0.4, True),
    lambda t: t.native_dropout(t.ones(4, 5), 0.25, True),
    lambda t: t.nn.functional.rrelu(t.arange(-10.0, 10.0) / 3, training=True),
    lambda t: t.nn.functional.rrelu(t.arange(-10.0, 10.0, dtype=t.float64) / 3, 0.1, 0.6, True),
    lambda t: t.nn.RReLU()(t.arange(-6.0, 6.0).reshape(3, 4)),
], ids=lambda f: "")
def test_dropout_and_rrelu(case):
    same_draws(case)


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("dtype", FLOATS)
def test_multinomial(replacement, k, dtype):
    same_draws(lambda t: t.multinomial(t.tensor([0.1, 2.0, 0.0, 3.0, 0.5, 1.0, 4.0],
                                                dtype=getattr(t, dtype)), k, replacement))
    same_draws(lambda t: t.multinomial(t.arange(1.0, 25.0, dtype=getattr(t, dtype))
                                       .reshape(3, 8), k, replacement))


# --- the generator's state, in PyTorch's layout ------------------------------------------------
STATE_AFTER = {
    "seeded": lambda t: None,
    "one float": lambda t: t.rand(1),
    "cached normal": lambda t: t.randn(1, dtype=t.float64),
    "past a twist": lambda t: t.randint(0, 5, (700,)),
    "exactly one twist": lambda t: t.randint(0, 5, (624,)),
}


@pytest.mark.parametrize("step", STATE_AFTER)
def test_state_bytes(step):
    states = []
    for lib in (dyngrad, torch):
        lib.manual_seed(42)
        STATE_AFTER[step](lib)
        states.append(lib.get_rng_state().numpy())
    assert states[0].shape == (5056,)
    np.testing.assert_array_equal(*states)


@pytest.mark.parametrize("step", STATE_AFTER)
def test_set_state_from_torch(step):
    """A state saved by torch restores dyngrad's stream to torch's position, and back."""
    torch.manual_seed(9)
    STATE_AFTER[step](torch)
    state = torch.get_rng_state()
    dyngrad.set_rng_state(dyngrad.tensor(state.numpy()))
    assert dyngrad.initial_seed() == torch.initial_seed()
    np.testing.assert_array_equal(dyngrad.get_rng_state().numpy(), state.numpy())
    np.testing.assert_array_equal(dyngrad.randn(5, dtype=dyngrad.float64).numpy(),
                                  torch.randn(5, dtype=torch.float64).numpy())
    g = dyngrad.Generator().set_state(dyngrad.tensor(state.numpy()))
    tg = torch.Generator().set_state(state)
    np.testing.assert_array_equal(dyngrad.rand(7, generator=g).numpy(),
                                  torch.rand(7, generator=tg).numpy())
