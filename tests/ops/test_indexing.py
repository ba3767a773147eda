"""Indexing against PyTorch: x[index] and x[index] = v for every kind of index (ints, slices with
steps, None, Ellipsis, boolean masks, integer lists and tensors, mixed basic and advanced),
with values, grad_fn names, first and second order gradients, and PyTorch's errors."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, assert_same_outputs, check_error, check_op, with_lib

X = array(4, 5, 6)
MASK_4 = np.array([True, False, True, True])
MASK_45 = array(4, 5, dtype=np.bool_)
MASK_456 = array(4, 5, 6, dtype=np.bool_)
MASK_5 = np.array([False, True, True, False, True])

BASIC = {
    "int": 1, "neg_int": -1, "two_ints": (1, 2), "three_neg": (-1, -2, -3),
    "slice": slice(1, 3), "step": slice(None, None, 2), "neg_start": slice(-3, None),
    "start_step": slice(1, None, 3), "empty": slice(3, 1), "past_end": slice(None, 100),
    "inner_slice": (slice(None), slice(1, 4, 2)), "last_dim": (Ellipsis, 2),
    "none": None, "none_int": (None, 1), "int_ellipsis_none": (1, Ellipsis, None),
    "ellipsis": Ellipsis, "ellipsis_middle": (0, Ellipsis, 1), "full": slice(None),
    "two_ellipses": (Ellipsis, Ellipsis), "ellipses_around": (Ellipsis, 0, Ellipsis),
    "full_in_tuple": (slice(None), slice(0, 5)), "full_step_1": slice(0, None, 1),
    "int_slice_int": (1, slice(0, 5, 2), -1), "none_between": (slice(1, 3), None, 2),
}
ADVANCED = {
    "list": [0, 2],
    "nested_list": [[0, 1], [2, 3]],  # a non-tuple sequence: x[[0, 1], [2, 3]] (deprecated)
    "neg_list": [-1, 0],
    "repeated": [1, 1, 3, 1],
    "two_lists": ([0, 2], [1, 4]),
    "broadcast_lists": ([[0], [3]], [1, 2]),
    "list_after_slice": (slice(None), [0, 3]),
    "lists_split_by_slice": ([0, 1], slice(None), [2, 3]),
    "adjacent_lists": (slice(None), [0, 1], [2, 3]),
    "int_and_list": ([0, 1], 2),
    "int_slice_list": (0, slice(None), [0, 1]),  # torch differs from numpy here
    "list_ellipsis": ([3, 0], Ellipsis),
    "list_none": (None, [1, 2]),
    "true": True,
    "false": False,
    "true_and_int": (True, 1),
    "empty_list": ([],),
}
MASKS = {
    "mask_1d": lambda lib: lib.tensor(MASK_4),
    "mask_2d": lambda lib: lib.tensor(MASK_45),
    "mask_3d": lambda lib: lib.tensor(MASK_456),
    "mask_after_slice": lambda lib: (slice(None), lib.tensor(MASK_5)),
    "mask_and_list": lambda lib: (lib.tensor(MASK_4), slice(None), [1, 2, 1]),
    "int_tensor": lambda lib: lib.tensor([3, 0, 3]),
    "int_tensor_2d": lambda lib: lib.tensor([[1], [2]]),
    "scalar_tensor": lambda lib: lib.tensor(2),
    "int32_tensor": lambda lib: lib.tensor([0, 1], dtype=lib.int32),
    "tensor_pair": lambda lib: (lib.tensor([0, 1]), lib.tensor([4, 2])),
    "uint8_mask": lambda lib: lib.tensor([1, 0, 1, 1], dtype=lib.uint8),
}


@pytest.mark.parametrize("name", BASIC)
def test_getitem_basic(name):
    check_op(lambda x: x[BASIC[name]], X)


@pytest.mark.parametrize("name", ADVANCED)
def test_getitem_advanced(name):
    check_op(lambda x: x[ADVANCED[name]], X)


@pytest.mark.parametrize("name", MASKS)
@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")
def test_getitem_tensor_indices(name):
    check_op(with_lib(lambda lib, x: x[MASKS[name](lib)]), X)


def test_getitem_views_and_copies():
    def prog(lib):
        x = lib.arange(24.0).reshape(4, 6)
        out = []
        for index in (1, slice(1, 3), (slice(None), 2), None, Ellipsis, [0, 1], (1, [2, 3])):
            y = x[index]
            out += [y._is_view(), y._base is x, y.is_contiguous()]
        return out

    assert_same_outputs(prog(dyngrad), prog(torch), "views")


def test_getitem_0d_and_1d():
    check_op(lambda x: x[()], np.array(2.5))
    check_op(lambda x: x[None], np.array(2.5))
    check_op(lambda x: x[...], np.array(2.5))
    check_op(lambda x: x[True], np.array(2.5))
    check_op(lambda x: x[0], array(3))
    check_op(lambda x: x[-1:], array(3))
    check_op(lambda x: x[::2][1], array(5))


def test_chained_indexing_gradients():
    check_op(lambda x: x[1:][:, [0, 2]][..., ::2][0], X)
    check_op(lambda x: x[[0, 0, 1]] * x[1] + x[:3, ..., 0:1], X)


# --- errors --------------------------------------------------------------------------------------
ERRORS = {
    "oob_int": 4, "oob_neg": -5, "oob_dim1": (slice(None), 7), "oob_list": [0, 5],
    "oob_neg_list": [-6], "too_many": (0, 0, 0, 0), "float": 1.5, "str": "a",
    "str_in_list": [1, "a"], "object": object(), "zero_step": slice(None, None, 0),
    "negative_step": (0, slice(None, None, -1)), "mask_shape": np.array([True, False]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_getitem_errors(name):
    index = ERRORS[name]
    if isinstance(index, np.ndarray):
        check_error(lambda lib: lib.ones(4, 5)[lib.tensor(index)])
        return
    match = "type" if name == "float" else "exact"
    check_error(lambda lib: lib.ones(4, 5, 6)[index], match=match)


@pytest.mark.parametrize("index", [slice(None, 1), 0, np.int64(0), (0,), (slice(None),),
                                   (None, slice(0, 1))], ids=str)
def test_indexing_a_0_dim_tensor_errors(index):
    """A lone int or slice gets PyTorch's own messages; anything else, "too many indices"."""
    check_error(lambda lib: lib.tensor(2.0)[index])

    def assign(lib):
        lib.tensor(2.0)[index] = 1.0

    check_error(assign)


