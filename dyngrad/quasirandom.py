"""`torch.quasirandom.SobolEngine`: Sobol' low-discrepancy sequences.

Unscrambled sequences are PyTorch's, value for value: the same Joe & Kuo direction numbers, the
same Gray-code order. They are available for dimensions up to 1111 (PyTorch goes to 21201;
`dyngrad._sobol_directions` holds the table). Scrambled sequences use PyTorch's scrambling (a
random linear matrix scramble and a random digital shift) with PyTorch's draws, so they are
PyTorch's too for the same seed (tests/ops/test_random_consumers.py).
"""

from __future__ import annotations

import base64
import functools

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._sobol_directions import NUM_BITS, NUM_DIMENSIONS, PACKED

__all__ = ["SobolEngine"]


@functools.cache
def _directions() -> list:
    """Per dimension after the first: (degree, inner coefficients, initial direction numbers)."""
    raw = base64.b64decode("".join(PACKED))
    bits = xp.unpackbits(xp.frombuffer(raw, xp.uint8), bitorder="little")[:NUM_BITS]
    pos = 0

    def take(width: int) -> int:
        nonlocal pos
        field = bits[pos: pos + width]
        pos += width
        return int(field @ (1 << xp.arange(width, dtype=xp.int64))) if width else 0

    table = []
    for _ in range(NUM_DIMENSIONS - 1):
        s = take(4)
        a = take(s - 1)
        m = [1] + [2 * take(j) + 1 for j in range(1, s)]
        table.append((s, a, m))
    return table


def _initial_state(dimension: int, maxbit: int):
    """The (dimension, maxbit) direction numbers v_j = m_j * 2**(maxbit - 1 - j); m_j beyond
    the table's follow the primitive polynomial's recurrence."""
    state = xp.zeros((dimension, maxbit), dtype=xp.int64)
    state[0] = 1  # the first dimension is van der Corput's sequence
    for d, (s, a, m) in enumerate(_directions()[: dimension - 1], start=1):
        m = list(m)
        for j in range(s, maxbit):
            v = m[j - s] ^ (m[j - s] << s)
            for k in range(1, s):
                if (a >> (s - 1 - k)) & 1:
                    v ^= m[j - k] << k
            m.append(v)
        state[d] = m
    return state << xp.arange(maxbit - 1, -1, -1, dtype=xp.int64)


def _lowest_zero_bits(start: int, n: int):
    """For k = start .. start + n - 1, the position of the lowest 0 bit of k (the direction
    number that leads from point k to point k + 1)."""
    k = xp.arange(start, start + n, dtype=xp.int64)
    return xp.log2(((k + 1) & ~k).astype(xp.float64)).astype(xp.int64)


class SobolEngine:
    """A Sobol' sequence generator in `dimension` dimensions: `draw(n)` returns the next n
    points as an (n, dimension) tensor in [0, 1)."""

    MAXBIT = 30
    MAXDIM = 21201

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(
                f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]"
            )
        if dimension > NUM_DIMENSIONS:
            raise NotImplementedError(
                f"dyngrad's SobolEngine has direction numbers for up to {NUM_DIMENSIONS} "
                f"dimensions, not {dimension}"
            )
        from dyngrad._tensor import Tensor

        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = Tensor._make(_initial_state(dimension, self.MAXBIT))
        if not self.scramble:
            self.shift = Tensor._make(xp.zeros(dimension, dtype=xp.int64))
        else:
            self._scramble()
        self.quasi = self.shift.clone()
        self._first_point = (self.quasi / 2**self.MAXBIT).reshape(1, -1)  # default dtype
        self.num_generated = 0

    def _points(self, n: int, last_index: int, dtype):
        """The n points after point `last_index`; advances `quasi`."""
        from dyngrad._tensor import Tensor

        if n == 0:
            return Tensor._make(xp.zeros((0, self.dimension), dtype.np))
        steps = self.sobolstate._data[:, _lowest_zero_bits(last_index, n)].T
        points = xp.bitwise_xor.accumulate(steps, axis=0) ^ self.quasi._data
        self.quasi = Tensor._make(points[-1].copy())
        return Tensor._make((points / 2.0**self.MAXBIT).astype(dtype.np))

    def draw(self, n: int = 1, out=None, dtype=None):
        """The next `n` points, shape (n, dimension), in `dtype` (default: the default dtype);
        into `out` when given."""
        from dyngrad.ops.shape import cat

        if dtype is None:
            dtype = _dtype.get_default_dtype()
        if self.num_generated == 0:
            result = self._first_point.to(dtype)
            if n != 1:
                result = cat((result, self._points(n - 1, 0, dtype)), dim=-2)
        else:
            result = self._points(n, self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out=None, dtype=None):
        """The next 2**m points; the total drawn must stay a power of 2 (Sobol' balance)."""
        n = 2**m
        total_n = self.num_generated + n
        if total_n & (total_n - 1) != 0:
            raise ValueError(
                "The balance properties of Sobol' points require n to be a power of 2. "
                f"{self.num_generated} points have been previously generated, then: "
                f"n={self.num_generated}+2**{m}={total_n}. If you still want to do this, please "
                "use 'SobolEngine.draw()' instead."
            )
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Back to the first point."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip the next `n` points."""
        from dyngrad._tensor import Tensor

        if n > 0:
            start = 0 if self.num_generated == 0 else self.num_generated - 1
            count = n - 1 if self.num_generated == 0 else n
            steps = self.sobolstate._data[:, _lowest_zero_bits(start, count)]
            self.quasi = Tensor._make(xp.bitwise_xor.reduce(steps, axis=1) ^ self.quasi._data)
        self.num_generated += n
        return self

    def _scramble(self) -> None:
        """A random digital shift, and a random unit lower-triangular binary matrix per dimension
        applied to the direction numbers (PyTorch's scrambling, dyngrad's random bits): the
        points keep their stratification."""
        from dyngrad._tensor import Tensor
        from dyngrad.ops.random import Generator, randint

        g = None
        if self.seed is not None:
            g = Generator()
            g.manual_seed(self.seed)
        maxbit = self.MAXBIT
        shift_ints = randint(2, (self.dimension, maxbit), generator=g)._data
        self.shift = Tensor._make(shift_ints @ (1 << xp.arange(maxbit, dtype=xp.int64)))
        ltm = xp.tril(randint(2, (self.dimension, maxbit, maxbit), generator=g)._data)
        ltm[:, xp.arange(maxbit), xp.arange(maxbit)] = 1  # unit diagonal: the matrix is invertible
        # row p of each matrix as an integer: column k is bit maxbit - 1 - k
        rows = ltm @ (1 << xp.arange(maxbit - 1, -1, -1, dtype=xp.int64))
        v = self.sobolstate._data
        parity = xp.bitwise_count(rows[:, :, None] & v[:, None, :]) & 1  # (dim, p, j)
        weights = 1 << xp.arange(maxbit - 1, -1, -1, dtype=xp.int64)  # row p -> bit maxbit-1-p
        self.sobolstate = Tensor._make((parity.astype(xp.int64) * weights[None, :, None]).sum(1))

    def __repr__(self) -> str:
        fmt = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt.append("scramble=True")
        if self.seed is not None:
            fmt.append(f"seed={self.seed}")
        return f"{type(self).__name__}({', '.join(fmt)})"
