"""Custom `autograd.Function` against PyTorch: outputs, grad_fn names, ctx behaviour, saved
tensors, dirty / non-differentiable outputs, gradient materialization, and every error text."""

import numpy as np

from tests.autograd.common import both, doubling, name, outcome, warned


def _x(lib, requires_grad=True, dtype=None):
    return lib.tensor([1.0, 2.0, 3.0], requires_grad=requires_grad, dtype=dtype)


def _square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.seen = (lib.is_grad_enabled(), ctx.needs_input_grad)
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            ctx.in_backward = (lib.is_grad_enabled(), ctx.needs_input_grad, type(g).__name__)
            return 2 * x * g * ctx.k, None

    return Square


def test_forward_backward_and_ctx():
    def prog(lib):
        Square = _square(lib)
        x = _x(lib)
        y = Square.apply(x, 3)
        fn = y.grad_fn
        info = [y, name(fn), fn.name(), [name(n) for n, _ in fn.next_functions], fn.k,
                fn.needs_input_grad, fn.seen, fn._forward_cls is Square]
        y.sum().backward()
        return info + [x.grad, fn.in_backward, outcome(lambda: fn.saved_tensors)]

    both(prog)


def test_no_grad_and_non_requiring_inputs():
    def prog(lib):
        Square = _square(lib)
        x = _x(lib)
        with lib.no_grad():
            a = Square.apply(x, 2)
        b = Square.apply(_x(lib, False), 2)
        return [a, b, name(a.grad_fn), name(b.grad_fn)]

    both(prog)


def test_backward_twice():
    def prog(lib):
        Square = _square(lib)
        Double = doubling(lib)
        x = _x(lib)
        y = Square.apply(x, 1).sum()
        y.backward()
        z = Double.apply(x).sum()
        z.backward()
        return [outcome(y.backward), outcome(z.backward), x.grad]

    both(prog)


def test_saved_tensor_version_check():
    def prog(lib):
        Square = _square(lib)
        a = _x(lib).clone()
        y = Square.apply(a, 1)
        a.add_(1)
        return outcome(y.sum().backward)

    both(prog)