@pytest.mark.parametrize("index", [
    (slice(None), slice(None), [5]), (slice(None), [5]), ([0], slice(None), [7]),
    (slice(None), [1], [7]), (Ellipsis, [7]), (None, Ellipsis, [7]), (Ellipsis, None, [7]),
    (None, [5]), ([0], 0, [7]), (slice(None), None, [1], [7]), ([[0]], [[9]]),
], ids=str)
def test_out_of_range_index_names_its_place_among_the_advanced_ones(index):
    """PyTorch's message numbers an out-of-range index tensor among the advanced indices (its
    kernel indexes with them first), not by the dim it indexes."""
    check_error(lambda lib: lib.zeros(2, 3, 4)[index])


@pytest.mark.parametrize("index", ["mask", "mask and list", "0-dim", "write"])
def test_uint8_index_deprecation_warning(index):
    """PyTorch warns that a uint8 (byte) mask is deprecated; not for a 0-dim one."""
    def warned(lib):
        x = lib.arange(15.0).reshape(5, 3)
        mask = lib.tensor([1, 0, 1, 0, 1], dtype=lib.uint8)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if index == "mask":
                x[mask]
            elif index == "mask and list":
                x[[0], mask[:3]]
            elif index == "0-dim":
                x[lib.tensor(1, dtype=lib.uint8)]
            else:
                x[mask] = lib.ones(3)
        # (torch appends where in its C++ sources the warning was raised)
        return [(w.category, str(w.message).split(" (Triggered internally")[0]) for w in caught]

    assert warned(dyngrad) == warned(torch)


