"""Weight averaging (SWA, Izmailov et al.; and EMA): `AveragedModel`, the `SWALR` schedule, and
`update_bn` to recompute batch-norm statistics for the averaged weights.

Averages are written into the averaged model's tensors in place, without recording a graph.
"""

from __future__ import annotations

import itertools
import math
from copy import deepcopy

from dyngrad import _dtype
from dyngrad._tensor import Tensor
from dyngrad.autograd import grad_mode
from dyngrad.nn.modules.module import Module
from dyngrad.nn.modules.normalization import _BatchNorm
from dyngrad.ops.creation import tensor
from dyngrad.optim.lr_scheduler import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def _is_float(t: Tensor) -> bool:
    return t.is_floating_point() or t.is_complex()


def get_ema_multi_avg_fn(decay=0.999):
    """In-place exponential moving average of lists of tensors: `ema = lerp(ema, p, 1 - decay)`
    (integer tensors: `decay * ema + (1 - decay) * p`, truncated)."""
    _check_decay(decay)

    @grad_mode.no_grad()
    def ema_update(ema_param_list, current_param_list, _) -> None:
        pairs = zip(ema_param_list, current_param_list, strict=True)
        if _is_float(ema_param_list[0]):
            for p_ema, p_model in pairs:
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in pairs:
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """In-place running mean of lists of tensors: `avg += (p - avg) / (n + 1)` after n models
    (as a lerp with weight `1 / (n + 1)` for floating tensors)."""

    @grad_mode.no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        pairs = list(zip(averaged_param_list, current_param_list, strict=True))
        if _is_float(averaged_param_list[0]):
            for p_avg, p_model in pairs:
                p_avg.lerp_(p_model, 1 / (num_averaged + 1))
            return
        diffs = [p_model - p_avg for p_avg, p_model in pairs]
        for (p_avg, _), diff in zip(pairs, diffs, strict=True):
            if isinstance(num_averaged, Tensor):
                p_avg.addcdiv_(diff, num_averaged + 1)
            else:
                p_avg.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average of one tensor: `decay * ema + (1 - decay) * p`."""
    _check_decay(decay)

    @grad_mode.no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor after `num_averaged` models: `avg + (p - avg) / (n + 1)`."""

    @grad_mode.no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters (and, with `use_buffers`, buffers) track an average of
    the weights passed to `update_parameters`: the equal-weight SWA mean unless `avg_fn` (one
    tensor at a time) or `multi_avg_fn` (lists of same-dtype tensors, in place) says otherwise.
    Without `use_buffers` the buffers are copied from the latest model."""

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers=False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=_dtype.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current weights into the average (the first call copies them)."""
        if self.use_buffers:
            ours = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            ours, theirs = self.parameters(), model.parameters()
        pairs = [(a.detach(), b.detach()) for a, b in zip(ours, theirs, strict=False)]
        n = self.n_averaged
        if n == 0:
            for averaged, current in pairs:
                averaged.copy_(current)
        elif self.avg_fn is not None:
            for averaged, current in pairs:
                averaged.copy_(self.avg_fn(averaged, current, n))
        elif self.multi_avg_fn is not None:
            by_dtype: dict = {}
            for averaged, current in pairs:
                lists = by_dtype.setdefault(averaged.dtype, ([], []))
                lists[0].append(averaged)
                lists[1].append(current)
            for averaged_list, current_list in by_dtype.values():
                self.multi_avg_fn(averaged_list, current_list, n)
        else:
            swa = get_swa_avg_fn()
            for averaged, current in pairs:
                averaged.copy_(swa(averaged, current, n))
        if not self.use_buffers:
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(b_model.detach())
        self.n_averaged += 1


@grad_mode.no_grad()
def update_bn(loader, model: Module, device=None) -> None:
    """Recompute every batch norm's running mean and variance with one pass over `loader` (the
    first element of each batch that is a list or tuple), as a cumulative average."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, list | tuple):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr to its `swa_lr` over `anneal_epochs` steps, then holds it:
    `lr_t = swa_lr * a(t) + lr_0 * (1 - a(t))` with `a` linear or `(1 - cos(pi t)) / 2` of the
    annealing progress t in [0, 1] (computed from the current lr, so other changes carry over)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(
                f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}"
            )
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list:
        self._warn_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # the lr the schedule started from, recovered from the current lr at the previous step
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        out = []
        for group in self.optimizer.param_groups:
            lr, swa_lr = group["lr"], group["swa_lr"]
            start = swa_lr if prev_alpha == 1 else (lr - prev_alpha * swa_lr) / (1 - prev_alpha)
            out.append(swa_lr * alpha + start * (1 - alpha))
        return out

    def state_dict(self) -> dict:
        """Every attribute but the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
