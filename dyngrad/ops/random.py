"""Random numbers: generators and seeding, sampling factories, and the in-place random fills.

A `Generator` owns its own stream: PyTorch's Mersenne Twister and the transforms of PyTorch's CPU
kernels (`_mt19937.Stream`), so after `manual_seed(s)` rand, randn, randint, randperm, the
in-place fills, bernoulli, dropout, poisson, binomial and the gamma and Dirichlet samplers give
PyTorch's numbers (docs/differences.md lists the exceptions). Shapes, dtypes, argument checks,
error messages and grad_fn names follow PyTorch.

Sampled values do not depend differentiably on their parameters, so the nodes here pass zero
gradients back (PyTorch's convention: `normal(mean, std)` gives zero gradient to mean and std),
or none at all (binomial); `_standard_gamma` is the exception, reparameterized as in PyTorch.
"""

from __future__ import annotations

import contextlib
import math

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._device import check_device, device
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import OUT, check_broadcast, method, record
from dyngrad.ops._mt19937 import STATE_SIZE, Stream
from dyngrad.ops._serial_samplers import _c_exp, _c_log, _c_pow, _logf, _powf, _tanf
from dyngrad.ops.arithmetic import NotImplemented  # noqa: A004 - PyTorch's node name
from dyngrad.ops.creation import _new_tensor, _size_args
from dyngrad.ops.inplace import apply_inplace

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "rand", "randn", "randint", "rand_like", "randn_like", "randint_like",
    "randperm", "normal", "bernoulli", "multinomial", "poisson", "binomial", "_standard_gamma",
    "_standard_gamma_grad", "_sample_dirichlet", "_dirichlet_grad",
]

_DEFAULT_SEED = 67280421310721  # what a new torch.Generator() starts from


# --- generators --------------------------------------------------------------------------------
class Generator:
    """An independent random stream (`torch.Generator`); `manual_seed` makes it reproducible."""

    def __init__(self, device="cpu"):
        check_device(device)
        self._set_seed(_DEFAULT_SEED)

    def _set_seed(self, seed: int) -> None:
        self._seed = seed
        self._rng = Stream(seed)

    @property
    def device(self) -> device:
        return device("cpu")

    def manual_seed(self, seed) -> Generator:
        """Restart the stream from `seed` (any int in [-2**63, 2**64); negatives wrap)."""
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError("Overflow when unpacking long long")
        self._set_seed(seed % 2**64)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        new = int(xp.random.SeedSequence().generate_state(1, xp.uint64)[0])
        self._set_seed(new)
        return new

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The stream's state as a uint8 tensor, in PyTorch's layout (for `set_state`)."""
        return Tensor._make(xp.frombuffer(self._rng.get_state(), xp.uint8).copy())

    def set_state(self, new_state) -> Generator:
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != xp.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = new_state._data.tobytes()
        if len(raw) != STATE_SIZE:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG "
                f"state size to be {len(raw)}"
            )
        self._rng = Stream.from_state(raw)
        self._seed = self._rng.seed
        return self

    def clone_state(self) -> Generator:
        """A new generator at this one's position (they then draw the same numbers)."""
        return Generator().set_state(self.get_state())

    def get_offset(self) -> int:
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset) -> Generator:
        raise RuntimeError("CPU Generator does not use offset")

    def graphsafe_get_state(self):
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state):
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")


default_generator = Generator()
default_generator.seed()  # like PyTorch, a fresh process starts from a nondeterministic seed


def manual_seed(seed) -> Generator:
    """Seed the default generator, so that the program's random numbers repeat run to run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator nondeterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, **kwargs):
    """Run a block whose random draws leave the default generator's state as it was."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def _rng(generator) -> Stream:
    return (default_generator if generator is None else generator)._rng


# --- sampling helpers --------------------------------------------------------------------------
def _kernel_dtype_error(kernel: str, np_dtype) -> NotImplementedError:
    return NotImplementedError(
        f'"{kernel}" not implemented for \'{_dtype.FROM_NP[np_dtype]._short}\''
    )


