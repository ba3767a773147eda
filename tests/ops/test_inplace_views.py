"""In-place ops and views: values and gradients of op_ forms, version counters, the leaf and
view rules, the version-mismatch error, and rebasing a base when one of its views is written."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, assert_same_outputs, check_error, check_op

VERSION_PREFIX = "one of the variables needed for gradient computation has been modified by an"


def same(prog):
    assert_same_outputs(prog(dyngrad), prog(torch), prog.__name__)


def _x(lib):
    return lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)


# --- op_ forms on non-leaves -------------------------------------------------------------------
INPLACE = {
    "add_": lambda x, y: (x * 1).add_(y),
    "add_alpha": lambda x, y: (x * 1).add_(y, alpha=2),
    "sub_": lambda x, y: (x * 1).sub_(y),
    "mul_": lambda x, y: (x * 1).mul_(y),
    "div_": lambda x, y: (x * 1).div_(y),
    "pow_": lambda x, y: (x * 1).pow_(y),
    "iadd": lambda x, y: _iop(x, y, "__iadd__"),
    "isub": lambda x, y: _iop(x, y, "__isub__"),
    "imul": lambda x, y: _iop(x, y, "__imul__"),
    "itruediv": lambda x, y: _iop(x, y, "__itruediv__"),
    "copy_": lambda x, y: (x * 1).copy_(y),
    "mul_twice": lambda x, y: (x * 1).mul_(y).mul_(y),
}
UNARY_INPLACE = {
    "neg_": lambda x: (x * 2).neg_(),
    "exp_": lambda x: (x * 1).exp_(),
    "zero_": lambda x: (x * 2).zero_(),
    "fill_": lambda x: (x * 2).fill_(1.5),
    "clamp_": lambda x: (x * 2).clamp_(-1, 1),
    "pow_scalar": lambda x: (x * 1).pow_(2),
    "mul_scalar": lambda x: (x * 1).mul_(3),
    "iadd_scalar": lambda x: _iop(x, 2.5, "__iadd__"),
}


def _iop(x, y, name):
    t = x * 1
    return getattr(t, name)(y)


@pytest.mark.parametrize("name", INPLACE)
def test_binary_inplace(name):
    x = array(2, 3, low=0.5, high=2.0)
    y = array(3, low=0.5, high=2.0)
    check_op(INPLACE[name], x, y)


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace(name):
    check_op(UNARY_INPLACE[name], array(2, 3, low=-2.0, high=2.0, away_from_zero=0.1))


def test_fill_with_tensor_value():
    check_op(lambda x, v: (x * 1).fill_(v), array(2, 3), np.array(2.5))


def test_inplace_returns_self_and_changes_grad_fn():
    def prog(lib):
        x = _x(lib)
        y = x * 2
        old = y.grad_fn
        r = y.add_(1)
        nxt = y.grad_fn.next_functions
        return [r is y, y, y._version, type(y.grad_fn).__name__, nxt[0][0] is old,
                type(nxt[0][0]).__name__, nxt[1], y.is_leaf]

    same(prog)


def test_inplace_versions():
    def prog(lib):
        x = lib.ones(3)
        out = [x._version]
        x.add_(1)
        x.mul_(2)
        x += 1
        x[0] = 3
        x[1:].zero_()
        v = x[:2]
        v.fill_(7)
        d = x.detach()
        d.sub_(1)
        return out + [x._version, v._version, d._version, x, x.data._version]

    same(prog)


# --- leaf rules --------------------------------------------------------------------------------
def test_leaf_inplace_errors():
    check_error(lambda lib: _x(lib).add_(1))
    check_error(lambda lib: _x(lib).__iadd__(1))
    check_error(lambda lib: _x(lib).__setitem__(0, 5.0))
    check_error(lambda lib: _x(lib)[:2].add_(1))
    check_error(lambda lib: _x(lib)[1].mul_(2))
    check_error(lambda lib: _x(lib).view(2, 2).zero_())
    check_error(lambda lib: _x(lib).t().fill_(1))
    for index in (0, [0, 1], slice(None), Ellipsis, None, (0, None), slice(1, 3),
                  slice(None, None, 2)):
        check_error(lambda lib, index=index: _x(lib).__setitem__(index, 5.0))


def test_leaf_inplace_allowed_under_no_grad():
    def prog(lib):
        x = _x(lib)
        with lib.no_grad():
            x.add_(1)
            x[0] = 5
            x[:2].mul_(2)
        out = [x, x._version, x.requires_grad, x.is_leaf, x.grad_fn]
        (x * x).sum().backward()
        return out + [x.grad]

    same(prog)


def test_inplace_on_leaf_without_requires_grad_records_nothing_then_something():
    def prog(lib):
        c = lib.ones(3)
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c.mul_(w)  # c becomes part of the graph
        out = [c, c.requires_grad, c.is_leaf, type(c.grad_fn).__name__]
        c.sum().backward()
        return out + [w.grad]

    same(prog)


# --- the version-mismatch error ----------------------------------------------------------------
def _prefix_and_suffix(prog, op):
    """dyngrad's message = torch's + a note naming the op that bumped the version."""
    dg, th = check_error(prog, match="prefix")
    dg_msg, th_msg = str(dg), str(th)
    assert th_msg.startswith(VERSION_PREFIX)
    suffix = dg_msg[len(th_msg):]
    assert suffix.startswith(f" (dyngrad: the last in-place modification was {op}() at "), suffix
    assert "test_inplace_views.py" in suffix


@pytest.mark.parametrize("writes", [["add_"], ["add_", "mul_"]])
def test_version_error_non_leaf(writes):
    """The version counts every write; the hint names the last one."""

    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        z = y * y
        for op in writes:
            getattr(y, op)(3)
        z.sum().backward()

    _prefix_and_suffix(prog, writes[-1])


def test_version_error_leaf_and_constant():
    def leaf(lib):
        x = lib.ones(3, requires_grad=True)
        z = x * x
        with lib.no_grad():
            x.add_(1)
        z.sum().backward()

    _prefix_and_suffix(leaf, "add_")

    def constant(lib):
        x = lib.ones(3, requires_grad=True)
        c = lib.ones(3, dtype=lib.float64)
        z = x * c
        c[0] = 2
        c[1] = 3
        z.sum().backward()

    _prefix_and_suffix(constant, "__setitem__")


def test_version_error_saved_output():
    def prog(lib):
        x = lib.ones(2, 2, requires_grad=True)
        y = x.exp()
        with lib.no_grad():
            y.mul_(2)
        y.sum().backward()

    _prefix_and_suffix(prog, "mul_")

    def prog2(lib):
        x = lib.ones(3, requires_grad=True)
        y = x.sigmoid()
        y.add_(1)
        y.sum().backward()

    _prefix_and_suffix(prog2, "add_")


def test_version_error_through_detach():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        z = y * y
        y.detach().zero_()
        z.sum().backward()

    _prefix_and_suffix(prog, "zero_")


def test_version_check_is_lazy():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        z = y + 1  # add saves nothing
        y.mul_(5)
        z.sum().backward()
        w = x * 3
        u = w * w  # saves w, but u's node never runs below
        w.add_(1)
        w.sum().backward()
        a = x * 3
        b = a * lib.full((3,), 2.0)  # a's value is only needed for the constant's gradient
        a.add_(1)
        b.sum().backward()
        return [x.grad, y, u]

    same(prog)


# --- views -------------------------------------------------------------------------------------
def test_view_metadata():
    def prog(lib):
        x = lib.arange(6.0).reshape(2, 3)
        v, s, t = x[0], x[:, 1:], x.t()
        c = x.clone()
        return [v._is_view(), v._base is x, s._base is x, t._base is x, x._is_view(),
                c._is_view(), x[0][1:]._base is x, x.view(3, 2)._base is x,
                x.reshape(6)._base is x, x.detach()._is_view(), x._base is None,
                x.unsqueeze(0)._base is x, x.expand(4, 2, 3)._base is x]

    same(prog)


def test_views_share_memory_and_version():
    def prog(lib):
        x = lib.zeros(2, 3)
        v = x[1]
        t = x.t()
        v.add_(1)
        t[0, 0] = 5
        return [x, v, t, x._version, v._version, t._version]

    same(prog)


def test_view_inplace_rebases_base():
    def prog(lib):
        x = lib.ones(4, requires_grad=True)
        y = x * 1
        view = y[1:3]
        view *= 3
        out = [y, view, type(y.grad_fn).__name__, y.grad_fn.name(), type(view.grad_fn).__name__,
               view._base is y, y._version, view._version]
        y.sum().backward()
        return out + [x.grad]

    same(prog)
    assert prog(dyngrad)[-1].tolist() == [1.0, 3.0, 3.0, 1.0]


def test_view_grads_after_base_modified():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = x * 2
        v = y[:2]
        y.mul_(2)  # the view now reads through the base's new history
        out = [type(v.grad_fn).__name__, v]
        (v * lib.tensor([1.0, 10.0])).sum().backward()
        return out + [x.grad]

    same(prog)


def test_seed_example_setitem_with_graph():
    def prog(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        m = x * 1
        n = lib.zeros(2, 2)
        n[0] = m[0] ** 2
        n[1, 1] = m[1, 0] * m[1, 1]
        out = [n, type(n.grad_fn).__name__, n.requires_grad, n.is_leaf]
        n.sum().backward()
        return out + [x.grad]

    same(prog)


def test_setitem_on_clone():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.clone()
        y[0] = 5
        nf = y.grad_fn.next_functions
        out = [y, y.grad_fn.name(), type(nf[0][0]).__name__, nf[1]]
        (y * y).sum().backward()
        return out + [x.grad]

    same(prog)


def test_nested_views_inplace():
    def prog(lib):
        x = lib.arange(12.0).requires_grad_()
        y = x.view(3, 4) * 1
        r = y[1]
        r[1:3].mul_(lib.tensor([2.0, 3.0]))
        t = y.t()
        t[0].add_(10)
        out = [y, type(y.grad_fn).__name__, type(r.grad_fn).__name__, type(t.grad_fn).__name__]
        (y * lib.arange(12.0).view(3, 4)).sum().backward()
        return out + [x.grad]

    same(prog)


def test_multi_output_view_error():
    check_error(lambda lib: (_x(lib) * 1).unbind()[0].mul_(2))
    check_error(lambda lib: (_x(lib) * 1).split(2)[1].add_(1))
    check_error(lambda lib: (_x(lib) * 1).chunk(2)[0].zero_())
    check_error(lambda lib: _x(lib).unbind()[0].mul_(2))

    def without_grad(lib):  # allowed when nothing requires grad
        parts = lib.ones(4).unbind()
        parts[0].mul_(2)
        with lib.no_grad():
            g = (lib.ones(4, requires_grad=True) * 1).unbind()
            g[1].add_(1)
        return [parts[0], g[1]]

    same(without_grad)


def test_views_of_multi_output_views():
    def m(lib):
        return lib.ones(4, 2, requires_grad=True) * 1

    check_error(lambda lib: m(lib).unbind()[1][0].mul_(2))
    check_error(lambda lib: m(lib).unbind()[1].view(2).mul_(2))
    check_error(lambda lib: m(lib).split(2)[1][0].add_(1))
    check_error(lambda lib: m(lib).unbind()[1].__setitem__(0, 5.0))
    check_error(lambda lib: m(lib).unbind()[1].__setitem__(slice(None), 5.0))


def test_no_grad_view_modified_with_grad_error():
    def prog(lib):
        x = _x(lib)
        y = x * 1
        with lib.no_grad():
            v = y[:2]
        v.mul_(2)

    check_error(prog)

    def setitem(lib):
        y = _x(lib) * 1
        with lib.no_grad():
            v = y[:2]
        v[:] = 3

    check_error(setitem)

    def view_of_view(lib):
        y = _x(lib) * 1
        with lib.no_grad():
            v = y[:2]
        v[0].mul_(2)

    # PyTorch names the view ("Output 0 of Select is a view of a view which was created in
    # no_grad mode ..."); dyngrad gives the plain no_grad-view text, so only the type is compared.
    check_error(view_of_view, match="type")

    def allowed(lib):
        x = _x(lib)
        y = x * 1
        with lib.no_grad():
            v = y[:2]
            v.mul_(2)
        y.sum().backward()
        return [y, x.grad, y._version]

    same(allowed)


def test_detach_view_inplace_shares_version():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        z = y * y
        y.detach()[0] = 5
        z.sum().backward()

    check_error(prog, match="prefix")


# --- dtype rules of in-place ops ---------------------------------------------------------------
def test_inplace_dtype_rules():
    check_error(lambda lib: lib.tensor([1, 2]).__iadd__(1.5))
    check_error(lambda lib: lib.tensor([1, 2]).mul_(lib.tensor([1.5, 2.0])))
    check_error(lambda lib: lib.ones(2).add_(lib.ones(2, dtype=lib.complex64)))

    def prog(lib):
        f = lib.ones(2)
        f += lib.ones(2, dtype=lib.float64)
        i = lib.tensor([1, 2])
        i += 1
        i.mul_(lib.tensor([2], dtype=lib.int8))
        b = lib.tensor([True, False])
        h = lib.ones(2, dtype=lib.float16)
        h.add_(lib.ones(2, dtype=lib.float64) * 0.1)
        return [f, i, b, h]

    same(prog)


def test_inplace_shape_errors():
    check_error(lambda lib: lib.ones(3).add_(lib.ones(2, 3)))
    check_error(lambda lib: lib.ones(3).copy_(lib.ones(2)))

    def broadcast(lib):
        x = lib.ones(2, 3)
        x.add_(lib.tensor([1.0, 2.0, 3.0]))
        x.copy_(lib.tensor([5.0]))
        return [x]

    same(broadcast)


def _saved_value_then_base_written(x):
    """An in-place op through a view saves the view's old value; later writes to the base (through
    another view or directly) must not re-route that saved value's history."""
    w = x * 2
    w[:, 0].mul_(x[:, 1])
    w[:, 1].add_(1)
    w.add_(0.5)
    return w ** 2


