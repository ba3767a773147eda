"""Products of tensors: matmul in all of PyTorch's cases, mm, bmm, mv, dot, addmm and friends,
einsum and what is built on it (tensordot, inner, kron), plus trace, tril/triu, diag and cross.

Every matrix product runs as one NumPy `matmul` forward and one per input that needs a gradient
backward (`grad @ other^H`, `input^H @ grad`). PyTorch's matmul reshapes, folds or batches its
operands depending on their shapes, strides and `requires_grad`, so its output's `grad_fn` varies
(`MmBackward0`, `UnsafeViewBackward0`, `CloneBackward0`, ...): dyngrad picks the same name for the
one node it records.
"""

from __future__ import annotations

import functools
import math
import string
import warnings

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _c_name, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_tensor, method, record, result_dtype
from dyngrad.ops.arithmetic import _conj, _out
from dyngrad.ops.inplace import apply_inplace

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "addmm", "addmv",
    "baddbmm", "einsum", "tensordot", "trace", "tril", "triu", "diag", "kron", "cross",
]


def _supports_out(fn):
    """Accept `out=`: the result is written into that tensor, with PyTorch's rules."""

    @functools.wraps(fn)
    def run(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else _out(result, out, fn.__name__)

    return run


# --- the matrix-product node -------------------------------------------------------------------
def _matmul_grads(grad, a, b, need_a: bool, need_b: bool):
    """Gradients of a @ b (NumPy matmul semantics; 1-D operands act as a row / a column).
    Broadcast batch dims are left for the engine to sum away."""
    va, vb = a.ndim == 1, b.ndim == 1
    if va and vb:
        return (grad * _conj(b) if need_a else None), (grad * _conj(a) if need_b else None)
    if va:
        a, grad = P.unsqueeze(a, 0), P.unsqueeze(grad, -2)
    if vb:
        b, grad = P.unsqueeze(b, -1), P.unsqueeze(grad, -1)
    ga = grad @ _conj(P.transpose(b, -1, -2)) if need_a else None
    if not need_b:
        gb = None
    elif vb:  # (..., 1, m): the engine sums it down to b's (m,)
        gb = P.transpose(grad, -1, -2) @ _conj(a)
    else:
        gb = _conj(P.transpose(a, -1, -2)) @ grad
    return ga, gb


class _Product(Node):
    """input @ other, whatever name PyTorch's matmul gives the output's node."""

    _saved_names = ("self", "mat2")

    def backward(self, grad):
        a, b = self.saved_tensors
        return _matmul_grads(grad, a, b, self._next[0][0] is not None, self._next[1][0] is not None)


def _named(name: str, base=_Product, saved=None):
    attrs = {} if saved is None else {"_saved_names": saved}
    return type(name, (base,), attrs)


MmBackward0 = _named("MmBackward0")
BmmBackward0 = _named("BmmBackward0")
MvBackward0 = _named("MvBackward0", saved=("self", "vec"))
DotBackward0 = _named("DotBackward0", saved=("self", "tensor"))
# matmul's other endings (PyTorch reaches them through views, copies and transposes of an mm)
SqueezeBackward4 = _named("SqueezeBackward4")
UnsafeViewBackward0 = _named("UnsafeViewBackward0")
CloneBackward0 = _named("CloneBackward0")
TransposeBackward0 = _named("TransposeBackward0")


def _product(cls, a: Tensor, b: Tensor) -> Tensor:
    return record(cls, xp.matmul(a._data, b._data), (a, b), save=(a, b))


def _short(t: Tensor) -> str:
    return t.dtype._short


def _no_bool(kernel: str, *tensors) -> None:
    for t in tensors:  # (a loop: a generator costs more than the check, once per Linear)
        if t._data.dtype.kind == "b":
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


# --- shape and dtype checks, with PyTorch's messages -------------------------------------------
def _check_mm(s1: tuple, s2: tuple, d1, d2) -> None:
    if s1[1] != s2[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({s1[0]}x{s1[1]} and {s2[0]}x{s2[1]})"
        )
    if d1 != d2:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_c_name(_dtype.FROM_NP[d1])} != {_c_name(_dtype.FROM_NP[d2])}"
        )


