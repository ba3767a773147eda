"""`torch.nn`: modules, parameters, functional forms, initialisers and utilities."""

from dyngrad.nn import (
    functional,
    init,
    utils,  # noqa: E402 - utils builds on the modules
)
from dyngrad.nn.modules import *  # noqa: F403
from dyngrad.nn.modules import Module
from dyngrad.nn.parameter import (
    Buffer,
    Parameter,
    UninitializedBuffer,
    UninitializedParameter,
)
