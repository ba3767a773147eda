"""dyngrad/ops/inplace_aliases.py against PyTorch: torch.fill_, neg_, negative_, reciprocal_,
index_put_, i0_ and addmv_ write into their first argument, recorded like the methods."""

import pytest

from tests.harness import array, check_error, check_op, with_lib

CASES = {
    "fill_": lambda lib, x: lib.fill_(x * 1, 3.0),
    "fill_tensor": lambda lib, x: lib.fill_(x * 1, x[0, 0] * 2),
    "neg_": lambda lib, x: lib.neg_(x * 1),
    "negative_": lambda lib, x: lib.negative_(x * 1),
    "reciprocal_": lambda lib, x: lib.reciprocal_(x * 1),
    "index_put_": lambda lib, x: lib.index_put_(x * 1, (lib.tensor([0, 1]),), x[0] * 3),
    "index_put_accumulate": lambda lib, x: lib.index_put_(x * 1, (lib.tensor([0, 0]),),
                                                          x[1] * 2, True),
    "i0_": lambda lib, x: lib.i0_(x * 1),
    "addmv_": lambda lib, x: lib.addmv_(x[0, :2] * 1, x[:, :2].t(), x[:, 0], beta=0.5, alpha=2),
}


@pytest.mark.parametrize("name", CASES)
def test_inplace_aliases(name):
    check_op(with_lib(CASES[name]), array(3, 3, away_from_zero=0.2))


def test_writes_into_the_argument():
    for lib_name in ("dyngrad", "torch"):
        lib = __import__(lib_name)
        x = lib.ones(2)
        assert lib.neg_(x) is x and x.tolist() == [-1.0, -1.0] and x._version == 1


@pytest.mark.parametrize("name", ["neg_", "reciprocal_", "i0_"])
def test_errors(name):
    check_error(lambda t: getattr(t, name)(t.ones(2, requires_grad=True)))
