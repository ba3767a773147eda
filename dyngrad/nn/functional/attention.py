"""Attention: `scaled_dot_product_attention` and `multi_head_attention_forward`.

scaled_dot_product_attention picks a kernel as PyTorch's CPU dispatch does: 4-d inputs without
dropout and without a mask that needs a gradient run as one primitive (grad_fn
`ScaledDotProductFlashAttentionForCpuBackward0`, which recomputes the probabilities in
backward); the rest is the composed "math" path. Both give zeros for a query that may attend to
nothing, as PyTorch's kernels do.
"""

from __future__ import annotations

import math
import warnings

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.functional.activation import softmax
from dyngrad.nn.functional.misc import dropout, linear, pad
from dyngrad.ops import _poly as P
from dyngrad.ops._core import record

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


# --- scaled dot-product attention ----------------------------------------------------------------
def _mask_bias(attn_mask, dtype):
    """A constant additive mask (0 / -inf) for a boolean mask (True = attend), the values of a
    float mask that needs no gradient, or None (a float mask that needs one stays a tensor)."""
    if attn_mask is None:
        return None
    if attn_mask.dtype == dyngrad.bool:
        return xp.where(attn_mask._data, 0.0, _NEG_INF).astype(dtype)
    if not attn_mask.requires_grad:
        return attn_mask._data.astype(dtype, copy=False)
    return None


def _probs(q, k, scale: float, bias, keep):
    """softmax(q k^T scale + bias) times the row mask `keep`; arrays or tensors."""
    s = P.matmul(q, P.transpose(k, -2, -1)) * scale
    if bias is not None:
        s = s + P.const(bias, s)
    m = P.data(s).max(-1, keepdims=True)
    e = P.exp(s - P.const(m, s))
    p = e / P.sum(e, -1, keepdim=True)
    return p if keep is None else p * P.const(keep, p)


def _fix_empty_rows(bias):
    """Rows of a constant bias that mask every key: (bias with those rows zeroed, keep 0/1)."""
    if bias is None:
        return None, None
    empty = xp.isneginf(bias).all(-1, keepdims=True)
    if not empty.any():
        return bias, None
    return xp.where(empty, 0, bias).astype(bias.dtype), (~empty).astype(bias.dtype)


class ScaledDotProductFlashAttentionForCpuBackward0(Node):
    """out = P v with P = softmax(q k^T scale + bias): dv = P^T g, dS = P (g v^T - rowsum),
    dq = dS k scale, dk = dS^T q scale."""

    _saved_names = ("query", "key", "value")

    def backward(self, grad):
        q, k, v = self.saved_tensors
        p = _probs(q, k, self.scale, self.bias, self.keep)
        gv = P.matmul(P.transpose(p, -2, -1), grad)
        gp = P.matmul(grad, P.transpose(v, -2, -1))
        gs = p * (gp - P.sum(gp * p, -1, keepdim=True))
        gq = P.matmul(gs, k) * self.scale
        gk = P.matmul(P.transpose(gs, -2, -1), q) * self.scale
        return gq, gk, gv


def _flash(query, key, value, bias, scale):
    bias, keep = _fix_empty_rows(bias)
    q, k, v = query._data, key._data, value._data
    out = _probs(q, k, scale, bias, keep) @ v
    return record(ScaledDotProductFlashAttentionForCpuBackward0, out, (query, key, value),
                  save=(query, key, value), scale=scale, bias=bias, keep=keep)


def _math(query, key, value, attn_mask, bias, dropout_p, scale):
    """PyTorch's composed path: q k^T scale (+ mask), a softmax that gives 0 to rows with no
    key, dropout, then @ v."""
    scores = query @ key.transpose(-2, -1) * scale
    if bias is not None:
        scores = scores + Tensor._make(bias)
    elif attn_mask is not None:
        scores = scores + attn_mask
    empty = xp.isneginf(scores._data).all(-1, keepdims=True)
    if empty.any():
        gone = Tensor._make(empty)
        attn = dyngrad.where(gone, 0.0, softmax(dyngrad.where(gone, 0.0, scores), -1))
    else:
        attn = softmax(scores, -1)
    if dropout_p > 0:
        attn = dropout(attn, dropout_p, True)
    return attn @ value


