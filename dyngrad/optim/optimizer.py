"""`Optimizer`: parameter groups, per-parameter state, state dicts and step hooks.

Subclasses update parameters on their NumPy arrays directly (no graph is recorded, as under
`no_grad`): `p._data` is changed in place and the version counter is bumped, so a graph that saved
the old value still reports PyTorch's "modified by an inplace operation" error. Each subclass keeps
PyTorch's single-tensor update formulas, operation for operation, so float64 trajectories match.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

from dyngrad import _dtype
from dyngrad._backend import xp
from dyngrad._tensor import Tensor, bump_version
from dyngrad.autograd import grad_mode
from dyngrad.utils.hooks import RemovableHandle, add_hook

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


class _RequiredParameter:
    """Default of an option every param group must set (e.g. `lr` of a custom optimizer)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """`hook(optimizer, args, kwargs)` runs before every optimizer's `step`."""
    return add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """`hook(optimizer, args, kwargs)` runs after every optimizer's `step`."""
    return add_hook(_global_post_hooks, hook)


def _hooked_step(step):
    """Wrap a subclass's `step`: run the pre/post hooks and do the update without recording."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_stepping"):  # a subclass calling super().step()
            return step(self, *args, **kwargs)
        for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                        f"{result}."
                    )
                args, kwargs = result
        self._stepping = True
        try:
            with grad_mode.no_grad():
                out = step(self, *args, **kwargs)
        finally:
            self._stepping = False
        self._opt_called = True
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


def _typename(o) -> str:
    if isinstance(o, Tensor):
        return f"torch.{o.dtype.legacy}"
    module = type(o).__module__
    name = type(o).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


class Optimizer:
    """Base class of all optimizers: holds `param_groups` (dicts of params and options) and
    `state` (per-parameter buffers), and saves/restores both in PyTorch's state-dict format."""

    _tensor_step = False  # state["step"] is a 0-dim float tensor (Adam & co.)
    # capturable=True needs an accelerator, so on the CPU PyTorch's step fails naming the state it
    # checks and the supported devices, each worded per path: (single-tensor, foreach)
    _capturable_names = ("params and state_steps", "params and state_steps")
    _capturable_xla = (True, False)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got " + _typename(params)
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in ("step_pre", "step_post", "state_dict_pre", "state_dict_post",
                     "load_state_dict_pre", "load_state_dict_post"):
            self.__dict__.setdefault(f"_optimizer_{name}_hooks", OrderedDict())

    def __repr__(self) -> str:
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"

    # --- hooks ---------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """`hook(optimizer, args, kwargs)` runs before `step`; it may return new (args, kwargs)."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """`hook(optimizer, args, kwargs)` runs after `step`."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        return _add(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        return _add(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        return _add(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        return _add(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # --- state dicts ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """`{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}`.

        Parameters are replaced by their position across all groups, so the dict can be loaded
        into a fresh optimizer over the same (or identically shaped) parameters.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore `state_dict()` output: options of each group and the per-parameter state."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"])
               for g, s in zip(groups, saved_groups, strict=True)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups), strict=False))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = _cast(id_map[k], v)
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups, strict=False):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        if self._tensor_step:
            for s in self.state.values():
                if "step" in s and not isinstance(s["step"], Tensor):
                    s["step"] = scalar_state(float(s["step"]))
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # --- parameters ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's `.grad`: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if g._grad_fn is not None:
                    g.detach_()
                else:
                    g._requires_grad = False
                g._data[...] = 0
                bump_version(g)

    def step(self, closure=None):
        """Update the parameters once; `closure` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own options) to optimize from now on."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + _typename(p)
                )
            if not self.defaults.get("differentiable") and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            param_group.setdefault(name, default)
        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {which} to the optimizer"
                )
            if any(id(p) in ids for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _with_grad(self, group: dict):
        """(param, gradient array) for each parameter of `group` that has a gradient."""
        for p in group["params"]:
            if p._grad is not None:
                yield p, p._grad._data

    def _stepped(self, group: dict, buffers=(), **scalars):
        """(param, state, gradient array) for each parameter of `group` that has a gradient,
        after the bookkeeping the `_tensor_step` optimizers share: state created on first use
        (`step`, then the 0-dim `scalars`, then zero `buffers` like the parameter), the checks
        of the `capturable` and `differentiable` flags, `step` counted, and the gradient negated
        under `maximize`."""
        for p, g in self._with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = scalar_state(0.0, group.get("fused"))
                for name, value in scalars.items():
                    state[name] = scalar_state(value)
                for name in buffers:
                    state[name] = zeros_state(p)
            if group.get("capturable") and not group.get("fused"):
                i = 1 if group["foreach"] else 0
                devices = ["cuda", "xpu", "hpu", "privateuseone"]
                devices += ["xla"] if self._capturable_xla[i] else []
                raise AssertionError(f"If capturable=True, {self._capturable_names[i]} must be "
                                     f"on supported devices: {devices}.")
            check_in_place(p, group)
            state["step"]._data += 1
            yield p, state, (-g if group["maximize"] else g)


def _add(hooks: OrderedDict, hook, prepend: bool) -> RemovableHandle:
    handle = add_hook(hooks, hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _cast(param: Tensor, value, key=None):
    """A loaded state value for `param`: float tensors take the parameter's dtype (but `step`
    keeps its own), containers are rebuilt, everything else is kept as is."""
    if isinstance(value, Tensor):
        if key != "step" and param.is_floating_point() and value._data.dtype != param._data.dtype:
            return Tensor._make(value._data.astype(param._data.dtype))
        return value
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cast(param, v) for v in value)
    return value


# --- helpers shared by the optimizers ----------------------------------------------------------
def closure_loss(closure):
    """Run the user's closure with grad mode on (the step itself runs without)."""
    if closure is None:
        return None
    with grad_mode.enable_grad():
        return closure()


