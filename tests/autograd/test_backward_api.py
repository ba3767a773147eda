"""The user-facing autograd API: requires_grad, .grad, retain_grad, detach, backward() and
autograd.grad() with all their arguments, and the exact errors and warnings PyTorch gives."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import assert_same_outputs, check_error


def same(prog):
    assert_same_outputs(prog(dyngrad), prog(torch), prog.__name__)


def _warnings(fn) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message).split(" (Triggered internally")[0] for w in caught]


def _x(lib):
    return lib.ones(3, requires_grad=True)


# --- requires_grad -----------------------------------------------------------------------------
def test_requires_grad_flag():
    def prog(lib):
        x = lib.ones(3)
        out = [x.requires_grad, x.is_leaf]
        x.requires_grad = True
        out += [x.requires_grad, x.is_leaf, x.requires_grad_(False) is x, x.requires_grad]
        x.requires_grad_()
        y = x * 2
        out += [y.requires_grad, y.is_leaf, y.requires_grad_(True) is y, y.requires_grad,
                (x * lib.ones(3)).requires_grad, (lib.ones(3) * 2).requires_grad,
                x.long().requires_grad, (x > 0).requires_grad, x.detach().is_leaf,
                x.double().is_leaf, lib.zeros(2, dtype=lib.complex64).requires_grad_().dtype]
        return [str(v) if not isinstance(v, bool) else v for v in out]

    same(prog)


def test_requires_grad_integer_messages():
    check_error(lambda lib: lib.tensor([1, 2]).requires_grad_())
    check_error(lambda lib: setattr(lib.tensor([1, 2]), "requires_grad", True))
    check_error(lambda lib: lib.tensor([1, 2], requires_grad=True))
    check_error(lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True))
    check_error(lambda lib: lib.tensor([True]).requires_grad_())


def test_requires_grad_non_leaf_messages():
    check_error(lambda lib: (_x(lib) * 2).requires_grad_(False))
    check_error(lambda lib: setattr(_x(lib) * 2, "requires_grad", True))
    check_error(lambda lib: setattr(_x(lib) * 2, "requires_grad", False))


# --- .grad -------------------------------------------------------------------------------------
def test_grad_accumulates_in_place():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = [x.grad]
        (x * x).sum().backward()
        g = x.grad
        out.append(g.clone())
        (x * 3).sum().backward()
        out += [x.grad, x.grad is g, x.grad.requires_grad, x.grad.is_leaf]
        x.grad = None
        (x * 2).sum().backward()
        out.append(x.grad)
        x.grad.zero_()
        (x * 2).sum().backward()
        out.append(x.grad)
        return out

    same(prog)


def test_grad_setter():
    def prog(lib):
        x = _x(lib)
        x.grad = lib.full((3,), 2.0)
        (x * 2).sum().backward()
        out = [x.grad]
        del x.grad
        out.append(x.grad)
        x.grad_dtype = None
        x.grad = lib.ones(3, dtype=lib.float64)
        return out + [x.grad, str(_x(lib).grad_dtype)]

    same(prog)
    check_error(lambda lib: setattr(_x(lib), "grad", lib.ones(4)))
    check_error(lambda lib: setattr(_x(lib), "grad", lib.ones(3, dtype=lib.float64)))
    check_error(lambda lib: setattr(_x(lib), "grad", [1, 2, 3]))
    check_error(lambda lib: setattr(_x(lib), "grad", lib.ones(1, 3)))


def test_non_leaf_grad_warning():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        y.sum().backward()
        got = []
        msgs = _warnings(lambda: got.append(y.grad))
        leaf_msgs = _warnings(lambda: x.grad)
        return [got[0], *msgs, len(leaf_msgs)]

    same(prog)


def test_retain_grad():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        y.retain_grad()
        y.retain_grad()  # twice is fine
        x.retain_grad()  # no-op on a leaf
        z = y * y
        z.retain_grad()
        z.sum().backward(retain_graph=True)
        out = [y.retains_grad, x.retains_grad, y.grad, z.grad, x.grad,
               _warnings(lambda: y.grad)]
        z.sum().backward()
        return out + [y.grad, x.grad]

    same(prog)
    check_error(lambda lib: lib.ones(3).retain_grad())


# --- detach / data -----------------------------------------------------------------------------
def test_detach_shares_version_counter():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        d = y.detach()
        out = [d, d.requires_grad, d.is_leaf, d.grad_fn, y._version]
        d.zero_()
        return out + [y, y._version, d._version]

    same(prog)

    def fails(lib):
        x = _x(lib)
        y = x * 2
        z = y * y
        y.detach().zero_()
        z.sum().backward()

    check_error(fails, match="prefix")


def test_data_does_not_share_version_counter():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        z = y * y
        y.data.mul_(2)  # silently gives a wrong gradient, as in PyTorch
        z.sum().backward()
        d = x.data
        return [x.grad, y._version, d.requires_grad, d.is_leaf, d]

    same(prog)

    def set_data(lib):
        x = _x(lib)
        x.data = lib.tensor([5.0, 6.0, 7.0])
        (x * x).sum().backward()
        return [x, x.grad]

    same(set_data)


def test_detach_in_place():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        r = y.detach_()
        return [r is y, y.requires_grad, y.is_leaf, y.grad_fn, y]

    same(prog)
    check_error(lambda lib: _x(lib)[:1].detach_())
    check_error(lambda lib: (_x(lib) * 2)[:1].detach_())


# --- backward() --------------------------------------------------------------------------------
def test_backward_gradient_argument():
    def prog(lib):
        x = _x(lib)
        (x * 2).backward(lib.tensor([1.0, 2.0, 3.0]))
        a = x.grad.clone()
        x.grad = None
        (x * 2).backward(lib.tensor([1, 2, 3]))  # other dtypes are cast
        b = x.grad.clone()
        x.grad = None
        (x * 2).backward(lib.tensor([True, False, True]))
        c = x.grad.clone()
        x.grad = None
        (x * 2).backward(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        s = (x * 2).sum()
        s.backward(lib.tensor(5.0))
        return [a, b, c, x.grad]

    same(prog)


def test_backward_errors():
    check_error(lambda lib: (_x(lib) * 2).backward())
    check_error(lambda lib: lib.autograd.grad(_x(lib) * 2, _x(lib)))
    check_error(lambda lib: (_x(lib) * 2).backward(lib.ones(4)))
    check_error(lambda lib: (_x(lib) * 2).backward(lib.ones(3, 1)))
    check_error(lambda lib: (_x(lib) * 2).sum().backward(2.0))
    check_error(lambda lib: (_x(lib) * 2).backward(2.0))
    check_error(lambda lib: (_x(lib) * 2).sum().backward(inputs=[]))
    check_error(lambda lib: lib.ones(3).sum().backward(), match="prefix")
    check_error(lambda lib: lib.autograd.grad(lib.ones(3).sum(), _x(lib)), match="prefix")

    def complex_scalar(lib):
        z = lib.ones(1, dtype=lib.complex64, requires_grad=True)
        (z * 2).sum().backward()

    check_error(complex_scalar)

    def grad_outputs_shape(lib):
        x = _x(lib)
        lib.autograd.grad(x * 2, x, lib.ones(2))

    check_error(grad_outputs_shape)


def test_backward_twice():
    def saves(lib):  # x*2 saves the scalar operand, so the second backward fails
        x = _x(lib)
        y = (x * 2).sum()
        y.backward()
        y.backward()

    check_error(saves)

    def saves_square(lib):
        x = _x(lib)
        y = (x * x).sum()
        y.backward()
        y.backward()

    check_error(saves_square)

    def grad_then_backward(lib):
        x = _x(lib)
        y = (x * x).sum()
        lib.autograd.grad(y, x)
        y.backward()

    check_error(grad_then_backward)

    def no_saves(lib):  # nothing saved: backward twice succeeds and accumulates
        x = _x(lib)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        s = x.sum()
        s.backward()
        s.backward()
        return [x.grad]

    same(no_saves)

    def retained(lib):
        x = _x(lib)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return [x.grad]

    same(retained)


def test_backward_inputs():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        z = (y * y).sum()
        z.backward(inputs=[x], retain_graph=True)
        out = [x.grad, w.grad]
        z.backward(inputs=w, retain_graph=True)
        out += [x.grad, w.grad]
        z.backward(inputs=[y], retain_graph=True)  # a non-leaf input gets .grad...
        out += [x.grad, w.grad, y.grad, y.retains_grad]
        z.backward()  # ...and, as PyTorch calls retain_grad() on it, keeps getting it
        return out + [x.grad, y.grad]

    same(prog)


def test_backward_inputs_hooks():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        z = (y * y).sum()
        z.backward(inputs=[y], retain_graph=True)
        return [y.grad, x.grad]

    same(prog)


def test_autograd_backward_multi_root():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2, x * x
        lib.autograd.backward([a, b], [lib.ones(2), lib.tensor([1.0, 10.0])])
        out = [x.grad]
        c = (x * 3).sum()
        lib.autograd.backward(c)
        out.append(x.grad)
        d = x * 4
        lib.autograd.backward(d, grad_tensors=lib.ones(2))
        return out + [x.grad]

    same(prog)


# --- autograd.grad -----------------------------------------------------------------------------
def test_autograd_grad():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        u = lib.ones(2, requires_grad=True)
        y = x * w
        z = (y * y).sum()
        gx, gw = lib.autograd.grad(z, [x, w], retain_graph=True)
        (gy,) = lib.autograd.grad(z, y, retain_graph=True)  # non-leaf input
        (g1,) = lib.autograd.grad(z, (x,), retain_graph=True)
        unused = lib.autograd.grad(z, [x, u], allow_unused=True, retain_graph=True)
        zeros = lib.autograd.grad(z, [x, u], materialize_grads=True, retain_graph=True)
        go = lib.autograd.grad(y, x, lib.tensor([1.0, -1.0]), retain_graph=True)
        multi = lib.autograd.grad([y, z], x, [lib.ones(2), lib.tensor(2.0)], retain_graph=True)
        return [gx, gw, gy, g1, *unused, *zeros, *go, *multi, x.grad, w.grad, y.grad_fn.name(),
                type(unused).__name__]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(prog)


def test_float_of_requires_grad_tensor_warns():
    # PyTorch warns once per process, so compare with the text it gives the first time.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = float(dyngrad.tensor([2.5], requires_grad=True))
        int(dyngrad.tensor([2.5], requires_grad=True))
    assert v == 2.5
    assert [str(w.message) for w in caught] == [
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior."
        "\nConsider using tensor.detach() first."
    ]


def test_autograd_grad_dict_inputs():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        g = lib.autograd.grad((x * w).sum(), {"x": x, "w": w})
        return [type(g).__name__, sorted(g), g["x"], g["w"]]

    same(prog)


def test_autograd_grad_errors():
    def unused(lib):
        x, z = _x(lib), _x(lib)
        lib.autograd.grad((x * 2).sum(), [x, z])

    check_error(unused)

    def no_grad_input(lib):
        x = _x(lib)
        lib.autograd.grad((x * 2).sum(), [x, lib.ones(3)])

    check_error(no_grad_input)

    def bad_materialize(lib):
        x = _x(lib)
        lib.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)

    check_error(bad_materialize)


# --- higher order ------------------------------------------------------------------------------
def test_higher_order_cube():
    def prog(lib):
        x = lib.tensor(3.0, requires_grad=True)
        y = x ** 3
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1, x, create_graph=True)
        (g3,) = lib.autograd.grad(g2, x)
        return [y, g1, g2, g3, g1.requires_grad, g3.requires_grad]

    same(prog)
    assert [v.item() for v in prog(dyngrad)[:4]] == [27.0, 27.0, 18.0, 6.0]


def test_create_graph_keeps_graph_by_default():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (again,) = lib.autograd.grad(y, x, retain_graph=True)  # the graph was retained
        (gg,) = lib.autograd.grad(g.sum(), x)
        return [g, gg, again]

    same(prog)


def test_backward_create_graph():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x ** 3).sum()
        msgs = _warnings(lambda: y.backward(create_graph=True))
        g = x.grad
        nf = g.grad_fn.next_functions
        out = [*msgs, g, type(g.grad_fn).__name__, nf[0], nf[1][0].name(), nf[1][1],
               g.requires_grad, g.is_leaf]
        x.grad = None
        g.sum().backward()
        out.append(x.grad)
        x.grad = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x * x).sum().backward(create_graph=True)
            first = x.grad
            (x * x).sum().backward(create_graph=True)  # accumulates out of place
        return out + [first, x.grad, x.grad is first, type(x.grad.grad_fn).__name__]

    same(prog)

    def freed(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        lib.autograd.grad(g.sum(), x)
        lib.autograd.grad(y, x)

    check_error(freed)


def test_double_backward_needs_create_graph():
    def prog(lib):
        x = _x(lib)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        return [g.requires_grad, g.grad_fn]

    same(prog)

    def fails(lib):
        x = _x(lib)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        g.sum().backward()

    check_error(fails, match="prefix")


@pytest.mark.parametrize("seed", range(3))
def test_gradient_of_mixed_expression(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(4), rng.standard_normal(4) + 3

    def prog(lib):
        x = lib.tensor(a, requires_grad=True)
        w = lib.tensor(b, requires_grad=True)
        y = (x * w - x / w + 2 ** x + x ** 2 - (-w)) / 3
        y.sum().backward()
        return [y, x.grad, w.grad]

    same(prog)


MASKED = {
    "relu": lambda lib, x: x.relu(),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.5, 0.0),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "rrelu_eval": lambda lib, x: lib.nn.functional.rrelu(x, training=False),
    "clamp_min": lambda lib, x: x.clamp_min(0),  # PyTorch's formula is a plain where: no graph
}


@pytest.mark.parametrize("name", list(MASKED))
def test_masked_gradients_depend_on_the_saved_input(name):
    """relu & co.: PyTorch's create_graph gradient is a `*_backward` op of the saved input, so
    it requires grad even where its value does not depend on the input (a gradient penalty of
    relu(x) alone gives zeros, not an error), with PyTorch's grad_fn names."""
    from tests.autograd.common import both, outcome

    fn = MASKED[name]

    def prog(lib):
        x = lib.tensor([1.0, -1.0, 0.0, 2.0, -0.3], requires_grad=True)
        w = lib.tensor([2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((fn(lib, x) * w).sum(), x, create_graph=True)
        return [g, outcome(lib.autograd.grad, (g * g).sum(), x), h,
                outcome(lib.autograd.grad, h.pow(2).sum(), [x, w])]

    both(prog)


POOLING = {
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
    "avg_pool2d": lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 3),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x.flatten(2), 2),
    "avg_pool3d": lambda lib, x: lib.nn.functional.avg_pool3d(x, (1, 2, 2)),
    "adaptive_max_pool2d": lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 3),
    "reflection_pad": lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect"),
    "replication_pad": lambda lib, x: lib.nn.functional.pad(x, (2, 0, 1, 1), mode="replicate"),
    "prelu": lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.25])),
    "conv2d": lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(2, 1, 3, 3), padding=1),
    "grid_sample": lambda lib, x: lib.nn.functional.grid_sample(
        x, lib.linspace(-0.9, 0.9, 18).reshape(1, 3, 3, 2), align_corners=False),
    "batch_norm_eval": lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.tensor([0.1]), lib.tensor([2.0]), lib.tensor([1.5]), training=False),
}


