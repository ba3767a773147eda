"""vmap: batched ops against a Python loop over the samples, nesting, in_dims/out_dims,
chunk_size, randomness, and PyTorch's errors."""

import warnings

import numpy as np
import pytest
import torch

import dyngrad as dg
from tests.harness import check_error

F = dg.nn.functional
rng = np.random.default_rng(0)


def T(*shape):
    return dg.tensor(rng.standard_normal(shape))


# name: (function, inputs, in_dims)
CASES = {
    "add_broadcast": (lambda x, y: x + y, [T(4, 3), T(3)], (0, None)),
    "add_unbatched_more_dims": (lambda x, y: x + y, [T(4, 3), T(2, 3)], (0, None)),
    "both_batched": (lambda x, y: x * y - x / (y.abs() + 1), [T(4, 3), T(4, 2, 3)], (0, 0)),
    "add_alpha_float32": (lambda x: dg.add(x, 1.0, alpha=2) - dg.sub(x, 2, alpha=0.5),
                          [T(4, 3).float()], (0,)),
    "sum": (lambda x: x.sum(), [T(4, 3, 2)], (0,)),
    "sum_dim": (lambda x: x.sum(-1, keepdim=True), [T(4, 3, 2)], (0,)),
    "mean_in_dim1": (lambda x: x.mean(0), [T(4, 3, 2)], (1,)),
    "max": (lambda x: x.max(), [T(4, 3, 2)], (0,)),
    "max_dim": (lambda x: x.max(1).values, [T(4, 3, 2)], (0,)),
    "argmax": (lambda x: x.argmax(), [T(4, 3, 2)], (0,)),
    "var": (lambda x: x.var(0), [T(4, 3, 2)], (0,)),
    "logsumexp": (lambda x: x.logsumexp(-1), [T(4, 5)], (0,)),
    "cumsum": (lambda x: x.cumsum(0), [T(4, 3)], (0,)),
    "softmax": (lambda x: F.softmax(x, -1), [T(4, 3, 5)], (0,)),
    "log_softmax_in_dim2": (lambda x: F.log_softmax(x, 0), [T(4, 3, 5)], (2,)),
    "matmul_vv": (lambda x, y: x @ y, [T(4, 3), T(4, 3)], (0, 0)),
    "matmul_mv": (lambda x, y: x @ y, [T(4, 2, 3), T(3)], (0, None)),
    "matmul_vm": (lambda x, y: x @ y, [T(3), T(4, 3, 2)], (None, 0)),
    "matmul_batched_mm": (lambda x, y: x @ y, [T(4, 5, 2, 3), T(3, 2)], (0, None)),
    "matmul_unbatched_stack": (lambda x, y: x @ y, [T(5, 2, 3), T(4, 3, 2)], (None, 0)),
    "matmul_both": (lambda x, y: x @ y, [T(4, 2, 3), T(4, 5, 3, 2)], (0, 0)),
    "einsum": (lambda x, y: dg.einsum("ij,jk->ik", x, y), [T(4, 2, 3), T(3, 5)], (0, None)),
    "einsum_implicit": (lambda x, y: dg.einsum("ij,jk", x, y), [T(4, 2, 3), T(4, 3, 5)], (0, 0)),
    "dot": (lambda x, y: dg.dot(x, y), [T(4, 3), T(3)], (0, None)),
    "outer": (lambda x, y: dg.outer(x, y), [T(4, 3), T(2)], (0, None)),
    "reshape": (lambda x: x.reshape(6, -1), [T(4, 3, 2, 2)], (0,)),
    "view": (lambda x: x.view(-1), [T(4, 3, 2)], (0,)),
    "permute": (lambda x: x.permute(2, 0, 1), [T(4, 3, 2, 5)], (0,)),
    "transpose": (lambda x: x.transpose(0, 1), [T(3, 4, 2)], (1,)),
    "t": (lambda x: x.t(), [T(4, 3, 2)], (0,)),
    "squeeze": (lambda x: x.squeeze(), [T(4, 1, 3, 1)], (0,)),
    "unsqueeze": (lambda x: x.unsqueeze(-1), [T(4, 3)], (0,)),
    "expand": (lambda x: x.expand(2, 3), [T(4, 1)], (0,)),
    "flip": (lambda x: x.flip(0), [T(4, 3)], (0,)),
    "roll": (lambda x: x.roll(1, 0), [T(4, 3)], (0,)),
    "tril": (lambda x: x.tril(), [T(4, 3, 3)], (0,)),
    "diagonal": (lambda x: x.diagonal(), [T(4, 3, 3)], (0,)),
    "split": (lambda x: x.split(2, 1)[1], [T(4, 3, 5)], (0,)),
    "chunk": (lambda x: x.chunk(2)[0], [T(4, 6)], (0,)),
    "index_int": (lambda x: x[1], [T(4, 3, 2)], (0,)),
    "index_slice": (lambda x: x[:, 1:], [T(4, 3, 2)], (0,)),
    "index_array": (lambda x: x[dg.tensor([0, 2, 2])], [T(4, 3, 2)], (0,)),
    "index_array_dim1": (lambda x: x[:, dg.tensor([1, 0])], [T(4, 3, 2)], (0,)),
    "index_separated": (lambda x: x[dg.tensor([0, 1]), :, dg.tensor([1, 0])], [T(4, 3, 2, 2)],
                        (0,)),
    "index_mask": (lambda x: x[dg.tensor([True, False, True])], [T(4, 3)], (0,)),
    "index_batched_index": (lambda x, i: x[i], [T(5, 3), dg.tensor([[0, 4], [1, 1], [3, 2]])],
                            (None, 0)),
    "index_both_batched": (lambda x, i: x[:, i], [T(3, 2, 5), dg.tensor([[0, 4], [1, 1],
                                                                         [3, 2]])], (0, 0)),
    "gather": (lambda x: x.gather(1, dg.tensor([[0], [1]])), [T(4, 2, 3)], (0,)),
    "cat": (lambda x, y: dg.cat([x, y], 0), [T(4, 3), T(2)], (0, None)),
    "stack": (lambda x, y: dg.stack([x, y], 1), [T(4, 3), T(3)], (0, None)),
    "where": (lambda x, y: dg.where(x > 0, x, y), [T(4, 3), T(3)], (0, None)),
    "masked_fill": (lambda x: x.masked_fill(x > 0, 0.0), [T(4, 3)], (0,)),
    "unary_chain": (lambda x: (x.exp() + 1).log().sin().tanh().sigmoid(), [T(4, 3)], (0,)),
    "pow": (lambda x, y: x.abs() ** y, [T(4, 3), T(3)], (0, None)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), [T(4, 3)], (0,)),
    "norm": (lambda x: x.norm(), [T(4, 3)], (0,)),
    "sort": (lambda x: x.sort(-1).values, [T(4, 3)], (0,)),
    "topk": (lambda x: x.topk(2).values, [T(4, 5)], (0,)),
    "linear": (lambda x, w, b: F.linear(x, w, b), [T(4, 3), T(5, 3), T(5)], (0, None, None)),
    "linear_batched_weight": (lambda x, w: F.linear(x, w), [T(2, 3), T(4, 5, 3)], (None, 0)),
    "relu": (F.relu, [T(4, 3)], (0,)),
    "layer_norm": (lambda x: F.layer_norm(x, (3,)), [T(4, 2, 3)], (0,)),
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=1), [T(4, 1, 2, 8), T(3, 2, 3)], (0, None)),
    "max_pool": (lambda x: F.max_pool1d(x, 2), [T(4, 1, 2, 8)], (0,)),
    "pad": (lambda x: F.pad(x, (1, 2)), [T(4, 3, 5)], (0,)),
    "mse": (lambda x, y: F.mse_loss(x, y), [T(4, 3), T(3)], (0, None)),
    "cross_entropy_targets": (lambda x, y: F.cross_entropy(x, y), [T(4, 2, 3),
                                                                   dg.tensor([[0, 2]] * 4)],
                              (0, 0)),
    "inv": (lambda x: dg.linalg.inv(x + 3 * dg.eye(3, dtype=dg.float64)), [T(4, 3, 3)], (0,)),
    "det": (dg.linalg.det, [T(4, 3, 3)], (0,)),
    "inplace_on_batched": (lambda x: x.clone().mul_(2).add_(1), [T(4, 3)], (0,)),
    "write_through_view": (lambda x: _write_view(x.clone()), [T(4, 3)], (0,)),
    "fresh_buffer_filled": (lambda x: _fill(x), [T(4, 3)], (0,)),
}


