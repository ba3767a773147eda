"""1000 random calls of the creation functions against torch (arange, linspace, logspace, full,
zeros, eye, tensor, ... with every dtype, odd bounds, fractional steps into integer dtypes,
overflowing fill values): the same tensor (values, dtype, shape) or the same exception type
and message."""

import random

import pytest

from tests.harness import check_same_outcome


def num(r):
    return r.choice([0, 1, 3, -2, 2.5, -0.5, 10, 1e3, True, 0.1, 7, -7])


def dt(L, r):
    name = r.choice(
        [
            None,
            None,
            "float32",
            "float64",
            "int64",
            "int32",
            "int8",
            "uint8",
            "bool",
            "float16",
            "complex64",
        ]
    )
    return None if name is None else getattr(L, name)


CASES = {
    "arange1": lambda L, r: L.arange(num(r), dtype=dt(L, r)),
    "arange2": lambda L, r: L.arange(num(r), num(r), dtype=dt(L, r)),
    "arange3": lambda L, r: L.arange(num(r), num(r), num(r), dtype=dt(L, r)),
    "linspace": lambda L, r: L.linspace(num(r), num(r), r.choice([0, 1, 2, 5, -1]), dtype=dt(L, r)),
    "logspace": lambda L, r: L.logspace(
        num(r), num(r), r.choice([0, 1, 3]), base=r.choice([10, 2, 0.5]), dtype=dt(L, r)
    ),
    "full": lambda L, r: L.full(r.choice([(2,), (), (0, 2), (2, -1)]), num(r), dtype=dt(L, r)),
    "zeros": lambda L, r: L.zeros(*r.choice([(2,), (), (0, 2), (2, 3), (-1,)]), dtype=dt(L, r)),
    "ones_like": lambda L, r: L.ones_like(L.tensor([1, 2]), dtype=dt(L, r)),
    "full_like": lambda L, r: L.full_like(L.tensor([1.0, 2.0]), num(r), dtype=dt(L, r)),
    "eye": lambda L, r: L.eye(r.choice([0, 1, 3, -1]), r.choice([0, 2, 4]), dtype=dt(L, r)),
    "tensor": lambda L, r: L.tensor(
        r.choice(
            [
                [1, 2.5],
                [True, 2],
                [1, 2j],
                [[1], [2]],
                [],
                [[]],
                3,
                2.5,
                True,
                [1, 10**19],
                [[1, 2], [3]],
            ]
        ),
        dtype=dt(L, r),
    ),
    "as_tensor": lambda L, r: L.as_tensor(r.choice([[1, 2], (1.5,), 3]), dtype=dt(L, r)),
    "empty_shape": lambda L, r: L.empty(r.choice([(2,), (), (0,)]), dtype=dt(L, r)).shape,
    "tril_indices": lambda L, r: L.tril_indices(
        r.choice([0, 3, 4]), r.choice([0, 2, 4]), r.choice([0, -1, 1, 5])
    ),
    "triu_indices": lambda L, r: L.triu_indices(
        r.choice([3, 4]), r.choice([2, 4]), r.choice([0, -1, 2])
    ),
    "tensor_rg": lambda L, r: L.tensor([1, 2], dtype=dt(L, r), requires_grad=True),
    "zeros_rg": lambda L, r: L.zeros(2, dtype=dt(L, r), requires_grad=True),
    "range_like": lambda L, r: L.arange(0, 1, 0.1, dtype=dt(L, r)),
    "arange_zero_step": lambda L, r: L.arange(0, 3, 0),
    "arange_bad": lambda L, r: L.arange(3, 0, 1),
    "heaviside": lambda L, r: L.heaviside(
        L.tensor([-1.0, 0, 2]), L.tensor(num(r), dtype=L.float32)
    ),
    "complex": lambda L, r: L.complex(
        L.tensor([1.0, 2.0], dtype=dt(L, r) or L.float32), L.tensor([3.0, 4.0])
    ),
    "polar": lambda L, r: L.polar(L.tensor([1.0, 2.0]), L.tensor([0.5, 1.0])),
    "cartesian_prod": lambda L, r: L.cartesian_prod(L.tensor([1, 2]), L.tensor([3, 4, 5])),
    "meshgrid": lambda L, r: L.meshgrid(
        L.tensor([1, 2]), L.tensor([3, 4, 5]), indexing=r.choice(["ij", "xy"])
    ),
    "diag": lambda L, r: L.diag(
        L.tensor(r.choice([[1, 2], [[1, 2], [3, 4]], 5])), r.choice([0, 1, -1])
    ),
}


@pytest.mark.parametrize("seed", range(1000))
def test_random_creation(seed):
    op = list(CASES)[random.Random(seed).randrange(len(CASES))]

    def fn(lib):
        return CASES[op](lib, random.Random(seed))

    check_same_outcome(fn, op)
