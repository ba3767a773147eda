"""PyTorch's own per-operator sample inputs (`op_db`, the OpInfo database) replayed on dyngrad.

The acceptance measure of the operator work: for every OpInfo entry that supports autograd, find
dyngrad's callable, run the entry's first `--samples` CPU sample inputs (float64, or complex128
where torch has no float64 version) through both libraries and compare the forward outputs
(values, dtype, shape, requires_grad, grad_fn name, via the shared harness) and the input
gradients of `sum(output * w)` for fixed random weights `w` (given as `grad_outputs`, so no other
op is involved). An entry passes when every sample it ran matches; otherwise the first failure is
recorded. Separately, where torch supports forward-mode AD for the entry, the samples' output
tangents for random input tangents must match too (`forward_ad` in the results).

    python -m tests.conformance                      # all entries, writes docs/conformance.md
    python -m tests.conformance --only add,div --json out.json

Each entry runs in a forked child (torch and op_db are imported once, before forking), so a crash
or hang costs one entry: a child stops starting new samples after `--budget` seconds and is killed
after `--timeout`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import sys
import time
import types
import unittest
import warnings
from collections import Counter
from dataclasses import asdict, dataclass
from multiprocessing.connection import wait
from pathlib import Path

import numpy as np
import torch

import dyngrad
from tests.harness import _assert_same_grads, assert_same_outputs

# torch's test utilities import `expecttest` (a test-only dependency) for their TestCase base
# class; only that name and the ACCEPT flag are touched when the OpInfo database is imported.
if "expecttest" not in sys.modules:
    try:
        import expecttest  # noqa: F401
    except ImportError:
        sys.modules["expecttest"] = types.SimpleNamespace(TestCase=unittest.TestCase, ACCEPT=False)

from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

REPORT = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"
NAMESPACES = ("nn.functional", "linalg", "special", "fft", "masked", "sparse", "signal")
_CLASS_FAMILY = {"UnaryUfuncInfo": "unary", "BinaryUfuncInfo": "binary",
                 "ReductionOpInfo": "reduction", "SpectralFuncInfo": "fft",
                 "ShapeFuncInfo": "shape"}
# Plain OpInfo entries of the torch namespace, sorted into the families of dyngrad's op modules
# (the rest is "other").
_NAME_FAMILY = {
    "linalg": "addbmm addmm addmv addr baddbmm bmm cdist cholesky cholesky_inverse cholesky_solve "
              "dist dot einsum inner kron logdet lu lu_solve lu_unpack matmul matrix_exp mm mv "
              "ormqr outer pca_lowrank pinverse qr svd svd_lowrank tensordot trace "
              "triangular_solve tril triu vdot __rmatmul__",
    "reduction": "aminmax corrcoef cov cummax cummin cumprod cumsum cumulative_trapezoid "
                 "kthvalue log_softmax logcumsumexp logsumexp max median min mode msort "
                 "nanmedian nanquantile norm quantile softmax sort std_mean sum_to_size topk "
                 "trapezoid trapz var_mean",
    "shape": "H T mH mT alias_copy as_strided as_strided_copy as_strided_scatter atleast_1d "
             "atleast_2d atleast_3d block_diag broadcast_tensors broadcast_to cartesian_prod cat "
             "chunk clone column_stack combinations constant_pad_nd contiguous diag diag_embed "
             "diagflat diagonal diagonal_copy diagonal_scatter dsplit dstack expand expand_as "
             "expand_copy flatten flip fliplr flipud hsplit hstack meshgrid movedim narrow "
             "narrow_copy permute permute_copy ravel repeat_interleave reshape reshape_as roll "
             "rot90 split split_with_sizes split_with_sizes_copy squeeze squeeze_copy stack t "
             "t_copy tensor_split transpose transpose_copy unbind unbind_copy unflatten unfold "
             "unfold_copy unsafe_chunk unsafe_split unsqueeze unsqueeze_copy view view_as "
             "view_as_complex view_as_real view_copy vsplit vstack",
    "indexing": "__getitem__ _unsafe_masked_index _unsafe_masked_index_put_accumulate gather "
                "index_add index_copy index_fill index_put index_reduce index_select masked_fill "
                "masked_scatter masked_select put scatter scatter_add scatter_reduce select "
                "select_scatter slice slice_scatter take take_along_dim where",
}
_NAME_FAMILY = {n: fam for fam, names in _NAME_FAMILY.items() for n in names.split()}


@dataclass
class Result:
    """One OpInfo entry's outcome; `reason` groups failures, `detail` says what differed."""

    entry: str
    family: str
    status: str  # "pass", "fail", "missing" or "skip" (torch runs it on no CPU dtype)
    reason: str = ""
    detail: str = ""
    samples: int = 0
    forward_ad: str = ""  # "pass" or "fail" where torch has forward AD for the entry, else ""
    forward_ad_detail: str = ""


