"""Run every seed snippet under one library and print the results as JSON.

    python tests/seed/runner.py torch      # the real PyTorch
    python tests/seed/runner.py dyngrad    # dyngrad, installed as `torch` in sys.modules

With "dyngrad", `sys.modules["torch"]` (and `torch.autograd`, ...) are dyngrad's modules before
any snippet runs, so the snippets' own `import torch` lines run unchanged. Each snippet runs in a
fresh namespace of this one process (one interpreter start per library keeps the test fast).

* `snippets/*.py` are the article's code blocks, verbatim. A block that is a fragment of the one
  before it (`out.backward(...)`) runs after a prologue given in CONTEXT, and may have an epilogue
  that prints what it changed; both are listed below, outside the verbatim text.
* `snippets/*.pycon` are the article's REPL transcripts (`>>>` lines). They run as one session,
  statement by statement; an exception is shown as a REPL shows it (its last traceback line) and
  the session goes on. The transcript's other lines are the output the article expected.
* `variants/*.py` spell out the behaviours the article describes in prose (and its two typos
  corrected); each says at its top what it checks.

Output per snippet: {"stdout": ..., "error": "Type: message" or null, "warnings": [...]}.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import sys
import warnings

HERE = pathlib.Path(__file__).resolve().parent
SNIPPETS = HERE / "snippets"
VARIANTS = HERE / "variants"

# fragment -> (files whose code runs first, in the same namespace; extra prologue; epilogue)
CONTEXT = {
    "09_gradient_none.py": (["08_backward_example.py"], "import torch\n", "print(a.grad)\n"),
    "10_gradient_tensor_typo.py": (["08_backward_example.py"], "import torch\n", ""),
}


def install(lib: str) -> None:
    """Make `import torch` give `lib`."""
    if lib == "dyngrad":
        sys.path.insert(0, str(HERE.parents[1]))
        import dyngrad

        sys.modules["torch"] = dyngrad
        for name, module in list(sys.modules.items()):
            if name.startswith("dyngrad."):
                sys.modules["torch." + name.removeprefix("dyngrad.")] = module
    else:
        import torch  # noqa: F401 - loaded now so that its start-up is not inside a snippet


def _error_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def _warning_line(w) -> str:
    text = str(w.message).split(" (Triggered internally at")[0]
    return f"{w.category.__name__}: {text}"


def _run_script(path: pathlib.Path) -> dict:
    before, prologue, epilogue = CONTEXT.get(path.name, ([], "", ""))
    sources = [(SNIPPETS / p).read_text("utf-8") for p in before] + [prologue]
    sources += [path.read_text("utf-8"), epilogue]
    names = [*before, "prologue", path.name, "epilogue"]
    ns = {"__name__": "__main__"}
    out, error = io.StringIO(), None
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for name, src in zip(names, sources, strict=True):
                exec(compile(src, name, "exec"), ns)
        except Exception as e:  # noqa: BLE001 - the error is the result
            error = _error_line(e)
    return {"stdout": out.getvalue(), "error": error,
            "warnings": [_warning_line(w) for w in caught]}


def _run_session(paths: list) -> dict:
    """REPL transcripts: one namespace, statement by statement, errors shown and survived."""
    ns = {"__name__": "__main__"}
    results = {}
    for path in paths:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for line in path.read_text("utf-8").splitlines():
                if not line.startswith(">>>"):
                    continue
                try:
                    exec(compile(line[3:].strip(), path.name, "single"), ns)
                except Exception as e:  # noqa: BLE001 - shown as a REPL shows it
                    print(_error_line(e))
        results[path.name] = {"stdout": out.getvalue(), "error": None,
                              "warnings": [_warning_line(w) for w in caught]}
    return results


def run_all() -> dict:
    results = {}
    results.update(_run_session(sorted(SNIPPETS.glob("*.pycon"))))
    for path in sorted(SNIPPETS.glob("*.py")) + sorted(VARIANTS.glob("*.py")):
        results[f"{path.parent.name}/{path.name}"] = _run_script(path)
    return {k if "/" in k else f"snippets/{k}": v for k, v in results.items()}


if __name__ == "__main__":
    install(sys.argv[1])
    json.dump(run_all(), sys.stdout, ensure_ascii=False, indent=1)
