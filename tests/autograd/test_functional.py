"""torch.autograd.functional against PyTorch: values, the nesting of results (tensor / tuple /
tuple of tuples / lists), create_graph, strict mode and every argument error."""

from tests.autograd.common import both, outcome


def _setup(lib):
    x = lib.tensor([1.0, 2.0, 3.0])
    y = lib.tensor([0.5, -1.0])
    W = lib.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    return x, y, W


def _fns(W):
    return {
        "square": lambda a: a * a * 2,
        "pair": lambda a, b: (W @ (a * a), b.sum() * a),
        "cube_sum": lambda a: (a ** 3).sum(),
        "mixed": lambda a, b: (a * a).sum() * b.sum() + (b ** 3).sum(),
        "linear_sum": lambda a: (a * 2).sum(),
    }


def test_jacobian():
    def prog(lib):
        x, y, W = _setup(lib)
        f = _fns(W)
        jac = lib.autograd.functional.jacobian
        return [jac(f["square"], x), jac(f["pair"], (x, y)), jac(lambda a: (a * 2,), x),
                jac(lambda a: a * 2, (x,)), jac(lambda a, b: a * 2, (x, y)),
                jac(f["square"], x, vectorize=True), jac(f["pair"], (x, y), vectorize=True),
                jac(f["square"], x, vectorize=True, strategy="forward-mode"),
                jac(f["pair"], (x, y), vectorize=True, strategy="forward-mode"),
                outcome(jac, f["square"], x, strategy="forward-mode"),
                outcome(jac, f["square"], x, create_graph=True, strategy="forward-mode"),
                outcome(jac, f["square"], x, strategy="bad"),
                outcome(jac, lambda a, b: a * 2, (x, y), strict=True),
                outcome(jac, lambda a: x.clone(), x, strict=True),
                outcome(jac, f["square"], x, strict=True, vectorize=True),
                outcome(jac, f["square"], [x]), outcome(jac, f["square"], 3),
                outcome(jac, f["square"], (x, 3))]

    both(prog)


def test_jacobian_create_graph():
    def prog(lib):
        x, _, W = _setup(lib)
        xr = x.clone().requires_grad_()
        j = lib.autograd.functional.jacobian(_fns(W)["square"], xr, create_graph=True)
        j_lin = lib.autograd.functional.jacobian(lambda a: W @ a, x, create_graph=True)
        return [j, lib.autograd.grad(j.sum(), xr), j_lin,
                outcome(lib.autograd.functional.jacobian, lambda a: W @ a, x, create_graph=True,
                        strict=True)]

    both(prog)


def test_hessian():
    def prog(lib):
        x, y, W = _setup(lib)
        f = _fns(W)
        hes = lib.autograd.functional.hessian
        return [hes(f["cube_sum"], x), hes(f["mixed"], (x, y)),
                hes(f["mixed"], (x, y), create_graph=True),
                outcome(hes, f["square"], x),
                outcome(hes, lambda a: (a.sum(), a.sum()), x),
                outcome(hes, f["linear_sum"], x, strict=True),
                hes(f["linear_sum"], x),
                outcome(hes, f["cube_sum"], x, outer_jacobian_strategy="bad")]

    both(prog)


def test_hessian_forward_over_reverse():
    def prog(lib):
        x, y, W = _setup(lib)
        f = _fns(W)
        hes = lib.autograd.functional.hessian
        h1 = hes(f["cube_sum"], x, outer_jacobian_strategy="forward-mode", vectorize=True)
        h2 = hes(f["mixed"], (x, y), outer_jacobian_strategy="forward-mode", vectorize=True)
        # Values only: PyTorch's tangents here also record a graph (an artifact of its formulas).
        return [h1.detach(), [[h.detach() for h in row] for row in h2]]

    both(prog)


def test_vjp_and_jvp():
    def prog(lib):
        x, y, W = _setup(lib)
        f = _fns(W)
        fn = lib.autograd.functional
        ones = lib.ones
        return [fn.vjp(f["square"], x, ones(3)), fn.vjp(f["pair"], (x, y), (ones(2), ones(3))),
                fn.vjp(f["cube_sum"], x), fn.vjp(f["square"], x, ones(3), create_graph=True),
                outcome(fn.vjp, f["square"], x), outcome(fn.vjp, f["square"], x, ones(2)),
                outcome(fn.vjp, f["pair"], (x, y), (ones(2),)),
                outcome(fn.vjp, f["pair"], (x, y), (ones(2), ones(2))),
                outcome(fn.vjp, lambda a, b: a * 2, (x, y), ones(3), strict=True),
                fn.jvp(f["square"], x, ones(3)), fn.jvp(f["pair"], (x, y), (ones(3), ones(2))),
                fn.jvp(lambda a: a * 3, lib.tensor([2.0])),
                outcome(fn.jvp, lambda a, b: a * 2, (x, y), (ones(3), ones(2)), strict=True),
                outcome(fn.jvp, f["square"], x),
                outcome(fn.jvp, f["square"], x, ones(3), strict=True)]

    both(prog)


def test_jvp_create_graph_values():
    def prog(lib):
        x, y, W = _setup(lib)
        out, prod = lib.autograd.functional.jvp(_fns(W)["pair"], (x, y),
                                                (lib.ones(3), lib.ones(2)), create_graph=True)
        return [[o.detach() for o in out], [p.detach() for p in prod],
                [p.requires_grad for p in prod]]

    both(prog)


def test_hvp_and_vhp():
    def prog(lib):
        x, y, W = _setup(lib)
        f = _fns(W)
        fn = lib.autograd.functional
        ones = lib.ones
        return [fn.hvp(f["cube_sum"], x, ones(3)), fn.hvp(f["mixed"], (x, y), (ones(3), ones(2))),
                fn.vhp(f["cube_sum"], x, ones(3)), fn.vhp(f["mixed"], (x, y), (ones(3), ones(2))),
                fn.vhp(f["mixed"], (x, y), (ones(3), ones(2)), create_graph=True),
                fn.vhp(f["linear_sum"], x, ones(3)),
                outcome(fn.vhp, f["square"], x, ones(3)),
                outcome(fn.hvp, f["square"], x, ones(3)),
                outcome(fn.hvp, f["linear_sum"], x, ones(3), strict=True),
                outcome(fn.vhp, f["linear_sum"], x, ones(3), strict=True),
                outcome(fn.hvp, f["cube_sum"], x),
                outcome(fn.vhp, lambda a: (a.sum(), a.sum()), x, ones(3))]

    both(prog)