class Mismatch(Exception):
    """A sample whose dyngrad result differs from torch's (reason, detail)."""


class Unsupported(Exception):
    """A sample input with no dyngrad counterpart (bfloat16 or sparse tensors, torch-only args)."""


# --- entries -----------------------------------------------------------------------------------
def entry_key(op) -> str:
    return f"{op.name}.{op.variant_test_name}" if op.variant_test_name else op.name


def family(op) -> str:
    for ns in NAMESPACES:
        if op.name.startswith(ns + "."):
            return ns
    return _CLASS_FAMILY.get(type(op).__name__) or _NAME_FAMILY.get(op.name, "other")


def sample_dtype(op):
    """float64 where torch supports it on the CPU, else complex128 (`imag`), else the first
    supported dtype; None for entries torch runs only on GPUs."""
    dtypes = op.supported_dtypes("cpu")
    for dt in (torch.float64, torch.complex128):
        if dt in dtypes:
            return dt
    return min(dtypes, key=str, default=None)


def autograd_entries(only=None) -> list:
    """op_db's entries with supports_autograd, optionally those whose name or key is in `only`."""
    ops = [op for op in op_db if op.supports_autograd]
    if only:
        wanted = set(only)
        ops = [op for op in ops if op.name in wanted or entry_key(op) in wanted]
    return ops


def _lookup(root, path: str):
    for part in path.removeprefix("torch.").split("."):
        root = getattr(root, part, None)
        if root is None:
            return None
    return root


def _seeded(op, *args, **kwargs):
    """torch's testing `wrapper_set_seed` for dyngrad: op run after manual_seed(42), leaving the
    default stream where it was (random entries then draw torch's numbers)."""
    with dyngrad.random.fork_rng():
        dyngrad.manual_seed(42)
        return op(*args, **kwargs)


def _rebind(fn):
    """A copy of a torch-testing wrapper (`lambda x, n: torch.polygamma(n, x)`) whose global
    `torch` is dyngrad."""
    g = dict(fn.__globals__, torch=dyngrad, wrapper_set_seed=_seeded)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.rebound = True  # an AttributeError naming dyngrad then means "missing"
    return new


def resolve(op):
    """dyngrad's callable for `op`, or None: the function of the same dotted name (or an alias's,
    or the aten name's), else the Tensor method. Wrappers written in torch's test code are
    replayed with `torch` bound to dyngrad."""
    fn = op.op
    if isinstance(fn, types.FunctionType) and fn.__module__.startswith("torch.testing"):
        return _rebind(fn)
    names = [op.name, *(a.name for a in op.aliases), op.aten_name]
    for name in filter(None, names):
        found = _lookup(dyngrad, name)
        if callable(found) and not isinstance(found, dyngrad.dtype):
            return found
    methods = [getattr(op.method_variant, "__name__", None)]
    if getattr(torch.Tensor, getattr(fn, "__name__", ""), None) is fn:  # Tensor.__radd__ & co
        methods.append(fn.__name__)
    for name in filter(None, methods):
        if callable(found := getattr(dyngrad.Tensor, name, None)):
            return found
    return None


