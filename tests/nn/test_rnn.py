"""Recurrent layers, cells and packed sequences against torch: same weights (copied through
NumPy) and inputs give the same outputs, grad_fn names and gradients (float64)."""


import numpy as np
import pytest
import torch

import dyngrad
from dyngrad.nn.utils import rnn as d_rnn
from tests.harness import array, check_error, check_op, with_lib
from tests.harness import module_pair as pair

t_rnn = torch.nn.utils.rnn
RTOL, ATOL = 1e-9, 1e-12


def close(d, t, what: str) -> None:
    np.testing.assert_allclose(d.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=what)


def leaves(lib, arrays):
    return [None if a is None else lib.from_numpy(a.copy()).requires_grad_() for a in arrays]


def flat(out) -> list:
    if isinstance(out, d_rnn.PackedSequence | t_rnn.PackedSequence):
        return [out.data]
    if isinstance(out, tuple | list):
        return [y for x in out for y in flat(x)]
    return [out]


def compare(d_mod, t_mod, call, arrays, grad_fn: bool = True) -> None:
    """call(lib, module, *tensors) on both; compare outputs, grad_fn names and the gradients of
    a random weighting of all outputs with respect to inputs and parameters."""
    d_in, t_in = leaves(dyngrad, arrays), leaves(torch, arrays)
    d_out, t_out = flat(call(dyngrad, d_mod, *d_in)), flat(call(torch, t_mod, *t_in))
    assert len(d_out) == len(t_out)
    rng = np.random.default_rng(0)
    d_loss = t_loss = 0
    for i, (d, t) in enumerate(zip(d_out, t_out, strict=True)):
        close(d, t, f"output {i}")
        if grad_fn:
            assert type(d.grad_fn).__name__ == type(t.grad_fn).__name__, (d.grad_fn, t.grad_fn)
        w = rng.standard_normal(tuple(t.shape))
        d_loss = d_loss + (d * dyngrad.from_numpy(w)).sum()
        t_loss = t_loss + (t * torch.from_numpy(w)).sum()
    d_loss.backward()
    t_loss.backward()
    for i, (d, t) in enumerate(zip(d_in, t_in, strict=True)):
        if t is not None:
            close(d.grad, t.grad, f"grad of input {i}")
    for (name, dp), (_, tp) in zip(d_mod.named_parameters(), t_mod.named_parameters(),
                                   strict=True):
        close(dp.grad, tp.grad, f"grad of {name}")


CONFIGS = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "bias": False}),
    ("RNN", {"num_layers": 2, "bidirectional": True}), ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"proj_size": 3}),
    ("LSTM", {"proj_size": 2, "bidirectional": True, "num_layers": 2}), ("GRU", {}),
    ("GRU", {"num_layers": 3, "bias": False}), ("GRU", {"bidirectional": True}),
]


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=str)
def test_layout_and_repr(cls, kw):
    d, t = pair(cls, 4, 6, **kw)
    assert repr(d) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in d.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [[tuple(w.shape) for w in ws] for ws in d.all_weights] == [
        [tuple(w.shape) for w in ws] for ws in t.all_weights]
    bound = 1 / np.sqrt(6)
    fresh = getattr(dyngrad.nn, cls)(4, 6, **kw)
    assert all(np.abs(p.detach().numpy()).max() <= bound for p in fresh.parameters())


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=str)
def test_forward_backward(cls, kw):
    d, t = pair(cls, 4, 6, **kw)
    x = array(5, 3, 4)
    compare(d, t, lambda lib, m, x: m(x), [x])
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1) * dirs
    h0 = array(layers, 3, kw.get("proj_size") or 6)
    if cls == "LSTM":
        c0 = array(layers, 3, 6)
        compare(d, t, lambda lib, m, x, h, c: m(x, (h, c)), [x, h0, c0])
        compare(d, t, lambda lib, m, x, h, c: m(x, (h, c)), [x[:, 0].copy(), h0[:, 0].copy(),
                                                              c0[:, 0].copy()])
    else:
        compare(d, t, lambda lib, m, x, h: m(x, h), [x, h0])
        compare(d, t, lambda lib, m, x, h: m(x, h), [x[:, 0].copy(), h0[:, 0].copy()])


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_batch_first(cls):
    d, t = pair(cls, 4, 5, num_layers=2, batch_first=True, bidirectional=True)
    # torch transposes its result in place (TransposeBackward1); dyngrad has no transpose_
    compare(d, t, lambda lib, m, x: m(x), [array(3, 6, 4)], grad_fn=False)