@pytest.mark.parametrize("name", list(POOLING))
def test_pooling_gradients_depend_on_the_saved_input(name):
    """PyTorch's pooling, prelu, reflection/replication padding, convolution, grid_sample and
    eval-mode batch norm backward kernels take the input: under create_graph the gradient
    requires grad (derivative zero or undefined in the input), and an in-place change of the
    input after the forward makes backward raise, as for any saved tensor."""
    from tests.autograd.common import both, outcome

    fn = POOLING[name]
    a = np.random.default_rng(3).standard_normal((1, 1, 4, 4)).astype(np.float32)

    def prog(lib):
        x = lib.tensor(a, requires_grad=True)
        w = lib.tensor(a[0, 0, :2, :2] + 2.0, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, x).sum(), x, create_graph=True)
        y = fn(lib, x)
        (h,) = lib.autograd.grad((y * y.detach().exp()).sum(), x, create_graph=True)
        return [g, outcome(lib.autograd.grad, (g * g).sum(), x), h,
                outcome(lib.autograd.grad, h.pow(2).sum(), [x, w])]

    both(prog)

    def modified(lib):
        x = lib.tensor(a, requires_grad=True) * 1
        y = fn(lib, x)
        x.add_(1)
        y.sum().backward()

    check_error(modified, match="prefix")  # dyngrad adds where the modification was
