"""torch.linalg's decompositions and solvers, and what PyTorch builds on them.

Inverses, determinants, linear and triangular solves, Cholesky, QR, SVD, eigendecompositions, LU,
least squares, the pseudo-inverse, the matrix exponential, Householder products, plus the norms,
condition numbers, ranks and powers PyTorch composes from those (so they get PyTorch's `grad_fn`).

Forwards call NumPy's LAPACK wrappers, batched over leading dims; LU with partial pivoting,
triangular solves and the matrix exponential (Pade 13 with scaling and squaring) are written here,
as NumPy has none. Matrix outputs are laid out column-major per matrix, as LAPACK hands them to
PyTorch, so strides, `is_contiguous()` and `view` agree. Backward formulas are PyTorch's (see its
FunctionsManual.cpp), written with the polymorphic helpers below so that, under `create_graph`, the
very same code runs on tensors and records a differentiable graph.
"""

from __future__ import annotations

import math
import operator

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, _wrap_dim
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import (
    OUT,
    Out,
    check_kernel,
    check_tensor,
    method,
    needs_grad,
    record,
    record_multi,
)
from dyngrad.ops.arithmetic import _conj
from dyngrad.ops.comparison import where
from dyngrad.ops.creation import clone
from dyngrad.ops.linalg import _broadcast_batch, mm, vdot
from dyngrad.ops.linalg import cross as _cross
from dyngrad.ops.reduction import _return_type, _vector_norm
from dyngrad.ops.shape import cat

__all__ = [
    "det", "logdet", "slogdet", "inverse", "cholesky_solve", "cholesky_inverse", "matrix_exp",
    "matrix_power", "pinverse",
]

_make = Tensor._make


class _LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix was singular or not positive-definite."""


inv_ex_type = _return_type("linalg_inv_ex", ("inverse", "info"))
linalg_slogdet_type = _return_type("linalg_slogdet", ("sign", "logabsdet"))
slogdet_type = _return_type("slogdet", ("sign", "logabsdet"))
solve_ex_type = _return_type("linalg_solve_ex", ("result", "info"))
cholesky_ex_type = _return_type("linalg_cholesky_ex", ("L", "info"))
qr_type = _return_type("linalg_qr", ("Q", "R"))
svd_type = _return_type("linalg_svd", ("U", "S", "Vh"))
eigh_type = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
eig_type = _return_type("linalg_eig", ("eigenvalues", "eigenvectors"))
lstsq_type = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
lu_type = _return_type("linalg_lu", ("P", "L", "U"))
lu_factor_type = _return_type("linalg_lu_factor", ("LU", "pivots"))
lu_factor_ex_type = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))


# --- checks, with PyTorch's messages -----------------------------------------------------------
def _short(a) -> str:
    return _dtype.FROM_NP[a.dtype]._short


def _check_matrix(A, fname: str, arg: str = "A") -> None:
    if A._data.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {arg} must have at least 2 dimensions.")


def _check_square(A, fname: str) -> None:
    _check_matrix(A, fname)
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(
            f"{fname}: A must be batches of square matrices, but they are {m} by {n} matrices"
        )


def _check_float(A, fname: str, kernel: str | None = None) -> None:
    """A floating or complex input; float16 has no LAPACK kernel: PyTorch names the `kernel`
    its dispatch fails in, or (no `kernel`) says low precision is not supported."""
    a = A._data
    if a.dtype.kind not in "fc":
        raise RuntimeError(
            f"{fname}: Expected a floating point or complex tensor as input. Got {_short(a)}"
        )
    if kernel is not None:
        _no_half(a, kernel)
    if a.dtype == xp.float16:
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got Half")


def _no_half(a, kernel: str) -> None:
    if a.dtype == xp.float16:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Half'")


def _check_same_dtype(fname: str, A, B, a: str = "A", b: str = "B") -> None:
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"{fname}: Expected {a} and {b} to have the same dtype, but found {a} of type "
            f"{_short(A._data)} and {b} of type {_short(B._data)} instead"
        )


_INV = ("The diagonal element {0} is zero, the inversion could not be completed because the "
        "input matrix is singular.")
_SOLVE = "The solver failed because the input matrix is singular."
_CHOL = ("The factorization could not be completed because the input is not positive-definite "
         "(the leading minor of order {0} is not positive-definite).")
_LU = ("U[{0},{0}] is zero and using it on lu_solve would result in a division by zero. If you "
       "still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
       "linalg.lu_factor_ex(A, pivot)")


def _raise_info(info, api: str, message: str, error=_LinAlgError) -> None:
    """PyTorch's LinAlgError for the first matrix whose LAPACK `info` is nonzero."""
    bad = xp.flatnonzero(info)
    if bad.size:
        i = int(bad[0])
        where = "" if info.ndim == 0 else f": (Batch element {i})"
        raise error(f"{api}{where}: " + message.format(int(info.reshape(-1)[i])))


# --- NumPy kernels -----------------------------------------------------------------------------
def _swap(a):
    return xp.swapaxes(a, -1, -2)


def _fmat(a):
    """`a` laid out column-major per matrix, as PyTorch's LAPACK-backed outputs are."""
    return _swap(xp.ascontiguousarray(_swap(a)))


def _np_mH(a):
    return _swap(a.conj() if a.dtype.kind == "c" else a)


def _np_trsm(a, b, upper: bool, left: bool = True, unit: bool = False):
    """Solve op(a) x = b with `a` triangular (only its triangle is read), by substitution: like
    LAPACK's trsm it gives inf/nan rather than failing on a zero diagonal."""
    if not left:
        return _swap(_np_trsm(_swap(a), _swap(b), not upper, True, unit))
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    x = xp.array(xp.broadcast_to(b, batch + b.shape[-2:]), dtype=xp.result_type(a, b))
    n = a.shape[-1]
    with xp.errstate(all="ignore"):
        for i in range(n - 1, -1, -1) if upper else range(n):
            done = slice(i + 1, n) if upper else slice(0, i)
            if done.start != done.stop:
                x[..., i, :] -= (a[..., i:i + 1, done] @ x[..., done, :])[..., 0, :]
            if not unit:
                x[..., i, :] /= a[..., i, i, None]
    return x


def _np_lu(a):
    """LU with partial pivoting (LAPACK's getrf): packed LU, 1-based int32 pivots and info (the
    1-based index of the first zero pivot, 0 when there is none)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = xp.array(a.reshape((-1, m, n)), dtype=a.dtype)
    count = lu.shape[0]
    rows = xp.arange(count)
    piv = xp.zeros((count, k), xp.int32)
    info = xp.zeros(count, xp.int32)
    with xp.errstate(all="ignore"):
        for j in range(k):
            col = lu[:, j:, j]
            size = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
            p = xp.argmax(size, axis=1) + j
            piv[:, j] = p + 1
            top = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = top
            pivot = lu[:, j, j]
            zero = pivot == 0
            info = xp.where((info == 0) & zero, j + 1, info).astype(xp.int32)
            if j + 1 < m:
                scaled = lu[:, j + 1:, j] / xp.where(zero, 1, pivot)[:, None]
                lu[:, j + 1:, j] = xp.where(zero[:, None], lu[:, j + 1:, j], scaled)
                lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return (lu.reshape(batch + (m, n)), piv.reshape(batch + (k,)),
            info.reshape(batch))


def _permutation(piv, m: int):
    """The permutation matrix P (A = P L U) that LAPACK's row swaps `piv` describe."""
    batch = piv.shape[:-1]
    perm = xp.array(xp.broadcast_to(xp.arange(m), batch + (m,)))
    for j in range(piv.shape[-1]):
        p = (piv[..., j, None] - 1).astype(xp.intp)
        old = perm[..., j].copy()
        perm[..., j] = xp.take_along_axis(perm, p, -1)[..., 0]
        xp.put_along_axis(perm, p, old[..., None], -1)
    return perm[..., None, :] == xp.arange(m)[:, None]


def _np_lu_solve(lu, piv, b, left: bool = True, adjoint: bool = False):
    """Solve A X = B (A^H X = B with `adjoint`; X A = B when not `left`) from A's packed LU."""
    n = lu.shape[-1]
    perm = _permutation(piv, n).astype(lu.dtype)
    if left and not adjoint:
        y = _np_trsm(lu, _swap(perm) @ b, False, True, True)
        return _np_trsm(lu, y, True)
    if left:
        y = _np_trsm(_np_mH(lu), b, False)
        return perm @ _np_trsm(_np_mH(lu), y, True, True, True)
    if not adjoint:
        y = _np_trsm(lu, b, True, False)
        return _np_trsm(lu, y, False, False, True) @ _swap(perm)
    y = _np_trsm(_np_mH(lu), b @ perm, True, False, True)
    return _np_trsm(_np_mH(lu), y, False, False)


def _np_inv(a):
    """Inverse and LAPACK info; a singular matrix gives inf/nan instead of an error."""
    try:
        return xp.linalg.inv(a), xp.zeros(a.shape[:-2], xp.int32)
    except xp.linalg.LinAlgError:
        lu, piv, info = _np_lu(a)
        eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return _np_lu_solve(lu, piv, eye), info


def _np_solve(a, b, left: bool = True):
    """Solve a x = b (x a = b when not `left`) for matrices b; singular: inf/nan and info (of
    a's own batch, as PyTorch factors A before broadcasting)."""
    if not left:
        x, info = _np_solve(_swap(a), _swap(b))
        return _swap(x), info
    try:
        return xp.linalg.solve(a, b), xp.zeros(a.shape[:-2], xp.int32)
    except xp.linalg.LinAlgError:
        lu, piv, info = _np_lu(a)
        return _np_lu_solve(lu, piv, b), info


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _np_expm(a):
    """exp(a): Pade approximant of degree 13 with scaling and squaring (Higham, 2005), each
    matrix of a batch scaled by its own power of two. float16 is computed in float32."""
    if a.size == 0:
        return a.copy()
    if a.dtype == xp.float16:
        return _np_expm(a.astype(xp.float32)).astype(xp.float16)
    b = _PADE13
    norm = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)
    with xp.errstate(all="ignore"):
        s = xp.maximum(0, xp.ceil(xp.log2(norm / _THETA13))).astype(xp.int64)
        s = xp.where(xp.isfinite(norm), s, 0)
        a = a / (2.0 ** s)[..., None, None].astype(a.real.dtype)
        eye = xp.eye(a.shape[-1], dtype=a.dtype)
        a2 = a @ a
        a4 = a2 @ a2
        a6 = a4 @ a2
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
                 + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
            + b[0] * eye
        r = _np_solve(v - u, v + u)[0]
        for i in range(int(s.max(initial=0))):
            r = xp.where((i < s)[..., None, None], r @ r, r)
    return r


