"""What Python's cyclic garbage collector costs dyngrad on one large graph, and what it costs with
the collector tuned or off (dyngrad alone in the process, as in a user's program).

Run: `python bench/gc_deep.py` (also part of `make bench`). dyngrad's graph is Python objects
(about five the collector tracks per op); they form no cycles, so the collector never frees any,
but Python 3.11's full collections rescan them all as the graph grows. The engine pauses the
collector during backward; the forward pass is the user's code, so dyngrad leaves the
collector's settings alone there and this script shows what changing them buys.
"""

from __future__ import annotations

import gc
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import overhead  # noqa: E402  (the mixed chain of bench/overhead.py; it imports no torch)

import dyngrad  # noqa: E402

assert "torch" not in sys.modules  # its 145,000 objects would inflate every full collection

DEPTH = 20000


def per_op_us() -> float:
    """Forward+backward time per op of one mixed chain of DEPTH ops (best of three)."""
    overhead.CHAIN = DEPTH
    best = float("inf")
    for _ in range(3):
        x = dyngrad.tensor(np.full((4, 4), 0.3, np.float32), requires_grad=True)
        w = dyngrad.tensor(np.full((4, 4), 0.9, np.float32), requires_grad=True)
        t = time.perf_counter()
        overhead.chain(dyngrad, x, w).backward()
        best = min(best, (time.perf_counter() - t) / DEPTH * 1e6)
    return best


def main() -> None:
    default = gc.get_threshold()
    print(f"one mixed chain of {DEPTH} ops, forward+backward per op (dyngrad only)")
    base = per_op_us()
    print(f"{'default collector ' + str(default):<42} {base:6.2f} us/op")
    gc.set_threshold(10000, 50, 100)
    tuned = per_op_us()
    gc.set_threshold(*default)
    print(f"{'gc.set_threshold(10000, 50, 100)':<42} {tuned:6.2f} us/op   {tuned / base:5.2f}x")
    gc.freeze()  # everything alive now (modules, the model) leaves the collections' scans
    frozen = per_op_us()
    gc.unfreeze()
    print(f"{'gc.freeze() before the loop':<42} {frozen:6.2f} us/op   {frozen / base:5.2f}x")
    gc.disable()
    off = per_op_us()
    gc.enable()
    print(f"{'gc.disable()':<42} {off:6.2f} us/op   {off / base:5.2f}x")


if __name__ == "__main__":
    main()
