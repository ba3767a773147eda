"""Recurrent layers: `RNN`, `LSTM`, `GRU` and their single-step cells.

Each layer is composed of tensor ops, one Python step per time step, laid out as PyTorch lays
them out (so parameter names, shapes, gate order and grad_fn names of the results match):
the input projection `x W_ih^T + b_ih` is computed for the whole sequence at once, then each step
adds `h W_hh^T + b_hh` and applies the gates (LSTM: i, f, g, o; GRU: r, z, n). A `PackedSequence`
runs each step on the sequences still going (`batch_sizes[t]` rows); the others keep their state.
"""

from __future__ import annotations

import math
import numbers
import warnings

import dyngrad
from dyngrad._tensor import Tensor
from dyngrad.nn import functional as F
from dyngrad.nn import init
from dyngrad.nn.modules.linear import empty_parameter
from dyngrad.nn.modules.module import Module
from dyngrad.nn.utils.rnn import PackedSequence, _permute

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# --- the recurrence ------------------------------------------------------------------------------
def _cell(mode: str, gi: Tensor, h: Tensor, c: Tensor | None, w_hh, b_hh, w_hr=None):
    """One step from the input projection `gi`: the new (h, c) (c is None except for LSTM)."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (gh + gi).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h if w_hr is None else F.linear(h, w_hr)), c
    if mode == "GRU":
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r = (h_r + i_r).sigmoid()
        z = (h_z + i_z).sigmoid()
        n = (i_n + h_n * r).tanh()
        return (h - n) * z + n, None
    pre = gh + gi
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


def _direction(mode, steps, sizes, h, c, w_hh, b_hh, w_hr, reverse: bool):
    """Run one direction of one layer over `steps` (input projections, `sizes[t]` rows each).

    h and c keep one row per sequence; a step updates the first `sizes[t]` rows (the sequences
    still running, or in reverse, already started) and leaves the others as they are.
    """
    outs = [None] * len(steps)
    rows = h.shape[0]
    for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
        b = sizes[t]
        if b == rows:
            h, c = _cell(mode, steps[t], h, c, w_hh, b_hh, w_hr)
            outs[t] = h
            continue
        h_t, c_t = _cell(mode, steps[t], h[:b], None if c is None else c[:b], w_hh, b_hh, w_hr)
        outs[t] = h_t
        h = dyngrad.cat([h_t, h[b:]])
        if c is not None:
            c = dyngrad.cat([c_t, c[b:]])
    return outs, h, c


def _run(module: RNNBase, input: Tensor, hx: Tensor, cx: Tensor | None, batch_sizes):
    """The whole stack: (output, h_n, c_n); input is (T, B, *) or packed data (N, *)."""
    mode, dirs = module.mode, 2 if module.bidirectional else 1
    sizes = None if batch_sizes is None else batch_sizes._data.tolist()
    h_n, c_n = [], []
    layer_input = input
    for layer in range(module.num_layers):
        outs = []
        for d in range(dirs):
            names = module._all_weights[layer * dirs + d]
            w = {n.split("_l")[0]: getattr(module, n) for n in names}
            proj = F.linear(layer_input, w["weight_ih"], w.get("bias_ih"))
            if sizes is None:
                steps, step_sizes = list(proj.unbind(0)), [proj.shape[1]] * proj.shape[0]
            else:
                offsets = [0]
                for s in sizes:
                    offsets.append(offsets[-1] + s)
                steps = [proj[offsets[t]:offsets[t + 1]] for t in range(len(sizes))]
                step_sizes = sizes
            k = layer * dirs + d
            y, h, c = _direction(mode, steps, step_sizes, hx[k], None if cx is None else cx[k],
                                 w["weight_hh"], w.get("bias_hh"), w.get("weight_hr"), d == 1)
            outs.append(dyngrad.stack(y) if sizes is None else dyngrad.cat(y))
            h_n.append(h)
            c_n.append(c)
        layer_input = outs[0] if dirs == 1 else dyngrad.cat(outs, -1)
        if module.dropout and module.training and layer < module.num_layers - 1:
            layer_input = F.dropout(layer_input, module.dropout, True)
    return layer_input, dyngrad.stack(h_n), None if cx is None else dyngrad.stack(c_n)


# --- the layers ----------------------------------------------------------------------------------
class RNNBase(Module):
    """Parameters, checks and printing shared by `RNN`, `LSTM` and `GRU`."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_options(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                       proj_size)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(dirs):
                layer_input = input_size if layer == 0 else real_hidden * dirs
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for key, shape in shapes.items():
                    name = f"{key}_l{layer}{suffix}"
                    setattr(self, name, empty_parameter(*shape, dtype=dtype))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op (PyTorch uses it to pack weights for cuDNN)."""

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in +-1/sqrt(hidden_size)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def check_input(self, input: Tensor, batch_sizes) -> None:
        w = self._flat_weights[0]
        if input.dtype != w.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). "
                f"Convert input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _batch(self, input: Tensor, batch_sizes) -> int:
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.shape[0] if self.batch_first else input.shape[1]

    def get_expected_hidden_size(self, input: Tensor, batch_sizes) -> tuple:
        dirs = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * dirs, self._batch(input, batch_sizes), size)

    def check_hidden_size(self, hx: Tensor, expected: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation):
        if permutation is None:
            return hx
        return _permute(hx, 1, permutation)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _zeros(self, input: Tensor, batch: int, size: int) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        return dyngrad.zeros(self.num_layers * dirs, batch, size, dtype=input.dtype)

    def _forward(self, input, hx, name: str, dims_msg: str):
        """RNN and GRU: unbatched / batched / packed input, one hidden state tensor."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            hx = (self._zeros(data, int(batch_sizes[0]), self.hidden_size) if hx is None
                  else self.permute_hidden(hx, sorted_indices))
            self.check_forward_args(data, hx, batch_sizes)
            out, h, _ = _run(self, data, hx, None, batch_sizes)
            return (PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden(h, unsorted_indices))
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"{dims_msg}instead")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
            if hx is not None:
                if hx.dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                                       f"{hx.dim()}-D tensor")
                hx = hx.unsqueeze(1)
        elif hx is not None and hx.dim() != 3:
            raise RuntimeError(
                f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if hx is None:
            hx = self._zeros(input, self._batch(input, None), self.hidden_size)
        self.check_forward_args(input, hx, None)
        x = input.transpose(0, 1) if self.batch_first else input
        out, h, _ = _run(self, x, hx, None, None)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out, h = out.squeeze(batch_dim), h.squeeze(1)
        return out, h


def _check_options(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
            or isinstance(dropout, bool)):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=4)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                            f"{type(value).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx, "RNN", "tensor ")


