"""`torch.profiler`: the profiler API with activities, schedules and trace handlers.

It drives `dyngrad.autograd.profiler.profile` through PyTorch's wait/warmup/active schedule:
`step()` moves between recording cycles and `on_trace_ready` receives each finished one. Only
`record_function` ranges (and the `ProfilerStep#N` range of each step under a schedule) are
recorded: dyngrad's operators are not instrumented, and there is no device activity.
"""

from __future__ import annotations

import enum
import os
import socket
import time
import warnings

from dyngrad.autograd import profiler as _autograd_profiler
from dyngrad.autograd.profiler import record_function

__all__ = ["ProfilerAction", "ProfilerActivity", "kineto_available", "profile",
           "record_function", "schedule", "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does during a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    return {ProfilerActivity.CPU}


def kineto_available() -> bool:
    """False: dyngrad records with its own timer, not PyTorch's Kineto library."""
    return False


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """The step -> ProfilerAction function of a cycle of `wait` idle, `warmup` and `active`
    steps, after `skip_first` steps, `repeat` times (0: forever)."""

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False):
    """An `on_trace_ready` handler writing each trace as `<worker>.<ns>.pt.trace.json` in
    `dir_name`."""

    def handler_fn(prof) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler_fn


_A = ProfilerAction
_warned = {"clears": False}  # PyTorch gives that warning once per process


class profile:
    """Context manager (or start/stop) that records `record_function` ranges, by steps under a
    `schedule` when one is given."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback=None, post_processing_timeout_s: float | None = None):
        self.activities = set(activities) if activities else supported_activities()
        self.record_shapes = record_shapes
        self.acc_events = acc_events
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.profiler: _autograd_profiler.profile | None = None
        self.step_rec_fn: record_function | None = None
        self.action_map = {
            (_A.NONE, _A.WARMUP): [self.prepare_trace],
            (_A.NONE, _A.RECORD): [self.prepare_trace, self.start_trace],
            (_A.NONE, _A.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (_A.WARMUP, _A.NONE): [self._warn("WARMUP", "NONE"), self.start_trace,
                                   self.stop_trace],
            (_A.WARMUP, _A.RECORD): [self.start_trace],
            (_A.WARMUP, _A.RECORD_AND_SAVE): [self.start_trace],
            (_A.RECORD, _A.NONE): [self._warn("RECORD", "NONE"), self.stop_trace],
            (_A.RECORD, _A.WARMUP): [self._warn("RECORD", "WARMUP"), self.stop_trace],
            (_A.RECORD_AND_SAVE, _A.NONE): [self.stop_trace, self._trace_ready],
            (_A.RECORD_AND_SAVE, _A.WARMUP): [self.stop_trace, self._trace_ready,
                                              self.prepare_trace],
            (_A.RECORD_AND_SAVE, _A.RECORD): [self.stop_trace, self._trace_ready,
                                              self.prepare_trace, self.start_trace],
            (_A.RECORD_AND_SAVE, _A.RECORD_AND_SAVE): [self.stop_trace, self._trace_ready,
                                                       self.prepare_trace, self.start_trace],
            (_A.WARMUP, None): [self.start_trace, self.stop_trace],
            (_A.RECORD, None): [self.stop_trace, self._trace_ready],
            (_A.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
        }

    @staticmethod
    def _warn(prev: str, current: str):
        return lambda: warnings.warn(f"Incorrect schedule: {prev} followed by {current}",
                                     stacklevel=4)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def start(self) -> None:
        self._transit_action(_A.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def stop(self) -> None:
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self) -> None:
        """Start the next step: per the schedule, begin or end a recording cycle."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _transit_action(self, prev_action, current_action) -> None:
        for action in self.action_map.get((prev_action, current_action), ()):
            action()

    def prepare_trace(self) -> None:
        if self.profiler is not None and not self.acc_events and not _warned["clears"]:
            _warned["clears"] = True
            warnings.warn(
                "Warning: Profiler clears events at the end of each cycle. Only events from the "
                "current cycle will be reported. To keep events across cycles, set "
                "acc_events=True.", stacklevel=2,
            )
        if self.profiler is None or not self.acc_events:
            self.profiler = _autograd_profiler.profile(record_shapes=self.record_shapes)

    def start_trace(self) -> None:
        self.profiler._start_trace()

    def stop_trace(self) -> None:
        self.profiler.__exit__(None, None, None)

    def _trace_ready(self) -> None:
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _profiler(self):
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before getting key averages")
        return self.profiler

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False):
        return self._profiler().key_averages(group_by_input_shape, group_by_stack_n,
                                             group_by_overload_name)

    def events(self):
        """The events of the last finished cycle."""
        return self._profiler().function_events

    def export_chrome_trace(self, path: str) -> None:
        self._profiler().export_chrome_trace(path)
