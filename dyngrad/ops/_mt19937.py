"""PyTorch's CPU random stream, so that `manual_seed(s)` gives PyTorch's numbers.

PyTorch's CPU generator is a Mersenne Twister (mt19937) seeded with the seed's low 32 bits, and
each of its CPU kernels turns the 32-bit outputs into samples its own way: uniforms keep the low
24 (float) or 53 (double, from two outputs) bits, integers are outputs modulo the range, normals
are Box-Muller pairs (16 at a time for large tensors, one pair at a time with the second value
cached for small ones), and the rejection samplers (Poisson, binomial, gamma, Dirichlet) take
uniforms and cached normals one at a time, element by element. `Stream` reproduces those
transforms in NumPy; NumPy's MT19937 bit generator, seeded with PyTorch's state, produces the
raw outputs. Values match PyTorch's bit for bit on x86-64 (tests/ops/test_random_stream.py);
docs/differences.md lists the kernels whose numbers still differ.
"""

from __future__ import annotations

import functools
import math
import struct
import threading

from dyngrad._backend import xp
from dyngrad.ops._fma import fma
from dyngrad.ops._serial_samplers import (
    _at_least_tiny,
    _row_sums,
    _sample_binomial,
    _sample_gamma,
    _sample_poisson,
    _Serial,
)

N = 624  # words of mt19937 state
STATE_SIZE = 5056  # bytes of PyTorch's CPUGeneratorImplState
_LAYOUT = struct.Struct("<qiiQ")  # initial seed, left, seeded, next; then 624 uint64 words
_NORMAL = struct.Struct("<dddi")  # normal_x, normal_y (the cached double), normal_rho, valid
_FLOAT_NORMAL = struct.Struct("<f?")
_U64 = xp.uint64
_MASK24, _MASK53 = _U64((1 << 24) - 1), _U64((1 << 53) - 1)
_CHUNK = 1 << 16  # values per Box-Muller pass (a multiple of 16)


def _init_genrand(seed: int):
    """mt19937's initial state for a 32-bit seed (Matsumoto and Nishimura's init_genrand)."""
    s = seed & 0xFFFFFFFF
    key = [s]
    for j in range(1, N):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key.append(s)
    return xp.array(key, dtype=xp.uint32)


