"""Forward-mode AD against PyTorch: the dual-tensor API and its errors, tangents through ops
(values; PyTorch's tangents sometimes record a graph where the math needs none, so
requires_grad / grad_fn of tangents are not compared), in-place ops, custom Function jvp, and
reverse-over-forward."""

import numpy as np

import dyngrad
from tests.autograd.common import both, doubling, outcome
from tests.harness import array


def _tangents(lib, outs):
    """Each output's primal and tangent, both detached (values are what is compared)."""
    fw = lib.autograd.forward_ad
    res = []
    for o in outs:
        primal, tangent = fw.unpack_dual(o)
        res.append((primal.detach(), None if tangent is None else tangent.detach()))
    return res


def test_api_and_errors():
    def prog(lib):
        fw = lib.autograd.forward_ad
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        t = lib.tensor([1.0, 0.5])
        # unpack_dual's primal: grad_fn=<Identity> in both reprs (torch's class is CppFunction)
        info = [outcome(fw.make_dual, x, t), repr(fw.unpack_dual(x)), outcome(fw.exit_dual_level)]
        with fw.dual_level() as level:
            d = fw.make_dual(x, t)
            u = fw.unpack_dual(d)
            info += [level, d, d._is_view(), d._base is x, type(u).__name__, repr(u.primal),
                     u.tangent is t, u.primal is d, repr(fw.unpack_dual(x)),
                     outcome(fw.make_dual, x, lib.ones(3)),
                     outcome(fw.make_dual, lib.tensor([1, 2]), lib.ones(2)),
                     outcome(fw.make_dual, x, lib.tensor([1, 2])),
                     outcome(fw.make_dual, d, t),
                     outcome(fw.make_dual, x, t, level=3),
                     outcome(fw.enter_dual_level), outcome(fw.unpack_dual, 3),
                     fw.make_dual(x, lib.ones(2, dtype=lib.float64)),
                     fw.unpack_dual(d.detach()).tangent, repr(d)]
        info += [repr(fw.unpack_dual(d)), outcome(fw.exit_dual_level, level=0)]
        level = fw.enter_dual_level()
        fw.exit_dual_level()
        return info + [level, outcome(fw.exit_dual_level, level=1), fw.__all__]

    both(prog)


def test_tangents_through_ops():
    a, b = array(3), array(2, 3)

    def prog(lib):
        fw = lib.autograd.forward_ad
        x, W = lib.from_numpy(a.copy()), lib.from_numpy(b.copy())
        with fw.dual_level():
            d = fw.make_dual(x, lib.tensor([1.0, 0.5, -1.0], dtype=lib.float64))
            outs = [d * d, d / (d + 3), d ** 3, (d * 2).sum(), W @ d, d.reshape(3, 1) * d,
                    d[1:], d[0] * 4, 1 / (d + 5), d - 2 * d, d.exp(), d.sum(0), -d,
                    (W * d).sum(1), d.clone(), d.double() * x]
            return _tangents(lib, outs)

    both(prog)


def test_tangents_with_grad_and_no_grad():
    def prog(lib):
        fw = lib.autograd.forward_ad
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(x, lib.tensor([1.0, 0.5, -1.0]))
            y = d * d
            with lib.no_grad():
                z = d * 3
            tangent = fw.unpack_dual(y).tangent
            (g,) = lib.autograd.grad(tangent.sum(), x)
            plain = fw.make_dual(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 0.5, -1.0]))
            w = lib.ones(3, requires_grad=True)
            q = plain * w
            return [y, z, g, tangent.requires_grad, fw.unpack_dual(z).tangent,
                    fw.unpack_dual(q).tangent.requires_grad, fw.unpack_dual(plain * 2)]

    both(prog)


def test_inplace_ops_carry_tangents():
    def prog(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 0.5, -1.0]))
            c = d.clone()
            c.mul_(3)
            q = lib.zeros(3)
            q.add_(d)
            q.mul_(d)
            return _tangents(lib, [c, q])

    both(prog)


def test_views_share_tangents_through_inplace_writes():
    def prog(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 0.5, -1.0]))
            a = d.clone()
            a[0] = 5.0
            b = d.clone()
            b[1:].mul_(2)
            z = lib.zeros(3)
            z[1:] = d[:2]
            c = d.clone()
            v = c[1:]
            c.mul_(3)
            return _tangents(lib, [a, b, z, v, c])

    both(prog)


def test_custom_function_jvp():
    def prog(lib):
        fw = lib.autograd.forward_ad
        seen = []

        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                seen.append(fw.unpack_dual(x).tangent)
                ctx.save_for_forward(x, y)
                ctx.k = k
                return x * y * k, x + 1

            @staticmethod
            def jvp(ctx, xt, yt, kt):
                x, y = ctx.saved_tensors
                seen.append((xt, yt, kt, lib.is_grad_enabled()))
                return xt * y * ctx.k, xt

            @staticmethod
            def backward(ctx, g1, g2):
                return g1, g1, None

        NoJvp = doubling(lib, "NoJvp")

        class TooMany(NoJvp):
            @staticmethod
            def jvp(ctx, xt):
                return xt * 2, xt

        class BadSize(NoJvp):
            @staticmethod
            def jvp(ctx, xt):
                return lib.ones(3)

        x, y = lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])
        with fw.dual_level():
            d = fw.make_dual(x, lib.ones(2))
            out = F.apply(d, y, 3)
            return [_tangents(lib, out), seen, outcome(NoJvp.apply, d), NoJvp.apply(x),
                    outcome(TooMany.apply, d), outcome(BadSize.apply, d),
                    outcome(F.save_for_forward, 3)]

    both(prog)


def test_levels_drop_tangents():
    def prog(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(lib.tensor([1.0]), lib.tensor([2.0]))
            y = d * 3
        with fw.dual_level():
            return [fw.unpack_dual(d).tangent, fw.unpack_dual(y).tangent, d, y]

    both(prog)


def test_jvp_matches_finite_differences():
    """J·t from the double-vjp trick equals finite differences of the function (float64)."""
    rng = np.random.default_rng(0)
    a, t = rng.standard_normal(4) + 3, rng.standard_normal(4)
    fw = dyngrad.autograd.forward_ad

    def f(x):
        return (x ** 3 / (x + 1)) * x.sum()

    with fw.dual_level():
        out = f(fw.make_dual(dyngrad.from_numpy(a), dyngrad.from_numpy(t)))
        tangent = fw.unpack_dual(out).tangent.numpy()
    eps = 1e-6
    with dyngrad.no_grad():
        hi = f(dyngrad.from_numpy(a + eps * t)).numpy()
        lo = f(dyngrad.from_numpy(a - eps * t)).numpy()
    np.testing.assert_allclose(tangent, (hi - lo) / (2 * eps), rtol=1e-6)