def _check_mv(mat: tuple, vec: tuple, dmat, dvec, dinput=None, input_shape=None) -> None:
    """mv's (and addmv's) checks; mv's `input` is its output, which has mat's rows."""
    size = mat[0] if input_shape is None else math.prod(input_shape)
    if mat[1] != vec[0] or (size != mat[0] and size != 1):
        shown = mat[0] if input_shape is None else (input_shape or (1,))[0]
        raise RuntimeError(
            f"size mismatch, got input ({shown}), mat ({mat[0]}x{mat[1]}), vec ({vec[0]})"
        )
    dinput = dvec if dinput is None else dinput
    if not dinput == dmat == dvec:
        names = [_dtype.FROM_NP[d]._short for d in (dinput, dmat, dvec)]
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {names[0]}, {names[1]}, and "
            f"{names[2]}"
        )


def _check_bmm(s1: tuple, s2: tuple, d1, d2) -> None:
    if s2[:2] != (s1[0], s1[2]):
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{s1[0]}, {s1[2]}] but got: [{s2[0]}, {s2[1]}]."
        )
    _check_same_scalar(d1, d2)


def _check_same_scalar(expected, found) -> None:
    if expected != found:
        raise RuntimeError(
            f"expected scalar type {_dtype.FROM_NP[expected]._short} but found "
            f"{_dtype.FROM_NP[found]._short}"
        )


def _broadcast_batch(s1: tuple, s2: tuple) -> tuple:
    """Broadcast shape of two batch shapes, with PyTorch's error (checked from the last dim)."""
    n = max(len(s1), len(s2))
    out = [1] * n
    for i in range(n - 1, -1, -1):
        k = n - 1 - i
        a = s1[len(s1) - 1 - k] if k < len(s1) else 1
        b = s2[len(s2) - 1 - k] if k < len(s2) else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                f"non-singleton dimension {i}"
            )
        out[i] = b if a == 1 else a
    return tuple(out)