class Stream:
    """One generator's state: the twister, its seed, and PyTorch's cached normal samples. Each
    public method draws under the stream's lock (`_atomic`), as PyTorch's kernels hold the
    generator's mutex: threads sharing a generator never interleave inside one call."""

    def __init__(self, seed: int):
        self.lock = threading.RLock()
        self.seed = seed
        self.bits = xp.random.MT19937()
        self.bits.state = {"bit_generator": "MT19937",
                           "state": {"key": _init_genrand(seed), "pos": N}}
        self.fresh = True  # no output drawn since seeding (PyTorch's state says next = 0)
        self.normal_cache = None  # the second value of the last Box-Muller pair (a double)
        self.float_normal = (0.0, False)  # PyTorch keeps a float one too; no CPU kernel uses it

    # --- raw outputs ------------------------------------------------------------------------
    def raw32(self, n: int):
        """n successive 32-bit outputs (PyTorch's `random()`), as uint64."""
        self.fresh = self.fresh and n == 0
        return self.bits.random_raw(n)

    def raw64(self, n: int):
        """n 64-bit values, each two outputs, the first the high half (`random64()`)."""
        r = self.raw32(2 * n)
        return (r[0::2] << _U64(32)) | r[1::2]

    def unit(self, n: int, dt):
        """n uniforms in [0, 1) as PyTorch's uniform_real_distribution makes them: float64 from
        53 bits of two outputs for double, else float32 from 24 bits of one (exact in float)."""
        if dt == xp.float64:
            return (self.raw64(n) & _MASK53).astype(xp.float64) * 2.0**-53
        return (self.raw32(n) & _MASK24).astype(xp.float32) * xp.float32(2.0**-24)

    # --- PyTorch's CPU kernels ----------------------------------------------------------------
    def uniform(self, shape: tuple, dt, low: float = 0.0, high: float = 1.0):
        """uniform_: u * (to - from) + from, with from and to first cast to the dtype; a value
        that rounds up to `to` becomes `from`, as in PyTorch, so the range stays [from, to)."""
        if dt.kind == "c":  # a complex tensor is filled as its real view
            return self.uniform((*shape, 2), _real(dt), low, high).view(dt)[..., 0]
        acc = xp.float64 if dt == xp.float64 else xp.float32  # float16 computes in float
        lo, hi = acc(low), acc(high)
        u = self.unit(_numel(shape), dt).astype(acc, copy=False)
        if lo == 0 and hi == 1:
            out = u.astype(dt)
        else:  # u * (to - from) + from as one fused multiply-add
            out = fma(u, hi - lo, lo, acc).astype(dt, copy=False)
        if lo != hi:
            out[out == dt.type(high)] = dt.type(low)
        return out.reshape(shape)

    def normal(self, shape: tuple, dt, mean: float = 0.0, std: float = 1.0,
               contiguous: bool = True):
        """normal_: Box-Muller on 16 values at a time for a contiguous tensor of 16 or more,
        else one value at a time from normal_distribution<double> (which caches)."""
        if dt.kind == "c":  # the real view, each part with variance std**2 / 2
            parts = self.normal((*shape, 2), _real(dt), mean, std / 2**0.5, contiguous)
            return parts.view(dt)[..., 0]
        n = _numel(shape)
        if n >= 16 and contiguous:
            return self._normal_fill(n, dt, mean, std).reshape(shape)
        return fma(self._normal_pairs(n), std, mean, xp.float64).astype(dt).reshape(shape)

    def _normal_pairs(self, n: int):
        """n normal_distribution<double> samples: a cached value first, then cos, sin pairs."""
        out = xp.empty(n)
        start = 0
        if n and self.normal_cache is not None:
            out[0], self.normal_cache, start = self.normal_cache, None, 1
        pairs = (n - start + 1) // 2
        if pairs:
            u = self.unit(2 * pairs, xp.float64)
            r = xp.sqrt(-2.0 * _log1p(-u[1::2]))
            theta = 2.0 * math.pi * u[0::2]
            both = xp.stack([r * _cos(theta), r * _sin(theta)], 1).ravel()
            out[start:] = both[:n - start]
            if (n - start) % 2:
                self.normal_cache = float(both[-1])
        return out

    def _normal_fill(self, n: int, dt, mean: float, std: float):
        """normal_fill: n uniforms, Box-Muller on each block of 16 (the first 8 values as
        1 - u1, the last 8 as u2); a ragged end redraws and recomputes the last 16. (float16's
        kernel draws uniforms for the whole blocks only, before the last 16.)"""
        acc = xp.float64 if dt == xp.float64 else xp.float32
        whole = n - n % 16
        data = xp.empty(n, acc)
        data[:whole if dt == xp.float16 else n] = self.unit(whole if dt == xp.float16 else n, dt)
        for i in range(0, whole, _CHUNK):  # in cache-sized pieces: twice as fast for large n
            piece = slice(i, min(i + _CHUNK, whole))
            data[piece] = _box_muller_16(data[piece], acc, mean, std)
        if n % 16:
            data[n - 16:] = _box_muller_16(self.unit(16, dt).astype(acc), acc, mean, std)
        return data.astype(dt, copy=False)

    def integers(self, shape: tuple, dt, low: int, high: int):
        """random_(from, to) and randint: output modulo the range, plus from; two outputs per
        value for ranges of 2**28 or more (one otherwise), which keeps the modulo bias small."""
        n, span = _numel(shape), high - low
        r = (self.raw64(n) if span >= 2**28 else self.raw32(n)) % _U64(span)
        return (r + _U64(low % 2**64)).view(xp.int64).astype(dt).reshape(shape)

    def full_range(self, shape: tuple, dt):
        """random_() with no range: [0, 2**mantissa] for floats, [0, max] for integers, the
        low bit for bool; int64 and double use two outputs per value."""
        n = _numel(shape)
        if dt.kind == "b":
            return (self.raw32(n) & _U64(1)).astype(dt).reshape(shape)
        r = self.raw64(n) if dt in (xp.int64, xp.float64) else self.raw32(n)
        top = 2 ** (xp.finfo(dt).nmant + 1) + 1 if dt.kind == "f" else int(xp.iinfo(dt).max) + 1
        return (r % _U64(top)).astype(dt).reshape(shape)

    def permutation(self, n: int):
        """randperm: swap each position i with one at i + (output mod (n - i))."""
        perm = list(range(n))
        if n > 1:
            steps = (self.raw32(n - 1) % xp.arange(n, 1, -1, dtype=_U64)).tolist()
            for i, z in enumerate(steps):
                j = i + z
                perm[i], perm[j] = perm[j], perm[i]
        return xp.array(perm, dtype=xp.int64)

    def bernoulli(self, shape: tuple, p: float):
        """bernoulli_(p) with a number p: u < p, u from 53 bits (the default CPU kernel)."""
        return self.unit(_numel(shape), xp.float64).reshape(shape) < p

    def bernoulli_tensor(self, p):
        """bernoulli_(p_tensor): u < p element by element, u drawn in p's precision."""
        return self.unit(p.size, p.dtype).reshape(p.shape) < p

    def exponential(self, size: tuple, dt, lambd: float):
        """exponential_: -log(1 - u) / lambda, in double."""
        u = self.unit(_numel(size), xp.float64)
        return ((-1.0 / lambd) * _log1p(-u)).astype(dt).reshape(size)

    def cauchy(self, size: tuple, dt, median: float, sigma: float):
        """cauchy_: median + sigma * tan(pi (u - 1/2)), in double (one rounding: an FMA)."""
        u = self.unit(_numel(size), xp.float64)
        return fma(_tan(math.pi * (u - 0.5)), sigma, median, xp.float64).astype(dt).reshape(size)

    def log_normal(self, size: tuple, dt, mean: float, std: float):
        """log_normal_: exp of normal_distribution<double>(mean, std) samples."""
        z = fma(self._normal_pairs(_numel(size)), std, mean, xp.float64)
        return _exp(z).astype(dt).reshape(size)

    def geometric(self, size: tuple, dt, p: float):
        """geometric_: ceil(log(u) / log(1 - p)), in double."""
        u = self.unit(_numel(size), xp.float64)
        return xp.ceil(_log(u) / math.log1p(-p)).astype(dt).reshape(size)

    def multinomial(self, rows, k: int, replacement: bool):
        """multinomial on a (rows, categories) float array: with replacement (k > 1), a search
        of u in each row's normalized cumulative sum; otherwise the k largest of p / e with e
        exponential(1) (one per entry, all rows first), argmax for k = 1."""
        if replacement and k > 1:
            out = xp.empty((len(rows), k), dtype=xp.int64)
            for i, row in enumerate(rows):
                cdf = xp.cumsum(row, dtype=row.dtype)
                cdf = cdf / cdf[-1]
                cdf[-1] = 1
                out[i] = xp.searchsorted(cdf.astype(xp.float64), self.unit(k, xp.float64))
            return out
        keys = rows / self.exponential(rows.shape, rows.dtype, 1.0)
        if k == 1:
            return xp.argmax(keys, axis=-1)[:, None]
        return xp.argsort(-keys, axis=-1, kind="stable")[:, :k]

    # --- the serial samplers of aten/src/ATen/native/Distributions.cpp -------------------------
    # One element at a time in memory order (cpu_serial_kernel), each drawing as many uniforms
    # (uniform_real_distribution<double>) and normals (normal_distribution<double>, with the
    # cached second value) as its rejection loop needs; arrays are C-contiguous, as the kernels'
    # freshly allocated outputs are, so memory order is `ravel` order.
    def standard_gamma(self, alpha):
        """_standard_gamma: sample_gamma per element in alpha's type (float or double), then at
        least the type's smallest normal number (so a NaN or zero shape gives that number)."""
        f32 = alpha.dtype == xp.float32
        with _Serial(self) as draw:
            out = [_sample_gamma(draw, a, f32) for a in alpha.ravel().tolist()]
        return _at_least_tiny(xp.array(out, xp.float64).astype(alpha.dtype)).reshape(alpha.shape)

    def dirichlet(self, alpha):
        """_sample_dirichlet: gamma draws in double (alpha converted to double), each at least
        double's smallest normal, divided by their sum over the last dim (PyTorch's summation
        order), then cast and clamped to [tiny, the largest value below 1] of alpha's type."""
        if alpha.size == 0:
            return xp.zeros(alpha.shape, alpha.dtype)
        with _Serial(self) as draw:
            out = [_sample_gamma(draw, a, False) for a in alpha.ravel().tolist()]
        k = alpha.shape[-1] if alpha.ndim else 1
        gamma = _at_least_tiny(xp.array(out, xp.float64)).reshape(-1, k)
        x = (gamma / _row_sums(gamma)[:, None]).astype(alpha.dtype).reshape(alpha.shape)
        x = _at_least_tiny(x)
        below_one = xp.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
        return xp.where(x < below_one, x, below_one)

    def poisson(self, rates):
        """poisson: sample_poisson per element, the rate in double, an int64 count."""
        with _Serial(self) as draw:
            out = [_sample_poisson(draw, lam) for lam in rates.ravel().tolist()]
        return xp.array(out, xp.int64).reshape(rates.shape)

    def binomial(self, count, prob):
        """binomial: sample_binomial per element in the parameters' type (float or double).
        A NaN count with prob in (0, 1) gives NaN without drawing (PyTorch loops forever)."""
        f32 = count.dtype == xp.float32
        out = []
        with _Serial(self) as draw:
            for n, p in zip(count.ravel().tolist(), prob.ravel().tolist(), strict=True):
                hangs = n != n and 0 < p < 1
                out.append(math.nan if hangs else _sample_binomial(draw, n, p, f32))
        return xp.array(out, xp.float64).astype(count.dtype).reshape(count.shape)

    # --- state, in PyTorch's byte layout ------------------------------------------------------
    def get_state(self) -> bytes:
        st = self.bits.state["state"]
        pos = int(st["pos"])
        left, nxt = (1, 0) if self.fresh else (N + 1 - pos, pos)
        cached = self.normal_cache
        return b"".join([
            _LAYOUT.pack(self.seed - (1 << 64) if self.seed >= 1 << 63 else self.seed, left, 1,
                         nxt),
            st["key"].astype(_U64).tobytes(),
            _NORMAL.pack(0.0, cached or 0.0, 0.0, cached is not None),
            b"\0" * 4,
            _FLOAT_NORMAL.pack(*self.float_normal),
            b"\0" * 3,
        ])

    @classmethod
    def from_state(cls, raw: bytes) -> Stream:
        seed, left, _, nxt = _LAYOUT.unpack_from(raw, 0)
        key = xp.frombuffer(raw, _U64, N, _LAYOUT.size).astype(xp.uint32)
        _, cached, _, valid = _NORMAL.unpack_from(raw, _LAYOUT.size + 8 * N)
        self = cls.__new__(cls)
        self.lock = threading.RLock()
        self.seed = seed % (1 << 64)
        self.bits = xp.random.MT19937()
        self.bits.state = {"bit_generator": "MT19937",
                           "state": {"key": key, "pos": N if left == 1 else nxt}}
        self.fresh = left == 1 and nxt == 0
        self.normal_cache = cached if valid else None
        self.float_normal = _FLOAT_NORMAL.unpack_from(raw, STATE_SIZE - 8)
        return self