def _write_view(x):
    x[0] = x[1] * 10
    return x


def _fill(x):
    out = dg.zeros(3, dtype=dg.float64)
    return out + x  # an unbatched tensor meets a batched one


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_matches_loop(name):
    fn, args, in_dims = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no fallback loop for these ops
        out = dg.func.vmap(fn, in_dims=in_dims)(*args)
    size = next(a.shape[d] for a, d in zip(args, in_dims, strict=True) if d is not None)
    ref = dg.stack([fn(*[a if d is None else a.select(d, i)
                         for a, d in zip(args, in_dims, strict=True)]) for i in range(size)])
    assert type(out._data) is np.ndarray
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_nested_vmap_and_dims():
    x, y = T(2, 3), T(4, 3)
    out = dg.func.vmap(dg.func.vmap(lambda a, b: a * b + a.sum(), in_dims=(0, None)),
                       in_dims=(None, 0))(x, y)
    ref = torch.func.vmap(torch.func.vmap(lambda a, b: a * b + a.sum(), in_dims=(0, None)),
                          in_dims=(None, 0))(torch.tensor(x.numpy()), torch.tensor(y.numpy()))
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    z = T(3, 4, 5)
    out = dg.func.vmap(dg.func.vmap(lambda a: a @ a, in_dims=1), in_dims=2, out_dims=1)(z)
    ref = torch.func.vmap(torch.func.vmap(lambda a: a @ a, in_dims=1), in_dims=2,
                          out_dims=1)(torch.tensor(z.numpy()))
    np.testing.assert_allclose(out.numpy(), ref.numpy())


