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
@pytest.mark.parametrize("dtype", [*FLOATS, "float16", "complex64", "complex128"])
def test_randn(n, dtype):
    same_draws(lambda t: t.randn(n, dtype=getattr(t, dtype)))


@pytest.mark.parametrize("dtype", [*FLOATS, "float16"])
def test_randn_longer_than_one_pass(dtype):
    """Large fills are computed in pieces of 65536 values: the pieces and the ragged end join."""
    same_draws(lambda t: t.randn(2 * 65536 + 21, dtype=getattr(t, dtype)))


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


# --- the serial samplers: poisson, binomial, gamma, Dirichlet ----------------------------------
RATES = [0.0, 0.5, 3.0, 9.99, 10.0, 50.0, 1e4]


@pytest.mark.parametrize("dtype", FLOATS)
def test_poisson(dtype):
    same_draws(lambda t: t.poisson(t.tensor(RATES, dtype=getattr(t, dtype)).repeat(40)))
    same_draws(lambda t: t.poisson(t.tensor(RATES, dtype=getattr(t, dtype)).expand(6, 7).t()))
    same_draws(lambda t: t.poisson(t.tensor([1e9, float("inf"), 2.5], dtype=getattr(t, dtype)),
                                   t.Generator().manual_seed(5)))


def test_poisson_float16_and_bad_rates():
    """float16 counts; a negative rate raises after the rates before it have drawn."""
    same_draws(lambda t: t.poisson(t.tensor(RATES[:6], dtype=t.float16).repeat(10)))

    def bad_rate(t):
        with pytest.raises(RuntimeError, match="invalid Poisson rate"):
            t.poisson(t.tensor([3.0, 20.0, -1.0, 4.0]))
        return t.zeros(1)

    same_draws(bad_rate)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("count", [1.0, 5.0, 20.0, 150.0, 1e6, 7.5])
def test_binomial(dtype, count):
    """Inversion (count * p < 10) and BTRS, p > 1/2 through 1 - p, fractional counts."""
    probs = [0.0, 0.1, 0.5, 0.7, 1.0, 0.02, 0.98]
    same_draws(lambda t: t.binomial(t.full((30, 7), count, dtype=getattr(t, dtype)),
                                    t.tensor(probs, dtype=getattr(t, dtype))))


def test_binomial_edges():
    """Counts of 0, below 0 or infinite, probabilities outside [0, 1] or NaN."""
    same_draws(lambda t: t.binomial(
        t.tensor([10.0, 5.0, 7.0, 0.0, -3.0, float("inf"), float("inf"), 4.0]),
        t.tensor([1.5, -0.1, 0.0, 0.5, 0.5, 0.3, 0.8, float("nan")])))


ALPHAS = [0.01, 0.5, 1.0, 2.5, 100.0]


@pytest.mark.parametrize("dtype", FLOATS)
def test_standard_gamma(dtype):
    same_draws(lambda t: t._standard_gamma(t.tensor(ALPHAS, dtype=getattr(t, dtype)).repeat(30)))
    same_draws(lambda t: t._standard_gamma(
        t.tensor([0.0, 1e-30, float("inf"), float("nan"), 1e30], dtype=getattr(t, dtype))))


def test_gamma_shares_the_cached_normal():
    """The gamma sampler's normals come from the same Box-Muller pairs as randn's."""
    same_draws(lambda t: [t.randn(1, dtype=t.float64), t._standard_gamma(t.full((5,), 3.0)),
                          t.randn(3, dtype=t.float64), t._standard_gamma(t.full((4,), 0.3))])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(50, 2), (20, 3), (10, 5), (3, 17), (2, 100), (4,), ()])
def test_sample_dirichlet(dtype, shape):
    """Gamma draws in double, normalized by PyTorch's row sums, clamped below 1."""
    alpha = np.random.default_rng(len(shape)).uniform(0.01, 5.0, shape)
    same_draws(lambda t: t._sample_dirichlet(t.tensor(alpha, dtype=getattr(t, dtype))))
    same_draws(lambda t: t._sample_dirichlet(t.tensor([[0.0, 0.0], [1e-3, 1e-3], [1.0, 1e-30]],
                                                      dtype=getattr(t, dtype))))


