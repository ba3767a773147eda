"""dyngrad.save / dyngrad.load: round trips, safetensors interop both ways, corrupt files."""

import io
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.torch
import torch

import dyngrad

ARRAYS = {
    "f32": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "f64": np.array([1.5, -np.inf, np.nan]),
    "f16": np.array([[0.5, 2.0]], dtype=np.float16),
    "i64": np.array([-(2**62), 3]),
    "i32": np.array([7], dtype=np.int32),
    "i16": np.array([-3], dtype=np.int16),
    "i8": np.array([-128, 127], dtype=np.int8),
    "u8": np.array([0, 255], dtype=np.uint8),
    "bool": np.array([True, False]),
    "c64": np.array([1 + 2j, -3j], dtype=np.complex64),
    "scalar": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
}


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def test_flat_dict_round_trip(tmp_path):
    sd = {k: dyngrad.tensor(v) for k, v in ARRAYS.items()}
    dyngrad.save(sd, tmp_path / "m.safetensors")
    out = dyngrad.load(tmp_path / "m.safetensors")
    assert list(out) == list(sd)
    for k in sd:
        same(out[k].numpy(), ARRAYS[k])


def test_written_file_is_valid_safetensors(tmp_path):
    path = str(tmp_path / "m.safetensors")
    dyngrad.save({k: dyngrad.tensor(v) for k, v in ARRAYS.items()}, path)
    theirs = safetensors.torch.load_file(path)
    assert set(theirs) == set(ARRAYS)
    for k, v in ARRAYS.items():
        same(theirs[k].numpy(), v)


def test_reads_files_written_by_safetensors(tmp_path):
    path = str(tmp_path / "t.safetensors")
    ref = {k: torch.from_numpy(v.copy()) for k, v in ARRAYS.items()}
    ref["noncontig"] = torch.arange(6.0).reshape(2, 3).t().contiguous()
    safetensors.torch.save_file(ref, path, metadata={"format": "pt", "note": "hi"})
    ours = dyngrad.load(path)
    assert set(ours) == set(ref)
    for k, v in ref.items():
        assert str(ours[k].dtype) == str(v.dtype)
        same(ours[k].numpy(), v.numpy())
    ours["f32"].add_(1)  # loaded tensors are writable


def test_single_tensor_and_torch_interop_of_tensor(tmp_path):
    t = dyngrad.tensor([[1.0, 2.0]], requires_grad=True)
    dyngrad.save(t, tmp_path / "t")
    u = dyngrad.load(tmp_path / "t")
    assert isinstance(u, dyngrad.Tensor) and u.requires_grad and u.is_leaf
    same(u.detach().numpy(), t.detach().numpy())


def test_nested_state_dict_round_trip(tmp_path):
    p = [dyngrad.tensor(np.ones((2, 2)), requires_grad=True), dyngrad.zeros(2, requires_grad=True)]
    opt = dyngrad.optim.Adam([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.5}], amsgrad=True)
    for q in p:
        q.grad = dyngrad.ones_like(q)
    opt.step()
    sd = opt.state_dict()
    dyngrad.save(sd, tmp_path / "opt")
    back = dyngrad.load(tmp_path / "opt")
    assert back["param_groups"] == sd["param_groups"]
    assert isinstance(back["param_groups"][0]["betas"], tuple)
    assert list(back["state"]) == [0, 1]
    for i in (0, 1):
        for k, v in sd["state"][i].items():
            assert back["state"][i][k].dtype == v.dtype
            same(back["state"][i][k].numpy(), v.numpy())
    opt2 = dyngrad.optim.Adam([{"params": [p[0]]}, {"params": [p[1]]}])
    opt2.load_state_dict(back)
    assert opt2.param_groups[1]["lr"] == 0.5


