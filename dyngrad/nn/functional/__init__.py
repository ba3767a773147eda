"""`torch.nn.functional`: stateless layers, activations and losses."""

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

