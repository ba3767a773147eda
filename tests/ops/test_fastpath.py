"""The operators' fast paths (dyngrad/ops/_fastpath.py) build the graph the ops build.

Each case runs an operator or method (which takes its fast path where it can) and the op's own
function (the general route) on the same inputs, and compares everything the graph holds: the
output, the node's class, edges, input metadata, saved values and attributes, and the gradients
a backward through each gives.
"""

import numpy as np
import pytest

import dyngrad
from dyngrad.autograd.node import SavedOutput
from dyngrad.ops import arithmetic, unary


def _reflected(op):
    """`b + a`: `add(b, a)` for a tensor b, `a.__radd__(b)`, i.e. `add(a, b)`, for a number."""
    return lambda a, b: op(b, a) if isinstance(b, dyngrad.Tensor) else op(a, b)


GENERAL = {  # operator -> the op function it stands for
    "add": arithmetic.add, "radd": _reflected(arithmetic.add), "sub": arithmetic.sub,
    "mul": arithmetic.mul, "rmul": _reflected(arithmetic.mul), "div": arithmetic.div,
}
OPERATORS = {
    "add": lambda a, b: a + b, "radd": lambda a, b: b + a, "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b, "rmul": lambda a, b: b * a, "div": lambda a, b: a / b,
}
UNARY = sorted(n for n in dir(unary) if hasattr(getattr(unary, n), "__wrapped__")) + ["neg"]


def _leaf(shape=(3, 4), dtype=dyngrad.float32, requires_grad=True, seed=0):
    data = np.random.default_rng(seed).uniform(0.5, 2.0, shape)
    return dyngrad.tensor(data, dtype=dtype, requires_grad=requires_grad)


def _operands():
    """(name, self, other): other is a tensor of the same shape/dtype, a number, or anything the
    fast path hands back to the op (broadcasting, other dtypes, views, Parameters, 0-dim)."""
    x, w = _leaf(seed=1), _leaf(seed=2)
    y = x * 2  # a non-leaf
    p = dyngrad.nn.Parameter(_leaf(seed=3).detach())
    return [
        ("nonleaf-leaf", y, w),
        ("leaf-nonleaf", w, y),
        ("nonleaf-nonleaf", y, y.exp()),
        ("same-tensor", y, y),
        ("float", y, 1.5),
        ("int", y, 3),
        ("zero", y, 0.0),
        ("leaf-float", x, 0.25),
        ("parameter", y, p),
        ("parameter-self", p, y),
        ("constant", y, _leaf(requires_grad=False, seed=4)),
        ("constant-self", _leaf(requires_grad=False, seed=5), y),
        ("both-constant", _leaf(requires_grad=False, seed=6), 2.0),
        ("view", y[1:], w[:2]),
        ("transposed", y.t(), w.t()),
        ("broadcast", y, _leaf((4,), seed=7)),
        ("float64", y, _leaf(dtype=dyngrad.float64, seed=8)),
        ("0-dim", _leaf((), seed=9) * 1, _leaf((), seed=10)),
        ("0-dim-float", _leaf((), seed=11) * 1, 2.5),
        ("half", _leaf(dtype=dyngrad.float16, seed=12) * 1, 2.0),
        ("bool-number", y, True),
    ]


def _saved_view(item):
    if isinstance(item, SavedOutput):
        return ("output", item.saved_version, item.output_nr, item.requires_grad)
    if isinstance(item, tuple):
        return ("tensor", id(item[0]), item[1])
    return ("value", item)