def _atomic(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)

    return locked


for _name in ("raw32", "raw64", "unit", "uniform", "normal", "integers", "full_range",
              "permutation", "bernoulli", "bernoulli_tensor", "exponential", "cauchy",
              "log_normal", "geometric", "multinomial", "standard_gamma", "dirichlet", "poisson",
              "binomial", "get_state"):
    setattr(Stream, _name, _atomic(getattr(Stream, _name)))


def _numel(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _real(dt):
    return xp.dtype(dt.char.lower())  # complex64 -> float32, complex128 -> float64


# --- double-precision arithmetic as PyTorch's kernels round it ----------------------------------
def _libm(fn):
    """`fn` from Python's math module (the C library's, as PyTorch's kernels call it) over an
    array: NumPy's own float64 log, sin, ... differ from the C library's in the last bit."""
    vec = xp.frompyfunc(fn, 1, 1)
    return lambda a: vec(a).astype(xp.float64)


_log, _log1p, _exp, _cos, _sin, _tan = map(
    _libm, (math.log, math.log1p, math.exp, math.cos, math.sin, math.tan))


# --- Box-Muller on blocks of 16 -----------------------------------------------------------------
def _box_muller_16(data, acc, mean: float, std: float):
    """Each block of 16 uniforms becomes 16 normals: radius sqrt(-2 log(1 - u[j])) and angle
    2 pi u[j + 8] give u[j] -> r cos, u[j + 8] -> r sin. Doubles use libm-accurate functions;
    floats use the AVX2 kernel's polynomial log and sincos (`_log_ps`, `_sincos_ps`) and its
    fused multiply-adds, so the float values are PyTorch's to the bit."""
    blocks = data.reshape(-1, 2, 8)
    u1, u2 = 1 - blocks[:, 0], blocks[:, 1]
    if acc == xp.float64:
        radius = xp.sqrt(-2.0 * _log(u1))
        theta = 2.0 * math.pi * u2
        out = xp.stack([radius * _cos(theta), radius * _sin(theta)], 1)
        return fma(out, std, mean, xp.float64).reshape(-1)
    f = xp.float32
    radius = xp.sqrt(f(-2) * _log_ps(u1))
    sin, cos = _sincos_ps(f(2 * xp.pi) * u2)
    out = xp.stack([radius * cos, radius * sin], 1).reshape(-1)
    return fma(out, std, mean, f)


_fma32 = functools.partial(fma, work=xp.float32)


_LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
          3.3333331174e-1)


