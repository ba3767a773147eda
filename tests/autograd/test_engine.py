"""The graph and the engine: grad_fn names and next_functions structure, node introspection,
gradient summing over paths, broadcast reduction, pruning for autograd.grad, very deep graphs."""

import numpy as np
import torch

import dyngrad
from tests.autograd.common import doubling
from tests.harness import assert_same_outputs, check_error


def same(prog):
    assert_same_outputs(prog(dyngrad), prog(torch), prog.__name__)


def structure(fn, seen=None):
    """A node's graph as nested tuples: (type name, name(), ((child, output_nr), ...))."""
    if fn is None:
        return None
    return (type(fn).__name__, fn.name(),
            tuple((structure(c), nr) for c, nr in fn.next_functions))


# --- graph structure ---------------------------------------------------------------------------
def test_reference_graph():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor(2.0, requires_grad=True)
        z = (x * w + x).sum()
        add = z.grad_fn.next_functions[0][0]
        mul = add.next_functions[0][0]
        acc_x, acc_w = mul.next_functions[0][0], mul.next_functions[1][0]
        return [structure(z.grad_fn), acc_x is add.next_functions[1][0], acc_x.variable is x,
                acc_w.variable is w, acc_x.next_functions, acc_x.variable.shape,
                acc_w.variable.shape, x.grad_fn is None, z.grad_fn.requires_grad]

    same(prog)


def test_accumulate_grad_is_one_per_leaf():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)
        a, b = x * 2, x * x
        acc = a.grad_fn.next_functions[0][0]
        return [acc is b.grad_fn.next_functions[0][0], acc is b.grad_fn.next_functions[1][0],
                acc.name(), type(acc).__name__]

    same(prog)


def test_next_functions_shapes():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        m = lib.ones(2, 3, requires_grad=True)
        y = x.clone()
        y[0] = 5
        v = x.clone()
        v[1:] *= 2
        return [structure((x * lib.ones(3)).grad_fn), structure(y.grad_fn),
                structure((lib.unbind(m)[1] * 1).grad_fn), structure(v.grad_fn),
                structure((2 / x).grad_fn), structure((1 - x).grad_fn),
                structure((x - x * 2).grad_fn), structure(lib.cat([x, x * 2]).grad_fn),
                structure(m.split([1, 1])[1].grad_fn)]

    same(prog)


def test_grad_fn_names():
    exprs = {
        "x+w": lambda x, w, L: x + w, "x+1": lambda x, w, L: x + 1,
        "x-w": lambda x, w, L: x - w, "1-x": lambda x, w, L: 1 - x,
        "x*w": lambda x, w, L: x * w, "x*2": lambda x, w, L: x * 2,
        "x/w": lambda x, w, L: x / w, "2/x": lambda x, w, L: 2 / x,
        "x**2": lambda x, w, L: x ** 2, "x**0.5": lambda x, w, L: x ** 0.5,
        "pow": lambda x, w, L: L.pow(x, 2), "x**w": lambda x, w, L: x ** w,
        "2**x": lambda x, w, L: 2 ** x, "-x": lambda x, w, L: -x,
        "sum": lambda x, w, L: x.sum(), "sum0": lambda x, w, L: x.sum(0),
        "view": lambda x, w, L: x.view(3, 1), "reshape": lambda x, w, L: x.reshape(1, 3),
        "flatten": lambda x, w, L: x.view(1, 3).flatten(),
        "unsqueeze": lambda x, w, L: x.unsqueeze(0),
        "squeeze": lambda x, w, L: x.view(1, 3).squeeze(),
        "expand": lambda x, w, L: x.expand(2, 3), "t": lambda x, w, L: x.view(1, 3).t(),
        "T": lambda x, w, L: x.view(1, 3).T, "permute": lambda x, w, L: x.view(1, 3).permute(1, 0),
        "x[0]": lambda x, w, L: x[0], "x[:2]": lambda x, w, L: x[:2],
        "x[[0,1]]": lambda x, w, L: x[[0, 1]], "clone": lambda x, w, L: x.clone(),
        "cat": lambda x, w, L: L.cat([x, x]), "stack": lambda x, w, L: L.stack([x, x]),
        "double": lambda x, w, L: x.double(), "to": lambda x, w, L: x.to(L.float64),
        "split": lambda x, w, L: x.split([1, 2])[1], "unbind": lambda x, w, L: x.unbind()[2],
    }

    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor(2.0, requires_grad=True)
        return [(k, type(f(x, w, lib).grad_fn).__name__, f(x, w, lib).output_nr)
                for k, f in exprs.items()]

    same(prog)


