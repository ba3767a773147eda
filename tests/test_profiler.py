"""dyngrad.autograd.profiler and dyngrad.profiler against torch's: the record_function ranges a
profile records (names, counts, nesting), the table's layout (times masked), schedules and the
steps that reach on_trace_ready, and the errors and warnings."""

import json
import re
import time
import warnings

import pytest
import torch
import torch.autograd.profiler
import torch.profiler

import dyngrad
import dyngrad.autograd.profiler
import dyngrad.profiler
from tests.harness import check_error


def _ap(L):
    return L.autograd.profiler


def _nested(L):
    """outer(inner, inner) then a second outer; no ops run inside (dyngrad records ranges
    only, torch would add aten:: rows)."""
    AP = _ap(L)
    with AP.profile() as prof:
        with AP.record_function("outer_block"):
            with AP.record_function("inner"):
                time.sleep(0.001)
            with AP.record_function("inner"):
                pass
        with AP.record_function("outer_block"):
            pass
    return prof


def _masked(table: str) -> list:
    """The table's cells, line by line, with each time or percentage replaced by "<t>"."""
    return [re.sub(r"\d+\.\d+(us|ms|s|%)", "<t>", line).split() for line in table.splitlines()]


def test_events_and_nesting():
    def run(L):
        prof = _nested(L)
        events = prof.function_events
        return ([e.name for e in events], [e.key for e in events],
                [[c.name for c in e.cpu_children] for e in events],
                [None if e.cpu_parent is None else e.cpu_parent.name for e in events])

    assert run(dyngrad) == run(torch)


def test_key_averages():
    def run(L):
        ka = _nested(L).key_averages()
        return [(e.key, e.count) for e in ka]

    assert run(dyngrad) == run(torch) == [("outer_block", 2), ("inner", 2)]


def test_times_add_up():
    prof = _nested(dyngrad)
    outer = prof.function_events[0]
    inner = outer.cpu_children
    assert outer.cpu_time_total >= sum(c.cpu_time_total for c in inner) > 1000  # us: the sleep
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - sum(c.cpu_time_total for c in inner))
    assert prof.self_cpu_time_total == pytest.approx(
        sum(e.cpu_time_total for e in prof.function_events if e.cpu_parent is None))
    assert prof.total_average().count == 4


@pytest.mark.parametrize("kwargs", [{}, dict(sort_by="count"), dict(row_limit=1),
                                    dict(max_name_column_width=8),
                                    dict(top_level_events_only=True)], ids=str)
@pytest.mark.parametrize("averaged", [True, False])
def test_table_layout(kwargs, averaged):
    def run(L):
        prof = _nested(L)
        events = prof.key_averages() if averaged else prof.function_events
        table = events.table(**kwargs)
        return _masked(table), [len(line) for line in table.splitlines()], table.endswith("\n")

    dg, th = run(dyngrad), run(torch)
    if "sort_by" in kwargs or (not averaged and "row_limit" in kwargs):
        assert dg[1] == th[1]  # equal counts: the order is the timing's
    else:
        assert dg == th


def test_str_is_the_table():
    prof = _nested(dyngrad)
    assert str(prof) == prof.function_events.table()


def test_empty_and_unfinished():
    def run(L):
        AP = _ap(L)
        with AP.profile() as prof:
            pass
        return list(prof.key_averages()), prof.key_averages().table(), repr(AP.profile())

    assert run(dyngrad) == run(torch)


def test_not_reentrant():
    def run(L):
        prof = _ap(L).profile()
        prof.__enter__()
        try:
            prof.__enter__()
        finally:
            prof.__exit__(None, None, None)

    check_error(run)


def test_disabled_profile_records_nothing():
    AP = dyngrad.autograd.profiler
    with AP.profile(enabled=False) as prof:
        with AP.record_function("x"):
            pass
    assert prof is None


def test_record_function_outside_a_profile_and_as_decorator():
    def run(L):
        AP = _ap(L)

        @AP.record_function("deco")
        def f(x):
            return x + 1

        with AP.record_function("alone") as r:
            entered = r is not None
        with AP.profile() as prof:
            f(1)
        return entered, f(2), [e.name for e in prof.function_events]

    assert run(dyngrad) == run(torch)


def test_use_cuda_warnings():
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            prof = _ap(L).profile(use_cuda=True)
        return repr(prof), [(w.category.__name__, str(w.message)) for w in caught]

    assert run(dyngrad) == run(torch)


