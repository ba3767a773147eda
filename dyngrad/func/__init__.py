"""`torch.func`: composable function transforms (vmap, grad, vjp, jvp, jacrev, jacfwd, hessian).

`vmap` batches for real: the function runs once on batched arrays (see `func/_batched.py`), so
`vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)` gives per-sample gradients from one
forward and one backward pass over the whole batch.
"""

from __future__ import annotations

import functools

from dyngrad.func.functional_call import functional_call, stack_module_state
from dyngrad.func.jacobians import hessian, jacfwd, jacrev, linearize
from dyngrad.func.transforms import grad, grad_and_value, jvp, vjp
from dyngrad.func.vmap import vmap

__all__ = ["vmap", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "functional_call", "stack_module_state", "linearize", "functionalize"]


def functionalize(func, *, remove: str = "mutations"):
    """`func` itself: dyngrad runs eagerly, so removing mutations changes no result."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n     remove='mutations': all inplace and out= operators will be "
            "removed from the program, and replaced with their out-of-place equivalents.\n     "
            "remove='mutations_and_views': In addition to the above, all aliasing operators {view}"
            " will be replaced with their non-aliasing counterparts, {view}_copy.\n"
        )

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapped
