"""dyngrad/ops/misc.py against PyTorch: the *_copy variants, splits, region scatters, padding,
fill, fmod/ldexp/nextafter/frexp, cov/corrcoef, trapezoid, gradient, renorm, addbmm, addr, cdist
and dist: values, dtypes, grad_fn names, first and second order gradients (contiguous and
strided inputs), finite differences and PyTorch's error texts."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import (
    array,
    assert_same_outputs,
    check_error,
    check_op,
    fd_check,
    fd_gradgrad,
    with_lib,
)

X = array(3, 4)
A = array(2, 3, 4)
V = array(5)
SQ = array(4, 4)
NO_GRADGRAD = {"gradgrad": False}  # torch has no second derivative for cdist
MM = "use_mm_for_euclid_dist"


def fn(name, *args, **kwargs):
    """`lib.<name>(x, *args, **kwargs)` for both libraries."""
    return with_lib(lambda L, *xs: getattr(L, name)(*xs, *args, **kwargs))


OPS = {
    # *_copy: the view's values in fresh memory, the view's node renamed
    "expand_copy": (fn("expand_copy", (2, 3, 4)), X),
    "expand_copy_neg": (fn("expand_copy", (-1, 4)), array(3, 1)),
    "diagonal_copy": (fn("diagonal_copy", 1), X),
    "diagonal_copy_dims": (fn("diagonal_copy", -1, 0, 2), A),
    "alias_copy": (fn("alias_copy"), X),
    "as_strided_copy": (fn("as_strided_copy", (2, 2), (1, 2), 1), array(9)),
    "as_strided_copy_overlap": (fn("as_strided_copy", (3, 3), (1, 1)), V),
    "narrow_copy": (fn("narrow_copy", 1, 1, 2), X),
    "narrow_copy_method": (lambda x: x.narrow_copy(-1, 2, 2), A),
    "view_copy": (fn("view_copy", (4, 3)), X),
    "view_copy_infer": (fn("view_copy", (-1,)), A),
    "permute_copy": (fn("permute_copy", (2, 0, 1)), A),
    "unbind_copy": (fn("unbind_copy", 1), X),
    "unfold_copy": (fn("unfold_copy", 1, 2, 1), X),
    "squeeze_copy": (fn("squeeze_copy"), array(3, 1, 4, 1)),
    "squeeze_copy_dim": (fn("squeeze_copy", 1), array(3, 1, 4)),
    "squeeze_copy_dims": (fn("squeeze_copy", (1, 3)), array(3, 1, 4, 1)),
    "unsqueeze_copy": (fn("unsqueeze_copy", -1), X),
    "transpose_copy": (fn("transpose_copy", 0, 2), A),
    "t_copy": (fn("t_copy"), X),
    "t_copy_1d": (fn("t_copy"), V),
    "split_copy": (fn("split_copy", 2, 1), A),
    "split_with_sizes_copy": (fn("split_with_sizes_copy", [1, 2], 1), A),
    # splits
    "split_with_sizes": (fn("split_with_sizes", [2, 0, 1]), X),
    "split_with_sizes_method": (lambda x: x.split_with_sizes([3, 1], -1), X),
    "unsafe_split": (fn("unsafe_split", 2, 1), A),
    "unsafe_split_with_sizes": (fn("unsafe_split_with_sizes", [1, 3], 1), X),
    "unsafe_chunk": (lambda x: x.unsafe_chunk(3, -1), X),
    "hsplit": (fn("hsplit", 2), X),
    "hsplit_1d": (fn("hsplit", [1, 3]), V),
    "vsplit": (fn("vsplit", [1]), X),
    "dsplit": (lambda x: x.dsplit(2), A),
    # diagonals and region scatters
    "diag_embed": (fn("diag_embed"), X),
    "diag_embed_offset": (fn("diag_embed", -1, 0, 2), X),
    "diag_embed_1d": (lambda x: x.diag_embed(2), V),
    "diagflat": (fn("diagflat"), X),
    "diagflat_offset": (fn("diagflat", -2), V),
    "diagflat_0d": (fn("diagflat", 1), np.array(1.5)),
    "diagonal_scatter": (fn("diagonal_scatter", 1), X, array(3)),
    "diagonal_scatter_dims": (fn("diagonal_scatter", 0, 0, 2), A, array(3, 2)),
    "select_scatter": (fn("select_scatter", 1, -1), A, array(2, 4)),
    "slice_scatter": (fn("slice_scatter", 1, 1, None, 2), X, array(3, 2)),
    "slice_scatter_all": (fn("slice_scatter"), X, array(3, 4)),
    # padding, slicing, fill
    "constant_pad_nd": (fn("constant_pad_nd", (1, 2)), X),
    "constant_pad_nd_value": (fn("constant_pad_nd", (0, 1, 2, 0), 1.5), X),
    "constant_pad_nd_crop": (fn("constant_pad_nd", (-1, 1, 1, -2)), X),
    "sum_to_size": (lambda x: x.sum_to_size(1, 4), X),
    "sum_to_size_lead": (lambda x: x.sum_to_size((3, 1)), A),
    "sum_to_size_all": (lambda x: x.sum_to_size(()), X),
    "sum_to_size_same": (lambda x: x.sum_to_size(3, 4) * 2, X),
    "fill": (fn("fill", 2.5), X),
    "fill_tensor": (fn("fill"), X, np.array(0.5)),
    # elementwise math
    "fmod": (fn("fmod"), X, array(4, away_from_zero=0.3)),
    "fmod_scalar": (fn("fmod", -1.5), X),
    "fmod_method": (lambda x, y: x.fmod(y), A, array(3, 1, away_from_zero=0.3)),
    "ldexp": (fn("ldexp"), X, array(3, 4)),
    "ldexp_method": (lambda x, e: x.ldexp(e), X, np.array([1, -2, 0, 3])),
    "nextafter": (fn("nextafter"), X, array(4)),
    "frexp": (fn("frexp"), A),
    "frexp_method": (lambda x: x.frexp().mantissa * 2, X),
    # statistics
    "cov": (fn("cov"), X),
    "cov_1d": (fn("cov", correction=0), V),
    "cov_weights": (with_lib(lambda L, x, a: L.cov(x, fweights=L.tensor([1, 2, 0, 3]),
                                                   aweights=a)), X, array(4, low=0.1, high=1)),
    "cov_aweights": (with_lib(lambda L, x, a: L.cov(x, correction=2, aweights=a)), X,
                     array(4, low=0.1, high=1)),
    "corrcoef": (fn("corrcoef"), X),
    "corrcoef_method": (lambda x: x.corrcoef(), array(2, 5)),
    # integration and differentiation
    "trapezoid": (fn("trapezoid"), X),
    "trapezoid_x": (fn("trapezoid", dim=0), X, array(3, 1)),
    "trapezoid_x1d": (fn("trapezoid", dim=0), X, array(3)),
    "trapezoid_dx": (fn("trapezoid", dx=0.5, dim=-2), A),
    "trapz": (fn("trapz"), X, array(3, 4)),
    "trapz_dx": (fn("trapz", dx=2.0), X),
    "cumulative_trapezoid": (fn("cumulative_trapezoid"), X),
    "cumulative_trapezoid_x": (fn("cumulative_trapezoid", dim=2), A, array(4)),
    "cumulative_trapezoid_dx": (fn("cumulative_trapezoid", dx=3.0, dim=0), X),
    "gradient": (fn("gradient"), X),
    "gradient_spacing": (fn("gradient", spacing=2.0, edge_order=2), array(3, 3, 4)),
    "gradient_dims": (fn("gradient", spacing=[0.5, 2.0], dim=(0, -1)), A),
    "gradient_dim": (fn("gradient", dim=1, edge_order=2), X),
    "gradient_coordinates": (with_lib(lambda L, f: L.gradient(
        f, spacing=(L.tensor([0.0, 1.0, 1.5, 3.0]),), dim=1, edge_order=2)), X),
    "gradient_coordinates_1": (with_lib(lambda L, f: L.gradient(
        f, spacing=[L.tensor([0.0, 0.5, 2.0]), L.tensor([1.0, 2.0, 4.0, 5.0])])), X),
    # norms and products
    "renorm": (fn("renorm", 2, 0, 1.0), A),
    "renorm_p1": (lambda x: x.renorm(1, -1, 1.5), X),
    "renorm_p3": (fn("renorm", 3, 1, 0.8), A),
    "renorm_inf": (fn("renorm", float("inf"), 0, 0.9), X),
    "renorm_large": (fn("renorm", 2, 0, 100.0), X),
    "addbmm": (fn("addbmm"), X, array(2, 3, 5), array(2, 5, 4)),
    "addbmm_scaled": (fn("addbmm", beta=0.5, alpha=-2), array(4), array(2, 3, 5),
                      array(2, 5, 4)),
    "addbmm_method": (lambda i, a, b: i.addbmm(a, b, beta=0), X, array(2, 3, 5), array(2, 5, 4)),
    "addr": (fn("addr"), X, array(3), array(4)),
    "addr_scaled": (lambda i, a, b: i.addr(a, b, beta=2, alpha=0.5), array(1, 4), array(3),
                    array(4)),
    "cdist": (fn("cdist"), X, array(5, 4), NO_GRADGRAD),
    "cdist_p1": (fn("cdist", 1.0), A, array(2, 5, 4), NO_GRADGRAD),
    "cdist_p0": (fn("cdist", 0.0), X, array(5, 4), NO_GRADGRAD),
    "cdist_p_half": (fn("cdist", 0.5), X, array(5, 4), NO_GRADGRAD),
    "cdist_p15": (fn("cdist", 1.5), A, array(1, 5, 4), NO_GRADGRAD),
    "cdist_p3": (fn("cdist", 3.0), X, array(2, 1, 5, 4), NO_GRADGRAD),
    "cdist_inf": (fn("cdist", float("inf")), X, array(5, 4), NO_GRADGRAD),
    "cdist_mm": (fn("cdist", compute_mode=MM), X, array(5, 4), NO_GRADGRAD),
    "cdist_mm_batch": (fn("cdist", compute_mode=MM), A, array(5, 4), NO_GRADGRAD),
    "cdist_large": (fn("cdist"), array(27, 3), array(4, 3), NO_GRADGRAD),
    "cdist_no_mm": (fn("cdist", compute_mode="donot_use_mm_for_euclid_dist"), array(27, 3),
                    array(4, 3), NO_GRADGRAD),
    "dist": (fn("dist"), X, array(4)),
    "dist_p1": (lambda x, y: x.dist(y, 1), A, X),
    "dist_p3": (fn("dist", 3), X, array(3, 1)),
    "dist_inf": (fn("dist", float("inf")), X, X + 0.5),
    "softmax_backward_data": (with_lib(lambda L, g, y: L._softmax_backward_data(
        g, y.softmax(1), 1, L.float64)), X, array(3, 4)),
    "softmax_backward_data_0d": (with_lib(lambda L, g, y: L._softmax_backward_data(
        g, y, 0, y.dtype)), np.array(0.7), np.array(0.3)),
    "rdiv": (lambda x, y: x.__rdiv__(y), array(3, 4, away_from_zero=0.5), array(4)),
    "dist_p0": (fn("dist", 0), X, array(4), {"grad": False}),  # torch's backward fails
}


@pytest.mark.parametrize("name", OPS)
def test_op(name):
    f, *inputs = OPS[name]
    options = inputs.pop() if isinstance(inputs[-1], dict) else {}
    check_op(f, *inputs, **options)


def test_as_strided_scatter():
    # torch refuses non-contiguous inputs that require grad; dyngrad computes them alike
    check_op(fn("as_strided_scatter", (2, 2), (1, 2), 1), SQ, array(2, 2), noncontig=False)
    check_op(fn("as_strided_scatter", (), (), 2), V, np.array(1.5), noncontig=False)


def test_copies_own_their_memory():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4)
        outs = [lib.expand_copy(x[:1], (2, 4)), lib.t_copy(x), lib.diagonal_copy(x),
                lib.view_copy(x, (12,)), *lib.unbind_copy(x), lib.alias_copy(x)]
        for o in outs:
            o.mul_(0)  # in place on a copy leaves x alone
        return [x, x._version] + [o.is_contiguous() for o in outs]

    assert_same_outputs(prog(dyngrad), prog(torch), "copies")


def test_forward_mode():
    def prog(lib):
        fw = lib.autograd.forward_ad
        x = lib.arange(12.0).reshape(3, 4)
        with fw.dual_level():
            dx = fw.make_dual(x, lib.ones(3, 4) * lib.arange(4.0))
            outs = [lib.t_copy(dx), lib.unbind_copy(dx)[1], lib.view_copy(dx, (12,)),
                    lib.as_strided_copy(dx, (2, 2), (1, 2)), lib.unsafe_split(dx, 2)[1],
                    lib.narrow_copy(dx, 1, 1, 2), lib.diag_embed(dx), lib.renorm(dx, 2, 0, 1.0),
                    lib.masked.softmax(dx, 1, mask=dx > 3)]
            return [fw.unpack_dual(o).tangent for o in outs]

    assert_same_outputs(prog(dyngrad), prog(torch), "tangents")


def test_unsafe_split_shares_memory():
    def prog(lib):
        x = lib.arange(6.0)
        a, b = lib.unsafe_split(x, 3)
        b[0] = -1.0
        return [x, a._is_view(), b._is_view()]

    assert_same_outputs(prog(dyngrad), prog(torch), "unsafe_split")


def test_zero_and_inplace_forms():
    def prog(lib):
        x = lib.tensor([[1.5, -2.0], [3.0, 4.5]], requires_grad=True)
        y = x * 1
        z = lib.zero_(y * 1)
        a = (x * 1).fmod_(1.25)
        b = lib.ldexp_(x * 1, lib.tensor([1.0, 2.0]))
        c = (x * 1).renorm_(2, 0, 1.0)
        d = (x * 1).addr_(lib.tensor([1.0, 2.0]), x[0])
        e = (x * 1).addbmm_(x.unsqueeze(0), x.unsqueeze(0))
        f = (x * 1).nextafter_(lib.zeros(2, 2))
        g = lib.autograd.grad((a + b + c + d + e + f).sum(), x)
        return [z, a, b, c, d, e, f, g]

    assert_same_outputs(prog(dyngrad), prog(torch), "in place")


def test_integer_and_special_values():
    def prog(lib):
        i = lib.tensor([7, -7, 5])
        f = lib.tensor([0.0, float("inf"), float("nan"), -0.0, 6.5, -3e-310], dtype=lib.float64)
        return [lib.fmod(i, 3), lib.fmod(i, lib.tensor([2, 3, -4])), lib.fmod(f, 2.0),
                lib.ldexp(i, lib.tensor([1, 2, 3])), *lib.frexp(f), *lib.frexp(f.float()),
                lib.nextafter(f, lib.zeros(6, dtype=lib.float64)),
                lib.cov(lib.tensor([[1, 2, 4], [0, 3, 1]])), lib.trapezoid(lib.ones(3, 0)),
                lib.cumulative_trapezoid(lib.tensor([1, 2, 4])), lib.diag_embed(i),
                lib.fill(i, 2.7), lib.diagflat(lib.tensor([[True, False]])),
                lib.corrcoef(lib.tensor([1.0, 1.0])), lib.cdist(lib.ones(0, 3), lib.ones(2, 3))]

    assert_same_outputs(prog(dyngrad), prog(torch), "special values")


def test_return_types_and_structure():
    def prog(lib):
        x = lib.arange(12.0).reshape(3, 4)
        fr = lib.frexp(x)
        return [type(fr).__name__, fr.mantissa, fr.exponent, type(lib.unbind_copy(x)).__name__,
                type(lib.gradient(x)).__name__, type(lib.split_with_sizes_copy(x, [1, 2])).__name__,
                lib.gradient(x, spacing=2)[1], lib.hsplit(x, [1, 3])[1]]

    assert_same_outputs(prog(dyngrad), prog(torch), "structure")


def test_cov_warns_without_degrees_of_freedom():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = dyngrad.cov(dyngrad.tensor([[1.0], [2.0]]))
    with pytest.warns(UserWarning):
        expected = torch.cov(torch.tensor([[1.0], [2.0]]))
    assert_same_outputs(out, expected, "cov")


def test_finite_differences():
    fd_check(lambda x, y: dyngrad.fmod(x, y), X, array(4, away_from_zero=0.5))
    fd_check(lambda x: dyngrad.renorm(x, 1.5, 1, 1.0), X)
    fd_gradgrad(lambda x: dyngrad.renorm(x, 2, 0, 1.0), X)
    fd_check(lambda x, y: dyngrad.cdist(x, y, 1.5), X, array(5, 4))
    fd_check(lambda x, y: dyngrad.cdist(x, y, compute_mode=MM), X, array(2, 4))
    fd_gradgrad(lambda x, y: dyngrad.cdist(x, y, 3.0), X, array(2, 4))
    fd_check(lambda x, y: dyngrad.dist(x, y, 3), X, array(4))
    fd_check(lambda x: dyngrad.cov(x, aweights=dyngrad.tensor([0.5, 1.0, 2.0, 1.0])), X)
    fd_check(lambda x, t: dyngrad.gradient(x, spacing=(t,), dim=1, edge_order=2)[0], X,
             np.array([0.0, 1.0, 1.5, 3.0]))
    fd_check(lambda x, e: dyngrad.ldexp(x, e), X, array(4))
    fd_check(lambda x, s: dyngrad.diagonal_scatter(x, s, -1), X, array(2))


ERRORS = {
    "hsplit_0d": lambda L: L.hsplit(L.tensor(1.0), 2),
    "hsplit_divisor": lambda L: L.hsplit(L.ones(3, 5), 2),
    "hsplit_zero": lambda L: L.hsplit(L.ones(3, 6), 0),
    "vsplit_1d": lambda L: L.vsplit(L.ones(6), 2),
    "vsplit_divisor": lambda L: L.ones(5, 2).vsplit(2),
    "dsplit_2d": lambda L: L.dsplit(L.ones(5, 2), 2),
    "dsplit_divisor": lambda L: L.dsplit(L.ones(5, 2, 3), 2),
    "split_with_sizes_sum": lambda L: L.split_with_sizes(L.ones(3, 4), [1, 1]),
    "unsafe_split_zero": lambda L: L.unsafe_split(L.ones(3, 4), 0),
    "unsafe_chunk_zero": lambda L: L.unsafe_chunk(L.ones(3, 4), 0),
    "diag_embed_same": lambda L: L.diag_embed(L.ones(3, 4), 0, 1, 1),
    "diag_embed_range": lambda L: L.diag_embed(L.ones(3, 4), 0, 1, 3),
    "diagonal_scatter_size": lambda L: L.diagonal_scatter(L.ones(3, 4), L.ones(4)),
    "select_scatter_size": lambda L: L.select_scatter(L.ones(3, 4), L.ones(3), 0, 0),
    "select_scatter_index": lambda L: L.select_scatter(L.ones(3, 4), L.ones(4), 0, 5),
    "slice_scatter_size": lambda L: L.slice_scatter(L.ones(3, 4), L.ones(2, 4), 0, 0, 1),
    "slice_scatter_step": lambda L: L.slice_scatter(L.ones(3, 4), L.ones(2, 4), 0, 0, 2, 0),
    "as_strided_scatter_size": lambda L: L.as_strided_scatter(L.ones(3, 3), L.ones(3, 2),
                                                              (2, 2), (1, 1)),
    "pad_odd": lambda L: L.constant_pad_nd(L.ones(3, 4), (1, 1, 1)),
    "pad_long": lambda L: L.constant_pad_nd(L.ones(3, 4), (1, 1, 1, 1, 1, 1)),
    "pad_negative": lambda L: L.constant_pad_nd(L.ones(3, 4), (-3, -2)),
    "sum_to_size": lambda L: L.ones(3, 4).sum_to_size(5),
    "sum_to_size_long": lambda L: L.ones(3, 4).sum_to_size(1, 1, 4),
    "fill_1d": lambda L: L.fill(L.ones(3), L.ones(2)),
    "narrow_copy_length": lambda L: L.narrow_copy(L.ones(3, 4), 0, 2, 2),
    "narrow_copy_negative": lambda L: L.narrow_copy(L.ones(3, 4), 0, 0, -1),
    "narrow_copy_start": lambda L: L.narrow_copy(L.ones(3, 4), 0, -4, 1),
    "narrow_copy_0d": lambda L: L.narrow_copy(L.tensor(1.0), 0, 0, 1),
    "as_strided_copy_bounds": lambda L: L.as_strided_copy(L.ones(3, 3), (3, 3), (3, 3)),
    "as_strided_copy_offset": lambda L: L.as_strided_copy(L.ones(3, 3), (2, 2), (1, 1), -1),
    "as_strided_copy_stride": lambda L: L.as_strided_copy(L.ones(3, 3), (2, 2), (-1, 1)),
    "as_strided_copy_length": lambda L: L.as_strided_copy(L.ones(3, 3), (2, 2), (3,)),
    "fmod_bool": lambda L: L.fmod(L.ones(2, dtype=L.bool), L.ones(2, dtype=L.bool)),
    "fmod_int_zero": lambda L: L.fmod(L.tensor([5, -5]), 0),
    "nextafter_int": lambda L: L.nextafter(L.tensor([5, -5]), L.tensor([5, -5])),
    "frexp_int": lambda L: L.frexp(L.tensor([1, 2])),
    "cov_3d": lambda L: L.cov(L.ones(2, 2, 2)),
    "cov_fweights_float": lambda L: L.cov(L.ones(2, 3), fweights=L.ones(3)),
    "cov_aweights_negative": lambda L: L.cov(L.ones(2, 3), aweights=-L.ones(3)),
    "cov_weights_numel": lambda L: L.cov(L.ones(2, 3), fweights=L.ones(2, dtype=L.int64)),
    "cov_weights_zero": lambda L: L.cov(L.ones(2, 3), fweights=L.zeros(3, dtype=L.int64)),
    "corrcoef_3d": lambda L: L.corrcoef(L.ones(2, 2, 2)),
    "trapezoid_x": lambda L: L.trapezoid(L.ones(3), L.ones(4)),
    "trapezoid_bool": lambda L: L.trapezoid(L.ones(3, dtype=L.bool)),
    "renorm_maxnorm": lambda L: L.renorm(L.ones(3, 4), 2, 0, -1),
    "renorm_p": lambda L: L.renorm(L.ones(3, 4), -1, 0, 1),
    "renorm_1d": lambda L: L.renorm(L.ones(3), 2, 0, 1),
    "addbmm_batches": lambda L: L.addbmm(L.ones(3, 4), L.ones(2, 3, 5), L.ones(3, 5, 4)),
    "addbmm_sizes": lambda L: L.addbmm(L.ones(3, 4), L.ones(2, 3, 5), L.ones(2, 4, 4)),
    "addbmm_input": lambda L: L.addbmm(L.ones(2, 2), L.ones(2, 3, 5), L.ones(2, 5, 4)),
    "addr_2d": lambda L: L.addr(L.ones(3, 4), L.ones(3, 1), L.ones(4)),
    "addr_input": lambda L: L.addr(L.ones(3, 4), L.ones(3), L.ones(5)),
    "cdist_1d": lambda L: L.cdist(L.ones(3), L.ones(3, 3)),
    "cdist_columns": lambda L: L.cdist(L.ones(3, 2), L.ones(3, 3)),
    "cdist_p": lambda L: L.cdist(L.ones(3, 2), L.ones(3, 2), p=-1),
    "cdist_mode": lambda L: L.cdist(L.ones(3, 2), L.ones(3, 2), compute_mode="x"),
    "cdist_dtype": lambda L: L.cdist(L.ones(3, 2, dtype=L.float64), L.ones(3, 2)),
    "dist_shapes": lambda L: L.dist(L.ones(3, 4), L.ones(3, 5)),
    "gradient_edge_order": lambda L: L.gradient(L.ones(3, 4), edge_order=3),
    "gradient_small": lambda L: L.gradient(L.ones(1, 3)),
    "gradient_spacing": lambda L: L.gradient(L.ones(3, 4), spacing=[1.0, 2.0, 3.0]),
    "gradient_spacing_dim": lambda L: L.gradient(L.ones(3, 4), spacing=[1.0, 2.0], dim=0),
    "gradient_coordinates_2d": lambda L: L.gradient(L.ones(3, 4), spacing=(L.ones(3, 4),),
                                                    dim=0),
    "slice_step": lambda L: getattr(L, "slice", None) and L.slice(L.ones(3), 0, 0, 2, 0),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error(name):
    if name == "slice_step":  # aten's slice: torch.ops.aten.slice, dyngrad.slice
        check_error(lambda: dyngrad.slice(dyngrad.ones(3), 0, 0, 2, 0),
                    lambda: torch.ops.aten.slice(torch.ones(3), 0, 0, 2, 0))
        return
    check_error(ERRORS[name])


def test_chain_matmul():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_op("chain_matmul", array(2, 3), array(3, 4), array(4, 2))
        check_op("chain_matmul", array(2, 3))


# --- vander, fill_diagonal_ --------------------------------------------------------------------
@pytest.mark.parametrize("args", [(), (2,), (4, True), (1,), (0,), (None, True)])
def test_vander(args):
    """Values and grad_fn (PyTorch's composition: a cumulative product written in place, then
    a flip). PyTorch's own backward fails there (cumprod_ overwrites what it saved), while
    dyngrad keeps the overwritten value: its gradients are checked by finite differences."""
    check_op(with_lib(lambda lib, x: lib.vander(x, *args)), array(4), grad=False)
    fd_check(lambda x: dyngrad.vander(x, *args), array(4))
    if args == (1,):
        check_op(with_lib(lambda lib, x: lib.vander(x, *args)), array(4))


def test_vander_dtypes():
    from tests.autograd.common import both

    both(lambda t: [t.vander(t.tensor([1, 2, 3])), t.vander(t.tensor([True, False])),
                    t.vander(t.tensor([1, 2], dtype=t.int8)), t.vander(t.tensor([1j, 2])),
                    t.vander(t.tensor([1.0, 2.0], dtype=t.float64), 3, True)])


@pytest.mark.parametrize("fn", [lambda t: t.vander(t.ones(3), -1),
                                lambda t: t.vander(t.zeros(2, 2)),
                                lambda t: t.vander(t.tensor(2.0))])
def test_vander_errors(fn):
    check_error(fn)


FILL_DIAGONAL = {
    "square": lambda x: (x * 1).fill_diagonal_(2.5),
    "wide": lambda x: (x * 1)[:2].fill_diagonal_(-1),
    "tall_wrap": lambda x: (x * 1).repeat(3, 1).fill_diagonal_(5.0, wrap=True),
    "tall_no_wrap": lambda x: (x * 1).repeat(3, 1).fill_diagonal_(5.0),
    "transposed": lambda x: (x * 1)[:2].t().fill_diagonal_(1.0),
    "cube": lambda x: (x * 1).expand(3, 3, 3).contiguous().fill_diagonal_(0.5),
}


@pytest.mark.parametrize("name", FILL_DIAGONAL)
def test_fill_diagonal_(name):
    """Values, PyTorch's CopySlices history (a diagonal view filled in place), gradients."""
    check_op(FILL_DIAGONAL[name], array(3, 3))