def _uniform(rng, shape, dt, low=0.0, high=1.0):
    """Uniform floats in [low, high) of dtype `dt`."""
    if dt.kind not in "fc":
        raise _kernel_dtype_error("check_uniform_bounds", dt)
    return rng.uniform(shape, dt, low, high)


def _normal(rng, shape, dt, mean=0.0, std=1.0, contiguous=True):
    if dt.kind not in "fc":
        raise _kernel_dtype_error("normal_kernel_cpu", dt)
    return rng.normal(shape, dt, mean, std, contiguous)


def _in_memory_order(a, draw, *alongside):
    """`draw(shape, contiguous, *alongside)` for array `a`, drawn in the order of a's memory,
    as PyTorch's serial kernels walk a strided tensor (a transposed view is filled along its
    base); arrays `alongside`, of a's shape, are walked with it."""
    if a.flags.c_contiguous:
        return draw(a.shape, True, *alongside)
    order = sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]))
    data = draw(tuple(a.shape[i] for i in order), False, *(b.transpose(order) for b in alongside))
    return data.transpose(xp.argsort(order))


def _factory_dtype(dtype) -> xp.dtype:
    return (_dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)).np


def _fmt(v) -> str:
    """A number as PyTorch's C++ messages print it (2, 2.5, 1e-07)."""
    return f"{float(v):g}" if isinstance(v, float) else str(v)


def _finish(data, requires_grad: bool, out) -> Tensor:
    t = _new_tensor(data, requires_grad)
    if out is None:
        return t
    from dyngrad.ops.arithmetic import _out

    return _out(t, out, "out")


# --- factories ---------------------------------------------------------------------------------
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """Uniform samples from [0, 1)."""
    check_device(device)
    data = _uniform(_rng(generator), _size_args(size), _factory_dtype(dtype))
    return _finish(data, requires_grad, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False) -> Tensor:
    """Standard normal samples."""
    check_device(device)
    data = _normal(_rng(generator), _size_args(size), _factory_dtype(dtype))
    return _finish(data, requires_grad, out)


_C_INT_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short",
                "int32": "int", "int64": "long"}


def _check_int_range(low: int, high: int, dt) -> None:
    """PyTorch's checks of [low, high) against `dt`, the dtype the integers are drawn in."""
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={_fmt(low)} >= "
            f"to={_fmt(high)}"
        )
    if dt.kind in "iu":
        info = xp.iinfo(dt)
        if not info.min <= low <= info.max:
            raise RuntimeError(f"from is out of bounds for {_C_INT_NAMES[dt.name]}")
        if not info.min <= high - 1 <= info.max:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_INT_NAMES[dt.name]}")


