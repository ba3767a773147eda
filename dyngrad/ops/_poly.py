"""Math that backward formulas use, on arrays (plain backward) and tensors (`create_graph`).

A formula is written once, e.g. `grad * cos(x)`. In a plain backward the engine hands it NumPy
arrays and it runs at NumPy speed; with `create_graph=True` it gets tensors, so the very same line
records its own graph and can be differentiated again.
"""

from dyngrad._backend import ONE, ZERO, xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _special as _sp


def _unary(name: str, np_fn):
    def fn(x):
        return getattr(x, name)() if isinstance(x, Tensor) else np_fn(x)

    fn.__name__ = name
    return fn


exp = _unary("exp", xp.exp)
log = _unary("log", xp.log)
sqrt = _unary("sqrt", xp.sqrt)
sin = _unary("sin", xp.sin)
cos = _unary("cos", xp.cos)
sign = _unary("sign", xp.sign)
conj = _unary("conj", xp.conj)
floor = _unary("floor", xp.floor)
tanh = _unary("tanh", xp.tanh)


def np_sigmoid(a):
    """1 / (1 + exp(-a)), in place on one buffer (three times faster than a two-branch form on
    small arrays). It is PyTorch's formula: exp(-a) = inf gives 0, as torch's float32 does;
    float16 is computed in float32, as PyTorch does."""
    if a.dtype.char == "e":  # float16
        return np_sigmoid(a.astype(xp.float32)).astype(xp.float16)
    if a.ndim == 0:  # the same steps on NumPy scalars: out= costs a 0-dim array 4x as much
        return 1 / (1 + xp.exp(-a))
    e = xp.negative(a)
    xp.exp(e, e)  # (out given by position: the keyword costs a small array's call ~30%)
    xp.add(e, ONE[e.dtype], e)
    return xp.reciprocal(e, e)