# --- one sample --------------------------------------------------------------------------------
def to_dyngrad(x, memo: dict):
    """`x` with every torch tensor (nested in lists, tuples, dicts) copied into a dyngrad tensor
    and torch's dtype / device / Size objects swapped for dyngrad's. The same torch tensor maps
    to the same dyngrad tensor (so gradients accumulate alike)."""
    if isinstance(x, torch.Tensor):
        if id(x) not in memo:
            if x.is_sparse or x.layout != torch.strided or x.dtype == torch.bfloat16:
                raise Unsupported(f"{x.layout} {x.dtype} tensor input")
            data = x.detach().resolve_conj().resolve_neg().numpy()
            memo[id(x)] = (x, dyngrad.tensor(data, requires_grad=x.requires_grad))
        return memo[id(x)][1]
    if isinstance(x, torch.Size):
        return dyngrad.Size(x)
    if isinstance(x, list | tuple):
        return type(x)(to_dyngrad(v, memo) for v in x)
    if isinstance(x, dict):
        return {k: to_dyngrad(v, memo) for k, v in x.items()}
    if isinstance(x, torch.device):
        return dyngrad.device(str(x))
    if isinstance(x, torch.dtype | torch.memory_format | torch.layout):
        found = _lookup(dyngrad, str(x))
        if found is None:
            raise Unsupported(f"dyngrad has no {x}")
        return found
    if isinstance(x, torch.nn.Module) and not any(True for _ in x.parameters()):
        return _module(x)  # e.g. a distance_function=PairwiseDistance()
    if isinstance(x, torch.nn.LinearCrossEntropyOptions):
        return dyngrad.nn.LinearCrossEntropyOptions(**to_dyngrad(asdict(x), memo))
    if type(x).__module__.startswith("torch"):
        raise Unsupported(f"argument of type {type(x).__name__}")
    return x


def _module(m: torch.nn.Module):
    """dyngrad's module of the same class and settings as a parameter-free torch module."""
    cls = getattr(dyngrad.nn, type(m).__name__, None)
    if cls is None:
        raise Unsupported(f"argument of type {type(m).__name__}")
    d = cls.__new__(cls)
    dyngrad.nn.Module.__init__(d)
    for k, v in vars(m).items():
        if not k.startswith("_") and k != "training":
            setattr(d, k, v)
    return d


def _in_storage(x: torch.Tensor):
    """A dyngrad leaf with x's values, strides and offset inside a copy of x's whole storage."""
    whole = torch.empty(0, dtype=x.dtype).set_(x.untyped_storage()).numpy().copy()
    size = x.element_size()
    data = np.ndarray(tuple(x.shape), whole.dtype, whole, x.storage_offset() * size,
                      tuple(s * size for s in x.stride()))
    return dyngrad.from_numpy(data).requires_grad_(x.requires_grad)


def _head(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0][:120] if msg else ''}"


def _is_identity(fn) -> bool:
    """True when `fn` returns its argument unchanged, for single values and for tuples (some
    OpInfo output processors, e.g. eigh's sign-invariant one, only act on tuples)."""
    marker = object()
    pair = (marker, marker)
    try:
        return fn(marker) is marker and fn(pair) is pair
    except Exception:  # noqa: BLE001 - any failure means "not the identity"
        return False


def _flat(x) -> list:
    if isinstance(x, list | tuple) and not isinstance(x, torch.Size | dyngrad.Size):
        return [y for v in x for y in _flat(v)]
    return [x]


def _mismatch_reason(msg: str) -> str:
    for word in ("dtype", "shape", "requires_grad", "grad_fn", "outputs", "is not a Tensor"):
        if word in msg.split("\n")[0]:
            return {"outputs": "structure", "is not a Tensor": "structure"}.get(word, word)
    return "values"


def _short(msg: str) -> str:
    """An assertion message in one line: numpy's 'Mismatched elements' and 'Max ...' lines."""
    lines = [ln.strip() for ln in msg.strip().splitlines() if ln.strip()]
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.startswith(("Mismatched", "Max abs"))]
    return " | ".join(keep)[:240]


def _compare_forward(d_out, t_out, d_proc, t_proc) -> None:
    """Raw outputs must match; where the sample names an output_process_fn_grad (to remove a
    sign or phase ambiguity, as for SVD), matching processed values suffice."""
    if type(t_out).__module__ == "torch.return_types":
        fields = type(t_out).__match_args__
        if type(d_out).__name__ != type(t_out).__name__ or not all(
                hasattr(d_out, f) for f in fields):
            raise Mismatch("structure", f"{type(d_out).__name__} is not a return type with "
                                        f"fields {fields}")
    try:
        assert_same_outputs(d_out, t_out, "forward")
    except AssertionError as e:
        reason = _mismatch_reason(str(e))
        if reason != "values" or d_proc is None:
            raise Mismatch(f"forward {reason}", _short(str(e))) from None
        try:
            assert_same_outputs(d_proc, t_proc, "forward (processed)")
        except AssertionError as e2:
            raise Mismatch("forward values", _short(str(e2))) from None


