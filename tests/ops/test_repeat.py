"""repeat, tile, repeat_interleave, rot90 and Tensor.unfold against PyTorch: values, dtypes,
grad_fn names, first and second order gradients (contiguous and strided inputs), views and
PyTorch's error texts."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, assert_same_outputs, check_error, check_op, fd_check, with_lib

X = array(3, 4)
A = array(2, 3, 4)

OPS = {
    "repeat": (lambda x: x.repeat(2, 3), X),
    "repeat_new_dims": (lambda x: x.repeat(2, 1, 3), X),
    "repeat_list": (lambda x: x.repeat([1, 2, 1, 2]), A),
    "repeat_zero": (lambda x: x.repeat(0, 2), X),
    "repeat_ones": (lambda x: x.repeat(1, 1), X),
    "repeat_0d": (lambda x: x.repeat(3, 2), np.array(1.5)),
    "tile": (lambda x: x.tile(2), X),
    "tile_fn": (with_lib(lambda L, x: L.tile(x, (2, 1, 2))), X),
    "tile_empty": (with_lib(lambda L, x: L.tile(x, ())), X),
    "tile_varargs": (lambda x: x.tile(1, 2, 1), X),
    "tile_kw": (lambda x: x.tile(dims=[2]), X),
    "repeat_kw": (lambda x: x.repeat(repeats=(1, 2)), X),
    "repeat_interleave": (lambda x: x.repeat_interleave(2), X),
    "repeat_interleave_dim": (lambda x: x.repeat_interleave(3, dim=1), X),
    "repeat_interleave_neg_dim": (with_lib(lambda L, x: L.repeat_interleave(x, 2, -1)), A),
    "repeat_interleave_size": (lambda x: x.repeat_interleave(2, dim=0, output_size=6), X),
    "repeat_interleave_zero": (lambda x: x.repeat_interleave(0, dim=0), X),
    "repeat_interleave_tensor": (lambda x, r: x.repeat_interleave(r, dim=0), X,
                                 np.array([1, 0, 3])),
    "repeat_interleave_tensor_flat": (lambda x, r: x.repeat_interleave(r), array(4),
                                      np.array([2, 1, 1, 0])),
    "repeat_interleave_tensor_int32": (lambda x, r: x.repeat_interleave(r, 1), X,
                                       np.array([1, 2, 0, 1], dtype=np.int32)),
    "repeat_interleave_tensor_0d": (lambda x, r: x.repeat_interleave(r, dim=1), X, np.array(2)),
    "repeat_interleave_tensor_one": (lambda x, r: x.repeat_interleave(r), X, np.array([2])),
    "repeat_interleave_output_size": (
        lambda x, r: x.repeat_interleave(r, dim=0, output_size=5), X, np.array([1, 2, 2])),
    "rot90": (lambda x: x.rot90(), X),
    "rot90_fn": (with_lib(lambda L, x: L.rot90(x, 2, (1, 2))), A),
    "rot90_3": (lambda x: x.rot90(3, [0, 2]), A),
    "rot90_neg": (lambda x: x.rot90(-1, (-1, 0)), A),
    "rot90_0": (lambda x: x.rot90(0), X),
    "rot90_5": (lambda x: x.rot90(5, (1, 0)), X),
    "unfold": (lambda x: x.unfold(1, 2, 1), X),
    "unfold_step": (lambda x: x.unfold(1, 2, 2), X),
    "unfold_gap": (lambda x: x.unfold(0, 1, 2), X),
    "unfold_overlap": (lambda x: x.unfold(-1, 3, 1), A),
    "unfold_dim0": (lambda x: x.unfold(0, 2, 1), A),
    "unfold_size0": (lambda x: x.unfold(1, 0, 1), X),
    "unfold_twice": (lambda x: x.unfold(1, 2, 1).unfold(0, 2, 1), X),
    "unfold_1d": (lambda x: x.unfold(0, 3, 2), array(7)),
    "unfold_0d": (lambda x: x.unfold(0, 1, 1), np.array(2.5)),
    "unfold_0d_empty": (lambda x: x.unfold(0, 0, 1), np.array(2.5)),
}


@pytest.mark.parametrize("name", OPS)
def test_op(name):
    fn, *inputs = OPS[name]
    check_op(fn, *inputs)


def test_repeat_interleave_repeats_only():
    for r in (np.array([1, 0, 3]), np.array([2], dtype=np.int32), np.array([], dtype=np.int64)):
        check_op(with_lib(lambda L, r: L.repeat_interleave(r)), r)
    check_op(with_lib(lambda L, r: L.repeat_interleave(r, output_size=4)), np.array([1, 0, 3]))


def test_integer_inputs():
    ints = np.arange(12).reshape(3, 4)
    for fn in (lambda x: x.repeat(2, 1), lambda x: x.tile(3), lambda x: x.repeat_interleave(2),
               lambda x: x.rot90(1), lambda x: x.unfold(1, 2, 1), lambda x: x > 5):
        check_op(fn, ints)
    check_op(lambda b: b.repeat_interleave(2, 0), array(3, dtype=bool))


def test_finite_differences():
    fd_check(lambda x: x.unfold(1, 3, 1) ** 2, X)
    fd_check(lambda x: x.repeat(2, 1, 2).sin(), X)
    fd_check(lambda x: x.rot90(3, (0, 1)) * x.rot90(1) + x.rot90(2), array(3, 3))


def test_unfold_is_a_view():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4)
        u = x.unfold(1, 2, 2)
        info = [u._is_view(), u._base is x, u.stride(), u.is_contiguous(), u.storage_offset(),
                x.t().unfold(0, 3, 1).stride()]
        u[0, 1, 0] = -1.0  # writes through to x
        y = lib.arange(6.0, requires_grad=True) * 1
        w = y.unfold(0, 2, 2)
        w.mul_(10)  # in place on a view of a non-leaf: y's history becomes CopySlices
        y.sum().backward()
        return info + [x, x._version, y, type(y.grad_fn).__name__, type(w.grad_fn).__name__]

    assert_same_outputs(prog(dyngrad), prog(torch), "unfold view")


def test_layouts():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4)
        return [x.rot90(k).stride() for k in range(4)] + [x.repeat(2, 1).stride(),
                                                          x.repeat_interleave(2, 1).stride()]

    assert_same_outputs(prog(dyngrad), prog(torch), "strides")


def test_graph_structure():
    def prog(lib):
        x = lib.ones(3, 4, requires_grad=True)
        chain = []
        fn = x.repeat_interleave(2).grad_fn
        while fn is not None and fn.next_functions:
            chain.append(type(fn).__name__)
            fn = fn.next_functions[0][0]
        return chain + [type(x.tile(2).grad_fn).__name__]

    assert_same_outputs(prog(dyngrad), prog(torch), "graph")


ERRORS = {
    "repeat_few": lambda L: L.ones(3, 4).repeat(2),
    "repeat_negative": lambda L: L.ones(3, 4).repeat(2, -1),
    "tile_negative": lambda L: L.ones(3, 4).tile((-1,)),
    "repeat_interleave_negative": lambda L: L.ones(3).repeat_interleave(-1),
    "repeat_interleave_tensor_negative": lambda L: L.ones(3).repeat_interleave(
        L.tensor([1, -1, 2])),
    "repeat_interleave_size": lambda L: L.ones(3, 4).repeat_interleave(L.tensor([1, 2]), dim=0),
    "repeat_interleave_2d": lambda L: L.ones(3).repeat_interleave(L.tensor([[1, 2, 1]])),
    "repeat_interleave_float": lambda L: L.ones(3).repeat_interleave(L.tensor([1.0, 2.0, 1.0])),
    "repeat_interleave_output_size": lambda L: L.ones(3).repeat_interleave(2, output_size=5),
    "repeat_interleave_tensor_output_size": lambda L: L.ones(3).repeat_interleave(
        L.tensor([1, 1, 1]), output_size=4),
    "repeat_interleave_dim": lambda L: L.ones(3).repeat_interleave(2, dim=1),
    "repeat_no_sizes": lambda L: L.ones(3).repeat(),
    "tile_int": lambda L: L.tile(L.ones(3), 2),
    "repeat_interleave_dim_first": lambda L: L.ones(3, 4).repeat_interleave(-1, dim=5),
    "repeat_interleave_tensor_neg_dim": lambda L: L.ones(3, 4).repeat_interleave(
        L.tensor([1, 2]), dim=-1),
    "repeat_interleave_tensor_0d": lambda L: L.tensor(1.0).repeat_interleave(L.tensor([2]),
                                                                             dim=-1),
    "repeat_interleave_int_0d": lambda L: L.tensor(1.0).repeat_interleave(2, dim=0),
    "unfold_order": lambda L: L.ones(3, 4).unfold(1, -1, 0),
    "rot90_one_dim": lambda L: L.ones(3, 4).rot90(1, [0]),
    "rot90_same": lambda L: L.ones(3, 4).rot90(1, [1, 1]),
    "rot90_wrapped_same": lambda L: L.ones(3, 4).rot90(1, [1, -1]),
    "rot90_range": lambda L: L.ones(3, 4).rot90(1, [0, 2]),
    "rot90_1d": lambda L: L.ones(3).rot90(),
    "unfold_size": lambda L: L.ones(3, 4).unfold(1, 5, 1),
    "unfold_step": lambda L: L.ones(3, 4).unfold(1, 2, 0),
    "unfold_negative_size": lambda L: L.ones(3, 4).unfold(1, -1, 1),
    "unfold_dim": lambda L: L.ones(3, 4).unfold(2, 2, 1),
    "unfold_0d": lambda L: L.tensor(1.0).unfold(0, 2, 1),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error(name):
    check_error(ERRORS[name])