def test_fill_diagonal_values():
    from tests.autograd.common import both

    both(lambda t: [t.zeros(7, 3).fill_diagonal_(5, wrap=True),
                    t.zeros(8, 3).fill_diagonal_(1, wrap=True),
                    t.zeros(4, 3).fill_diagonal_(1, wrap=True),
                    t.zeros(2, 2, dtype=t.long).fill_diagonal_(1.5),
                    t.zeros(3, 4).fill_diagonal_(True)])


@pytest.mark.parametrize("fn", [lambda t: t.zeros(3, 3, 4).fill_diagonal_(1),
                                lambda t: t.zeros(3).fill_diagonal_(1),
                                lambda t: t.zeros(2, 2, requires_grad=True).fill_diagonal_(1)])
def test_fill_diagonal_errors(fn):
    check_error(fn)


# --- select_copy, slice_copy, detach_copy, view_as_real_copy, view_as_complex_copy -------------
COPIES = {
    "select_copy": (with_lib(lambda lib, x: lib.select_copy(x, 1, -1)), X),
    "slice_copy": (with_lib(lambda lib, x: lib.slice_copy(x, 1, 1, 4, 2)), X),
    "slice_copy_defaults": (with_lib(lambda lib, x: lib.slice_copy(x)), X),
    "view_as_real_copy": (with_lib(lambda lib, x: lib.view_as_real_copy(x * (1 + 1j))), X),
}


@pytest.mark.parametrize("name", COPIES)
def test_more_copies(name):
    fn, *inputs = COPIES[name]
    check_op(fn, *inputs)


def test_detach_copy_and_view_as_complex_copy():
    from tests.autograd.common import both, outcome

    def prog(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        d = lib.detach_copy(x)
        c = lib.view_as_complex_copy(x.detach())
        return [d, d.requires_grad, outcome(lambda: d.sum().backward()), c, c._is_view(),
                outcome(lambda: lib.view_as_complex_copy(x)), lib.is_distributed(x)]

    both(prog)