def _integers(rng, low: int, high: int, shape, dt):
    """Integers drawn from [low, high), stored as dtype `dt`."""
    return rng.integers(shape, dt, low, high)


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Integers from [low, high) (low defaults to 0): `randint(high, size)` or
    `randint(low, high, size)`; int64 unless `dtype` says otherwise."""
    check_device(device)
    args = list(args)
    if size is None and args:
        size = args.pop()
    pos = len(args) + 1
    if high is None:
        high = args.pop() if args else None
    if low is None:
        low = args.pop() if args else 0
    if high is None or size is None:
        raise TypeError("randint() missing required arguments 'high' and 'size'")
    if not isinstance(size, tuple | list):
        raise TypeError(
            f"randint(): argument 'size' (position {pos}) must be tuple of ints, not "
            f"{type(size).__name__}"
        )
    low, high = int(low), int(high)
    for v in (low, high):
        if not -(2**63) <= v < 2**63:
            raise ValueError("Overflow when unpacking long long")
    dt = _dtype.int64.np if dtype is None else _dtype.as_dtype(dtype).np
    _check_int_range(low, high, dt)
    data = _integers(_rng(generator), low, high, _size_args((size,)), dt)
    return _finish(data, requires_grad, out)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return rand(input._data.shape, dtype=input.dtype if dtype is None else dtype, device=device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return randn(input._data.shape, dtype=input.dtype if dtype is None else dtype, device=device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    """randint with input's shape and dtype: `randint_like(x, high)` or `(x, low, high)`."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input._data.shape),
                   dtype=input.dtype if dtype is None else dtype, device=device,
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless `dtype` says otherwise)."""
    check_device(device)
    n = _size_args((n,))[0]
    dt = _dtype.int64.np if dtype is None else _dtype.as_dtype(dtype).np
    return _finish(_rng(generator).permutation(n).astype(dt), requires_grad, out)


# --- distributions with tensor parameters ------------------------------------------------------
class _ZeroGrad(Node):
    """A sample: zero gradient for every tensor parameter, as PyTorch defines it."""

    def backward(self, grad):
        grads = tuple(None if n is None else P.zeros_like(grad) for n, _ in self._next)
        return grads[0] if len(grads) == 1 else grads


def _zero_grad_node(name: str) -> type:
    return type(name, (_ZeroGrad,), {"__module__": __name__})


NormalBackward0, NormalBackward1, NormalBackward2, NormalBackward3 = (
    _zero_grad_node(f"NormalBackward{i}") for i in range(4)
)
BernoulliBackward0, BernoulliBackward1, BernoulliBackward2 = (
    _zero_grad_node(f"BernoulliBackward{i}") for i in range(3)
)
UniformBackward0 = _zero_grad_node("UniformBackward0")
RandomBackward0, RandomBackward1, RandomBackward2 = (
    _zero_grad_node(f"RandomBackward{i}") for i in range(3)
)
ExponentialBackward0 = _zero_grad_node("ExponentialBackward0")
CauchyBackward0 = _zero_grad_node("CauchyBackward0")
LogNormalBackward0 = _zero_grad_node("LogNormalBackward0")
GeometricBackward0 = _zero_grad_node("GeometricBackward0")
PoissonBackward0 = _zero_grad_node("PoissonBackward0")


def _check_std(std: float) -> None:
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Normal samples; `mean` and `std` may each be a tensor (broadcast together) or a number,
    and with two numbers `size` gives the shape."""
    rng = _rng(generator)
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got "
                f"({type(mean).__name__}, {type(std).__name__})"
            )
        check_device(device)
        _check_std(std)
        data = _normal(rng, _size_args((size,)), _factory_dtype(dtype), mean, std)
        return _finish(data, requires_grad, out)
    if mean_t and std_t:
        m, s = mean._data, std._data
        if m.shape != s.shape:
            check_broadcast(m.shape, s.shape)
        if (s < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        cls, inputs = NormalBackward3, (mean, std)
    elif mean_t:
        m, s = mean._data, std
        _check_std(std)
        cls, inputs = NormalBackward1, (mean,)
    else:
        m, s = mean, std._data
        if (s < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        cls, inputs = NormalBackward2, (std,)
    dt = (mean if mean_t else std)._data.dtype
    shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    # PyTorch's order: standard normals (scaled by a number std in the kernel), then * std, + mean
    if std_t:
        data = (_normal(rng, shape, dt) * s).astype(dt, copy=False) + m
    else:
        data = _normal(rng, shape, dt, 0.0, s) + m
    data = data.astype(dt, copy=False)
    res = record(cls, data, inputs)
    if out is None:
        return res
    from dyngrad.ops.arithmetic import _out

    return _out(res, out, "normal")


def _bernoulli_sample(rng, p, shape, dt):
    """1 with probability p (a number, or an array broadcast to `shape`), as dtype `dt`."""
    if isinstance(p, xp.ndarray):
        if p.dtype.kind != "f":
            p = p.astype(xp.float32)
        return rng.bernoulli_tensor(xp.broadcast_to(p, shape)).astype(dt)
    return rng.bernoulli(shape, p).astype(dt)


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples: 1 with probability `input` (or with probability `p` for every element)."""
    dt = input._data.dtype
    rng = _rng(generator)
    if p is not None:
        _check_p("bernoulli_", p)
        data = _bernoulli_sample(rng, p, input._data.shape, dt)
        return record(NotImplemented, data, (input,), op="bernoulli")
    if dt.kind != "f":
        raise _kernel_dtype_error("bernoulli_tensor_cpu_p_", dt)
    probs = input._data
    if ((probs < 0) | (probs > 1)).any():
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
            "be improved?  If so, please report an enhancement request to PyTorch.)"
        )
    res = record(BernoulliBackward0, _bernoulli_sample(rng, probs, probs.shape, dt), (input,))
    if out is None:
        return res
    from dyngrad.ops.arithmetic import _out

    return _out(res, out, "bernoulli")


def _check_p(fname: str, p) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"{fname} expects p to be in [0, 1], but got p={_fmt(p)}")


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None,
                out=None) -> Tensor:
    """Indices drawn from the categories of each row, weighted by the row's values."""
    w = input._data
    if w.dtype.kind != "f":
        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{_dtype.FROM_NP[w.dtype]._short}"
        )
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > w.shape[-1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    rows = w.reshape(-1, w.shape[-1])
    if not xp.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    idx = _rng(generator).multinomial(rows, num_samples, replacement)
    data = idx.reshape(w.shape[:-1] + (num_samples,)).astype(xp.int64)
    return _finish(data, False, out)


def poisson(input, generator=None) -> Tensor:
    """Poisson samples with rates `input` (floats holding counts)."""
    if not isinstance(input, Tensor):
        raise TypeError("poisson(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    rates = input._data
    if rates.dtype.kind != "f":
        raise _kernel_dtype_error("poisson_cpu", rates.dtype)
    rng = _rng(generator)
    bad = xp.flatnonzero(~(rates >= 0))
    if bad.size:  # PyTorch's kernel checks each rate as it comes to it
        rng.poisson(rates.ravel()[:bad[0]])
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    counts = rng.poisson(rates)  # int64; an infinite rate gives int64's minimum, as in PyTorch
    return record(PoissonBackward0, counts.astype(rates.dtype), (input,))


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial samples: successes in `count` trials of probability `prob` (0 for a count or
    probability of 0 or less, `count` for a probability of 1 or more, NaN for a NaN
    probability, or a NaN count with a probability in (0, 1)). No derivative exists."""
    if not isinstance(count, Tensor):
        raise TypeError("binomial(): argument 'count' (position 1) must be Tensor, not "
                        f"{type(count).__name__}")
    if not isinstance(prob, Tensor):
        raise TypeError("binomial(): argument 'prob' (position 2) must be Tensor, not "
                        f"{type(prob).__name__}")
    n, p = count._data, prob._data
    if n.dtype.kind != "f":
        raise ValueError("binomial only supports floating-point dtypes for count, got: "
                         f"{_dtype.FROM_NP[n.dtype]._short}")
    if p.dtype != n.dtype:
        raise RuntimeError(f"Found dtype {_dtype.FROM_NP[p.dtype]._short} but expected "
                           f"{_dtype.FROM_NP[n.dtype]._short}")
    if n.shape != p.shape:
        check_broadcast(n.shape, p.shape)
    if n.dtype not in (xp.float32, xp.float64):
        raise _kernel_dtype_error("binomial_cpu", n.dtype)
    data = _rng(generator).binomial(*xp.broadcast_arrays(n, p))
    return record(NotImplemented, data, (count, prob), op="binomial")


# --- gamma and Dirichlet draws, and their reparameterization gradients -------------------------
class StandardGammaBackward0(Node):
    """A Gamma(alpha, 1) draw x moves with alpha at a fixed CDF value: dx/dalpha =
    _standard_gamma_grad(alpha, x)."""

    _saved_names = ("self", "result")

    def backward(self, grad):
        alpha, x = self.saved_tensors
        if P.is_tensor(alpha):  # create_graph: a recorded op, whose own derivative raises
            return grad * _standard_gamma_grad(alpha, x)
        return grad * _gamma_grad_kernel(alpha, x)


class StandardGammaGradBackward0(Node):
    def backward(self, grad):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


def _check_float_kernel(kernel: str, *arrays) -> None:
    """PyTorch's AT_DISPATCH_FLOATING_TYPES: float and double only; the others' dtypes must be
    the first's."""
    dt = arrays[0].dtype
    for other in arrays[1:]:
        if other.dtype != dt:
            raise RuntimeError(f"Found dtype {_dtype.FROM_NP[other.dtype]._short} but expected "
                               f"{_dtype.FROM_NP[dt]._short}")
    if dt not in (xp.float32, xp.float64):
        raise _kernel_dtype_error(kernel, dt)


def _tensor_arg(fname: str, name: str, pos: int, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(value).__name__}")


def _standard_gamma(input, generator=None) -> Tensor:
    """Gamma(input, 1) samples, differentiable in the shape `input` (the draw moves with it at
    a fixed CDF value)."""
    _tensor_arg("_standard_gamma", "input", 1, input)
    _check_float_kernel("gamma_cpu", input._data)
    data = _rng(generator).standard_gamma(input._data)
    return record(StandardGammaBackward0, data, (input,), save=(input, OUT))


def _standard_gamma_grad(input, output) -> Tensor:
    """d output / d input for Gamma(input, 1) draws `output` (PyTorch's approximation)."""
    _tensor_arg("_standard_gamma_grad", "input", 1, input)
    _tensor_arg("_standard_gamma_grad", "output", 2, output)
    _check_float_kernel("_standard_gamma_grad_cpu", input._data, output._data)
    data = _gamma_grad_kernel(input._data, output._data)
    return record(StandardGammaGradBackward0, data, (input,))


def _sample_dirichlet(input, generator=None) -> Tensor:
    """Dirichlet samples with concentrations `input` (the last dim is the simplex's)."""
    _tensor_arg("_sample_dirichlet", "input", 1, input)
    _check_float_kernel("dirichlet", input._data)
    data = _rng(generator).dirichlet(input._data)
    return record(NotImplemented, data, (input,), op="_sample_dirichlet")


def _dirichlet_grad(x, alpha, total) -> Tensor:
    """dx/dalpha of the Beta(alpha, total - alpha) draws x (PyTorch's approximation, which
    Dirichlet's reparameterization builds on)."""
    for pos, (name, value) in enumerate((("x", x), ("alpha", alpha), ("total", total)), 1):
        _tensor_arg("_dirichlet_grad", name, pos, value)
    _check_float_kernel("_dirichlet_grad_cpu", x._data, alpha._data, total._data)
    data = _dirichlet_grad_kernel(x._data, alpha._data, total._data)
    return record(NotImplemented, data, (x, alpha, total), op="_dirichlet_grad")


def _over_arrays(fn, nin: int, dt):
    """A C math function of floats (`_c_log`, `logf`, ...) over arrays, results as `dt`."""
    ufunc = xp.frompyfunc(fn, nin, 1)
    return lambda *arrays: xp.asarray(ufunc(*arrays), dt)


_LOG = {xp.dtype(xp.float64): _over_arrays(_c_log, 1, xp.float64),
        xp.dtype(xp.float32): _over_arrays(_logf, 1, xp.float32)}
_POW = {xp.dtype(xp.float64): _over_arrays(_c_pow, 2, xp.float64),
        xp.dtype(xp.float32): _over_arrays(_powf, 2, xp.float32)}
_TAN = {xp.dtype(xp.float64): _over_arrays(math.tan, 1, xp.float64),
        xp.dtype(xp.float32): _over_arrays(_tanf, 1, xp.float32)}
_log, _pow, _exp = _LOG[xp.dtype(xp.float64)], _POW[xp.dtype(xp.float64)], _over_arrays(
    _c_exp, 1, xp.float64)
_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
              -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
              8.33333333333333333333e-2)


def _digamma_one(x):
    """Distributions.h's digamma_one<scalar_t, double> on an array of scalar_t (float32 or
    float64): reflection below 0, the recurrence up to 10, then the asymptotic series, with
    1 / x, x + 1, x * x and log x in scalar_t and the sums in double."""
    t, f64 = x.dtype.type, xp.float64
    pole = (x == 0) | ((x < 0) & (x == xp.floor(x)))
    reflect = (x < 0) & ~pole
    extra = xp.zeros(x.shape)
    pi = t(math.pi)
    extra[reflect] = -pi / _TAN[x.dtype](pi * x[reflect])
    x = xp.where(reflect, t(1) - x, x)
    result = xp.zeros(x.shape)
    low = (x < 10) & ~pole
    while low.any():
        result = xp.where(low, result - (t(1) / x).astype(f64), result)
        x = xp.where(low, x + t(1), x)
        low &= x < 10
    z = 1.0 / (x * x).astype(f64)
    series = xp.zeros(x.shape)
    for c in _DIGAMMA_A:
        series = series * z + c
    y = xp.where(x < xp.float32(1e17), z * series, 0.0)
    out = result + _LOG[x.dtype](x).astype(f64) - (t(0.5) / x).astype(f64) - y + extra
    out = xp.where(x == 10, result + _PSI_10 + extra, out)
    return xp.where(pole, xp.inf, out).astype(t)


_GAMMA_GRAD_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
     0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
     -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
     0.00085092367, -1.5247877e-07),
)


