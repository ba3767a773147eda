"""Attention and Transformer layers against torch: scaled_dot_product_attention, MultiheadAttention
and the encoder/decoder stacks, with weights copied through NumPy (float64)."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import array, check_error, check_op, with_lib
from tests.harness import copy_state as copy_params
from tests.harness import module_pair as pair

F64 = (np.float64,)
RTOL, ATOL = 1e-9, 1e-12
rng = np.random.default_rng(3)


def T(lib, a):
    return lib.from_numpy(np.asarray(a).copy())


# --- scaled_dot_product_attention ----------------------------------------------------------------
def sdpa(**kw):
    def fn(lib, q, k, v, *mask):
        extra = {"attn_mask": mask[0]} if mask else {}
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **extra, **kw)

    return with_lib(fn)


Q, K, V = array(2, 3, 4, 5), array(2, 3, 6, 5), array(2, 3, 6, 5)


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}], ids=str)
def test_sdpa(kw):
    # torch's CPU flash kernel cannot be differentiated twice (grad_fn NotImplemented)
    check_op(sdpa(**kw), Q, K, V, dtypes=F64, noncontig=False, gradgrad=False)


def test_sdpa_masks():
    bool_mask = rng.random((4, 6)) < 0.6
    bool_mask[1] = False  # a query that may attend to nothing gives 0, as in torch
    float_mask = rng.standard_normal((2, 1, 4, 6))
    float_mask[0, 0, 2] = -np.inf
    for mask in (bool_mask, float_mask):
        check_op(sdpa(), Q, K, V, mask, dtypes=F64, noncontig=False, gradgrad=False,
                 requires_grad=[True, True, True, False])
    # a mask that needs a gradient takes torch's composed path (grad_fn UnsafeViewBackward0),
    # which is differentiable twice
    check_op(sdpa(), Q, K, V, float_mask, dtypes=F64, noncontig=False)


def test_sdpa_shapes():
    q3, k3, v3 = array(3, 4, 5), array(3, 6, 5), array(3, 6, 2)
    check_op(sdpa(), q3, k3, v3, dtypes=F64, noncontig=False)
    check_op(sdpa(), q3[0].copy(), k3[0].copy(), v3[0].copy(), dtypes=F64, noncontig=False)
    check_op(sdpa(enable_gqa=True), Q, K[:, :1].copy(), V[:, :1].copy(), dtypes=F64,
             noncontig=False, gradgrad=False)
    check_op(sdpa(), Q.astype(np.float32), K.astype(np.float32), V.astype(np.float32),
             dtypes=None, noncontig=False, gradgrad=False)


def test_sdpa_dropout_and_errors():
    q = dyngrad.from_numpy(Q)
    dyngrad.manual_seed(0)
    a = dyngrad.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    dyngrad.manual_seed(0)
    b = dyngrad.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    c = dyngrad.nn.functional.scaled_dot_product_attention(q, q, q)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == c.shape and not np.allclose(a.numpy(), c.numpy())
    # torch's composed path refuses a mask with is_causal; its 4-d CPU kernel applies both
    check_error(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        T(lib, Q[0]), T(lib, K[0]), T(lib, V[0]), attn_mask=lib.ones(4, 6, dtype=lib.bool),
        is_causal=True))
    check_op(sdpa(is_causal=True), Q, K, V, rng.random((4, 6)) < 0.7, dtypes=F64,
             noncontig=False, gradgrad=False)


# --- MultiheadAttention --------------------------------------------------------------------------
def close(d, t, what: str) -> None:
    np.testing.assert_allclose(d.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=what)


def compare(d_mod, t_mod, call, arrays, consts=()) -> None:
    """call(lib, module, *tensors, *consts) on both: outputs, grad_fn names, and the gradients
    of a random weighting of the outputs with respect to the tensors and the parameters."""
    d_in = [dyngrad.from_numpy(a.copy()).requires_grad_() for a in arrays]
    t_in = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    d_out = call(dyngrad, d_mod, *d_in, *[None if c is None else T(dyngrad, c) for c in consts])
    t_out = call(torch, t_mod, *t_in, *[None if c is None else T(torch, c) for c in consts])
    d_out = d_out if isinstance(d_out, tuple) else (d_out,)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    w_rng = np.random.default_rng(0)
    d_loss = t_loss = 0
    for i, (d, t) in enumerate(zip(d_out, t_out, strict=True)):
        if t is None:
            assert d is None
            continue
        close(d, t, f"output {i}")
        assert type(d.grad_fn).__name__ == type(t.grad_fn).__name__, (d.grad_fn, t.grad_fn)
        w = w_rng.standard_normal(tuple(t.shape))
        d_loss = d_loss + (d * dyngrad.from_numpy(w)).nan_to_num().sum()
        t_loss = t_loss + (t * torch.from_numpy(w)).nan_to_num().sum()
    d_loss.backward()
    t_loss.backward()
    for i, (d, t) in enumerate(zip(d_in, t_in, strict=True)):
        close(d.grad, t.grad, f"grad of input {i}")
    for (name, dp), (_, tp) in zip(d_mod.named_parameters(), t_mod.named_parameters(),
                                   strict=True):
        close(dp.grad, tp.grad, f"grad of {name}")


MHA = [
    ({}, {}), ({}, {"need_weights": False}), ({"bias": False}, {"average_attn_weights": False}),
    ({"kdim": 3, "vdim": 5}, {}), ({"add_bias_kv": True, "add_zero_attn": True}, {}),
    ({"add_bias_kv": True}, {"need_weights": False, "masks": "both"}),
    ({}, {"masks": "key_padding"}), ({}, {"masks": "attn3d", "need_weights": False}),
    ({}, {"masks": "float"}), ({}, {"masks": "causal", "need_weights": False}),
]


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("kw,fkw", MHA, ids=str)
def test_multihead_attention(kw, fkw):
    d, t = pair("MultiheadAttention", 8, 2, **kw)
    assert repr(d) == repr(t)
    assert list(d.state_dict()) == list(t.state_dict())
    L, S, N = 4, 5, 3
    fkw = dict(fkw)
    masks = fkw.pop("masks", None)
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False
    attn = rng.random((L, S)) < 0.3
    consts, names = [], []
    if masks in ("key_padding", "both"):
        consts.append(kpm)
        names.append("key_padding_mask")
    if masks in ("both", "float"):
        consts.append(np.where(attn, -1.5, 0.0))
        names.append("attn_mask")
    if masks == "attn3d":
        consts.append(rng.random((N * 2, L, S)) < 0.3)
        names.append("attn_mask")
    if masks == "causal":
        consts.append(np.triu(np.full((L, S), -np.inf), 1))
        names.append("attn_mask")
        fkw["is_causal"] = True

    def call(lib, m, q, k, v, *cs):
        return m(q, k, v, **dict(zip(names, cs, strict=True)), **fkw)

    arrays = [array(L, N, 8), array(S, N, kw.get("kdim", 8)), array(S, N, kw.get("vdim", 8))]
    compare(d, t, call, arrays, consts)


def test_multihead_attention_self_batch_first_unbatched():
    d, t = pair("MultiheadAttention", 6, 3, batch_first=True)
    compare(d, t, lambda lib, m, x: m(x, x, x), [array(2, 4, 6)])
    compare(d, t, lambda lib, m, x, y: m(x, y, y, need_weights=False), [array(2, 4, 6),
                                                                          array(2, 5, 6)])
    d, t = pair("MultiheadAttention", 6, 3)
    compare(d, t, lambda lib, m, x, y, z, kpm: m(x, y, z, key_padding_mask=kpm),
            [array(4, 6), array(5, 6), array(5, 6)], [np.array([False, True, False, False, True])])


def test_multihead_attention_errors_and_warnings():
    check_error(lambda lib: lib.nn.MultiheadAttention(8, 3))
    check_error(lambda lib: lib.nn.MultiheadAttention(0, 3))
    check_error(lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
        attn_mask=lib.zeros(4, 4, dtype=lib.bool)))
    check_error(lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
        key_padding_mask=lib.zeros(3, 4, dtype=lib.bool)))
    check_error(lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.zeros(4, 3, 8), lib.zeros(5, 8), lib.zeros(5, 8)))
    check_error(lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
        key_padding_mask=lib.zeros(3, 5, dtype=lib.int64)))
    for lib in (dyngrad, torch):
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask"):
            lib.nn.MultiheadAttention(8, 2)(
                lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
                key_padding_mask=lib.zeros(3, 5, dtype=lib.bool), attn_mask=lib.zeros(4, 5))


# --- Transformer ---------------------------------------------------------------------------------
def gelu_tanh(x):
    return x.tanh() * x


LAYERS = [{}, {"norm_first": True, "activation": "gelu"}, {"batch_first": True, "bias": False},
          {"activation": gelu_tanh, "layer_norm_eps": 1e-3}]


@pytest.mark.parametrize("kw", LAYERS, ids=str)
def test_encoder_and_decoder_layers(kw):
    for cls in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        d, t = pair(cls, 8, 2, 16, dropout=0.0, **kw)
        assert repr(d) == repr(t)
        assert list(d.state_dict()) == list(t.state_dict())
        shape = (3, 5, 8) if kw.get("batch_first") else (5, 3, 8)
        mask = np.triu(np.full((5, 5), -np.inf), 1)
        if cls == "TransformerEncoderLayer":
            compare(d, t, lambda lib, m, x, mask: m(x, src_mask=mask), [array(*shape)], [mask])
            kpm = np.zeros((3, 5), bool)
            kpm[1, 3:] = True
            compare(d, t, lambda lib, m, x, kpm: m(x, src_key_padding_mask=kpm),
                    [array(*shape)], [kpm])
        else:
            compare(d, t, lambda lib, m, x, mem, mask: m(x, mem, tgt_mask=mask, tgt_is_causal=True),
                    [array(*shape), array(*shape)], [mask])


def test_stacks_and_transformer():
    with warnings.catch_warnings(record=True) as w_t:
        warnings.simplefilter("always")
        t = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0).double()
    with warnings.catch_warnings(record=True) as w_d:
        warnings.simplefilter("always")
        d = dyngrad.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0).double()
    assert [str(w.message) for w in w_d] == [str(w.message) for w in w_t]
    assert repr(d) == repr(t)
    assert list(d.state_dict()) == list(t.state_dict())
    copy_params(d, t)
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    kpm = np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
    compare(d, t, lambda lib, m, s, g, mask, kpm: m(s, g, tgt_mask=mask, src_key_padding_mask=kpm,
                                                   memory_key_padding_mask=kpm),
            [array(5, 3, 8), array(4, 3, 8)], [mask, kpm])
    for lib in (dyngrad, torch):
        assert lib.nn.Transformer.generate_square_subsequent_mask(3).dtype == lib.float32
    np.testing.assert_array_equal(
        dyngrad.nn.Transformer.generate_square_subsequent_mask(4, dtype=dyngrad.float64).numpy(),
        torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64).numpy())


def test_encoder_stack_norm_and_nested_warning():
    for kw in ({"batch_first": True}, {"batch_first": True, "norm_first": True}, {}):
        msgs = []
        for lib in (dyngrad, torch):
            layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8))
            msgs.append([str(m.message) for m in w])
        assert msgs[0] == msgs[1]
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    layer_d = dyngrad.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    t = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(8)).double()
    d = dyngrad.nn.TransformerEncoder(layer_d, 2, norm=dyngrad.nn.LayerNorm(8)).double()
    copy_params(d, t)
    assert repr(d) == repr(t)
    compare(d, t, lambda lib, m, x, mask: m(x, mask=mask), [array(2, 4, 8)],
            [np.triu(np.full((4, 4), -np.inf), 1)])
    dec_t = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2)
    dec_d = dyngrad.nn.TransformerDecoder(dyngrad.nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2)
    dec_t, dec_d = dec_t.double(), dec_d.double()
    copy_params(dec_d, dec_t)
    compare(dec_d, dec_t, lambda lib, m, x, mem: m(x, mem), [array(4, 2, 8), array(5, 2, 8)])


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_transformer_errors():
    check_error(lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 3, 8),
                                                               lib.zeros(4, 2, 8)))
    check_error(lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 3, 8),
                                                               lib.zeros(4, 3, 6)))
    check_error(lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh"))