def test_second_order_through_views_written_twice():
    check_op(_saved_value_then_base_written, array(3, 2), noncontig=False)


def test_writes_through_expanded_tensors():
    """An expanded tensor maps several elements to one memory location: PyTorch lets fill_ and
    zero_ through (one value), masked_fill_ and index_fill_ with a deprecation warning, and
    refuses the rest, setitem on such a region included, and CopySlices' backward."""
    from tests.autograd.common import both, outcome, warned

    def prog(lib):
        ops = {  # each on a fresh x.expand(3, 6)
            "fill_": lambda v: v.fill_(2), "zero_": lambda v: v.zero_(),
            "copy_": lambda v: v.copy_(lib.ones(3, 6)), "add_": lambda v: v.add_(1),
            "clamp_": lambda v: v.clamp_(0, 1), "uniform_": lambda v: v.uniform_(),
            "row": lambda v: v.__setitem__(0, 3.0),
            "all": lambda v: v.__setitem__(slice(None), 3.0),
            "all_tensor": lambda v: v.__setitem__(slice(None), lib.ones(6)),
            "masked_fill_": lambda v: v.masked_fill_(v > 2, 1.0),
            "index_fill_": lambda v: v.index_fill_(1, lib.tensor([0]), 2.0),
            "column": lambda v: v[:, 1].fill_(7.0), "first_row": lambda v: v[0].add_(1),
        }
        out = []
        for fn in ops.values():
            x = lib.arange(6.0)
            out += [warned(fn, x.expand(3, 6))[1], x]
        out.append(outcome(lambda: lib.ones(1, 0, 3).expand(4, 0, 3).add_(1)))  # no elements
        a = lib.arange(6.0, requires_grad=True)
        b = a * 1
        b.expand(2, 6).fill_(3.0)
        out.append(outcome(lambda: (b * lib.arange(6.0)).sum().backward()))
        return out

    both(prog)


