"""`torch.optim`: optimizers that update parameters from their `.grad`, and lr schedulers."""

from dyngrad.optim import lr_scheduler
from dyngrad.optim.adadelta import Adadelta
from dyngrad.optim.adagrad import Adagrad
from dyngrad.optim.adam import Adam
from dyngrad.optim.adamax import Adamax
from dyngrad.optim.adamw import AdamW
from dyngrad.optim.lbfgs import LBFGS
from dyngrad.optim.nadam import NAdam
from dyngrad.optim.optimizer import Optimizer
from dyngrad.optim.radam import RAdam
from dyngrad.optim.rmsprop import RMSprop
from dyngrad.optim.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "SGD", "lr_scheduler"]
