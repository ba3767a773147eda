"""`torch.optim`: optimizers that update parameters from their `.grad`, and lr schedulers."""

from dyngrad.optim import lr_scheduler, swa_utils
from dyngrad.optim.adadelta import Adadelta
from dyngrad.optim.adafactor import Adafactor
from dyngrad.optim.adagrad import Adagrad
from dyngrad.optim.adam import Adam
from dyngrad.optim.adamax import Adamax
from dyngrad.optim.adamw import AdamW
from dyngrad.optim.asgd import ASGD
from dyngrad.optim.lbfgs import LBFGS
from dyngrad.optim.muon import Muon
from dyngrad.optim.nadam import NAdam
from dyngrad.optim.optimizer import Optimizer
from dyngrad.optim.radam import RAdam
from dyngrad.optim.rmsprop import RMSprop
from dyngrad.optim.rprop import Rprop
from dyngrad.optim.sgd import SGD
from dyngrad.optim.sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Muon",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam", "lr_scheduler",
           "swa_utils"]