# --- matmul ------------------------------------------------------------------------------------
@method("matmul", "__matmul__")
@_supports_out
def matmul(input, other) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: vectors, matrices and broadcast batches."""
    check_tensor(input, "matmul")
    check_tensor(other, "matmul", "other", 2)
    d1, d2 = input._data.ndim, other._data.ndim
    if d1 == 0 or d2 == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D"
        )
    if d1 == 1 and d2 == 1:
        return dot(input, other)
    if d1 == 2 and d2 == 1:
        return mv(input, other)
    if d1 == 2 and d2 == 2:
        return mm(input, other)
    if d1 == 1 and d2 == 2:
        _no_bool("addmm_impl_cpu_", input, other)
        _check_mm((1,) + input._data.shape, other._data.shape, input._data.dtype,
                  other._data.dtype)
        return _product(SqueezeBackward4, input, other)
    return _batched_matmul(input, other)


Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


def _should_fold(a: Tensor, b: Tensor) -> bool:
    """PyTorch folds a batch into one mm/mv when that needs no copy or helps the backward."""
    d1, d2 = a._data.ndim, b._data.ndim
    larger = d1 >= d2
    if not (max(d1, d2) >= 3 and min(d1, d2) in (1, 2)):
        return False
    if (b if larger else a)._requires_grad:
        return True
    if d1 == 2:
        return False
    t1 = a._data if larger else xp.swapaxes(b._data, -1, -2)
    if t1.size == 0:
        return True
    strides = [s // t1.itemsize for s in t1.strides]
    return all(strides[i] == strides[i + 1] * t1.shape[i + 1] for i in range(t1.ndim - 2))


def _batched_matmul(a: Tensor, b: Tensor) -> Tensor:
    sa, sb = a._data.shape, b._data.shape
    d1, d2 = len(sa), len(sb)
    if _should_fold(a, b):
        transpose = d2 > d1
        s1 = sb[:-2] + (sb[-1], sb[-2]) if transpose else sa
        s2 = (sa[::-1] if d1 == 2 else sa) if transpose else sb
        t1, t2 = (b, a) if transpose else (a, b)
        folded = (math.prod(s1[:-1]), s1[-1])
        if len(s2) == 2:
            _no_bool("addmm_impl_cpu_", a, b)
            _check_mm(folded, s2, t1._data.dtype, t2._data.dtype)
            cls = UnsafeViewBackward0
            if transpose:  # PyTorch transposes the result back and copies it unless contiguous
                rows, cols = sa[0], sb[-1]
                empty = a._data.size == 0 or b._data.size == 0
                cls = TransposeBackward0 if rows == 1 or cols == 1 or empty else CloneBackward0
        else:
            _no_bool("addmv_impl_cpu", a, b)
            _check_mv(folded, s2, t1._data.dtype, t2._data.dtype)
            cls = UnsafeViewBackward0
        return _product(cls, a, b)
    if d1 == 3 and d2 == 3 and sa[0] != sb[0]:  # PyTorch drops a batch of one that needs grad
        if sa[0] == 1 and a._requires_grad:
            return matmul(a.squeeze(0), b)
        if sb[0] == 1 and b._requires_grad:
            return matmul(a, b.squeeze(0))
    batch = _broadcast_batch(sa[:-2] if d1 > 1 else (), sb[:-2] if d2 > 1 else ())
    n_batch = math.prod(batch)
    _no_bool("bmm", a, b)
    m2 = sb[-2] if d2 > 1 else sb[0]
    _check_bmm((n_batch, sa[-2] if d1 > 1 else 1, sa[-1]), (n_batch, m2, 1), a._data.dtype,
               b._data.dtype)
    return _product(UnsafeViewBackward0, a, b)


def _matrices_product(cls, input, mat2, fname: str, ndim: int, rank_errors: tuple, kernel: str,
                      check) -> Tensor:
    """mm / bmm: PyTorch's type, rank (`rank_errors` for input, mat2), dtype and shape checks in
    its order, then the product."""
    check_tensor(input, fname)
    check_tensor(mat2, fname, "mat2", 2)
    for t, error in zip((input, mat2), rank_errors, strict=True):
        if t._data.ndim != ndim:
            raise RuntimeError(error)
    _no_bool(kernel, input, mat2)
    check(input._data.shape, mat2._data.shape, input._data.dtype, mat2._data.dtype)
    return _product(cls, input, mat2)


@method("mm")
@_supports_out
def mm(input, mat2) -> Tensor:
    """Matrix @ matrix."""
    return _matrices_product(MmBackward0, input, mat2, "mm", 2,
                             ("self must be a matrix", "mat2 must be a matrix"),
                             "addmm_impl_cpu_", _check_mm)


@method("bmm")
@_supports_out
def bmm(input, mat2) -> Tensor:
    """Batch of matrix products: (b, n, m) @ (b, m, p)."""
    return _matrices_product(BmmBackward0, input, mat2, "bmm", 3,
                             ("batch1 must be a 3D tensor", "batch2 must be a 3D tensor"), "bmm",
                             _check_bmm)


@method("mv")
@_supports_out
def mv(input, vec) -> Tensor:
    """Matrix @ vector."""
    check_tensor(input, "mv")
    check_tensor(vec, "mv", "vec", 2)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}"
        )
    _no_bool("addmv_impl_cpu", input, vec)
    _check_mv(input._data.shape, vec._data.shape, input._data.dtype, vec._data.dtype)
    return _product(MvBackward0, input, vec)


def _check_dot(a: Tensor, b: Tensor, fname: str) -> None:
    check_tensor(a, fname)
    check_tensor(b, fname, "other" if fname == "vdot" else "tensor", 2)
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors"
        )
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_short(a)} and {_short(b)}"
        )
    n1, n2 = a._data.shape[0], b._data.shape[0]
    if n1 != n2:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n1}] and src [{n2}] to have the same "
            f"number of elements, but got {n1} and {n2} elements respectively"
        )
    _no_bool(fname, a)


@method("dot")
@_supports_out
def dot(input, tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    _check_dot(input, tensor, "dot")
    return _product(DotBackward0, input, tensor)


class VdotBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved_tensors
        ga = _conj(grad) * b if self._next[0][0] is not None else None
        return ga, (grad * a if self._next[1][0] is not None else None)


@method("vdot")
@_supports_out
def vdot(input, other) -> Tensor:
    """conj(input) . other for 1-D tensors."""
    _check_dot(input, other, "vdot")
    data = xp.vdot(input._data, other._data)
    return record(VdotBackward0, data, (input, other), save=(input, other))


@method("outer", "ger")
def outer(input, vec2) -> Tensor:
    """input[i] * vec2[j], recorded as PyTorch does: a column view times a row."""
    check_tensor(input, "outer")
    check_tensor(vec2, "outer", "vec2", 2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


# --- addmm / addmv / baddbmm -------------------------------------------------------------------
class AddmmBackward0(Node):
    """beta * input + alpha * (mat1 @ mat2); also addmv and baddbmm."""

    _saved_names = ("mat1", "mat2")
    alpha = beta = 1  # set on the node only when given otherwise (most nodes need no dict)

    def backward(self, grad):
        m1, m2 = self.saved_tensors
        need = [n is not None for n, _ in self._next]
        gi = (grad if self.beta == 1 else grad * self.beta) if need[0] else None
        g = grad if self.alpha == 1 else grad * self.alpha
        return (gi,) + _matmul_grads(g, m1, m2, need[1], need[2])


AddmvBackward0 = _named("AddmvBackward0", AddmmBackward0, ("mat", "vec"))
BaddbmmBackward0 = _named("BaddbmmBackward0", AddmmBackward0, ("batch1", "batch2"))


def _scaled_sum(cls, input: Tensor, product, m1: Tensor, m2: Tensor, beta, alpha) -> Tensor:
    """beta * input + alpha * product, checking that input broadcasts to the product's shape."""
    shape = product.shape
    a = input._data.shape
    if a != shape and a != shape[len(shape) - len(a):] and (len(a) > len(shape) or any(
            x != y and x != 1 for x, y in zip(reversed(a), reversed(shape), strict=False))):
        from dyngrad import no_grad

        with no_grad():
            input.expand(shape)  # raises PyTorch's error for an input that does not broadcast
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input is ignored, NaNs included
        data = product
    else:
        data = (input._data if beta == 1 else input._data * beta) + product
    if type(beta) is int and beta == 1 and type(alpha) is int and alpha == 1:
        return record(cls, data, (input, m1, m2), save=(m1, m2))  # (the class's defaults)
    return record(cls, data, (input, m1, m2), save=(m1, m2), beta=beta, alpha=alpha)


def _dtype_pair(what: str, x: Tensor, y: Tensor) -> None:
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"{what} must have the same dtype, but got {_short(x)} and {_short(y)}"
        )


@method("addmm")
@_supports_out
def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    check_tensor(input, "addmm")
    for name, t in (("mat1", mat1), ("mat2", mat2)):
        check_tensor(t, "addmm", name, 2 if name == "mat1" else 3)
        if t._data.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {t._data.ndim}-D tensor")
    _no_bool("addmm_impl_cpu_", input, mat1, mat2)
    s1, s2 = mat1._data.shape, mat2._data.shape
    if s1[1] != s2[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({s1[0]}x{s1[1]} and {s2[0]}x{s2[1]})"
        )
    _dtype_pair("self and mat2", input, mat2)
    _dtype_pair("mat1 and mat2", mat1, mat2)
    return _scaled_sum(AddmmBackward0, input, mat1._data @ mat2._data, mat1, mat2, beta, alpha)


@method("addmv")
@_supports_out
def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    check_tensor(input, "addmv")
    check_tensor(mat, "addmv", "mat", 2)
    check_tensor(vec, "addmv", "vec", 3)
    if mat._data.ndim != 2 or vec._data.ndim != 1 or input._data.ndim > 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input._data.ndim}, {mat._data.ndim}, "
            f"{vec._data.ndim}"
        )
    _no_bool("addmv_impl_cpu", input, mat, vec)
    _check_mv(mat._data.shape, vec._data.shape, mat._data.dtype, vec._data.dtype,
              input._data.dtype, input._data.shape)
    return _scaled_sum(AddmvBackward0, input, mat._data @ vec._data, mat, vec, beta, alpha)


