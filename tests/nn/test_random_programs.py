"""300 random nn.functional programs against torch: 1-4 layers (convolutions, pools, norms,
activations, resampling, padding, ...) on a (2, 3, 6, 6) float64 input, then a loss. Each
compares the loss, its create_graph gradient and the second-order gradient of that gradient's
squared norm (or torch's error), as tests/autograd/test_random_programs.py does for tensor ops.
hardsigmoid is left out: torch has no second derivative for it (docs/differences.md)."""

import random

import numpy as np
import pytest

from tests.autograd.common import both, outcome

RNG = np.random.default_rng(0)
W3 = RNG.standard_normal((3, 3, 3, 3)) * 0.3
W1 = RNG.standard_normal((3, 1, 3, 3)) * 0.3
G = RNG.standard_normal(3) + 1
Bv = RNG.standard_normal(3)


def F(L):
    return L.nn.functional


STEPS = {
    "conv2d": lambda L, a: F(L).conv2d(a, L.tensor(W3), L.tensor(Bv), padding=1),
    "conv2d_groups": lambda L, a: F(L).conv2d(a, L.tensor(W1), padding=1, groups=3),
    "conv2d_same_dil": lambda L, a: F(L).conv2d(a, L.tensor(W3), padding="same", dilation=2),
    "conv_t": lambda L, a: F(L).conv_transpose2d(a, L.tensor(W3), padding=1),
    "maxpool": lambda L, a: F(L).max_pool2d(a, 3, stride=1, padding=1),
    "avgpool": lambda L, a: F(L).avg_pool2d(a, 3, stride=1, padding=1, count_include_pad=False),
    "avgpool_ceil": lambda L, a: F(L).interpolate(
        F(L).avg_pool2d(a, 2, ceil_mode=True), size=(6, 6)
    ),
    "adaptive_max": lambda L, a: F(L).interpolate(F(L).adaptive_max_pool2d(a, 3), scale_factor=2),
    "batch_norm": lambda L, a: F(L).batch_norm(
        a, None, None, L.tensor(G), L.tensor(Bv), training=True
    ),
    "batch_norm_eval": lambda L, a: F(L).batch_norm(
        a, L.tensor(Bv), L.tensor(G**2), training=False
    ),
    "layer_norm": lambda L, a: F(L).layer_norm(a, (6, 6)),
    "group_norm": lambda L, a: F(L).group_norm(a, 3, L.tensor(G), L.tensor(Bv)),
    "instance_norm": lambda L, a: F(L).instance_norm(a),
    "lrn": lambda L, a: F(L).local_response_norm(a, 2),
    "normalize": lambda L, a: F(L).normalize(a, dim=1),
    "gelu": lambda L, a: F(L).gelu(a),
    "gelu_tanh": lambda L, a: F(L).gelu(a, approximate="tanh"),
    "silu": lambda L, a: F(L).silu(a),
    "elu": lambda L, a: F(L).elu(a),
    "selu": lambda L, a: F(L).selu(a),
    "celu": lambda L, a: F(L).celu(a, 0.7),
    "softplus": lambda L, a: F(L).softplus(a, beta=2),
    "mish": lambda L, a: F(L).mish(a),
    "hardswish": lambda L, a: F(L).hardswish(a),
    "leaky": lambda L, a: F(L).leaky_relu(a, 0.2),
    "prelu": lambda L, a: F(L).prelu(a, L.tensor(G * 0.1)),
    "logsigmoid": lambda L, a: F(L).logsigmoid(a),
    "softsign": lambda L, a: F(L).softsign(a),
    "tanhshrink": lambda L, a: F(L).tanhshrink(a),
    "glu": lambda L, a: F(L).glu(L.cat([a, a * 0.5], 1), 1),
    "softmax2d": lambda L, a: F(L).softmax(a, 1),
    "logsoftmax": lambda L, a: F(L).log_softmax(a, -1),
    "softmin": lambda L, a: F(L).softmin(a, 2),
    "bilinear": lambda L, a: F(L).interpolate(
        F(L).interpolate(a, scale_factor=0.5, mode="bilinear"),
        size=(6, 6),
        mode="bilinear",
        align_corners=True,
    ),
    "bicubic": lambda L, a: F(L).interpolate(a, size=(6, 6), mode="bicubic"),
    "nearest": lambda L, a: F(L).interpolate(a[..., ::2, ::2], scale_factor=2),
    "pad_reflect": lambda L, a: F(L).pad(a, (1, 1, 1, 1), mode="reflect")[..., 1:-1, 2:],
    "pad_replicate": lambda L, a: F(L).pad(a, (2, 0, 0, 2), mode="replicate")[..., 2:, :-2],
    "pad_circ": lambda L, a: F(L).pad(a, (1, 1, 1, 1), mode="circular")[..., :-2, 2:],
    "pixel": lambda L, a: F(L).pixel_unshuffle(F(L).pixel_shuffle(L.cat([a, a, a, a], 1), 2), 2)[
        :, :3
    ],
    "unfold_fold": lambda L, a: F(L).fold(F(L).unfold(a, 3, padding=1), (6, 6), 3, padding=1) / 9,
    "dropout_eval": lambda L, a: F(L).dropout(a, 0.5, training=False),
    "embed_like": lambda L, a: (
        a
        * F(L)
        .embedding(L.tensor([[0, 1, 2]]), L.tensor(np.eye(3)))
        .reshape(1, 3, 3)[..., :1, :1]
        .expand(1, 3, 1, 1)
        .reshape(1, 3, 1, 1)
    ),
    "cosine": lambda L, a: a * F(L).cosine_similarity(a, a.flip(-1), dim=1).unsqueeze(1),
    "pdist": lambda L, a: a + F(L).pairwise_distance(a, a.roll(1, -1)).unsqueeze(-1),
    "hardtanh": lambda L, a: F(L).hardtanh(a, -0.5, 0.5),
    "rrelu_eval": lambda L, a: F(L).rrelu(a, training=False),
    "threshold": lambda L, a: F(L).threshold(a, 0.1, -1.0),
    "channel_shuffle": lambda L, a: F(L).channel_shuffle(a, 3),
}
LOSSES = {
    "mse": lambda L, a, t: F(L).mse_loss(a, t),
    "l1": lambda L, a, t: F(L).l1_loss(a, t),
    "smooth_l1": lambda L, a, t: F(L).smooth_l1_loss(a, t, beta=0.5),
    "huber": lambda L, a, t: F(L).huber_loss(a, t),
    "ce": lambda L, a, t: F(L).cross_entropy(a, L.tensor(np.zeros((2, 6, 6), dtype=np.int64) + 1)),
    "ce_smooth": lambda L, a, t: F(L).cross_entropy(
        a, L.tensor(np.ones((2, 6, 6), dtype=np.int64)), label_smoothing=0.1
    ),
    "ce_prob": lambda L, a, t: F(L).cross_entropy(a, F(L).softmax(t, 1)),
    "nll": lambda L, a, t: F(L).nll_loss(
        F(L).log_softmax(a, 1), L.tensor(np.full((2, 6, 6), 2, dtype=np.int64))
    ),
    "bce_logits": lambda L, a, t: F(L).binary_cross_entropy_with_logits(
        a, t.sigmoid(), pos_weight=L.tensor(G).reshape(3, 1, 1)
    ),
    "bce": lambda L, a, t: F(L).binary_cross_entropy(a.sigmoid(), t.sigmoid()),
    "kl": lambda L, a, t: F(L).kl_div(
        F(L).log_softmax(a, 1), F(L).softmax(t, 1), reduction="batchmean"
    ),
    "sum": lambda L, a, t: a.sum(),
    "soft_margin": lambda L, a, t: F(L).soft_margin_loss(a, t.sign()),
    "poisson": lambda L, a, t: F(L).poisson_nll_loss(a, t.abs()),
    "gauss": lambda L, a, t: F(L).gaussian_nll_loss(a, t, a.detach().abs() + 1),
    "cos_emb": lambda L, a, t: F(L).cosine_embedding_loss(
        a.flatten(1), t.flatten(1), L.tensor([1.0, -1.0])
    ),
    "margin_rank": lambda L, a, t: F(L).margin_ranking_loss(a, t, t.sign()),
    "multilabel_soft": lambda L, a, t: F(L).multilabel_soft_margin_loss(
        a.flatten(1), (t.flatten(1) > 0).double()
    ),
    "hinge_emb": lambda L, a, t: F(L).hinge_embedding_loss(a, t.sign()),
}


@pytest.mark.parametrize("seed", range(300))
def test_random_nn_program(seed):
    rng = random.Random(seed)
    names = list(STEPS)
    steps = [names[rng.randrange(len(names))] for _ in range(rng.randint(1, 4))]
    loss = list(LOSSES)[rng.randrange(len(LOSSES))]
    a_np = np.random.default_rng(seed).standard_normal((2, 3, 6, 6))
    t_np = np.random.default_rng(seed + 7).standard_normal((2, 3, 6, 6))

    def prog(L):
        a = L.tensor(a_np, requires_grad=True)
        y = a
        for step in steps:
            y = STEPS[step](L, y)
        out = LOSSES[loss](L, y, L.tensor(t_np))
        (g,) = L.autograd.grad(out, a, create_graph=True)
        return [out, g.detach(), outcome(L.autograd.grad, (g * g).sum(), a)]

    both(prog)