def _repeat_heads(t: Tensor, n: int) -> Tensor:
    """`t.repeat_interleave(n, -3)`: each key/value head serves n query heads (GQA)."""
    if n == 1:
        return t
    shape = t.shape
    t = t.unsqueeze(-3).expand(*shape[:-2], n, *shape[-2:])
    return t.reshape(*shape[:-3], shape[-3] * n, *shape[-2:])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q k^T * scale + mask) v; a boolean mask is True where attention is allowed, a
    float mask is added to the scores."""
    L, S = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.ndim >= 3:
        key = _repeat_heads(key, query.shape[-3] // key.shape[-3])
        value = _repeat_heads(value, query.shape[-3] // value.shape[-3])
    dtype = query._data.dtype
    bias = _mask_bias(attn_mask, dtype)
    grad_mask = attn_mask is not None and bias is None
    if query.ndim == key.ndim == value.ndim == 4 and dropout_p == 0 and not grad_mask:
        if is_causal:  # the CPU kernel applies both masks
            causal = xp.where(xp.tril(xp.ones((L, S), bool)), 0.0, _NEG_INF).astype(dtype)
            bias = causal if bias is None else bias + causal
        if bias is not None:
            bias = xp.broadcast_to(bias, xp.broadcast_shapes(bias.shape, (L, S)))
        return _flash(query, key, value, bias, scale)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        bias = xp.where(xp.tril(xp.ones((L, S), bool)), 0.0, _NEG_INF).astype(dtype)
    return _math(query, key, value, attn_mask, bias, dropout_p, scale)


# --- multi-head attention ------------------------------------------------------------------------
def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the call is batched (3-D query) or not (2-D), after PyTorch's rank checks."""
    nd = query.dim()
    if nd not in (2, 3):
        raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                             f"{nd}-D query tensor")
    expected = f"For {'batched' if nd == 3 else 'unbatched'} ({nd}-D) `query`, expected"
    if key.dim() != nd or value.dim() != nd:
        raise AssertionError(f"{expected} `key` and `value` to be {nd}-D but found {key.dim()}-D "
                             f"and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != nd - 1:
        raise AssertionError(f"{expected} `key_padding_mask` to be `None` or {nd - 1}-D but found "
                             f"{key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"{expected} `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        shape = (num_heads, query.shape[0], key.shape[0])
        if nd == 2 and attn_mask.dim() == 3 and tuple(attn_mask.shape) != shape:
            raise AssertionError(f"Expected `attn_mask` shape to be {shape} but got "
                                 f"{attn_mask.shape}")
    return nd == 3


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True):
    """A boolean mask (True = masked out) as an additive float mask of `target_type`."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype != dyngrad.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if not is_float:
        mask = Tensor._make(xp.where(mask._data, _NEG_INF, 0.0).astype(target_type.np))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected with the stacked weight [W_q; W_k; W_v] (one matmul for self-attention)."""
    E = q.shape[-1]
    if k is v:
        if q is k:
            proj = linear(q, w, b).unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2)
            proj = proj.squeeze(-2).contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = linear(k, w_kv, b_kv).unflatten(-1, (2, E)).unsqueeze(0).transpose(0, -2)
        kv = kv.squeeze(-2).contiguous()
        return linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    Eq, Ek, Ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, w, shape in (("query", w_q, (Eq, Eq)), ("key", w_k, (Eq, Ek)),
                           ("value", w_v, (Eq, Ev))):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {name} weights shape of {shape}, but got {w.shape}")
    for name, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (Eq,):
            raise AssertionError(f"expecting {name} bias shape of {(Eq,)}, but got {b.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
        in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight,
        out_proj_bias, training: bool = True, key_padding_mask=None, need_weights: bool = True,
        attn_mask=None, use_separate_proj_weight: bool = False, q_proj_weight=None,
        k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
        average_attn_weights: bool = True, is_causal: bool = False):
    """Attention of (L, N, E) queries over (S, N, E) keys/values with `num_heads` heads; returns
    (output, head-averaged weights or None)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight,
                                 b_q, b_k, b_v)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = dyngrad.cat([k, bias_k.expand(1, bsz, bias_k.shape[-1])])
        v = dyngrad.cat([v, bias_v.expand(1, bsz, bias_v.shape[-1])])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.view(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else static_k)
    v = (v.view(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else static_v)
    if add_zero_attn:
        zeros = (bsz * num_heads, 1, head_dim)
        k = dyngrad.cat([k, dyngrad.zeros(zeros, dtype=k.dtype)], dim=1)
        v = dyngrad.cat([v, dyngrad.zeros(zeros, dtype=v.dtype)], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(q.shape[-1]))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = dyngrad.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = dyngrad.bmm(q_scaled, k.transpose(-2, -1))
        weights = softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = dyngrad.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.shape[1])
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.shape[1])
    if not is_batched:
        out = out.squeeze(1)
    return out, None