def test_saved_output_and_double_backward():
    def prog(lib):
        class Recip(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                r = 1 / x
                ctx.save_for_backward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                (r,) = ctx.saved_tensors
                ctx.seen = (lib.is_grad_enabled(), name(r.grad_fn))
                return -g * r * r

        x = _x(lib, dtype=lib.float64)
        y = Recip.apply(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        y2 = Recip.apply(x)
        y2.mul_(2)
        return [g, gg, y.grad_fn.seen, outcome(y2.sum().backward)]

    both(prog)


def test_save_intermediate_none_and_bad_values():
    def prog(lib):
        class Inter(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                t = x + 1
                ctx.save_for_backward(t, None)
                return x * t

            @staticmethod
            def backward(ctx, g):
                t, n = ctx.saved_tensors
                return g * (t + t - 1) if n is None else None

        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g

        x = _x(lib)
        Inter.apply(x).sum().backward()
        return [x.grad, outcome(Bad.apply, x)]

    both(prog)


def test_mark_dirty():
    def prog(lib):
        class Dirty(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        class Forgot(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g

        x = _x(lib)
        a = x.clone()
        b = Dirty.apply(a)
        info = [b is a, name(b.grad_fn), [name(n) for n, _ in b.grad_fn.next_functions],
                a._version, b]
        b.sum().backward()
        return info + [x.grad, outcome(Dirty.apply, x), outcome(Forgot.apply, x.clone())]

    both(prog)


def test_non_differentiable_outputs_and_materialized_grads():
    def prog(lib):
        seen = []

        class ND(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                a = x * 2
                ctx.mark_non_differentiable(a)
                return a, lib.tensor([1, 0]), x * 3

            @staticmethod
            def backward(ctx, g1, g2, g3):
                seen.append((g1, g2, g3))
                return g3 * 3

        class Lazy(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append((g1, g2))
                return g2 * 3

        x = _x(lib)
        out = ND.apply(x)
        out[2].sum().backward()
        Lazy.apply(x)[1].sum().backward()
        return [out, x.grad, seen]

    both(prog)


def test_inputs_returned_as_outputs():
    def prog(lib):
        class Id(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        class First(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x[0]

            @staticmethod
            def backward(ctx, g):
                return lib.ones(3) * g

        class Detached(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_non_differentiable(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        x = _x(lib)
        y = Id.apply(x)
        with lib.no_grad():
            y2 = Id.apply(x)
        plain = _x(lib, False)
        y3 = Id.apply(plain)
        f = First.apply(x)
        d = Detached.apply(x)
        return [y, y is x, y._is_view(), y._base is x, y2 is x, y2.requires_grad,
                y3 is plain, y3.requires_grad, f, f._base is x, outcome(f.mul_, 2),
                d, d is x, d.requires_grad]

    both(prog)


def test_tuple_outputs_with_non_tensors():
    def prog(lib):
        seen = []

        class Multi(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, n):
                return x * n, n, "s"

            @staticmethod
            def backward(ctx, g, g2, g3):
                seen.append((g2, g3))
                return g * ctx.needs_input_grad[1], None

        class IntOut(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return (x * 2).long()

            @staticmethod
            def backward(ctx, g):
                return g

        x = _x(lib)
        out = Multi.apply(x, 3)
        out[0].sum().backward()
        return [out, x.grad, seen, IntOut.apply(x), name(IntOut.apply(x).grad_fn)]

    both(prog)


def _bad(lib, result, nout=1):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, *rest):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return result(lib, g)

    return Bad


def test_backward_result_errors():
    cases = [
        (lambda lib, g: (g, g), ()),
        (lambda lib, g: lib.ones(4), ()),
        (lambda lib, g: lib.ones(1), ()),
        (lambda lib, g: [g], ()),
        (lambda lib, g: 3.0, ()),
        (lambda lib, g: (g, g), (2,)),
        (lambda lib, g: g, (2,)),
        (lambda lib, g: (g, None, None), ()),
    ]
    for result, extra in cases:
        def prog(lib, result=result, extra=extra):
            x = _x(lib)
            return [outcome(lambda: _bad(lib, result).apply(x, *extra).sum().backward()), x.grad]

        both(prog)


def test_errors_index_tensor_inputs_only():
    for result in ((lambda lib, g: (None, lib.ones(5))), (lambda lib, g: (3, g))):
        def prog(lib, result=result):
            class Bad(lib.autograd.Function):
                @staticmethod
                def forward(ctx, n, x):
                    return x * n

                @staticmethod
                def backward(ctx, g):
                    return result(lib, g)

            x = _x(lib)
            return outcome(lambda: Bad.apply(3, x).sum().backward())

        both(prog)


def test_backward_results_broadcast_and_cast():
    for result in (lambda lib, g: lib.ones(2, 3), lambda lib, g: lib.ones(3, dtype=lib.float64),
                   lambda lib, g: lib.ones(3, dtype=lib.int64), lambda lib, g: None):
        def prog(lib, result=result):
            x = _x(lib)
            _bad(lib, result).apply(x).sum().backward()
            return x.grad

        both(prog)


def test_missing_methods_and_legacy_use():
    def prog(lib):
        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        class NoForward(lib.autograd.Function):
            pass

        class Legacy(lib.autograd.Function):
            def forward(self, x):
                return x * 2

        class Both(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g

            @staticmethod
            def vjp(ctx, g):
                return g

        class Vjp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def vjp(ctx, g):
                return g * 2

        x = _x(lib)
        made, warnings = warned(Legacy)
        Vjp.apply(x).sum().backward()
        return [outcome(lambda: NoBackward.apply(x).sum().backward()),
                outcome(NoForward.apply, x), Legacy.apply(x), outcome(made, x), warnings,
                outcome(lambda: Both.apply(x).sum().backward()), x.grad]

    both(prog)


def test_setup_context_style():
    def prog(lib):
        seen = []

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k=5):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                seen.append((len(inputs), inputs[1], lib.is_grad_enabled(), ctx.needs_input_grad))
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None

        x = _x(lib)
        a = Scale.apply(x)
        b = Scale.apply(x, k=2)
        (a + b).sum().backward()
        return [a, b, x.grad, seen]

    both(prog)


def test_once_differentiable():
    def prog(lib):
        from_module = lib.autograd.function.once_differentiable

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            @from_module
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2

        x = _x(lib)
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(Cube.apply(x).sum(), x)
        v = lib.ones(3, requires_grad=True)
        (g3,) = lib.autograd.grad(Cube.apply(x), x, v, create_graph=True)
        return [g, g.requires_grad, g2, outcome(lambda: lib.autograd.grad(g.sum(), x)),
                g3, g3.grad_fn.name(), [name(n) for n, _ in g3.grad_fn.next_functions],
                outcome(g3.sum().backward)]

    both(prog)


def test_create_graph_through_function():
    def prog(lib):
        Square = _square(lib)
        x = _x(lib, dtype=lib.float64)
        y = Square.apply(x, 1.5)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return [g, gg, y.grad_fn.in_backward[0]]

    both(prog)


def test_node_hooks_and_direct_apply():
    def prog(lib):
        log = []
        Twice = doubling(lib, "Twice")
        x = _x(lib)
        y = Twice.apply(x)
        y.grad_fn.register_prehook(lambda go: log.append(("pre", go)))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post", gi, go)))
        y.register_hook(lambda g: log.append(("tensor", g)))
        y.sum().backward()
        return [log, x.grad, y.grad_fn.apply(lib.ones(3))]

    both(prog)


def test_dirty_view_rebases_the_base():
    def prog(lib):
        class AddInto(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                x.add_(y)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g, g

        w = lib.ones(2, requires_grad=True)
        a = lib.zeros(2)
        r = AddInto.apply(a, w)
        info = [r is a, name(a.grad_fn), a.requires_grad]
        base = _x(lib).clone()
        v = base[:2]
        AddInto.apply(v, w)
        info += [name(v.grad_fn), name(base.grad_fn), base]
        base.sum().backward()
        return info + [w.grad]

    both(prog)


def test_gradcheck_of_custom_function():
    def prog(lib):
        Square = _square(lib)
        x = lib.from_numpy(np.array([0.5, -1.0, 2.0])).requires_grad_()
        return [lib.autograd.gradcheck(lambda t: Square.apply(t, 2.0), (x,)),
                lib.autograd.gradgradcheck(lambda t: Square.apply(t, 2.0), (x,))]

    both(prog)
