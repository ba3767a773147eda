"""dyngrad.quasirandom.SobolEngine against torch.quasirandom.SobolEngine: unscrambled points equal
value for value (Joe & Kuo's direction numbers, up to dyngrad's 1111 dimensions), through draw,
draw_base2, fast_forward, reset and out=; scrambled points (dyngrad's random bits) keep the
Sobol' stratification and repeat for a seed."""

import numpy as np
import pytest
import torch
import torch.quasirandom

import dyngrad
import dyngrad.quasirandom
from tests.harness import check_error


def _engines(dim, **kwargs):
    return (dyngrad.quasirandom.SobolEngine(dim, **kwargs),
            torch.quasirandom.SobolEngine(dim, **kwargs))


def _eq(dg, th):
    assert str(dg.dtype) == str(th.dtype) and tuple(dg.shape) == tuple(th.shape)
    np.testing.assert_array_equal(dg.numpy(), th.numpy())


@pytest.mark.parametrize("dim", [1, 2, 3, 7, 21, 100, 1111])
def test_direction_numbers(dim):
    dg, th = _engines(dim)
    _eq(dg.sobolstate, th.sobolstate)


@pytest.mark.parametrize("dim", [1, 2, 5, 40, 1111])
def test_draws(dim):
    dg, th = _engines(dim)
    for n, dtype in [(1, None), (5, None), (3, "float64"), (257, None), (0, None), (2, "float32")]:
        kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        dkw = {} if dtype is None else {"dtype": getattr(dyngrad, dtype)}
        _eq(dg.draw(n, **dkw), th.draw(n, **kw))
    assert dg.num_generated == th.num_generated


def test_first_draw_of_many():
    dg, th = _engines(6)
    _eq(dg.draw(1000, dtype=dyngrad.float64), th.draw(1000, dtype=torch.float64))


def test_default_dtype_float64():
    for lib in (dyngrad, torch):
        lib.set_default_dtype(lib.float64)
    dg, th = _engines(3)
    _eq(dg.draw(9), th.draw(9))


@pytest.mark.parametrize("skip", [1, 2, 7, 1000])
@pytest.mark.parametrize("drawn_before", [0, 1, 5])
def test_fast_forward(skip, drawn_before):
    dg, th = _engines(4)
    if drawn_before:
        _eq(dg.draw(drawn_before), th.draw(drawn_before))
    assert dg.fast_forward(skip) is dg
    th.fast_forward(skip)
    assert dg.num_generated == th.num_generated
    _eq(dg.draw(6), th.draw(6))


def test_reset():
    dg, th = _engines(3)
    dg.draw(10)
    th.draw(10)
    assert dg.reset() is dg
    th.reset()
    assert dg.num_generated == 0
    _eq(dg.draw(4), th.draw(4))


def test_draw_base2():
    dg, th = _engines(3)
    _eq(dg.draw_base2(3), th.draw_base2(3))
    _eq(dg.draw_base2(3), th.draw_base2(3))
    dg.reset()
    th.reset()
    dg.draw(3)
    th.draw(3)
    check_error(lambda: dg.draw_base2(2), lambda: th.draw_base2(2))


def test_out():
    dg, th = _engines(2)
    dg_out, th_out = dyngrad.empty(0), torch.empty(0)
    assert dg.draw(3, out=dg_out) is dg_out
    th.draw(3, out=th_out)
    _eq(dg_out, th_out)


@pytest.mark.parametrize("kwargs", [dict(), dict(scramble=True), dict(scramble=True, seed=3),
                                    dict(seed=5)], ids=str)
def test_repr(kwargs):
    dg, th = _engines(3, **kwargs)
    assert repr(dg) == repr(th)


@pytest.mark.parametrize("dim", [0, -1, 21202])
def test_dimension_range(dim):
    check_error(lambda L: L.quasirandom.SobolEngine(dim))


def test_dimensions_beyond_dyngrads_table():
    """A deliberate difference: dyngrad carries Joe & Kuo's numbers for 1111 dimensions."""
    torch.quasirandom.SobolEngine(1112)
    with pytest.raises(NotImplementedError, match="1111"):
        dyngrad.quasirandom.SobolEngine(1112)


@pytest.mark.parametrize("m", [4, 6])
def test_scrambled_points_keep_their_stratification(m):
    """Every coordinate of 2**m scrambled points has exactly one point in each 1/2**m bin, as
    torch's have."""
    for engine in _engines(5, scramble=True, seed=7):
        x = engine.draw_base2(m).numpy()
        bins = np.sort(np.floor(x * 2**m), axis=0)
        np.testing.assert_array_equal(bins, np.repeat(np.arange(2**m)[:, None], 5, axis=1))


def test_scrambled_points_repeat_for_a_seed():
    a = dyngrad.quasirandom.SobolEngine(4, scramble=True, seed=11).draw(20)
    b = dyngrad.quasirandom.SobolEngine(4, scramble=True, seed=11).draw(20)
    c = dyngrad.quasirandom.SobolEngine(4, scramble=True, seed=12).draw(20)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    assert (a.numpy() >= 0).all() and (a.numpy() < 1).all()


def test_scrambled_first_point_is_the_shift():
    dg, th = _engines(3, scramble=True, seed=1)
    for engine, lib in ((dg, dyngrad), (th, torch)):
        first = engine.draw(1, dtype=lib.float64).numpy()
        expected = (engine.shift.numpy() / 2**30).astype(np.float32)  # the default dtype's
        np.testing.assert_array_equal(first[0], expected.astype(np.float64))
        assert str(engine.shift.dtype) == "torch.int64"


def test_scrambled_unseeded_follows_the_global_seed():
    dyngrad.manual_seed(9)
    a = dyngrad.quasirandom.SobolEngine(2, scramble=True).draw(4)
    dyngrad.manual_seed(9)
    b = dyngrad.quasirandom.SobolEngine(2, scramble=True).draw(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
