"""1500 random calls of shape, view, joining, splitting and dim-reducing ops against torch, with
random (often out-of-range or repeated) dims and sizes, on tensors from 0-dim to 3-D, empty
ones included; half of them also backpropagate. The same result (values, grad_fn names,
gradients) or the same exception type and message."""

import random

import numpy as np
import pytest

from tests.harness import check_same_outcome


def R(rng):
    return rng.randint(-4, 4)


OPS = {
    "reshape": lambda L, x, r: x.reshape(
        r.choice([(-1,), (2, -1), (-1, 3), (6, -1), (4, 5), (0, -1), (-1, -1), (3, 2, -1), ()])
    ),
    "view": lambda L, x, r: (
        x.t().view(-1) if x.dim() == 2 else x.view(r.choice([(-1,), (2, -1), (5, -1)]))
    ),
    "permute": lambda L, x, r: (
        x.permute(*r.sample(range(-x.dim(), x.dim()), x.dim())) if x.dim() else x.permute()
    ),
    "transpose": lambda L, x, r: x.transpose(R(r), R(r)),
    "expand": lambda L, x, r: (
        x.expand(  # (a 0-dim expand with -1 hits a PyTorch overflow bug)
            *r.choice([(2, -1, -1), (-1,) * x.dim(), (3,) + (-1,) * x.dim(), (1,), (2, 3, 4)])
        )
        if x.dim()
        else x.expand(2, 3)
    ),
    "squeeze": lambda L, x, r: x.squeeze(r.choice([R(r), (0, R(r))])),
    "unsqueeze": lambda L, x, r: x.unsqueeze(R(r)),
    "flatten": lambda L, x, r: x.flatten(R(r), R(r)),
    "unflatten": lambda L, x, r: x.unflatten(R(r), r.choice([(2, -1), (3, 2), (-1,), (1, -1, 1)])),
    "movedim": lambda L, x, r: x.movedim(R(r), R(r)),
    "narrow": lambda L, x, r: x.narrow(R(r), R(r), r.randint(0, 3)),
    "tile": lambda L, x, r: x.tile(r.choice([(2,), (1, 2), (2, 1, 1, 1), ()])),
    "repeat": lambda L, x, r: x.repeat(*r.choice([(2,) * x.dim(), (1, 2) + (1,) * x.dim(), (2,)])),
    "roll": lambda L, x, r: x.roll(R(r), r.choice([None, R(r)])),
    "flip": lambda L, x, r: x.flip(r.choice([(0,), (R(r),), (0, -1), ()])),
    "rot90": lambda L, x, r: x.rot90(R(r), r.choice([(0, 1), (1, 0), (0, R(r))])),
    "diagonal": lambda L, x, r: x.diagonal(R(r), R(r), R(r)),
    "tril": lambda L, x, r: x.tril(R(r)),
    "split": lambda L, x, r: x.split(r.choice([1, 2, [1, 2], [3, 1], 0]), R(r)),
    "chunk": lambda L, x, r: x.chunk(r.randint(-1, 4), R(r)),
    "unbind": lambda L, x, r: x.unbind(R(r)),
    "cat": lambda L, x, r: L.cat([x, x * 2], R(r)),
    "stack": lambda L, x, r: L.stack([x, x], R(r)),
    "select": lambda L, x, r: x.select(R(r), R(r)),
    "index_select": lambda L, x, r: x.index_select(R(r), L.tensor([0, 1, 0])),
    "gather": lambda L, x, r: x.gather(R(r), L.zeros_like(x, dtype=L.int64)),
    "take_along_dim": lambda L, x, r: L.take_along_dim(x, L.zeros_like(x, dtype=L.int64), R(r)),
    "swapaxes": lambda L, x, r: x.swapaxes(R(r), R(r)),
    "moveaxis": lambda L, x, r: L.moveaxis(x, (0, R(r)), (R(r), 0)),
    "as_strided": lambda L, x, r: x.contiguous().as_strided(
        (2, 2), (r.randint(0, 3), 1), r.randint(0, 3)
    ),
    "unfold": lambda L, x, r: x.unfold(R(r), r.randint(0, 3), r.randint(1, 3)),
    "t": lambda L, x, r: x.t(),
    "mT": lambda L, x, r: x.mT,
    "cumsum": lambda L, x, r: x.cumsum(R(r)),
    "sum_dims": lambda L, x, r: x.sum(
        r.choice([(0, 0), (R(r), R(r)), ()]), keepdim=r.random() < 0.5
    ),
    "mean_dims": lambda L, x, r: x.mean(r.choice([[0, -1], [R(r)], []])),
    "std": lambda L, x, r: x.std(R(r), correction=r.choice([0, 1, 2, 5])),
    "topk": lambda L, x, r: x.topk(r.randint(0, 4), R(r), largest=r.random() < 0.5),
    "sort": lambda L, x, r: x.sort(dim=R(r), descending=True, stable=True),
    "kthvalue": lambda L, x, r: x.kthvalue(r.randint(0, 4), R(r)),
    "median": lambda L, x, r: x.median(R(r)),
    "mode": lambda L, x, r: x.mode(R(r)),
    "logsumexp": lambda L, x, r: x.logsumexp(r.choice([(R(r),), (0, 1)])),
    "softmax": lambda L, x, r: x.softmax(R(r)),
    "norm": lambda L, x, r: x.norm(
        r.choice([1, 2, float("inf"), "fro", 0.5, "nuc"]), r.choice([None, R(r), (0, 1)])
    ),
    "diff": lambda L, x, r: x.diff(r.randint(0, 3), R(r)),
    "trace": lambda L, x, r: x.trace(),
    "outer": lambda L, x, r: x.flatten().outer(x.flatten()[:3]),
    "matmul": lambda L, x, r: x @ x.mT if x.dim() >= 2 else x @ x,
    "einsum": lambda L, x, r: L.einsum(
        r.choice(["ij->ji", "ij,ij->", "...i->...", "ijk->kji", "i->", "ii->i"]),
        *([x, x] if r.random() < 0.3 else [x]),
    ),
    "tensordot": lambda L, x, r: L.tensordot(x, x, r.randint(0, 2)),
    "cross": lambda L, x, r: L.linalg.cross(x, x.flip(R(r)), dim=R(r)),
    "cdist": lambda L, x, r: L.cdist(x, x * 2),
    "pad": lambda L, x, r: L.nn.functional.pad(
        x, r.choice([(1, 1), (0, 2, 1, 0), (-1, 1), (1,)]), value=0.5
    ),
}


SHAPES = [(3, 4), (2, 3, 4), (4,), (), (1, 3), (3, 1, 2), (0, 3), (2, 2)]


def _program(seed: int):
    rng = random.Random(seed)
    op = list(OPS)[rng.randrange(len(OPS))]
    shape, grad = rng.choice(SHAPES), rng.random() < 0.5
    a = np.random.default_rng(seed).standard_normal(shape)

    def prog(lib):
        x = lib.tensor(a, requires_grad=grad)
        y = OPS[op](lib, x, random.Random(seed * 7 + 1))
        if not grad:
            return y
        ys = list(y) if isinstance(y, tuple | list) else [y]
        ys = [v for v in ys if isinstance(v, lib.Tensor) and v.requires_grad]
        if ys:
            sum((v.double() * (i + 1)).sum() for i, v in enumerate(ys)).backward()
        return [y, x.grad]

    return (op, shape, grad), prog


@pytest.mark.parametrize("seed", range(1500))
def test_random_shape_op(seed):
    what, prog = _program(seed)
    check_same_outcome(prog, what)