def test_second_order():
    """create_graph through a GRU and an LSTM: the gradient of a gradient norm."""
    for cls in ("GRU", "LSTM"):
        d, t = pair(cls, 3, 4)
        x = array(4, 2, 3)
        res = []
        for lib, m in ((dyngrad, d), (torch, t)):
            xt = lib.from_numpy(x.copy()).requires_grad_()
            out = m(xt)[0]
            (g,) = lib.autograd.grad((out ** 2).sum(), xt, create_graph=True)
            params = list(m.parameters())
            res.append(lib.autograd.grad((g ** 2).sum(), [xt, *params]))
        for a, b in zip(*res, strict=True):
            close(a, b, f"{cls} second order")


def test_cells():
    for cls in ("RNNCell", "LSTMCell", "GRUCell"):
        for kw in ({}, {"bias": False}):
            d, t = pair(cls, 4, 3, **kw)
            assert repr(d) == repr(t)
            assert list(d.state_dict()) == list(t.state_dict())
            x, h, c = array(2, 4), array(2, 3), array(2, 3)
            compare(d, t, lambda lib, m, x: m(x), [x])
            compare(d, t, lambda lib, m, x: m(x), [x[0].copy()])
            if cls == "LSTMCell":
                compare(d, t, lambda lib, m, x, h, c: m(x, (h, c)), [x, h, c])
                compare(d, t, lambda lib, m, x, h, c: m(x, (h, c)),
                        [x[1].copy(), h[1].copy(), c[1].copy()])
            else:
                compare(d, t, lambda lib, m, x, h: m(x, h), [x, h])
    d, t = pair("RNNCell", 4, 3, nonlinearity="relu")
    assert repr(d) == repr(t)
    compare(d, t, lambda lib, m, x, h: m(x, h), [array(2, 4), array(2, 3)])


# --- packed sequences ----------------------------------------------------------------------------
LENGTHS = [3, 5, 1, 4]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_pad_round_trip(batch_first, enforce_sorted):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    x = array(4, 5, 2) if batch_first else array(5, 4, 2)

    def fn(lib, x):
        rnn = lib.nn.utils.rnn
        p = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                     enforce_sorted=enforce_sorted)
        padded, lens = rnn.pad_packed_sequence(p, batch_first=batch_first, padding_value=-1.0,
                                               total_length=6)
        return p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices, padded, lens

    # dyngrad has no index_select yet: its reordering records IndexBackward0 (torch:
    # IndexSelectBackward0), so the names are compared on the sorted path only
    if enforce_sorted:
        check_op(with_lib(fn), x, dtypes=(np.float64,), noncontig=False)
    else:
        check_op(with_lib(lambda lib, x: tuple(v if v is None or i in (1, 2, 3, 5) else v * 1
                                               for i, v in enumerate(fn(lib, x)))),
                 x, dtypes=(np.float64,), noncontig=False)


def test_packed_sequence_repr_and_helpers():
    seqs = [array(4, 2), array(2, 2), array(3, 2)]
    reprs = []
    for lib in (dyngrad, torch):
        rnn = lib.nn.utils.rnn
        ts = [lib.from_numpy(s.copy()) for s in seqs]
        p = rnn.pack_sequence(ts, enforce_sorted=False)
        reprs.append((repr(p), [repr(u) for u in rnn.unpack_sequence(p)],
                      repr(rnn.pad_sequence(ts, batch_first=True, padding_value=2.0,
                                            padding_side="left")),
                      [repr(u) for u in rnn.unpad_sequence(rnn.pad_sequence(ts),
                                                           lib.tensor([4, 2, 3]))]))
    assert reprs[0] == reprs[1]
    check_op(with_lib(lambda lib, a, b: lib.nn.utils.rnn.pad_sequence([a, b])),
             seqs[0], seqs[1], dtypes=(np.float64,), noncontig=False)
    check_op(with_lib(lambda lib, a, b: lib.nn.utils.rnn.pack_sequence([a, b]).data),
             seqs[0], seqs[2], dtypes=(np.float64,), noncontig=False)


