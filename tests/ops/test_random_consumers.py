"""Library code that draws random numbers gives PyTorch's values after the same seed: test-tensor
factories, scrambled Sobol' points, random pruning masks and vmap's per-sample randomness."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 - torch loads its pruning module on import only

import dyngrad

CASES = {
    "make_tensor float32": lambda t: t.testing.make_tensor((3, 4), dtype=t.float32, device="cpu"),
    "make_tensor bounds": lambda t: t.testing.make_tensor((9,), dtype=t.float64, device="cpu",
                                                          low=-0.5, high=2.0),
    "make_tensor int64": lambda t: t.testing.make_tensor((3, 4), dtype=t.int64, device="cpu"),
    "make_tensor bool": lambda t: t.testing.make_tensor((5,), dtype=t.bool, device="cpu"),
    "sobol scrambled, seeded": lambda t: t.quasirandom.SobolEngine(3, scramble=True, seed=5)
    .draw(4),
    "sobol scrambled, global": lambda t: t.quasirandom.SobolEngine(5, scramble=True).draw(6),
    "vmap different": lambda t: t.vmap(lambda x: x + t.rand(3), randomness="different")(
        t.zeros(2, 3)),
    "vmap same": lambda t: t.vmap(lambda x: x + t.randn(3), randomness="same")(t.zeros(2, 3)),
    "vmap dropout": lambda t: t.vmap(lambda x: t.nn.functional.dropout(x, 0.5),
                                     randomness="different")(t.ones(3, 6)),
}


def _pruned(method, **kw):
    def run(t):
        m = t.nn.Linear(6, 4)
        getattr(t.nn.utils.prune, method)(m, "weight", **kw)
        return m.weight_mask

    return run


CASES["prune random_unstructured"] = _pruned("random_unstructured", amount=0.5)
CASES["prune random_structured"] = _pruned("random_structured", amount=0.5, dim=0)


def same_after_seed(fn):
    """fn(lib) after manual_seed(0): the same values and dtype, and the streams still agree."""
    values = []
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
        values.append((fn(lib).detach().numpy(), lib.rand(4).numpy()))
    (ours, our_next), (theirs, their_next) = values
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(our_next, their_next)


@pytest.mark.parametrize("case", CASES)
def test_seeded_values(case):
    same_after_seed(CASES[case])


NN_CASES = {
    "gumbel_softmax hard": lambda t: t.nn.functional.gumbel_softmax(
        t.arange(10.0).reshape(2, 5) / 3, tau=0.5, hard=True),
    "fractional_max_pool2d": lambda t: t.nn.functional.fractional_max_pool2d(
        t.arange(64.0).reshape(1, 1, 8, 8), 2, output_size=4),
    "FractionalMaxPool3d": lambda t: t.nn.FractionalMaxPool3d(2, output_ratio=0.5)(
        t.arange(512.0).reshape(1, 1, 8, 8, 8)),
    "rrelu_": lambda t: t.nn.functional.rrelu(t.arange(-5.0, 5.0), training=True, inplace=True),
}


@pytest.mark.parametrize("case", NN_CASES)
def test_nn_noise(case):
    same_after_seed(NN_CASES[case])


def test_soft_gumbel_softmax_to_rounding():
    values = []
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
        values.append(lib.nn.functional.gumbel_softmax(lib.arange(10.0).reshape(2, 5) / 3,
                                                       tau=0.5).numpy())
    np.testing.assert_allclose(*values, rtol=1e-6)
