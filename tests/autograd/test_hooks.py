"""Tensor hooks, post-accumulate hooks and node pre/post hooks: what they see, what they may
replace, their errors, removal, and the order in which PyTorch runs them."""

import pytest
import torch

import dyngrad
from tests.harness import assert_same_outputs, check_error


def same(prog):
    assert_same_outputs(prog(dyngrad), prog(torch), prog.__name__)


def _x(lib):
    return lib.tensor([1.0, 2.0, 3.0], requires_grad=True)


def test_tensor_hook_sees_and_replaces_grad():
    def prog(lib):
        x = _x(lib)
        seen = []
        y = x * x
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g * 10)
        y.register_hook(lambda g: seen.append(g.clone()))  # chained: sees the replacement
        x.register_hook(lambda g: seen.append(g.clone()))
        y.sum().backward()
        return [*seen, x.grad]

    same(prog)


def test_leaf_hook_runs_before_accumulation():
    def prog(lib):
        x = _x(lib)
        seen = []

        def hook(g):
            seen.append((g.clone(), None if x.grad is None else x.grad.clone()))
            return g + 100

        x.register_hook(hook)
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        return [seen, x.grad]

    same(prog)


def test_hook_on_tensor_used_twice_runs_once_with_the_sum():
    def prog(lib):
        x = _x(lib)
        calls = []
        x.register_hook(lambda g: calls.append(g.clone()))
        y = x * 2
        y.register_hook(lambda g: calls.append(g.clone()))
        (y * y + x * y).sum().backward()
        return [calls, x.grad]

    same(prog)


def test_hook_remove():
    def prog(lib):
        x = _x(lib)
        calls = []
        h1 = x.register_hook(lambda g: g * 2)
        h2 = x.register_hook(lambda g: calls.append(1))
        (x * 1).sum().backward()
        out = [x.grad.clone()]
        h1.remove()
        h1.remove()  # removing twice is harmless
        x.grad = None
        (x * 1).sum().backward()
        out.append(x.grad.clone())
        h2.remove()
        (x * 1).sum().backward()
        y = x * 3
        hy = y.register_hook(lambda g: g * 0)
        hy.remove()
        y.sum().backward()
        return out + [len(calls), x.grad]

    same(prog)


@pytest.mark.parametrize("change", [
    lambda g: g.double(), lambda g: g.long(), lambda g: g.double()[:1], lambda g: g.half(),
])
@pytest.mark.parametrize("where", ["leaf", "nonleaf", "0-dim"])
def test_hook_changing_dtype_errors(change, where):
    """PyTorch checks a hook's replacement gradient's dtype (before its size)."""

    def prog(lib):
        x = _x(lib)
        y = {"leaf": x, "nonleaf": x * 2, "0-dim": (x * 2).sum()}[where]
        y.register_hook(change)
        (y * 3).sum().backward()

    check_error(prog)


def test_hook_changing_size_errors():
    def leaf(lib):
        x = _x(lib)
        x.register_hook(lambda g: g[:2])
        (x * 2).sum().backward()

    check_error(leaf)

    def nonleaf(lib):
        x = _x(lib)
        y = x * 2

        def my_hook(g):
            return lib.ones(4)

        y.register_hook(my_hook)
        y.sum().backward()

    check_error(nonleaf)


def test_hook_registration_errors():
    check_error(lambda lib: lib.ones(3).register_hook(lambda g: g))
    check_error(lambda lib: (_x(lib) * 2).register_post_accumulate_grad_hook(lambda t: None))
    check_error(lambda lib: lib.ones(3).register_post_accumulate_grad_hook(lambda t: None))


def test_retain_grad_sees_hooked_grad():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 5)
        y.sum().backward()
        return [y.grad, x.grad]

    same(prog)


def test_post_accumulate_grad_hook():
    def prog(lib):
        x = _x(lib)
        seen = []

        def hook(t):
            seen.append((t is x, t.grad.clone()))
            with lib.no_grad():
                t.sub_(t.grad)  # the optimizer-in-backward pattern

        h = x.register_post_accumulate_grad_hook(hook)
        (x * x).sum().backward()
        (x * x).sum().backward()
        h.remove()
        (x * x).sum().backward()
        return [seen, x, x.grad]

    same(prog)


def test_node_hooks():
    def prog(lib):
        x = _x(lib)
        w = lib.tensor(2.0, requires_grad=True)
        y = x * w
        seen = []

        def post(grad_inputs, grad_outputs):
            seen.append(("post", grad_inputs, grad_outputs))
            return (grad_inputs[0] * 0, grad_inputs[1])

        def pre(grad_outputs):
            seen.append(("pre", grad_outputs))
            return (grad_outputs[0] * 2,)

        y.grad_fn.register_hook(post)
        y.grad_fn.register_prehook(pre)
        y.sum().backward()
        return [seen, x.grad, w.grad]

    same(prog)