def test_emit_nvtx_and_itt():
    def enter(ctx):
        with ctx:
            return "entered"

    check_error(lambda L: enter(_ap(L).emit_nvtx()))
    for kwargs in ({"enabled": False},):
        assert enter(dyngrad.autograd.profiler.emit_nvtx(**kwargs)) == enter(
            torch.autograd.profiler.emit_nvtx(**kwargs))
    assert enter(dyngrad.autograd.profiler.emit_itt()) == enter(torch.autograd.profiler.emit_itt())


def test_export_chrome_trace(tmp_path):
    prof = _nested(dyngrad)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert [e["name"] for e in events] == [e.name for e in prof.function_events]
    assert all(e["dur"] >= 0 for e in events)


# --- torch.profiler ----------------------------------------------------------------------------
SCHEDULES = [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1),
             dict(wait=2, warmup=1, active=1, repeat=2, skip_first=1),
             dict(wait=1, warmup=0, active=2, repeat=1, skip_first_wait=1),
             dict(wait=0, warmup=2, active=3, repeat=3)]


@pytest.mark.parametrize("kwargs", SCHEDULES, ids=str)
def test_schedule(kwargs):
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn = L.profiler.schedule(**kwargs)
        return [fn(i).name for i in range(20)], [str(w.message) for w in caught]

    assert run(dyngrad) == run(torch)


@pytest.mark.parametrize("kwargs", [dict(wait=-1, warmup=0, active=1),
                                    dict(wait=0, warmup=0, active=0),
                                    dict(wait=0, warmup=1, active=1, repeat=-1)], ids=str)
def test_schedule_errors(kwargs):
    check_error(lambda L: L.profiler.schedule(**kwargs))


def test_schedule_negative_step():
    check_error(lambda L: L.profiler.schedule(wait=0, warmup=1, active=1)(-1))


@pytest.mark.parametrize("kwargs", [dict(wait=1, warmup=1, active=2),
                                    dict(wait=0, warmup=1, active=1, repeat=2),
                                    dict(wait=1, warmup=0, active=1, skip_first=2)], ids=str)
@pytest.mark.parametrize("acc_events", [False, True])
def test_profile_with_schedule(kwargs, acc_events):
    def run(L):
        P = L.profiler
        seen = []

        def ready(prof):
            seen.append((prof.step_num, [e.key for e in prof.events()]))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with P.profile(schedule=P.schedule(**kwargs), on_trace_ready=ready,
                           acc_events=acc_events) as prof:
                for _ in range(8):
                    with P.record_function("work"):
                        pass
                    prof.step()
        return seen, prof.step_num, prof.current_action.name

    assert run(dyngrad) == run(torch)


def test_profile_without_schedule():
    def run(L):
        P = L.profiler
        seen = []
        with P.profile(activities=[P.ProfilerActivity.CPU],
                       on_trace_ready=lambda p: seen.append([e.key for e in p.events()])) as prof:
            for _ in range(3):
                with P.record_function("work"):
                    pass
                prof.step()
        return seen, prof.step_num, [(e.key, e.count) for e in prof.key_averages()]

    assert run(dyngrad) == run(torch)


def test_profiler_enums_and_activities():
    for name in ("CPU", "CUDA", "XPU", "MTIA", "HPU", "PrivateUse1"):
        assert hasattr(dyngrad.profiler.ProfilerActivity, name)
        assert hasattr(torch.profiler.ProfilerActivity, name)
    for action in ("NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE"):
        assert (getattr(dyngrad.profiler.ProfilerAction, action).value
                == getattr(torch.profiler.ProfilerAction, action).value)
    assert {a.name for a in dyngrad.profiler.supported_activities()} == {
        a.name for a in torch.profiler.supported_activities()}
    assert dyngrad.profiler.record_function is dyngrad.autograd.profiler.record_function


def test_tensorboard_trace_handler(tmp_path):
    P = dyngrad.profiler
    with P.profile(on_trace_ready=P.tensorboard_trace_handler(str(tmp_path), "worker0")):
        with P.record_function("work"):
            pass
    (path,) = tmp_path.iterdir()
    assert path.name.startswith("worker0.") and path.name.endswith(".pt.trace.json")
    assert [e["name"] for e in json.loads(path.read_text())["traceEvents"]] == ["work"]