class GRU(RNNBase):
    """Gated recurrent unit: r, z gates and candidate n; h' = (1 - z) * n + z * h."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx, "GRU", "")


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c' = f c + i g, h' = o tanh(c') (projected by
    W_hr when proj_size > 0)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes) -> tuple:
        dirs = 2 if self.bidirectional else 1
        return (self.num_layers * dirs, self._batch(input, batch_sizes), self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _permute(hx[0], 1, permutation), _permute(hx[1], 1, permutation)

    def _zero_state(self, input: Tensor, batch: int):
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self._zeros(input, batch, real_hidden),
                self._zeros(input, batch, self.hidden_size))

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            hx = (self._zero_state(data, int(batch_sizes[0])) if hx is None
                  else self.permute_hidden(hx, sorted_indices))
            self.check_forward_args(data, hx, batch_sizes)
            out, h, c = _run(self, data, hx[0], hx[1], batch_sizes)
            return (PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden((h, c), unsorted_indices))
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        if hx is None:
            hx = self._zero_state(input, self._batch(input, None))
        else:
            want = 3 if batched else 2
            if hx[0].dim() != want or hx[1].dim() != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            if not batched:
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx, None)
        x = input.transpose(0, 1) if self.batch_first else input
        out, h, c = _run(self, x, hx[0], hx[1], None)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out, h, c = out.squeeze(batch_dim), h.squeeze(1), c.squeeze(1)
        return out, (h, c)


# --- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters `weight_ih`, `weight_hh` (and biases) of a single-step cell."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = empty_parameter(num_chunks * hidden_size, input_size, dtype=dtype)
        self.weight_hh = empty_parameter(num_chunks * hidden_size, hidden_size, dtype=dtype)
        if bias:
            self.bias_ih = empty_parameter(num_chunks * hidden_size, dtype=dtype)
            self.bias_hh = empty_parameter(num_chunks * hidden_size, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, name: str, input: Tensor, hidden: tuple | None, n_states: int = 1):
        """Checks, and the batched (input, hidden states, was_batched)."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hidden is None:
            zeros = dyngrad.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            hidden = (zeros,) * n_states
        elif not batched:
            hidden = tuple(h.unsqueeze(0) for h in hidden)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        for i, h in enumerate(hidden):
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                                   f"batch size {h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, "
                                   f"expected {self.hidden_size}")
        return input, hidden, batched

    def _step(self, mode: str, input: Tensor, h: Tensor, c=None):
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        return _cell(mode, gi, h, c, self.weight_hh, self.bias_hh)


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), batched = self._prepare("RNNCell", input, None if hx is None else (hx,))
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        out, _ = self._step(mode, input, h)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input: Tensor, hx=None):
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        input, (h, c), batched = self._prepare("LSTMCell", input, hx, 2)
        h, c = self._step("LSTM", input, h, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        input, (h,), batched = self._prepare("GRUCell", input, None if hx is None else (hx,))
        out, _ = self._step("GRU", input, h)
        return out if batched else out.squeeze(0)
