"""Shape ops against PyTorch: values, grad_fn names, view-ness, first and second order
gradients (with contiguous and strided inputs), and PyTorch's error texts."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, assert_same_outputs, check_error, check_op, with_lib

A = array(2, 3, 4)
M = array(3, 4)

OPS = {
    "view": lambda x: x.view(6, 4),
    "view_infer": lambda x: x.view(-1, 2),
    "view_tuple": lambda x: x.view((4, 6)),
    "view_as": lambda x: x.view_as(x.view(4, 6)),
    "reshape": lambda x: x.reshape(4, -1),
    "reshape_noncontig": lambda x: x.transpose(0, 2).reshape(-1),
    "reshape_as": lambda x: x.reshape_as(x.reshape(24)),
    "flatten": lambda x: x.flatten(),
    "flatten_range": lambda x: x.flatten(1),
    "flatten_mid": lambda x: x.flatten(0, 1),
    "flatten_same": lambda x: x.flatten(1, 1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "unflatten_infer": lambda x: x.unflatten(-1, (-1, 2)),
    "transpose": lambda x: x.transpose(0, 2),
    "transpose_neg": lambda x: x.transpose(-1, -2),
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute_tuple": lambda x: x.permute((1, 2, 0)),
    "permute_neg": lambda x: x.permute(-1, 0, 1),
    "mT": lambda x: x.mT,
    "movedim": lambda x: x.movedim(0, 2),
    "movedim_many": lambda x: x.movedim((0, 1), (2, 0)),
    "squeeze_none": lambda x: x.unsqueeze(1).squeeze(),
    "squeeze_dim": lambda x: x.unsqueeze(1).squeeze(1),
    "squeeze_noop": lambda x: x.squeeze(0),
    "squeeze_dims": lambda x: x.unsqueeze(0).unsqueeze(-1).squeeze((0, -1)),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "unsqueeze_neg": lambda x: x.unsqueeze(-1),
    "unsqueeze_mid": lambda x: x.unsqueeze(2),
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "expand_new_dims": lambda x: x.expand(3, 2, 3, 4),
    "expand_keep": lambda x: x[:1].expand(-1, 3, 4),
    "expand_as": lambda x: x[:1].expand_as(x),
    "broadcast_to": lambda x: x[:, :, :1].broadcast_to((2, 3, 5)),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "narrow_neg": lambda x: x.narrow(-1, -3, 2),
    "select": lambda x: x.select(1, 2),
    "select_neg": lambda x: x.select(-1, -1),
    "flip": lambda x: x.flip(0),
    "flip_many": lambda x: x.flip(0, 2),
    "flip_neg": lambda x: x.flip(-1),
    "roll": lambda x: x.roll(1, 2),
    "roll_many": lambda x: x.roll((1, -2), (0, 2)),
    "roll_flat": lambda x: x.roll(5),
    "ravel": lambda x: x.ravel(),
    "split": lambda x: x.split(2, 2),
    "split_uneven": lambda x: x.split(2, 1),
    "split_sizes": lambda x: x.split([1, 2], 1),
    "chunk": lambda x: x.chunk(2, 2),
    "chunk_uneven": lambda x: x.chunk(2, 1),
    "unbind": lambda x: x.unbind(1),
    "unbind0": lambda x: x.unbind(),
    "tensor_split": lambda x: x.tensor_split(3, 2),
    "tensor_split_indices": lambda x: x.tensor_split([1, 3], 2),
}


@pytest.mark.parametrize("name", OPS)
def test_shape_op(name):
    # view() of a transposed input is an error in both libraries: check views on the strided
    # layout only (whose merged dims stay viewable).
    check_op(OPS[name], A, noncontig=not name.startswith(("view", "unflatten")))


def test_view_of_strided_input():
    def prog(lib):
        x = lib.from_numpy(np.arange(48.0).reshape(2, 3, 8))[..., ::2].requires_grad_()
        v = x.view(6, 4)
        r = x.reshape(6, 4)
        f = x.flatten(0, 1)
        (v * 1 + r * 2 + f * 3).backward(lib.ones(6, 4))
        return [v, r, f, x.grad, v._base is x, r._base is x, x.stride(), v.stride()]

    assert_same_outputs(prog(dyngrad), prog(torch), "strided views")


def test_t_and_T():
    check_op(lambda x: x.t(), M)
    check_op(lambda x: x.T, M)
    check_op(lambda x: x.t(), array(3))
    check_op(lambda x: x.t(), np.array(2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # x.T on other than 2 dims is deprecated (both warn)
        check_op(lambda x: x.T, A)
        check_op(lambda x: x.T, array(3))


def test_T_deprecation_warnings():
    def prog(lib):
        msgs = []
        for shape in ((3,), (2, 3, 4), (2, 3)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                _ = lib.ones(*shape).T
            msgs.append([str(w.message).split(" (Triggered")[0] for w in caught])
        return msgs

    # PyTorch warns once per process; compare dyngrad with the text torch gives the first time.
    dg = prog(dyngrad)
    assert dg[2] == [] and len(dg[0]) == len(dg[1]) == 1
    assert dg[0][0].startswith("The use of `x.T` on tensors of dimension other than 2 to reverse")


FUNCS = {
    "cat": lambda L, x, y: L.cat([x, y]),
    "cat_dim": lambda L, x, y: L.cat((x, y), dim=1),
    "cat_neg": lambda L, x, y: L.cat([x, y, x], -1),
    "cat_one": lambda L, x, y: L.cat([x]),
    "concat": lambda L, x, y: L.concat([x, y], 0),
    "stack": lambda L, x, y: L.stack([x, y]),
    "stack_dim": lambda L, x, y: L.stack((x, y), 2),
    "stack_neg": lambda L, x, y: L.stack([x, y], -1),
    "hstack": lambda L, x, y: L.hstack([x, y]),
    "vstack": lambda L, x, y: L.vstack([x, y]),
    "dstack": lambda L, x, y: L.dstack([x, y]),
    "column_stack": lambda L, x, y: L.column_stack([x, y]),
    "broadcast_tensors": lambda L, x, y: L.broadcast_tensors(x, y[:1]),
    "fn_transpose": lambda L, x, y: L.transpose(x, 0, 1),
    "fn_permute": lambda L, x, y: L.permute(x, (1, 0)),
    "fn_squeeze": lambda L, x, y: L.squeeze(x[None]),
    "fn_unsqueeze": lambda L, x, y: L.unsqueeze(y, 1),
    "fn_flatten": lambda L, x, y: L.flatten(x),
    "fn_reshape": lambda L, x, y: L.reshape(x, (-1,)),
    "fn_narrow": lambda L, x, y: L.narrow(x, 0, 1, 2),
    "fn_select": lambda L, x, y: L.select(x, 1, 0),
    "fn_split": lambda L, x, y: L.split(x, 1),
    "fn_chunk": lambda L, x, y: L.chunk(x, 3, 1),
    "fn_unbind": lambda L, x, y: L.unbind(y),
    "fn_movedim": lambda L, x, y: L.movedim(x, 0, 1),
    "fn_flip": lambda L, x, y: L.flip(x, [0]),
    "fn_roll": lambda L, x, y: L.roll(x, 1, 0),
    "fn_t": lambda L, x, y: L.t(x),
    "fn_broadcast_to": lambda L, x, y: L.broadcast_to(y[:1], (2, 3, 4)),
    "atleast_3d": lambda L, x, y: L.atleast_3d(x),
    "fliplr": lambda L, x, y: L.fliplr(x),
    "flipud": lambda L, x, y: L.flipud(x),
}


@pytest.mark.parametrize("name", FUNCS)
def test_functions(name):
    check_op(with_lib(FUNCS[name]), M, array(3, 4))


def test_cat_stack_mixed():
    check_op(with_lib(lambda L, x, y: L.cat([x, y * 2, x[:1]])), M, array(2, 4))
    check_op(with_lib(lambda L, x, y: L.cat([x, y])), M, np.array([1.0, 2.0])[:0])
    check_op(with_lib(lambda L, x, y: L.stack([x, y, x + y])), array(3), array(3))
    check_op(with_lib(lambda L, x, y: L.cat([x, y])), M, np.ones((1, 4), dtype=np.int64))
    check_op(with_lib(lambda L, x, y: L.cat([x, y])), M, array(1, 4),
             requires_grad=[True, False])


def test_views_share_memory():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4)
        out = []
        for v in (x.view(4, 3), x.t(), x.T, x.transpose(0, 1), x.permute(1, 0), x[1],
                  x.select(1, 0), x.narrow(0, 1, 2), x.unsqueeze(0), x.flatten(), x.expand(2, 3, 4),
                  x.unbind()[0], x.split(2)[1], x.chunk(2, 1)[0], x.movedim(0, 1),
                  x.reshape(12), x.view(12).unflatten(0, (2, 6)), x.squeeze()):
            out += [v._is_view(), v._base is x, v.is_contiguous(), v.stride(), v.storage_offset()]
        out += [x.flip(0)._is_view(), x.roll(1)._is_view(), x.t().reshape(12)._is_view(),
                lib.cat([x]).data_ptr() == x.data_ptr()]
        v = x.t()
        v[0, 1] = 100
        return out + [x, x._version]

    assert_same_outputs(prog(dyngrad), prog(torch), "views")


def test_multi_output_structure():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4).requires_grad_()
        parts = x.split([1, 2])
        un = x.unbind(1)
        ch = x.chunk(2)
        return [[(type(p.grad_fn).__name__, p.output_nr) for p in parts],
                [(type(p.grad_fn).__name__, p.output_nr) for p in un],
                [(type(p.grad_fn).__name__, p.output_nr) for p in ch],
                parts[0].grad_fn is parts[1].grad_fn, type(parts).__name__,
                (un[1] * 1).grad_fn.next_functions[0][1]]

    assert_same_outputs(prog(dyngrad), prog(torch), "multi")


def test_partial_use_of_multi_output():
    def fn(x):
        a, b, c = x.unbind(1)[:3]
        return a * 2 + c

    check_op(fn, A)
    check_op(lambda x: x.split(1)[1] * 3, A)


ERRORS = {
    "view_noncontig": lambda L: L.ones(2, 3).t().view(6),
    "view_bad": lambda L: L.ones(2, 3).view(4),
    "view_two_infer": lambda L: L.ones(2, 3).view(-1, -1),
    "reshape_bad": lambda L: L.ones(2, 3).reshape(5, -1),
    "transpose_dim": lambda L: L.ones(2, 3).transpose(0, 2),
    "permute_len": lambda L: L.ones(2, 3).permute(0),
    "permute_dup": lambda L: L.ones(2, 3).permute(0, 0),
    "squeeze_dim": lambda L: L.ones(2, 3).squeeze(3),
    "unsqueeze_dim": lambda L: L.ones(2, 3).unsqueeze(4),
    "expand_size": lambda L: L.ones(2, 3).expand(2, 4),
    "expand_fewer": lambda L: L.ones(2, 3).expand(3),
    "expand_new_neg": lambda L: L.ones(2, 3).expand(-1, 2, 3),
    "cat_sizes": lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]),
    "cat_ndim": lambda L: L.cat([L.ones(2, 3), L.ones(3)]),
    "cat_empty": lambda L: L.cat([]),
    "cat_dim": lambda L: L.cat([L.ones(2, 3), L.ones(2, 3)], 2),
    "stack_sizes": lambda L: L.stack([L.ones(2, 3), L.ones(3, 2)]),
    "stack_empty": lambda L: L.stack([]),
    "split_sizes": lambda L: L.ones(5).split([2, 2]),
    "chunk_zero": lambda L: L.ones(5).chunk(0),
    "narrow_oob": lambda L: L.ones(5).narrow(0, 3, 3),
    "select_oob": lambda L: L.ones(2, 3).select(1, 3),
    "select_0d": lambda L: L.tensor(1.0).select(0, 0),
    "t_3d": lambda L: L.ones(2, 3, 4).t(),
    "flatten_order": lambda L: L.ones(2, 3, 4).flatten(2, 1),
    "unflatten_bad": lambda L: L.ones(2, 6).unflatten(1, (4, 2)),
    "movedim_dim": lambda L: L.ones(2, 3).movedim(0, 5),
    "flip_dim": lambda L: L.ones(2, 3).flip(2),
    "unbind_dim": lambda L: L.ones(2, 3).unbind(2),
    "broadcast_shapes": lambda L: L.broadcast_shapes((2, 3), (4,)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


def test_sizes_and_dtypes():
    def prog(lib):
        x = lib.ones(2, 3, dtype=lib.int32)
        b = lib.ones(2, 1, dtype=lib.bool)
        return [x.view(6), x.t(), x.unsqueeze(0).shape, lib.cat([x, x.long()]).dtype,
                lib.cat([x, lib.ones(1, 3)]).dtype, lib.stack([b, b]).shape, b.expand(2, 4),
                lib.broadcast_shapes((2, 1), (3,)), x.view(-1).shape, lib.cat([b.float(), b]),
                x.reshape(()).shape if x.numel() == 1 else x.reshape(3, 2).shape,
                lib.tensor(5.0).view(1), lib.tensor(5.0).reshape(1, 1), lib.ones(1).view(()),
                lib.tensor(5.0).unsqueeze(0), lib.tensor(5.0).squeeze(), lib.tensor(5.0).flatten(),
                lib.tensor(5.0).expand(3)]

    assert_same_outputs([str(v) for v in prog(dyngrad)], [str(v) for v in prog(torch)], "dtypes")


def test_as_strided_addresses_the_storage():
    """as_strided's sizes, strides and offset count in the input's storage (a leaf that is a
    slice of a larger buffer, a transposed input); gradients go to the input elements at those
    positions, add up where positions repeat, and are dropped outside the input (PyTorch)."""
    from tests.autograd.common import both

    def prog(lib):
        base = lib.arange(20.0, dtype=lib.float64)
        x = base[5:15].detach().requires_grad_()
        t = lib.arange(12.0, dtype=lib.float64).reshape(3, 4).requires_grad_()
        out = []
        for y, leaf in ((x.as_strided((2, 2), (1, 2)), x),  # at x's own offset (5)
                        (x.as_strided((2, 2), (1, 2), 0), x),  # before x: dropped gradients
                        (x.as_strided((2, 2), (1, 2), 10), x),  # straddles x's end
                        (x.as_strided((3, 3), (1, 1), 6), x),  # overlapping windows
                        (t.t().as_strided((2, 3), (1, 4), 1), t)):  # a transposed input
            w = lib.arange(1.0, y.numel() + 1, dtype=lib.float64).reshape(y.shape)
            out += [y, lib.autograd.grad((y * w).sum(), leaf)[0]]
        return out

    both(prog)


# --- row_stack, adjoint ------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (1, 3)), ((), ())])
def test_row_stack(shapes):
    check_op(with_lib(lambda lib, *ts: lib.row_stack(ts)), *(array(*s) for s in shapes))


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (1, 1)])
def test_adjoint(shape):
    check_op(lambda x: x.adjoint(), array(*shape))
    check_op(with_lib(lambda lib, x: lib.adjoint(x) * 2), array(*shape))


def test_adjoint_complex_is_a_lazy_conjugate_view():
    from tests.autograd.common import both

    def prog(lib):
        x = lib.tensor([[1 + 2j, 3 - 1j], [0.5j, 2.0]])
        a = x.adjoint()
        return [a, a.is_conj()]

    both(prog)


def test_adjoint_of_0d_is_deprecated():
    """The conjugate, with a warning on the first call only (PyTorch's TORCH_WARN_ONCE: its
    first call may have happened in an earlier test, then it gives no warning here)."""
    from dyngrad.ops import shape
    from tests.autograd.common import both, warned

    shape._WARNED_ONCE.clear()
    both(lambda lib: [lib.tensor(2.0, requires_grad=True).adjoint(),
                      lib.tensor(1 + 1j).adjoint()])
    _, th = warned(torch.tensor(2.0).adjoint)
    shape._WARNED_ONCE.clear()
    _, first = warned(dyngrad.tensor(2.0).adjoint)
    _, second = warned(dyngrad.tensor(2.0).adjoint)
    x = dyngrad.tensor(2.0, requires_grad=True)
    assert first == [("UserWarning", "adjoint() is deprecated on 0-D tensors. Consider using "
                      "x.conj().")] and second == [] and x.adjoint() is x
    assert th in ([], first)


def test_adjoint_errors():
    check_error(lambda t: t.zeros(3).adjoint())


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor(1.0).unbind(-1),
    lambda lib: lib.tensor(1.0).unbind(3),
    lambda lib: lib.zeros(1, 3).unflatten(-1, (3, 2)),
    lambda lib: lib.zeros(2, 3, 4).unflatten(-1, (3, 2)),
])
def test_unbind_unflatten_errors(call):
    check_error(call)