def _tolerances(a, atol, rtol) -> tuple:
    """PyTorch's (atol, rtol) as float64 arrays with a trailing unit dim: rtol defaults to
    eps * max(m, n), or to 0 where a positive atol is given."""
    real = a.real.dtype if a.dtype.kind == "c" else a.dtype
    if rtol is None:
        default = xp.finfo(real).eps * max(a.shape[-2:])
        rtol = default if atol is None else xp.where(xp.asarray(atol) > 0, 0.0, default)
    atol = 0.0 if atol is None else atol
    return xp.asarray(atol, xp.float64)[..., None], xp.asarray(rtol, xp.float64)[..., None]


def _np_pinv(a, atol=None, rtol=None, hermitian: bool = False):
    """Pseudo-inverse through the SVD (eigh when Hermitian); singular values at most
    max(atol, rtol * largest) count as zero."""
    atol, rtol = _tolerances(a, atol, rtol)
    if a.size == 0:
        return xp.zeros(a.shape[:-2] + a.shape[:-3:-1], a.dtype)
    with xp.errstate(all="ignore"):
        if hermitian:
            s, u = xp.linalg.eigh(a)
            mag = xp.abs(s)
            tol = xp.maximum(atol, rtol * xp.max(mag, axis=-1, keepdims=True))
            inv_s = xp.where(mag > tol, 1 / s, 0).astype(a.dtype)
            return (u * inv_s[..., None, :]) @ _np_mH(u)
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        tol = xp.maximum(atol, rtol * s[..., :1])
        inv_s = xp.where(s > tol, 1 / s, 0).astype(a.dtype)
        return (_np_mH(vh) * inv_s[..., None, :]) @ _np_mH(u)


# --- polymorphic helpers for backward formulas (arrays, or tensors under create_graph) --------
def _lift(*xs):
    """(any tensor?, xs with arrays made tensors when so): formulas mix saved values and
    constants, which must all be tensors when one is."""
    if any(isinstance(x, Tensor) for x in xs):
        return True, [x if isinstance(x, Tensor) else _make(xp.asarray(x)) for x in xs]
    return False, xs


def _mH(x):
    return _conj(P.transpose(x, -1, -2))


def _tril(x, k: int = 0):
    n, m = P.data(x).shape[-2:]
    return P.where(xp.tri(n, m, k, dtype=bool), x, 0.0)


def _triu(x, k: int = 0):
    n, m = P.data(x).shape[-2:]
    return P.where(~xp.tri(n, m, k - 1, dtype=bool), x, 0.0)


def _diag(x):
    return P.diagonal(x, 0, -2, -1)


def _diag_embed(d):
    n = P.data(d).shape[-1]
    return P.where(xp.eye(n, dtype=bool), P.unsqueeze(d, -1), 0.0)


def _set_diag(x, d):
    """x with its diagonal replaced by d."""
    n = P.data(x).shape[-1]
    return P.where(xp.eye(n, dtype=bool), P.unsqueeze(d, -1), x)


def _real(x):
    if P.data(x).dtype.kind != "c":
        return x
    return x.real if isinstance(x, Tensor) else x.real.copy()


def _imag(x):
    return x.imag if isinstance(x, Tensor) else x.imag.copy()


def _eye_like(x):
    a = P.data(x)
    return P.const(xp.eye(a.shape[-1], dtype=a.dtype), x)


def _solve(A, B, left: bool = True):
    tensors, (A, B) = _lift(A, B)
    return solve(A, B, left=left) if tensors else _np_solve(A, B, left)[0]


def _solve_tri(A, B, upper: bool, left: bool = True, unit: bool = False):
    tensors, (A, B) = _lift(A, B)
    if tensors:
        return solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
    return _np_trsm(A, B, upper, left, unit)


def _inv(A):
    return inv(A) if isinstance(A, Tensor) else _np_inv(A)[0]


def _expm(A):
    return matrix_exp(A) if isinstance(A, Tensor) else _np_expm(A)


def _pinv(A):
    return pinv(A) if isinstance(A, Tensor) else _np_pinv(A)


def _lu_solve(LU, piv, B, left: bool, adjoint: bool):
    tensors, (LU, B) = _lift(LU, B)
    if tensors:
        return lu_solve(LU, _make(P.data(piv)), B, left=left, adjoint=adjoint)
    return _np_lu_solve(LU, piv, B, left, adjoint)


def _needs(node) -> tuple:
    return tuple(n is not None for n, _ in node._next)


def _with_info(cls, data, info, inputs: tuple, save: tuple, ex: bool, **attrs) -> tuple:
    """(result, info) of an op that reports LAPACK's info: two outputs of one node for the `_ex`
    variants, else the result alone (a one-output node, which forward-mode AD also handles)."""
    if ex:
        return record_multi(cls, [data, info], inputs, save, (True, False), False, **attrs)
    return record(cls, data, inputs, save=save, **attrs), _make(info)


def _quiet(backward):
    """Backward formulas divide where PyTorch's do, silently (inf and nan as it gives them)."""

    def run(self, *grads):
        with xp.errstate(all="ignore"):
            return backward(self, *grads)

    run.__name__ = backward.__name__
    return run


# --- inverse -----------------------------------------------------------------------------------
class LinalgInvExBackward0(Node):
    _saved_names = ("inverse",)

    def backward(self, grad, _info=None):
        (inverse,) = self.saved_tensors
        h = _mH(inverse)
        return -(h @ (grad @ h))


def _inv_ex(A, fname: str, ex: bool = True):
    check_tensor(A, fname, "A")
    _check_square(A, "linalg.inv")
    _check_float(A, "linalg.inv")
    data, info = _np_inv(A._data)
    return _with_info(LinalgInvExBackward0, _fmat(data), info, (A,), (OUT,), ex)


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info > 0 marks a singular matrix instead of raising."""
    outs = _inv_ex(A, "linalg_inv_ex")
    if check_errors:
        _raise_info(outs[1]._data, "linalg.inv_ex", _INV)
    return inv_ex_type(outs)


def inv(A):
    """The inverse of square matrices; LinAlgError when one is singular."""
    outs = _inv_ex(A, "linalg_inv", False)
    _raise_info(outs[1]._data, "linalg.inv", _INV)
    return outs[0]


@method("inverse")
def inverse(input):
    """torch.inverse: linalg.inv."""
    return inv(input)


# --- determinants ------------------------------------------------------------------------------
class LinalgDetBackward0(Node):
    _saved_names = ("A", "result")

    @_quiet
    def backward(self, grad):
        A, det = self.saved_tensors
        a = P.data(A)
        if a.size == 0:
            return P.zeros_like(A)
        d = P.unsqueeze(P.unsqueeze(grad * _conj(det), -1), -1)
        if not isinstance(A, Tensor):  # PyTorch's first-order path: exact zeros when det == 0
            return xp.where(d == 0, 0, d * _np_mH(_np_inv(a)[0]))
        singular = xp.abs(P.data(det)) < 100 * xp.finfo(a.dtype).eps
        if not singular.any():
            return d * _mH(inv(A))
        adjugate = _det_grad_singular(grad, A)
        if singular.all():
            return adjugate
        mask = singular[..., None, None]
        safe = P.where(mask, _eye_like(A), A)
        return P.where(mask, adjugate, d * _mH(inv(safe)))


def _det_grad_singular(grad, A):
    """det's gradient through the SVD, valid for singular A (PyTorch's adjugate formula)."""
    U, S, Vh = svd(A)
    alpha = P.unsqueeze(_conj(det(U) * det(Vh)) * grad, -1)
    ones = P.const(xp.ones(P.data(S).shape[:-1] + (1,), P.data(S).dtype), S)
    before = P.cumprod(P.cat([ones, S[..., :-1]], -1), -1)
    after = P.flip(P.cumprod(P.flip(P.cat([S[..., 1:], ones], -1), -1), -1), -1)
    return (U * P.unsqueeze(alpha * before * after, -2)) @ Vh


@method("det")
def det(A):
    """Determinant of square matrices (0 for singular ones, no error)."""
    check_tensor(A, "linalg_det", "A")
    _check_square(A, "linalg.det")
    _check_float(A, "linalg.det", "lu_cpu")
    a = A._data
    data = xp.linalg.det(a) if a.size else xp.ones(a.shape[:-2], a.dtype)
    return record(LinalgDetBackward0, data, (A,), save=(A, OUT))


class LinalgSlogdetBackward0(Node):
    _saved_names = ("A", "sign")

    @_quiet
    def backward(self, grad_sign, grad_logabsdet):
        A, sign = self.saved_tensors
        if P.data(A).dtype.kind != "c" or grad_sign is None:
            if grad_logabsdet is None:
                return None
            g = grad_logabsdet
        else:
            g = -1j * _imag(_conj(grad_sign) * sign)
            if grad_logabsdet is not None:
                g = grad_logabsdet + g
        return P.unsqueeze(P.unsqueeze(g, -1), -1) * _mH(_inv(A))


def _slogdet(A, fname: str):
    check_tensor(A, fname, "A")
    _check_square(A, "linalg.slogdet")
    _check_float(A, "linalg.slogdet")
    sign, logabs = xp.linalg.slogdet(A._data)
    return record_multi(LinalgSlogdetBackward0, [sign, logabs], (A,), (A, OUT), materialize=False)


def linalg_slogdet(A):
    """(sign, log|det|) of square matrices: a stable determinant for large or tiny ones."""
    return linalg_slogdet_type(_slogdet(A, "linalg_slogdet"))


@method("slogdet")
def slogdet(input):
    """torch.slogdet: linalg.slogdet, returned as torch.return_types.slogdet."""
    return slogdet_type(_slogdet(input, "slogdet"))


@method("logdet")
def logdet(input):
    """log(det(A)): nan for a negative determinant of a real matrix."""
    check_tensor(input, "logdet")
    _check_square(input, "logdet")
    _check_float(input, "logdet")
    sign, logabs = _slogdet(input, "logdet")
    if input.is_complex():
        return sign.log() + logabs
    return where(sign == -1.0, math.nan, logabs)


# --- solve -------------------------------------------------------------------------------------
def _is_vector_rhs(a, b) -> bool:
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


class LinalgSolveExBackward0(Node):
    _saved_names = ("A", "result")

    def backward(self, grad, _info=None):
        A, X = self.saved_tensors
        need_a, need_b = _needs(self)
        vector, left = self.vector, self.left
        if vector:
            grad, X = P.unsqueeze(grad, -1), P.unsqueeze(X, -1)
        gB = _solve(_mH(A), grad, left)
        gA = (-(gB @ _mH(X)) if left else -(_mH(X) @ gB)) if need_a else None
        if vector:
            gB = P.select(gB, -1, 0)
        return gA, (gB if need_b else None)


def _solve_ex(A, B, left: bool, fname: str, ex: bool = True):
    check_tensor(A, fname)
    check_tensor(B, fname, "B", 2)
    _check_float(A, "linalg.solve", "lu_cpu")
    _check_same_dtype("linalg.solve", A, B)
    _check_square(A, "linalg.solve")
    a, b = A._data, B._data
    vector = _is_vector_rhs(a, b)
    bm = b[..., None] if vector else b
    if left and a.shape[-1] != bm.shape[-2] or not left and a.shape[-2] != bm.shape[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
            f"({a.shape[-2]}x{a.shape[-1]} and {bm.shape[-2]}x{bm.shape[-1]})"
        )
    if vector and not left:
        raise RuntimeError(
            "linalg.solve: Vector broadcasting of the left hand side is not supported for "
            "left=False. In this case linalg.solve is equivalent to B / A.squeeze(-1)"
        )
    _broadcast_batch(bm.shape[:-2], a.shape[:-2])
    x, info = _np_solve(a, bm, left)
    x = x[..., 0] if vector else _fmat(x) if left else xp.ascontiguousarray(x)
    return _with_info(LinalgSolveExBackward0, x, info, (A, B), (A, OUT), ex, vector=vector,
                      left=left)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) of A X = B (X A = B when not `left`), info > 0 for singular A."""
    outs = _solve_ex(A, B, left, "linalg_solve_ex")
    if check_errors:
        _raise_info(outs[1]._data, "torch.linalg.solve_ex", _SOLVE)
    return solve_ex_type(outs)


