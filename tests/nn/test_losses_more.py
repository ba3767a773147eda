"""The remaining losses and functional helpers against torch: values, grad_fn names, gradients
(and second order where PyTorch has it), module reprs, and error messages."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, fd_check, with_lib

F64 = (np.float64,)
REDUCTIONS = ("mean", "sum", "none")
rng = np.random.default_rng(7)


def F(name, **kw):
    return with_lib(lambda lib, *ts: getattr(lib.nn.functional, name)(*ts, **kw))


def T(lib, a):
    return lib.from_numpy(np.asarray(a).copy())


def check(fn, *inputs, **kw):
    kw.setdefault("dtypes", F64)
    kw.setdefault("noncontig", False)
    check_op(fn, *inputs, **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    target = rng.dirichlet(np.ones(5), size=3)
    if log_target:
        target = np.log(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(F("kl_div", reduction=reduction, log_target=log_target),
              np.log(rng.dirichlet(np.ones(5), size=3)), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, True), (True, True)])
def test_poisson_nll(reduction, log_input, full):
    x = array(3, 4, low=0.2, high=2)
    target = rng.integers(0, 5, (3, 4)).astype(np.float64)
    check(F("poisson_nll_loss", log_input=log_input, full=full, reduction=reduction), x, target,
          requires_grad=[True, False])


@pytest.mark.parametrize("log_input", [False, True])
def test_poisson_nll_full_target_grad(log_input):
    # Stirling's term is differentiable in target (masked where target <= 1), as in PyTorch
    x = array(3, 4, low=0.2, high=2)
    target = array(3, 4, low=0.3, high=4)
    check(F("poisson_nll_loss", log_input=log_input, full=True, reduction="none"), x, target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll(reduction):
    x, t = array(4, 3), array(4, 3)
    var = array(4, 3, low=0.1, high=2)
    check(F("gaussian_nll_loss", reduction=reduction), x, t, var)
    check(F("gaussian_nll_loss", full=True, reduction=reduction), x, t, var[:, :1].copy())
    check(F("gaussian_nll_loss", reduction=reduction), x, t, var[:, 0].copy())
    check(with_lib(lambda lib, a, b: lib.nn.functional.gaussian_nll_loss(a, b, 0.5)), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_embedding_losses(reduction):
    sign = np.where(rng.random(5) < 0.5, -1.0, 1.0)
    check(F("margin_ranking_loss", margin=0.3, reduction=reduction), array(5), array(5), sign,
          requires_grad=[True, True, False])
    check(F("hinge_embedding_loss", margin=0.7, reduction=reduction), array(4, 5),
          np.where(rng.random((4, 5)) < 0.5, -1.0, 1.0), requires_grad=[True, False])
    check(F("cosine_embedding_loss", margin=0.1, reduction=reduction), array(5, 3), array(5, 3),
          sign, requires_grad=[True, True, False])
    check(F("soft_margin_loss", reduction=reduction), array(4, 5),
          np.where(rng.random((4, 5)) < 0.5, -1.0, 1.0), requires_grad=[True, False])
    check(F("multilabel_soft_margin_loss", reduction=reduction), array(4, 5),
          (rng.random((4, 5)) < 0.4).astype(np.float64), requires_grad=[True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin(reduction, p, weighted):
    target = np.array([0, 3, 2, 3])
    w = np.linspace(0.5, 2, 5)

    def fn(lib, x):
        weight = T(lib, w) if weighted else None
        return lib.nn.functional.multi_margin_loss(x, T(lib, target), p=p, margin=0.8,
                                                   weight=weight, reduction=reduction)

    check(with_lib(fn), array(4, 5), gradgrad=False)
    check(with_lib(lambda lib, x: lib.nn.functional.multi_margin_loss(
        x, T(lib, np.array(2)), reduction=reduction)), array(5), gradgrad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin(reduction):
    target = np.array([[3, 0, -1, 1, 2], [1, 2, 4, 0, 3], [-1, 0, 0, 0, 0], [4, 4, -1, 2, 2]])
    check(with_lib(lambda lib, x: lib.nn.functional.multilabel_margin_loss(
        x, T(lib, target), reduction=reduction)), array(4, 5), gradgrad=False)
    check(with_lib(lambda lib, x: lib.nn.functional.multilabel_margin_loss(
        x, T(lib, target[0]), reduction=reduction)), array(5), gradgrad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet(reduction, swap):
    a, p, n = array(4, 3), array(4, 3), array(4, 3)
    # the last step (clamp_min, mean or sum) is what both record; pairwise_distance's own node
    # (torch: NormBackward1) lives in the reduction op module
    check(F("triplet_margin_loss", margin=2.0, swap=swap, reduction=reduction), a, p, n)
    check(with_lib(lambda lib, *ts: lib.nn.functional.triplet_margin_with_distance_loss(
        *ts, distance_function=lambda x, y: 1 - lib.nn.functional.cosine_similarity(x, y),
        margin=0.5, swap=swap, reduction=reduction)), a, p, n)


def _ctc_inputs(T_, N, C, S):
    lp = np.log(rng.dirichlet(np.ones(C), size=(T_, N)))
    targets = rng.integers(1, C, (N, S))
    targets[0, 1] = targets[0, 0]  # a repeated label needs a blank between
    return lp, targets


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss(reduction, zero_infinity):
    lp, targets = _ctc_inputs(7, 3, 5, 3)
    in_lengths, tg_lengths = [7, 5, 6], [3, 2, 0]

    def fn(lib, x):
        return lib.nn.functional.ctc_loss(x, T(lib, targets), T(lib, in_lengths),
                                          T(lib, tg_lengths), reduction=reduction,
                                          zero_infinity=zero_infinity)

    check(with_lib(fn), lp, gradgrad=False)
    # concatenated 1-d targets, lists as lengths, another blank
    flat = np.concatenate([targets[0, :3], targets[1, :2]])

    def fn_flat(lib, x):
        return lib.nn.functional.ctc_loss(x, T(lib, flat), (7, 5, 6), (3, 2, 0), blank=4,
                                          reduction=reduction, zero_infinity=zero_infinity)

    check(with_lib(fn_flat), lp, gradgrad=False)


def test_ctc_loss_impossible_and_unbatched():
    lp = np.log(rng.dirichlet(np.ones(4), size=(2, 1)))

    def fn(lib, x):
        return lib.nn.functional.ctc_loss(x, T(lib, np.array([[1, 1, 1]])), [2], [3],
                                          zero_infinity=True, reduction="sum")

    check(with_lib(fn), lp, gradgrad=False)
    lp2, targets = _ctc_inputs(6, 1, 4, 2)
    check(with_lib(lambda lib, x: lib.nn.functional.ctc_loss(
        x, T(lib, targets[0]), (6,), (2,), reduction="none")), lp2[:, 0].copy(), gradgrad=False)


def test_ctc_gradient_matches_log_softmax_finite_differences():
    """PyTorch's CTC gradient assumes log_softmax input: through log_softmax it is exact."""
    logits = array(5, 2, 4)
    targets = np.array([[1, 2], [3, 3]])

    def fn(x):
        return dyngrad.nn.functional.ctc_loss(dyngrad.nn.functional.log_softmax(x, 2),
                                              dyngrad.from_numpy(targets),
                                              [5, 5], [2, 2], reduction="sum")

    fd_check(fn, logits)


