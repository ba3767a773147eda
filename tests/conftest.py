"""Shared pytest setup: torch is the oracle; each test starts from the same global state."""

import os

# One BLAS thread: the tests use small matrices, and on a loaded 2-core machine threaded BLAS
# spends its time waiting (set before NumPy loads its BLAS).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

import dyngrad  # noqa: E402
from dyngrad.autograd.node import AccumulateGrad  # noqa: E402
from tests import harness  # noqa: E402

torch.set_num_threads(1)  # deterministic summation order, and no thread start-up on tiny tensors


@pytest.fixture(autouse=True)
def _fresh_global_state(request):
    """Same random inputs for a test whatever ran before it; afterwards, undo what a test may
    change globally: default dtype, grad mode, anomaly mode."""
    harness.reseed(request.node.nodeid)
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
    # The engine's one-way switch (set when a leaf gets hooks): each test starts on the path
    # a program without leaf hooks takes, whatever hooks earlier tests registered.
    AccumulateGrad.hooked = False
    yield
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float32)
        lib.set_grad_enabled(True)
        lib.autograd.set_detect_anomaly(False)