def solve(A, B, *, left=True):
    """X with A X = B (X A = B when not `left`); B may be a vector (or a batch of them)."""
    outs = _solve_ex(A, B, left, "linalg_solve", False)
    _raise_info(outs[1]._data, "torch.linalg.solve", _SOLVE)
    return outs[0]


class LinalgSolveTriangularBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        A, X = self.saved_tensors
        need_a, need_b = _needs(self)
        upper, left, unit = self.upper, self.left, self.unitriangular
        gB = _solve_tri(_mH(A), grad, not upper, left, unit)
        gA = None
        if need_a:
            gA = -(gB @ _mH(X)) if left else -(_mH(X) @ gB)
            gA = _triu(gA, int(unit)) if upper else _tril(gA, -int(unit))
        return gA, (gB if need_b else None)


_REQUIRED = object()


def solve_triangular(A, B, *, upper=_REQUIRED, left=True, unitriangular=False):
    """X with A X = B (X A = B when not `left`) for triangular A: only its `upper` or lower
    triangle is read (and not its diagonal when `unitriangular`)."""
    if upper is _REQUIRED:
        raise TypeError('linalg_solve_triangular() missing 1 required positional arguments: '
                        '"upper"')
    check_tensor(A, "linalg_solve_triangular", "A")
    check_tensor(B, "linalg_solve_triangular", "B", 2)
    _check_matrix(B, "linalg.solve_triangular", "B")
    _check_square(A, "linalg.solve_triangular")
    _check_float(A, "linalg.solve_triangular", "triangular_solve_cpu")
    _check_same_dtype("linalg.solve_triangular", A, B)
    a, b = A._data, B._data
    if left and a.shape[-1] != b.shape[-2] or not left and a.shape[-2] != b.shape[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation {eq} "
            f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})"
        )
    _broadcast_batch(b.shape[:-2], a.shape[:-2])
    x = _np_trsm(a, b, bool(upper), left, unitriangular)
    return record(LinalgSolveTriangularBackward0, _fmat(x) if left else x, (A, B), save=(A, OUT),
                  upper=bool(upper), left=left, unitriangular=unitriangular)


# --- Cholesky ----------------------------------------------------------------------------------
class LinalgCholeskyExBackward0(Node):
    _saved_names = ("L",)

    def backward(self, grad, _info=None):
        return _cholesky_grad(grad, self.saved_tensors[0], self.upper)

    def jvp(self, dA):
        """dL = L phi(L^-1 dA L^-H), phi: the lower triangle with its diagonal halved."""
        L = self.saved_tensors[0]
        if self.upper:
            L = _mH(L)
        phi = _mH(_solve_tri(L, _mH(_solve_tri(L, dA, False)), False))
        dL = L @ (_tril(phi, -1) + 0.5 * _diag_embed(_diag(phi)))
        return _mH(dL) if self.upper else dL


def _cholesky_grad(grad, L, upper: bool):
    """PyTorch's cholesky_backward."""
    if upper:
        L, grad = _mH(L), _mH(grad)
    gA = _tril(_mH(L) @ grad)
    gA = 0.5 * (gA + _mH(_tril(gA, -1)))
    gA = _solve_tri(_mH(L), gA, True)
    return _solve_tri(L, gA, False, False)


def _cholesky_info(a):
    """LAPACK's info for each matrix: the order of the first leading minor that is not
    positive-definite (0 when the whole matrix is)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    info = xp.zeros(flat.shape[0], xp.int32)
    for i, m in enumerate(flat):
        try:
            xp.linalg.cholesky(m)
            continue
        except xp.linalg.LinAlgError:
            pass
        for k in range(1, m.shape[-1] + 1):
            try:
                xp.linalg.cholesky(m[:k, :k])
            except xp.linalg.LinAlgError:
                info[i] = k
                break
    return info.reshape(a.shape[:-2])


def _cholesky_ex(A, upper: bool, fname: str, ex: bool = True):
    check_tensor(A, fname, "A")
    _check_square(A, "linalg.cholesky")
    _check_float(A, "linalg.cholesky", "cholesky_cpu")
    a = _np_mH(A._data) if upper else A._data  # LAPACK reads the lower (upper) triangle
    try:
        low, info = xp.linalg.cholesky(a), xp.zeros(a.shape[:-2], xp.int32)
    except xp.linalg.LinAlgError:
        info = _cholesky_info(a)
        ok = (info == 0)[..., None, None]
        low = xp.where(ok, xp.linalg.cholesky(xp.where(ok, a, xp.eye(a.shape[-1], dtype=a.dtype))),
                       xp.tril(a))
    data = _np_mH(low) if upper else low
    return _with_info(LinalgCholeskyExBackward0, _fmat(data), info, (A,), (OUT,), ex,
                      upper=upper)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info) of A = L L^H; info > 0 where A is not positive-definite, instead of raising."""
    outs = _cholesky_ex(A, upper, "linalg_cholesky_ex")
    if check_errors:
        _raise_info(outs[1]._data, "linalg.cholesky_ex", _CHOL)
    return cholesky_ex_type(outs)


def cholesky(A, *, upper=False):
    """L lower triangular with A = L L^H (U = L^H with `upper`) for Hermitian positive-definite
    A; LinAlgError otherwise."""
    outs = _cholesky_ex(A, upper, "linalg_cholesky", False)
    _raise_info(outs[1]._data, "linalg.cholesky", _CHOL)
    return outs[0]


class CholeskySolveBackward0(Node):
    _saved_names = ("self", "input2", "result")

    def backward(self, grad):
        _, L, X = self.saved_tensors
        need_b, need_l = _needs(self)
        gB = _cholesky_solve_p(grad, L, self.upper)
        gL = None
        if need_l:
            common = gB @ _mH(X)
            common = common + _mH(common)
            gL = -(L @ common) if self.upper else -(common @ L)
        return (gB if need_b else None), gL


def _np_cholesky_solve(b, low, upper: bool):
    if upper:
        low = _np_mH(low)
    return _np_trsm(_np_mH(low), _np_trsm(low, b, False), True)


def _cholesky_solve_p(B, L, upper: bool):
    tensors, (B, L) = _lift(B, L)
    return cholesky_solve(B, L, upper) if tensors else _np_cholesky_solve(B, L, upper)


@method("cholesky_solve")
def cholesky_solve(input, input2, upper=False):
    """X with A X = B, A = L L^H given by its Cholesky factor L (`input2`; U = L^H if `upper`)."""
    check_tensor(input, "cholesky_solve")
    check_tensor(input2, "cholesky_solve", "input2", 2)
    b, low = input._data, input2._data
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions "
                           "instead")
    if low.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {low.ndim} dimensions "
                           "instead")
    if low.shape[-1] != low.shape[-2] or low.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {low.shape[-2]} by "
            f"{low.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}"
        )
    _check_same_dtype("cholesky_solve", input, input2, "self", "input2")
    _broadcast_batch(b.shape[:-2], low.shape[:-2])
    check_kernel(b.dtype, "biu", "cholesky_solve_cpu")
    _no_half(b, "cholesky_solve_cpu")
    x = _np_cholesky_solve(b, low, upper)
    return record(CholeskySolveBackward0, _fmat(x), (input, input2), save=(input, input2, OUT),
                  upper=upper)


class CholeskyInverseBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        L, inverse = self.saved_tensors
        common = inverse @ ((grad + _mH(grad)) @ inverse)
        return -(L @ common) if self.upper else -(common @ L)


@method("cholesky_inverse")
def cholesky_inverse(input, upper=False):
    """(L L^H)^{-1} from the Cholesky factor L (U^H U with `upper`)."""
    check_tensor(input, "cholesky_inverse")
    _check_square(input, "cholesky_inverse")
    _check_float(input, "cholesky_inverse", "cholesky_inverse_out_cpu")
    low = xp.triu(input._data) if upper else xp.tril(input._data)
    n = low.shape[-1]
    eye = xp.broadcast_to(xp.eye(n, dtype=low.dtype), low.shape)
    data = _np_cholesky_solve(eye, low, upper)
    return record(CholeskyInverseBackward0, _fmat(data), (input,), save=(input, OUT), upper=upper)


# --- QR ----------------------------------------------------------------------------------------
_QR_NO_Q = ("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
            "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
            "linalg.qr.")


class LinalgQrBackward0(Node):
    _saved_names = ("Q", "R")

    def backward(self, gQ, gR):
        Q, R = self.saved_tensors
        mode = self.mode
        if mode == "r":
            raise RuntimeError(_QR_NO_Q)
        m, n = P.data(Q).shape[-2], P.data(R).shape[-1]
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        has_q, has_r = gQ is not None, gR is not None
        if not has_q and not has_r:
            return None
        if has_q:
            gA = gR @ _mH(R) - _mH(Q) @ gQ if has_r else -(_mH(Q) @ gQ)
        else:
            gA = gR @ _mH(R)
        if m >= n:
            x = _triu(gA)
            gA = Q @ (x + _mH(x) - _diag_embed(_real(_diag(x))))
            if has_q:
                gA = gA + gQ
            return _solve_tri(_mH(R), gA, False, False)
        y = _tril(-gA - _mH(-gA))
        gA = Q @ (y - 0.5 * _diag_embed(_diag(y)))
        gA = _solve_tri(_mH(R[..., :, :m]), gA, False, False)
        zeros = P.zeros_like_shape(gA, P.data(gA).shape[:-1] + (n - m,))
        gA = P.cat([gA, zeros], -1)
        return gA + Q @ gR if has_r else gA


