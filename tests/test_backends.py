"""dyngrad.backends against torch.backends: flag defaults, what assigning them accepts and the
errors otherwise, the flags() context managers, and the availability checks (equal to torch's,
except the CPU libraries dyngrad does not call: oneDNN, MKL, OpenMP)."""

import pytest
import torch

import dyngrad
import dyngrad.backends
from tests.harness import check_error

FLAGS = {
    "cudnn": ["enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit"],
    "mkldnn": ["enabled", "deterministic"],
    "opt_einsum": ["enabled", "strategy"],
}
MATMUL = ["allow_tf32", "allow_fp16_reduced_precision_reduction",
          "allow_bf16_reduced_precision_reduction", "allow_fp16_accumulation"]


@pytest.fixture(autouse=True)
def _torch_flags_mutable():
    """torch.testing._internal (imported by tests/conformance.py in the same session) freezes
    torch's global backend flags; the comparisons here set them, as a user script would."""
    with getattr(torch.backends, "__allow_nonbracketed_mutation")():
        yield


@pytest.fixture(autouse=True)
def _restore_flags(_torch_flags_mutable):
    """Every flag back to its value before the test, in both libraries."""
    saved = []
    for lib in (dyngrad, torch):
        for mod, names in FLAGS.items():
            saved += [(getattr(lib.backends, mod), n, getattr(getattr(lib.backends, mod), n))
                      for n in names]
        saved += [(lib.backends.cuda.matmul, n, getattr(lib.backends.cuda.matmul, n))
                  for n in MATMUL]
        saved += [(lib, "precision", lib.get_float32_matmul_precision())]
    sdp = {lib: [getattr(lib.backends.cuda, f"{k}_sdp_enabled")()
                 for k in ("flash", "mem_efficient", "math", "cudnn")] for lib in (dyngrad, torch)}
    fastpath = {lib: lib.backends.mha.get_fastpath_enabled() for lib in (dyngrad, torch)}
    yield
    for obj, name, value in saved:
        if name == "precision":
            obj.set_float32_matmul_precision(value)
        else:
            setattr(obj, name, value)
    for lib, values in sdp.items():
        for k, v in zip(("flash", "mem_efficient", "math", "cudnn"), values, strict=True):
            getattr(lib.backends.cuda, f"enable_{k}_sdp")(v)
    for lib, value in fastpath.items():
        lib.backends.mha.set_fastpath_enabled(value)


@pytest.mark.parametrize("mod,name", [(m, n) for m, ns in FLAGS.items() for n in ns])
def test_flag_default(mod, name):
    dg = getattr(getattr(dyngrad.backends, mod), name)
    th = getattr(getattr(torch.backends, mod), name)
    assert type(dg) is type(th) and dg == th


@pytest.mark.parametrize("name", MATMUL)
def test_matmul_default(name):
    assert getattr(dyngrad.backends.cuda.matmul, name) == getattr(torch.backends.cuda.matmul, name)


BOOL_FLAGS = [("cudnn", n) for n in ("enabled", "benchmark", "deterministic", "allow_tf32")]
BOOL_FLAGS += [("mkldnn", n) for n in ("enabled", "deterministic")]


@pytest.mark.parametrize("mod,name", BOOL_FLAGS)
@pytest.mark.parametrize("value", [True, False])
def test_bool_flag_set(mod, name, value):
    for lib in (dyngrad, torch):
        setattr(getattr(lib.backends, mod), name, value)
    assert getattr(getattr(dyngrad.backends, mod), name) is value


@pytest.mark.parametrize("mod,name", BOOL_FLAGS)
@pytest.mark.parametrize("value", [1, "x", None])
def test_bool_flag_rejects(mod, name, value):
    check_error(lambda L: setattr(getattr(L.backends, mod), name, value))
    assert getattr(getattr(dyngrad.backends, mod), name) == getattr(getattr(torch.backends, mod),
                                                                     name)


@pytest.mark.parametrize("name", ["benchmark_limit"])
def test_plain_cudnn_attribute(name):
    for lib in (dyngrad, torch):
        setattr(lib.backends.cudnn, name, 5)
    assert dyngrad.backends.cudnn.benchmark_limit == torch.backends.cudnn.benchmark_limit == 5


def _flags_seen(m):
    m.enabled, m.deterministic = True, True
    seen = []
    with m.flags(enabled=False):
        seen.append((m.enabled, m.deterministic))
    seen.append((m.enabled, m.deterministic))
    return seen


def test_cudnn_flags_context_manager():
    assert (_flags_seen(dyngrad.backends.cudnn) == _flags_seen(torch.backends.cudnn)
            == [(False, False), (True, True)])


def test_mkldnn_flags_context_manager():
    """As cudnn.flags (torch's mkldnn.flags also sets oneDNN's TF32 switch, which mixes torch's
    matmul-precision state for the tests after: not run on torch here)."""
    assert _flags_seen(dyngrad.backends.mkldnn) == [(False, False), (True, True)]


def test_cudnn_flags_rejects_non_bool_and_restores():
    check_error(lambda L: L.backends.cudnn.flags(enabled=1).__enter__())
    assert dyngrad.backends.cudnn.enabled is torch.backends.cudnn.enabled is True


