"""400 random programs against torch: chains of 2-6 ops drawn from elementwise, reduction, view,
in-place and linear-algebra steps, run under both libraries. Each compares the output (values,
dtype, grad_fn name), the gradients with create_graph, the second-order gradients of their
squared norm (or the error when those gradients are constants), and the forward-mode tangent of
the same chain (tests/autograd/common.both)."""

import random

import numpy as np
import pytest

from tests.autograd.common import both, outcome


def _slice_add(lib, a, b):
    c = a.clone()
    c[:, 1:] += b[:, :-1] * 2
    return c


def _setitem(lib, a, b):
    c = a * 1
    c[0] = b[1] ** 2
    return c


def _transposed_mul_(lib, a, b):
    c = a.clone()
    c.t()[0].mul_(3)
    return c


def _eye(lib, a):
    return 3 * lib.eye(3, dtype=a.dtype)


# each step: (a, b) -> new a; b becomes the previous a
STEPS = [
    lambda L, a, b: a + b, lambda L, a, b: a * b, lambda L, a, b: a - b,
    lambda L, a, b: a / (b.abs() + 1), lambda L, a, b: a.tanh(), lambda L, a, b: (a * 0.3).exp(),
    lambda L, a, b: a.sum(0, keepdim=True) + b, lambda L, a, b: a.reshape(-1).reshape(a.shape),
    _slice_add, lambda L, a, b: a.clone().mul_(b), _setitem, lambda L, a, b: a.sigmoid(),
    lambda L, a, b: (a - 0.1).relu(), lambda L, a, b: (a.abs() + 0.5) ** 1.5,
    lambda L, a, b: a.max(1, keepdim=True)[0] * b, lambda L, a, b: a @ b.t() @ a / 4,
    lambda L, a, b: a[:1].expand(a.shape) + b, _transposed_mul_,
    lambda L, a, b: L.where(a > b, a, b * 2), lambda L, a, b: a.cumsum(1),
    lambda L, a, b: a / (a.norm() + 1), lambda L, a, b: L.log_softmax(a, 1),
    lambda L, a, b: a.abs() * b, lambda L, a, b: a.clamp(-0.5, 0.5) + b,
    lambda L, a, b: a.amax(0) * b, lambda L, a, b: a.sort(1)[0],
    lambda L, a, b: a.gather(1, L.tensor([[0, 0, 1], [2, 1, 0], [1, 1, 1]])),
    lambda L, a, b: a.index_select(0, L.tensor([2, 0, 0])), lambda L, a, b: L.cat([a, b])[1:4],
    lambda L, a, b: L.stack(a.unbind(1)[::-1], 1), lambda L, a, b: L.softmax(a, 0) * b,
    lambda L, a, b: a.var(1, keepdim=True) + a, lambda L, a, b: a.prod(0, keepdim=True) * b,
    lambda L, a, b: a.masked_fill(b > 0, 0.5), lambda L, a, b: a.logsumexp(1, keepdim=True) - a,
    lambda L, a, b: L.minimum(a, b), lambda L, a, b: a.sin() + b.cos(),
    lambda L, a, b: L.diag_embed(a.diagonal()) + b, lambda L, a, b: a.triu() + b.tril(-1),
    lambda L, a, b: L.linalg.inv(a @ a.t() + _eye(L, a)),
    lambda L, a, b: L.linalg.det(a + _eye(L, a)) * b, lambda L, a, b: L.addcmul(a, a, b, value=0.5),
    lambda L, a, b: L.lerp(a, b, 0.3), lambda L, a, b: L.atan2(a, b.abs() + 1),
]


def _chain(lib, steps, a, b):
    for step in steps:
        a, b = step(lib, a, b), a
    return a


@pytest.mark.parametrize("seed", range(400))
def test_random_program(seed):
    rng = random.Random(seed)
    steps = [STEPS[rng.randrange(len(STEPS))] for _ in range(rng.randint(2, 6))]
    A = np.random.default_rng(seed).standard_normal((3, 3))
    B = np.random.default_rng(seed + 1000).standard_normal((3, 3))

    def prog(lib):
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
        out = _chain(lib, steps, a, b)
        grads = lib.autograd.grad(out.sum(), [a, b], create_graph=True, allow_unused=True)
        square = sum((g * g).sum() for g in grads if g is not None)
        second = outcome(lib.autograd.grad, square, [a, b], allow_unused=True)  # or torch's error
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            dual = _chain(lib, steps, fw.make_dual(lib.tensor(A), lib.full((3, 3), 0.7).double()),
                          fw.make_dual(lib.tensor(B), lib.full((3, 3), -0.3).double()))
            tangent = fw.unpack_dual(dual).tangent
        return [out, [g.detach() for g in grads if g is not None], second, tangent]

    both(prog)
