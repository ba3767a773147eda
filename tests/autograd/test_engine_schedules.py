"""The engine's order on plain `.backward()`, against torch: random graphs that reuse values.

The engine runs a chain's next node straight away, without queueing it, when that node is later
created than every pending one (autograd/engine.py). These programs draw each step's operands
from everything computed so far, so chains, diamonds, a value used by a node and by that node's
own input, and long runs of one-input nodes all occur; the leaves' gradients must be torch's.
(The random programs of test_random_programs.py go through autograd.grad, a different path.)
"""

import random

import numpy as np
import pytest
import torch

import dyngrad

UNARY = [
    lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: (t * 0.3).exp(), lambda t: -t,
    lambda t: t.sin(), lambda t: t.relu(), lambda t: t * 1.5, lambda t: t / 2.0, lambda t: t + 0.5,
    lambda t: t.sum(0, keepdim=True) * t, lambda t: t.t().t(), lambda t: (t.abs() + 1).log(),
]
BINARY = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (b.abs() + 1),
    lambda a, b: a * b[:1], lambda a, b: a.exp() * a + b,
]


def _program(seed: int):
    rng = random.Random(seed)
    steps = []
    for i in range(rng.randint(3, 40)):
        if rng.random() < 0.6:
            steps.append(("u", rng.randrange(len(UNARY)), rng.randrange(i + 2)))
        else:
            steps.append(("b", rng.randrange(len(BINARY)), rng.randrange(i + 2),
                          rng.randrange(i + 2)))
    return steps


def _run(lib, steps, shape, retain: bool):
    rng = np.random.default_rng(0)
    leaves = [lib.tensor(rng.uniform(-1, 1, shape).astype(np.float32), requires_grad=True)
              for _ in range(2)]
    values = list(leaves)
    for step in steps:
        if step[0] == "u":
            values.append(UNARY[step[1]](values[step[2]]))
        else:
            values.append(BINARY[step[1]](values[step[2]], values[step[3]]))
    loss = sum(v.sum() for v in values[-3:])  # several roots' worth of paths
    loss.backward(retain_graph=retain)
    if retain:  # a second pass over the same graph accumulates the same gradients again
        loss.backward()
    return [t.grad.numpy() if t.grad is not None else None for t in leaves]


@pytest.mark.parametrize("seed", range(150))
def test_random_graphs_backward_like_torch(seed):
    steps = _program(seed)
    shape = (3, 4) if seed % 3 else (1, 4)
    retain = seed % 5 == 0
    ours, theirs = _run(dyngrad, steps, shape, retain), _run(torch, steps, shape, retain)
    for a, b in zip(ours, theirs, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("build", [
    lambda x: x.exp() * x,  # the node's input is also pending from its consumer
    lambda x: (x.tanh().sin() + x.tanh()).exp(),
    lambda x: x.sigmoid().tanh().relu() * x.sigmoid(),
    lambda x: x.neg().neg().neg() + x.exp().exp() * x.exp(),
])
def test_chains_whose_input_is_pending_elsewhere(build):
    grads = []
    for lib in (dyngrad, torch):
        x = lib.tensor([[0.3, -0.7], [1.2, 0.1]], requires_grad=True)
        h = x
        for _ in range(3):
            h = build(h) * 0.5
        h.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)
