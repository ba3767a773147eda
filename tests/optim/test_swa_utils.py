"""optim.swa_utils against torch: AveragedModel (SWA and EMA, per tensor or per list, with and
without buffers), update_bn and SWALR.

Both libraries train the same small network (dyngrad through its own autograd) and average it;
the averaged state dicts are compared key by key.
"""

import warnings

import numpy as np
import pytest
import torch

import dyngrad

X = np.random.default_rng(0).standard_normal((5, 8, 4))


def models():
    """The same Linear-BatchNorm-Linear network (float64) in dyngrad and in torch."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                              torch.nn.Linear(3, 2)).double()
    ours = dyngrad.nn.Sequential(dyngrad.nn.Linear(4, 3), dyngrad.nn.BatchNorm1d(3),
                                 dyngrad.nn.Linear(3, 2)).double()
    ours.load_state_dict({k: dyngrad.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    return ours, ref


AVERAGING = {
    "swa": lambda su: {},
    "swa-buffers": lambda su: {"use_buffers": True},
    "ema": lambda su: {"avg_fn": su.get_ema_avg_fn(0.9)},
    "swa-fn-buffers": lambda su: {"avg_fn": su.get_swa_avg_fn(), "use_buffers": True},
    "ema-multi": lambda su: {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)},
    "ema-multi-buffers": lambda su: {"multi_avg_fn": su.get_ema_multi_avg_fn(0.8),
                                     "use_buffers": True},
    "swa-multi": lambda su: {"multi_avg_fn": su.get_swa_multi_avg_fn()},
}


def train_and_average(lib, model, options, snapshots=None):
    """Five SGD steps on a quadratic of the output, folding the model into the average after
    each; returns the averaged model."""
    avg = lib.optim.swa_utils.AveragedModel(model, **options)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    for x in X:
        out = model(lib.tensor(x))
        loss = (out * out).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        avg.update_parameters(model)
        if snapshots is not None:
            snapshots.append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
    return avg


@pytest.mark.parametrize("kind", list(AVERAGING))
def test_averaged_model_matches_torch(kind):
    results = []
    for lib, model in zip((dyngrad, torch), models(), strict=True):
        avg = train_and_average(lib, model, AVERAGING[kind](lib.optim.swa_utils))
        avg.eval()
        out = avg(lib.tensor(X[0])).detach().numpy()
        results.append((avg.state_dict(), out, avg.n_averaged.item()))
    (ours, our_out, our_n), (ref, ref_out, ref_n) = results
    assert list(ours) == list(ref) and list(ours)[0] == "n_averaged"
    for key, value in ref.items():
        assert str(ours[key].dtype) == str(value.dtype), key
        np.testing.assert_allclose(ours[key].numpy(), value.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(our_out, ref_out, rtol=1e-12)
    assert our_n == ref_n == 5


def test_swa_is_the_mean_of_the_snapshots():
    """Parameters are the equal-weight mean; buffers (not averaged) are the latest model's."""
    snapshots = []
    model, _ = models()
    avg = train_and_average(dyngrad, model, {}, snapshots)
    state = avg.module.state_dict()
    mean = np.mean([s["0.weight"] for s in snapshots], axis=0)
    np.testing.assert_allclose(state["0.weight"].numpy(), mean, rtol=1e-12)
    np.testing.assert_array_equal(state["1.running_mean"].numpy(), snapshots[-1]["1.running_mean"])
    assert state["1.num_batches_tracked"].item() == 5


def test_averaged_model_copies_the_model():
    model, _ = models()
    avg = dyngrad.optim.swa_utils.AveragedModel(model)
    assert avg.module is not model and avg.module[0].weight is not model[0].weight
    assert avg.n_averaged.dtype == dyngrad.int64 and avg.n_averaged.item() == 0
    assert repr(avg) == repr(torch.optim.swa_utils.AveragedModel(models()[1]))


@pytest.mark.parametrize("make", [
    lambda lib, su, m: su.AveragedModel(m, avg_fn=su.get_swa_avg_fn(),
                                        multi_avg_fn=su.get_swa_multi_avg_fn()),
    lambda lib, su, m: su.get_ema_avg_fn(1.5),
    lambda lib, su, m: su.get_ema_multi_avg_fn(-0.1),
    # the integer buffer num_batches_tracked can't take the SWA list update's division
    lambda lib, su, m: train_and_average(lib, m, {"multi_avg_fn": su.get_swa_multi_avg_fn(),
                                                  "use_buffers": True}),
])
def test_averaging_errors_match_torch(make):
    errors = []
    for lib, model in zip((dyngrad, torch), models(), strict=True):
        with pytest.raises(Exception) as info:
            make(lib, lib.optim.swa_utils, model)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


def test_integer_lists_average_in_place():
    """Lists of integer tensors: EMA truncates `decay * ema + (1 - decay) * p`; SWA with a
    Python count adds `(p - avg) / (n + 1)` (an int tensor refuses a float alpha)."""
    out = []
    for lib in (dyngrad, torch):
        su = lib.optim.swa_utils
        ema = [lib.tensor([10, -7, 3])]
        su.get_ema_multi_avg_fn(0.75)(ema, [lib.tensor([2, 9, 3])], lib.tensor(4))
        with pytest.raises(RuntimeError) as info:
            su.get_swa_multi_avg_fn()([lib.tensor([1, 2])], [lib.tensor([5, 6])], 3)
        out.append((ema[0].tolist(), str(info.value)))
    assert out[0] == out[1]
    assert out[0][0] == [8, -3, 3]


