"""The serial samplers of PyTorch's aten/src/ATen/native/Distributions.cpp, draw by draw:
gamma (Marsaglia and Tsang), Poisson (Hoermann's transformed rejection, or products of
uniforms), binomial (BTRS, or inversion), and the Dirichlet normalization's summation order.

Each element's rejection loop takes as many uniforms and normals as it needs, so these run one
element at a time in Python, on Python floats rounded as the C code rounds them (float
arithmetic where PyTorch's kernel computes in float, the C library's lgamma, logf, powf, ...).
`Stream` (ops/_mt19937.py) calls them with a `_Serial` over its twister.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import struct

from dyngrad._backend import xp


class _Serial:
    """The draws of one serial kernel, one at a time: `uniform()` is uniform_real_distribution
    <double> and `normal()` normal_distribution<double> (Box-Muller, taking and leaving the
    stream's cached second value). Uniforms are read ahead in blocks; leaving the `with` block
    rewinds the twister and redraws just those used, so the stream ends where PyTorch's does."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self) -> _Serial:
        s = self.stream
        self.start, self.fresh, self.cache, self.used = s.bits.state, s.fresh, s.normal_cache, 0
        self.ahead = self._blocks()
        return self

    def __exit__(self, *exc) -> None:
        s = self.stream
        s.bits.state, s.fresh = self.start, self.fresh
        s.raw32(2 * self.used)
        s.normal_cache = self.cache

    def _blocks(self):
        size = 16
        while True:
            yield from self.stream.unit(size, xp.float64).tolist()
            size = min(4 * size, 1 << 16)

    def uniform(self) -> float:
        self.used += 1
        return next(self.ahead)

    def normal(self) -> float:
        if self.cache is not None:
            value, self.cache = self.cache, None
            return value
        u1, u2 = self.uniform(), self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.cache = r * math.sin(theta)
        return r * math.cos(theta)


_THIRD = 0.3333333432674408  # 1.0f / 3.0f
_F0331 = 0.033100001513957977  # 0.0331f


def _sample_gamma(draw: _Serial, alpha: float, f32: bool) -> float:
    """sample_gamma: Marsaglia and Tsang's squeeze-rejection, alpha < 1 boosted to alpha + 1
    with the factor U**(1/alpha). alpha, 1/alpha, alpha + 1 and alpha - 1/3 are computed in
    the input's type (`f32`: float; the constants are floats such as 1.0f / 3.0f), the rest in
    double. Returns the double sample (0 for alpha = 0, NaN for a NaN or too negative alpha)."""
    t = _f32 if f32 else float
    scale = 1.0
    if alpha < 1:
        if alpha == 0:
            return 0.0
        scale *= _c_pow(1 - draw.uniform(), t(1.0 / alpha))
        alpha = t(alpha + 1)
    d = t(alpha - _THIRD)
    c = _c_div(1.0, _c_sqrt(9.0 * d))
    while True:
        x = draw.normal()
        y = 1.0 + c * x
        while y <= 0:
            x = draw.normal()
            y = 1.0 + c * x
        v = y * y * y
        u = 1 - draw.uniform()
        xx = x * x
        if u < 1.0 - _F0331 * xx * xx or _c_log(u) < 0.5 * xx + d * (1.0 - v + _c_log(v)):
            return scale * d * v


def _transformed_point(draw: _Serial) -> tuple:
    """One point of Hoermann's transformed rejection (Poisson's PTRS, binomial's BTRS): u in
    [-1/2, 1/2), v in [0, 1), drawn in that order, and us = 1/2 - |u|."""
    u = draw.uniform() - 0.5
    v = draw.uniform()
    return u, v, 0.5 - abs(u)


def _sample_poisson(draw: _Serial, lam: float) -> int:
    """sample_poisson: Hoermann's transformed rejection (PTRS) for rates of 10 or more, else
    multiplying uniforms until the product falls to exp(-rate). All in double; k is an int64
    (an infinite rate gives int64's minimum, x86's conversion of an out-of-range double)."""
    if lam >= 10:
        slam, loglam = math.sqrt(lam), _c_log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u, v, us = _transformed_point(draw)
            if us == 0:  # k = floor(-inf) < 0: rejected
                continue
            k = _int64(_c_floor((2 * a / us + b) * u + lam + 0.43))
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (_c_log(v) + _c_log(invalpha) - _c_log(a / (us * us) + b)
                    <= -lam + k * loglam - _lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam, count, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= draw.uniform()
        if not prod > enlam:
            return count
        count += 1


def _sample_binomial(draw: _Serial, n: float, p: float, f32: bool) -> float:
    """sample_binomial: BTRS (Hoermann's transformed rejection) when n * p >= 10, else
    inversion by geometric waiting times; for p > 1/2, n minus the draw with 1 - p. n, p and
    the result in the parameters' type (`f32`: float), the sampler's work in double with
    the parameter-type steps the C++ code has."""
    t = _f32 if f32 else float
    if n <= 0 or p <= 0:
        return 0.0
    if p >= 1:
        return n
    if p <= 0.5:
        return _btrs(draw, n, p, t) if t(n * p) >= 10 else _inversion(draw, n, p, f32)
    if p > 0.5:
        q = t(1.0 - p)
        k = _btrs(draw, n, q, t) if t(n * q) >= 10 else _inversion(draw, n, q, f32)
        return t(n - k)
    return math.nan


def _btrs(draw: _Serial, n: float, p: float, t) -> float:
    """btrs: a draw of (2a / us + b) u + c, accepted in the tight box or against Stirling's
    bound on the log ratio; `t` rounds to the parameters' type where the kernel computes
    in it (n * p, 1 - p, r, the floors, n - k + 1, k + 1)."""
    stddev = t(math.sqrt(t(t(n * p) * t(1 - p))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = t(n * p) + 0.5
    v_r = 0.92 - 4.2 / b
    r = t(p / t(1 - p))
    alpha = (2.83 + 5.1 / b) * stddev
    n1 = t(n + 1)
    m = _c_floor(t(n1 * p))
    while True:
        u, v, us = _transformed_point(draw)
        if us == 0:  # k = floor(-inf) < 0: rejected
            continue
        k = t(_c_floor((2 * a / us + b) * u + c))
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = _c_log(v * alpha / (a / (us * us) + b))
        nk1 = t(t(n - k) + 1)
        upperbound = ((m + 0.5) * _c_log((m + 1) / (r * (n - m + 1)))
                      + n1 * _c_log((n - m + 1) / nk1)
                      + (k + 0.5) * _c_log(r * nk1 / t(k + 1))
                      + _stirling_tail(m) + _stirling_tail(n - m)
                      - _stirling_tail(k) - _stirling_tail(t(n - k)))
        if v <= upperbound:
            return k


def _inversion(draw: _Serial, n: float, p: float, f32: bool) -> float:
    """binomial_inversion: count geometric waiting times (ceil(log u / log(1 - p)), log1p in
    the parameters' type) while their sum stays within n."""
    logprob = _log1pf(-p) if f32 else math.log1p(-p)
    total, count = 0.0, 0.0
    while True:
        total += _c_ceil(_c_log(draw.uniform()) / logprob)
        if total > n:
            return count
        count += 1


_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k: float) -> float:
    """log k! minus Stirling's approximation: tabulated below 10, else its series."""
    if k < 10:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _at_least_tiny(a):
    """std::max(smallest normal number, a): NaN becomes the smallest normal number too."""
    tiny = xp.finfo(a.dtype).tiny
    return xp.where(tiny < a, a, tiny)


_LANES = 4  # doubles per vector in the AVX2 build of SumKernel.cpp (PyTorch does not
# dispatch its sums to the AVX-512 build)


def _row_sums(rows):
    """The sums of a (n, k) float64 array's rows as PyTorch's CPU sum adds a contiguous last
    dim (SumKernel.cpp's cascade_sum): rows of 4 or more as sums of 4-lane vectors (then the
    leftover elements, then the lanes one by one), shorter rows as 4 interleaved partial sums.
    Rows long enough for PyTorch to split across threads (32768 elements) may differ."""
    n, k = rows.shape
    if k < _LANES:
        return _ilp_sum(rows)
    whole = k - k % _LANES
    lanes = _ilp_sum(rows[:, :whole].reshape(n, -1, _LANES))
    total = xp.zeros(n)
    for j in range(whole, k):
        total += rows[:, j]
    for j in range(_LANES):
        total += lanes[:, j]
    return total


def _ilp_sum(items):
    """row_sum: items (n, m, ...) summed over m as 4 interleaved cascaded partial sums; the
    leftover items go to the first, and the other three are added to it."""
    n, m = items.shape[:2]
    quads = m // 4
    part = _cascade(items[:, :4 * quads].reshape(n, quads, 4, *items.shape[2:]))
    for i in range(4 * quads, m):
        part[:, 0] += items[:, i]
    for j in range(1, 4):
        part[:, 0] += part[:, j]
    return part[:, 0]


def _cascade(groups):
    """multi_row_sum: groups (n, size, ...) summed over size in chunks of 16 (more beyond
    2**16), each chunk's sum carried up through 4 levels, so only like sizes are added."""
    size = groups.shape[1]
    power = max(4, (size - 1).bit_length() // 4 if size > 2 else 0)
    step = 1 << power
    acc = xp.zeros((4, groups.shape[0], *groups.shape[2:]))
    i = 0
    while i + step <= size:
        for _ in range(step):
            acc[0] += groups[:, i]
            i += 1
        for j in range(1, 4):
            acc[j] += acc[j - 1]
            acc[j - 1] = 0
            if i & ((step - 1) << (j * power)):
                break
    for rest in range(i, size):
        acc[0] += groups[:, rest]
    for j in range(1, 4):
        acc[0] += acc[j]
    return acc[0]


# --- C's math on Python floats ------------------------------------------------------------------
# Python raises where C returns inf or NaN (log(0), 1 / 0, floor(inf), pow overflowing); these
# return what C does. lgamma and the float functions come from the C library itself (Python's
# lgamma is its own, and it has no float versions); without one, a correctly rounded stand-in.
def _c_log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


def _c_sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


def _c_div(a: float, b: float) -> float:
    if b:
        return a / b
    return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1, b)


def _c_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _c_pow(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf
    except ValueError:  # 0 to a negative power, or a negative base to a fraction
        return math.inf if x == 0 else math.nan


def _c_floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _c_ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _int64(x: float) -> int:
    """(int64_t)x on x86-64: out of range or NaN gives int64's minimum."""
    return int(x) if -(2.0**63) <= x < 2.0**63 else -(2**63)


def _f32(x: float) -> float:
    """x rounded to float (for float operands, a double result rounded once more is the
    correctly rounded float result of +, -, *, / and sqrt)."""
    try:
        return _FLOAT.unpack(_FLOAT.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


_FLOAT = struct.Struct("<f")


def _c_function(name: str, ctype, nargs: int, fallback):
    try:
        fn = getattr(ctypes.CDLL(ctypes.util.find_library("m")), name)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C math library
        return fallback
    fn.restype, fn.argtypes = ctype, [ctype] * nargs
    return fn


_lgamma = _c_function("lgamma", ctypes.c_double, 1, math.lgamma)
_log1pf = _c_function("log1pf", ctypes.c_float, 1, lambda x: _f32(math.log1p(x)))
_logf = _c_function("logf", ctypes.c_float, 1, lambda x: _f32(_c_log(x)))
_powf = _c_function("powf", ctypes.c_float, 2, lambda x, y: _f32(_c_pow(x, y)))
_tanf = _c_function("tanf", ctypes.c_float, 1, lambda x: _f32(math.tan(x)))
