"""dyngrad/ops/queries.py against PyTorch: type and layout queries, the constant flags of a
dense CPU tensor, typename, type_as, to_dense, dim_order and the torch-level detach."""

import numpy as np
import pytest
import torch

import dyngrad
from tests.autograd.common import both
from tests.harness import array, check_error, check_op


def _tensors(lib):
    return [lib.zeros(2, 3), lib.tensor([1, 2]), lib.tensor([True]), lib.tensor([1j]),
            lib.tensor(0.0), lib.tensor([float("nan")]), lib.tensor([], dtype=lib.uint8),
            lib.ones(2, dtype=lib.int8), lib.zeros(1, dtype=lib.float16)]


QUERIES = {
    "is_tensor": lambda lib, t: [lib.is_tensor(t), lib.is_tensor(3), lib.is_tensor([t])],
    "is_storage": lambda lib, t: [lib.is_storage(t), lib.is_storage(3)],
    "numel": lambda lib, t: lib.numel(t),
    "is_floating_point": lambda lib, t: lib.is_floating_point(t),
    "is_signed": lambda lib, t: [lib.is_signed(t), t.is_signed()],
    "is_same_size": lambda lib, t: [lib.is_same_size(t, t), t.is_same_size(lib.zeros(2, 3))],
    "is_inference": lambda lib, t: lib.is_inference(t),
    "isreal": lambda lib, t: [lib.isreal(t), t.isreal()],
    "get_device": lambda lib, t: [lib.get_device(t), t.get_device()],
    "typename": lambda lib, t: lib.typename(t),
    "flags": lambda lib, t: [t.is_cpu, t.is_sparse, t.is_sparse_csr, t.is_quantized, t.is_meta,
                             t.is_mkldnn, t.is_nested, t.is_xla, t.is_mps, t.is_ipu, t.is_maia,
                             t.is_vulkan, t.is_xpu, t.is_mtia, t.is_distributed(), t.name],
    "to_dense": lambda lib, t: [t.to_dense() is t, t.to_dense(lib.float64)],
    "is_set_to": lambda lib, t: [t.is_set_to(t), t.is_set_to(t.clone()),
                                 t.is_set_to(t.view(t.shape))],
}


@pytest.mark.filterwarnings("ignore:Casting complex values to real")
@pytest.mark.parametrize("name", QUERIES)
def test_queries(name):
    both(lambda lib: [QUERIES[name](lib, t) for t in _tensors(lib)])


def test_is_nonzero():
    both(lambda lib: [lib.is_nonzero(lib.tensor([1.5])), lib.tensor(0).is_nonzero(),
                      lib.is_nonzero(lib.tensor([[False]])),
                      lib.is_nonzero(lib.tensor(float("nan"))), lib.tensor(0j).is_nonzero()])


def test_typename_of_other_objects():
    """Builtins by their name, anything else by module and qualified name."""
    assert dyngrad.typename(3) == torch.typename(3) == "int"
    assert dyngrad.typename(dyngrad.ones(1, dtype=dyngrad.int64)) == "torch.LongTensor"
    assert dyngrad.typename(dyngrad.nn.Linear(1, 1)) == "dyngrad.nn.modules.linear.Linear"
    assert torch.typename(torch.nn.Linear(1, 1)) == "torch.nn.modules.linear.Linear"
    assert dyngrad.typename(dyngrad.nn.Linear) == "dyngrad.nn.modules.linear.Linear"
    assert dyngrad.typename(np.float64(1)) == torch.typename(np.float64(1)) == "numpy.float64"


def test_type_as():
    check_op(lambda x: x.type_as(x), array(2, 3))
    check_op(lambda x: x.type_as(x.new_zeros(1, dtype=dyngrad.float64 if isinstance(
        x, dyngrad.Tensor) else torch.float64)), array(2, 3), dtypes=(np.float32,))
    both(lambda lib: [lib.ones(2).type_as(lib.zeros(1, dtype=lib.int32)),
                      lib.ones(2, dtype=lib.int64).type_as(lib.zeros(1))])


def test_detach():
    def prog(lib):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        d = lib.detach(y)
        lib.detach_(y)
        return [d, d.requires_grad, y, y.grad_fn, y.requires_grad]

    both(prog)


ERRORS = {
    "numel": lambda t: t.numel(3),
    "is_floating_point": lambda t: t.is_floating_point(3),
    "is_signed": lambda t: t.is_signed(3),
    "is_nonzero": lambda t: t.is_nonzero(3),
    "is_nonzero_many": lambda t: t.is_nonzero(t.zeros(2)),
    "is_nonzero_empty": lambda t: t.tensor([]).is_nonzero(),
    "is_same_size_input": lambda t: t.is_same_size(3, t.zeros(1)),
    "is_same_size_other": lambda t: t.is_same_size(t.zeros(1), 3),
    "is_same_size_method": lambda t: t.zeros(1).is_same_size(3),
    "is_inference": lambda t: t.is_inference(3),
    "isreal": lambda t: t.isreal(3),
    "get_device": lambda t: t.get_device(3),
    "detach": lambda t: t.detach(3),
    "detach_": lambda t: t.detach_(3),
    "type_as": lambda t: t.zeros(1).type_as(3),
    "dim_order_type": lambda t: t.zeros(2).dim_order(ambiguity_check="x"),
    "dim_order_ambiguous": lambda t: t.zeros(2, 1, 4, 1).dim_order(ambiguity_check=True),
    "dim_order_formats": lambda t: t.zeros(2, 1, 4, 1).dim_order(
        ambiguity_check=[t.channels_last]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    check_error(ERRORS[name])


DIM_ORDER = {
    "contiguous": lambda t: t.zeros(2, 3, 5, 7),
    "transposed": lambda t: t.zeros(2, 3, 5, 7).transpose(1, 2),
    "channels_last": lambda t: t.zeros(2, 3, 5, 7).to(memory_format=t.channels_last),
    "singleton": lambda t: t.zeros(1, 2, 3, 4),
    "ties": lambda t: t.zeros(2, 1, 4, 1),
    "permuted": lambda t: t.zeros(2, 3, 4).permute(2, 0, 1),
    "expanded": lambda t: t.zeros(3, 1).expand(3, 4),
    "scalar": lambda t: t.tensor(1.0),
    "vector": lambda t: t.zeros(5),
    "strided": lambda t: t.zeros(4, 6)[:, ::2],
}


@pytest.mark.parametrize("name", DIM_ORDER)
def test_dim_order(name):
    def prog(lib):
        t = DIM_ORDER[name](lib)
        out = [t.dim_order()]
        for check in (True, [lib.contiguous_format], [lib.contiguous_format, lib.channels_last]):
            try:
                out.append(t.dim_order(ambiguity_check=check))
            except RuntimeError as e:
                out.append(str(e))
        return out

    both(prog)
