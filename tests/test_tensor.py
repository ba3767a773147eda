"""The Tensor API outside autograd proper: metadata, conversions, constructors, copies, repr.

Each test runs the same program under dyngrad and torch and compares what it observes.
"""

import copy
import warnings

import numpy as np
import pytest
import torch

import dyngrad
from tests.harness import assert_same_outputs, check_error


def same(prog):
    """prog(lib) returns a list of observations; dyngrad's must equal torch's."""
    assert_same_outputs(prog(dyngrad), prog(torch), prog.__name__)


def _warnings(fn) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message).split(" (Triggered internally")[0] for w in caught]


# --- metadata --------------------------------------------------------------------------------
def test_metadata():
    def prog(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        s = lib.tensor(5.0)
        return [x.shape, x.size(), x.size(1), x.size(-1), x.dim(), x.ndim, x.numel(),
                str(x.dtype), str(x.device), x.is_leaf, x.requires_grad, s.shape, s.dim(),
                s.numel(), str(x.shape), repr(x.size()), x.is_contiguous(), x.stride(),
                x.element_size(), x.is_floating_point(), lib.tensor([1]).is_floating_point(),
                x.T.shape, x.T.is_contiguous(), len(x), x.ndimension(), x.nelement()]

    same(prog)


def test_metadata_errors():
    check_error(lambda lib: lib.ones(2, 3).size(2))
    check_error(lambda lib: lib.ones(2, 3).size(-3))
    check_error(lambda lib: len(lib.tensor(1.0)))


def test_item_and_tolist():
    def prog(lib):
        x = lib.tensor([[1.5, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 2
        return [x[0, 0].item(), y[1, 1].item(), x.tolist(), y.tolist(), lib.tensor(3).item(),
                type(lib.tensor(3).item()).__name__, type(lib.tensor(True).item()).__name__,
                lib.tensor([7]).item(), lib.tensor(2.5).tolist(), lib.tensor([1, 2]).tolist()]

    same(prog)
    check_error(lambda lib: lib.ones(3).item())


def test_python_conversions():
    def prog(lib):
        x = lib.tensor([2.7], requires_grad=True)
        return [float(x), int(x), bool(x), float(lib.tensor(3)), int(lib.tensor(-2.5)),
                bool(lib.tensor(0.0)), bool(lib.tensor([1])), complex(lib.tensor(1.0)),
                [1, 2, 3][lib.tensor(1)], f"{lib.tensor(2.5):.2f}"]

    same(prog)
    check_error(lambda lib: float(lib.ones(2)))
    check_error(lambda lib: int(lib.ones(2)))
    check_error(lambda lib: bool(lib.ones(2)))
    check_error(lambda lib: [1, 2][lib.tensor(1.0)], match="type")


def test_len_and_iteration():
    def prog(lib):
        x = lib.arange(6.0).reshape(3, 2).requires_grad_()
        rows = list(x)
        return [len(x), len(rows), *rows, [r.shape for r in lib.ones(2, 3, 4)],
                [v.item() for v in lib.tensor([1, 2, 3])]]

    same(prog)
    check_error(lambda lib: iter(lib.tensor(1.0)))


# --- numpy interop ---------------------------------------------------------------------------
def test_numpy_shares_memory():
    for lib in (dyngrad, torch):
        x = lib.zeros(3)
        a = x.numpy()
        a[0] = 5
        x[1] = 7
        assert x.tolist() == [5.0, 7.0, 0.0] and a.tolist() == [5.0, 7.0, 0.0]
        arr = np.asarray(x)
        arr[2] = 9
        assert x.tolist() == [5.0, 7.0, 9.0]
        assert np.asarray(x, dtype=np.float64).dtype == np.float64
        assert np.array(x).tolist() == [5.0, 7.0, 9.0]


def test_numpy_refuses_requires_grad():
    check_error(lambda lib: lib.ones(3, requires_grad=True).numpy())
    check_error(lambda lib: (lib.ones(3, requires_grad=True) * 2).numpy())
    check_error(lambda lib: np.asarray(lib.ones(3, requires_grad=True)))
    for lib in (dyngrad, torch):
        x = lib.ones(3, requires_grad=True)
        assert x.detach().numpy().tolist() == [1.0, 1.0, 1.0]
        with lib.no_grad():
            y = x * 2
        assert y.numpy().tolist() == [2.0, 2.0, 2.0]


def test_from_numpy_shares_both_ways():
    def prog(lib):
        a = np.arange(4.0)
        t = lib.from_numpy(a)
        a[0] = 10
        t[1] = 20
        t.add_(1)
        out = [t.clone(), a.tolist(), str(t.dtype), t.is_leaf, t.requires_grad, t._version]
        t.requires_grad_()
        out.append(t.requires_grad)
        i = lib.from_numpy(np.arange(3, dtype=np.int32))
        out += [i, lib.from_numpy(np.array(2.5)), lib.from_numpy(np.zeros((2, 0)))]
        return out

    same(prog)


def test_from_numpy_errors():
    check_error(lambda lib: lib.from_numpy(np.arange(4.0)[::-1]))
    check_error(lambda lib: lib.from_numpy([1, 2]))
    check_error(lambda lib: lib.from_numpy(np.array(["a"])), match="type")

    def read_only(lib):
        a = np.arange(3.0)
        a.flags.writeable = False
        return _warnings(lambda: lib.from_numpy(a))

    assert read_only(dyngrad) == read_only(torch)


def test_tensor_copies_numpy_and_as_tensor_shares():
    def prog(lib):
        a = np.arange(3.0)
        copied, shared = lib.tensor(a), lib.as_tensor(a)
        same_t = lib.as_tensor(shared)
        cast = lib.as_tensor(a, dtype=lib.float32)
        a[0] = 9
        return [copied, shared, same_t is shared, cast, lib.as_tensor([1, 2]),
                lib.as_tensor([1.0, 2]), lib.as_tensor(3), lib.asarray([[1, 2]])]

    same(prog)


# --- casts and copies ------------------------------------------------------------------------
def test_casts():
    def prog(lib):
        x = lib.tensor([1.5, -2.5, 0.0])
        r = lib.tensor([1.5, -2.5, 0.0], requires_grad=True)
        out = [x.float(), x.double(), x.long(), x.int(), x.bool(), x.half(), x.short(), x.byte(),
               x.char(), x.to(lib.float64), x.to(dtype=lib.int32), x.to(x), x.to("cpu"),
               x.to("cpu", lib.float64), x.to(lib.float32) is x, x.float() is x]
        out += [r.double(), r.long(), r.float() is r, r.half(), r.to(lib.complex64),
                r.to(lib.float64).is_leaf, r.type(), r.double().type(), r.long().type(),
                x.type(lib.float64), x.type("torch.LongTensor"), x.type(lib.int32).type()]
        return out

    same(prog)
    check_error(lambda lib: lib.ones(2).type("torch.Bogus"), match="type")


def test_clone_and_contiguous():
    def prog(lib):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        c = x.clone()
        t = x.t()
        tc = t.contiguous()
        out = [c, c.is_leaf, c._version, x.contiguous() is x, tc, tc.is_contiguous(),
               t.is_contiguous(), tc.stride(), t.stride()]
        (c * lib.tensor([[1.0, 2, 3], [4, 5, 6]])).backward(lib.ones(2, 3))
        tc.backward(lib.ones(3, 2))
        out.append(x.grad)
        with lib.no_grad():
            d = lib.arange(3.0).clone()
        out.append(d)
        return out

    same(prog)

    for lib in (dyngrad, torch):
        x = lib.arange(3.0)
        c = x.clone()
        c[0] = 100
        assert x[0].item() == 0.0


# --- constructors ----------------------------------------------------------------------------
def test_legacy_constructor():
    def prog(lib):
        return [lib.Tensor([2, 3]), lib.Tensor([[1, 2], [3, 4]]).type(), lib.Tensor(3).shape,
                lib.Tensor(2, 3).shape, lib.Tensor().shape, lib.Tensor(0).shape,
                lib.Tensor(np.array([1, 2])), lib.Tensor([True]), lib.Tensor(lib.ones(2)),
                str(lib.Tensor(3).dtype), isinstance(lib.ones(1), lib.Tensor),
                lib.Tensor(lib.Size([2, 1])).shape]

    same(prog)
    check_error(lambda lib: lib.Tensor(3.0))


def test_typed_legacy_constructors():
    def prog(lib):
        out = []
        for name in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
                     "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"):
            cls = getattr(lib, name)
            out += [cls([1, 0, 2]), cls(2).shape, str(cls(2).dtype), cls(2, 2).shape]
        out += [isinstance(lib.ones(1), lib.FloatTensor), isinstance(lib.ones(1), lib.LongTensor),
                isinstance(lib.tensor([1]), lib.LongTensor)]
        return out

    same(prog)


def test_tensor_factory_requires_grad_errors():
    check_error(lambda lib: lib.tensor([1, 2], requires_grad=True))
    check_error(lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True))
    check_error(lambda lib: lib.tensor([[1, 2], [3]]), match="type")


def test_tensor_from_tensor_warns():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)
        out = []
        msgs = _warnings(lambda: out.append(lib.tensor(x)))
        return [*msgs, out[0], out[0].requires_grad, out[0].is_leaf]

    same(prog)


def test_variable():
    def prog(lib):
        from_var = lib.autograd.Variable
        x = lib.ones(2)
        v = from_var(x, requires_grad=True)
        w = from_var(x)
        out = [type(v).__name__, v, v.is_leaf, w.requires_grad, isinstance(x, from_var),
               isinstance(v * 2, from_var), isinstance(3, from_var)]
        msgs = _warnings(lambda: from_var(x, volatile=True))
        v.add(1).sum().backward()
        return out + msgs + [v.grad]

    same(prog)


def test_deepcopy():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).sum().backward()
        y = copy.deepcopy(x)
        z = copy.deepcopy(lib.tensor([1, 2]))
        y.data.add_(5)
        both = copy.deepcopy([x, x])
        return [y, y.requires_grad, y.is_leaf, y.grad, x, z, both[0] is both[1]]

    same(prog)
    check_error(lambda lib: copy.deepcopy(lib.ones(2, requires_grad=True) * 2))