def scalar_state(value: float, fused: bool | None = False) -> Tensor:
    """A 0-dim state tensor such as `step`, typed as PyTorch types it (so state dicts look the
    same): float64 when that is the default dtype, else (and always for fused) float32."""
    wide = not fused and _dtype.get_default_dtype() is _dtype.float64
    return Tensor._make(xp.array(value, dtype=xp.float64 if wide else xp.float32))


def check_in_place(p: Tensor, group: dict) -> None:
    """Under `differentiable=True` PyTorch updates with grad mode on, so a leaf parameter that
    requires grad can't be written in place."""
    if group.get("differentiable") and p.is_leaf and p.requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )


def check_fused(fused, differentiable: bool, foreach) -> None:
    """The flag combinations PyTorch refuses for the optimizers that have a fused kernel."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def zeros_state(p: Tensor, fill=0) -> Tensor:
    """A state buffer shaped and typed like `p`."""
    return Tensor._make(xp.full_like(p._data, fill))


def real(a):
    """Complex arrays as interleaved real arrays (PyTorch's `view_as_real` for the update)."""
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def lerp_(a, end, weight: float) -> None:
    """`a.lerp_(end, weight)` with PyTorch's two-sided formula."""
    if abs(weight) < 0.5:
        a += weight * (end - a)
    else:
        a[...] = end - (end - a) * (1 - weight)


def bump(p: Tensor) -> None:
    """Count an in-place write to `p`, so saved-tensor checks see that it changed."""
    bump_version(p)


def to_scalar(x):
    """The number in a float or one-element tensor option. A tensor gives a NumPy scalar of its
    dtype, so arithmetic on it rounds as PyTorch's on a 0-dim tensor (a float32 lr makes
    `lr / (1 - beta1^t)` a float32)."""
    return x._data.reshape(())[()] if isinstance(x, Tensor) else x


def check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= to_scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonneg(name: str, value) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def check_adam_args(lr, betas, eps, weight_decay) -> None:
    """The argument checks Adam and its variants share, in PyTorch's order."""
    check_lr(lr)
    check_nonneg("epsilon", eps)
    check_betas(betas)
    check_nonneg("weight_decay", weight_decay)


def weight_decay(x, g, wd, lr=None, decoupled: bool = False):
    """The gradient with L2 decay `wd * x` added; or, decoupled (AdamW), the gradient as is
    and `x` shrunk in place by `1 - lr * wd`."""
    if wd == 0:
        return g
    if decoupled:
        x *= 1 - lr * wd
        return g
    return g + wd * x


def ema_sq_(v, g, beta: float) -> None:
    """`v = beta * v + (1 - beta) * g^2` in place (a running mean of squared gradients)."""
    v *= beta
    v += (1 - beta) * g * g


def check_betas(betas) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
