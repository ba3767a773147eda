"""`dyngrad.save` / `dyngrad.load`: checkpoints as safetensors files, never pickle.

The file is a plain safetensors file (https://github.com/huggingface/safetensors): 8 bytes of
little-endian header length, a JSON header giving each tensor's dtype, shape and byte range, then
the raw little-endian data. So `safetensors.torch.load_file` reads what `dyngrad.save` writes, and
`dyngrad.load` reads what `safetensors.torch.save_file` writes (a dict of tensors).

What the header cannot say (nesting, ints and floats, tuples, int dict keys, ...) goes in the
header's `__metadata__` under "dyngrad.structure": a JSON description of the saved object in which
each tensor is a reference to a named tensor of the file:

    tensor               {"tensor": "state.0.exp_avg"}  (+ "requires_grad": true,
                         + "complex128": true for complex128 data stored as float64 [..., 2])
    NumPy array          {"ndarray": "name"}
    None, bool, int, str themselves
    float                itself, or {"float": "inf" | "-inf" | "nan"}
    complex              {"complex": ["re", "im"]}
    list                 a JSON list
    tuple / torch.Size   {"tuple": [...]} / {"size": [...]}
    dict / OrderedDict   {"dict": [[key, value], ...]} / {"odict": [[key, value], ...]}
    dtype / device       {"dtype": "float32"} / {"device": "cpu"}

A tensor's name is its path in the object ("state.0.exp_avg"), so the tensors of a flat
`{name: tensor}` dict keep their names. Loading only ever builds these types: no code runs. A
corrupt or truncated file raises a RuntimeError saying what is wrong, before anything is built.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from dyngrad import _dtype
from dyngrad._device import device as _device
from dyngrad._size import Size
from dyngrad._tensor import Tensor

__all__ = ["save", "load"]

STRUCTURE_KEY = "dyngrad.structure"
_CODES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
          "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
          "C64": np.complex64}
_CODE_OF = {np.dtype(v): k for k, v in _CODES.items()}
_MAX_HEADER = 100_000_000  # the limit safetensors itself enforces


class _Writer:
    """Turns an object into its JSON structure, collecting the tensors it refers to."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.by_id: dict[int, str] = {}

    def name(self, obj, path: str, array: np.ndarray) -> tuple[str, bool]:
        """A unique tensor name for `obj` (the same one if the object was seen before)."""
        if id(obj) in self.by_id:
            return self.by_id[id(obj)], False
        name, n = path or "tensor", 1
        while name in self.arrays:
            name, n = f"{path}#{n}", n + 1
        self.arrays[name] = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)
        self.by_id[id(obj)] = name
        return name, True

    def encode(self, obj, path: str = ""):
        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, Tensor):
            data = obj._data
            extra = {}
            if data.dtype == np.complex128:
                data, extra = np.stack([data.real, data.imag], axis=-1), {"complex128": True}
            if obj._requires_grad:
                extra["requires_grad"] = True
            return {"tensor": self.name(obj, path, data)[0], **extra}
        if isinstance(obj, np.ndarray):
            if obj.dtype not in _CODE_OF:
                raise TypeError(f"dyngrad.save cannot store NumPy arrays of dtype {obj.dtype}")
            return {"ndarray": self.name(obj, path, obj)[0]}
        if isinstance(obj, np.generic):
            obj = obj.item()
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, complex):
            return {"complex": [repr(obj.real), repr(obj.imag)]}
        if isinstance(obj, _dtype.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, _device):
            return {"device": str(obj)}
        sub = f"{path}." if path else ""
        if isinstance(obj, list):
            return [self.encode(v, f"{sub}{i}") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            tag = "size" if isinstance(obj, Size) else "tuple"
            return {tag: [self.encode(v, f"{sub}{i}") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, OrderedDict) else "dict"
            return {tag: [[self.encode(k, "#key"), self.encode(v, f"{sub}{k}")]
                          for k, v in obj.items()]}
        raise TypeError(
            f"dyngrad.save cannot store an object of type {type(obj).__qualname__}: checkpoints "
            "hold tensors, NumPy arrays, numbers, strings, None, dtypes and lists, tuples and "
            "dicts of these (no pickle)"
        )


def save(obj, f) -> None:
    """Save `obj` (a tensor, or a nest of dicts/lists/tuples of tensors and plain values, such as
    a model's or an optimizer's `state_dict()`) to a path or a binary file object.

    A path is written atomically: a crash mid-way never leaves a half-written checkpoint.

    >>> dyngrad.save(model.state_dict(), "model.safetensors")
    """
    writer = _Writer()
    structure = writer.encode(obj)
    # widest items first, so every tensor starts at an offset aligned to its item size
    order = sorted(writer.arrays, key=lambda k: -writer.arrays[k].dtype.itemsize)
    header: dict = {"__metadata__": {"format": "pt", STRUCTURE_KEY: json.dumps(structure)}}
    offset = 0
    for name in order:
        a = writer.arrays[name]
        header[name] = {"dtype": _CODE_OF[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    if hasattr(f, "write"):
        _write(f, head, [writer.arrays[k] for k in order])
        return
    path = os.fspath(f)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            _write(out, head, [writer.arrays[k] for k in order])
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write(out, head: bytes, arrays: list) -> None:
    out.write(struct.pack("<Q", len(head)))
    out.write(head)
    for a in arrays:
        out.write(a.tobytes())


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None,
         **pickle_load_args):
    """Load what `save` wrote (or any safetensors file: then a dict of tensors) from a path or a
    binary file object. Tensors land on the CPU; the torch-only arguments are accepted and have
    no effect (loading never runs code, so it is always "weights only")."""
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        raw = bytearray(f.read())
    else:
        name = os.fspath(f)
        with open(name, "rb") as src:
            raw = bytearray(src.read())
    try:
        tensors, structure = _parse(raw)
        if structure is None:
            return {k: Tensor._make(a) for k, a in tensors.items()}
        try:
            return _decode(structure, tensors)
        except (TypeError, ValueError, KeyError, StopIteration) as e:
            raise _Corrupt(f"the structure metadata is malformed ({e!r})") from None
    except _Corrupt as e:
        raise RuntimeError(f"{name} is not a valid dyngrad checkpoint (safetensors): {e}") from None


class _Corrupt(Exception):
    """Raised inside the parser; `load` turns it into one RuntimeError naming the file."""


def _parse(raw: bytearray) -> tuple[dict, object]:
    """Check the whole header against the file, then view each tensor's bytes as an array."""
    if len(raw) < 8:
        raise _Corrupt(f"the file has {len(raw)} bytes, too few for a header")
    (n,) = struct.unpack_from("<Q", raw)
    if n > min(len(raw) - 8, _MAX_HEADER):
        raise _Corrupt(f"the header claims {n} bytes but the file has {len(raw) - 8} after the "
                       "length field (truncated file?)")
    try:
        header = json.loads(bytes(raw[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _Corrupt(f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _Corrupt("the header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _Corrupt("__metadata__ must map strings to strings")
    data = memoryview(raw)[8 + n:]
    spans = []
    arrays = {}
    for key, info in header.items():
        dtype, shape = _check_entry(key, info, len(data))
        begin, end = info["data_offsets"]
        spans.append((begin, end, key))
        count = math.prod(shape)
        arr = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"), count=count,
                            offset=begin).reshape(shape)
        if not arr.flags.aligned or arr.dtype.byteorder == ">":
            arr = arr.astype(np.dtype(dtype))
        arrays[key] = arr
    position = 0
    for begin, end, key in sorted(spans):
        if begin != position:
            raise _Corrupt(f"tensor {key!r} starts at byte {begin}, expected {position} "
                           "(overlapping or missing data)")
        position = end
    if position != len(data):
        raise _Corrupt(f"the data section has {len(data)} bytes but the tensors cover {position}")
    structure = None
    if STRUCTURE_KEY in meta:
        try:
            structure = json.loads(meta[STRUCTURE_KEY])
        except ValueError as e:
            raise _Corrupt(f"the structure metadata is not valid JSON ({e})") from None
        try:
            _check_structure(structure, arrays)
        except (TypeError, AttributeError) as e:
            raise _Corrupt(f"the structure metadata is malformed ({e!r})") from None
    return arrays, structure


def _check_entry(key: str, info, size: int) -> tuple:
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise _Corrupt(f"tensor {key!r} lacks dtype, shape or data_offsets")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code not in _CODES:
        raise _Corrupt(f"tensor {key!r} has dtype {code!r}; dyngrad reads "
                       f"{', '.join(_CODES)}")
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise _Corrupt(f"tensor {key!r} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
        raise _Corrupt(f"tensor {key!r} has invalid data_offsets {offsets!r}")
    nbytes = math.prod(shape) * np.dtype(_CODES[code]).itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise _Corrupt(f"tensor {key!r} of shape {shape} and dtype {code} needs {nbytes} bytes, "
                       f"its data_offsets span {offsets[1] - offsets[0]}")
    if offsets[1] > size:
        raise _Corrupt(f"tensor {key!r} ends at byte {offsets[1]} but the data section has "
                       f"only {size} (truncated file?)")
    return _CODES[code], shape


_TAGS = {"tensor", "ndarray", "float", "complex", "tuple", "size", "dict", "odict", "dtype",
         "device"}


def _check_structure(node, arrays: dict) -> None:
    """Walk the structure without building anything: every tag known, every tensor present."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            tag = next(iter(node), None)
            if tag not in _TAGS:
                raise _Corrupt(f"unknown entry {tag!r} in the structure metadata")
            value = node[tag]
            if tag in ("tensor", "ndarray"):
                if value not in arrays:
                    raise _Corrupt(f"the structure refers to a missing tensor {value!r}")
                if node.get("complex128") and (arrays[value].dtype != np.float64
                                               or arrays[value].shape[-1:] != (2,)):
                    raise _Corrupt(f"tensor {value!r} is not complex128 data")
            elif tag in ("dict", "odict"):
                if not all(isinstance(kv, list) and len(kv) == 2 for kv in value):
                    raise _Corrupt("a dict in the structure metadata is malformed")
                for kv in value:
                    stack.extend(kv)
            elif tag in ("tuple", "size"):
                stack.extend(value)
            elif tag == "dtype" and value not in {d.name for d in _dtype.ALL}:
                raise _Corrupt(f"unknown dtype {value!r}")


def _decode(node, arrays: dict, made: dict | None = None):
    made = {} if made is None else made
    if not isinstance(node, dict | list):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, made) for v in node]
    tag, value = next(iter(node.items()))
    if tag == "tensor":
        key = (value, "tensor")
        if key not in made:
            a = arrays[value]
            if node.get("complex128"):
                a = np.empty(a.shape[:-1], np.complex128)
                a.real, a.imag = arrays[value][..., 0], arrays[value][..., 1]
            made[key] = Tensor._make(a, bool(node.get("requires_grad")))
        return made[key]
    if tag == "ndarray":
        return made.setdefault((value, "ndarray"), arrays[value])
    if tag == "float":
        return float(value)
    if tag == "complex":
        return complex(float(value[0]), float(value[1]))
    if tag in ("tuple", "size"):
        items = tuple(_decode(v, arrays, made) for v in value)
        return Size(items) if tag == "size" else items
    if tag in ("dict", "odict"):
        pairs = ((_decode(k, arrays, made), _decode(v, arrays, made)) for k, v in value)
        return OrderedDict(pairs) if tag == "odict" else dict(pairs)
    if tag == "dtype":
        return next(d for d in _dtype.ALL if d.name == value)
    return _device(value)