def qr(A, mode="reduced"):
    """A = Q R: Q with orthonormal columns, R upper triangular ('reduced', 'complete' or 'r',
    which returns an empty Q)."""
    check_tensor(A, "linalg_qr", "A")
    _check_matrix(A, "linalg.qr")
    _check_float(A, "linalg.qr", "geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    a = A._data
    if mode == "r":
        q, r = xp.zeros((0,), a.dtype), _fmat(xp.linalg.qr(a, mode="r"))
    else:
        q, r = (_fmat(x) for x in xp.linalg.qr(a, mode=mode))
    return qr_type(record_multi(LinalgQrBackward0, [q, r], (A,), (OUT, Out(1)), materialize=False,
                                mode=mode))


# --- SVD ---------------------------------------------------------------------------------------
class LinalgSvdBackward0(Node):
    _saved_names = ("U", "S", "Vh")

    @_quiet
    def backward(self, gU, gS, gVh):
        U, S, Vh = self.saved_tensors
        k = P.data(S).shape[-1]
        if self.full_matrices:
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU = None if gU is None else gU[..., :, :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        return _svd_grad(gU, gS, gVh, U, S, Vh)


def _svd_grad(gU, gS, gVh, U, S, Vh):
    """PyTorch's svd_backward (distinct singular values; full rank when A is complex or not
    square)."""
    has_u, has_s, has_v = gU is not None, gS is not None, gVh is not None
    if not (has_u or has_s or has_v):
        return None
    m, n = P.data(U).shape[-2], P.data(Vh).shape[-1]
    if not has_u and not has_v:
        return U @ (P.unsqueeze(gS, -1) * Vh) if m >= n else (U * P.unsqueeze(gS, -2)) @ Vh
    complex_ = P.data(U).dtype.kind == "c"
    UhgU = (_mH(U) @ gU) if has_u else None
    VhgV = (Vh @ _mH(gVh)) if has_v else None
    UhgU = UhgU - _mH(UhgU) if has_u else None
    VhgV = VhgV - _mH(VhgV) if has_v else None
    if complex_:
        zero = xp.zeros(P.data(S).shape)
        iu = xp.imag(_diag(P.data(UhgU))) if has_u else zero
        iv = xp.imag(_diag(P.data(VhgV))) if has_v else zero
        if not xp.allclose(iu, -iv, rtol=1e-2, atol=1e-2):
            raise RuntimeError(
                "svd_backward: The singular vectors in the complex case are specified up to "
                "multiplication by e^{i phi}. The specified loss function depends on this phase "
                "term, making it ill-defined."
            )
    S2 = S * S
    E = P.where(xp.eye(P.data(S).shape[-1], dtype=bool), 1.0,
                P.unsqueeze(S2, -2) - P.unsqueeze(S2, -1))
    if has_u and has_v:
        gA = (UhgU * P.unsqueeze(S, -2) + P.unsqueeze(S, -1) * VhgV) / E
    elif has_u:
        gA = (UhgU / E) * P.unsqueeze(S, -2)
    else:
        gA = P.unsqueeze(S, -1) * (VhgV / E)
    if has_s:
        gA = gA + _diag_embed(gS)
    if complex_ and has_u and has_v:
        gA = gA + _diag_embed(_diag(UhgU) / (2.0 * S))
    if m > n and has_u:
        gA = U @ gA
        gUSinv = gU / P.unsqueeze(S, -2)
        gA = gA + gUSinv - U @ (_mH(U) @ gUSinv)
        return gA @ Vh
    if m < n and has_v:
        gA = gA @ Vh
        SinvgVh = gVh / P.unsqueeze(S, -1)
        gA = gA + SinvgVh - (SinvgVh @ _mH(Vh)) @ Vh
        return U @ gA
    return U @ (gA @ Vh) if m >= n else (U @ gA) @ Vh


def _check_svd(A, fname: str, driver) -> None:
    check_tensor(A, fname)
    _check_matrix(A, "linalg.svd")
    _check_float(A, "linalg.svd", "linalg_svd_cpu")
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")


def _svd(A, full_matrices: bool):
    u, s, vh = xp.linalg.svd(A._data, full_matrices=full_matrices)
    return record_multi(LinalgSvdBackward0, [_fmat(u), s, _fmat(vh)], (A,), (OUT, Out(1), Out(2)),
                        materialize=False, full_matrices=full_matrices)


def svd(A, full_matrices=True, *, driver=None):
    """A = U diag(S) Vh, singular values in descending order."""
    _check_svd(A, "linalg_svd", driver)
    return svd_type(_svd(A, full_matrices))


def svdvals(A, *, driver=None):
    """The singular values of A, in descending order."""
    _check_svd(A, "linalg_svdvals", driver)
    if needs_grad(A):  # the backward needs the singular vectors too
        return _svd(A, False)[1]
    return _make(xp.linalg.svd(A._data, compute_uv=False))


# --- eigendecompositions -----------------------------------------------------------------------
def _check_ill_defined(VhgV, name: str) -> None:
    if not xp.allclose(xp.imag(_diag(P.data(VhgV))), 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(
            f"{name}: The eigenvectors in the complex case are specified up to multiplication by "
            "e^{i phi}. The specified loss function depends on this quantity, so it is "
            "ill-defined."
        )


def _eig_grad(gL, gV, L, V, hermitian: bool):
    """PyTorch's linalg_eig_backward: gA = V^-H (diag(gL) + proj(V^H gV) / conj(E)) V^H."""
    has_l, has_v = gL is not None, gV is not None
    if not has_l and not has_v:
        return None
    if not has_v:
        if hermitian:
            return (V * P.unsqueeze(gL, -2)) @ _mH(V)
        return _solve(_mH(V), P.unsqueeze(gL, -1) * _mH(V))
    VhgV = _mH(V) @ gV
    if P.data(V).dtype.kind == "c":
        _check_ill_defined(VhgV, "linalg_eigh_backward" if hermitian else "linalg_eig_backward")
    if hermitian:
        VhgV = 0.5 * (VhgV - _mH(VhgV))
    else:
        VhgV = VhgV - _mH(V) @ (V * P.unsqueeze(_real(_diag(VhgV)), -2))
    Lc = _conj(L)
    E = P.where(xp.eye(P.data(L).shape[-1], dtype=bool), 1.0,
                P.unsqueeze(Lc, -2) - P.unsqueeze(Lc, -1))
    gA = VhgV / E
    if has_l:
        gA = _set_diag(gA, gL)
    if hermitian:
        return V @ (gA @ _mH(V))
    return _solve(_mH(V), gA @ _mH(V))


class LinalgEighBackward0(Node):
    _saved_names = ("eigenvalues", "eigenvectors")

    @_quiet
    def backward(self, gL, gV):
        L, V = self.saved_tensors
        return _eig_grad(gL, gV, L, V, True)

    @_quiet
    def jvp(self, dA):
        """With dP = V^H dA V: dL = diag(dP), dV = V (dP / (L_j - L_i)) off the diagonal."""
        L, V = self.saved_tensors
        dP = _mH(V) @ (dA @ V)
        E = P.unsqueeze(L, -2) - P.unsqueeze(L, -1)
        off = P.where(xp.eye(P.data(L).shape[-1], dtype=bool), 0.0, dP / E)
        return _real(_diag(dP)), V @ off


def _check_uplo(UPLO) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _eigh(A, UPLO: str, fname: str):
    check_tensor(A, fname)
    _check_square(A, "linalg.eigh")
    _check_float(A, "linalg.eigh", "linalg_eigh_cpu")
    _check_uplo(UPLO)
    w, v = xp.linalg.eigh(A._data, UPLO=UPLO)
    return record_multi(LinalgEighBackward0, [w, _fmat(v)], (A,), (OUT, Out(1)),
                        materialize=False)


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of Hermitian matrices, read from
    their lower (`UPLO='L'`) or upper triangle."""
    return eigh_type(_eigh(A, UPLO, "linalg_eigh"))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of Hermitian matrices."""
    if needs_grad(A):
        return _eigh(A, UPLO, "linalg_eigvalsh")[0]
    check_tensor(A, "linalg_eigvalsh", "A")
    _check_square(A, "linalg.eigh")
    _check_float(A, "linalg.eigh", "linalg_eigh_cpu")
    _check_uplo(UPLO)
    return _make(xp.linalg.eigvalsh(A._data, UPLO=UPLO))


class LinalgEigBackward0(Node):
    _saved_names = ("eigenvalues", "eigenvectors")

    @_quiet
    def backward(self, gL, gV):
        L, V = self.saved_tensors
        g = _eig_grad(gL, gV, L, V, False)
        return _real(g) if g is not None and self.real_input else g


def _complex_of(a):
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"Unknown Complex ScalarType for {_short(a)}")
    return xp.complex64 if a.dtype in (xp.float32, xp.complex64) else xp.complex128


def _eig(A, fname: str):
    check_tensor(A, fname)
    _check_square(A, "linalg.eig")
    ct = _complex_of(A._data)
    _check_float(A, "linalg.eig", "linalg_eig_out_cpu")
    w, v = xp.linalg.eig(A._data)
    return record_multi(LinalgEigBackward0, [w.astype(ct), _fmat(v.astype(ct))], (A,),
                        (OUT, Out(1)), materialize=False, real_input=A._data.dtype.kind != "c")


def eig(A):
    """Eigenvalues and unit-norm eigenvectors of square matrices, always complex."""
    return eig_type(_eig(A, "linalg_eig"))


def eigvals(A):
    """The (complex) eigenvalues of square matrices."""
    if needs_grad(A):
        return _eig(A, "linalg_eigvals")[0]
    check_tensor(A, "linalg_eigvals", "A")
    _check_square(A, "linalg.eigvals")
    ct = _complex_of(A._data)
    _check_float(A, "linalg.eigvals", "linalg_eig_out_cpu")
    return _make(xp.linalg.eigvals(A._data).astype(ct))


# --- pseudo-inverse and least squares ----------------------------------------------------------
def _pinv_grad(grad, pinvA, A):
    """PyTorch's pinv_backward."""
    m, n = P.data(A).shape[-2:]
    pinvAh, gradh = _mH(pinvA), _mH(grad)
    if m <= n:
        K = gradh @ pinvA
        KpinvAh = K @ pinvAh
        return (-_mH(pinvA @ K) + KpinvAh - (A @ pinvA) @ KpinvAh
                + (pinvAh @ pinvA) @ (gradh - K @ A))
    K = pinvA @ gradh
    pinvAhK = pinvAh @ K
    return (-_mH(K @ pinvA) + ((gradh - A @ K) @ pinvA) @ pinvAh + pinvAhK
            - (pinvAhK @ pinvA) @ A)


class LinalgPinvBackward0(Node):
    _saved_names = ("self", "result")

    def backward(self, grad):
        A, pinvA = self.saved_tensors
        return _pinv_grad(grad, pinvA, A)


def _tolerance(t, name: str):
    if t is None or not isinstance(t, Tensor):
        return t
    if t.is_complex():
        raise RuntimeError(f"linalg.pinv: {name} tensor of complex type is not supported.")
    return t._data.astype(xp.float64)


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse; singular values below max(atol, rtol * largest) are
    treated as zero (`rcond`: the older name of rtol)."""
    check_tensor(A, "linalg_pinv", "A")
    a = A._data
    if a.dtype not in (xp.float32, xp.float64, xp.complex64, xp.complex128) or a.ndim < 2:
        raise RuntimeError(
            f"linalg.pinv({_dtype.FROM_NP[a.dtype]._short}{{{list(a.shape)}}}): expected a tensor "
            "with 2 or more dimensions of float, double, cfloat or cdouble types"
        )
    if rcond is not None:
        atol, rtol = 0.0, rcond
    data = _np_pinv(a, _tolerance(atol, "atol"), _tolerance(rtol, "rtol"), hermitian)
    return record(LinalgPinvBackward0, data, (A,), save=(A, OUT))


@method("pinverse")
def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with relative tolerance `rcond`."""
    return pinv(input, rcond)


class LinalgLstsqBackward0(Node):
    _saved_names = ("self", "b", "solution")

    def backward(self, gX, gL, _rank=None, _sv=None):
        A, B, X = self.saved_tensors
        need_a, need_b = _needs(self)
        has_x, has_l = gX is not None, gL is not None and P.data(gL).size > 0
        if not has_x and not has_l:
            return None, None
        if self.vector:
            B, X = P.unsqueeze(B, -1), P.unsqueeze(X, -1)
            gX = P.unsqueeze(gX, -1)
        gA = gB = None
        if has_x:
            pinvA = _pinv(A)
            if need_a:
                gA = _pinv_grad(gX @ _mH(B), pinvA, A)
            if need_b:
                gB = _mH(pinvA) @ gX
        if has_l:
            r = A @ X - B
            g = P.unsqueeze(gL, -2)
            if need_a:
                ga = 2 * (g * r) @ _mH(X)
                gA = ga if gA is None else gA + ga
            if need_b:
                gb = -2 * g * r
                gB = gb if gB is None else gB + gb
        if self.vector and gB is not None:
            gB = P.select(gB, -1, 0)
        return gA, gB


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B, with (driver-dependent, as in PyTorch on the CPU) the
    squared residuals, the rank and the singular values of A."""
    check_tensor(A, "linalg_lstsq", "A")
    check_tensor(B, "linalg_lstsq", "b", 2)
    if A._data.dtype == xp.float16:  # PyTorch's LAPACK dispatch refuses it
        raise RuntimeError("This function doesn't handle types other than float and double")
    _check_float(A, "torch.linalg.lstsq")
    _check_same_dtype("torch.linalg.lstsq", A, B, "input", "other")
    _check_matrix(A, "torch.linalg.lstsq", "input")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, "
                           "gelsd, gelss)")
    a, b = A._data, B._data
    if not 0 <= a.ndim - b.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vector = a.ndim - b.ndim == 1
    if vector:
        _broadcast_batch(a.shape[:-2], b.shape[:-1])
    bm = b[..., None] if vector else b
    if a.shape[-2] != bm.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = a.shape[-2:]
    batch = _broadcast_batch(a.shape[:-2], bm.shape[:-2])
    a_b = xp.broadcast_to(a, batch + a.shape[-2:]).reshape((-1, m, n))
    b_b = xp.broadcast_to(bm, batch + bm.shape[-2:]).reshape((-1, m, bm.shape[-1]))
    cut = None if rcond is None else float(rcond)
    sols, ranks, svs = [], [], []
    for am, bmat in zip(a_b, b_b, strict=True):
        x, _, rank, sv = xp.linalg.lstsq(am, bmat, rcond=cut)
        sols.append(x)
        ranks.append(rank)
        svs.append(sv)
    real = a.real.dtype if a.dtype.kind == "c" else a.dtype
    x = xp.asarray(sols, a.dtype).reshape(batch + (n, bm.shape[-1]))
    rank = xp.asarray(ranks, xp.int64).reshape(batch)
    residuals = xp.zeros((0,), real)
    if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):
        residuals = xp.sum(xp.abs(a @ x - bm) ** 2, axis=-2).astype(real)
    if driver == "gels":
        rank = xp.zeros((0,), xp.int64)
    sv = xp.asarray(svs, real).reshape(batch + (min(m, n),)) if driver in ("gelsd", "gelss") \
        else xp.zeros((0,), real)
    x = x[..., 0] if vector else _fmat(x)
    return lstsq_type(record_multi(LinalgLstsqBackward0, [x, residuals, rank, sv], (A, B),
                                   (A, B, OUT), (True, True, False, False), False, vector=vector))


# --- matrix functions --------------------------------------------------------------------------
class LinalgMatrixExpBackward0(Node):
    _saved_names = ("self",)

    def backward(self, grad):
        (A,) = self.saved_tensors
        n = P.data(A).shape[-1]
        Ah = _mH(A)
        zeros = P.zeros_like_shape(Ah, P.data(Ah).shape)
        block = P.cat([P.cat([Ah, grad], -1), P.cat([zeros, Ah], -1)], -2)
        return _expm(block)[..., :n, n:]


@method("matrix_exp")
def matrix_exp(A):
    """The matrix exponential exp(A) = sum A^k / k!."""
    check_tensor(A, "linalg_matrix_exp", "A")
    _check_square(A, "linalg.matrix_exp")
    if A._data.dtype != xp.float16:  # PyTorch's matrix_exp has a float16 kernel
        _check_float(A, "linalg.matrix_exp")
    return record(LinalgMatrixExpBackward0, _np_expm(A._data), (A,), save=(A,))


@method("matrix_power")
def matrix_power(A, n):
    """A^n for an integer n (negative: a power of the inverse), by repeated squaring."""
    check_tensor(A, "linalg_matrix_power", "A")
    _check_square(A, "linalg.matrix_power")
    n = operator.index(n)
    if n == 0:
        eye = _make(xp.eye(A._data.shape[-1], dtype=A._data.dtype))
        return clone(A).copy_(eye.expand(A.shape))
    if n == 1:
        return clone(A)
    if n == -1:
        return inv(A)
    a = inv(A) if n < 0 else A
    n = abs(n)
    if n == 2:
        return a @ a
    if n == 3:
        return (a @ a) @ a
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = a if z is None else z @ z
        if bit:
            result = z if result is None else result @ z
    return result


# --- Householder products ----------------------------------------------------------------------
def _reflector(A, i: int):
    """The i-th Householder vector (..., m, 1): zeros, a one at i, then A's column i below."""
    m = P.data(A).shape[-2]
    rows = xp.arange(m)[:, None]
    col = A[..., :, i:i + 1]
    return P.where(rows > i, col, P.where(rows == i, 1.0, 0.0 * col))


class LinalgHouseholderProductBackward0(Node):
    _saved_names = ("input", "tau")

    def backward(self, grad):
        A, tau = self.saved_tensors
        return _householder_grad(grad, A, tau, P.data(A).shape[-1])


def _householder_grad(grad, A, tau, q_cols: int):
    """Gradients (A, tau) of Q = the first q_cols columns of H_0 ... H_{k-1}, given Q's."""
    m, n = P.data(A).shape[-2], q_cols
    k = P.data(tau).shape[-1]
    vs = [_reflector(A, i) for i in range(k)]
    ts = [P.unsqueeze(tau[..., i:i + 1], -1) for i in range(k)]
    # Q = H_0 ... H_{k-1} E: prefixes P_i = H_0 ... H_{i-1}, suffixes S_i = H_{i+1} ... E
    eye = P.const(xp.eye(m, dtype=P.data(A).dtype), A)
    suffix = [None] * k
    s = eye[..., :, :n]
    for i in range(k - 1, -1, -1):
        suffix[i] = s
        s = s - ts[i] * (vs[i] @ (_mH(vs[i]) @ s))
    prefix = eye
    gv, gt = [], []
    for i in range(k):
        v, t = vs[i], ts[i]
        a = prefix @ v
        b = _mH(suffix[i]) @ v
        Gb = grad @ b
        gt.append(-(_mH(a) @ Gb)[..., 0, :])
        gv.append(-_conj(t) * (_mH(prefix) @ Gb) - t * (suffix[i] @ (_mH(grad) @ a)))
        prefix = prefix - t * (a @ _mH(v))
    if not k:
        return P.zeros_like(A), None
    a_cols = P.data(A).shape[-1]
    if a_cols > k:
        gv.append(P.zeros_like_shape(gv[0], P.data(gv[0]).shape[:-1] + (a_cols - k,)))
    return _tril(P.cat(gv, -1), -1), P.cat(gt, -1)


def _np_householder(a, tau):
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    q = xp.array(xp.broadcast_to(xp.eye(m, n, dtype=a.dtype), a.shape))
    rows = xp.arange(m)[:, None]
    for i in range(k - 1, -1, -1):
        v = xp.where(rows > i, a[..., :, i:i + 1], (rows == i).astype(a.dtype))
        q = q - tau[..., i, None, None] * (v @ (_np_mH(v) @ q))
    return q


def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H with v_i stored below the
    diagonal of A's column i (as geqrf leaves them)."""
    name = "torch.linalg.householder_product"
    check_tensor(A, "linalg_householder_product", "A")
    check_tensor(tau, "linalg_householder_product", "tau", 2)
    a, t = A._data, tau._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if a.shape[-1] < t.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}")
    if a.shape[:-2] != t.shape[:-1]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(t.shape[:-1])}")
    if a.dtype != t.dtype:
        raise RuntimeError(f"{name}: tau dtype {_short(t)} does not match input dtype "
                           f"{_short(a)}")
    _check_float(A, name, "orgqr_cpu")
    return record(LinalgHouseholderProductBackward0, _fmat(_np_householder(a, t)), (A, tau),
                  save=(A, tau))


