"""Special functions NumPy lacks (erf, lgamma, digamma, polygamma, erfinv), computed in float64.

`math.erf`, `math.erfc` and `math.lgamma` are correctly rounded, so they are applied elementwise;
digamma, the Hurwitz zeta function behind polygamma, and erfinv are vectorized here with the
classical recurrence + asymptotic series (digamma, zeta) and Halley's method (erfinv). Each takes
and returns float64 arrays; the ops cast back to the input's dtype.
"""

from __future__ import annotations

import math
from fractions import Fraction

from dyngrad._backend import xp

_erf = xp.frompyfunc(math.erf, 1, 1)
_erfc = xp.frompyfunc(math.erfc, 1, 1)


def _lgamma1(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole: 0 or a negative integer
        return math.inf


_lgamma = xp.frompyfunc(_lgamma1, 1, 1)


def _apply(fn, a):
    return xp.asarray(fn(a), dtype=xp.float64)


def erf(a):
    return _apply(_erf, a)


def erfc(a):
    return _apply(_erfc, a)


def lgamma(a):
    """log|Gamma(a)|; +inf at the poles, as in PyTorch."""
    return _apply(_lgamma, a)


# Bernoulli numbers B_2, B_4, ..., B_24 (exact), for the asymptotic series below.
_BERNOULLI = [Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30),
              Fraction(5, 66), Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510),
              Fraction(43867, 798), Fraction(-174611, 330), Fraction(854513, 138),
              Fraction(-236364091, 2730)]
# digamma(w) ~ log w - 1/(2w) - sum_k B_2k / (2k w^2k), accurate to double precision for w >= 10.
_PSI_COEF = [float(b / (2 * k)) for k, b in enumerate(_BERNOULLI[:7], start=1)]
# Euler-Maclaurin tail of the Hurwitz zeta function: B_2j / (2j)!.
_ZETA_COEF = [float(b / math.factorial(2 * j)) for j, b in enumerate(_BERNOULLI, start=1)]


def digamma(a):
    """d/dx log Gamma(x): reflection for x < 0, recurrence up to x >= 10, then the series."""
    a = xp.asarray(a, dtype=xp.float64)
    neg = a < 0
    w = xp.where(neg, 1 - a, a)
    acc = xp.zeros_like(w)
    with xp.errstate(divide="ignore", invalid="ignore"):
        low = w < 10
        while low.any():
            acc[low] -= 1 / w[low]
            w = xp.where(low, w + 1, w)
            low &= w < 10
        z = 1 / (w * w)
        series = xp.zeros_like(w)
        for c in reversed(_PSI_COEF):
            series = (series + c) * z
        out = acc + xp.log(w) - 0.5 / w - series
        # tan(pi * frac(x)) is more accurate than tan(pi * x) for large |x|.
        out = xp.where(neg, out - xp.pi / xp.tan(xp.pi * (a - xp.trunc(a))), out)
    out = xp.where(neg & (a == xp.trunc(a)), xp.nan, out)
    return xp.where(a == 0, xp.copysign(xp.inf, -a), out)


def zeta(s: float, q):
    """The Hurwitz zeta function sum_k (q + k)^-s, for s > 1 (inf at q = 0, -1, -2, ...).

    Terms are summed one by one up to q + k >= 10, so a very negative q (below about -1e5) is slow.
    """
    q = xp.asarray(q, dtype=xp.float64)
    w = q.copy()
    acc = xp.zeros_like(w)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = w < 10
        low &= w > -xp.inf
        while low.any():
            acc[low] += w[low] ** -s
            w = xp.where(low, w + 1, w)
            low &= w < 10
        tail = w ** (1 - s) / (s - 1) + 0.5 * w ** -s
        rising = s  # s (s + 1) ... (s + 2j - 2)
        power = w ** (-s - 1)
        inv2 = 1 / (w * w)
        for j, c in enumerate(_ZETA_COEF, start=1):
            tail = tail + c * rising * power
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            power = power * inv2
        out = acc + tail
    out = xp.where((q <= 0) & (q == xp.floor(q)), xp.inf, out)
    return xp.where(q == -xp.inf, xp.nan, out)