def test_pytree_inputs_outputs_and_out_dims():
    def f(d, s=1.0):
        return {"a": d["x"] * s, "b": (d["y"].sum(), 3)}

    for lib in (dg, torch):
        inputs = {"x": lib.ones(4, 2), "y": lib.arange(8.0).reshape(2, 4)}
        out = lib.func.vmap(f, in_dims=({"x": 0, "y": 1},), out_dims={"a": 1, "b": (0, None)})(
            inputs, s=2.0)
        assert tuple(out["a"].shape) == (2, 4) and out["b"][1] == 3
        assert out["b"][0].tolist() == [4.0, 6.0, 8.0, 10.0]


def test_unbatched_output_is_expanded():
    out = dg.func.vmap(lambda x: dg.ones(2))(dg.zeros(3, 4))
    assert tuple(out.shape) == (3, 2) and out.stride() == (0, 1)


def test_chunk_size():
    x = T(7, 3)
    for chunk in (1, 2, 3, 7, 10):
        out = dg.func.vmap(lambda t: (t.exp().sum(), t * 2), chunk_size=chunk, out_dims=(0, 1))(x)
        np.testing.assert_allclose(out[0].numpy(), x.exp().sum(1).numpy())
        np.testing.assert_allclose(out[1].numpy(), (x * 2).t().numpy())