@pytest.mark.parametrize("cls,kw", [("LSTM", {"num_layers": 2, "bidirectional": True}),
                                    ("GRU", {"batch_first": True}),
                                    ("RNN", {"bidirectional": True}),
                                    ("LSTM", {"proj_size": 2})], ids=str)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_rnn_on_packed_sequences(cls, kw, enforce_sorted):
    d, t = pair(cls, 3, 4, **kw)
    bf = kw.get("batch_first", False)
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    x = array(4, 5, 3) if bf else array(5, 4, 3)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h0 = array(layers, 4, kw.get("proj_size") or 4)

    def call(lib, m, x, h):
        rnn = lib.nn.utils.rnn
        packed = rnn.pack_padded_sequence(x, lengths, batch_first=bf,
                                          enforce_sorted=enforce_sorted)
        hx = (h, h[..., :1].expand(*h.shape[:-1], 4).contiguous() * 0.5) if cls == "LSTM" else h
        out, hidden = m(packed, hx)
        assert isinstance(out, rnn.PackedSequence)
        padded, _ = rnn.pad_packed_sequence(out, batch_first=bf)
        return out, hidden, padded

    compare(d, t, call, [x, h0], grad_fn=enforce_sorted)


# --- errors and options --------------------------------------------------------------------------
def test_errors():
    def run(lib, cls, x_shape, h_shape=None, **kw):
        m = getattr(lib.nn, cls)(4, 6, **kw)
        x = lib.zeros(*x_shape)
        if h_shape is None:
            return m(x)
        h = lib.zeros(*h_shape)
        return m(x, (h, h) if cls == "LSTM" else h)

    check_error(lambda lib: run(lib, "RNN", (5, 3, 5)))
    check_error(lambda lib: run(lib, "GRU", (5, 3, 4), (2, 3, 6)))
    check_error(lambda lib: run(lib, "LSTM", (5, 3, 4), (1, 2, 6)))
    check_error(lambda lib: run(lib, "RNN", (5, 3, 4), (3, 6)))
    check_error(lambda lib: run(lib, "LSTM", (5, 4), (1, 3, 6)))
    check_error(lambda lib: run(lib, "GRU", (2, 5, 3, 4)))
    check_error(lambda lib: run(lib, "LSTM", (2, 5, 3, 4)))
    check_error(lambda lib: lib.nn.RNN(4, 6)(lib.zeros(5, 3, 4, dtype=lib.float64)))
    check_error(lambda lib: lib.nn.LSTM(4, 6, proj_size=6))
    check_error(lambda lib: lib.nn.GRU(4, 6, proj_size=2))
    check_error(lambda lib: lib.nn.RNN(4, 6, nonlinearity="gelu"))
    check_error(lambda lib: lib.nn.RNN(4, 6, dropout=1.5))
    check_error(lambda lib: lib.nn.LSTMCell(4, 6)(lib.zeros(3, 5)))
    check_error(lambda lib: lib.nn.GRUCell(4, 6)(lib.zeros(3, 4), lib.zeros(2, 6)))
    check_error(lambda lib: lib.nn.RNNCell(4, 6)(lib.zeros(1, 3, 4)))
    check_error(lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2),
                                                                  [2, 4, 1]))
    check_error(lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2),
                                                                  [4, 2, 0]))
    check_error(lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 2), [4, 2]))
    check_error(lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 2, 2), [5, 2]), total_length=3))


def test_dropout_between_layers():
    for lib in (dyngrad, torch):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater"):
            lib.nn.LSTM(4, 6, dropout=0.5)
    m = dyngrad.nn.GRU(4, 6, num_layers=3, dropout=0.5).double()
    x = dyngrad.from_numpy(array(5, 2, 4))
    dyngrad.manual_seed(0)
    a = m(x)[0]
    dyngrad.manual_seed(0)
    b = m(x)[0]
    c = m.eval()(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    assert a.shape == c.shape == (5, 2, 6)