def _second_order(lib, x, loss_fn):
    xt = T(lib, x).requires_grad_()
    (g,) = lib.autograd.grad(loss_fn(lib, xt), xt, create_graph=True)
    assert type(g.grad_fn).__name__ == "NotImplemented"
    lib.autograd.grad(g.sum(), xt)


def test_second_order_is_not_implemented_like_torch():
    x = array(4, 5)
    check_error(lambda lib: _second_order(lib, x, lambda lib, xt: (
        lib.nn.functional.multi_margin_loss(xt, T(lib, np.array([0, 1, 2, 3]))))))
    check_error(lambda lib: _second_order(lib, x, lambda lib, xt: (
        lib.nn.functional.multilabel_margin_loss(xt, T(lib, np.zeros((4, 5), np.int64))))))
    lp, targets = _ctc_inputs(4, 1, 5, 2)
    check_error(lambda lib: _second_order(lib, lp, lambda lib, xt: lib.nn.functional.ctc_loss(
        xt, T(lib, targets), [4], [2])))


def test_loss_errors():
    x = np.zeros((4, 5), np.float32)
    check_error(lambda lib: lib.nn.functional.multi_margin_loss(T(lib, x), T(lib, [0, 1, 2, 7])))
    check_error(lambda lib: lib.nn.functional.multi_margin_loss(T(lib, x), T(lib, [0, 1, 2])))
    check_error(lambda lib: lib.nn.functional.multilabel_margin_loss(
        T(lib, x), T(lib, np.zeros((4, 4), np.int64))))
    check_error(lambda lib: lib.nn.functional.cosine_embedding_loss(
        T(lib, x), T(lib, x), T(lib, np.ones((4, 1)))))
    check_error(lambda lib: lib.nn.functional.margin_ranking_loss(
        T(lib, x), T(lib, x), T(lib, np.ones(4))))
    check_error(lambda lib: lib.nn.functional.gaussian_nll_loss(
        T(lib, x), T(lib, x), T(lib, np.ones(3))))
    check_error(lambda lib: lib.nn.functional.gaussian_nll_loss(
        T(lib, x), T(lib, x), -T(lib, np.ones((4, 5)))))
    check_error(lambda lib: lib.nn.functional.kl_div(T(lib, x), T(lib, x), reduction="foo"))
    check_error(lambda lib: lib.nn.functional.triplet_margin_loss(
        T(lib, x), T(lib, x), T(lib, x[0])))
    lp = np.zeros((6, 2, 4), np.float32)
    check_error(lambda lib: lib.nn.functional.ctc_loss(
        T(lib, lp), T(lib, [[1, 2], [3, 3]]), T(lib, [6, 7]), T(lib, [2, 2])))
    check_error(lambda lib: lib.nn.functional.ctc_loss(
        T(lib, lp), T(lib, [[1, 2], [3, 3]]), T(lib, [6, 5]), T(lib, [2, 3])))
    check_error(lambda lib: lib.nn.MultiMarginLoss(p=3))
    check_error(lambda lib: lib.nn.TripletMarginLoss(margin=0))
    check_error(lambda lib: lib.nn.functional.soft_margin_loss(
        T(lib, x), T(lib, x).requires_grad_()))