def check_sample(op, fn, sample, seed: int) -> bool:
    """Compare one sample; False when torch itself rejects it (skipped), raises Mismatch."""
    x = sample.input
    memo: dict = {}
    if op.name.startswith("as_strided") and isinstance(x, torch.Tensor):
        memo[id(x)] = (x, _in_storage(x))  # as_strided addresses the storage, not the tensor
    d_in = to_dyngrad(x, memo)
    d_args = to_dyngrad(sample.args, memo)
    d_kwargs = to_dyngrad(sample.kwargs, memo)
    torch.manual_seed(seed)  # both seeded alike: random entries must draw torch's numbers
    try:
        t_out = op(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # noqa: BLE001 - a sample torch rejects tests nothing here
        return False
    dyngrad.manual_seed(seed)
    try:
        d_out = fn(d_in, *d_args, **d_kwargs)
    except Exception as e:  # noqa: BLE001 - the failure is the result
        missing = getattr(fn, "rebound", False) and isinstance(e, AttributeError) and (
            "'dyngrad" in str(e) or "'Tensor' object" in str(e))
        raise Mismatch("missing" if missing else f"forward {type(e).__name__}", _head(e)) from e
    proc = sample.output_process_fn_grad
    t_proc = d_proc = None
    if not _is_identity(proc):
        t_proc = proc(t_out)
        try:
            d_proc = _rebind(proc)(d_out) if isinstance(proc, types.FunctionType) else proc(d_out)
        except Exception as e:  # noqa: BLE001
            raise Mismatch(f"output_process_fn_grad {type(e).__name__}", _head(e)) from e
    _compare_forward(d_out, t_out, d_proc, t_proc)
    _compare_backward(d_out if d_proc is None else d_proc, t_out if t_proc is None else t_proc,
                      memo, seed)
    return True


def check_forward_ad(op, fn, sample, seed: int) -> bool:
    """Forward-mode AD on one sample: every input that requires grad becomes a dual tensor with a
    random tangent (the same in both libraries); the outputs' tangents (after the sample's
    output_process_fn_grad, if any) must match torch's. False when torch has no tangent for it
    (raises) or no input requires grad; raises Mismatch."""
    rng = np.random.default_rng(seed)
    tangents: dict = {}

    def dual(lib, x):
        if not isinstance(x, torch.Tensor):
            return x if lib is torch else to_dyngrad(x, {})
        if lib is torch:
            primal = x.detach()
        elif op.name.startswith("as_strided"):
            primal = _in_storage(x.detach())
        else:
            primal = to_dyngrad(x.detach(), {})
        if not (x.requires_grad and (x.is_floating_point() or x.is_complex())):
            return primal
        if id(x) not in tangents:
            tangents[id(x)] = _random_like(rng, x)
        return lib.autograd.forward_ad.make_dual(primal, lib.from_numpy(tangents[id(x)].copy()))

    proc = sample.output_process_fn_grad
    identity = _is_identity(proc)
    results = []
    for lib, call in ((torch, op), (dyngrad, fn)):
        fw = lib.autograd.forward_ad
        try:
            with fw.dual_level():
                args = _map_leaves((sample.input, sample.args, sample.kwargs),
                                    lambda x, lib=lib: dual(lib, x))
                lib.manual_seed(seed)  # random entries draw alike
                out = call(args[0], *args[1], **args[2])
                if not identity:
                    out = proc(out) if lib is torch or not isinstance(
                        proc, types.FunctionType) else _rebind(proc)(out)
                flat = [fw.unpack_dual(o).tangent if isinstance(o, lib.Tensor) else None
                        for o in _flat(out)]
                flat = [None if t is None else t.detach().clone() for t in flat]
        except Exception as e:  # noqa: BLE001 - torch refuses: nothing to compare
            if lib is torch:
                return False
            raise Mismatch(f"forward AD {type(e).__name__}", _head(e)) from e
        if lib is torch and not tangents:
            return False
        results.append(flat)
    t_tan, d_tan = results
    t_tan = [t.new_zeros(t.shape) if t is not None and t._is_zerotensor() else t for t in t_tan]
    if len(t_tan) != len(d_tan):
        raise Mismatch("forward AD structure", f"{len(d_tan)} outputs, torch {len(t_tan)}")
    try:
        _assert_same_grads(d_tan, t_tan, "tangent of output", False, None, None)
    except AssertionError as e:
        reason = "forward AD " + _mismatch_reason(str(e))
        ref = reason == "forward AD values" and _reference_agreeing(
            d_tan, t_tan, op, sample, tangents, None if identity else proc)
        if not ref:
            raise Mismatch(reason, _short(str(e))) from None
        raise TorchInexact(ref, _short(str(e))) from None
    return True


def _reference_agreeing(d_tan, t_tan, op, sample, tangents, proc) -> str | None:
    """Which independent reference for J·t dyngrad's tangents match while torch's do not:
    central finite differences of torch's function, else J·t built row by row from torch's
    reverse mode (rtol 1e-6, atol 1e-7). None when there is no such reference."""
    for name, build in (("finite differences", _finite_difference_tangents),
                        ("torch's reverse mode", _reverse_mode_tangents)):
        try:
            ref = build(op, sample, tangents, proc)
        except Exception:  # noqa: BLE001 - no reference of this kind
            continue
        if _close(d_tan, ref) and not _close(t_tan, ref):
            return name
    return None


def _close(tangents, ref) -> bool:
    try:
        _assert_same_grads(tangents, ref, "tangent", False, 1e-6, 1e-7)
    except AssertionError:
        return False
    return True


def _reverse_mode_tangents(op, sample, tangents: dict, proc) -> list:
    """J·t for each output, J built one row (one output element) at a time by torch's backward."""
    out = op(sample.input, *sample.args, **sample.kwargs)
    ins = [x for x in _flat((sample.input, sample.args, list(sample.kwargs.values())))
           if isinstance(x, torch.Tensor) and id(x) in tangents]
    refs = []
    for o in _flat(out if proc is None else proc(out)):
        if not isinstance(o, torch.Tensor) or not o.requires_grad:
            refs.append(None)
            continue
        if o.is_complex() or any(x.is_complex() for x in ins) or o.numel() > 512:
            raise ValueError("complex or large output: no reference")
        rows = []
        for i in range(o.numel()):
            e = torch.zeros(o.numel(), dtype=o.dtype)
            e[i] = 1
            grads = torch.autograd.grad(o, ins, e.reshape(o.shape), retain_graph=True,
                                        allow_unused=True)
            rows.append(sum(float((g * torch.from_numpy(tangents[id(x)])).sum())
                            for g, x in zip(grads, ins, strict=True) if g is not None))
        refs.append(torch.tensor(rows, dtype=o.dtype).reshape(o.shape))
    return refs


class TorchInexact(Exception):
    """dyngrad's tangent differs from torch's forward-mode one but matches an independent
    reference that torch's does not (args: the reference, the difference)."""


def _finite_difference_tangents(op, sample, tangents: dict, proc, h: float = 1e-6) -> list:
    """(f(x + h t) - f(x - h t)) / 2h for each output: J·t without any derivative formula."""

    def shift(x, sign: int):
        if not isinstance(x, torch.Tensor):
            return x
        t = tangents.get(id(x))
        x = x.detach()
        return x if t is None else x + sign * h * torch.from_numpy(t)

    ends = []
    for sign in (1, -1):
        x, args, kwargs = _map_leaves((sample.input, sample.args, sample.kwargs),
                                       lambda v, sign=sign: shift(v, sign))
        out = op(x, *args, **kwargs)
        ends.append(_flat(out if proc is None else proc(out)))
    return [(p - m) / (2 * h) if isinstance(p, torch.Tensor) and (
        p.is_floating_point() or p.is_complex()) else None for p, m in zip(*ends, strict=True)]


def _random_like(rng, t: torch.Tensor) -> np.ndarray:
    """Standard normal values (complex for a complex t) of t's shape and dtype."""
    w = rng.standard_normal(t.shape)
    if t.is_complex():
        w = w + 1j * rng.standard_normal(t.shape)
    return w.astype(str(t.dtype).removeprefix("torch."))


def _map_leaves(x, fn):
    """x with fn applied to every leaf (tensors and other values) of its lists, tuples and
    dicts."""
    if isinstance(x, list | tuple) and not isinstance(x, torch.Size):
        return type(x)(_map_leaves(v, fn) for v in x)
    if isinstance(x, dict):
        return {k: _map_leaves(v, fn) for k, v in x.items()}
    return fn(x)


def _compare_backward(d_out, t_out, memo: dict, seed: int) -> None:
    """Gradients of sum(out * w) w.r.t. every input requiring grad; None == zeros."""
    pairs = [(d, t) for d, t in zip(_flat(d_out), _flat(t_out), strict=True)
             if isinstance(t, torch.Tensor) and t.requires_grad]
    wrt = [(d, t) for t, d in memo.values() if t.requires_grad]
    if not pairs or not wrt:
        return
    rng = np.random.default_rng(seed)
    ws = [_random_like(rng, t) for _, t in pairs]
    try:
        t_grads = torch.autograd.grad([t for _, t in pairs], [t for _, t in wrt],
                                      [torch.from_numpy(w) for w in ws], allow_unused=True)
    except Exception:  # noqa: BLE001 - torch cannot differentiate this sample: nothing to compare
        return
    # torch may return a gradient as a "ZeroTensor" (no memory, no numpy()): materialize it.
    t_grads = [g.new_zeros(g.shape) if g is not None and g._is_zerotensor() else g
               for g in t_grads]
    try:
        d_grads = dyngrad.autograd.grad([d for d, _ in pairs], [d for d, _ in wrt],
                                        [dyngrad.from_numpy(w.copy()) for w in ws],
                                        allow_unused=True)
    except Exception as e:  # noqa: BLE001
        raise Mismatch(f"backward {type(e).__name__}", _head(e)) from e
    try:
        _assert_same_grads(d_grads, t_grads, "grad of input", False, None, None)
    except AssertionError as e:
        raise Mismatch("grad " + _mismatch_reason(str(e)), _short(str(e))) from None


# --- one entry ---------------------------------------------------------------------------------
def check_entry(op, fn=None, samples: int = 8, budget: float = 2.0) -> Result:
    """Run up to `samples` sample inputs of `op` on `fn` (dyngrad's callable by default) until
    the first failure or until `budget` seconds have passed."""
    res = Result(entry_key(op), family(op), "pass")
    fn = resolve(op) if fn is None else fn
    if fn is None:
        res.status, res.reason = "missing", "missing"
        return res
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dt = sample_dtype(op)
            # an entry torch runs only on integer dtypes (one_hot) gets inputs without grad:
            # torch's make_tensor refuses requires_grad for them
            gen = op.sample_inputs("cpu", dt, requires_grad=dt.is_floating_point or dt.is_complex)
            fwd = op.supports_forward_ad
            for i, sample in enumerate(itertools.islice(gen, samples)):
                res.samples += check_sample(op, fn, sample, seed=i)
                if fwd:
                    try:
                        if check_forward_ad(op, fn, sample, seed=i):
                            res.forward_ad = res.forward_ad or "pass"
                    except TorchInexact as e:
                        res.forward_ad = "pass"
                        res.forward_ad_detail = (f"matches {e.args[0]}, torch's forward-mode "
                                                 f"tangent does not: {e.args[1]}")
                    except Mismatch as e:
                        fwd = False
                        res.forward_ad = "fail"
                        res.forward_ad_detail = f"{e.args[0]}: {e.args[1]}"
                if time.monotonic() - start > budget:
                    break
        except Mismatch as e:
            res.reason, res.detail = e.args
            res.status = "missing" if res.reason == "missing" else "fail"
        except Unsupported as e:
            res.status, res.reason, res.detail = "fail", "unsupported input", str(e)
        except Exception as e:  # noqa: BLE001 - torch's sample generation or the comparison
            res.status, res.reason, res.detail = "fail", f"runner {type(e).__name__}", _head(e)
    if res.status == "pass" and not res.samples:
        res.status, res.reason = "fail", "no sample ran"
    if res.status != "pass":  # forward mode is judged on entries whose values and grads match
        res.forward_ad = res.forward_ad_detail = ""
    return res


def _child(op, conn, samples, budget) -> None:
    try:
        res = check_entry(op, samples=samples, budget=budget)
    except BaseException as e:  # noqa: BLE001 - report anything, even SystemExit
        res = Result(entry_key(op), family(op), "fail", "crash", _head(e))
    conn.send(res)
    conn.close()


def run(ops, samples: int = 8, budget: float = 2.0, timeout: float = 20.0, jobs: int | None = None,
        progress=None) -> list[Result]:
    """Check every entry of `ops`, `jobs` forked children at a time; results in `ops`' order."""
    torch.set_num_threads(1)  # before forking: one thread per child, no OpenMP pool to inherit
    ctx = mp.get_context("fork")
    results: dict[int, Result] = {}
    todo = []
    for i, op in enumerate(ops):
        if sample_dtype(op) is None:
            results[i] = Result(entry_key(op), family(op), "skip", "GPU-only in torch")
        elif resolve(op) is None:
            results[i] = Result(entry_key(op), family(op), "missing", "missing")
        else:
            todo.append(i)
            continue
        if progress:
            progress(results[i])
    running: dict = {}  # connection -> (index, process, start time)
    jobs = jobs or os.cpu_count() or 1
    while todo or running:
        while todo and len(running) < jobs:
            i = todo.pop(0)
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(ops[i], send, samples, budget), daemon=True)
            proc.start()
            send.close()
            running[recv] = (i, proc, time.monotonic())
        for conn in wait(list(running), timeout=0.1):
            i, proc, _ = running.pop(conn)
            try:
                results[i] = conn.recv()
            except EOFError:
                proc.join()
                results[i] = Result(entry_key(ops[i]), family(ops[i]), "fail", "crash",
                                    f"child exited with code {proc.exitcode}")
            conn.close()
            proc.join()
            if progress:
                progress(results[i])
        now = time.monotonic()
        for conn, (i, proc, t0) in list(running.items()):
            if now - t0 > timeout:
                proc.kill()
                proc.join()
                conn.close()
                del running[conn]
                results[i] = Result(entry_key(ops[i]), family(ops[i]), "fail", "timeout",
                                    f"no result after {timeout:g} s")
    return [results[i] for i in range(len(ops))]


