"""1500 random index expressions against torch: ints, slices (with steps, out of range),
None, Ellipsis, lists, integer tensors and boolean masks, mixed; read (with the gradient),
written with a number, and written with a tensor that requires grad. The same result (values,
grad_fn names, gradients) or the same exception and message."""

import random

import numpy as np
import pytest

from tests.harness import check_same_outcome

SHAPES = [(4,), (3, 4), (2, 3, 4), (3, 1, 2)]


def _random_index(rng: random.Random, shape: tuple) -> list:
    """Index items as plain data: ints, slices, None, Ellipsis, ("list" | "tensor" | "mask", v)."""
    parts, nd, d = [], len(shape), 0
    n_parts = rng.randint(1, nd + 1)
    for _ in range(n_parts):
        k, size = rng.random(), shape[d] if d < nd else 1
        if k < 0.2:
            parts.append(rng.randint(-size, size - 1))
            d += 1
        elif k < 0.45:
            start = rng.choice([None, rng.randint(-size, size)])
            stop = rng.choice([None, rng.randint(-size - 1, size + 1)])
            parts.append(slice(start, stop, rng.choice([None, 1, 2, 3])))
            d += 1
        elif k < 0.55:
            parts.append(None)
        elif k < 0.62 and Ellipsis not in parts:
            parts.append(Ellipsis)
            d = nd - (n_parts - len(parts))
        elif k < 0.8:
            parts.append(("list", [rng.randint(-size, size - 1) for _ in range(rng.randint(1, 3))]))
            d += 1
        elif k < 0.9:
            parts.append(("tensor", [[rng.randint(-size, size - 1) for _ in range(2)]]))
            d += 1
        else:
            parts.append(("mask", [rng.random() < 0.5 for _ in range(size)]))
            d += 1
        if d >= nd:
            break
    return parts


def _index(lib, parts: list):
    items = [lib.tensor(p[1]) if isinstance(p, tuple) and p[0] != "list" else
             p[1] if isinstance(p, tuple) else p for p in parts]
    return tuple(items) if len(items) != 1 else items[0]


def _program(seed: int):
    rng = random.Random(seed)
    shape = rng.choice(SHAPES)
    parts = _random_index(rng, shape)
    mode = rng.choice(["read", "read", "read with grad", "write number", "write tensor"])
    a = np.random.default_rng(seed).standard_normal(shape)

    def prog(lib):
        x = lib.tensor(a, requires_grad=mode in ("read with grad", "write tensor"))
        index = _index(lib, parts)
        if mode == "read":
            return x[index]
        if mode == "read with grad":
            y = x[index]
            y.sum().backward()
            return [y, x.grad]
        if mode == "write number":
            z = x.clone()
            z[index] = 7.0
            return z
        z, v = x * 1, lib.tensor(2.0, requires_grad=True)  # float32 value into float64
        z[index] = v * 3
        (z * z).sum().backward()
        return [z, x.grad, v.grad]

    return (shape, parts, mode), prog


@pytest.mark.parametrize("seed", range(1500))
def test_random_index(seed):
    what, prog = _program(seed)
    check_same_outcome(prog, what)


def _mask_program(seed: int):
    """An index of None, Ellipsis, full slices, small ints and all-true masks that often do not
    fit: which error PyTorch raises first, and the view and dim its message names."""
    rng = random.Random(seed)
    shape = tuple(rng.randint(1, 4) for _ in range(rng.randint(1, 4)))
    parts = []
    for _ in range(rng.randint(1, 4)):
        k = rng.random()
        if k < 0.25:
            parts.append(None)
        elif k < 0.4 and Ellipsis not in parts:
            parts.append(Ellipsis)
        elif k < 0.6:
            parts.append(slice(None))
        elif k < 0.75:
            parts.append(rng.randint(0, 1))
        else:
            parts.append(("mask", (rng.randint(1, 5),) * rng.randint(1, 2)))

    def prog(lib):
        index = tuple(lib.ones(p[1], dtype=lib.bool) if isinstance(p, tuple) else p
                      for p in parts)
        return lib.zeros(shape)[index]

    return (shape, parts), prog


@pytest.mark.parametrize("seed", range(600))
def test_random_mask_index(seed):
    what, prog = _mask_program(seed)
    check_same_outcome(prog, what)