def _log_ps(x):
    """Cephes' single-precision log for x in (0, 1], as the AVX2 kernel evaluates it: x =
    m * 2**e with m in [sqrt(1/2), sqrt(2)), a degree-9 polynomial in m - 1."""
    f = xp.float32
    bits = xp.maximum(x, f(1.17549435e-38)).view(xp.int32)
    e = ((bits >> 23) - 126).astype(f)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(f)  # mantissa in [0.5, 1)
    small = m < f(0.707106781186547524)
    e = e - small
    m = m - f(1) + xp.where(small, m, f(0))
    z = m * m
    y = xp.full_like(m, f(_LOG_P[0]))
    for c in _LOG_P[1:]:
        y = _fma32(y, m, f(c))
    y = _fma32(y * m, z, e * f(-2.12194440e-4))
    y = y - z * f(0.5)
    return m + y + e * f(0.693359375)


def _sincos_ps(x):
    """Cephes' single-precision sine and cosine of x >= 0 (AVX2 kernel order): reduce by
    multiples of pi/4 in three parts, then one polynomial or the other per octant."""
    f = xp.float32
    j = ((x * f(1.27323954473516)).astype(xp.int32) + 1) & ~1
    y = j.astype(f)
    for dp in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8):
        x = x + y * f(dp)
    z = x * x
    c = _fma32(_fma32(xp.full_like(z, f(2.443315711809948e-5)), z, f(-1.388731625493765e-3)),
             z, f(4.166664568298827e-2))
    c = _fma32(c * z, z, -(z * f(0.5))) + f(1)
    s = _fma32(xp.full_like(z, f(-1.9515295891e-4)), z, f(8.3321608736e-3))
    s = _fma32(_fma32(s, z, f(-1.6666654611e-1)) * z, x, x)
    first = (j & 2) == 0  # octants where sin uses the sine polynomial
    sin = xp.where(first, s, c)
    cos = xp.where(first, c, s)
    return xp.where((j & 4) != 0, -sin, sin), xp.where(((j - 2) & 4) == 0, -cos, cos)
