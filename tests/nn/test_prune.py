"""dyngrad.nn.utils.prune against torch.nn.utils.prune: the masks (magnitude pruning on inputs
without ties), the reparametrization (`<name>_orig`, `<name>_mask`, the hook), forward and
backward through a pruned module, combining repeated pruning, remove, global pruning, and the
errors. Random pruning uses dyngrad's generator: its counts and structure are compared."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune

import dyngrad
import dyngrad.nn.utils.prune
from tests.harness import check_error

W = np.array([[0.5, -0.1, 0.3, 0.9], [-0.7, 0.2, 0.05, -0.4], [0.6, -0.8, 0.15, 0.25]],
             dtype=np.float32)
B = np.array([0.1, -0.2, 0.3], dtype=np.float32)
CONV = (np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3)
        * np.array([1, -3, 0.5, 2], dtype=np.float32).reshape(4, 1, 1, 1))


def P(L):
    return L.nn.utils.prune


def _linear(L, w=W, b=B):
    m = L.nn.Linear(w.shape[1], w.shape[0])
    with L.no_grad():
        m.weight.copy_(L.from_numpy(w.copy()))
        m.bias.copy_(L.from_numpy(b[: w.shape[0]].copy()))
    return m


def _conv(L):
    c = L.nn.Conv2d(2, 4, 3)
    with L.no_grad():
        c.weight.copy_(L.from_numpy(CONV.copy()))
    return c


def _names(m):
    return sorted(n for n, _ in m.named_parameters()), sorted(n for n, _ in m.named_buffers())


def _same(dg, th):
    assert len(dg) == len(th)
    for a, b in zip(dg, th, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_l1_unstructured_reparametrizes():
    def run(L):
        m = _linear(L)
        P(L).l1_unstructured(m, "weight", amount=0.5)
        hooks = [type(h).__name__ for h in m._forward_pre_hooks.values()]
        return [m.weight_mask.numpy(), m.weight.detach().numpy(), _names(m), hooks,
                m.weight_orig.requires_grad, m.weight.requires_grad, P(L).is_pruned(m)]

    _same(run(dyngrad), run(torch))


def test_forward_and_backward_through_a_pruned_module():
    def run(L):
        m = _linear(L)
        P(L).l1_unstructured(m, "weight", amount=5)
        y = m(L.ones(2, 4))
        y.sum().backward()
        return [y.detach().numpy(), m.weight_orig.grad.numpy(), m.bias.grad.numpy()]

    _same(run(dyngrad), run(torch))


def test_repeated_pruning_combines_masks():
    def run(L):
        m = _linear(L)
        P(L).l1_unstructured(m, "weight", amount=0.5)
        P(L).ln_structured(m, "weight", amount=1, n=2, dim=0)
        container = list(m._forward_pre_hooks.values())[0]
        P(L).l1_unstructured(m, "weight", amount=2)
        return [m.weight_mask.numpy(), type(container).__name__, len(container),
                [type(h).__name__ for h in container], len(m._forward_pre_hooks)]

    _same(run(dyngrad), run(torch))


def test_remove_makes_pruning_permanent():
    def run(L):
        m = _linear(L)
        P(L).l1_unstructured(m, "weight", amount=0.25)
        P(L).remove(m, "weight")
        return [_names(m), m.weight.detach().numpy(), P(L).is_pruned(m),
                type(m.weight).__name__, len(m._forward_pre_hooks)]

    _same(run(dyngrad), run(torch))


def test_custom_from_mask_and_identity():
    def run(L):
        m = _linear(L)
        P(L).custom_from_mask(m, "bias", L.tensor([1.0, 0.0, 1.0]))
        P(L).identity(m, "weight")
        return [m.bias.detach().numpy(), m.bias_mask.numpy(), m.weight_mask.numpy(), _names(m)]

    _same(run(dyngrad), run(torch))


def test_importance_scores():
    def run(L):
        m = _linear(L)
        scores = L.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4)[::-1].copy())
        P(L).l1_unstructured(m, "weight", amount=3, importance_scores=scores)
        c = _conv(L)
        P(L).ln_structured(c, "weight", amount=2, n=1, dim=0,
                           importance_scores=L.from_numpy(-CONV))
        return [m.weight_mask.numpy(), c.weight_mask.numpy()]

    _same(run(dyngrad), run(torch))


@pytest.mark.parametrize("amount,n,dim", [(0.5, 1, 0), (1, float("inf"), 1), (2, 2, -1),
                                          (0, 2, 0), (3, 2, 2)], ids=str)
def test_ln_structured(amount, n, dim):
    def run(L):
        c = _conv(L)
        P(L).ln_structured(c, "weight", amount=amount, n=n, dim=dim)
        return [c.weight_mask.numpy()]

    _same(run(dyngrad), run(torch))


def test_structured_after_unstructured_and_back():
    def run(L):
        c = _conv(L)
        P(L).l1_unstructured(c, "weight", amount=0.3)
        P(L).ln_structured(c, "weight", amount=1, n=2, dim=0)
        P(L).l1_unstructured(c, "weight", amount=5)
        return [c.weight_mask.numpy(), c.weight.detach().numpy()]

    _same(run(dyngrad), run(torch))


def test_global_unstructured():
    def run(L):
        m2 = _linear(L, np.array([[0.1, 0.9, -0.3], [0.45, -0.7, 0.2]], dtype=np.float32))
        m3 = _linear(L, np.array([[0.05, -0.6], [0.8, 0.35]], dtype=np.float32))
        P(L).global_unstructured([(m2, "weight"), (m3, "weight")],
                                 pruning_method=P(L).L1Unstructured, amount=0.4)
        P(L).global_unstructured([(m2, "weight"), (m3, "bias")],
                                 pruning_method=P(L).L1Unstructured, amount=2)
        return [m2.weight_mask.numpy(), m3.weight_mask.numpy(), m3.bias_mask.numpy()]

    _same(run(dyngrad), run(torch))


def test_compute_mask_and_prune_directly():
    def run(L):
        t = L.tensor([3.0, 1.0, 2.0, -4.0])
        return [P(L).L1Unstructured(0.3).compute_mask(t, default_mask=L.ones(4)).numpy(),
                P(L).L1Unstructured(2).prune(t).numpy(),
                P(L).CustomFromMask(L.tensor([0.0, 1.0, 1.0, 0.0])).prune(t).numpy()]

    _same(run(dyngrad), run(torch))


@pytest.mark.parametrize("amount", [0.5, 3])
def test_random_unstructured_counts(amount):
    m = _linear(dyngrad)
    P(dyngrad).random_unstructured(m, "weight", amount=amount)
    mask = m.weight_mask.numpy()
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert int((mask == 0).sum()) == (6 if amount == 0.5 else 3)
    np.testing.assert_array_equal(m.weight.detach().numpy(), W * mask)


def test_random_structured_prunes_whole_channels():
    c = _conv(dyngrad)
    P(dyngrad).random_structured(c, "weight", amount=2, dim=0)
    per_channel = c.weight_mask.numpy().reshape(4, -1)
    assert sorted(per_channel.min(1).tolist()) == [0.0, 0.0, 1.0, 1.0]
    assert (per_channel.min(1) == per_channel.max(1)).all()


def test_random_pruning_follows_dyngrads_seed():
    masks = []
    for _ in range(2):
        dyngrad.manual_seed(4)
        m = _linear(dyngrad)
        P(dyngrad).random_unstructured(m, "weight", amount=0.5)
        masks.append(m.weight_mask.numpy())
    np.testing.assert_array_equal(*masks)


ERRORS = {
    "amount_above_one": lambda L: P(L).l1_unstructured(_linear(L), "weight", amount=1.5),
    "amount_too_many": lambda L: P(L).l1_unstructured(_linear(L), "weight", amount=20),
    "amount_negative": lambda L: P(L).l1_unstructured(_linear(L), "weight", amount=-1),
    "amount_str": lambda L: P(L).l1_unstructured(_linear(L), "weight", amount="a"),
    "no_such_parameter": lambda L: P(L).l1_unstructured(_linear(L), "foo", amount=1),
    "remove_unpruned": lambda L: P(L).remove(_linear(L), "weight"),
    "dim_out_of_range": lambda L: P(L).ln_structured(_linear(L), "weight", amount=1, n=2, dim=5),
    "structured_1d": lambda L: P(L).ln_structured(_linear(L), "bias", amount=1, n=2, dim=0),
    "global_not_iterable": lambda L: P(L).global_unstructured(
        3, pruning_method=P(L).L1Unstructured, amount=3),
    "global_scores_not_dict": lambda L: P(L).global_unstructured(
        [(_linear(L), "weight")], pruning_method=P(L).L1Unstructured, importance_scores=[1],
        amount=1),
    "global_structured_method": lambda L: P(L).global_unstructured(
        [(_linear(L), "weight")], pruning_method=P(L).RandomStructured, amount=1),
    "scores_shape": lambda L: P(L).l1_unstructured(_linear(L), "weight", amount=1,
                                                   importance_scores=L.ones(2)),
    "custom_mask_shape": lambda L: P(L).custom_from_mask(_linear(L), "weight", L.ones(2)),
    "container_other_tensor": lambda L: _container_mixing_tensors(L),
}


def _container_mixing_tensors(L):
    a, b = P(L).L1Unstructured(1), P(L).L1Unstructured(1)
    a._tensor_name, b._tensor_name = "weight", "bias"
    P(L).PruningContainer(a).add_pruning_method(b)


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    # a PruningContainer's repr (in one message) holds its address: only the type is compared
    check_error(ERRORS[name], match="type" if name == "container_other_tensor" else "exact")


@pytest.mark.parametrize("name", ["amount_above_one", "no_such_parameter", "scores_shape"])
def test_failed_pruning_leaves_the_module_as_it_was(name):
    def run(L):
        m = _linear(L)
        with pytest.raises(Exception):  # noqa: B017 - the errors themselves are test_errors'
            {"amount_above_one": lambda: P(L).l1_unstructured(m, "weight", amount=1.5),
             "no_such_parameter": lambda: P(L).l1_unstructured(m, "foo", amount=1),
             "scores_shape": lambda: P(L).l1_unstructured(m, "weight", amount=1,
                                                          importance_scores=L.ones(2))}[name]()
        return [_names(m), P(L).is_pruned(m)]

    _same(run(dyngrad), run(torch))
