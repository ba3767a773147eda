"""`torch.random`: seeding and state of the default generator, and `fork_rng`.

The functions are dyngrad.ops.random's (the same default generator as `torch.rand`); this module
gives them PyTorch's import path, `torch.random`. The numbers differ from PyTorch's
(docs/differences.md, "Random numbers").
"""

from dyngrad.ops.random import (
    Generator,
    default_generator,
    fork_rng,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = [
    "Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed",
    "seed", "set_rng_state",
]