@method("baddbmm")
@_supports_out
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    check_tensor(input, "baddbmm")
    check_tensor(batch1, "baddbmm", "batch1", 2)
    check_tensor(batch2, "baddbmm", "batch2", 3)
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    dts = [t._data.dtype for t in (input, batch1, batch2)]
    if not dts[0] == dts[1] == dts[2]:
        lo = [_dtype.FROM_NP[d]._short.lower() for d in dts]
        raise RuntimeError(
            f"Input dtypes must be the same, got: input {lo[0]}, batch1: {lo[1]}, batch2: {lo[2]}"
        )
    _no_bool("bmm", batch1, batch2)
    _check_bmm(batch1._data.shape, batch2._data.shape, dts[1], dts[2])
    product = xp.matmul(batch1._data, batch2._data)
    return _scaled_sum(BaddbmmBackward0, input, product, batch1, batch2, beta, alpha)


def _inplace(fn, name: str):
    def method_(self, *args, **kwargs):
        return apply_inplace(self, fn, *args, name=name, **kwargs)

    method_.__name__ = name
    return method_


# --- einsum and the contractions built on it ---------------------------------------------------
_LABELS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's order for implicit outputs


class _Contraction(Node):
    """An einsum: each operand's gradient is the einsum of the output gradient with the other
    (conjugated) operands. Repeated labels are tied with an identity matrix, labels summed inside
    one operand are restored with ones."""

    def backward(self, grad):
        ops = self.saved_tensors if self.n_ops > 1 else ()
        ops = [_as_shape(o, s, full)
               for o, s, full in zip(ops, self.shapes, self.full, strict=False)]
        if self.result_shape is not None:
            grad = P.reshape(grad, self.result_shape)
        out = []
        for i, (edge, _) in enumerate(self._next):
            if edge is None:
                out.append(None)
                continue
            eq, consts = self.grad_eqs[i]
            others = [_conj(o) for j, o in enumerate(ops) if j != i]
            extra = [xp.eye(n, dtype=bool) if kind == "eye" else xp.ones(n, bool)
                     for kind, n in consts]
            extra = [e.astype(P.data(grad).dtype) for e in extra]
            out.append(P.einsum(eq, grad, *others, *extra))
        return tuple(out)


def _as_shape(x, shape: tuple, full: tuple):
    """A saved operand in the shape the einsum saw (kron pads dims), broadcast to the full size
    of each of its labels (einsum broadcasts size-1 dims), so every gradient comes out full size
    and the engine sums the broadcast away."""
    if tuple(x.shape) != shape:
        x = P.reshape(x, shape)
    return x if shape == full else P.expand(x, full)