# --- in-place geometry changes (dyngrad/ops/inplace_views.py) ----------------------------------
GEOMETRY = {
    "squeeze_": lambda x: (x * 1).unsqueeze(1).squeeze_(),
    "squeeze_dim": lambda x: (x * 1).unsqueeze(0).squeeze_(0),
    "squeeze_dims": lambda x: (x * 1).unsqueeze(0).unsqueeze(2).squeeze_((0, 2)),
    "unsqueeze_": lambda x: (x * 1).unsqueeze_(1),
    "t_": lambda x: (x * 1).t_(),
    "transpose_": lambda x: (x * 1).transpose_(0, 1),
    "swapaxes_": lambda x: (x * 1).swapaxes_(0, -1),
    "swapdims_": lambda x: (x * 1).swapdims_(1, 0),
    "as_strided_": lambda x: (x * 1).contiguous().as_strided_((2, 2), (1, 3), 1),
    "t_then_op": lambda x: (x * 1).t_().exp(),
    "t_of_view": lambda x: (x * 1)[:, :2].t_(),
    "twice": lambda x: (x * 1).t_().unsqueeze_(0),
}


@pytest.mark.parametrize("name", GEOMETRY)
def test_geometry_inplace(name):
    """Values, shape, grad_fn (PyTorch's in-place node names), gradients of first and second
    order, on contiguous and strided inputs."""
    check_op(GEOMETRY[name], array(3, 4))