# --- report ------------------------------------------------------------------------------------
def summary(results) -> str:
    """'P / N OpInfo entries pass (x%)': entries torch runs only on GPUs are not counted."""
    passed = sum(r.status == "pass" for r in results)
    total = sum(r.status != "skip" for r in results)
    skipped = len(results) - total
    pct = 100.0 * passed / total if total else 0.0
    tail = f"; {skipped} GPU-only entries skipped" if skipped else ""
    return f"{passed} / {total} OpInfo entries pass ({pct:.1f}%{tail})"


def forward_ad_summary(results) -> str:
    """'P / N entries match in forward mode': passing entries torch supports forward AD for."""
    checked = [r for r in results if r.forward_ad]
    passed = sum(r.forward_ad == "pass" for r in checked)
    pct = 100.0 * passed / len(checked) if checked else 0.0
    return f"{passed} / {len(checked)} entries match torch in forward-mode AD ({pct:.1f}%)"


def report(results, samples: int, budget: float) -> str:
    """docs/conformance.md: the share, a table by family, the failures grouped by reason."""
    counted = [r for r in results if r.status != "skip"]
    count = Counter((r.family, r.status) for r in counted)
    statuses = ("pass", "fail", "missing")
    lines = [
        "# Conformance with PyTorch's OpInfo database",
        "",
        "Generated by `make conformance` (`python -m tests.conformance`); do not edit by hand.",
        "",
        f"**{summary(results)}.**",
        "",
        f"Entries: `torch.testing._internal.common_methods_invocations.op_db` of torch "
        f"{torch.__version__.split('+')[0]} with `supports_autograd=True`. For each, dyngrad's "
        f"function of the same name (or alias), else its Tensor method, runs the first {samples} "
        f"CPU sample inputs in float64 (complex128 where torch has no float64 version; fewer "
        f"samples once {budget:g} s have passed) and must match torch's forward outputs (values "
        "at rtol = atol = 1e-7, dtype, shape, requires_grad, grad_fn name) and the input "
        "gradients of sum(output * w) for fixed random w (rtol 1e-6, atol 1e-7; None and zeros "
        "count as equal). A failing entry shows its first failure.",
        "",
        "| family | entries | pass | fail | missing |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    fams = sorted({r.family for r in counted},
                  key=lambda f: (-sum(count[f, s] for s in statuses), f))
    for fam in fams:
        n = [count[fam, s] for s in statuses]
        lines.append(f"| {fam} | {sum(n)} | {n[0]} | {n[1]} | {n[2]} |")
    n = [sum(r.status == s for r in counted) for s in statuses]
    lines.append(f"| **all** | **{sum(n)}** | **{n[0]}** | **{n[1]}** | **{n[2]}** |")
    by_reason: dict[str, list[Result]] = {}
    for r in counted:
        if r.status != "pass":
            by_reason.setdefault(r.reason, []).append(r)
    lines += ["", "## Failing entries by reason", ""]
    for reason, rs in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines += [f"### {reason} ({len(rs)})", ""]
        if reason == "missing":
            for fam in sorted({r.family for r in rs}):
                names = ", ".join(f"`{r.entry}`" for r in rs if r.family == fam)
                lines.append(f"- {fam}: {names}")
        else:
            lines += [f"- `{r.entry}`: {r.detail}".replace("\n", " ") for r in rs]
        lines.append("")
    lines += [
        "## Forward-mode AD", "",
        f"**{forward_ad_summary(results)}.**", "",
        "For passing entries torch supports in forward mode, every sample input that requires grad "
        "becomes a dual tensor with a random tangent (torch.autograd.forward_ad in both "
        "libraries) and the outputs' tangents must match torch's (rtol 1e-6, atol 1e-7). Where "
        "they differ, an independent reference decides (rtol 1e-6, atol 1e-7): central finite "
        "differences of torch's function, else J·t built row by row from torch's reverse mode. "
        "An entry whose tangents match it while torch's do not passes and is listed below.", "",
    ]
    failed = [r for r in results if r.forward_ad == "fail"]
    if failed:
        lines += [f"### Failing ({len(failed)})", ""]
        lines += [f"- `{r.entry}`: {r.forward_ad_detail}" for r in failed]
        lines.append("")
    other = [r for r in results if r.forward_ad == "pass" and r.forward_ad_detail]
    if other:
        lines += [f"### Matching a reference where torch's tangent does not ({len(other)})", ""]
        lines += [f"- `{r.entry}`: {r.forward_ad_detail}" for r in other]
        lines.append("")
    skipped = [f"`{r.entry}`" for r in results if r.status == "skip"]
    if skipped:
        lines += ["## Not counted", "", "torch runs these only on GPUs: " + ", ".join(skipped),
                  ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--only", help="comma-separated entry names (e.g. add,div.floor_rounding)")
    p.add_argument("--json", help="also write every entry's result to this JSON file")
    p.add_argument("--samples", type=int, default=8, help="samples per entry (default 8)")
    p.add_argument("--budget", type=float, default=2.0,
                   help="seconds after which an entry starts no new sample (default 2)")
    p.add_argument("--timeout", type=float, default=20.0,
                   help="seconds after which an entry is killed (default 20)")
    p.add_argument("--jobs", type=int, default=None, help="parallel children (default: CPUs)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each entry's result")
    p.add_argument("--no-report", action="store_true",
                   help="do not rewrite docs/conformance.md after a full run")
    args = p.parse_args(argv)
    only = args.only.split(",") if args.only else None
    ops = autograd_entries(only)
    if only and not ops:
        p.error(f"no autograd OpInfo entry named {args.only}")

    def show(r):
        print(f"{r.status:8} {r.entry:45} {r.reason} {r.detail}"[:200], flush=True)

    start = time.monotonic()
    results = run(ops, args.samples, args.budget, args.timeout, args.jobs,
                  progress=show if args.verbose else None)
    print(f"{summary(results)} in {time.monotonic() - start:.0f} s")
    print(forward_ad_summary(results))
    by_family = Counter(r.family for r in results if r.status == "pass")
    print("passing by family: " + ", ".join(f"{f} {n}" for f, n in by_family.most_common()))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    if not only and not args.no_report:
        REPORT.write_text(report(results, args.samples, args.budget))
        print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