def _gamma_grad_kernel(alpha, x):
    """standard_gamma_grad_one<scalar_t, double>: -(d/dalpha CDF(x; alpha)) / pdf(x; alpha),
    in double: a Taylor series for x < 0.8, Rice's saddle point expansion for alpha > 8,
    else a bivariate rational fit in log(x / alpha) and log(alpha)."""
    shape, dt = xp.broadcast_shapes(alpha.shape, x.shape), alpha.dtype
    a, x = (xp.broadcast_to(v, shape).astype(xp.float64).reshape(-1) for v in (alpha, x))
    with xp.errstate(all="ignore"):
        numer, denom = xp.ones_like(x), a
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = _pow(x, a)
        pdf = _pow(x, a - 1) * _exp(-x)
        cdf_alpha = ((_log(x) - _digamma_one(a)) * (pow_x_alpha * series1)
                     - pow_x_alpha * series2)
        taylor = -cdf_alpha / pdf
        taylor = xp.where(xp.isnan(taylor), 0.0, taylor)
        near = (1 + 24 * a * (1 + 12 * a)) * (
            1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)
        ) / (1244160 * (a * a) * (a * a))
        denom = xp.sqrt(8 * a)
        term2 = denom / (a - x)
        term3 = _pow(x - a - a * _log(x / a), -1.5)
        term23 = xp.where(x < a, term2 - term3, term2 + term3)
        term1 = _log(x / a) * term23 - xp.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        saddle = xp.where((xp.float32(0.9) * a <= x) & (x <= xp.float32(1.1) * a), near,
                          -stirling * (x * term1) / denom)
        u, v = _log(x / a), _log(a)
        c = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_GRAD_UV, strict=True)]
        p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
        q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
        rational = _exp(p / q)
    out = xp.where(x < xp.float32(0.8), taylor, xp.where(a > 8, saddle, rational))
    return out.astype(dt).reshape(shape)


