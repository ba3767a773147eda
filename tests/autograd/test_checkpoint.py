"""torch.utils.checkpoint against PyTorch: both variants give the same outputs and gradients as
the plain computation, recompute in backward, and raise / warn as PyTorch does."""

import importlib

import dyngrad
from tests.autograd.common import both, name, outcome, warned


def _ckpt(lib):
    return importlib.import_module(f"{lib.__name__}.utils.checkpoint")


def _setup(lib):
    calls = []
    W = lib.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)

    def block(a, k=1.0):
        calls.append(1)
        return (a @ W) * (a @ W) * k

    x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    return calls, W, block, x


def test_default_warns_and_is_reentrant():
    def prog(lib):
        calls, W, block, x = _setup(lib)
        y, warnings = warned(_ckpt(lib).checkpoint, block, x)
        before = len(calls)
        y.sum().backward()
        return [y, warnings, before, len(calls), x.grad, W.grad]

    both(prog)


def test_both_variants_recompute_and_match():
    for reentrant in (True, False):
        def prog(lib, reentrant=reentrant):
            calls, W, block, x = _setup(lib)
            y = _ckpt(lib).checkpoint(block, x, use_reentrant=reentrant)
            info = [y, name(y.grad_fn), len(calls)]
            y.sum().backward()
            info += [len(calls), x.grad, W.grad]
            plain = block(x)
            (g,) = lib.autograd.grad(plain.sum(), x)
            return info + [g]

        both(prog)


def test_grad_and_inputs_need_the_non_reentrant_variant():
    for reentrant in (True, False):
        def prog(lib, reentrant=reentrant):
            ck = _ckpt(lib).checkpoint
            _, W, block, x = _setup(lib)
            res = [outcome(lib.autograd.grad, ck(block, x, use_reentrant=reentrant).sum(), x)]
            y = ck(block, x, use_reentrant=reentrant)
            res += [outcome(y.sum().backward, inputs=[x]), x.grad, W.grad]
            return res

        both(prog)


def test_non_reentrant_double_backward_and_kwargs():
    def prog(lib):
        ck = _ckpt(lib).checkpoint
        _, W, block, x = _setup(lib)
        (g,) = lib.autograd.grad(ck(block, x, use_reentrant=False).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        y = ck(block, x, use_reentrant=False, k=2.0)
        y.sum().backward()
        return [g, gg, y, x.grad, outcome(ck, block, x, use_reentrant=True, k=2.0),
                outcome(ck, block, x, use_reentrant=True, context_fn=lambda: None)]

    both(prog)


def test_no_input_requires_grad():
    def prog(lib):
        y, warnings = warned(_ckpt(lib).checkpoint, lambda a: a * 2, lib.ones(2, 2),
                             use_reentrant=True)
        return [y, warnings]

    both(prog)


def test_checkpoint_sequential():
    def prog(lib):
        seq = _ckpt(lib).checkpoint_sequential
        _, W, _, x = _setup(lib)
        fs = [lambda a: a * 2, lambda a: a @ W, lambda a: a * a, lambda a: a + 1]
        y, warnings = warned(seq, fs, 2, x)
        y.sum().backward()
        res = [y, warnings, x.grad, W.grad]
        x.grad = W.grad = None
        y2 = seq(fs, 2, x, use_reentrant=False)
        y2.sum().backward()
        return res + [y2, x.grad, W.grad, outcome(seq, fs, 2, x, use_reentrant=False, foo=1)]

    both(prog)


def test_recomputation_replays_random_numbers():
    """With preserve_rng_state (the default) the recomputed function draws the numbers the
    forward drew, so the gradient is that of the forward (checked on dyngrad alone: the
    random streams differ from PyTorch's)."""
    for reentrant in (True, False):
        dyngrad.manual_seed(0)
        x = dyngrad.ones(4, requires_grad=True)
        noise = []

        def f(a, noise=noise):
            r = dyngrad.rand(4)
            noise.append(r)
            return a * r

        y = _ckpt(dyngrad).checkpoint(f, x, use_reentrant=reentrant)
        dyngrad.rand(3)  # moves the generator on between forward and backward
        y.sum().backward()
        assert x.grad.tolist() == noise[0].tolist() == noise[1].tolist()