def test_geometry_inplace_state():
    """Version counters, strides, view-ness, and a view whose base is written afterwards (its
    history then reads the new geometry out of the base, as AsStridedBackward0)."""
    from tests.autograd.common import both

    def prog(lib):
        out = []
        x = lib.arange(6.0).reshape(2, 3)
        y = x.t_()
        out += [y is x, x._version, x.stride(), x.is_contiguous()]
        z = lib.zeros(2, 1, 3)
        z.squeeze_(1).unsqueeze_(-1)
        out += [z.shape, z._version, z.stride()]
        a = lib.arange(6.0).requires_grad_()
        b = a.reshape(2, 3) * 1
        v = b[:, :2]
        v.t_()
        out += [v._is_view(), v._base is b, b._version, v._version, v.shape]
        b.mul_(2)
        out.append(v)
        out.append(lib.autograd.grad(v.sum(), a)[0])
        leaf = lib.ones(2, 3, requires_grad=True)
        with lib.no_grad():
            leaf.t_()
        out += [leaf.shape, leaf.requires_grad, leaf.grad_fn]
        s = lib.arange(6.0)
        out.append(s.as_strided_((2, 2), (1, 2), 1))
        return out

    both(prog)


GEOMETRY_ERRORS = {
    "leaf": lambda t: t.ones(2, 3, requires_grad=True).t_(),
    "view_of_leaf": lambda t: t.ones(2, 3, requires_grad=True)[0].unsqueeze_(0),
    "t_3d": lambda t: t.zeros(2, 3, 4).t_(),
    "squeeze_dim": lambda t: t.zeros(2, 1).squeeze_(5),
    "unsqueeze_dim": lambda t: t.zeros(2, 1).unsqueeze_(4),
    "transpose_dim": lambda t: t.zeros(2, 1).transpose_(0, 3),
    "multi_output_view": lambda t: (t.ones(2, 3, requires_grad=True) * 1).unbind(0)[0]
    .unsqueeze_(0),
    "inference": lambda t: _inference(t).t_(),
}