_DIRICHLET_GRAD_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)


def _dirichlet_grad_kernel(x, alpha, total):
    """dirichlet_grad_one<scalar_t, double>: dx/dalpha of a Beta(alpha, total - alpha) draw x
    over (1 - x): Taylor series near x = 0 and x = 1 (in scalar_t), Rice's saddle point
    expansion when both parameters pass 6, else a rational correction of an analytic
    approximation (in double)."""
    f64, shape = xp.float64, xp.broadcast_shapes(x.shape, alpha.shape, total.shape)
    x, alpha, total = (xp.broadcast_to(v, shape).reshape(-1) for v in (x, alpha, total))
    x_, alpha_, total_ = (v.astype(f64) for v in (x, alpha, total))
    with xp.errstate(all="ignore"):
        beta = total - alpha
        boundary = total * x * (1 - x)
        near_zero = _beta_grad_alpha_small(x, alpha, beta)
        near_one = -_beta_grad_beta_small(1 - x, beta, alpha)
        mid = _beta_grad_alpha_mid(x_, alpha_, total_ - alpha_).astype(x.dtype)
        u = _log(x_)
        a = _log(alpha_) - u
        b = _log(total_) - a
        p = q = 0.0
        for i, pow_u in enumerate((1.0, u, u * u)):
            for j, pow_a in enumerate((1.0, a, a * a)):
                ua = pow_u * pow_a
                c, d = _DIRICHLET_GRAD_C[0][i][j], _DIRICHLET_GRAD_C[1][i][j]
                p = p + ua * (c[0] + b * (c[1] + b * (c[2] + b * c[3])))
                q = q + ua * (d[0] + b * (d[1] + b * (d[2] + b * d[3])))
        digammas = (_digamma_one(total) - _digamma_one(alpha)).astype(f64)
        rational = (p / q * (x_ * digammas / (total_ - alpha_))).astype(x.dtype)
    out = xp.where((x <= 0.5) & (boundary < 2.5), near_zero,
                   xp.where((x >= 0.5) & (boundary < 0.75), near_one,
                            xp.where((alpha > 6) & (beta > 6), mid, rational)))
    return out.reshape(shape)


