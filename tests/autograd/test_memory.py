"""Memory: saved values are freed by backward (unless retain_graph), graphs die with their last
user reference by reference counting alone (no cycles for the garbage collector to find), and
a very long graph neither overflows the stack nor takes minutes."""

import gc
import time
import tracemalloc
import weakref

import pytest

import dyngrad
from tests.harness import check_error


@pytest.fixture
def no_gc():
    """Run with the cyclic collector off: whatever is freed is freed by reference counts."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if was:
        gc.enable()


def _graph():
    x = dyngrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2  # an intermediate: saved by the next op
    ref = weakref.ref(a._data)
    b = a * a
    loss = b.sum()
    return x, a, ref, loss


def test_saved_intermediate_freed_by_backward(no_gc):
    x, a, ref, loss = _graph()
    del a
    assert ref() is not None  # MulBackward0 holds it for backward
    loss.backward()
    assert ref() is None  # backward released it, though the graph (loss) is still alive
    assert x.grad.tolist() == [8.0, 16.0, 24.0]
    check_error(lambda lib: _twice(lib))


def _twice(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = ((x * 2) * (x * 2)).sum()
    loss.backward()
    loss.backward()


def test_retain_graph_keeps_saved_values(no_gc):
    x, a, ref, loss = _graph()
    del a
    loss.backward(retain_graph=True)
    assert ref() is not None
    loss.backward()
    assert x.grad.tolist() == [16.0, 32.0, 48.0]
    assert ref() is None


def test_dropping_the_output_frees_the_graph(no_gc):
    x, a, ref, loss = _graph()
    node = weakref.ref(loss.grad_fn)
    mul = weakref.ref(loss.grad_fn.next_functions[0][0])
    del a, loss
    assert node() is None and mul() is None and ref() is None
    assert x.grad is None


def test_autograd_grad_frees_saved_values(no_gc):
    x, a, ref, loss = _graph()
    del a
    dyngrad.autograd.grad(loss, x)
    assert ref() is None


def test_saved_output_does_not_keep_output_alive(no_gc):
    x = dyngrad.tensor([0.5, 1.0], requires_grad=True)
    for op in (dyngrad.exp, dyngrad.sigmoid, dyngrad.tanh):
        y = op(x)
        t_ref, node = weakref.ref(y), y.grad_fn
        del y
        assert t_ref() is None  # the node keeps the output's data, not the tensor
        node_ref = weakref.ref(node)
        del node
        assert node_ref() is None


def test_accumulate_grad_lives_as_long_as_the_graph(no_gc):
    x = dyngrad.ones(3, requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(1))
    y = x * 2
    acc = weakref.ref(y.grad_fn.next_functions[0][0])
    assert acc() is not None
    del y
    assert acc() is None  # the leaf holds it only weakly
    (x * 3).sum().backward()  # a fresh AccumulateGrad still runs the leaf's hooks
    assert calls == [1] and x.grad.tolist() == [3.0, 3.0, 3.0]


def test_leaf_and_grad_free_without_gc(no_gc):
    x = dyngrad.ones(3, requires_grad=True)
    (x * x).sum().backward()
    xr, gr = weakref.ref(x), weakref.ref(x.grad)
    del x
    assert xr() is None and gr() is None


def test_views_and_inplace_free_without_gc(no_gc):
    x = dyngrad.ones(4, requires_grad=True)
    y = x * 1
    y[1:3] *= 3
    v = y[0]
    refs = [weakref.ref(y), weakref.ref(v), weakref.ref(y.grad_fn)]
    y.sum().backward()
    del y, v
    assert all(r() is None for r in refs)


def test_dropped_user_refs_leave_no_saved_tensor_behind(no_gc):
    """Saved intermediates of a finished backward are unreachable even while the loss lives."""
    x = dyngrad.tensor([1.0, 2.0], requires_grad=True)
    refs = []
    h = x
    for _ in range(10):
        h = h.exp() * h
        refs.append(weakref.ref(h._data))
    loss = h.sum()
    del h
    loss.backward()
    assert all(r() is None for r in refs)


def test_memory_matches_torch_on_error_after_free():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        loss = y.sum()
        loss.backward()
        return y.grad_fn._saved_result

    check_error(prog)


@pytest.mark.parametrize("accumulated", [False, True])
def test_backward_allocates_only_the_gradients(accumulated):
    """A large matmul's backward allocates its two gradients and nothing more: `.grad` takes
    over the engine's fresh array instead of copying it (or, when `.grad` exists, adds into it
    in place). Counted with tracemalloc, which NumPy reports its buffers to."""
    n = 256
    size = n * n * 4
    a = dyngrad.randn(n, n, requires_grad=True)
    b = dyngrad.randn(n, n, requires_grad=True)
    if accumulated:
        (a @ b).backward(dyngrad.ones(n, n))
    y = a @ b
    g = dyngrad.ones(n, n)
    tracemalloc.start()
    try:
        y.backward(g)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = 0 if accumulated else 2 * size
    assert current < kept + size // 4, (current, size)
    assert peak < 2 * size + size // 4, (peak, size)


def test_million_op_chain():
    """A million-node chain backpropagates without recursion, in reasonable time."""
    start = time.perf_counter()
    x = dyngrad.tensor(0.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 1_000_000.0
    assert x.grad.item() == 1.0
    del y  # freeing the chain must not overflow the C stack either
    assert time.perf_counter() - start < 60  # about 10 s on a busy 2-core machine

