"""Run one tutorial program with `import torch` meaning torch or dyngrad: `run.py LIB FILE`."""

import pathlib
import runpy
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "seed"))
from runner import install  # noqa: E402 - the seed runner's sys.modules shim

install(sys.argv[1])
runpy.run_path(sys.argv[2], run_name="__main__")