def test_node_api():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        fn = y.grad_fn
        md = fn.metadata
        md["k"] = 1
        x2 = x.clone()
        x2[0] = 1.0
        return [fn.name(), fn.metadata, fn.metadata is md, type(md).__name__,
                fn.next_functions[0][0].metadata, x2.grad_fn.name(), type(x2.grad_fn).__name__,
                isinstance(fn, lib.autograd.graph.Node),
                isinstance(fn.next_functions[0][0], lib.autograd.graph.Node),
                fn._sequence_nr() < (y * 1).grad_fn._sequence_nr()]

    same(prog)


def test_saved_attributes():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([4.0, 5.0, 6.0], requires_grad=True)
        m, c, p, a = x * w, x * 2, x ** 2, x + w
        e, t, s = x.expand(2, 3), x.tanh(), lib.sub(x, w, alpha=3)
        return [m.grad_fn._saved_self, m.grad_fn._saved_other, m.grad_fn._saved_self is x,
                m.grad_fn._saved_other is w, c.grad_fn._saved_other, p.grad_fn._saved_exponent,
                p.grad_fn._saved_self, a.grad_fn._saved_alpha, s.grad_fn._saved_alpha,
                t.grad_fn._saved_result, e.grad_fn._saved_self_sym_sizes,
                "_saved_self" in dir(m.grad_fn)]

    same(prog)
    # an attribute the node does not have: the same AttributeError as PyTorch's
    check_error(lambda lib: lib.ones(2, requires_grad=True).exp().grad_fn._saved_self)
    check_error(lambda lib: (lib.ones(2, requires_grad=True) * 2).grad_fn._saved_bogus)


