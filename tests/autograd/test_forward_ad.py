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


def _spd(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def _signs(lib, V):
    """Eigen- and singular vectors are unique up to each column's sign (LAPACKs differ): make
    each column's largest entry positive, tangents follow with the same flip."""
    idx = V.detach().abs().argmax(-2, keepdim=True)
    return lib.gather(V.detach(), -2, idx).sign()


def test_multi_output_linalg_tangents():
    """Tangents of every output of the decompositions (a non-symmetric tangent included, where
    PyTorch's eigh and cholesky formulas read the whole tangent), and of the `_ex` variants."""
    rng = np.random.default_rng(1)
    A, T = _spd(4, 1), rng.standard_normal((4, 4))
    R, B = rng.standard_normal((5, 3)), rng.standard_normal((4, 2))

    def prog(lib):
        fw, la = lib.autograd.forward_ad, lib.linalg
        with fw.dual_level():
            a = fw.make_dual(lib.tensor(A), lib.tensor(T))
            r = fw.make_dual(lib.tensor(R), lib.tensor(rng_like(R, 2)))
            b = fw.make_dual(lib.tensor(B), lib.tensor(rng_like(B, 3)))
            w, V = la.eigh(a)
            U, S, Vh = la.svd(r, full_matrices=False)
            su, sv = _signs(lib, U), _signs(lib, Vh.mT)
            outs = [*la.slogdet(a), *la.qr(r), S, U * su, Vh * sv.mT, w,
                    V * _signs(lib, V), la.eigvalsh(a), la.svdvals(r), *la.lu(a)[1:],
                    la.lu_factor(a).LU, la.lstsq(a, b).solution, la.inv_ex(a)[0],
                    la.cholesky_ex(a)[0], la.cholesky(a, upper=True), la.solve_ex(a, b)[0],
                    lib.var_mean(r, 0)[0], lib.std_mean(r, 1)[1]]
            return _tangents(lib, outs)

    both(prog)


def rng_like(a: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(a.shape)


def test_tangents_at_special_points():
    """Points where a backward formula special-cases values: a zero p-norm (tangent 0, where
    the double-vjp trick would give NaN), xlogy, layer_norm over every dim, as_strided_scatter
    (PyTorch's backward is a quirk, its tangent the true one), empty inputs."""

    def prog(lib):
        fw, F = lib.autograd.forward_ad, lib.nn.functional
        with fw.dual_level():
            z = fw.make_dual(lib.zeros(2, 3, dtype=lib.float64), lib.ones(2, 3, dtype=lib.float64))
            x = fw.make_dual(lib.tensor([-2.0, 0.0, 3.0], dtype=lib.float64),
                             lib.tensor([1.0, 2.0, -1.0], dtype=lib.float64))
            y = fw.make_dual(lib.tensor(2.5, dtype=lib.float64), lib.tensor(0.5, dtype=lib.float64))
            w = fw.make_dual(lib.ones(3, dtype=lib.float64), lib.tensor([1.0, 0.0, 2.0],
                                                                       dtype=lib.float64))
            empty = fw.make_dual(lib.zeros(0, dtype=lib.float64), lib.zeros(0, dtype=lib.float64))
            outs = [lib.linalg.vector_norm(z, 3.5, 1), z.norm(dim=1), lib.linalg.norm(empty, 3.5),
                    lib.xlogy(x, y), lib.xlogy(x, 0.0), F.layer_norm(x * x, (3,), w),
                    lib.as_strided_scatter(x, y.reshape(1) * 2, (1,), (1,), 1),
                    lib.linalg.vector_norm(x, 1.5), lib.linalg.vector_norm(x, float("inf"))]
            return _tangents(lib, outs)

    both(prog)


def test_reverse_over_forward_through_a_decomposition():
    """A tangent of svd / eigh records a graph when the primal requires grad: its gradient."""
    A, T = _spd(3, 4), rng_like(np.zeros((3, 3)), 5)

    def prog(lib):
        fw = lib.autograd.forward_ad
        p = lib.tensor(A, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(p, lib.tensor(T))
            s = lib.linalg.svdvals(d)
            w = lib.linalg.eigh(d).eigenvalues
            c = lib.linalg.cholesky(d)
            loss = sum(fw.unpack_dual(o).tangent.pow(2).sum() for o in (s, w, c))
        return lib.autograd.grad(loss, p)

    both(prog)


def test_tangents_where_torch_forward_formula_differs():
    """cholesky_inverse, and triangular_solve with transpose=True: PyTorch's forward formulas
    miss the exact tangent (docs/differences.md); dyngrad's equals finite differences."""
    rng = np.random.default_rng(6)
    F, B = np.tril(_spd(4, 6)), rng.standard_normal((4, 2))
    tF, tB = np.tril(rng.standard_normal((4, 4))), rng.standard_normal((4, 2))
    fw = dyngrad.autograd.forward_ad
    cases = [lambda f, b: dyngrad.cholesky_inverse(f),
             lambda f, b: dyngrad.triangular_solve(b, f, upper=False, transpose=True)[0]]
    for fn in cases:
        with fw.dual_level():
            out = fn(fw.make_dual(dyngrad.tensor(F), dyngrad.tensor(tF)),
                     fw.make_dual(dyngrad.tensor(B), dyngrad.tensor(tB)))
            tangent = fw.unpack_dual(out).tangent.numpy()
        eps = 1e-6
        hi = fn(dyngrad.tensor(F + eps * tF), dyngrad.tensor(B + eps * tB)).numpy()
        lo = fn(dyngrad.tensor(F - eps * tF), dyngrad.tensor(B - eps * tB)).numpy()
        np.testing.assert_allclose(tangent, (hi - lo) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_complex_tangents():
    """Complex inputs: the double-vjp trick needs no special case, because the backward formulas
    follow PyTorch's conjugate-Wirtinger convention (holomorphic and not: abs, conj, angle)."""
    rng = np.random.default_rng(7)
    z = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    t = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))

    def prog(lib):
        fw, la = lib.autograd.forward_ad, lib.linalg
        with fw.dual_level():
            x = fw.make_dual(lib.tensor(z), lib.tensor(t))
            outs = [x * x, x.abs(), x.conj() * x, x.exp(), x.real * 2, x.angle(), x @ x,
                    la.inv(x), 1 / x, x.sqrt(), la.norm(x), la.svdvals(x), la.det(x),
                    la.eigvals(x), lib.fft.fft(x), lib.view_as_real(x * 1), x.sgn(),
                    la.eigh(x + x.mH)[0], la.qr(x)[1], *la.slogdet(x),
                    la.cholesky(x @ x.mH + 3 * lib.eye(3))]
            return _tangents(lib, outs)

    both(prog)


def test_linear_op_tangents_apply_the_map():
    """A linear map's tangent is the map applied to the tangent: max_unpool with duplicate
    indices keeps the last written value's tangent, embedding keeps the padding row's."""
    def prog(lib):
        fw = lib.autograd.forward_ad
        x = lib.tensor([[[1.0, 2.0, 3.0]]], dtype=lib.float64)
        t = lib.tensor([[[10.0, 20.0, 30.0]]], dtype=lib.float64)
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        tw = lib.tensor([[5.0, 6.0], [7.0, 8.0]], dtype=lib.float64)
        with fw.dual_level():
            y = lib.nn.functional.max_unpool1d(fw.make_dual(x, t), lib.tensor([[[0, 0, 2]]]),
                                               kernel_size=2, output_size=[6])
            e = lib.nn.functional.embedding(lib.tensor([0, 1, 1]), fw.make_dual(w, tw),
                                            padding_idx=1)
            return [fw.unpack_dual(y).tangent, fw.unpack_dual(e).tangent]

    both(prog)