def _beta_grad_alpha_small(x, alpha, beta):
    """_beta_grad_alpha_small: the Taylor series at x = 0, in scalar_t (0 where NaN)."""
    t = x.dtype.type
    factor = _digamma_one(alpha) - _digamma_one(alpha + beta) - _LOG[x.dtype](x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in map(t, range(1, 11)):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * _POW[x.dtype](1 - x, -beta) * series
    return xp.where(xp.isnan(result), t(0), result)


def _beta_grad_beta_small(x, alpha, beta):
    """_beta_grad_beta_small: the Taylor series for the other parameter at x = 0, in
    scalar_t (0 where NaN)."""
    t = x.dtype.type
    factor = _digamma_one(alpha + beta) - _digamma_one(beta)
    numer, betas, dbetas = xp.ones_like(x), xp.ones_like(x), xp.zeros_like(x)
    series = factor / alpha
    for i in map(t, range(1, 9)):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -_POW[x.dtype](1 - x, 1 - beta) * series
    return xp.where(xp.isnan(result), t(0), result)


def _beta_grad_alpha_mid(x, alpha, beta):
    """_beta_grad_alpha_mid: Rice's saddle point expansion, in double (a polynomial near the
    mean, where the expansion is singular)."""
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1)) / total
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    at_mean = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / xp.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (xp.sqrt(2 * alpha / beta) * _pow(total, 1.5) * axbx * axbx)
    term2 = 0.5 * _log(alpha / (total * x))
    term3 = xp.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = _pow(beta * _log(beta / (total * (1 - x))) + alpha * _log(alpha / (total * x)),
                 -1.5)
    term1234 = term1 + term2 * (term3 + xp.where(x < mean, term4, -term4))
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    return xp.where(near, at_mean, stirling * prefactor * term1234)