MODULES = [
    "KLDivLoss()", "KLDivLoss(reduction='batchmean', log_target=True)", "PoissonNLLLoss()",
    "PoissonNLLLoss(log_input=False, full=True)", "GaussianNLLLoss(full=True)", "CTCLoss()",
    "CTCLoss(blank=2, zero_infinity=True)", "MarginRankingLoss(0.5)", "HingeEmbeddingLoss()",
    "CosineEmbeddingLoss(margin=0.2)", "MultiMarginLoss(p=2)", "MultiLabelMarginLoss()",
    "MultiLabelSoftMarginLoss()", "SoftMarginLoss(reduction='sum')", "TripletMarginLoss()",
    "TripletMarginWithDistanceLoss()", "PairwiseDistance(p=1.0)", "CosineSimilarity(dim=0)",
    "Fold((4, 5), 2)", "Unfold(2, padding=1)", "Fold(3, 2, dilation=2, stride=(1, 2))",
    "EmbeddingBag(10, 3)", "EmbeddingBag(10, 3, mode='max', padding_idx=0, max_norm=1.0)",
    "EmbeddingBag(10, 3, mode='sum', norm_type=1.0, include_last_offset=True)",
]


@pytest.mark.parametrize("src", MODULES)
def test_module_repr_and_state(src):
    d, t = eval("dyngrad.nn." + src), eval("torch.nn." + src)
    assert repr(d) == repr(t)
    assert {k: tuple(v.shape) for k, v in d.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()}


def test_loss_modules_forward():
    x, y = array(4, 5), array(4, 5)
    for src, args in (("KLDivLoss(reduction='batchmean')", (x, np.exp(y))),
                      ("SoftMarginLoss()", (x, np.sign(y))), ("TripletMarginLoss()", (x, y, -x)),
                      ("CosineEmbeddingLoss()", (x, y, np.sign(y[:, 0]))),
                      ("MultiLabelSoftMarginLoss(weight=lib.ones(5, dtype=lib.float64))",
                       (x, (y > 0).astype(np.float64))),
                      ("TripletMarginWithDistanceLoss(swap=True)", (x, y, -x))):
        def fn(lib, *ts, src=src):
            return eval("lib.nn." + src)(*ts)

        both = src.startswith("Triplet") or src.startswith("Cosine")
        check(with_lib(fn), *args, requires_grad=[True, both] + [both] * (len(args) - 2))


# --- functional helpers --------------------------------------------------------------------------
def test_normalize_and_cosine_similarity():
    x = array(3, 4)
    x[1] = 1e-9  # a row whose norm is below eps
    for kw in ({}, {"p": 1.0, "dim": 0}, {"p": float("inf")}):
        check(F("normalize", **kw), x, grad=True, gradgrad=False)
    check(F("cosine_similarity"), x, array(3, 4))
    check(F("cosine_similarity", dim=0, eps=1e-3), x, array(4), gradgrad=False)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.5])
def test_pdist(p):
    x = array(5, 3)
    x[3] = x[1]  # a zero distance
    check(F("pdist", p=p), x, gradgrad=False)
    # "* 1": torch's pairwise_distance ends in NormBackward1, dyngrad's norm op (owned by the
    # reduction module) records LinalgVectorNormBackward0; the values and gradients must agree
    check(with_lib(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p=p) * 1),
          x, array(5, 3), gradgrad=False)