def test_randomness():
    x = dg.zeros(5, 40)
    same = dg.func.vmap(lambda t: t + dg.rand(40), randomness="same")(x)
    assert bool((same == same[0]).all())
    for draw in (lambda t: t + dg.rand(40), lambda t: t + dg.randn_like(t),
                 lambda t: t + dg.randint(0, 1000, (40,))):
        different = dg.func.vmap(draw, randomness="different")(x)
        assert not bool((different == different[0]).all())
    dropped = dg.func.vmap(lambda t: F.dropout(t + 1, 0.5), randomness="same")(x)
    assert bool((dropped == dropped[0]).all())
    for drop in (F.dropout, F.alpha_dropout):
        dropped = dg.func.vmap(lambda t, d=drop: d(t + 1, 0.5, True), randomness="different")(x)
        assert dropped.shape == x.shape and not bool((dropped == dropped[0]).all())
    dg.manual_seed(3)
    chunked = dg.func.vmap(lambda t: t + dg.rand(40), randomness="same", chunk_size=2)(x)
    assert bool((chunked == chunked[0]).all())


def _vmapped_loss(lib, x, w):
    return lib.func.vmap(lambda r: (r * w).sin().sum())(x).pow(2).sum()


def test_grad_flows_through_vmap():
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    grads = []
    for lib in (dg, torch):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        _vmapped_loss(lib, x, w).backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1])


def test_per_sample_values_stay_batched_in_control_flow_checks():
    # dyngrad's own argument checks (`if (t < 0).any(): raise`) run once on the batch
    out = dg.func.vmap(lambda x, t: F.nll_loss(x.unsqueeze(0), t.unsqueeze(0)))(
        T(4, 3), dg.tensor([0, 1, 2, 0]))
    assert tuple(out.shape) == (4,)


