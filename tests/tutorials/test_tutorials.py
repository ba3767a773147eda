"""Programs in the style of PyTorch's own autograd tutorials, run unchanged under torch and under
dyngrad (as `torch`); their printed output must be identical. The ones that draw random numbers
seed them: dyngrad's generator gives PyTorch's numbers."""

import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PROGRAMS = sorted((HERE / "programs").glob("*.py"))


def _run(lib: str, program: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / "run.py"), lib, str(program)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_same_output_as_torch(program):
    ours, theirs = _run("dyngrad", program), _run("torch", program)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
