"""Random numbers: generators and seeding, sampling factories, and the in-place random fills.

A `Generator` owns its own stream: PyTorch's Mersenne Twister and the transforms of PyTorch's CPU
kernels (`_mt19937.Stream`), so after `manual_seed(s)` rand, randn, randint, randperm, the
in-place fills, bernoulli and dropout give PyTorch's numbers (docs/differences.md lists the
samplers that do not yet). Shapes, dtypes, argument checks, error messages and grad_fn names
follow PyTorch.

Sampled values do not depend differentiably on their parameters, so every node here passes zero
gradients back (PyTorch's convention: `normal(mean, std)` gives zero gradient to mean and std).
"""

from __future__ import annotations

import contextlib

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._device import check_device, device
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.ops import _poly as P
from dyngrad.ops._core import check_broadcast, method, record
from dyngrad.ops._mt19937 import STATE_SIZE, Stream
from dyngrad.ops.arithmetic import NotImplemented  # noqa: A004 - PyTorch's node name
from dyngrad.ops.creation import _new_tensor, _size_args
from dyngrad.ops.inplace import apply_inplace

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "rand", "randn", "randint", "rand_like", "randn_like", "randint_like",
    "randperm", "normal", "bernoulli", "multinomial", "poisson", "binomial",
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
    if not (rates >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    finite = xp.isfinite(rates)
    counts = _rng(generator).numpy().poisson(xp.where(finite, rates, 0.0))
    data = xp.where(finite, counts, xp.iinfo(xp.int64).min).astype(rates.dtype)  # inf: PyTorch
    return record(PoissonBackward0, data, (input,))  # casts its int64 overflow


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial samples: successes in floor(count) trials of probability prob (clipped to
    [0, 1]; NaN where prob is NaN). No derivative exists."""
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
    n, p = xp.broadcast_arrays(n, p)
    valid = ~xp.isnan(p) & xp.isfinite(n)
    trials = xp.where(valid, xp.floor(xp.clip(n, 0, None)), 0).astype(xp.int64)
    draws = _rng(generator).numpy().binomial(trials, xp.where(valid, xp.clip(p, 0, 1), 0))
    data = xp.where(valid, draws, xp.nan).astype(n.dtype)
    return record(NotImplemented, data, (count, prob), op="binomial")


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