# --- LU ----------------------------------------------------------------------------------------
def _unpack(LU, piv):
    """(P, L, U) from packed LU and pivots; L and U differentiable in LU."""
    m, n = P.data(LU).shape[-2:]
    k = min(m, n)
    perm = P.const(_permutation(P.data(piv), m).astype(P.data(LU).dtype), LU)
    eye = P.const(xp.eye(m, k, dtype=P.data(LU).dtype), LU)
    return perm, _tril(LU[..., :, :k], -1) + eye, _triu(LU[..., :k, :])


def _lu_grad(gL, gU, Pm, L, U):
    """PyTorch's linalg_lu_backward (pivoted)."""
    has_l, has_u = gL is not None, gU is not None
    if not has_l and not has_u:
        return None
    m, n = P.data(L).shape[-2], P.data(U).shape[-1]
    k = min(m, n)
    if m == n:
        gA = _tril(_mH(L) @ gL, -1) if has_l else None
        if has_u:
            gu = _triu(gU @ _mH(U))
            gA = gu if gA is None else gA + gu
        gA = _solve_tri(_mH(U), gA, False, False)
        return Pm @ _solve_tri(_mH(L), gA, True, True, True)
    if m < n:
        U1 = U[..., :, :k]
        gA = (_mH(L) @ gL) if has_l else None
        if has_u:
            gu = _triu(gU) @ _mH(U)
            gA = -gu if gA is None else gA - gu
        gA = _solve_tri(_mH(U1), _tril(gA, -1), False, False)
        if has_u:
            gA = P.cat([gA + _triu(gU[..., :, :k]), gU[..., :, k:]], -1)
        gA = _solve_tri(_mH(L), gA, True, True, True)
        if not has_u:
            gA = P.cat([gA, P.zeros_like_shape(gA, P.data(U).shape[:-1] + (n - k,))], -1)
        return Pm @ gA
    L1 = L[..., :k, :]
    gA = (gU @ _mH(U)) if has_u else None
    if has_l:
        gl = _mH(L) @ _tril(gL, -1)
        gA = -gl if gA is None else gA - gl
    gA = _solve_tri(_mH(L1), _triu(gA), True, True, True)
    if has_l:
        gA = P.cat([gA + _tril(gL[..., :k, :], -1), gL[..., k:, :]], -2)
    gA = _solve_tri(_mH(U), gA, False, False)
    if not has_l:
        gA = P.cat([gA, P.zeros_like_shape(gA, P.data(L).shape[:-2] + (m - k, n))], -2)
    return Pm @ gA


class LinalgLuFactorExBackward0(Node):
    _saved_names = ("LU", "pivots")

    def backward(self, grad, _pivots=None, _info=None):
        LU, piv = self.saved_tensors
        m, n = P.data(LU).shape[-2:]
        k = min(m, n)
        Pm, L, U = _unpack(LU, piv)
        return _lu_grad(grad[..., :, :k], grad[..., :k, :], Pm, L, U)


class LinalgLuBackward0(Node):
    _saved_names = ("P", "L", "U")

    def backward(self, _gP, gL, gU):
        Pm, L, U = self.saved_tensors
        return _lu_grad(gL, gU, Pm, L, U)


def _lu_checks(A, fname: str, pivot: bool) -> None:
    check_tensor(A, fname)
    _check_matrix(A, "torch.linalg.lu_factor_ex" if "factor" in fname else "linalg.lu")
    if A._data.dtype.kind not in "fc" or A._data.dtype == xp.float16:
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_short(A._data)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _lu_factor_ex(A, pivot: bool, fname: str):
    _lu_checks(A, fname, pivot)
    lu_, piv, info = _np_lu(A._data)
    return record_multi(LinalgLuFactorExBackward0, [_fmat(lu_), piv, info], (A,), (OUT, Out(1)),
                        (True, False, False), False, pivot=pivot)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): packed LU with partial pivoting, as LAPACK's getrf."""
    outs = _lu_factor_ex(A, pivot, "linalg_lu_factor_ex")
    if check_errors:
        _raise_info(outs[2]._data, "torch.linalg.lu_factor_ex", _LU, RuntimeError)
    return lu_factor_ex_type(outs)


def lu_factor(A, *, pivot=True):
    """(LU, pivots): packed LU factorization; an error for a zero pivot (singular A)."""
    outs = _lu_factor_ex(A, pivot, "linalg_lu_factor")
    _raise_info(outs[2]._data, "torch.linalg.lu_factor", _LU, RuntimeError)
    return lu_factor_type(outs[:2])


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U: P a permutation, L unit lower and U upper triangular."""
    _lu_checks(A, "linalg_lu", pivot)
    lu_, piv, _ = _np_lu(A._data)
    m, n = lu_.shape[-2:]
    k = min(m, n)
    perm = _permutation(piv, m).astype(lu_.dtype)
    low = xp.tril(lu_[..., :, :k], -1) + xp.eye(m, k, dtype=lu_.dtype)
    up = xp.triu(lu_[..., :k, :])
    return lu_type(record_multi(LinalgLuBackward0, [perm, low, up], (A,), (OUT, Out(1), Out(2)),
                                (False, True, True), False, pivot=pivot))


class LinalgLuSolveBackward0(Node):
    _saved_names = ("LU", "pivots", "result")

    def backward(self, grad):
        LU, piv, X = self.saved_tensors
        need_lu, need_b = _needs(self)
        left, adjoint = self.left, self.adjoint
        gB = _lu_solve(LU, piv, grad, left, not adjoint) if need_b else None
        gLU = _lu_solve_lu_grad(grad, LU, piv, X, left, adjoint) if need_lu else None
        return gLU, gB


def _lu_solve_lu_grad(gX, LU, piv, X, left: bool, adjoint: bool):
    """PyTorch's linalg_lu_solve_LU: the gradient with respect to the packed LU."""
    Pm, L, U = _unpack(LU, piv)
    if left != adjoint:
        gR = _solve_tri(_mH(U), -((gX if left else _mH(gX)) @ (_mH(X) if left else X)), False)
        gL = _tril(_solve_tri(_mH(L), gR @ _mH(U), True, True, True), -1)
        return gL + _triu(gR)
    gR = -(((P.transpose(Pm, -1, -2) @ (X if left else _mH(X))) @ (_mH(gX) if left else gX)) @ Pm)
    gR = _solve_tri(_mH(L), gR, True, False, True)
    gU = _triu(_solve_tri(_mH(U), _mH(L) @ gR, False, False))
    return _tril(gR, -1) + gU


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (A^H X = B with `adjoint`, X A = B when not `left`), A given by
    lu_factor's (LU, pivots)."""
    check_tensor(LU, "linalg_lu_solve", "LU")
    check_tensor(pivots, "linalg_lu_solve", "pivots", 2)
    check_tensor(B, "linalg_lu_solve", "B", 3)
    _check_matrix(LU, "linalg.lu_solve", "LU")
    _check_matrix(B, "linalg.lu_solve", "B")
    lu_, piv, b = LU._data, pivots._data, B._data
    if lu_.shape[-1] != lu_.shape[-2]:
        raise RuntimeError("linalg.lu_solve: A must be batches of square matrices, but they are "
                           f"{lu_.shape[-2]} by {lu_.shape[-1]} matrices")
    if piv.dtype != xp.int32:
        raise RuntimeError("linalg.lu_solve: Expected pivots to be integers. Got "
                           f"{_short(piv)}")
    _check_same_dtype("linalg.lu_solve", LU, B, "LU", "B")
    _no_half(lu_, "linalg.lu_solve_cpu")
    n = lu_.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq}"
                           f" ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    _broadcast_batch(b.shape[:-2], lu_.shape[:-2])
    x = _np_lu_solve(lu_, piv, b, left, adjoint)
    return record(LinalgLuSolveBackward0, _fmat(x) if left else x, (LU, B),
                  save=(LU, pivots, OUT), left=left, adjoint=adjoint)


