"""`torch.nn.functional`: stateless layers, activations and losses.

Ops that also live at top level (`sigmoid`, `tanh`) are the very same objects as `dyngrad.<op>`.
"""

from dyngrad.nn.functional.activation import *  # noqa: F403
from dyngrad.nn.functional.attention import *  # noqa: F403
from dyngrad.nn.functional.conv import *  # noqa: F403
from dyngrad.nn.functional.loss import *  # noqa: F403
from dyngrad.nn.functional.misc import *  # noqa: F403
from dyngrad.nn.functional.more_losses import *  # noqa: F403
from dyngrad.nn.functional.normalization import *  # noqa: F403
from dyngrad.nn.functional.pooling import *  # noqa: F403
from dyngrad.nn.functional.sparse import *  # noqa: F403
from dyngrad.nn.functional.vision import *  # noqa: F403


def __getattr__(name: str):
    """`F.sigmoid` and `F.tanh` are dyngrad's own (looked up late: nn loads before them)."""
    if name in ("sigmoid", "tanh"):
        import dyngrad

        return getattr(dyngrad, name)
    raise AttributeError(f"module 'dyngrad.nn.functional' has no attribute '{name}'")
