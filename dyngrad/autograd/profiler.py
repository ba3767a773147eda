"""`torch.autograd.profiler`: `profile` and `record_function`.

A `profile` times the `record_function` ranges that run inside it (wall time, microseconds)
and reports them as PyTorch does: `key_averages().table()`, `function_events`,
`total_average()`, `export_chrome_trace`. dyngrad's operators are not instrumented, so only
the named ranges appear (no `aten::mm` rows); wrap the code to measure in `record_function`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import warnings

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "emit_itt", "emit_nvtx", "profile",
           "record_function"]

_active: list = []  # the event lists of the profiles now recording
_ids = itertools.count(1)


def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class record_function(contextlib.ContextDecorator):
    """A named range (context manager or decorator); inside a `profile` it becomes an event."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._start = None

    def __enter__(self):
        self._start = time.perf_counter_ns() if _active else None
        return self

    def __exit__(self, *exc) -> bool:
        if self._start is not None:
            end = time.perf_counter_ns()
            for events in _active:
                events.append((self.name, self._start, end, threading.get_ident()))
            self._start = None
        return False


class FunctionEvent:
    """One timed range: its name, times (microseconds) and the ranges nested in it."""

    def __init__(self, id: int, name: str, thread: int, start_us: float,  # noqa: A002
                 end_us: float):
        self.id, self.name, self.thread = id, name, thread
        self.start_us, self.end_us = start_us, end_us
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.count = 1
        self.input_shapes: list = []
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.device_time_total = self.self_device_time_total = 0.0
        self.is_user_annotation = True

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count

    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} "
                f"cpu_time={_format_time(self.cpu_time)} start_us={self.start_us:.3f} "
                f"end_us={self.end_us:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread}>")


class FunctionEventAvg:
    """The events of one name, added up."""

    def __init__(self, key: str):
        self.key = key
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.device_time_total = self.self_device_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.cpu_parent = None

    def add(self, other) -> FunctionEventAvg:
        if self.count == 0:  # a name's first event decides whether it is top-level
            self.cpu_parent = other.cpu_parent
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} "
                f"self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)}  self_cuda_time=0.000us "
                f"cuda_time=0.000us input_shapes={self.input_shapes or ''} cpu_memory_usage=0 "
                "cuda_memory_usage=0>")


class EventList(list):
    """A list of events with PyTorch's reports."""

    def __str__(self) -> str:
        return self.table()

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """One `FunctionEventAvg` per name, in order of first appearance."""
        groups: dict = {}
        for e in self:
            groups.setdefault(e.key, FunctionEventAvg(e.key)).add(e)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's table: a row per event (name, self and total CPU time, calls)."""
        if not self:
            return ""
        events = list(self)
        if sort_by is not None:
            events.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        name_width = max(len(e.key) for e in self) + 4
        if max_name_column_width is not None:
            name_width = min(name_width, max_name_column_width)
        titles = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                  "# of Calls"]
        widths = [name_width] + [12] * (len(titles) - 1)
        total = self.self_cpu_time_total

        def line(cells) -> str:
            return "".join(f"{c:>{w}}  " for c, w in zip(cells, widths, strict=True)) + "\n"

        sep = "".join("-" * w + "  " for w in widths) + "\n"
        out = []
        if header is not None:
            out.append("=" * (sum(widths) + 2 * (len(widths) - 1)) + f"\n{header}\n")
        if top_level_events_only:
            out.append("=" * (sum(widths) + 2 * (len(widths) - 1))
                       + "\nThis report only display top-level ops statistics\n")
        out += [sep, line(titles), sep]
        shown = [e for e in events if not (top_level_events_only and e.cpu_parent is not None)]
        for e in shown[:row_limit] if row_limit > 0 else shown:
            name = e.key
            if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
                name = name[: max_name_column_width - 3] + "..."
            out.append(line([
                name, f"{100 * e.self_cpu_time_total / total:.2f}%",
                _format_time(e.self_cpu_time_total), f"{100 * e.cpu_time_total / total:.2f}%",
                _format_time(e.cpu_time_total), _format_time(e.cpu_time), str(e.count),
            ]))
        out += [sep, f"Self CPU time total: {_format_time(total)}\n"]
        return "".join(out)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace (chrome://tracing, Perfetto)."""
        trace = {"traceEvents": [
            {"ph": "X", "cat": "user_annotation", "name": e.name, "pid": 0, "tid": e.thread,
             "ts": e.start_us, "dur": e.cpu_time_total} for e in self
        ]}
        with open(path, "w") as f:
            json.dump(trace, f)


def _build_events(raw: list, origin_ns: int) -> EventList:
    """FunctionEvents from (name, start_ns, end_ns, thread) records, nested by time per
    thread, in order of start (the profiler's step ranges all named "ProfilerStep*", as
    PyTorch names them)."""
    events = EventList(
        FunctionEvent(next(_ids), "ProfilerStep*" if name.startswith("ProfilerStep#") else name,
                      thread, (s - origin_ns) / 1e3, (e - origin_ns) / 1e3)
        for name, s, e, thread in sorted(raw, key=lambda r: (r[1], -r[2]))
    )
    open_ranges: dict = {}
    for ev in events:
        stack = open_ranges.setdefault(ev.thread, [])
        while stack and stack[-1].end_us <= ev.start_us:
            stack.pop()
        if stack:
            ev.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(ev)
        stack.append(ev)
    return events


class profile:
    """Context manager that records the `record_function` ranges run inside it."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None,
                 record_shapes: bool = False, with_flops: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config=None, acc_events: bool = False,
                 custom_trace_id_callback=None):
        self.enabled = enabled
        self.record_shapes = record_shapes
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        if use_device == "cuda":
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
            use_device = None
        self.use_device = use_device
        self.entered = False
        self._raw: list = []
        self._origin_ns = time.perf_counter_ns()
        self._function_events: EventList | None = None

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._start_trace()
        return self

    def _start_trace(self) -> None:
        self.entered = True
        if not self._recording():
            _active.append(self._raw)

    def _recording(self) -> bool:
        return any(events is self._raw for events in _active)

    def __exit__(self, *exc) -> bool:
        if not self.enabled:
            return False
        if self._recording():
            del _active[next(i for i, ev in enumerate(_active) if ev is self._raw)]
        self._function_events = _build_events(self._raw, self._origin_ns)
        return False

    def __repr__(self) -> str:
        if self._function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self._function_events)

    def __str__(self) -> str:
        if self._function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self._function_events)

    @property
    def function_events(self) -> EventList:
        """The recorded events (empty until the profile has finished)."""
        return EventList() if self._function_events is None else self._function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def table(self, *args, **kwargs) -> str:
        return self.function_events.table(*args, **kwargs)

    def total_average(self) -> FunctionEventAvg:
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        return self.function_events.self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        self.function_events.export_chrome_trace(path)


class emit_nvtx:
    """NVTX ranges for NVIDIA's profilers: entering it needs CUDA, as in PyTorch."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False):
        self.enabled = enabled
        self.record_shapes = record_shapes

    def __enter__(self):
        if self.enabled:
            raise AssertionError("Torch not compiled with CUDA enabled")
        return None

    def __exit__(self, *exc) -> bool:
        return False


class emit_itt:
    """Intel ITT ranges for VTune: dyngrad emits none, so this does nothing."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False):
        self.enabled = enabled
        self.record_shapes = record_shapes

    def __enter__(self):
        return None

    def __exit__(self, *exc) -> bool:
        return False