def _inference(lib):
    with lib.inference_mode():
        return lib.zeros(2, 3)


@pytest.mark.parametrize("name", GEOMETRY_ERRORS)
def test_geometry_inplace_errors(name):
    check_error(GEOMETRY_ERRORS[name])


RESIZE = {
    "shrink": lambda t: t.arange(6.0).resize_(2, 2),
    "tuple": lambda t: t.arange(6.0).resize_((3, 2)),
    "list": lambda t: t.arange(6.0).resize_([1, 6]),
    "same_shape_keeps_strides": lambda t: t.arange(6.0).reshape(2, 3).t().resize_(3, 2),
    "transposed_to_new_shape": lambda t: t.arange(6.0).reshape(2, 3).t().resize_(2, 3),
    "view_shrink": lambda t: t.arange(6.0)[:3].resize_(2),
    "channels_last": lambda t: t.arange(24.0).resize_(1, 2, 3, 4,
                                                       memory_format=t.channels_last),
    "resize_as_": lambda t: t.arange(4.0).resize_as_(t.zeros(2, 2)),
    "torch_resize_as_": lambda t: t.resize_as_(t.arange(4.0), t.zeros(2, 2)),
    "int": lambda t: t.arange(6).resize_(3, 2),
}


@pytest.mark.parametrize("name", RESIZE)
def test_resize_(name):
    from tests.autograd.common import both

    def prog(lib):
        r = RESIZE[name](lib)
        return r, r.stride(), r._version

    both(prog)