def test_node_hooks_none_and_removal():
    def prog(lib):
        x = _x(lib)
        y = x * 2  # the constant's grad is None in grad_inputs
        seen = []
        h = y.grad_fn.register_hook(lambda gi, go: seen.append((gi, go)))
        hp = y.grad_fn.register_prehook(lambda go: seen.append(go))
        y.backward(lib.ones(3), retain_graph=True)
        h.remove()
        hp.remove()
        y.backward(lib.ones(3))
        return [seen, x.grad]

    same(prog)


def test_hook_order():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        order = []
        y.register_hook(lambda g: order.append("tensor_hook(y)"))
        y.grad_fn.register_prehook(lambda g: order.append(f"prehook({y.grad_fn.name()})"))
        y.grad_fn.register_hook(lambda gi, go: order.append(f"posthook({y.grad_fn.name()})"))
        x.register_hook(lambda g: order.append("tensor_hook(x)"))
        acc = y.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda g: order.append("acc_prehook"))
        acc.register_hook(lambda gi, go: order.append("acc_posthook"))
        x.register_post_accumulate_grad_hook(lambda t: order.append("post_accumulate(x)"))
        y.sum().backward()
        return order

    same(prog)
    assert prog(dyngrad)[:6] == [
        "tensor_hook(y)", "prehook(MulBackward0)", "posthook(MulBackward0)", "tensor_hook(x)",
        "acc_prehook", "post_accumulate(x)",
    ]


def test_leaf_hooks_run_as_soon_as_the_leaf_is_ready():
    """PyTorch runs a leaf's AccumulateGrad as soon as its last gradient arrives (before any
    other ready node), leaves readied together in edge order."""

    def prog(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        x.register_hook(lambda g: log.append("x"))
        w.register_hook(lambda g: log.append("w"))
        x.register_post_accumulate_grad_hook(lambda t: log.append("x accumulated"))
        w.register_post_accumulate_grad_hook(lambda t: log.append("w accumulated"))
        a = x * w
        a.register_hook(lambda g: log.append("a"))
        b = a.exp()
        b.register_hook(lambda g: log.append("b"))
        c = b * x
        c.register_hook(lambda g: log.append("c"))
        ((c + a).sum() * w.sum()).backward()
        return log

    def chain(lib):
        log = []
        ps = [lib.tensor([float(i)], requires_grad=True) for i in range(4)]
        for i, p in enumerate(ps):
            p.register_post_accumulate_grad_hook(lambda t, i=i: log.append(f"p{i}"))
        h = ps[0]
        for i, p in enumerate(ps[1:]):
            h = (h * p).tanh()
            h.register_hook(lambda g, i=i: log.append(f"h{i}"))
        lib.autograd.backward([h.sum(), ps[3] * 2, ps[0].sum()])
        return log

    same(prog)
    same(chain)


def test_node_order_without_leaf_hooks():
    """Without leaf hooks the engine skips counting edges (nodes run latest-created first):
    the order nodes run in is still PyTorch's."""

    def prog(lib):
        log = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        a, b = x * 2, x.exp()
        c = a * b
        d, e = c.sin(), a + c
        f = d * e + b
        for name, t in zip("abcdef", (a, b, c, d, e, f), strict=True):
            t.grad_fn.register_prehook(lambda g, name=name: log.append(name))
        lib.autograd.backward([f.sum(), (e * 3).sum()])
        return [log, x.grad]

    same(prog)
    assert not dyngrad.autograd.node.AccumulateGrad.hooked


def test_hooks_with_autograd_grad():
    def prog(lib):
        x = _x(lib)
        y = x * x
        seen = []
        y.register_hook(lambda g: g * 3)
        x.register_hook(lambda g: seen.append(g.clone()))
        (g,) = lib.autograd.grad(y.sum(), x)
        return [g, seen, x.grad]

    same(prog)


def test_captured_gradients_and_tensor_hooks():
    """autograd.grad captures a non-leaf input's gradient after its tensor hooks when its node
    does not run, and before them when it runs anyway (PyTorch's order, quirk included)."""
    def prog(lib):
        x = _x(lib)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        runs = []
        y.grad_fn.register_prehook(lambda g: runs.append("pre"))
        only_y = lib.autograd.grad(y.sum(), [y], retain_graph=True)
        both = lib.autograd.grad(y.sum(), [y, x], retain_graph=True)
        return [only_y, both, runs]

    same(prog)


def test_hooks_under_create_graph():
    def prog(lib):
        x = _x(lib)
        y = x ** 2
        y.register_hook(lambda g: g * x)  # the hook itself is differentiated
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return [g, gg]

    same(prog)