ERRORS = {
    "item": lambda lib: lib.func.vmap(lambda t: t.sum().item())(lib.ones(3, 2)),
    "float": lambda lib: lib.func.vmap(lambda t: float(t.sum()))(lib.ones(3, 2)),
    "control_flow": lambda lib: lib.func.vmap(lambda t: t if t.sum() > 0 else -t)(
        lib.ones(3, 2)),
    "random": lambda lib: lib.func.vmap(lambda t: t + lib.rand(2))(lib.ones(3, 2)),
    "dropout": lambda lib: lib.func.vmap(lambda t: lib.nn.functional.dropout(t))(lib.ones(3, 2)),
    "backward": lambda lib: lib.func.vmap(lambda t: t.sum().backward())(
        lib.ones(3, 2, requires_grad=True)),
    "in_dims_structure": lambda lib: lib.func.vmap(lambda t: t, in_dims=(0,))(
        lib.ones(3), lib.ones(3)),
    "sizes": lambda lib: lib.func.vmap(lambda t, u: t, in_dims=(0, 1))(
        lib.ones(3, 4), lib.ones(3, 4)),
    "in_dim_range": lambda lib: lib.func.vmap(lambda t: t, in_dims=2)(lib.ones(3, 4)),
    "in_dims_type": lambda lib: lib.func.vmap(lambda t: t, in_dims="a")(lib.ones(3)),
    "in_dim_type": lambda lib: lib.func.vmap(lambda t: t, in_dims=(1.0,))(lib.ones(3)),
    "nothing_mapped": lambda lib: lib.func.vmap(lambda t: t, in_dims=(None,))(lib.ones(3)),
    "non_tensor": lambda lib: lib.func.vmap(lambda t: t)(1),
    "no_inputs": lambda lib: lib.func.vmap(lambda: 1)(),
    "returns_int": lambda lib: lib.func.vmap(lambda t: 1)(lib.ones(3)),
    "returns_batched_with_none": lambda lib: lib.func.vmap(lambda t: t, out_dims=None)(
        lib.ones(3)),
    "out_dims_structure": lambda lib: lib.func.vmap(lambda t: t, out_dims=(0, 1))(lib.ones(3)),
    "out_dims_range": lambda lib: lib.func.vmap(lambda t: t, out_dims=3)(lib.ones(3, 4)),
    "out_dims_type": lambda lib: lib.func.vmap(lambda t: t, out_dims="a")(lib.ones(3)),
    "randomness_value": lambda lib: lib.func.vmap(lambda t: t, randomness="x"),
    "chunk_size": lambda lib: lib.func.vmap(lambda t: t, chunk_size=0),
    "inplace_into_unbatched": lambda lib: lib.func.vmap(lambda t: lib.zeros(4).add_(t))(
        lib.ones(3, 4)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    check_error(ERRORS[name])


def test_fallback_loop_warns_and_is_correct():
    x, y = T(4, 3), T(3)
    with pytest.warns(UserWarning, match="performance drop because we have not yet implemented "
                                         "the batching rule for numpy.cross"):
        out = dg.func.vmap(lambda a: dg.cross(a, y, dim=0))(x)
    np.testing.assert_allclose(out.numpy(), np.cross(x.numpy(), y.numpy()))


def _set_rows(s):
    y = s * 2
    y[0, 1:3] = s[1, :2] ** 2
    return y.sum()


def _per_sample(fn, batch):
    """vmap(fn)(batch) and the loop over the batch, as arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        out = dg.func.vmap(fn)(batch)
    return out.detach().numpy(), dg.stack([fn(s) for s in batch]).detach().numpy()


dg.manual_seed(0)
_LSTM = dg.nn.LSTM(4, 6, batch_first=True).double()
_GRU = dg.nn.GRU(4, 6, batch_first=True).double()
_MHA = dg.nn.MultiheadAttention(4, 2, batch_first=True).double()
_CONV = dg.nn.Conv2d(2, 3, 3, stride=2, padding=1)
_EMB = dg.nn.Embedding(10, 3)
MODELS = {
    "lstm": (lambda s: _LSTM(s.unsqueeze(0))[0][0], T(5, 7, 4)),
    "gru": (lambda s: _GRU(s.unsqueeze(0))[0][0], T(5, 7, 4)),
    "attention": (lambda s: _MHA(s[None], s[None], s[None])[0][0], T(5, 7, 4)),
    "embedding": (_EMB, dg.randint(0, 10, (5, 6))),
    "grad_conv_input": (dg.func.grad(lambda s: _CONV(s[None]).tanh().sum()), T(4, 2, 9, 9)),
    "grad_avg_pool": (dg.func.grad(lambda s: F.avg_pool2d(s, 3, 2).pow(2).sum()), T(4, 2, 9, 9)),
    "grad_max_pool": (dg.func.grad(lambda s: F.max_pool2d(s, 3, 2, padding=1).pow(2).sum()),
                      T(4, 2, 9, 9)),
    "grad_indexing": (dg.func.grad(lambda s: s[:, 1:3, dg.tensor([0, 2])].pow(2).sum()),
                      T(4, 2, 9, 9)),
    "grad_setitem": (dg.func.grad(_set_rows), T(4, 2, 9, 9)),
    "grad_embedding": (lambda i: dg.func.grad(lambda w: F.embedding(i, w).pow(2).sum())(
        _EMB.weight.detach()), dg.randint(0, 10, (5, 6))),
    "interpolate": (lambda s: F.interpolate(s[None], scale_factor=2, mode="bilinear")[0],
                    T(4, 2, 5, 5)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_layers_match_loop(name):
    fn, batch = MODELS[name]
    out, ref = _per_sample(fn, batch)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_grad_of_vmap_fills_fresh_buffers():
    x = T(5, 4)

    def through_vmap(w):
        return dg.func.vmap(lambda s: F.pad(s * w, (1, 1)).pow(2).sum())(x).sum()

    got = dg.func.grad(through_vmap)(dg.ones(4, dtype=dg.float64))
    expected = dg.func.grad(lambda w: F.pad(x * w, (1, 1)).pow(2).sum())(
        dg.ones(4, dtype=dg.float64))
    np.testing.assert_allclose(got.numpy(), expected.numpy())