def _parse_einsum(equation: str, shapes: list) -> tuple:
    """Label lists per operand and for the output, ellipsis dims given labels of their own, and
    the size of each label; PyTorch's errors for malformed equations."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    pos = 0
    for term in terms + ([rhs] if arrow else []):
        for ch in term.replace("...", ""):
            if ch not in _LABELS:
                index = equation.index(ch, pos)
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {index} in the equation string, "
                    "subscripts must be in [a-zA-Z]"
                )
    ell_ndim = 0
    labels, sizes = [], {}
    for k, (term, shape) in enumerate(zip(terms, shapes, strict=True)):
        letters = term.replace("...", "")
        n_ell = len(shape) - len(letters)
        if "..." in term:
            if n_ell < 0:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(letters)}) is more "
                    f"than the number of dimensions ({len(shape)}) for operand {k}"
                )
            ell_ndim = max(ell_ndim, n_ell)
            head, _, tail = term.partition("...")
            ids = [_LABELS.index(c) for c in head] + [-(n_ell - j) for j in range(n_ell)] + [
                _LABELS.index(c) for c in tail]
        else:
            if n_ell != 0:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(letters)}) does "
                    f"not match the number of dimensions ({len(shape)}) for operand {k} and no "
                    "ellipsis was given"
                )
            ids = [_LABELS.index(c) for c in term]
        seen = {}
        for label, size in zip(ids, shape, strict=True):
            if label in seen and seen[label] != size:
                raise RuntimeError(
                    f"einsum(): subscript {_LABELS[label]} is repeated for operand {k} but the "
                    f"sizes don't match, {size} != {seen[label]}"
                )
            seen[label] = size
            have = sizes.get(label, 1)
            if size != have and have != 1 and size != 1:
                raise RuntimeError(
                    f"einsum(): subscript {_LABELS[label]} has size {size} for operand {k} which "
                    f"does not broadcast with previously seen size {have}"
                )
            sizes[label] = size if have == 1 else have
        labels.append(ids)
    ell = [-(ell_ndim - j) for j in range(ell_ndim)]
    if arrow:
        head, dots, tail = rhs.partition("...")
        out = [_LABELS.index(c) for c in head] + (ell if dots else []) + [
            _LABELS.index(c) for c in tail]
        for i, label in enumerate(out):
            if label >= 0 and label not in sizes:
                raise RuntimeError(
                    f"einsum(): output subscript {_LABELS[label]} does not appear in the equation "
                    "for any input operand"
                )
            if label in out[:i]:
                raise RuntimeError(
                    f"einsum(): output subscript {_LABELS[label]} appears more than once in the "
                    "output"
                )
    else:
        counts = {}
        for ids in labels:
            for label in ids:
                counts[label] = counts.get(label, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1 and c >= 0)
    return labels, out, sizes


def _contract(name: str | None, operands: list, labels: list, out: list, sizes: dict,
              datas=None, result_shape=None) -> Tensor:
    """Record the einsum `labels -> out` of `operands`, computed on `datas` (their arrays, by
    default; kron passes them reshaped) and reshaped to `result_shape` if given."""
    letters = {}
    pool = iter(_LABELS)

    def letter(label):
        if label not in letters:
            letters[label] = next(c for c in pool if c not in letters.values())
        return letters[label]

    for ids in labels + [out]:
        for label in ids:
            if label >= 0:
                letters[label] = _LABELS[label]
    subs = ["".join(letter(x) for x in ids) for ids in labels]
    out_subs = "".join(letter(x) for x in out)
    datas = [t._data for t in operands] if datas is None else datas
    if len({d.dtype for d in datas}) > 1:
        bad = next(d.dtype for d in datas if d.dtype != datas[0].dtype)
        _check_same_scalar(datas[0].dtype, bad)
    data = P.einsum(",".join(subs) + "->" + out_subs, *datas)
    if len(datas) == 1:
        data = xp.array(data, copy=True)
    summed = any(x not in out for ids in labels for x in ids)
    if name is None:
        if len(datas) == 1:
            name = "SumBackward1" if summed else "PermuteBackward0"
        else:
            name = "ViewBackward0" if summed else "MulBackward0"
    if result_shape is not None:
        data = data.reshape(result_shape)
        result_shape = tuple(sizes[x] for x in out)
    grad_eqs = []
    for i, ids in enumerate(labels):
        consts, target, extra_subs = [], [], []
        elsewhere = set(out).union(*(set(o) for j, o in enumerate(labels) if j != i))
        for label in dict.fromkeys(ids):
            if label not in elsewhere:
                consts.append(("ones", sizes[label]))
                extra_subs.append(letter(label))
        for k, label in enumerate(ids):
            if label in ids[:k]:
                fresh = letter(("fresh", i, k))
                consts.append(("eye", sizes[label]))
                extra_subs.append(letter(label) + fresh)
                target.append(fresh)
            else:
                target.append(letter(label))
        parts = [out_subs] + [s for j, s in enumerate(subs) if j != i] + extra_subs
        grad_eqs.append((",".join(parts) + "->" + "".join(target), consts))
    cls = _CONTRACTIONS.get(name) or _CONTRACTIONS.setdefault(name, _named(name, _Contraction))
    save = tuple(operands) if len(operands) > 1 else ()
    return record(cls, data, tuple(operands), save=save, grad_eqs=grad_eqs, n_ops=len(operands),
                  shapes=[tuple(d.shape) for d in datas], result_shape=result_shape,
                  full=[tuple(sizes[x] for x in ids) for ids in labels])


_CONTRACTIONS: dict = {}


def einsum(*args) -> Tensor:
    """Einstein summation: `einsum("ij,jk->ik", a, b)`, or the sublist form
    `einsum(a, [0, 1], b, [1, 2], [0, 2])`."""
    if not args or (isinstance(args[0], str) and len(args) == 1):
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least "
            "one operand and its subscripts list"
        )
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], list | tuple):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    for i, t in enumerate(operands):
        check_tensor(t, "einsum", "operands", i + 2)
    labels, out, sizes = _parse_einsum(equation, [t._data.shape for t in operands])
    return _contract(None, operands, labels, out, sizes)


def _sublist_equation(args) -> tuple:
    """The equation of einsum's sublist form (operand, [labels], operand, [labels], ..., [out])."""

    def term(sub):
        return "".join("..." if s is Ellipsis else _LABELS[s] for s in sub)

    operands = list(args[0::2])
    subs = list(args[1::2])
    out = None
    if len(args) % 2:
        operands, out = operands[:-1], args[-1]
    equation = ",".join(term(s) for s in subs)
    return (equation + ("" if out is None else "->" + term(out))), operands


