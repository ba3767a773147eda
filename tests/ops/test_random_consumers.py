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


@pytest.mark.parametrize("case", CASES)
def test_seeded_values(case):
    values = []
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
        values.append((CASES[case](lib).detach().numpy(), lib.rand(4).numpy()))
    (ours, our_next), (theirs, their_next) = values
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(our_next, their_next)
