"""Smoke tests: each example runs end to end on a tiny budget (the full runs take minutes)."""

import importlib.util
import math
import pathlib
import re

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_char_transformer(capsys):
    result = load("char_transformer").main(steps=4, batch_size=4, log_every=2, sample_chars=20)
    assert result["sample"].startswith("Shall I ") and len(result["sample"]) == 28
    assert all(math.isfinite(loss) for _, loss, _ in result["history"])
    assert result["history"][-1][1] < result["history"][0][1]
    assert "--- sample ---" in capsys.readouterr().out


def test_lstm_sequence():
    result = load("lstm_sequence").main(epochs=2, quiet=True)
    assert result["history"][-1][0] < result["history"][0][0]
    assert math.isfinite(result["forecast_error"])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_converted_pytorch_script(capsys):
    test_acc, restored_acc = load("converted_pytorch_script").main(epochs=3)
    assert test_acc == restored_acc and test_acc > 0.5
    assert "restored from" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_converted_script_prints_what_pytorch_prints(capsys):
    """The converted script, run again with its four imports turned back into torch's: seeded
    data, split, initialisation, shuffling and dropout are PyTorch's, so the printed test losses
    and accuracies agree digit for digit."""
    source = (EXAMPLES / "converted_pytorch_script.py").read_text()
    torch_source = source
    for ours, theirs in (("import dyngrad as torch", "import torch"),
                         ("import dyngrad.nn", "import torch.nn"),
                         ("from dyngrad.utils.data", "from torch.utils.data")):
        torch_source = torch_source.replace(ours, theirs)
    printed = []
    for code in (source, torch_source):
        namespace = {"__name__": "converted"}
        exec(compile(code, "converted_pytorch_script.py", "exec"), namespace)  # noqa: S102
        namespace["main"](epochs=10)
        printed.append(re.sub(r"restored from \S+", "restored", capsys.readouterr().out))
    assert "import torch\n" in torch_source and "import dyngrad" not in torch_source
    assert printed[0] == printed[1] and "epoch  10  test loss" in printed[0]
