"""`torch.utils.checkpoint`: trade compute for memory by recomputing activations in backward.

Two variants, as in PyTorch:

* reentrant (`use_reentrant=True`, still the default): the checkpointed function runs under
  no_grad inside a custom Function; its backward reruns it with grad on and backpropagates
  through the fresh graph (a backward inside the backward). The output's grad_fn is
  `CheckpointFunctionBackward`.
* non-reentrant (`use_reentrant=False`): the function runs normally but under saved-tensor hooks
  that keep only a counter for each tensor an op saves. The first time backward needs one, the
  function is rerun (grad on, inputs detached) under hooks that capture what it saves, in the same
  order. The graph is the ordinary one, so `autograd.grad` and `backward(inputs=...)` work.

With `preserve_rng_state=True` (the default) the recomputation starts from the random-number
state the forward started from, so dropout and friends draw the same numbers twice.
"""

from __future__ import annotations

import contextlib
import warnings

from dyngrad._tensor import Tensor
from dyngrad.autograd import grad_mode
from dyngrad.autograd.function import Function
from dyngrad.autograd.graph import saved_tensors_hooks
from dyngrad.autograd.node import engine_state
from dyngrad.ops.random import fork_rng, get_rng_state, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """Raised when recomputation does not reproduce the forward pass."""


def detach_variable(inputs: tuple) -> tuple:
    """Detached copies of the tensors in `inputs` that keep their requires_grad flag."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            "Only tuple of tensors is supported. Got Unsupported input type: "
            f"{type(inputs).__name__}"
        )
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs) -> None:
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2
        )


def _is_checkpoint_valid() -> bool:
    """False inside `autograd.grad` or `backward(inputs=...)`, which reentrant checkpoint cannot
    serve (its inner backward would accumulate into .grad)."""
    task = engine_state.task
    return task is None or task[2] is None


class CheckpointFunction(Function):
    """The reentrant checkpoint: forward without a graph, backward reruns and backpropagates."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = get_rng_state()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with grad_mode.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *args):
        from dyngrad.autograd import backward

        if not _is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                "passing an `inputs` parameter to .backward(). To resolve this error, you can "
                "either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument."
            )
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors, strict=True):
            inputs[i] = t
        with fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                set_rng_state(ctx.fwd_cpu_state)
            detached_inputs = detach_variable(tuple(inputs))
            with grad_mode.enable_grad():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outputs_with_grad, args_with_grad = [], []
        for out, g in zip(outputs, args, strict=False):
            if isinstance(out, Tensor) and out.requires_grad:
                outputs_with_grad.append(out)
                args_with_grad.append(g)
        if not outputs_with_grad:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        backward(outputs_with_grad, args_with_grad)
        grads = tuple(inp._grad if isinstance(inp, Tensor) else None for inp in detached_inputs)
        return (None, None) + grads


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


class _Frame:
    """One non-reentrant checkpoint call: counts what the forward saves and recomputes it."""

    def __init__(self, function, args: tuple, kwargs: dict, recompute_context,
                 determinism_check: str, preserve_rng_state: bool):
        self.rng_state = get_rng_state() if preserve_rng_state else None
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.recompute_context = recompute_context
        self.determinism_check = determinism_check
        self.n_saved = 0
        self.recomputed = {}

    def pack(self, tensor) -> int:
        index = self.n_saved
        self.n_saved += 1
        return index

    def unpack(self, index: int):
        if index not in self.recomputed:
            self.recompute()
        return self.recomputed.pop(index)

    def recompute(self) -> None:
        saved = []

        def capture(tensor):
            saved.append(tensor)

        with fork_rng(enabled=self.rng_state is not None), \
                saved_tensors_hooks(capture, _unused), grad_mode.enable_grad(), \
                self.recompute_context:
            if self.rng_state is not None:
                set_rng_state(self.rng_state)
            self.function(*detach_variable(self.args), **self.kwargs)
        if self.determinism_check != "none" and len(saved) != self.n_saved:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                "original forward and recomputation.\n"
                f"Number of tensors saved during forward: {self.n_saved}\n"
                f"Number of tensors saved during recomputation: {len(saved)}.\n"
            )
        self.recomputed = dict(enumerate(saved))


def _unused(packed):
    raise AssertionError("a tensor saved during checkpoint recomputation was unpacked")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
               **kwargs):
    """Run `function(*args)` without keeping its activations; backward recomputes them."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
        return CheckpointFunction.apply(function, preserve, *args)
    forward_context, recompute_context = context_fn()
    frame = _Frame(function, args, kwargs, recompute_context, determinism_check, preserve)
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Checkpoint all but the last of `segments` chunks of a sequence of functions (or modules)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
            "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is not "
            "passed. use_reentrant=False is recommended, but if you need to preserve the current "
            "default behavior, you can pass use_reentrant=True. Refer to docs for more details "
            "on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if hasattr(functions, "children"):  # an nn.Sequential
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
