"""The layers of `torch.nn`."""

from dyngrad.nn.modules.activation import *  # noqa: F403
from dyngrad.nn.modules.adaptive import *  # noqa: F403
from dyngrad.nn.modules.container import *  # noqa: F403
from dyngrad.nn.modules.conv import *  # noqa: F403
from dyngrad.nn.modules.distance import *  # noqa: F403
from dyngrad.nn.modules.dropout import *  # noqa: F403
from dyngrad.nn.modules.embedding_bag import *  # noqa: F403
from dyngrad.nn.modules.fold import *  # noqa: F403
from dyngrad.nn.modules.linear import *  # noqa: F403
from dyngrad.nn.modules.linear_cross_entropy_options import *  # noqa: F403
from dyngrad.nn.modules.loss import *  # noqa: F403
from dyngrad.nn.modules.misc import *  # noqa: F403
from dyngrad.nn.modules.module import Module
from dyngrad.nn.modules.more_losses import *  # noqa: F403
from dyngrad.nn.modules.normalization import *  # noqa: F403
from dyngrad.nn.modules.padding import *  # noqa: F403
from dyngrad.nn.modules.pooling import *  # noqa: F403
from dyngrad.nn.modules.rnn import *  # noqa: F403
from dyngrad.nn.modules.sparse import *  # noqa: F403
from dyngrad.nn.modules.transformer import *  # noqa: F403
