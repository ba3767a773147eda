"""nn.utils against torch: gradient clipping, parameter vectors, weight norm and
parametrizations."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, copy_state, fd_gradgrad, with_lib

RTOL, ATOL = 1e-10, 1e-12


def close(d, t, what: str = "") -> None:
    np.testing.assert_allclose(d.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=what)


def params_with_grads(lib, grads, dtype=None):
    ps = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(*g.shape, dtype=dtype or lib.float64))
        if g is not None:
            p.grad = lib.from_numpy(g.copy())
        ps.append(p)
    return ps


GRADS = [array(3, 4), array(5), array(2, 2, 2)]


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5, 3])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    res = []
    for lib in (dyngrad, torch):
        ps = params_with_grads(lib, GRADS)
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        res.append((total, [p.grad for p in ps]))
    (d_total, d_grads), (t_total, t_grads) = res
    assert d_total.dtype == dyngrad.float64 and d_total.shape == ()
    close(d_total, t_total)
    for d, t in zip(d_grads, t_grads, strict=True):
        close(d, t)


def test_clip_grad_norm_variants():
    for lib in (dyngrad, torch):
        assert lib.nn.utils.clip_grad_norm_([], 1.0).dtype == lib.float32
        with pytest.warns(UserWarning, match="empty generator"):
            lib.nn.utils.clip_grad_norm_((p for p in []), 1.0)
        with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
            lib.nn.utils.clip_grad_norm(params_with_grads(lib, GRADS), 1.0)
    # a single tensor, a parameter without gradient, float32 gradients
    res = []
    for lib in (dyngrad, torch):
        p = lib.nn.Parameter(lib.zeros(3))
        p.grad = lib.from_numpy(np.array([3.0, 4.0, 0.0], np.float32))
        q = lib.nn.Parameter(lib.zeros(2))
        total = lib.nn.utils.clip_grad_norm_(p, 1.0)
        lib.nn.utils.clip_grad_norm_([q, p], 0.1)
        res.append((total, p.grad))
    assert res[0][0].dtype == dyngrad.float32
    np.testing.assert_allclose(res[0][0].numpy(), res[1][0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(res[0][1].numpy(), res[1][1].numpy(), rtol=1e-6)
    # the two halves, as public functions
    for lib in (dyngrad, torch):
        ps = params_with_grads(lib, GRADS)
        total = lib.nn.utils.get_total_norm([p.grad for p in ps], 2.0)
        lib.nn.utils.clip_grads_with_norm_(ps, 1.0, total)
        res.append([p.grad.numpy() for p in ps])
    for a, b in zip(res[2], res[3], strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL)


def test_clip_grad_norm_nonfinite():
    grads = [np.array([1.0, np.inf]), np.array([2.0])]
    check_error(lambda lib: lib.nn.utils.clip_grad_norm_(params_with_grads(lib, grads), 1.0,
                                                         error_if_nonfinite=True))
    res = []
    for lib in (dyngrad, torch):
        ps = params_with_grads(lib, grads)
        res.append((lib.nn.utils.clip_grad_norm_(ps, 1.0).numpy(), ps[1].grad.numpy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])


def test_clip_grad_value():
    res = []
    for lib in (dyngrad, torch):
        ps = params_with_grads(lib, GRADS)
        assert lib.nn.utils.clip_grad_value_(ps, 0.7) is None
        lib.nn.utils.clip_grad_value_(ps[0], 0.5)
        res.append([p.grad.numpy() for p in ps])
    for a, b in zip(*res, strict=True):
        np.testing.assert_array_equal(a, b)


def test_parameters_vector_round_trip():
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
    check_op(with_lib(lambda lib, a, b: lib.nn.utils.parameters_to_vector([a, b])),
             array(2, 3), array(4), dtypes=(np.float64,), noncontig=False)
    res = []
    for lib in (dyngrad, torch):
        m = lib.nn.Linear(3, 2).double()
        vec = lib.from_numpy(np.arange(8.0))
        lib.nn.utils.vector_to_parameters(vec, m.parameters())
        vec[0] = 100.0  # the parameters view the vector's memory
        res.append([p.detach().numpy().copy() for p in m.parameters()]
                   + [lib.nn.utils.parameters_to_vector(m.parameters()).detach().numpy()])
        assert all(p.is_leaf and p.requires_grad for p in m.parameters())
    for a, b in zip(*res, strict=True):
        np.testing.assert_array_equal(a, b)
    check_error(lambda lib: lib.nn.utils.vector_to_parameters([1.0], []))


@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_parametrization(dim):
    t = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 4).double(), dim=dim)
    d = dyngrad.nn.utils.parametrizations.weight_norm(dyngrad.nn.Linear(3, 4).double(), dim=dim)
    assert repr(d) == repr(t)
    assert type(d).__name__ == "ParametrizedLinear"
    assert [(k, tuple(v.shape)) for k, v in d.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()]
    copy_state(d, t)
    assert type(d.weight.grad_fn).__name__ == type(t.weight.grad_fn).__name__
    x = array(2, 3)
    outs = [m(lib.from_numpy(x.copy())) for lib, m in ((dyngrad, d), (torch, t))]
    close(*outs)
    for o in outs:
        (o ** 2).sum().backward()
    for (name, dp), (_, tp) in zip(d.named_parameters(), t.named_parameters(), strict=True):
        close(dp.grad, tp.grad, name)
    for lib, m in ((dyngrad, d), (torch, t)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
    assert repr(d) == repr(t) and type(d).__name__ == "Linear"
    close(d.weight, t.weight)
    assert list(d.state_dict()) == list(t.state_dict())


def test_weight_norm_op():
    """torch._weight_norm: one node for the first or last dim (any-order derivatives)."""
    from dyngrad.nn.utils.weight_norm import _weight_norm

    def wn(dim):
        return _weight_norm_pair(_weight_norm, dim)

    # torch's second derivative of the fused node is wrong (its own gradgradcheck fails in
    # 2.13): compare first order with torch, second order with finite differences
    for dim, g_shape in ((0, (3, 1, 1)), (2, (1, 1, 2))):
        v, g = array(3, 4, 2), array(*g_shape)
        check_op(wn(dim), v, g, dtypes=(np.float64,), noncontig=False, gradgrad=False)
        fd_gradgrad(lambda a, b, dim=dim: _weight_norm(a, b, dim), v, g)
    check_op(wn(1), array(3, 4, 2), array(1, 4, 1), dtypes=(np.float64,), noncontig=False)


def _weight_norm_pair(d_fn, dim):
    return (lambda v, g: d_fn(v, g, dim)), (lambda v, g: torch._weight_norm(v, g, dim))


def test_legacy_weight_norm():
    res = []
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
        m = lib.nn.Conv1d(2, 3, 2).double()
        with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
            lib.nn.utils.weight_norm(m, dim=1)
        res.append(m)
        assert [tuple(v.shape) for v in m.state_dict().values()] == [(3,), (1, 2, 1), (3, 2, 2)]
    d, t = res
    assert list(d.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    copy_state(d, t)
    x = array(1, 2, 5)
    outs = [m(lib.from_numpy(x.copy())) for lib, m in ((dyngrad, d), (torch, t))]
    close(*outs)
    for o in outs:
        o.sum().backward()
    close(d.weight_g.grad, t.weight_g.grad)
    close(d.weight_v.grad, t.weight_v.grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        check_error(lambda lib: lib.nn.utils.weight_norm(res[0 if lib is dyngrad else 1]),
                    match="type")
    for lib, m in ((dyngrad, d), (torch, t)):
        lib.nn.utils.remove_weight_norm(m)
    assert list(d.state_dict()) == list(t.state_dict())
    close(d.weight, t.weight)
    check_error(lambda lib: lib.nn.utils.remove_weight_norm(lib.nn.Linear(2, 2)), match="type")


def test_register_parametrization():
    class Symmetric:
        def __init__(self, lib):
            self.lib = lib

        def make(self):
            class Sym(self.lib.nn.Module):
                def forward(self, x):
                    return x.triu() + x.triu(1).transpose(0, 1)

                def right_inverse(self, a):
                    return a.triu()

            return Sym()

    res = []
    for lib in (dyngrad, torch):
        m = lib.nn.Linear(3, 3).double()
        with lib.no_grad():
            m.weight.copy_(lib.from_numpy(np.arange(9.0).reshape(3, 3)))
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, "weight", Symmetric(lib).make())
        assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
        assert P.type_before_parametrizations(m) is lib.nn.Linear
        w = m.weight
        with P.cached():
            assert m.weight is m.weight
        m.weight = lib.from_numpy(np.ones((3, 3)) * 2)  # through right_inverse
        res.append((repr(m), list(m.state_dict()), w.detach().numpy(),
                    m.weight.detach().numpy(), type(w.grad_fn).__name__))
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
        res.append((repr(m), list(m.state_dict()), m.weight.detach().numpy()))
    for a, b in zip(res[0], res[2], strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    for a, b in zip(res[1], res[3], strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_error(lambda lib: lib.nn.utils.parametrize.register_parametrization(
            lib.nn.Linear(2, 2), "nothing", lib.nn.Identity()), match="type")
        check_error(lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
            lib.nn.Linear(2, 2), "weight"), match="type")