def test_saved_attributes_after_backward():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        p, e = x ** 2, x.expand(2, 3)
        (p.sum() + e.sum()).backward()
        return [p.grad_fn._saved_exponent, e.grad_fn._saved_self_sym_sizes]

    same(prog)

    def freed(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        m = x * x
        m.sum().backward()
        return m.grad_fn._saved_self

    check_error(freed)

    def freed_pow(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        p = x ** 2
        p.sum().backward()
        return p.grad_fn._saved_self

    check_error(freed_pow)

    def retained(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        m = x * x
        m.sum().backward(retain_graph=True)
        return [m.grad_fn._saved_self]

    same(retained)


# --- gradients ---------------------------------------------------------------------------------
def test_grads_summed_over_paths():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 3
        b = a * a
        c = a + b + x
        d = c * x + a
        d.sum().backward()
        return [d, x.grad]

    same(prog)


def test_broadcast_gradients_are_reduced():
    def prog(lib):
        m = lib.ones(2, 3, requires_grad=True)
        r = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c = lib.tensor([[1.0], [2.0]], requires_grad=True)
        s = lib.tensor(2.0, requires_grad=True)
        k = lib.ones(1, 1, requires_grad=True)
        y = m * r + c * s - k / r
        y.backward(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        return [y, m.grad, r.grad, c.grad, s.grad, k.grad]

    same(prog)


def test_grad_dtype_follows_input():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * h + x.double()
        y.sum().backward()
        return [y, x.grad, h.grad]

    same(prog)


def test_only_needed_nodes_run():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        a = x * 2
        b = w * 3
        c = b * b
        z = (a + c).sum()
        runs = []
        for name, t in (("a", a), ("b", b), ("c", c), ("z", z)):
            t.grad_fn.register_prehook(lambda g, name=name: runs.append(name))
        (gx,) = lib.autograd.grad(z, x, retain_graph=True)
        first = sorted(runs)
        runs.clear()
        (gw,) = lib.autograd.grad(z, w, retain_graph=True)
        second = sorted(runs)
        runs.clear()
        (gb,) = lib.autograd.grad(z, b, retain_graph=True)
        third = sorted(runs)
        runs.clear()
        z.backward(inputs=[x])
        return [first, second, third, sorted(runs), gx, gw, gb, x.grad, w.grad]

    same(prog)


def test_execution_order():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        order = []
        a = x * 2
        b = x * 3
        c = a * b
        d = c + a
        for name, t in (("a", a), ("b", b), ("c", c), ("d", d)):
            t.grad_fn.register_prehook(lambda g, name=name: order.append(name))
        d.sum().backward()
        return [order, x.grad]

    same(prog)


def test_multiple_roots_and_shared_subgraph():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * x
        y1, y2 = h * 2, h + x
        lib.autograd.backward([y1.sum(), y2.sum()], retain_graph=True)
        g = lib.autograd.grad([y1.sum(), (h * 3).sum()], x)
        return [x.grad, *g]

    same(prog)


def test_deep_chain_with_saved_tensors():
    def prog(lib):
        x = lib.tensor([1.0, 0.5], requires_grad=True)
        y = x
        for _ in range(5000):
            y = y * 1.0001 + x * 0.0001
        y.sum().backward()
        return [y, x.grad]

    same(prog)


def test_wide_graph():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        total = x * 0
        for i in range(2000):
            total = total + x * float(i % 7)
        total.sum().backward()
        return [total, x.grad]

    same(prog)


def test_empty_and_zero_size_tensors():
    def prog(lib):
        x = lib.ones(0, 3, requires_grad=True)
        y = (x * 2).sum()
        y.backward()
        return [y, x.grad]

    same(prog)


def test_grads_never_share_memory_with_each_other_or_the_caller():
    """`.grad` may take over a fresh gradient array, but never one that another leaf or the
    caller can still see: in-place accumulation would corrupt it."""
    x = dyngrad.ones(3, requires_grad=True)
    y = dyngrad.ones(3, requires_grad=True)
    (x + y).backward(dyngrad.ones(3))  # AddBackward0 hands the same array to both leaves
    assert not np.shares_memory(x.grad._data, y.grad._data)
    g = dyngrad.ones(3)
    w = dyngrad.ones(3, requires_grad=True)
    w.backward(g)
    assert not np.shares_memory(w.grad._data, g._data)
    v = dyngrad.ones(2, 3, requires_grad=True)
    (v * 2).sum().backward()
    v.grad += 1
    (v * 2).sum().backward()
    assert v.grad.tolist() == [[5.0] * 3] * 2


def test_zero_dim_gradients_are_arrays_everywhere():
    """NumPy returns 0-dim results as scalars, and the engine passes them between nodes as they
    are; every gradient a user sees (autograd.grad, a custom Function's backward, hooks,
    .grad) is still a tensor over a 0-dim array."""
    seen = []
    Twice = doubling(dyngrad, backward=lambda ctx, g: seen.append(g) or g * 2)
    x = dyngrad.tensor(0.5, requires_grad=True)
    y = Twice.apply((x * 1.5).tanh()).sigmoid()
    y.register_hook(seen.append)
    (g,) = dyngrad.autograd.grad(y, x, retain_graph=True)
    y.backward()
    for t in [g, x.grad, *seen]:
        assert type(t.numpy()) is np.ndarray and t.shape == ()
    np.testing.assert_allclose(g.numpy(), x.grad.numpy())


def test_tensor_and_number_nodes_keep_the_number_as_torch_does():
    """`x * 2.5`, `x / 2.0`: MulBackward0 / DivBackward0 keep the number as a saved `other` (a
    wrapped 0-dim tensor when read), freed by backward like any saved value."""

    def prog(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        outs = []
        for y in (x * 2.5, x / 2.0, x * 3, x / (1 + 2j), 2.0 * x):
            outs += [y.grad_fn._saved_other, y.grad_fn._saved_self]
        return outs

    same(prog)
    for op in (lambda x: x / 2.0, lambda x: x * 2.5):
        def twice(lib, op=op):
            y = op(lib.tensor([1.0, 2.0], requires_grad=True))
            y.sum().backward()
            y.sum().backward()

        check_error(twice)

        def read_after(lib, op=op):
            y = op(lib.tensor([1.0, 2.0], requires_grad=True))
            y.sum().backward()
            return y.grad_fn._saved_other

        check_error(read_after)