def test_pdist_double_backward_raises_like_torch():
    x = array(4, 3)
    for lib in (dyngrad, torch):
        xt = T(lib, x).requires_grad_()
        (g,) = lib.autograd.grad(lib.nn.functional.pdist(xt).sum(), xt, create_graph=True)
        assert type(g.grad_fn).__name__ == "PdistBackwardBackward0"
    check_error(lambda lib: _pdist_gg(lib, x))


def _pdist_gg(lib, x):
    xt = T(lib, x).requires_grad_()
    (g,) = lib.autograd.grad(lib.nn.functional.pdist(xt).sum(), xt, create_graph=True)
    lib.autograd.grad(g.sum(), xt)


def test_one_hot():
    idx = np.array([[0, 3], [2, 1]])
    check(with_lib(lambda lib: lib.nn.functional.one_hot(T(lib, idx))))
    check(with_lib(lambda lib: lib.nn.functional.one_hot(T(lib, idx), num_classes=6)))
    check_error(lambda lib: lib.nn.functional.one_hot(T(lib, idx), num_classes=3))


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": 2},
                                {"kernel_size": 3, "padding": 1, "dilation": 2},
                                {"kernel_size": (1, 2), "padding": (1, 0), "stride": (2, 1)}])
def test_unfold_fold(kw):
    x = array(2, 3, 7, 6)
    check(F("unfold", **kw), x)
    check(F("unfold", **kw), x[0].copy())
    cols = torch.nn.functional.unfold(torch.from_numpy(x), **kw).numpy()
    check(F("fold", output_size=(7, 6), **kw), array(*cols.shape))
    check(F("fold", output_size=(7, 6), **kw), array(*cols.shape[1:]))


def test_unfold_fold_errors():
    check_error(lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 4, 5), 2))
    check_error(lambda lib: lib.nn.functional.unfold(lib.zeros(1, 1, 2, 2), 3))
    check_error(lambda lib: lib.nn.functional.fold(lib.zeros(1, 5, 9), (4, 4), 2))
    check_error(lambda lib: lib.nn.functional.fold(lib.zeros(1, 4, 8), (4, 4), 2))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    x = array(2, 3, 4, 5)
    grid = array(2, 3, 4, 2, low=-1.3, high=1.3)
    check(F("grid_sample", mode=mode, padding_mode=padding_mode, align_corners=align_corners),
          x, grid, gradgrad=mode == "bilinear" and padding_mode == "zeros")


def test_grid_sample_warns_and_errors():
    x, grid = np.zeros((1, 1, 3, 3)), np.zeros((1, 2, 2, 2))
    for lib in (dyngrad, torch):
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            lib.nn.functional.grid_sample(T(lib, x), T(lib, grid))
    check_error(lambda lib: lib.nn.functional.grid_sample(T(lib, x), T(lib, grid), mode="cubic"))
    check_error(lambda lib: lib.nn.functional.grid_sample(T(lib, x), T(lib, grid),
                                                          padding_mode="wrap"))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["offsets", "2d", "last_offset", "padding"])
def test_embedding_bag(mode, layout):
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    offsets = np.array([0, 3, 3, 6])
    kw = {"mode": mode}
    if layout == "2d":
        idx, offsets = idx.reshape(2, 4), None
    elif layout == "last_offset":
        offsets, kw["include_last_offset"] = np.array([0, 2, 5, 8]), True
    elif layout == "padding":
        kw["padding_idx"] = 4

    def fn(lib, w):
        off = None if offsets is None else T(lib, offsets)
        return lib.nn.functional.embedding_bag(T(lib, idx), w, off, **kw)

    check(with_lib(fn), array(10, 3), gradgrad=False)


def test_embedding_bag_per_sample_weights_and_module():
    idx, offsets = np.array([1, 2, 4, 5, 4, 3]), np.array([0, 2])
    check(with_lib(lambda lib, w, psw: lib.nn.functional.embedding_bag(
        T(lib, idx), w, T(lib, offsets), mode="sum", per_sample_weights=psw)),
        array(10, 3), array(6), gradgrad=False)
    t = torch.nn.EmbeddingBag(10, 3, mode="max").double()
    d = dyngrad.nn.EmbeddingBag(10, 3, mode="max").double()
    d.load_state_dict({"weight": dyngrad.from_numpy(t.weight.detach().numpy().copy())})
    out_t = t(torch.from_numpy(idx), torch.from_numpy(offsets))
    out_d = d(dyngrad.from_numpy(idx), dyngrad.from_numpy(offsets))
    np.testing.assert_allclose(out_d.detach().numpy(), out_t.detach().numpy())
    check_error(lambda lib: lib.nn.functional.embedding_bag(
        T(lib, idx), lib.zeros(10, 3), T(lib, [1, 2])))
    check_error(lambda lib: lib.nn.functional.embedding_bag(
        T(lib, idx), lib.zeros(10, 3), T(lib, offsets), mode="median"))
