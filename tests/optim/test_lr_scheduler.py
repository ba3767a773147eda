"""lr schedulers against torch.optim.lr_scheduler: lr (and momentum) sequences, state dicts."""

import warnings

import pytest
import torch

import dyngrad


def make_opt(lib, name="SGD"):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1)


SCHEDULERS = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 0.95**e),
    "LambdaLR-list": lambda s, o: s.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9**e]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda s, o: s.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=8),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.4, total_iters=6),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=10, power=2.0),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=4), s.ExponentialLR(o, gamma=0.8),
            s.CosineAnnealingLR(o, T_max=5)], milestones=[5, 12]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.5, total_iters=3), s.ExponentialLR(o, gamma=0.9)]),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=31),
    "OneCycleLR-3phase-linear": lambda s, o: s.OneCycleLR(
        o, max_lr=0.5, epochs=3, steps_per_epoch=10, anneal_strategy="linear", three_phase=True,
        pct_start=0.25),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda s, o: s.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                                    step_size_up=3, step_size_down=5,
                                                    mode="triangular2"),
    "CyclicLR-exp_range": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                  mode="exp_range", gamma=0.9),
}


def sequence(lib, make, steps=30, opt_name="SGD"):
    opt = make_opt(lib, opt_name)
    sched = make(lib.optim.lr_scheduler, opt)
    out = [(list(sched.get_last_lr()), _momenta(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append((list(sched.get_last_lr()), _momenta(opt)))
    return out


def _momenta(opt):
    return [g.get("momentum", g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name):
    assert sequence(dyngrad, SCHEDULERS[name]) == sequence(torch, SCHEDULERS[name])


def test_cycle_beta1_of_adam():
    make = SCHEDULERS["OneCycleLR"]
    assert sequence(dyngrad, make, opt_name="Adam") == sequence(torch, make, opt_name="Adam")


def test_reduce_lr_on_plateau():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7] * 2
    for kwargs in ({"patience": 2, "factor": 0.5, "cooldown": 1},
                   {"mode": "max", "threshold_mode": "abs", "patience": 1, "min_lr": [0.02, 0]}):
        out = []
        for lib in (dyngrad, torch):
            opt = make_opt(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
            lrs = []
            for m in metrics:
                opt.step()
                sched.step(m)
                lrs.append(sched.get_last_lr())
            out.append((lrs, sched.best, sched.num_bad_epochs))
        assert out[0] == out[1]


def test_state_dict_round_trip():
    make = SCHEDULERS["SequentialLR"]
    opt = make_opt(dyngrad)
    sched = make(dyngrad.optim.lr_scheduler, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    state = sched.state_dict()
    ref_opt = make_opt(torch)
    ref = make(torch.optim.lr_scheduler, ref_opt)
    assert set(state) == set(ref.state_dict())
    opt2 = make_opt(dyngrad)
    sched2 = make(dyngrad.optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt.state_dict())  # after making the scheduler, which resets the lrs
    sched2.load_state_dict(state)
    for _ in range(5):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


def test_warnings_match_torch():
    for lib in (dyngrad, torch):
        opt = make_opt(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            sched.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            sched.get_lr()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step()
            sched.step()


@pytest.mark.parametrize("make", [
    lambda s, o: s.StepLR(object(), 2),
    lambda s, o: s.ConstantLR(o, factor=2),
    lambda s, o: s.LinearLR(o, start_factor=0),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda s, o: s.StepLR(o, 2, last_epoch=3),
    lambda s, o: s.ReduceLROnPlateau(o, factor=1.0),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2)], milestones=[3]),
])
def test_errors_match_torch(make):
    errors = []
    for lib in (dyngrad, torch):
        with pytest.raises(Exception) as info:
            make(lib.optim.lr_scheduler, make_opt(lib))
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]
