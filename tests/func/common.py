"""Shared checks of the vmap test files."""

import warnings

import numpy as np
import torch

import dyngrad as dg
from tests.harness import assert_same_values


def check_eager_gradients(cases, name: str, x0) -> None:
    """Without vmap, `cases(lib)[name]` has torch's gradient at x0, computed on plain arrays."""
    grads = []
    for lib in (torch, dg):
        f = cases(lib)[name]
        x = lib.tensor(x0, requires_grad=True)
        (f(x) * lib.cos(x.sum())).sum().backward()
        grads.append(x.grad)
    assert type(grads[1]._data) is np.ndarray
    assert_same_values(grads[1], grads[0], name, rtol=1e-12, atol=1e-14)


def check_batched_result(run, expected, label: str) -> None:
    """dyngrad's `run()` gives torch's `expected` as a plain array, with no per-sample fallback
    loop (its warning is an error here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = run()
    assert type(got._data) is np.ndarray
    assert_same_values(got, expected, label, rtol=1e-10, atol=1e-12)