# --- in-place fills ----------------------------------------------------------------------------
def _fill_method(name: str, sample):
    """Attach `Tensor.<name>(*args, generator=None)`: an in-place fill recorded like any in-place
    op (leaf checks, version counter, views); `sample(rng, t, *args)` returns (data, node class,
    extra tensor inputs)."""

    def op(t, *args, generator=None):
        data, cls, extra = sample(_rng(generator), t, *args)
        return record(cls, data, (t, *extra))

    def fill_(self, *args, generator=None):
        return apply_inplace(self, op, *args, name=name, generator=generator)

    fill_.__name__ = name
    method(name)(fill_)


def _uniform_fill(rng, t, low=0.0, high=1.0):
    if low > high:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_fmt(low)} > "
            f"to={_fmt(high)}"
        )
    dt = t._data.dtype
    data = _in_memory_order(t._data, lambda shape, _: _uniform(rng, shape, dt, low, high))
    return data, UniformBackward0, ()


def _normal_fill(rng, t, mean=0.0, std=1.0):
    _check_std(std)
    dt = t._data.dtype
    data = _in_memory_order(t._data, lambda shape, c: _normal(rng, shape, dt, mean, std, c))
    return data, NormalBackward0, ()


def _bernoulli_fill(rng, t, p=0.5):
    a, dt = t._data, t._data.dtype
    if isinstance(p, Tensor):
        probs = xp.broadcast_to(p._data, a.shape)
        data = _in_memory_order(a, lambda shape, _, q: _bernoulli_sample(rng, q, shape, dt), probs)
        return data, BernoulliBackward1, (p,)
    _check_p("bernoulli_", p)
    return _in_memory_order(a, lambda shape, _: _bernoulli_sample(rng, p, shape, dt)), \
        BernoulliBackward2, ()