def test_matmul_allow_tf32_is_the_float32_matmul_precision():
    def run(L):
        m = L.backends.cuda.matmul
        out = [m.allow_tf32, L.get_float32_matmul_precision()]
        m.allow_tf32 = True
        out += [m.allow_tf32, L.get_float32_matmul_precision()]
        m.allow_tf32 = False
        out += [m.allow_tf32, L.get_float32_matmul_precision()]
        L.set_float32_matmul_precision("medium")
        out.append(m.allow_tf32)
        L.set_float32_matmul_precision("highest")
        out.append(m.allow_tf32)
        return out

    assert run(dyngrad) == run(torch) == [False, "highest", True, "high", False, "highest", True,
                                          False]


@pytest.mark.parametrize("name,value", [
    ("allow_fp16_reduced_precision_reduction", (False, True)),
    ("allow_bf16_reduced_precision_reduction", [False]),
    ("allow_fp16_reduced_precision_reduction", False),
    ("allow_fp16_accumulation", True),
])
def test_matmul_set(name, value):
    for lib in (dyngrad, torch):
        setattr(lib.backends.cuda.matmul, name, value)
    assert getattr(dyngrad.backends.cuda.matmul, name) == getattr(torch.backends.cuda.matmul,
                                                                  name)


@pytest.mark.parametrize("name,value", [
    ("allow_tf32", 1), ("allow_fp16_accumulation", "x"),
    ("allow_fp16_reduced_precision_reduction", 1),
    ("allow_bf16_reduced_precision_reduction", None),
    ("allow_fp16_reduced_precision_reduction", (1, True)),
    ("allow_fp16_reduced_precision_reduction", (True, True, True)),
    ("no_such_flag", True),
])
def test_matmul_set_rejects(name, value):
    check_error(lambda L: setattr(L.backends.cuda.matmul, name, value))


def test_matmul_unknown_attribute():
    check_error(lambda L: L.backends.cuda.matmul.no_such_flag)


@pytest.mark.parametrize("kernel", ["flash", "mem_efficient", "math", "cudnn"])
def test_sdp_switches(kernel):
    def run(L):
        c = L.backends.cuda
        before = getattr(c, f"{kernel}_sdp_enabled")()
        getattr(c, f"enable_{kernel}_sdp")(False)
        return before, getattr(c, f"{kernel}_sdp_enabled")()

    assert run(dyngrad) == run(torch) == (True, False)
    check_error(lambda L: getattr(L.backends.cuda, f"enable_{kernel}_sdp")(1))


@pytest.mark.parametrize("call", [
    lambda L: L.backends.cudnn.is_available(),
    lambda L: L.backends.cudnn.version(),
    lambda L: L.backends.cudnn.is_acceptable(L.ones(1)),
    lambda L: L.backends.mps.is_available(),
    lambda L: L.backends.mps.is_built(),
    lambda L: L.backends.cuda.is_built(),
    lambda L: L.backends.opt_einsum.is_available(),
    lambda L: L.backends.opt_einsum.get_opt_einsum(),
    lambda L: L.backends.mha.get_fastpath_enabled(),
    lambda L: (L.backends.mkl.VERBOSE_OFF, L.backends.mkl.VERBOSE_ON),
    lambda L: (L.backends.mkldnn.VERBOSE_OFF, L.backends.mkldnn.VERBOSE_ON,
               L.backends.mkldnn.VERBOSE_ON_CREATION),
], ids=["cudnn_available", "cudnn_version", "cudnn_acceptable", "mps_available", "mps_built",
        "cuda_built", "opt_einsum_available", "get_opt_einsum", "mha_fastpath", "mkl_levels",
        "mkldnn_levels"])
def test_same_answer(call):
    assert call(dyngrad) == call(torch)


def test_cudnn_is_acceptable_of_a_non_tensor():
    check_error(lambda L: L.backends.cudnn.is_acceptable(3))


@pytest.mark.parametrize("mod", ["mkldnn", "mkl", "openmp"])
def test_cpu_libraries_dyngrad_does_not_use(mod):
    """A deliberate difference: PyTorch's CPU build has them, dyngrad computes with NumPy."""
    assert getattr(torch.backends, mod).is_available() is True
    assert getattr(dyngrad.backends, mod).is_available() is False


@pytest.mark.parametrize("mod", ["mkl", "mkldnn"])
def test_verbose(mod):
    def run(L, level):
        with getattr(L.backends, mod).verbose(level):
            return "ran"

    assert run(dyngrad, 0) == run(torch, 0) == "ran"
    check_error(lambda L: run(L, 5))


def test_mha_fastpath_switch():
    for lib in (dyngrad, torch):
        lib.backends.mha.set_fastpath_enabled(False)
    assert dyngrad.backends.mha.get_fastpath_enabled() is torch.backends.mha.get_fastpath_enabled()
    assert dyngrad.backends.mha.get_fastpath_enabled() is False


def test_opt_einsum_attributes_are_plain():
    for lib in (dyngrad, torch):
        lib.backends.opt_einsum.strategy = "greedy"
    assert dyngrad.backends.opt_einsum.strategy == torch.backends.opt_einsum.strategy == "greedy"