def test_resize_grows_memory():
    """Growing keeps the storage's elements in order (a view of the first half too); the new
    ones are uninitialised in PyTorch (zeros in dyngrad), so only the old ones are compared."""
    for start in (lambda t: t.arange(6.0), lambda t: t.arange(6.0)[:3]):
        d, t = start(dyngrad).resize_(3, 3), start(torch).resize_(3, 3)
        assert d.shape == t.shape and d.stride() == t.stride() and d._version == t._version
        np.testing.assert_array_equal(d.flatten()[:6].numpy(), t.flatten()[:6].numpy())


RESIZE_ERRORS = {
    "requires_grad_leaf": lambda t: t.ones(3, requires_grad=True).resize_(2),
    "requires_grad_nonleaf": lambda t: (t.ones(3, requires_grad=True) * 1).resize_(3),
    "requires_grad_no_grad": lambda t: _no_grad(t, lambda: t.ones(3, requires_grad=True)
                                               .resize_(2)),
    "negative": lambda t: t.ones(3).resize_(-1),
    "channels_last_rank": lambda t: t.ones(6).resize_(2, 3, memory_format=t.channels_last),
    "resize_as_template": lambda t: t.ones(3).resize_as_(3),
    "resize_as_grad": lambda t: (t.ones(3, requires_grad=True) * 1).resize_as_(t.zeros(3)),
    "resize_autograd_numel": lambda t: t.ones(6, requires_grad=True).resize(3, 3),
    "resize_as_autograd_numel": lambda t: t.ones(2, 3).resize_as(t.zeros(4)),
}


def _no_grad(lib, fn):
    with lib.no_grad():
        return fn()


@pytest.mark.filterwarnings("ignore:non-inplace resize")
@pytest.mark.parametrize("name", RESIZE_ERRORS)
def test_resize_errors(name):
    check_error(RESIZE_ERRORS[name])


def test_deprecated_out_of_place_resize():
    """resize / resize_as: a warning, a reshaped view, and (ResizeBackward) gradients."""
    from tests.autograd.common import both, warned

    def prog(lib):
        x = lib.arange(6.0, requires_grad=True)
        r, w = warned(lambda: x.resize(2, 3))
        r2, w2 = warned(lambda: lib.arange(6).resize_as(lib.zeros(3, 2)))
        return r, w, r2, w2, r._is_view(), lib.autograd.grad((r * r).sum(), x)[0]

    both(prog)


def test_set_():
    from tests.autograd.common import both, outcome

    def prog(lib):
        src = lib.arange(6.0).reshape(2, 3)
        y = lib.zeros(2)
        r = y.set_(src)
        y[0, 0] = 7.0
        z = lib.zeros(3).set_()
        return [r is y, y, src, y._version, z.shape, z._version,
                outcome(lambda: lib.zeros(2, requires_grad=True).set_(src))]

    both(prog)


def test_geometry_inplace_forward_mode():
    """The tangent takes the new geometry too (of a tensor, and of a view of a dual tensor)."""
    from tests.autograd.common import both

    def prog(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(lib.arange(6.0).reshape(2, 3), lib.arange(6.0).reshape(2, 3) * 2)
            y = (x * 1).t_().unsqueeze_(0) * 2
            v = (x * 1)[:, :2]
            v.t_()
            return [fw.unpack_dual(y).tangent, fw.unpack_dual(v).tangent]

    both(prog)


@pytest.mark.parametrize("chain", ["t", "slice_t", "permute"])
def test_write_through_as_strided_of_a_strided_view(chain):
    """as_strided counts in the storage: replaying it on the gradient (CopySlices) must not go
    through a copy of a non-contiguous view, or the written positions keep their gradient."""

    def prog(lib):
        x = lib.arange(24.0, dtype=lib.float64).reshape(4, 6).requires_grad_()
        b = x * 1
        v = {"t": b.t(), "slice_t": b[:2].t(), "permute": b.reshape(2, 2, 6).permute(2, 0, 1)}
        view = v[chain]
        view.as_strided((2, 2), (1, 6), view.storage_offset() + 1).mul_(0.5)
        (b * b).sum().backward()
        return [b, x.grad]

    assert_same_outputs(prog(dyngrad), prog(torch), chain)
