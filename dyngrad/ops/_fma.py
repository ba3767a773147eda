"""Fused multiply-add in NumPy: a * b + c rounded once, as the FMA instructions of PyTorch's
vectorized CPU kernels round it (NumPy has no fma ufunc).

float32: the product of two floats is exact in float64, so the float64 sum needs one more
rounding to float32; that double rounding can go wrong only when the float64 sum lies exactly
halfway between two floats, and those elements are redone with the sum rounded to odd. float64:
the exact product and sum as pairs of doubles (Dekker's split, Knuth's two-sum), their tail
rounded to odd, then added; the split overflows past 2**996, so non-finite or zero results are
redone scaled by 2**-64 (and kept as a * b + c where that is what the scaled one cannot give).
"""

from __future__ import annotations

from dyngrad._backend import xp


def fma(a, b, c, work):
    """a * b + c rounded once in `work` (float32 or float64), broadcast, as an array of it."""
    a, b, c = (xp.asarray(v, work).astype(xp.float64, copy=False) for v in (a, b, c))
    # (overflow past the type's range is PyTorch's inf, silently: dyngrad/_backend.py's filter)
    return _fma32(a, b, c) if work == xp.float32 else _fma64_any(a, b, c)


def _fma32(a, b, c):
    s = a * b + c
    out = xp.asarray(s, xp.float32)  # (an array even for 0-dim operands: written into below)
    j = xp.flatnonzero(((s.view(xp.int64) & 0x1FFFFFFF) == 0x10000000) | (xp.abs(s) < 2.0**-125))
    if j.size:  # float32 ties of the float64 sum (rare): the sum again, rounded to odd
        p, c = _at(a, s, j) * _at(b, s, j), _at(c, s, j)
        s, err = _two_sum(p, c)
        odd = (err != 0) & ((s.view(xp.int64) & 1) == 0)
        out.reshape(-1)[j] = xp.where(odd, xp.nextafter(s, xp.copysign(xp.inf, err)), s)
    return out


def _fma64_any(a, b, c):
    out = xp.asarray(_fma64(a, b, c))
    j = xp.flatnonzero(~xp.isfinite(out) | (out == 0))
    if j.size:  # past Dekker's range, or a zero whose sign a * b + c decides
        a, b, c = _at(a, out, j), _at(b, out, j), _at(c, out, j)
        plain = a * b + c
        scaled = _fma64(a * 2.0**-64, b, c * 2.0**-64) * 2.0**64
        out.reshape(-1)[j] = xp.where(xp.isfinite(plain) & xp.isfinite(scaled) & (scaled != 0),
                                      scaled, plain)
    return out


def _at(v, like, flat_index):
    """The elements of `v`, broadcast to `like`'s shape, at flat positions `flat_index`."""
    return xp.broadcast_to(v, like.shape).reshape(-1)[flat_index]


def _fma64(a, b, c):
    hi, lo = _two_product(a, b)
    s, s_err = _two_sum(c, hi)
    tail, tail_err = _two_sum(s_err, lo)
    inexact_even = (tail_err != 0) & ((tail.view(xp.int64) & 1) == 0)
    tail = xp.where(inexact_even, xp.nextafter(tail, xp.copysign(xp.inf, tail_err)), tail)
    return s + tail


def _split(a):
    big = 134217729.0 * a  # 2**27 + 1
    hi = big - (big - a)
    return hi, a - hi


def _two_product(a, b):
    p = a * b
    (ah, al), (bh, bl) = _split(a), _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