# --- norms -------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The `ord`-norm of x's entries over `dim` (all of them by default), as one vector."""
    check_tensor(x, "linalg_vector_norm", "self")
    if isinstance(ord, str) or not isinstance(ord, int | float):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    if isinstance(dim, int):
        dim = (dim,)
    return _vector_norm(x, ord, dim, keepdim, dtype)


def _backshift(d0: int, d1: int, ndim: int) -> list:
    return [i for i in range(ndim) if i not in (d0, d1)] + [d0, d1]


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims `dim`: 'fro', 'nuc' (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (max / min column sum), inf / -inf (rows)."""
    check_tensor(A, "linalg_matrix_norm", "A")
    name = "linalg.matrix_norm"
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"{name}: Order {ord} not supported.")
    elif abs(ord) not in (1, 2, math.inf):
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    _check_matrix(A, name)
    if ord in ("nuc", 2, -2):
        _check_float(A, name)
    else:
        _check_float_any(A, name)
    dim = [dim] if isinstance(dim, int) else list(dim)
    if len(dim) != 2:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    nd = A._data.ndim
    dim = [_wrap_dim(d, nd) for d in dim]
    if dim[0] == dim[1]:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, tuple(dim), keepdim, dtype=dtype)
    if ord == "nuc" or abs(ord) == 2:
        A_ = A if dtype is None else A.to(dtype)
        perm = _backshift(dim[0], dim[1], nd)
        s = svdvals(A_.permute(perm))
        if ord == "nuc":
            result = s.sum(-1, keepdim=keepdim)
        else:
            result = s.amax(-1, keepdim=keepdim) if ord > 0 else s.amin(-1, keepdim=keepdim)
        if keepdim:
            reverse = [perm.index(i) for i in range(nd)]
            result = result.unsqueeze(-1).permute(reverse)
        return result
    d0, d1 = dim
    if abs(ord) == math.inf:
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    sums = vector_norm(A, 1, (d0,), keepdim, dtype=dtype)
    return sums.amax(d1, keepdim=keepdim) if ord > 0 else sums.amin(d1, keepdim=keepdim)


def _check_float_any(A, name: str) -> None:
    """Floating point or complex, half precision allowed (norms that need no LAPACK)."""
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_short(A._data)}")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (1-D input, or one dim) or a matrix norm (2-D input, or two dims); with
    neither ord nor dim, the 2-norm of all entries."""
    check_tensor(A, "linalg_norm", "A")
    nd = A._data.ndim
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
    elif ord is not None and nd not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be 1D "
                           f"or 2D. Got {nd}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    if ord is not None and (dim is not None and len(dim) == 2 or dim is None and nd == 2):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cond(A, p=None):
    """The condition number of A in the `p` norm (the ratio of extreme singular values by
    default); inf for singular matrices."""
    check_tensor(A, "linalg_cond", "A")
    if A._data.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    p = 2 if p is None else p
    if isinstance(p, str):
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    elif abs(p) not in (1, 2, math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p:g}")
    if A._data.size == 0:
        real = A._data.real.dtype if A._data.dtype.kind == "c" else A._data.dtype
        return _make(xp.zeros(A._data.shape[:-2], real))
    if not isinstance(p, str) and abs(p) == 2:
        s = svdvals(A)
        ratio = s[..., :1] / s[..., -1:] if p > 0 else s[..., -1:] / s[..., :1]
        return ratio.squeeze(-1)
    if isinstance(p, str) or math.isinf(p):
        shown = p if isinstance(p, str) else ("inf" if p > 0 else "-inf")
    else:
        shown = f"{p:.6f}" if isinstance(p, float) else str(p)
    _check_square(A, f"linalg.cond(ord={shown})")
    if p == "nuc":
        s = svdvals(A)
        return s.sum(-1) * s.reciprocal().sum(-1)
    inverse, info = inv_ex(A)
    failed = _make((info._data > 0)[..., None, None])
    inverse.copy_(where(failed, math.inf, inverse))  # in place, as PyTorch's masked_fill_
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    return result.nan_to_num_(math.inf, math.inf, -math.inf)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values above max(atol, rtol * largest) (`tol`: the older name
    of atol, with rtol 0)."""
    check_tensor(A, "linalg_matrix_rank", "A")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    if a.dtype.kind not in "fc" or a.dtype == xp.float16:
        raise RuntimeError("This function doesn't handle types other than float and double")
    if tol is not None:
        atol, rtol = tol, 0.0
    if a.size == 0:
        return _make(xp.zeros(a.shape[:-2], xp.int64))
    atol, rtol = _tolerances(a, _tolerance(atol, "atol"), _tolerance(rtol, "rtol"))
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(a))
        top = xp.max(s, axis=-1, keepdims=True)
    else:
        s = xp.linalg.svd(a, compute_uv=False)
        top = s[..., :1]
    tolerance = xp.maximum(atol, rtol * top)
    return _make(xp.sum(s > tolerance, axis=-1).astype(xp.int64))


# --- products and tensor equations -------------------------------------------------------------
def multi_dot(tensors):
    """The product of a chain of matrices (first / last may be vectors), in the cheapest
    order."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for t in tensors:
        check_tensor(t, "linalg_multi_dot", "tensors")
    first, last = tensors[0], tensors[-1]
    shape = []
    if first.dim() == 1:
        mats = [first.unsqueeze(0)]
    elif first.dim() == 2:
        mats = [first]
        shape.append(first.shape[0])
    else:
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                           f"{first.dim()}D")
    for i in range(1, n - 1):
        if tensors[i].dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got "
                               f"{tensors[i].dim()}D")
        mats.append(tensors[i])
    if last.dim() == 1:
        mats.append(last.unsqueeze(-1))
    elif last.dim() == 2:
        mats.append(last)
        shape.append(last.shape[1])
    else:
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got "
                           f"{last.dim()}D")
    for i in range(1, n):
        if mats[i].dtype != mats[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {mats[0].dtype} and tensor {i} {mats[i].dtype}")
        if mats[i - 1].shape[-1] != mats[i].shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i - 1} and {i} with shapes {list(tensors[i - 1].shape)} "
                f"and {list(tensors[i].shape)} cannot be multiplied"
            )
    if n == 2:
        return mm(mats[0], mats[1]).view(shape)
    if n == 3:
        a, b, c, d = mats[0].shape[0], mats[1].shape[0], mats[2].shape[0], mats[2].shape[1]
        if (a * c) * (b + d) > (b * d) * (a + c):
            result = mm(mats[0], mm(mats[1], mats[2]))
        else:
            result = mm(mm(mats[0], mats[1]), mats[2])
        return result.view(shape)
    return _chain(mats, _chain_order(mats), 0, n - 1).view(shape)


def _chain_order(mats) -> list:
    """The optimal split points of a matrix chain product (dynamic programming, CLRS)."""
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    n = len(mats)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(mats, split, i: int, j: int):
    if i == j:
        return mats[i]
    k = split[i][j]
    return mm(_chain(mats, split, i, k), _chain(mats, split, k + 1, j))


def vecdot(x, y, *, dim=-1):
    """Dot products of vectors along `dim` (x conjugated), broadcasting the other dims."""
    check_tensor(x, "linalg_vecdot", "x")
    check_tensor(y, "linalg_vecdot", "y", 2)
    _check_float_any(x, "linalg.vecdot")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{_short(x._data)} and y of type {_short(y._data)} instead"
        )
    if x.dim() == 1 and y.dim() == 1:
        return vdot(x, y)
    return (x.conj() * y).sum(dim)