def polygamma(n: int, a):
    """The n-th derivative of digamma: (-1)^(n+1) n! zeta(n + 1, x) for n >= 1."""
    if n == 0:
        return digamma(a)
    return (1.0 if n % 2 else -1.0) * math.factorial(n) * zeta(n + 1.0, a)


def erfinv(a):
    """The inverse of erf on [-1, 1]: a closed-form first guess, refined by Halley's method."""
    y = xp.asarray(a, dtype=xp.float64)
    u = xp.abs(y)
    inside = u < 1
    u_in = xp.where(inside, u, 0.0)
    with xp.errstate(divide="ignore", invalid="ignore"):
        # Winitzki's approximation (relative error ~ 2e-3); each Halley step cubes the error.
        ln = xp.log1p(-u_in * u_in)
        t = 2 / (xp.pi * 0.147) + ln / 2
        x = xp.sqrt(xp.sqrt(t * t - ln / 0.147) - t)
        for _ in range(3):
            # erf(x) - u, with erfc in the tail where erf(x) rounds to 1.
            f = xp.where(u_in <= 0.5, erf(x) - u_in, (1 - u_in) - erfc(x))
            slope = 2 / math.sqrt(math.pi) * xp.exp(-x * x)
            x = xp.where(f == 0, x, x - f / (slope + x * f))
    out = xp.where(inside, x, xp.where(u == 1, xp.inf, xp.nan))
    return xp.copysign(out, y)


def _gamma_prefix(a, x):
    """x^a e^-x / Gamma(a), the factor both incomplete-gamma expansions share."""
    return xp.exp(a * xp.log(x) - x - lgamma(a))


def _gamma_series(a, x):
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    total = term = 1 / a
    n = xp.zeros_like(a)
    active = xp.ones(a.shape, bool)
    for _ in range(100000):
        n = n + 1
        term = xp.where(active, term * x / (a + n), 0.0)
        total = total + term
        active &= xp.abs(term) > xp.abs(total) * 1e-17
        if not active.any():
            break
    return total * _gamma_prefix(a, x)


def _gamma_fraction(a, x):
    """Q(a, x) by its continued fraction, evaluated with Lentz's method (for x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = xp.full_like(a, 1 / tiny)
    d = 1 / b
    h = d
    active = xp.ones(a.shape, bool)
    for i in range(1, 100000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = 1 / xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        step = xp.where(active, d * c, 1.0)
        h = h * step
        active &= xp.abs(step - 1) > 1e-16
        if not active.any():
            break
    return h * _gamma_prefix(a, x)


def gammainc(a, x, upper: bool = False):
    """The regularized lower incomplete gamma function P(a, x) (Q = 1 - P when `upper`), with
    PyTorch's values at the edges: NaN for a < 0, x < 0 or a = x = 0."""
    a, x = xp.broadcast_arrays(xp.asarray(a, xp.float64), xp.asarray(x, xp.float64))
    out = xp.full(a.shape, xp.nan)
    with xp.errstate(all="ignore"):
        regular = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        series = regular & (x < a + 1)
        fraction = regular & ~series
        if series.any():
            p = _gamma_series(a[series], x[series])
            out[series] = 1 - p if upper else p
        if fraction.any():
            q = _gamma_fraction(a[fraction], x[fraction])
            out[fraction] = q if upper else 1 - q
    one = ((a == 0) & (x > 0)) | ((x == xp.inf) & (a >= 0) & (a < xp.inf))
    zero = ((x == 0) & (a > 0)) | ((a == xp.inf) & (x >= 0) & (x < xp.inf))
    out[one] = 0.0 if upper else 1.0
    out[zero] = 1.0 if upper else 0.0
    return out