@_supports_out
def tensordot(a, b, dims=2) -> Tensor:
    """Contract the given dims of a with those of b (the last `dims` of a with the first of b)."""
    check_tensor(a, "tensordot")
    check_tensor(b, "tensordot", "other", 2)
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a._data.ndim or dims > b._data.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    sa, sb = list(a._data.shape), list(b._data.shape)
    la = list(range(len(sa)))
    lb = list(range(len(sa), len(sa) + len(sb)))
    for x, y in zip(da, db, strict=True):
        i, j = _wrap_dim(x, len(sa)), _wrap_dim(y, len(sb))
        if sa[i] != sb[j] and 1 not in (sa[i], sb[j]):
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {sa[i]} in dim {x} and "
                f"second has size {sb[j]} in dim {y}"
            )
        sa[i] = sb[j] = max(sa[i], sb[j])  # a size-1 dim broadcasts against the other's size
        lb[j] = la[i]
    if sa != list(a._data.shape):
        a = a.expand(sa)
    if sb != list(b._data.shape):
        b = b.expand(sb)
    out_labels = [x for x in la if x not in lb] + [x for x in lb if x not in la]
    sizes = dict(zip(la, sa, strict=True)) | dict(zip(lb, sb, strict=True))
    return _contract("ViewBackward0", [a, b], [la, lb], out_labels, sizes)


@method("inner")
@_supports_out
def inner(input, other) -> Tensor:
    """Sum over the last dims of both (a product when either is 0-D)."""
    check_tensor(input, "inner")
    check_tensor(other, "inner", "other", 2)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(
            "inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input._data.shape)} and {list(other._data.shape)}"
        )
    return tensordot(input, other, ([-1], [-1]))


@method("kron")
@_supports_out
def kron(input, other) -> Tensor:
    """Kronecker product: every element of input times a block equal to other."""
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other", 2)
    dt = result_dtype(input, other).np
    nd = max(input._data.ndim, other._data.ndim)
    ops = []
    for t in (input, other):
        if t._data.dtype != dt:
            from dyngrad.ops.creation import to_dtype

            t = to_dtype(t, _dtype.FROM_NP[dt])
        ops.append(t)
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    la, lb = list(range(nd)), list(range(nd, 2 * nd))
    out_labels = [x for pair in zip(la, lb, strict=True) for x in pair]
    sizes = dict(zip(la, sa, strict=True)) | dict(zip(lb, sb, strict=True))
    padded = [t._data.reshape(s) for t, s in zip(ops, (sa, sb), strict=True)]
    return _contract("UnsafeViewBackward0", ops, [la, lb], out_labels, sizes, padded,
                     tuple(x * y for x, y in zip(sa, sb, strict=True)))


# --- trace / tril / triu / diag ----------------------------------------------------------------
class TraceBackward0(Node):
    def backward(self, grad):
        n, m = self._meta[0][0]
        return P.where(xp.eye(n, m, dtype=bool), grad, 0.0)


@method("trace")
def trace(input) -> Tensor:
    """Sum of the main diagonal of a matrix (integers sum to int64)."""
    check_tensor(input, "trace")
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    _no_bool("trace", input)
    a = input._data
    if a.dtype.kind in "iu":
        a = a.astype(xp.int64)
    return record(TraceBackward0, xp.trace(a), (input,))