def test_repr_of_autograd_tensors():
    def prog(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        out = [repr(x), repr(y), repr((x * 1).sum()), repr(x[0]), repr(y.detach()),
               repr(x.double()), repr(lib.tensor([1, 2], dtype=lib.int32)),
               repr(lib.zeros(2, dtype=lib.float64, requires_grad=True)), str(y)]
        y.retain_grad()
        return out + [repr(y)]

    same(prog)


@pytest.mark.parametrize("op", ["add", "mul", "sub", "truediv", "pow"])
def test_bad_operand_types(op):
    import operator

    check_error(lambda lib: getattr(operator, op)(lib.ones(2), "a"), match="type")


def test_strides_of_empty_tensors():
    """NumPy gives new empty arrays zero strides; PyTorch reports contiguous ones (and a view
    keeps its base's)."""

    def prog(lib):
        return [lib.zeros(*s).stride() for s in ((0,), (2, 0), (0, 3), (3, 0, 2))] + [
            lib.zeros(3, 4)[:, :0].stride(), lib.zeros(3, 4)[:0].stride()]

    same(prog)


@pytest.mark.parametrize("data", [None, [1, None], "a", ["a"], [object()]], ids=repr)
def test_tensor_of_values_without_a_dtype(data):
    check_error(lambda lib: lib.tensor(data))
    check_error(lambda lib: lib.as_tensor(data))


@pytest.mark.parametrize("dst,src", [((), (1,)), ((2, 3), (4, 3)), ((2, 3), (2, 4)), ((3,), (2, 3)),
                                     ((2, 1), (2, 3)), ((4, 1, 3), (2, 3))])
def test_copy_shape_errors(dst, src):
    check_error(lambda lib: lib.zeros(dst).copy_(lib.ones(src)))


def test_device_types():
    same(lambda lib: [str(lib.device(t)) for t in ("xpu", "mps", "meta", "cuda:1", "hpu")])
    check_error(lambda lib: lib.device("foo"))