# --- update_bn -------------------------------------------------------------------------------
@pytest.mark.parametrize("batches", ["tensors", "tuples"])
def test_update_bn_matches_torch(batches):
    """Running statistics recomputed as the plain average over the loader; momentum and the
    training flag restored."""
    results = []
    for lib, model in zip((dyngrad, torch), models(), strict=True):
        model.eval()
        model[1].momentum = 0.3
        xs = [lib.tensor(x) for x in X]
        loader = xs if batches == "tensors" else [(x, lib.zeros(8)) for x in xs]
        lib.optim.swa_utils.update_bn(loader, model, device="cpu")
        bn = model[1]
        results.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(),
                        bn.num_batches_tracked.item(), bn.momentum, model.training))
    ours, ref = results
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-12)
    assert ours[2:] == ref[2:] == (5, 0.3, False)


class UnreadLoader:
    def __iter__(self):
        raise AssertionError("the loader was read")


def test_update_bn_without_batch_norm_reads_nothing():
    for lib in (dyngrad, torch):
        model = lib.nn.Sequential(lib.nn.Linear(4, 2), lib.nn.InstanceNorm1d(2)).eval()
        lib.optim.swa_utils.update_bn(UnreadLoader(), model)
        assert not model.training
    with pytest.raises(AssertionError, match="loader was read"):
        dyngrad.optim.swa_utils.update_bn(UnreadLoader(), models()[0])


# --- SWALR -----------------------------------------------------------------------------------
SCHEDULES = {
    "cos": lambda su, o: su.SWALR(o, swa_lr=0.01, anneal_epochs=5),
    "linear-per-group": lambda su, o: su.SWALR(o, swa_lr=[0.01, 0.2], anneal_epochs=3,
                                               anneal_strategy="linear"),
    "no-annealing": lambda su, o: su.SWALR(o, swa_lr=0.02, anneal_epochs=0),
    "one-epoch": lambda su, o: su.SWALR(o, swa_lr=0.01, anneal_epochs=1),
}


def make_opt(lib):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)


def lr_sequence(lib, make, steps=12):
    opt = make_opt(lib)
    sched = make(lib.optim.swa_utils, opt)
    out = [list(sched.get_last_lr())]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
    return out, sched, opt


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_swalr_matches_torch(name):
    ours, sched, opt = lr_sequence(dyngrad, SCHEDULES[name])
    ref, ref_sched, ref_opt = lr_sequence(torch, SCHEDULES[name])
    np.testing.assert_allclose(ours, ref, rtol=1e-15)
    assert sched.state_dict() == ref_sched.state_dict()
    assert [g["swa_lr"] for g in opt.param_groups] == [g["swa_lr"] for g in ref_opt.param_groups]
    assert ours[-1] == [g["swa_lr"] for g in opt.param_groups]  # annealed all the way


def test_swalr_load_state_dict_restores_the_strategy():
    runs = []
    for lib in (dyngrad, torch):
        _, saved, _ = lr_sequence(lib, SCHEDULES["linear-per-group"], steps=1)
        opt = make_opt(lib)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.01, 0.2], anneal_epochs=3)
        sched.load_state_dict(saved.state_dict())
        lrs = []
        for _ in range(4):
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        runs.append((lrs, sched.anneal_func(0.5)))
    assert runs[0] == runs[1]
    assert runs[0][1] == 0.5  # linear again


@pytest.mark.parametrize("make", [
    lambda su, o: su.SWALR(o, swa_lr=0.01, anneal_strategy="step"),
    lambda su, o: su.SWALR(o, swa_lr=0.01, anneal_epochs=-1),
    lambda su, o: su.SWALR(o, swa_lr=0.01, anneal_epochs=2.5),
    lambda su, o: su.SWALR(o, swa_lr=[0.01, 0.02, 0.03]),
])
def test_swalr_errors_match_torch(make):
    errors = []
    for lib in (dyngrad, torch):
        with pytest.raises(Exception) as info:
            make(lib.optim.swa_utils, make_opt(lib))
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


def test_swalr_get_lr_outside_step_warns():
    messages = []
    for lib in (dyngrad, torch):
        sched = SCHEDULES["cos"](lib.optim.swa_utils, make_opt(lib))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.get_lr()
        messages.append([str(w.message) for w in caught if w.category is UserWarning])
    assert messages[0] == messages[1] and len(messages[0]) == 1


def test_swalr_tensor_swa_lr_is_copied():
    out = []
    for lib in (dyngrad, torch):
        opt = make_opt(lib)
        swa_lr = lib.tensor(0.02)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=swa_lr, anneal_epochs=2)
        assert opt.param_groups[0]["swa_lr"] is not swa_lr
        for _ in range(3):
            opt.step()
            sched.step()
        out.append([float(lr) for lr in sched.get_last_lr()])
    assert out[0] == out[1]
    assert out[0] == pytest.approx([0.02, 0.02])