def _same_graph(fast, general):
    assert type(fast) is type(general)
    np.testing.assert_array_equal(fast.detach().numpy(), general.detach().numpy())
    assert fast.dtype == general.dtype and fast.requires_grad == general.requires_grad
    assert type(fast._data) is type(general._data)
    f, g = fast.grad_fn, general.grad_fn
    if g is None:
        assert f is None
        return
    assert type(f) is type(g)
    assert [(id(n), nr) for n, nr in f.next_functions] == [
        (id(n), nr) for n, nr in g.next_functions
    ]
    # (the fast path's None: every input has the output's shape and dtype)
    assert f._meta == g._meta or f._meta is None and all(
        m == (general._data.shape, general._data.dtype) for m in g._meta if m is not None)
    assert [_saved_view(s) for s in f._saved] == [_saved_view(s) for s in g._saved]
    assert f.__dict__ == g.__dict__
    assert f._seq > max((n._seq for n, _ in f.next_functions if n is not None), default=-1)


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("case", range(len(_operands())))
def test_binary_fast_path_builds_the_ops_graph(op, case):
    name, a, b = _operands()[case]
    try:
        general = GENERAL[op](a, b)
    except RuntimeError as e:  # (a bool number in `-`): the operator raises the same error
        with pytest.raises(RuntimeError, match=str(e)[:40]):
            OPERATORS[op](a, b)
        return
    fast = OPERATORS[op](a, b)
    _same_graph(fast, general)
    if fast.requires_grad:
        leaves = [t for t in (a, b) if isinstance(t, dyngrad.Tensor) and t.requires_grad]
        gf = dyngrad.autograd.grad(fast.sum(), leaves, allow_unused=True, retain_graph=True)
        gg = dyngrad.autograd.grad(general.sum(), leaves, allow_unused=True, retain_graph=True)
        for u, v in zip(gf, gg, strict=True):
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u.numpy(), v.numpy())


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("kind", ["nonleaf", "leaf", "constant", "view", "0-dim", "float64",
                                  "int", "half"])
def test_unary_fast_path_builds_the_ops_graph(name, kind):
    x = {
        "nonleaf": lambda: _leaf() * 1, "leaf": lambda: _leaf(),
        "constant": lambda: _leaf(requires_grad=False), "view": lambda: (_leaf() * 1)[:, 1:],
        "0-dim": lambda: _leaf(()) * 1, "float64": lambda: _leaf(dtype=dyngrad.float64) * 1,
        "int": lambda: dyngrad.arange(1, 5), "half": lambda: _leaf(dtype=dyngrad.float16) * 1,
    }[kind]()
    if name == "neg":
        fast, general = -x, arithmetic.neg(x)
    else:
        fast, general = getattr(x, name)(), getattr(unary, name).__wrapped__(x)
        assert getattr(dyngrad, name)(x).grad_fn.name() == fast.grad_fn.name() if \
            fast.requires_grad else True
    _same_graph(fast, general)
    if fast.requires_grad:
        (gf,) = dyngrad.autograd.grad(fast.sum(), x, retain_graph=True)
        (gg,) = dyngrad.autograd.grad(general.sum(), x, retain_graph=True)
        assert gf.dtype == gg.dtype == x.dtype
        np.testing.assert_array_equal(gf.numpy(), gg.numpy())
        # through a node of the general route after it, which fits the gradient it passes on
        (gf,) = dyngrad.autograd.grad((fast * 1).sum(), x, retain_graph=True)
        assert gf.dtype == x.dtype


@pytest.mark.filterwarnings("ignore:Anomaly Detection")
def test_fast_path_steps_aside():
    """Under forward AD, saved-tensor hooks, anomaly mode, no_grad and inference mode the
    operators behave as their ops do (the fast path hands the call over)."""
    import dyngrad.autograd.forward_ad as fwAD

    x = _leaf() * 1
    with fwAD.dual_level():
        d = fwAD.make_dual(_leaf(), _leaf(seed=3))
        assert fwAD.unpack_dual((d * d).tanh()).tangent is not None
    packed = []
    with dyngrad.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        (x * x).tanh()
    assert len(packed) == 3
    with dyngrad.autograd.detect_anomaly(check_nan=False):
        assert (x * x).grad_fn.metadata.get("traceback_") is not None
    with dyngrad.no_grad():
        assert (x * x).grad_fn is None and x.exp().grad_fn is None
    with dyngrad.inference_mode():
        assert (x * 2).is_inference() and x.tanh().is_inference()
    out = dyngrad.empty(3, 4)
    assert dyngrad.exp(x.detach(), out=out) is out


def test_operators_take_the_fast_path():
    """(So that the comparisons above compare two routes, not one route with itself.)"""
    T = dyngrad.Tensor
    for method, op in [(T.__add__, arithmetic.add), (T.__radd__, arithmetic.add),
                       (T.__sub__, arithmetic.sub), (T.__mul__, arithmetic.mul),
                       (T.__rmul__, arithmetic.mul), (T.__truediv__, arithmetic.div),
                       (T.__neg__, arithmetic.neg)]:
        assert method is not op and method.__wrapped__ is op
    for name in UNARY[:-1]:
        assert getattr(T, name) is getattr(unary, name) is not getattr(unary, name).__wrapped__
