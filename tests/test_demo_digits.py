"""The digits demo end to end on a small budget (4 epochs, about 15 s on two cores)."""

import os

import dyngrad
from dyngrad import demo_digits


def test_trains_saves_reloads_and_plots(tmp_path):
    result = demo_digits.main(epochs=4, quiet=True, out_dir=str(tmp_path))
    assert result["test_accuracy"] >= 0.93  # the full 12-epoch run reaches ~98%
    assert result["reloaded_accuracy"] == result["test_accuracy"]
    assert result["history"]["loss"][-1] < result["history"]["loss"][0] / 3
    state = dyngrad.load(result["checkpoint"])
    assert set(state) == set(demo_digits.make_model().state_dict())
    assert os.path.getsize(result["plot"]) > 10_000