def test_plain_values_and_aliasing():
    t = dyngrad.arange(3.0)
    obj = OrderedDict(a=t, b=[1, 2.5, float("inf"), float("nan"), None, True, "s", (1, (2,)),
                              dyngrad.Size([2, 3]), 1 - 2j, dyngrad.float16, 2**70],
                      c={0: {"x": t}, (1, "k"): np.arange(3)},
                      d=dyngrad.tensor(1 + 2j, dtype=dyngrad.complex128))
    buf = io.BytesIO()
    dyngrad.save(obj, buf)
    buf.seek(0)
    back = dyngrad.load(buf)
    assert isinstance(back, OrderedDict) and list(back) == list(obj)
    assert back["a"] is back["c"][0]["x"]
    b = back["b"]
    assert b[:3] == [1, 2.5, float("inf")] and b[3] != b[3]
    assert b[4:8] == [None, True, "s", (1, (2,))]
    assert type(b[8]) is dyngrad.Size and b[9] == 1 - 2j and b[10] is dyngrad.float16
    assert b[11] == 2**70
    same(back["c"][(1, "k")], np.arange(3))
    assert back["d"].dtype == dyngrad.complex128 and back["d"].item() == 1 + 2j


def test_refuses_arbitrary_objects():
    class Thing:
        pass

    with pytest.raises(TypeError, match="cannot store an object of type"):
        dyngrad.save({"x": Thing()}, io.BytesIO())


def test_save_is_atomic(tmp_path):
    path = tmp_path / "ckpt"
    dyngrad.save({"w": dyngrad.ones(2)}, path)
    with pytest.raises(TypeError):
        dyngrad.save({"w": dyngrad.zeros(2), "bad": object()}, path)
    same(dyngrad.load(path)["w"].numpy(), np.ones(2, np.float32))
    assert os.listdir(tmp_path) == ["ckpt"]


def _raw(obj) -> bytes:
    buf = io.BytesIO()
    dyngrad.save(obj, buf)
    return buf.getvalue()


def _load_bytes(data: bytes):
    return dyngrad.load(io.BytesIO(data))


def test_truncated_files_raise_clearly():
    data = _raw({"w": dyngrad.ones(5), "n": 3})
    for cut in list(range(0, 12)) + [len(data) // 2, len(data) - 1]:
        with pytest.raises(RuntimeError, match="not a valid dyngrad checkpoint"):
            _load_bytes(data[:cut])


def _with_header(data: bytes, edit) -> bytes:
    (n,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8:8 + n])
    edit(header)
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data[8 + n:]


@pytest.mark.parametrize("edit,message", [
    (lambda h: h["w"].update(dtype="BF16"), "dtype 'BF16'"),
    (lambda h: h["w"].update(shape=[6]), "needs 24 bytes"),
    (lambda h: h["w"].update(shape=[-5]), "invalid shape"),
    (lambda h: h["w"].update(data_offsets=[0, 16]), "span 16"),
    (lambda h: h["w"].update(data_offsets=[4, 24]), "ends at byte 24"),
    (lambda h: h["__metadata__"].update({"dyngrad.structure": '{"tensor": "zz"}'}),
     "missing tensor 'zz'"),
    (lambda h: h.pop("w"), "the tensors cover 0"),
    (lambda h: h["__metadata__"].update({"dyngrad.structure": "{nope"}), "not valid JSON"),
    (lambda h: h["__metadata__"].update({"dyngrad.structure": '{"pickle": 1}'}),
     "unknown entry 'pickle'"),
    (lambda h: h["__metadata__"].update({"dyngrad.structure": '{"dict": [[[1], 2]]}'}),
     "malformed"),
])
def test_corrupt_headers_raise_clearly(edit, message):
    data = _with_header(_raw({"w": dyngrad.ones(5)}), edit)
    with pytest.raises(RuntimeError, match=message):
        _load_bytes(data)


def test_garbage_and_trailing_bytes():
    with pytest.raises(RuntimeError, match="header is not valid JSON"):
        _load_bytes(struct.pack("<Q", 4) + b"\xff\xfe{]")
    with pytest.raises(RuntimeError, match="but the tensors cover"):
        _load_bytes(_raw({"w": dyngrad.ones(2)}) + b"junk")