sigmoid = _unary("sigmoid", np_sigmoid)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def where(cond, a, b):
    """`a` where `cond` else `b`; `cond` is never differentiated."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from dyngrad.ops.comparison import where as t_where

        return t_where(cond if isinstance(cond, Tensor) else Tensor._make(xp.asarray(cond)), a, b)
    c = cond._data if isinstance(cond, Tensor) else cond
    return xp.where(c, a, b)


def zero_where(mask, g):
    """`g` with zeros where `mask` is set (mask of g's shape): `where(mask, 0, g)`, which on a
    small array costs NumPy less as a copy and a masked write."""
    if type(g) is not xp.ndarray:
        if isinstance(g, xp.generic):  # a 0-dim gradient (NumPy's scalar), with a 0-dim mask
            return g.dtype.type(0) if mask else g
        return where(mask, 0.0, g)
    r = g.copy()
    xp.putmask(r, mask, ZERO[r.dtype])
    return r


def zeros_like(x):
    if isinstance(x, Tensor):
        return Tensor._make(xp.zeros_like(x._data))
    return xp.zeros_like(x)


def data(x):
    """The array behind x, for masks and other values that are never differentiated."""
    return x._data if isinstance(x, Tensor) else x


def sum(x, dims, keepdim=False):
    """Sum over `dims`; no dims means no reduction (NumPy's rule: torch.sum reads () as all)."""
    if isinstance(dims, tuple | list) and not dims:
        return x
    if isinstance(x, Tensor):
        return x.sum(dims, keepdim=keepdim)
    return xp.sum(x, axis=dims, keepdims=keepdim)


def reshape(x, shape):
    return x.reshape(shape)


def expand(x, shape):
    if isinstance(x, Tensor):
        return x.expand(shape)
    if type(x) is not xp.ndarray and not isinstance(x, xp.generic):
        return xp.broadcast_to(x, shape)  # Python numbers, and vmap's batched arrays
    out = xp.empty(shape, x.dtype)  # filling a new array is ~8x cheaper than numpy.broadcast_to
    out[...] = x
    return out


def matmul(a, b):
    return a @ b


def transpose(x, d0, d1):
    if type(x) is xp.ndarray:
        return x.swapaxes(d0, d1)  # (the method: numpy.swapaxes is a Python wrapper)
    if isinstance(x, Tensor):
        return x.transpose(d0, d1)
    return xp.swapaxes(x, d0, d1)


def permute(x, dims):
    if isinstance(x, Tensor):
        return x.permute(dims)
    return xp.transpose(x, dims)


def unsqueeze(x, dim):
    if isinstance(x, Tensor):
        return x.unsqueeze(dim)
    return xp.expand_dims(x, dim)


def zeros_like_shape(x, shape):
    """Zeros of `shape` in x's dtype, of x's kind (array or tensor); batched like x under vmap
    (`zeros_like` dispatches to the batched array, so a formula may write batched values in)."""
    if isinstance(x, Tensor):
        return Tensor._make(zeros_like_shape(x._data, shape))
    if type(x) is xp.ndarray:
        return xp.zeros(shape, x.dtype)
    return xp.zeros_like(x, shape=shape)


def select(x, dim, index):
    if isinstance(x, Tensor):
        return x.select(dim, index)
    return xp.take(x, index, axis=dim)


abs = _unary("abs", xp.abs)  # noqa: A001 - the polymorphic abs


def const(value, like):
    """A constant (never differentiated) of `like`'s kind: a tensor when `like` is one."""
    if isinstance(like, Tensor):
        return Tensor._make(xp.asarray(value))
    return value


def prod(x, dim=None, keepdim=False):
    if isinstance(x, Tensor):
        return x.prod() if dim is None else x.prod(dim, keepdim)
    return xp.prod(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim):
    if isinstance(x, Tensor):
        return x.cumsum(dim)
    return xp.cumsum(x, axis=dim)


def cumprod(x, dim):
    if isinstance(x, Tensor):
        return x.cumprod(dim)
    return xp.cumprod(x, axis=dim)


def flip(x, dim):
    if isinstance(x, Tensor):
        return x.flip(dim)
    return xp.flip(x, dim)


def diagonal(x, offset=0, dim1=0, dim2=1):
    if isinstance(x, Tensor):
        return x.diagonal(offset, dim1, dim2)
    return xp.diagonal(x, offset, dim1, dim2)


def cross(a, b, dim):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from dyngrad.ops.linalg import cross as t_cross

        return t_cross(*(v if isinstance(v, Tensor) else Tensor._make(v) for v in (a, b)), dim=dim)
    return xp.cross(a, b, axis=dim)


def einsum(equation: str, *operands):
    """NumPy's einsum on arrays (BLAS-backed contractions); dyngrad's when a tensor is involved."""
    if any(isinstance(o, Tensor) for o in operands):
        from dyngrad.ops.linalg import einsum as t_einsum

        return t_einsum(equation, *(o if isinstance(o, Tensor) else Tensor._make(xp.asarray(o))
                                    for o in operands))
    return xp.einsum(equation, *operands, optimize=len(operands) > 1)


def cat(xs, dim):
    if any(isinstance(x, Tensor) for x in xs):
        from dyngrad.ops.shape import cat as t_cat

        return t_cat([x if isinstance(x, Tensor) else Tensor._make(x) for x in xs], dim)
    return xp.concatenate(xs, dim)


sinh = _unary("sinh", xp.sinh)
cosh = _unary("cosh", xp.cosh)


def _np_sgn(a):
    """sign for reals; z / |z| (0 at 0) for complex numbers."""
    if a.dtype.kind != "c":
        return xp.sign(a)
    mag = xp.abs(a)
    return xp.where(mag == 0, 0, a / xp.where(mag == 0, 1, mag))


sgn = _unary("sgn", _np_sgn)


erfinv = _unary("erfinv", lambda a: _sp.erfinv(a).astype(a.dtype, copy=False))
digamma = _unary("digamma", lambda a: _sp.digamma(a).astype(a.dtype, copy=False))


def polygamma(n: int, x):
    if isinstance(x, Tensor):
        return x.polygamma(n)
    return _sp.polygamma(n, x).astype(x.dtype, copy=False)


# --- complex numbers (dyngrad.ops.complex) ------------------------------------------------------
_COMPLEX_OF = {xp.dtype(xp.float32): xp.complex64, xp.dtype(xp.float64): xp.complex128}


def real(x):
    """The real part (the array itself for real arrays; a view for complex ones)."""
    return x.real


def imag(x):
    if isinstance(x, Tensor):
        return x.imag
    return x.imag if x.dtype.kind == "c" else xp.zeros_like(x)


def view_as_complex(x):
    """(..., 2) real pairs as complex numbers (PyTorch's formula makes the tensor contiguous)."""
    if isinstance(x, Tensor):
        from dyngrad.ops.complex import view_as_complex as t_view_as_complex

        return t_view_as_complex(x.contiguous())
    return xp.ascontiguousarray(x).view(_COMPLEX_OF[x.dtype])[..., 0]


def view_as_real(x):
    """Complex numbers as (..., 2) real pairs."""
    if isinstance(x, Tensor):
        from dyngrad.ops.complex import view_as_real as t_view_as_real

        return t_view_as_real(x.contiguous().resolve_conj())
    return x[..., None].view(x.real.dtype)


def logcumsumexp(x, dim: int):
    if isinstance(x, Tensor):
        return x.logcumsumexp(dim)
    return xp.logaddexp.accumulate(x, axis=dim)


class _MaskedBackward(Node):
    """A formula's result recorded as depending, with zero derivative, on the saved tensor it
    reads only through a mask (see `masked_by`)."""

    def backward(self, grad):
        return grad, zeros_like(grad)


class _UnusedBackward(Node):
    """As `_MaskedBackward`, for PyTorch kernels whose derivative in that input is undefined
    (`autograd.grad` then says the input was not used)."""

    def backward(self, grad):
        return grad, None


_MASKED: dict = {}


def masked_by(result, saved, name: str, undefined: bool = False):
    """`result`, a backward formula's value that reads `saved` only through a mask (relu,
    leaky_relu, hardtanh, ...). PyTorch computes it with a `*_backward` op that takes `saved` as
    an input, so under `create_graph` the gradient requires grad when `saved` does (its
    derivative there being zero, or `undefined`) and its grad_fn is `name`; here it is recorded
    the same way."""
    if not isinstance(saved, Tensor) or not saved._requires_grad:
        return result
    from dyngrad.ops._core import record

    cls = _MASKED.get(name)
    if cls is None:
        base = _UnusedBackward if undefined else _MaskedBackward
        cls = _MASKED[name] = type(name, (base,), {"__module__": __name__})
    return record(cls, data(result), (result, saved))