class TrilBackward0(Node):
    def backward(self, grad):
        return P.where(_tri_mask(self._meta[0][0], self.diagonal, self.lower), grad, 0.0)


TriuBackward0 = _named("TriuBackward0", TrilBackward0)


def _tri_mask(shape: tuple, k: int, lower: bool):
    n, m = shape[-2:]
    return xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)


def _tri(fname: str, input, diagonal: int) -> Tensor:
    check_tensor(input, fname)
    if input._data.ndim < 2:
        raise RuntimeError(f"{fname}: input tensor must have at least 2 dimensions")
    lower = fname == "tril"
    data = xp.where(_tri_mask(input._data.shape, diagonal, lower), input._data, 0)
    cls = TrilBackward0 if lower else TriuBackward0
    return record(cls, data.astype(input._data.dtype, copy=False), (input,), diagonal=diagonal,
                  lower=lower)


@method("tril")
@_supports_out
def tril(input, diagonal=0) -> Tensor:
    """The lower triangle (on and below the `diagonal`-th diagonal) of the last two dims."""
    return _tri("tril", input, diagonal)


@method("triu")
@_supports_out
def triu(input, diagonal=0) -> Tensor:
    """The upper triangle (on and above the `diagonal`-th diagonal) of the last two dims."""
    return _tri("triu", input, diagonal)


class DiagEmbedBackward0(Node):
    def backward(self, grad):
        return P.diagonal(grad, self.offset)


class DiagonalBackward0_copy(Node):  # noqa: N801 - PyTorch's name
    """A matrix's k-th diagonal: the gradient goes back onto that diagonal, zeros elsewhere."""

    def backward(self, grad):
        (n, m), k = self._meta[0][0], self.offset
        length = P.data(grad).shape[0]
        rows = n if k >= 0 else m  # the diagonal's t-th cell is in row t (k >= 0) or column t
        if length < rows:
            grad = P.cat([grad, P.zeros_like_shape(grad, (rows - length,))], 0)
        along = P.reshape(grad, (rows, 1) if k >= 0 else (1, rows))
        return P.where(xp.eye(n, m, k, dtype=bool), along, 0.0)


@method("diag")
@_supports_out
def diag(input, diagonal=0) -> Tensor:
    """A vector to a (square) diagonal matrix, or a matrix's `diagonal`-th diagonal (a copy)."""
    check_tensor(input, "diag")
    nd = input._data.ndim
    if nd == 1:
        return record(DiagEmbedBackward0, xp.diag(input._data, diagonal), (input,),
                      offset=diagonal)
    if nd != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return record(DiagonalBackward0_copy, xp.diagonal(input._data, diagonal).copy(), (input,),
                  offset=diagonal, dim1=0, dim2=1)


# --- cross -------------------------------------------------------------------------------------
class LinalgCrossBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved_tensors
        d = self.dim
        ga = P.cross(_conj(b), grad, d) if self._next[0][0] is not None else None
        return ga, (P.cross(grad, _conj(a), d) if self._next[1][0] is not None else None)


_CROSS_DIM_WARNING = (
    "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
    "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
    "with that of linalg.cross in a future release."
)


@method("cross")
@_supports_out
def cross(input, other, dim=None) -> Tensor:
    """Cross product of 3-vectors along `dim` (broadcasting the other dims)."""
    check_tensor(input, "cross")
    check_tensor(other, "cross", "other", 2)
    sa, sb = input._data.shape, other._data.shape
    if dim is None:
        warnings.warn(_CROSS_DIM_WARNING, UserWarning, stacklevel=3)
        dim = next((i for i, s in enumerate(sa) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    if len(sa) != len(sb):
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = _wrap_dim(dim, len(sa))
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa[d]} and {sb[d]}"
        )
    _broadcast_batch(sa, sb)
    _check_same_scalar(input._data.dtype, other._data.dtype)
    data = xp.cross(input._data, other._data, axis=d)
    return record(LinalgCrossBackward0, data, (input, other), save=(input, other), dim=d)


for _name, _fn in (("addmm_", addmm), ("addmv_", addmv), ("baddbmm_", baddbmm),
                   ("tril_", tril), ("triu_", triu)):
    setattr(Tensor, _name, _inplace(_fn, _name))