def tensorinv(A, ind=2):
    """The inverse of A seen as a linear map from its first `ind` dims to the rest."""
    check_tensor(A, "linalg_tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    inverse, info = inv_ex(A.reshape(cols, cols))
    _raise_info(info._data, "linalg.inv", _INV)
    return inverse.reshape(shape[ind:] + shape[:ind])


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B."""
    check_tensor(A, "linalg_tensorsolve", "A")
    check_tensor(B, "linalg_tensorsolve", "other", 2)
    nd = A.dim()
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = A.movedim(dims, list(range(nd - len(dims), nd)))
    result_shape = tuple(A.shape[B.dim():])
    rows, size = math.prod(result_shape), B.numel()
    if rows != size:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:]) "
                           f"== prod(self.shape[:other.ndim]), but got {rows} != {size}")
    return solve(A.reshape(rows, rows), B.flatten()).reshape(result_shape)


def vander(x, *, N=None):
    """The Vandermonde matrix [1, x, x^2, ..., x^(N-1)] along a new last dim."""
    check_tensor(x, "linalg_vander")
    if x._data.dtype == xp.bool_ or x._data.dtype == xp.float16:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {_short(x._data)}")
    x_ = x.unsqueeze(-1) if x.dim() == 0 else x
    n = x_.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x_.unsqueeze(-1).expand(tuple(x_.shape) + (n - 1,)).cumprod(-1)
    ones = _make(xp.ones(tuple(x_.shape) + (1,), powers._data.dtype))
    return cat([ones, powers], -1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """A view of the `offset`-th diagonal of the matrices A holds in dims (dim1, dim2)."""
    check_tensor(A, "linalg_diagonal", "A")
    return A.diagonal(offset, dim1, dim2)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along `dim`."""
    return _cross(input, other, dim=dim)


# --- legacy torch.* spellings (torch.qr, torch.svd, torch.lu, ...) ------------------------------
legacy_qr_type = _return_type("qr", ("Q", "R"))
legacy_svd_type = _return_type("svd", ("U", "S", "V"))
lu_with_info_type = _return_type("_lu_with_info", ("LU", "pivots", "info"))
lu_unpack_type = _return_type("lu_unpack", ("P", "L", "U"))
triangular_solve_type = _return_type("triangular_solve", ("solution", "cloned_coefficient"))


@method("qr")
def legacy_qr(input, some=True):
    """torch.qr: linalg.qr in 'reduced' (`some`) or 'complete' mode."""
    return legacy_qr_type(qr(input, "reduced" if some else "complete"))


@method("svd")
def legacy_svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with A = U diag(S) V^H (V, not Vh); without `compute_uv`, U and V are
    zero matrices of full size."""
    check_tensor(input, "svd")
    if input.ndim < 2:
        raise RuntimeError("linalg.svd: input should have at least 2 dimensions, but has "
                           f"{input.ndim} dimensions instead")
    _check_svd(input, "svd", None)
    if not compute_uv:
        m, n = input._data.shape[-2:]
        batch, dt = input._data.shape[:-2], input._data.dtype
        S = svdvals(input)
        return legacy_svd_type((_make(xp.zeros(batch + (m, m), dt)), S,
                                _make(xp.zeros(batch + (n, n), dt))))
    U, S, Vh = _svd(input, not some)
    return legacy_svd_type((U, S, Vh.mH))


class CholeskyBackward0(Node):
    _saved_names = ("result",)

    def backward(self, grad):
        return _cholesky_grad(grad, self.saved_tensors[0], self.upper)


@method("cholesky")
def legacy_cholesky(input, upper=False):
    """torch.cholesky: linalg.cholesky under its own node."""
    check_tensor(input, "cholesky")
    _check_square(input, "cholesky")
    _check_float(input, "cholesky", "cholesky_cpu")
    outs = _cholesky_ex(input.detach(), bool(upper), "cholesky")
    _raise_info(outs[1]._data, "cholesky", _CHOL)
    return record(CholeskyBackward0, outs[0]._data, (input,), save=(OUT,), upper=bool(upper))


@method("lu")
def legacy_lu(A, pivot=True, get_infos=False):
    """torch.lu: (LU, pivots) of lu_factor_ex, plus its `info` with `get_infos`."""
    outs = _lu_factor_ex(A, pivot, "_lu_with_info")  # singular A is no error, as in torch
    return lu_with_info_type(outs) if get_infos else (outs[0], outs[1])


class LuUnpackBackward0(Node):
    def backward(self, _gP, gL, gU):
        """PyTorch's lu_unpack_backward: L's strict lower and U's upper triangle, each padded
        to LU's (m, n) shape."""
        m, n = self.size
        k = min(m, n)
        parts = []
        if gL is not None:
            low = _tril(gL, -1)
            if n > k:
                low = P.cat([low, P.zeros_like_shape(low, P.data(low).shape[:-1] + (n - k,))], -1)
            parts.append(low)
        if gU is not None:
            up = _triu(gU)
            if m > k:
                up = P.cat([up, P.zeros_like_shape(up, P.data(up).shape[:-2] + (m - k, n))], -2)
            parts.append(up)
        return sum(parts[1:], parts[0]) if parts else None


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from lu_factor's packed (LU, pivots); parts not asked for are empty."""
    check_tensor(LU_data, "lu_unpack", "LU_data")
    check_tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    lu_, piv = LU_data._data, LU_pivots._data
    if piv.dtype != xp.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    m, n = lu_.shape[-2:]
    k = min(m, n)
    empty = xp.zeros((0,), lu_.dtype)
    perm = _permutation(piv, m).astype(lu_.dtype) if unpack_pivots else empty
    if unpack_data:
        low = xp.tril(lu_[..., :, :k], -1) + xp.eye(m, k, dtype=lu_.dtype)
        up = xp.triu(lu_[..., :k, :])
    else:
        low = up = empty
    outs = record_multi(LuUnpackBackward0, [perm, low, up], (LU_data,),
                        differentiable=(False, unpack_data, unpack_data), size=(m, n))
    return lu_unpack_type(outs)


@method("lu_solve")
def legacy_lu_solve(input, LU_data, LU_pivots):
    """torch.lu_solve(b, LU, pivots): linalg.lu_solve with its arguments reordered."""
    return lu_solve(LU_data, LU_pivots, input)


class TriangularSolveBackward0(Node):
    _saved_names = ("A", "solution")

    def backward(self, gX, gM):
        A, X = self.saved_tensors
        need_b, need_a = _needs(self)
        upper, unit = self.upper, self.unitriangular
        if self.transpose:  # solve op(A) X = b with op(A) = A^T: differentiate in op(A)
            A, upper = P.transpose(A, -1, -2), not upper
        gB = gA = None
        if gX is not None:
            gB = _solve_tri(_mH(A), gX, not upper, True, unit)
            if need_a:
                gA = -(gB @ _mH(X))
                gA = _triu(gA, int(unit)) if upper else _tril(gA, -int(unit))
                if self.transpose:
                    gA = P.transpose(gA, -1, -2)
        if gM is not None and need_a:
            gA = gM if gA is None else gA + gM
        return (gB if need_b else None), gA


@method("triangular_solve")
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve(b, A): (X, copy of A) with op(A) X = b, op(A) = A or A^T, A upper
    (lower) triangular."""
    check_tensor(input, "triangular_solve")
    check_tensor(A, "triangular_solve", "A", 2)
    b, a = input._data, A._data
    for arr, name in ((b, "b"), (a, "A")):
        if arr.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {arr.ndim} dimensions instead")
    if b.dtype != a.dtype:
        raise RuntimeError("Expected b and A to have the same dtype, but found b of type "
                           f"{_short(b)} and A of type {_short(a)} instead.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError("A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    _no_half(a, "triangular_solve_cpu")
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{a.shape[-2]} by {a.shape[-1]} but each b matrix is {b.shape[-2]} "
                           f"by {b.shape[-1]}")
    batch = _broadcast_batch(b.shape[:-2], a.shape[:-2])
    at = _swap(a) if transpose else a
    x = _np_trsm(at, b, bool(upper) != bool(transpose), True, unitriangular)
    m = xp.array(xp.broadcast_to(a, tuple(batch) + a.shape[-2:]))
    outs = record_multi(TriangularSolveBackward0, [_fmat(x), _fmat(m)], (input, A), (A, OUT),
                        materialize=False, upper=bool(upper), transpose=bool(transpose),
                        unitriangular=bool(unitriangular))
    return triangular_solve_type(outs)


__all__ += ["lu_unpack", "triangular_solve"]


class OrmqrBackward0(Node):
    _saved_names = ("self", "input2", "input3")

    def backward(self, grad):
        A, tau, C = self.saved_tensors
        need_a, need_tau, need_c = _needs(self)
        left, transpose = self.left, self.transpose
        gC = _ormqr_any(A, tau, grad, left, not transpose) if need_c else None
        gA = gtau = None
        if need_a or need_tau:
            if left:
                gQ = C @ _mH(grad) if transpose else grad @ _mH(C)
            else:
                gQ = _mH(grad) @ C if transpose else _mH(C) @ grad
            gA, gtau = _householder_grad(gQ, A, tau, P.data(A).shape[-2])
        return gA, gtau, gC


def _np_ormqr(a, tau, c, left: bool, transpose: bool):
    m, n = a.shape[-2:]
    if n < m:
        a = xp.concatenate([a, xp.zeros(a.shape[:-1] + (m - n,), a.dtype)], -1)
    q = _np_householder(a, tau)
    if transpose:
        q = _np_mH(q)
    return q @ c if left else c @ q


def _ormqr_any(A, tau, C, left: bool, transpose: bool):
    tensors, (A, tau, C) = _lift(A, tau, C)
    if tensors:
        return ormqr(A, tau, C, left, transpose)
    return _np_ormqr(A, tau, C, left, transpose)


@method("ormqr")
def ormqr(input, input2, input3, left=True, transpose=False):
    """op(Q) @ C (C @ op(Q) when not `left`) for Q = H_0 ... H_{k-1}, the m x m product of the
    Householder reflectors geqrf leaves in (input, tau); op(Q) = Q^H with `transpose`."""
    check_tensor(input, "ormqr")
    check_tensor(input2, "ormqr", "input2", 2)
    check_tensor(input3, "ormqr", "input3", 3)
    a, t, c = input._data, input2._data, input3._data
    m = c.shape[-2] if left else c.shape[-1]
    if a.ndim < 2 or c.ndim < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    if a.shape[-2] != m:
        raise RuntimeError(f"torch.ormqr: Expected input.shape[-2] to be equal to "
                           f"other.shape[{-2 if left else -1}], but got {a.shape[-2]} != {m}")
    if t.shape[-1] != min(m, a.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape"
                           f"[{-2 if left else -1}], input.shape[-1])")
    if not a.dtype == t.dtype == c.dtype:
        raise RuntimeError(f"torch.ormqr: Expected input, tau and other to have the same dtype, "
                           f"got {_short(a)}, {_short(t)} and {_short(c)}")
    out = _np_ormqr(a, t, c, bool(left), bool(transpose))
    return record(OrmqrBackward0, _fmat(out), (input, input2, input3),
                  save=(input, input2, input3), left=bool(left), transpose=bool(transpose))


__all__ += ["ormqr"]
