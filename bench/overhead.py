"""Per-op overhead on small tensors, and large-matmul efficiency: dyngrad beside torch.

Run: `make bench` (or `python bench/overhead.py`). Everything is timed in this one process, in
alternating rounds, and reported as ratios (dyngrad time / reference time), because absolute
times on a shared machine are not stable. Lower is better.
"""

from __future__ import annotations

import gc
import statistics
import time

import numpy as np

import dyngrad

CHAIN = 100  # ops per graph


def chain(lib, x, w):
    """A chain of mixed elementwise ops, each a new graph node."""
    y = x
    for i in range(CHAIN // 10):
        y = y * w
        y = y + 0.5
        y = y.tanh()
        y = y - x
        y = y.sigmoid()
        y = y * 1.01
        y = y.exp()
        y = y / 2.0
        y = -y
        y = y.relu() + x if i % 2 else y.sin()
    return y.sum()


def arithmetic_chain(lib, x, w):
    """The same length of chain with + - * / only (no transcendental ops)."""
    y = x
    for _ in range(CHAIN // 4):
        y = y * w
        y = y + 0.5
        y = y - x
        y = y / 2.0
    return y.sum()


def fwd_bwd(lib, shape, body=chain):
    x = lib.tensor(np.full(shape, 0.3, np.float32), requires_grad=True)
    w = lib.tensor(np.full(shape, 0.9, np.float32), requires_grad=True)

    def step():
        x.grad = None
        w.grad = None
        body(lib, x, w).backward()

    return step


def per_op_us(step, reps: int) -> float:
    step()
    t = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t) / reps / (CHAIN + 1) * 1e6


def compare(name: str, ours, theirs, reps: int, rounds: int = 7):
    a, b = [], []
    for _ in range(rounds):  # alternate, so drift on the machine hits both alike
        a.append(per_op_us(ours, reps))
        b.append(per_op_us(theirs, reps))
    ra, rb = statistics.median(a), statistics.median(b)
    print(f"{name:<34} dyngrad {ra:6.2f} us/op   torch {rb:6.2f} us/op   ratio {ra / rb:5.2f}x")
    return ra / rb


def deep_case(torch, depth: int = 20000, rounds: int = 3):
    """One graph of `depth` ops (x * 1.0001, tanh, repeated), forward then backward: per op
    time beside torch. dyngrad's graph is Python objects, which the cyclic garbage collector
    rescans as the graph grows (they form no cycles, so it never frees any); torch's graph is
    C++ and invisible to it. The engine pauses the collector during backward, not forward."""

    def run(lib):
        x = lib.tensor(np.full((4, 4), 0.3, np.float32), requires_grad=True)
        t = time.perf_counter()
        y = x
        for _ in range(depth // 2):
            y = (y * 1.0001).tanh()
        y.sum().backward()
        return (time.perf_counter() - t) / depth * 1e6

    a, b = [], []
    for _ in range(rounds):
        a.append(run(dyngrad))
        b.append(run(torch))
    ra, rb = min(a), min(b)
    print(f"{f'one graph of {depth} ops':<34} dyngrad {ra:6.2f} us/op   torch {rb:6.2f} us/op"
          f"   ratio {ra / rb:5.2f}x")
    return ra / rb


def mlp_case(torch, steps: int = 200, rounds: int = 5):
    """A small MLP's training step (8-32-32-1, ReLU, batch 16, MSE loss, SGD with momentum):
    zero_grad, forward, backward and step, where per-call overhead decides the time."""

    def make(lib):
        lib.manual_seed(0)
        nn = lib.nn
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                              nn.Linear(32, 1))
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((16, 8)).astype(np.float32))
        y = lib.tensor(rng.standard_normal((16, 1)).astype(np.float32))
        loss_fn = nn.MSELoss()

        def run():
            t = time.perf_counter()
            for _ in range(steps):
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
            return (time.perf_counter() - t) / steps * 1e6

        return run

    ours, theirs = make(dyngrad), make(torch)
    a, b = [], []
    for _ in range(rounds):
        a.append(ours())
        b.append(theirs())
    ra, rb = statistics.median(a), statistics.median(b)
    print(f"{'MLP training step (8-32-32-1)':<34} dyngrad {ra:6.1f} us/step torch {rb:6.1f} "
          f"us/step ratio {ra / rb:5.2f}x")
    return ra / rb


def matmul_case(n: int = 1024, rounds: int = 9):
    """dyngrad's a @ b forward+backward beside the three NumPy matmuls it needs, run two ways:
    results dropped at once, and the two gradients kept until the next call, as `.grad` keeps
    them. The second is the like-for-like baseline: freeing 8 MB of gradients before the next
    step lets glibc return the memory to the system, and re-touching it costs page faults that
    the drop-at-once loop never pays (it reuses one warm block)."""
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((n, n), dtype=np.float32)
    b_np = rng.standard_normal((n, n), dtype=np.float32)
    g_np = np.ones((n, n), np.float32)
    a = dyngrad.tensor(a_np, requires_grad=True)
    b = dyngrad.tensor(b_np, requires_grad=True)
    kept = {}

    def ours():
        a.grad = None
        b.grad = None
        (a @ b).backward(dyngrad.from_numpy(g_np))

    def numpy_three():
        a_np @ b_np
        g_np @ b_np.T
        a_np.T @ g_np

    def numpy_three_kept():
        kept.clear()
        a_np @ b_np
        kept["a"] = g_np @ b_np.T
        kept["b"] = a_np.T @ g_np

    def timeit(fn):
        fn()
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    times = {ours: [], numpy_three: [], numpy_three_kept: []}
    for _ in range(rounds):
        for fn, ts in times.items():
            ts.append(timeit(fn))
    # The fastest round of each: BLAS threads make single rounds jumpy on a shared machine.
    ta, tb, tc = (min(ts) for ts in times.values())
    print(f"{'matmul 1024x1024 fwd+bwd':<34} dyngrad {ta * 1e3:6.1f} ms"
          f"      3 NumPy matmuls {tb * 1e3:6.1f} ms   ratio {ta / tb:5.2f}x")
    print(f"{'  the same, gradients kept':<34} dyngrad {ta * 1e3:6.1f} ms"
          f"      3 NumPy matmuls {tc * 1e3:6.1f} ms   ratio {ta / tc:5.2f}x")
    return ta / tc


def main() -> None:
    import torch  # here, not at the top: bench/gc_deep.py imports this module without torch

    torch.set_num_threads(1)
    gc.collect()
    print(f"dyngrad {dyngrad.__version__}, torch {torch.__version__}, numpy {np.__version__}")
    print(f"forward+backward time per op, chain of {CHAIN} mixed elementwise ops")
    compare("(4,4) float32", fwd_bwd(dyngrad, (4, 4)), fwd_bwd(torch, (4, 4)), reps=60)
    compare("0-dim float32", fwd_bwd(dyngrad, ()), fwd_bwd(torch, ()), reps=60)
    compare("(4,4) float32, + - * / only", fwd_bwd(dyngrad, (4, 4), arithmetic_chain),
            fwd_bwd(torch, (4, 4), arithmetic_chain), reps=60)
    deep_case(torch)
    mlp_case(torch)
    matmul_case()


if __name__ == "__main__":
    main()
