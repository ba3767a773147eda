"""Shared pytest setup: torch is the oracle; each test starts from the same global state."""

import pytest
import torch

import dyngrad
from tests import harness

torch.set_num_threads(1)  # deterministic summation order, and no thread start-up on tiny tensors


@pytest.fixture(autouse=True)
def _fresh_global_state(request):
    """Same random inputs for a test whatever ran before it; afterwards, undo what a test may
    change globally: default dtype, grad mode, anomaly mode."""
    harness.reseed(request.node.nodeid)
    for lib in (dyngrad, torch):
        lib.manual_seed(0)
    yield
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float32)
        lib.set_grad_enabled(True)
        lib.autograd.set_detect_anomaly(False)