def _random_fill(rng, t, low=None, high=None):
    """random_(): [0, 2**mantissa] for floats, the dtype's range for integers; random_(to) and
    random_(from, to) draw from [from, to)."""
    dt = t._data.dtype
    if low is None:  # random_()
        return _in_memory_order(t._data, lambda shape, _: rng.full_range(shape, dt)), \
            RandomBackward2, ()
    if high is None:  # random_(to)
        cls, low, high = RandomBackward1, 0, low
    else:
        cls = RandomBackward0
    low, high = int(low), int(high)
    _check_int_range(low, high, dt)
    return _in_memory_order(t._data, lambda shape, _: _integers(rng, low, high, shape, dt)), cls, ()


def _continuous_only(name: str, t, type_name) -> None:
    if t._data.dtype.kind != "f":
        raise RuntimeError(
            f"{name} distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {type_name(t)}"
        )


def _exponential_fill(rng, t, lambd=1.0):
    _continuous_only("Exponential", t, lambda t: t.dtype._short)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    dt = t._data.dtype
    data = _in_memory_order(t._data, lambda size, _: rng.exponential(size, dt, lambd))
    return data, ExponentialBackward0, ()


def _cauchy_fill(rng, t, median=0.0, sigma=1.0):
    from dyngrad._tensor import _c_name

    _continuous_only("Cauchy", t, lambda t: _c_name(t.dtype))
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    dt = t._data.dtype
    data = _in_memory_order(t._data, lambda size, _: rng.cauchy(size, dt, median, sigma))
    return data, CauchyBackward0, ()


def _log_normal_fill(rng, t, mean=1.0, std=2.0):
    if t._data.dtype.kind != "f":
        raise _kernel_dtype_error("log_normal_cpu", t._data.dtype)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    dt = t._data.dtype
    data = _in_memory_order(t._data, lambda size, _: rng.log_normal(size, dt, mean, std))
    return data, LogNormalBackward0, ()


def _geometric_fill(rng, t, p):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    dt = t._data.dtype
    data = _in_memory_order(t._data, lambda size, _: rng.geometric(size, dt, p))
    return data, GeometricBackward0, ()


for _name, _sample in (("uniform_", _uniform_fill), ("normal_", _normal_fill),
                       ("bernoulli_", _bernoulli_fill), ("random_", _random_fill),
                       ("exponential_", _exponential_fill), ("cauchy_", _cauchy_fill),
                       ("log_normal_", _log_normal_fill), ("geometric_", _geometric_fill)):
    _fill_method(_name, _sample)

method("bernoulli")(bernoulli)
method("multinomial")(multinomial)