@pytest.mark.parametrize("dtype", FLOATS)
def test_reparameterization_gradient_kernels(dtype):
    """_standard_gamma_grad and _dirichlet_grad are PyTorch's approximations, bit for bit."""
    rng = np.random.default_rng(0)
    alpha = np.repeat([0.001, 0.05, 0.3, 0.9, 1.0, 2.5, 7.0, 8.5, 30.0, 500.0], 40)
    x = np.maximum(rng.gamma(alpha), 1e-30)
    conc = 10.0 ** rng.uniform(-2, 2.5, (300, 3))
    draws = rng.dirichlet(conc.mean(0), 300)
    values = []
    for lib in (dyngrad, torch):
        a, s, c, d = (lib.tensor(v, dtype=getattr(lib, dtype)) for v in (alpha, x, conc, draws))
        values.append([lib._standard_gamma_grad(a, s),
                       lib._dirichlet_grad(d, c, c.sum(-1, True).expand_as(c).contiguous())])
    for ours, theirs in zip(*values, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


SAMPLERS = {
    "Gamma": lambda t: t.distributions.Gamma(t.tensor([0.3, 4.0, 100.0]),
                                             t.tensor([1.0, 2.0, 0.5])).rsample((50,)),
    "Gamma_float64": lambda t: t.distributions.Gamma(
        t.tensor([0.3, 4.0], dtype=t.float64), t.tensor([1.0, 2.0], dtype=t.float64)).sample((9,)),
    "Gamma_numbers": lambda t: t.distributions.Gamma(2.0, 1.0).sample((7,)),
    "Chi2": lambda t: t.distributions.Chi2(t.tensor([0.5, 3.0, 30.0])).rsample((40,)),
    "Beta": lambda t: t.distributions.Beta(t.tensor([0.5, 2.0]),
                                           t.tensor([1.5, 3.0])).rsample((30,)),
    "Beta_numbers": lambda t: t.distributions.Beta(2.0, 0.7).sample((30,)),
    "Dirichlet": lambda t: t.distributions.Dirichlet(
        t.tensor([[0.5, 1.0, 2.0], [3.0, 1.0, 1.0]])).rsample((20,)),
    "Dirichlet_float64": lambda t: t.distributions.Dirichlet(
        t.tensor([0.1, 1.0, 20.0, 3.0, 0.5], dtype=t.float64)).sample((20,)),
    "StudentT": lambda t: t.distributions.StudentT(t.tensor([1.0, 4.5, 30.0]), t.tensor(1.0),
                                                   t.tensor(2.0)).rsample((30,)),
    "Poisson": lambda t: t.distributions.Poisson(
        t.tensor([0.0, 0.5, 3.0, 12.0, 1e4])).sample((40,)),
    "Binomial": lambda t: t.distributions.Binomial(t.tensor([5.0, 50.0, 1000.0]),
                                                   probs=t.tensor([0.1, 0.5, 0.7])).sample((40,)),
    "Binomial_logits": lambda t: t.distributions.Binomial(
        20, logits=t.tensor([-1.0, 0.0, 2.0])).sample((40,)),
    "FisherSnedecor": lambda t: t.distributions.FisherSnedecor(
        t.tensor([1.0, 5.0]), t.tensor([3.0, 10.0])).rsample((30,)),
    "InverseGamma": lambda t: t.distributions.InverseGamma(
        t.tensor([3.0, 0.5]), t.tensor([1.0, 2.0])).rsample((30,)),
    "NegativeBinomial": lambda t: t.distributions.NegativeBinomial(
        t.tensor([3.0, 10.0]), probs=t.tensor([0.3, 0.8])).sample((30,)),
    "LKJCholesky": lambda t: t.distributions.LKJCholesky(4, t.tensor([0.5, 2.0])).sample((5,)),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_distribution_samples(name):
    same_draws(SAMPLERS[name])


GRADIENTS = {
    "Gamma": lambda t, p: t.distributions.Gamma(p[0], p[1]),
    "Chi2": lambda t, p: t.distributions.Chi2(p[0]),
    "Beta": lambda t, p: t.distributions.Beta(p[0], p[1]),
    "Dirichlet": lambda t, p: t.distributions.Dirichlet(t.stack([p[0], p[1]], -1)),
    "StudentT": lambda t, p: t.distributions.StudentT(p[0], 0.0, p[1]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", GRADIENTS)
def test_rsample_gradients(name, dtype):
    """Gradients of a weighted sum of draws with respect to the parameters: PyTorch's
    reparameterization gradients (the gamma and Dirichlet kernels agree bit for bit; the
    float32 results differ by the rounding of the sums after them)."""
    grads = []
    for lib in (dyngrad, torch):
        lib.manual_seed(3)
        dt = getattr(lib, dtype)
        params = [lib.tensor([0.05, 0.8, 3.0, 9.0, 40.0], dtype=dt, requires_grad=True),
                  lib.tensor([1.5, 0.3, 2.0, 12.0, 0.7], dtype=dt, requires_grad=True)]
        x = GRADIENTS[name](lib, params).rsample((25,))
        w = lib.arange(x.numel(), dtype=dt).reshape(x.shape).sin()
        grads.append([g.numpy() for g in lib.autograd.grad((x * w).sum(), params,
                                                           allow_unused=True) if g is not None])
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   atol=1e-6 * np.nanmax(np.abs(theirs)))


def test_standard_gamma_gradient():
    """d _standard_gamma / d alpha is _standard_gamma_grad: the same values as PyTorch's; it
    cannot be differentiated again."""
    grads = []
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
        alpha = lib.tensor([0.05, 0.5, 1.0, 4.0, 20.0], requires_grad=True)
        x = lib._standard_gamma(alpha)
        assert type(x.grad_fn).__name__ == "StandardGammaBackward0"
        (g,) = lib.autograd.grad(x, alpha, lib.linspace(-1, 2, 5), create_graph=True)
        with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
            lib.autograd.grad(g.sum(), alpha)
        grads.append(g.detach().numpy())
    np.testing.assert_array_equal(*grads)


def test_clone_state_and_the_offset_api():
    results = []
    for lib in (dyngrad, torch):
        g = lib.Generator().manual_seed(3)
        lib.randn(3, generator=g, dtype=lib.float64)  # leaves a cached normal behind
        c = g.clone_state()
        assert isinstance(c, lib.Generator) and c is not g and c.initial_seed() == 3
        results.append([lib.randn(5, generator=g).numpy(), lib.randn(5, generator=c).numpy()])
        for name, args, error in (("get_offset", (), RuntimeError),
                                  ("set_offset", (1,), RuntimeError),
                                  ("graphsafe_get_state", (), NotImplementedError),
                                  ("graphsafe_set_state", (g,), NotImplementedError)):
            with pytest.raises(error) as info:
                getattr(g, name)(*args)
            results.append(str(info.value))
    (ours, *our_errors), (theirs, *their_errors) = results[:5], results[5:]
    np.testing.assert_array_equal(ours[0], ours[1])
    np.testing.assert_array_equal(ours, theirs)
    assert our_errors == their_errors


def test_threads_sharing_a_generator_never_interleave_within_a_call():
    """Calls are atomic (PyTorch holds the generator's mutex): whatever the threads' order, the
    values drawn are those of the same calls made one after another (identical calls, so the
    order does not matter; gamma draws rewind and redraw, and carry a cached normal)."""
    import threading

    def call(g):
        return dyngrad._standard_gamma(dyngrad.full((5,), 0.7, dtype=dyngrad.float64),
                                       generator=g).numpy()

    g = dyngrad.Generator().manual_seed(5)
    together, lock = [], threading.Lock()

    def worker():
        for _ in range(50):
            values = call(g)
            with lock:
                together.append(values)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    g = dyngrad.Generator().manual_seed(5)
    one_by_one = [call(g) for _ in range(200)]
    np.testing.assert_array_equal(np.sort(np.concatenate(together)),
                                  np.sort(np.concatenate(one_by_one)))