@pytest.mark.parametrize("value", ["number", "0-dim"])
def test_uint8_mask_cannot_fill(value):
    """A number written through a byte mask goes PyTorch's masked_fill_ way, which refuses it."""
    def write(lib):
        x = lib.zeros(5, 3)
        mask = lib.tensor([1, 0, 1, 0, 1], dtype=lib.uint8)
        x[mask] = 2.0 if value == "number" else lib.tensor(2.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_error(write)


def test_zero_dim_uint8_index_is_a_mask():
    """A 0-dim uint8 tensor indexes as a (legacy byte) mask, not as an integer."""
    def prog(lib):
        x = lib.arange(15.0).reshape(5, 3)
        y = x.clone()
        y[lib.tensor(0, dtype=lib.uint8)] = 7.0
        return [x[lib.tensor(1, dtype=lib.uint8)], x[lib.tensor(0, dtype=lib.uint8)], y]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: uint8 indexing is deprecated
        assert_same_outputs(prog(dyngrad), prog(torch), "0-dim uint8 index")


def test_getitem_tensor_index_errors():
    check_error(lambda lib: lib.ones(4)[lib.tensor([1.0])])
    check_error(lambda lib: lib.ones(4)[lib.tensor([[True]])])
    check_error(lambda lib: lib.ones(4)[lib.tensor([True, False])])
    check_error(lambda lib: lib.ones(4, 5)[lib.tensor([True, False, True, True]), [0, 1]],
                match="type")


def test_index_error_is_index_error():
    """`for row in x` relies on IndexError / StopIteration; list(x) must stop at the end."""
    def prog(lib):
        x = lib.arange(6.0).reshape(3, 2)
        return [list(x), [r.sum() for r in x]]

    assert_same_outputs(prog(dyngrad), prog(torch), "iteration")


# --- setitem -------------------------------------------------------------------------------------
SET_INDICES = {
    "int": 1, "neg_int": -2, "slice": slice(1, 3), "step": (slice(None), slice(None, None, 2)),
    "none": None, "ellipsis_int": (Ellipsis, 0), "full": slice(None), "int_pair": (0, 1),
    "list": [0, 2], "lists": ([0, 2], [1, 4]), "int_slice_list": (0, slice(None), [0, 1]),
    "true": True,
}


def _set(index, value_shape=None):
    def fn(x, v=None):
        y = x * 1
        y[index] = 2.5 if v is None else v
        return y

    return fn


@pytest.mark.parametrize("name", SET_INDICES)
def test_setitem_scalar(name):
    check_op(_set(SET_INDICES[name]), X)


@pytest.mark.parametrize("name", SET_INDICES)
def test_setitem_tensor_value(name):
    index = SET_INDICES[name]
    shape = torch.zeros(4, 5, 6)[index].shape
    check_op(_set(index), X, array(*shape))
    check_op(_set(index), X, array(1, *shape))  # leading 1-dims of the value are dropped


@pytest.mark.parametrize("name", ["int", "slice", "step", "list", "lists", "full"])
def test_setitem_broadcast_value(name):
    index = SET_INDICES[name]
    shape = torch.zeros(4, 5, 6)[index].shape
    check_op(_set(index), X, array(*shape[-1:]))
    check_op(_set(index), X, np.array(1.5))


@pytest.mark.parametrize("name", ["mask_1d", "mask_2d", "mask_3d", "int_tensor"])
def test_setitem_tensor_indices(name):
    def fn(lib, x, v):
        y = x * 1
        y[MASKS[name](lib)] = v
        return y

    check_op(with_lib(fn), X, np.array(0.5))

    def fn_full(lib, x):
        y = x * 1
        index = MASKS[name](lib)
        y[index] = y[index] * 3
        return y

    check_op(with_lib(fn_full), X)


def test_setitem_augmented():
    def fn(x, v):
        y = x * 1
        y[1:3] += v
        y[0, [1, 2]] *= 2
        y[..., -1] -= y[..., 0]
        return y

    check_op(fn, X, array(6))


def test_setitem_values_and_dtypes():
    def prog(lib):
        x = lib.zeros(3, 4)
        x[0] = 1
        x[1, 1:3] = lib.tensor([2.0, 3.0])
        x[2] = lib.tensor([1, 2, 3, 4])  # an int value is cast to float
        x[:, 0] = True
        x[[0, 2], [3, 3]] = lib.tensor([7.5, 8.5])
        x[lib.tensor([True, False, True]), 1] = 9
        x[lib.tensor([True, False, True])] = lib.tensor(0.5, dtype=lib.float64)  # masked_fill_
        x[1:, 2:] = lib.tensor([[6.0], [7.0]], dtype=lib.float64)
        i = lib.zeros(4, dtype=lib.int64)
        i[1:3] = 2.7  # truncated, as in PyTorch
        i[0] = lib.tensor(5)
        i[3] = lib.tensor(1.5)  # copy_ casts anything
        i[[1, 2]] = 3.9
        b = lib.zeros(3, dtype=lib.bool)
        b[1] = 1
        return [x, i, b, x._version]

    assert_same_outputs(prog(dyngrad), prog(torch), "setitem")


def test_setitem_graph():
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = lib.tensor(5.0, requires_grad=True)
        y = x * 2
        y[1] = v * 3
        out = [y, type(y.grad_fn).__name__, y.grad_fn.name(),
               [type(f).__name__ if f is not None else None for f, _ in y.grad_fn.next_functions]]
        y.sum().backward()
        return out + [x.grad, v.grad]

    assert_same_outputs(prog(dyngrad), prog(torch), "setitem graph")


def _y(lib):
    return lib.ones(3, requires_grad=True) * 1


@pytest.mark.parametrize("make", [lambda lib: lib.ones(3), _y], ids=["plain", "graph"])
def test_setitem_errors(make):
    check_error(lambda lib: make(lib).__setitem__(3, 1.0))
    check_error(lambda lib: make(lib).__setitem__(slice(None), lib.ones(2)))
    check_error(lambda lib: make(lib).__setitem__(slice(1, None), lib.ones(3)))
    check_error(lambda lib: make(lib).__setitem__(0, lib.ones(2, 3)))
    check_error(lambda lib: make(lib).__setitem__([0, 1], lib.ones(3)))
    check_error(lambda lib: make(lib).__setitem__([0, 1], lib.tensor([1.0, 2.0],
                                                                     dtype=lib.float64)))
    check_error(lambda lib: make(lib).__setitem__([0, 1], lib.tensor([1, 2])))
    check_error(lambda lib: make(lib).__setitem__([0, 1], lib.tensor(1.0, dtype=lib.float64)))
    check_error(lambda lib: make(lib).__setitem__(lib.tensor([True, False, True]),
                                                  lib.tensor([1.0, 2.0], dtype=lib.float64)))


# --- unravel_index -----------------------------------------------------------------------------
UNRAVEL = {
    "vector": lambda t: t.unravel_index(t.tensor([4, 1]), (2, 3)),
    "scalar": lambda t: t.unravel_index(t.tensor(4), (2, 3)),
    "int_shape": lambda t: t.unravel_index(t.tensor([4]), 6),
    "wraps_high": lambda t: t.unravel_index(t.tensor([6, 13]), (2, 3)),
    "wraps_negative": lambda t: t.unravel_index(t.tensor([-1, -7]), (2, 3)),
    "empty_shape": lambda t: t.unravel_index(t.tensor([1]), ()),
    "size_2d_indices": lambda t: t.unravel_index(t.tensor([[1, 5]]), t.Size([2, 3])),
    "int32": lambda t: t.unravel_index(t.tensor([1], dtype=t.int32), (2, 3)),
    "three_dims": lambda t: t.unravel_index(t.arange(24), (2, 3, 4)),
}


@pytest.mark.parametrize("name", UNRAVEL)
def test_unravel_index(name):
    assert_same_outputs(UNRAVEL[name](dyngrad), UNRAVEL[name](torch), name)


UNRAVEL_ERRORS = {
    "float": lambda t: t.unravel_index(t.tensor([1.0]), (2, 3)),
    "bool": lambda t: t.unravel_index(t.tensor([True]), (2, 3)),
    "negative_shape": lambda t: t.unravel_index(t.tensor([1]), (2, -3)),
    "not_a_tensor": lambda t: t.unravel_index(4, (2, 3)),
}


@pytest.mark.parametrize("name", UNRAVEL_ERRORS)
def test_unravel_index_errors(name):
    check_error(UNRAVEL_ERRORS[name])
